//! The idle loop's sleep, written once against the device-class traits:
//! arm the wake-up alarm for the network's next deadline, WFI, then take
//! every pending interrupt and silence its source (alarm or NIC).
//!
//! Console output and PHY link watching shorten the sleep: the UART is fed
//! from the backlog in idle moments, and a polled PHY needs a look about
//! once a second. A chip without a usable interrupt controller polls.

#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::devices::{InterruptController, WakeTimer};
use crate::net::device::NetDevice;
use crate::net::Sleeper;
use crate::{arch, console, time};

/// Most console bytes handed to the UART per wake-up. A real UART's FIFO
/// takes 16 to 64 at a time; under QEMU it takes them all, at a host system
/// call each, so this bounds the network's wait to a few milliseconds.
const CONSOLE_BYTES_PER_WAKE: usize = 256;
/// Sleep while console output waits: a 16-byte FIFO empties in 1.4 ms.
const CONSOLE_WAKE_US: u64 = 1_000;
/// Longest sleep for NICs whose PHY is polled: the link watch runs on wake-ups.
const LINK_POLL_US: u64 = 1_000_000;
/// Longest busy-wait of the polling fallback before the loop looks again.
const POLL_TURN_US: u64 = 1_000;

/// How the network loop sleeps until its deadline or the NIC's next frame.
pub struct IdleSleeper {
    wake: Option<(Box<dyn InterruptController>, Box<dyn WakeTimer>)>,
    nic_irqs: Vec<u32>,
}

impl IdleSleeper {
    /// Sleeps with WFI, woken by `wake`'s alarm or one of the NIC's
    /// `nic_irqs` (all enabled here); without `wake`, polls.
    pub fn new(wake: Option<(Box<dyn InterruptController>, Box<dyn WakeTimer>)>, nic_irqs: Vec<u32>) -> Self {
        if let Some((controller, alarm)) = &wake {
            controller.enable(alarm.irq());
            for &irq in &nic_irqs {
                controller.enable(irq);
            }
        }
        Self { wake, nic_irqs }
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<u64>, b: u64) -> Option<u64> {
    Some(a.map_or(b, |a| a.min(b)))
}

impl<D: NetDevice> Sleeper<D> for IdleSleeper {
    fn sleep(&mut self, deadline_us: Option<u64>, nic: &mut D) {
        let mut deadline_us = deadline_us;
        if console::drain(CONSOLE_BYTES_PER_WAKE) {
            deadline_us = earliest(deadline_us, time::micros_since_power_on() + CONSOLE_WAKE_US);
        }
        if nic.polls_link() {
            deadline_us = earliest(deadline_us, time::micros_since_power_on() + LINK_POLL_US);
        }
        let Some((controller, alarm)) = &self.wake else {
            let until = deadline_us.unwrap_or(u64::MAX).min(time::micros_since_power_on() + POLL_TURN_US);
            while time::micros_since_power_on() < until && !nic.frame_pending() {
                core::hint::spin_loop();
            }
            return;
        };
        alarm.arm(deadline_us);
        if !nic.frame_pending() {
            arch::wait_for_interrupt();
        }
        while let Some(pending) = controller.next_pending() {
            if pending.irq == alarm.irq() {
                alarm.acknowledge();
            } else if self.nic_irqs.contains(&pending.irq) {
                nic.acknowledge_interrupt();
            }
            controller.end(pending);
        }
    }
}
