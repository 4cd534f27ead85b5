//! The memory map Allwinner's A10, A20, H3 and A64 share (their manuals'
//! "Memory Mapping" chapters): the blocks every SoC file of this layer uses,
//! so that no address is written twice.

use alloc::boxed::Box;

use super::{window, Devices};
use crate::drivers::generic_timer::GenericTimerAlarm;
use crate::drivers::gic::Gic;
use crate::drivers::mmio::{Mmio, RegisterSetup};
use crate::drivers::ns16550::Ns16550;
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;

/// UART0, the debug port every board wires to its serial header.
pub static UART0: Ns16550 = Ns16550::new(window(0x01c2_8000, 0x400), 2);

/// The devices of a SoC with a GIC-400 and the generic timer (A20, H3,
/// A64): its NIC, woken by the GIC, no entropy device.
pub fn with_gic(nic: Option<Box<dyn NetDevice>>) -> Devices {
    let gic = Gic::new(window(0x01c8_1000, 0x1000), window(0x01c8_2000, 0x2000));
    Devices { nic, radio: None, wake: Some((Box::new(gic), Box::new(GenericTimerAlarm))), entropy: None, storage: None }
}

/// The A10/A20 watchdog, in the timer block.
pub fn sun4i_watchdog() -> Watchdog {
    Watchdog::Sun4i(TIMER.window(0x90, 0x10))
}

/// The H3/A64 watchdog 0, in the timer block.
pub fn sun6i_watchdog() -> Watchdog {
    Watchdog::Sun6i(TIMER.window(0xa0, 0x20))
}

/// The timer block (timers, A10/A20 watchdog at +0x90, H3/A64 watchdog at +0xA0).
pub const TIMER: Mmio = window(0x01c2_0c00, 0x400);
/// The A10/A20 EMAC.
pub const SUN4I_EMAC: Mmio = window(0x01c0_b000, 0x1000);
/// The H3/A64 EMAC.
pub const SUN8I_EMAC: Mmio = window(0x01c3_0000, 0x1_0000);

/// System control (SRAM mapping at +0x04, EMAC clock at +0x30).
const SYSCON: Mmio = window(0x01c0_0000, 0x1000);
/// Clock control unit (AHB gates at +0x60, bus resets at +0x2c0).
const CCU: Mmio = window(0x01c2_0000, 0x400);
/// Pin controller, port A at +0x00, port D at +0x6c.
const PIO: Mmio = window(0x01c2_0800, 0x400);

/// A change to the system-control register at `offset`.
pub fn syscon(offset: usize, clear: u32, set: u32) -> RegisterSetup {
    RegisterSetup { reg: SYSCON.window(offset, 4), clear, set }
}

/// A change to the clock-control register at `offset`.
pub fn ccu(offset: usize, clear: u32, set: u32) -> RegisterSetup {
    RegisterSetup { reg: CCU.window(offset, 4), clear, set }
}

/// A change to the pin-controller register at `offset`.
pub fn pio(offset: usize, clear: u32, set: u32) -> RegisterSetup {
    RegisterSetup { reg: PIO.window(offset, 4), clear, set }
}
