//! The ARM generic timer's virtual timer as the idle loop's wake-up alarm
//! (QEMU `virt`, A20, H3, A64); the counter itself is the kernel's clock
//! (see `time`).

#![deny(unsafe_code)]

use crate::devices::WakeTimer;
use crate::{arch, time};

/// The CPU's virtual timer, interrupt `arch::VIRTUAL_TIMER_INTID`.
pub struct GenericTimerAlarm;

impl WakeTimer for GenericTimerAlarm {
    fn irq(&self) -> u32 {
        arch::VIRTUAL_TIMER_INTID
    }

    fn arm(&self, deadline_us: Option<u64>) {
        arch::set_timer_deadline(deadline_us.map(time::micros_to_ticks));
    }

    fn acknowledge(&self) {
        arch::set_timer_deadline(None);
    }
}
