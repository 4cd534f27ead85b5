//! Cubieboard2 (Allwinner A20, 2x Cortex-A7; real hardware only): 1 GiB of
//! RAM; the 10/100 PHY at MDIO address 1 on the EMAC (whose pins it shares
//! with the GMAC: the chip layer muxes them).

#![no_std]
#![no_main]

use kernel::board::Board;
use kernel::chip::a20::A20;

static BOARD: Board = Board { name: "cubieboard2", ram: (0x4000_0000, 1 << 30), chip: &A20 { emac_phy: Some(1) } };

kernel::entry!(BOARD);
