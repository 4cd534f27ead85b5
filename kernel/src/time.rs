//! Monotonic time: the ARM generic timer where the CPU has one, or the SoC's
//! own timer where it does not (the Allwinner A10's Cortex-A8).
//!
//! The generic counter starts at power-on (QEMU: at launch), so the same
//! clock gives both uptime and the boot-stage timestamps on the serial log.
//! A SoC timer starts when the kernel does. The board says which (`Clock`);
//! `init` runs first thing at boot, before the MMU, so it only stores.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch;
use crate::drivers::mmio::Mmio;
use crate::drivers::sun4i_timer;

/// Where a board's monotonic time comes from.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// The ARM generic timer (virtual counter), with its own frequency register.
    GenericTimer,
    /// The Allwinner A10/A20 timer block in this window, at 24 MHz.
    Sun4iTimer(Mmio),
}

/// The SoC timer block's address, or 0 for the generic timer. A plain word
/// rather than a lock or `Once`: `init` runs before the MMU, where atomic
/// read-modify-writes fault.
static SOC_TIMER: AtomicUsize = AtomicUsize::new(0);
/// The timer block's length, beside its address.
static SOC_TIMER_LEN: AtomicUsize = AtomicUsize::new(0);

/// Starts the board's clock. Call before anything asks the time.
pub fn init(clock: Clock) {
    match clock {
        Clock::GenericTimer => SOC_TIMER.store(0, Ordering::Relaxed),
        Clock::Sun4iTimer(block) => {
            sun4i_timer::start_clock(block);
            SOC_TIMER_LEN.store(block.len(), Ordering::Relaxed);
            SOC_TIMER.store(block.address(), Ordering::Relaxed);
        }
    }
}

/// The SoC timer block `init` was given, if any.
fn soc_timer() -> Option<Mmio> {
    let base = SOC_TIMER.load(Ordering::Relaxed);
    // SAFETY: `base` and the length are those of a `Mmio` the chip layer
    // created for the timer block and `init` stored; nothing else writes them.
    (base != 0).then(|| unsafe { Mmio::new(base, SOC_TIMER_LEN.load(Ordering::Relaxed)) })
}

/// Microseconds since the counter started.
pub fn micros_since_power_on() -> u64 {
    match soc_timer() {
        None => ticks_to_micros(arch::counter()),
        Some(block) => sun4i_timer::ticks(block) / (sun4i_timer::FREQUENCY / 1_000_000),
    }
}

/// The board clock's raw count: the finest time the kernel can read
/// (the timer-jitter entropy source measures with it).
pub fn ticks() -> u64 {
    match soc_timer() {
        None => arch::counter(),
        Some(block) => sun4i_timer::ticks(block),
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
