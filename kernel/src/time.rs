//! Monotonic time: the ARM generic timer where the CPU has one, or the SoC's
//! own timer where it does not (the Allwinner A10's Cortex-A8).
//!
//! The generic counter starts at power-on (QEMU: at launch), so the same
//! clock gives both uptime and the boot-stage timestamps on the serial log.
//! A SoC timer starts when the kernel does. The board says which (`Clock`);
//! `init` runs first thing at boot, before the MMU, so it only stores.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch;
use crate::drivers::sun4i_timer;

/// Where a board's monotonic time comes from.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// The ARM generic timer (virtual counter), with its own frequency register.
    GenericTimer,
    /// The Allwinner A10/A20 timer block at this address, at 24 MHz.
    Sun4iTimer(usize),
}

/// The SoC timer's address, or 0 for the generic timer.
static SOC_TIMER: AtomicUsize = AtomicUsize::new(0);

/// Starts the board's clock. Call before anything asks the time.
pub fn init(clock: Clock) {
    match clock {
        Clock::GenericTimer => SOC_TIMER.store(0, Ordering::Relaxed),
        Clock::Sun4iTimer(base) => {
            sun4i_timer::start_clock(base);
            SOC_TIMER.store(base, Ordering::Relaxed);
        }
    }
}

/// Microseconds since the counter started.
pub fn micros_since_power_on() -> u64 {
    match SOC_TIMER.load(Ordering::Relaxed) {
        0 => ticks_to_micros(arch::counter()),
        base => sun4i_timer::ticks(base) / (sun4i_timer::FREQUENCY / 1_000_000),
    }
}

/// The board clock's raw count: the finest time the kernel can read
/// (the timer-jitter entropy source measures with it).
pub fn ticks() -> u64 {
    match SOC_TIMER.load(Ordering::Relaxed) {
        0 => arch::counter(),
        base => sun4i_timer::ticks(base),
    }
}

/// Milliseconds since the counter started.
pub fn millis_since_power_on() -> u64 {
    micros_since_power_on() / 1000
}

/// Converts generic-timer ticks to microseconds.
pub fn ticks_to_micros(ticks: u64) -> u64 {
    let frequency = arch::counter_frequency().max(1);
    (u128::from(ticks) * 1_000_000 / u128::from(frequency)) as u64
}

/// Converts microseconds to generic-timer ticks.
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
