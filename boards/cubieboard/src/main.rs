//! Cubieboard (Allwinner A10, Cortex-A8; QEMU `-M cubieboard`): 1 GiB of
//! RAM; an RTL8201 PHY at MDIO address 1 on the EMAC.

#![no_std]
#![no_main]

use kernel::board::Board;
use kernel::chip::a10::A10;

static BOARD: Board = Board { name: "cubieboard", ram: (0x4000_0000, 1 << 30), chip: &A10 { emac_phy: Some(1) } };

kernel::entry!(BOARD);
