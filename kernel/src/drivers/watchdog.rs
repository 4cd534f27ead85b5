//! The Allwinner watchdogs, used to reset the SoC after a crash when the
//! firmware offers no PSCI (A10/A20 always; H3/A64 under some U-Boots).
//!
//! `crash` tries PSCI first, then `reset`: the chip registers which watchdog
//! it has at boot. Two register layouts exist: the A10/A20 one in the timer
//! block and the "sun6i" one of the H3/A64.

#![deny(unsafe_code)]

use spin::Once;

use super::mmio::Mmio;

/// A SoC's watchdog, in its register window.
#[derive(Clone, Copy, Debug)]
pub enum Watchdog {
    /// A10/A20: control and mode registers (timer block + 0x90).
    Sun4i(Mmio),
    /// H3/A64: watchdog 0 (timer block + 0xA0).
    Sun6i(Mmio),
}

static WATCHDOG: Once<Watchdog> = Once::new();

/// Remembers the SoC's watchdog for `reset`.
pub fn register(watchdog: Watchdog) {
    WATCHDOG.call_once(|| watchdog);
}

/// Resets the SoC through the registered watchdog (after about 0.5 s, its
/// shortest interval). Returns if there is none, or if it did not bite.
pub fn reset() {
    match WATCHDOG.get() {
        Some(Watchdog::Sun4i(regs)) => {
            // MODE: interval 0 (0.5 s), reset enable, enable; then restart the count.
            regs.write(0x4, (1 << 1) | (1 << 0));
            regs.write(0x0, (0x0a57 << 1) | 1);
        }
        Some(Watchdog::Sun6i(regs)) => {
            // CONFIG: whole-system reset; MODE: interval 0 (0.5 s), enable.
            regs.write(0x14, 1);
            regs.write(0x18, 1);
            regs.write(0x10, (0x0a57 << 1) | 1);
        }
        None => return,
    }
    super::mmio::delay_us(2_000_000);
}
