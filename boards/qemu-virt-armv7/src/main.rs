//! QEMU `virt` with a Cortex-A7 (ARMv7): memory map and drivers only.

#![no_std]
#![no_main]

use kernel::board::{Board, Clock, Interrupts, Nic};
use kernel::console::Uart;
use kernel::drivers::virtio::VirtioMmioSlots;

static BOARD: Board = Board {
    name: "qemu-virt-armv7",
    ram: (0x4000_0000, 128 << 20),
    uart: Uart::Pl011(0x0900_0000),
    interrupts: Interrupts::Gic { distributor: 0x0800_0000, cpu_interface: 0x0801_0000 },
    clock: Clock::GenericTimer,
    nic: Nic::Virtio(VirtioMmioSlots { base: 0x0a00_0000, count: 32, stride: 0x200, first_intid: 48 }),
    watchdog: None,
};

kernel::entry!(BOARD);
