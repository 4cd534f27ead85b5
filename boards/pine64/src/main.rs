//! Pine64 (Allwinner A64, 4x Cortex-A53; real hardware only): 512 MiB of
//! RAM; an RTL8211E over RGMII at MDIO address 1 (run at 100 Mbit/s), powered
//! by U-Boot through the PMIC.

#![no_std]
#![no_main]

use kernel::board::Board;
use kernel::chip::a64::A64;

static BOARD: Board = Board { name: "pine64", ram: (0x4000_0000, 512 << 20), chip: &A64 { emac_phy: Some(1) } };

kernel::entry!(BOARD);
