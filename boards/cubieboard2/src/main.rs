//! Cubieboard2 (Allwinner A20, 2x Cortex-A7; real hardware only): 1 GiB of
//! RAM; the 10/100 PHY at MDIO address 1 on the EMAC (whose pins it shares
//! with the GMAC: the chip layer muxes them); the two USB host ports'
//! power switched by PH6 (USB1) and PH3 (USB2).

#![no_std]
#![no_main]

use kernel::board::Board;
use kernel::chip::a20::{Pin, A20};

static BOARD: Board = Board { name: "cubieboard2", ram: (0x4000_0000, 1 << 30), chip: &A20 { emac_phy: Some(1), usb_vbus: &[Pin::new('H', 6), Pin::new('H', 3)] } };

kernel::entry!(BOARD);
