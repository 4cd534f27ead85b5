//! The chip layer: one file per SoC, holding its memory map, the clock,
//! reset and pin-mux writes its devices need, and which driver sits where.
//!
//! This is where addresses become `Mmio` windows, so it is one of the few
//! places allowed `unsafe` (each window's `// SAFETY:` names the SoC manual's
//! memory map). A board crate names its chip and what the board itself wires
//! (which PHY, at which MDIO address); it repeats no address. Porting to a
//! new Allwinner SoC is one file here plus one board crate.

use alloc::boxed::Box;

use crate::devices::{BlockStore, InterruptController, Uart, WakeTimer};
use crate::drivers::mmio::Mmio;
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;
use crate::net::radio::Radio;
use crate::time::Clock;

pub mod a10;
pub mod a20;
pub mod a64;
pub mod h3;
pub mod qemu_virt;
mod sunxi;

/// What a SoC (with its board's wiring) gives the kernel, in boot order.
pub trait Chip: Sync {
    /// Where monotonic time comes from; read before the MMU is on.
    fn clock(&self) -> Clock;
    /// The serial console.
    fn uart(&self) -> &'static dyn Uart;
    /// How to reset when the firmware offers no PSCI.
    fn watchdog(&self) -> Option<Watchdog>;
    /// Starts the devices the network loop uses. `fallback_mac` is for NICs
    /// that come up without an address.
    fn devices(&self, fallback_mac: [u8; 6]) -> Devices;
}

/// The running devices of a chip.
pub struct Devices {
    /// The NIC, if one came up.
    pub nic: Option<Box<dyn NetDevice>>,
    /// The Wi-Fi radio, if the chip has one: the access point runs on it.
    pub radio: Option<Box<dyn Radio>>,
    /// What ends WFI: the interrupt controller and its wake-up alarm (`None`:
    /// the idle loop polls).
    pub wake: Option<(Box<dyn InterruptController>, Box<dyn WakeTimer>)>,
    /// A hardware entropy source, where the chip has one (else the kernel
    /// measures timer jitter).
    pub entropy: Option<fn(&mut [u8]) -> bool>,
    /// Where the leaderboard is kept across power cuts (`None`: in RAM).
    pub storage: Option<Box<dyn BlockStore>>,
}

/// A register window of the chip's memory map.
///
/// Private to the chip layer: only the SoC files name addresses.
const fn window(base: usize, len: usize) -> Mmio {
    // SAFETY: every caller is a SoC file of this module passing a block of
    // its SoC's memory map (the address and length its manual gives), which
    // `arch::enable_mmu` maps as device memory.
    unsafe { Mmio::new(base, len) }
}
