//! Orange Pi PC (Allwinner H3, 4x Cortex-A7; QEMU `-M orangepi-pc`): 1 GiB
//! of RAM; the EMAC drives the H3's internal 10/100 PHY.

#![no_std]
#![no_main]

use kernel::board::Board;
use kernel::chip::h3::H3;

static BOARD: Board = Board { name: "orangepi-pc", ram: (0x4000_0000, 1 << 30), chip: &H3 };

kernel::entry!(BOARD);
