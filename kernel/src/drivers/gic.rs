//! ARM GICv2 (QEMU `virt`, GIC-400 on Allwinner A20/H3/A64).
//!
//! Interrupts stay masked at the CPU: the kernel only uses the GIC so that a
//! pending interrupt (timer or NIC) ends WFI. After waking, the idle loop
//! takes the pending IDs (`next_pending`) and ends each one here.

#![deny(unsafe_code)]

use super::mmio::Mmio;
use crate::devices::{InterruptController, Pending};

const GICD_CTLR: usize = 0x000;
const GICD_ISENABLER: usize = 0x100;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_ITARGETSR: usize = 0x800;
const GICC_CTLR: usize = 0x000;
const GICC_PMR: usize = 0x004;
const GICC_IAR: usize = 0x00c;
const GICC_EOIR: usize = 0x010;
const SPURIOUS: u32 = 1023;

/// A GICv2 distributor and CPU interface pair.
pub struct Gic {
    distributor: Mmio,
    cpu_interface: Mmio,
}

impl Gic {
    /// Enables forwarding at the distributor (at least 0x1000 bytes) and the
    /// CPU interface (at least 0x100).
    pub fn new(distributor: Mmio, cpu_interface: Mmio) -> Self {
        distributor.write(GICD_CTLR, 1);
        cpu_interface.write(GICC_PMR, 0xff);
        cpu_interface.write(GICC_CTLR, 1);
        Self { distributor, cpu_interface }
    }
}

impl InterruptController for Gic {
    fn enable(&self, irq: u32) {
        let id = irq as usize;
        self.distributor.write_byte(GICD_IPRIORITYR + id, 0xa0);
        if irq >= 32 {
            self.distributor.write_byte(GICD_ITARGETSR + id, 1);
        }
        self.distributor.write(GICD_ISENABLER + 4 * (id / 32), 1 << (id % 32));
    }

    fn next_pending(&self) -> Option<Pending> {
        let iar = self.cpu_interface.read(GICC_IAR);
        let irq = iar & 0x3ff;
        (irq != SPURIOUS).then_some(Pending { irq, token: iar })
    }

    fn end(&self, pending: Pending) {
        self.cpu_interface.write(GICC_EOIR, pending.token);
    }
}
