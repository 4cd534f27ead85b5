//! 16550-style UART (Synopsys DesignWare APB UART on Allwinner SoCs),
//! transmit only: the serial console of the Allwinner boards.
//!
//! U-Boot (or QEMU) leaves the line configured at 115200 8N1, so the kernel
//! only polls "transmit holding register empty" and writes bytes. Registers
//! are `1 << reg_shift` bytes apart: 4 bytes on Allwinner, accessed as words.

#![deny(unsafe_code)]

use super::mmio::Mmio;
use crate::devices::Uart;

const THR: usize = 0;
const LSR: usize = 5;
const LSR_THRE: u32 = 1 << 5;
/// Most polls of a busy transmitter before a byte is written anyway.
const MAX_SPINS: u32 = 1_000_000;

/// A 16550-style UART in its register window.
pub struct Ns16550 {
    regs: Mmio,
    reg_shift: u32,
}

impl Ns16550 {
    /// The UART in `regs`, registers `1 << reg_shift` bytes apart.
    pub const fn new(regs: Mmio, reg_shift: u32) -> Self {
        Self { regs, reg_shift }
    }

    fn ready(&self) -> bool {
        self.regs.read(LSR << self.reg_shift) & LSR_THRE != 0
    }
}

impl Uart for Ns16550 {
    fn try_write_byte(&self, byte: u8) -> bool {
        if !self.ready() {
            return false;
        }
        self.regs.write(THR << self.reg_shift, u32::from(byte));
        true
    }

    fn write_bytes(&self, bytes: &[u8]) {
        for &byte in bytes {
            let mut spins = 0;
            while !self.ready() && spins < MAX_SPINS {
                spins += 1;
                core::hint::spin_loop();
            }
            self.regs.write(THR << self.reg_shift, u32::from(byte));
        }
    }
}
