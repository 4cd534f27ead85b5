//! Allwinner A10/A20 timer block: the monotonic clock and the wake-up alarm
//! of a Cortex-A8, which has no ARM generic timer.
//!
//! Timer 1 free-runs down from 0xFFFF_FFFF at 24 MHz; the kernel extends it
//! to 64 bits by noticing wraps (every 179 s; the idle loop never sleeps
//! that long, see `MAX_SLEEP_TICKS`). Timer 2 is a one-shot alarm whose
//! interrupt ends WFI. U-Boot uses timer 0, which is left alone. The same
//! block holds the A10/A20 watchdog (see `watchdog`).
//!
//! The clock starts when the kernel does: "since power-on" means since entry.

#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};

use super::mmio::Mmio;
use crate::devices::WakeTimer;

const IRQ_ENABLE: usize = 0x00;
const IRQ_STATUS: usize = 0x04;
const CLOCK_TIMER: usize = 1;
const ALARM_TIMER: usize = 2;
const CONTROL: usize = 0x0;
const INTERVAL: usize = 0x4;
const COUNT: usize = 0x8;
const CONTROL_ENABLE: u32 = 1 << 0;
const CONTROL_RELOAD: u32 = 1 << 1;
const CONTROL_SOURCE_24MHZ: u32 = 1 << 2;
const CONTROL_ONE_SHOT: u32 = 1 << 7;

/// Ticks per second: the 24 MHz crystal, undivided.
pub const FREQUENCY: u64 = 24_000_000;
/// Longest alarm: well under one wrap of the 32-bit clock timer.
const MAX_SLEEP_TICKS: u64 = 10 * FREQUENCY;
/// Interrupt number of timer 2 at the A10/A20 interrupt controller.
const ALARM_IRQ: u32 = 24;

/// The clock timer's last raw reading and the wraps seen so far. Plain loads
/// and stores only: this runs before the MMU, when exclusives would fault,
/// and the kernel runs on one core without interrupt handlers.
static LAST: AtomicU32 = AtomicU32::new(0);
static WRAPS: AtomicU32 = AtomicU32::new(0);

fn timer(block: Mmio, index: usize, register: usize) -> (Mmio, usize) {
    (block, 0x10 * (index + 1) + register)
}

/// Starts the free-running clock timer.
pub fn start_clock(base: Mmio) {
    let (block, interval) = timer(base, CLOCK_TIMER, INTERVAL);
    block.write(interval, u32::MAX);
    let (_, control) = timer(base, CLOCK_TIMER, CONTROL);
    block.write(control, CONTROL_SOURCE_24MHZ | CONTROL_RELOAD | CONTROL_ENABLE);
    LAST.store(0, Ordering::Relaxed);
    WRAPS.store(0, Ordering::Relaxed);
}

/// 24 MHz ticks since `start_clock`.
pub fn ticks(base: Mmio) -> u64 {
    let (block, count) = timer(base, CLOCK_TIMER, COUNT);
    let elapsed = !block.read(count);
    let mut wraps = WRAPS.load(Ordering::Relaxed);
    if elapsed < LAST.load(Ordering::Relaxed) {
        wraps = wraps.wrapping_add(1);
        WRAPS.store(wraps, Ordering::Relaxed);
    }
    LAST.store(elapsed, Ordering::Relaxed);
    (u64::from(wraps) << 32) | u64::from(elapsed)
}

/// Arms the alarm to fire in `ticks` (capped at `MAX_SLEEP_TICKS`), or stops it.
fn set_alarm(base: Mmio, ticks: Option<u64>) {
    let block = base;
    let (_, control) = timer(base, ALARM_TIMER, CONTROL);
    let (_, interval) = timer(base, ALARM_TIMER, INTERVAL);
    block.write(control, CONTROL_SOURCE_24MHZ);
    block.write(IRQ_STATUS, 1 << ALARM_TIMER);
    match ticks {
        Some(ticks) => {
            block.write(interval, ticks.clamp(1, MAX_SLEEP_TICKS) as u32);
            block.modify(IRQ_ENABLE, 0, 1 << ALARM_TIMER);
            block.write(control, CONTROL_SOURCE_24MHZ | CONTROL_ONE_SHOT | CONTROL_RELOAD | CONTROL_ENABLE);
        }
        None => block.modify(IRQ_ENABLE, 1 << ALARM_TIMER, 0),
    }
}

/// Timer 2 of the block as the idle loop's wake-up alarm.
pub struct Sun4iAlarm {
    /// The timer block (at least 0x40 bytes).
    pub block: Mmio,
}

impl WakeTimer for Sun4iAlarm {
    fn irq(&self) -> u32 {
        ALARM_IRQ
    }

    fn arm(&self, deadline_us: Option<u64>) {
        let ticks = deadline_us.map(|deadline| {
            let wait_us = deadline.saturating_sub(crate::time::micros_since_power_on());
            wait_us.saturating_mul(FREQUENCY / 1_000_000)
        });
        set_alarm(self.block, ticks);
    }

    fn acknowledge(&self) {
        set_alarm(self.block, None);
        self.block.write(IRQ_STATUS, 1 << ALARM_TIMER);
    }
}
