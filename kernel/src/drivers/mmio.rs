//! Volatile 32-bit register access for the drivers of this folder.
//!
//! Every device the kernel drives sits at an address its board names, in the
//! identity map's device memory (see `arch::enable_mmu`). Keeping the one
//! `unsafe` volatile access here lets each driver describe its registers as
//! plain offsets and read like the datasheet.

/// A device register window: a base address named by the board.
#[derive(Clone, Copy, Debug)]
pub struct Mmio(pub usize);

impl Mmio {
    /// Reads the 32-bit register at `offset`.
    pub fn read(self, offset: usize) -> u32 {
        // SAFETY: the board names `self.0` as a device's register window,
        // mapped as device memory; 32-bit aligned reads have no effect on
        // memory the kernel owns.
        unsafe { core::ptr::read_volatile((self.0 + offset) as *const u32) }
    }

    /// Writes the 32-bit register at `offset`.
    pub fn write(self, offset: usize, value: u32) {
        // SAFETY: as for `read`; device registers alias no Rust object.
        unsafe { core::ptr::write_volatile((self.0 + offset) as *mut u32, value) }
    }

    /// Sets `set` and clears `clear` in the register at `offset`.
    pub fn modify(self, offset: usize, clear: u32, set: u32) {
        let value = self.read(offset);
        self.write(offset, (value & !clear) | set);
    }
}

/// One read-modify-write of a SoC register a board needs before a driver
/// starts (clock gates, resets, pin mux, SRAM mapping): `*addr = (*addr & !clear) | set`.
#[derive(Clone, Copy, Debug)]
pub struct RegisterSetup {
    /// The register's address.
    pub addr: usize,
    /// Bits to clear first.
    pub clear: u32,
    /// Bits to set.
    pub set: u32,
}

impl RegisterSetup {
    /// Applies the change.
    pub fn apply(&self) {
        Mmio(self.addr).modify(0, self.clear, self.set);
    }
}

/// Busy-waits about `micros` µs on the kernel clock.
pub fn delay_us(micros: u64) {
    let end = crate::time::micros_since_power_on() + micros;
    while crate::time::micros_since_power_on() < end {
        core::hint::spin_loop();
    }
}
