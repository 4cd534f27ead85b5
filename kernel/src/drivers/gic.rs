//! ARM GICv2 (QEMU `virt`, GIC-400 on Allwinner A20/H3/A64).
//!
//! Interrupts stay masked at the CPU: the kernel only uses the GIC so that a
//! pending interrupt (timer or NIC) ends WFI. After waking it drains the
//! pending IDs and acknowledges each one here.

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
    distributor: usize,
    cpu_interface: usize,
}

impl Gic {
    /// Enables forwarding at the distributor and the CPU interface.
    pub fn new(distributor: usize, cpu_interface: usize) -> Self {
        let gic = Self { distributor, cpu_interface };
        gic.write(gic.distributor + GICD_CTLR, 1);
        gic.write(gic.cpu_interface + GICC_PMR, 0xff);
        gic.write(gic.cpu_interface + GICC_CTLR, 1);
        gic
    }

    /// Lets `intid` reach CPU 0 (and so wake it from WFI).
    pub fn enable(&self, intid: u32) {
        let id = intid as usize;
        self.write_byte(self.distributor + GICD_IPRIORITYR + id, 0xa0);
        if intid >= 32 {
            self.write_byte(self.distributor + GICD_ITARGETSR + id, 1);
        }
        self.write(self.distributor + GICD_ISENABLER + 4 * (id / 32), 1 << (id % 32));
    }

    /// Takes the highest-priority pending interrupt, if any. The caller
    /// silences its source, then calls `end`.
    pub fn acknowledge(&self) -> Option<u32> {
        let iar = self.read(self.cpu_interface + GICC_IAR);
        ((iar & 0x3ff) != SPURIOUS).then_some(iar)
    }

    /// Ends an interrupt taken with `acknowledge`.
    pub fn end(&self, iar: u32) {
        self.write(self.cpu_interface + GICC_EOIR, iar);
    }

    fn read(&self, addr: usize) -> u32 {
        // SAFETY: GIC registers named by the board, mapped as device memory.
        unsafe { core::ptr::read_volatile(addr as *const u32) }
    }

    fn write(&self, addr: usize, value: u32) {
        // SAFETY: GIC registers named by the board, mapped as device memory.
        unsafe { core::ptr::write_volatile(addr as *mut u32, value) }
    }

    fn write_byte(&self, addr: usize, value: u8) {
        // SAFETY: IPRIORITYR and ITARGETSR are byte-accessible by the GICv2 spec.
        unsafe { core::ptr::write_volatile(addr as *mut u8, value) }
    }
}
