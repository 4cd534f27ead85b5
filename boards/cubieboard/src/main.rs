//! Cubieboard (Allwinner A10, Cortex-A8; QEMU `-M cubieboard`): memory map
//! and drivers only. No GIC and no generic timer: the A10's own interrupt
//! controller and timer wake the CPU and keep time.

#![no_std]
#![no_main]

use kernel::board::{Board, Clock, Interrupts, Nic};
use kernel::console::Uart;
use kernel::drivers::sun4i_emac::Sun4iEmacConfig;
use kernel::drivers::watchdog::Watchdog;

static BOARD: Board = Board {
    name: "cubieboard",
    ram: (0x4000_0000, 1 << 30),
    uart: Uart::Ns16550 { base: 0x01c2_8000, reg_shift: 2 },
    interrupts: Interrupts::Sun4i(0x01c2_0400),
    clock: Clock::Sun4iTimer(0x01c2_0c00),
    // U-Boot has already mapped the EMAC's SRAM, opened its clock and muxed
    // its pins (QEMU 7.2 does not model those blocks); see `cubieboard2`.
    nic: Nic::Sun4iEmac(Sun4iEmacConfig { base: 0x01c0_b000, irq: 55, phy: Some(1), setup: &[] }),
    watchdog: Some(Watchdog::Sun4i(0x01c2_0c90)),
};

kernel::entry!(BOARD);
