//! ARM PL011 UART, transmit only: the serial console of QEMU `virt`.
//!
//! QEMU and firmware leave it configured, so the kernel only polls the
//! transmit FIFO and writes bytes; nothing here needs interrupts.

const DATA: usize = 0x00;
const FLAGS: usize = 0x18;
const FLAG_TX_FULL: u32 = 1 << 5;

/// Writes `byte` if the transmit FIFO has room; false if it is full.
pub fn try_write_byte(base: usize, byte: u8) -> bool {
    // SAFETY: as in `write_bytes`.
    unsafe {
        if core::ptr::read_volatile((base + FLAGS) as *const u32) & FLAG_TX_FULL != 0 {
            return false;
        }
        core::ptr::write_volatile((base + DATA) as *mut u32, u32::from(byte));
    }
    true
}

/// Writes `bytes` to the PL011 at `base`, waiting for FIFO space as needed.
pub fn write_bytes(base: usize, bytes: &[u8]) {
    for &byte in bytes {
        // SAFETY: `base` is the PL011 named by the board, identity-mapped as
        // device memory; FR and DR are plain 32-bit registers.
        unsafe {
            while core::ptr::read_volatile((base + FLAGS) as *const u32) & FLAG_TX_FULL != 0 {}
            core::ptr::write_volatile((base + DATA) as *mut u32, u32::from(byte));
        }
    }
}
