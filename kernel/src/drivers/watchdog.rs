//! The Allwinner watchdogs, used to reset the SoC after a crash when the
//! firmware offers no PSCI (A10/A20 always; H3/A64 under some U-Boots).
//!
//! `crash` tries PSCI first, then `reset`: the board registers which
//! watchdog it has at boot. Two register layouts exist: the A10/A20 one in
//! the timer block and the "sun6i" one of the H3/A64.

use core::sync::atomic::{AtomicUsize, Ordering};

use super::mmio::Mmio;

/// A board's watchdog.
#[derive(Clone, Copy, Debug)]
pub enum Watchdog {
    /// A10/A20: control and mode registers at this address (timer block + 0x90).
    Sun4i(usize),
    /// H3/A64: watchdog 0 at this address (timer block + 0xA0).
    Sun6i(usize),
}

static KIND: AtomicUsize = AtomicUsize::new(0);
static BASE: AtomicUsize = AtomicUsize::new(0);

/// Remembers the board's watchdog for `reset`.
pub fn register(watchdog: Option<Watchdog>) {
    let (kind, base) = match watchdog {
        None => (0, 0),
        Some(Watchdog::Sun4i(base)) => (1, base),
        Some(Watchdog::Sun6i(base)) => (2, base),
    };
    BASE.store(base, Ordering::Relaxed);
    KIND.store(kind, Ordering::Relaxed);
}

/// Resets the SoC through the registered watchdog (after about 0.5 s, its
/// shortest interval). Returns if there is none, or if it did not bite.
pub fn reset() {
    let regs = Mmio(BASE.load(Ordering::Relaxed));
    match KIND.load(Ordering::Relaxed) {
        1 => {
            // MODE: interval 0 (0.5 s), reset enable, enable; then restart the count.
            regs.write(0x4, (1 << 1) | (1 << 0));
            regs.write(0x0, (0x0a57 << 1) | 1);
        }
        2 => {
            // CONFIG: whole-system reset; MODE: interval 0 (0.5 s), enable.
            regs.write(0x14, 1);
            regs.write(0x18, 1);
            regs.write(0x10, (0x0a57 << 1) | 1);
        }
        _ => return,
    }
    super::mmio::delay_us(2_000_000);
}
