//! Allwinner A10 interrupt controller (the A10 has no GIC).
//!
//! As with the GIC elsewhere, interrupts stay masked at the CPU: the kernel
//! only lets the alarm timer and the EMAC raise the CPU's IRQ line so that
//! WFI ends, then reads which sources are pending. Sources are level
//! triggered, so silencing the device is the acknowledgement.

use super::mmio::Mmio;

const IRQ_PENDING: usize = 0x10;
const ENABLE: usize = 0x40;
const MASK: usize = 0x50;
const BANKS: usize = 3;

/// The A10 interrupt controller at a board-given address.
pub struct Sun4iIntc {
    regs: Mmio,
}

impl Sun4iIntc {
    /// Disables and masks every source.
    pub fn new(base: usize) -> Self {
        let regs = Mmio(base);
        for bank in 0..BANKS {
            regs.write(ENABLE + 4 * bank, 0);
            regs.write(MASK + 4 * bank, u32::MAX);
        }
        Self { regs }
    }

    /// Lets source `irq` raise the CPU's IRQ line.
    pub fn enable(&self, irq: u32) {
        let (bank, bit) = ((irq / 32) as usize, 1u32 << (irq % 32));
        if bank < BANKS {
            self.regs.modify(ENABLE + 4 * bank, 0, bit);
            self.regs.modify(MASK + 4 * bank, bit, 0);
        }
    }

    /// True if source `irq` is pending.
    pub fn is_pending(&self, irq: u32) -> bool {
        let (bank, bit) = ((irq / 32) as usize, 1u32 << (irq % 32));
        bank < BANKS && self.regs.read(IRQ_PENDING + 4 * bank) & bit != 0
    }
}
