//! Volatile register access: the one way the kernel touches a device.
//!
//! A `Mmio` is a device's register window. Only the chip layer creates one
//! (`Mmio::new` is `unsafe`: it asserts that a device sits at that address,
//! mapped as device memory by `arch::enable_mmu`), and every access is
//! checked against the window's length, so safe code, board crates
//! included, cannot reach an arbitrary address. Drivers describe their
//! registers as offsets and read like the datasheet.

use core::fmt;

/// A device's register window.
#[derive(Clone, Copy)]
pub struct Mmio {
    base: usize,
    len: usize,
}

impl fmt::Debug for Mmio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mmio({:#x}, {:#x})", self.base, self.len)
    }
}

impl Mmio {
    /// The window of `len` bytes at `base`.
    ///
    /// # Safety
    /// A device's registers occupy `[base, base + len)`, the range is mapped
    /// as device memory, and no Rust object lives there; accesses to it have
    /// only the effects the device's documentation gives them.
    pub const unsafe fn new(base: usize, len: usize) -> Self {
        Self { base, len }
    }

    /// Where the window starts, for logs and for libraries that take the
    /// address of a device they drive (virtio-drivers).
    pub fn address(self) -> usize {
        self.base
    }

    /// The window's length in bytes.
    pub fn len(self) -> usize {
        self.len
    }

    /// The part of this window from `offset`, `len` bytes long (a block
    /// inside a larger one, one of several slots). Panics if it does not fit:
    /// a driver asking for that has a bug.
    pub fn window(self, offset: usize, len: usize) -> Mmio {
        assert!(offset.checked_add(len).is_some_and(|end| end <= self.len), "{self:?}: no window at {offset:#x}+{len:#x}");
        Mmio { base: self.base + offset, len }
    }

    fn register(self, offset: usize, size: usize) -> usize {
        assert!(offset.checked_add(size).is_some_and(|end| end <= self.len), "{self:?}: no register at {offset:#x}");
        self.base + offset
    }

    /// Reads the 32-bit register at `offset`.
    pub fn read(self, offset: usize) -> u32 {
        let addr = self.register(offset, 4);
        // SAFETY: inside the window `new`'s caller vouched for; 32-bit
        // aligned device reads have no effect on memory the kernel owns.
        unsafe { core::ptr::read_volatile(addr as *const u32) }
    }

    /// Writes the 32-bit register at `offset`.
    pub fn write(self, offset: usize, value: u32) {
        let addr = self.register(offset, 4);
        // SAFETY: as for `read`; device registers alias no Rust object.
        unsafe { core::ptr::write_volatile(addr as *mut u32, value) }
    }

    /// Writes the 8-bit register at `offset` (for byte-wide register arrays
    /// such as the GIC's priorities and targets).
    pub fn write_byte(self, offset: usize, value: u8) {
        let addr = self.register(offset, 1);
        // SAFETY: as for `write`, for a byte-accessible register.
        unsafe { core::ptr::write_volatile(addr as *mut u8, value) }
    }

    /// Sets `set` and clears `clear` in the register at `offset`.
    pub fn modify(self, offset: usize, clear: u32, set: u32) {
        let value = self.read(offset);
        self.write(offset, (value & !clear) | set);
    }
}

/// One read-modify-write of a SoC register a driver needs before it starts
/// (clock gates, resets, pin mux, SRAM mapping), as the chip layer lists
/// them: `reg = (reg & !clear) | set`.
#[derive(Clone, Copy, Debug)]
pub struct RegisterSetup {
    /// The register's one-word window.
    pub reg: Mmio,
    /// Bits to clear first.
    pub clear: u32,
    /// Bits to set.
    pub set: u32,
}

impl RegisterSetup {
    /// Applies the change.
    pub fn apply(&self) {
        self.reg.modify(0, self.clear, self.set);
    }
}

/// Polls `done` until it holds or `timeout_us` pass on the kernel clock:
/// `None` if it never held, so that a wedged device fails its operation
/// instead of hanging the boot.
pub fn wait_until(done: impl Fn() -> bool, timeout_us: u64) -> Option<()> {
    let deadline = crate::time::micros_since_power_on() + timeout_us;
    while !done() {
        if crate::time::micros_since_power_on() > deadline {
            return None;
        }
        core::hint::spin_loop();
    }
    Some(())
}

/// Busy-waits about `micros` µs on the kernel clock.
pub fn delay_us(micros: u64) {
    let end = crate::time::micros_since_power_on() + micros;
    while crate::time::micros_since_power_on() < end {
        core::hint::spin_loop();
    }
}
