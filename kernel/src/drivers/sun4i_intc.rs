//! Allwinner A10 interrupt controller (the A10 has no GIC).
//!
//! As with the GIC elsewhere, interrupts stay masked at the CPU: the kernel
//! only lets the alarm timer and the EMAC raise the CPU's IRQ line so that
//! WFI ends, then reads which sources are pending. Sources are level
//! triggered, so silencing the device is the acknowledgement, and `end` has
//! nothing to do.

#![deny(unsafe_code)]

use core::cell::Cell;

use super::mmio::Mmio;
use crate::devices::{InterruptController, Pending};

const IRQ_PENDING: usize = 0x10;
const ENABLE: usize = 0x40;
const MASK: usize = 0x50;
const BANKS: usize = 3;
const SOURCES: u32 = 32 * BANKS as u32;

/// The A10 interrupt controller in its register window.
pub struct Sun4iIntc {
    regs: Mmio,
    /// Where the current drain has got to: sources below it were returned.
    next: Cell<u32>,
}

impl Sun4iIntc {
    /// Disables and masks every source (`regs`: at least 0x60 bytes).
    pub fn new(regs: Mmio) -> Self {
        for bank in 0..BANKS {
            regs.write(ENABLE + 4 * bank, 0);
            regs.write(MASK + 4 * bank, u32::MAX);
        }
        Self { regs, next: Cell::new(0) }
    }
}

impl InterruptController for Sun4iIntc {
    fn enable(&self, irq: u32) {
        let (bank, bit) = ((irq / 32) as usize, 1u32 << (irq % 32));
        if bank < BANKS {
            self.regs.modify(ENABLE + 4 * bank, 0, bit);
            self.regs.modify(MASK + 4 * bank, bit, 0);
        }
    }

    fn next_pending(&self) -> Option<Pending> {
        for irq in self.next.get()..SOURCES {
            let (bank, bit) = ((irq / 32) as usize, 1u32 << (irq % 32));
            let enabled = self.regs.read(ENABLE + 4 * bank) & bit != 0;
            if enabled && self.regs.read(IRQ_PENDING + 4 * bank) & bit != 0 {
                self.next.set(irq + 1);
                return Some(Pending { irq, token: irq });
            }
        }
        self.next.set(0);
        None
    }

    fn end(&self, _pending: Pending) {}
}
