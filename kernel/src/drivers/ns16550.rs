//! 16550-style UART (Synopsys DesignWare APB UART on Allwinner SoCs),
//! transmit only: the serial console of the Allwinner boards.
//!
//! U-Boot (or QEMU) leaves the line configured at 115200 8N1, so the kernel
//! only polls "transmit holding register empty" and writes bytes. Registers
//! are `reg_shift` apart: 4 bytes on Allwinner, accessed as 32-bit words.

use super::mmio::Mmio;

const THR: usize = 0;
const LSR: usize = 5;
const LSR_THRE: u32 = 1 << 5;

/// Writes `byte` if the transmitter has room; false if it is still busy.
pub fn try_write_byte(base: usize, reg_shift: u32, byte: u8) -> bool {
    let uart = Mmio(base);
    if uart.read(LSR << reg_shift) & LSR_THRE == 0 {
        return false;
    }
    uart.write(THR << reg_shift, u32::from(byte));
    true
}

/// Writes `bytes` to the UART at `base`, waiting for room as needed.
pub fn write_bytes(base: usize, reg_shift: u32, bytes: &[u8]) {
    let uart = Mmio(base);
    for &byte in bytes {
        let mut spins = 0u32;
        // A wedged UART must not hang a crash report: give up waiting after a while.
        while uart.read(LSR << reg_shift) & LSR_THRE == 0 && spins < 1_000_000 {
            spins += 1;
            core::hint::spin_loop();
        }
        uart.write(THR << reg_shift, u32::from(byte));
    }
}
