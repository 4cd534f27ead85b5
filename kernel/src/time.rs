//! Monotonic time from the architecture's generic timer.
//!
//! The counter starts at power-on (QEMU: at launch), so the same clock gives
//! both uptime and the boot-stage timestamps on the serial log.

use crate::arch;

/// Microseconds since the counter started.
pub fn micros_since_power_on() -> u64 {
    ticks_to_micros(arch::counter())
}

/// Milliseconds since the counter started.
pub fn millis_since_power_on() -> u64 {
    micros_since_power_on() / 1000
}

/// Converts counter ticks to microseconds.
pub fn ticks_to_micros(ticks: u64) -> u64 {
    let frequency = arch::counter_frequency().max(1);
    (u128::from(ticks) * 1_000_000 / u128::from(frequency)) as u64
}

/// Converts microseconds to counter ticks.
pub fn micros_to_ticks(micros: u64) -> u64 {
    (u128::from(micros) * u128::from(arch::counter_frequency()) / 1_000_000) as u64
}

/// Microseconds shown as milliseconds with three decimals, without floating
/// point (whose formatting code is large, and slow to run for the first time).
pub struct Millis(pub u64);

impl core::fmt::Display for Millis {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}
