//! ARM PL011 UART, transmit only: the serial console of QEMU `virt`.
//!
//! QEMU and firmware leave it configured, so the kernel only polls the
//! transmit FIFO and writes bytes; nothing here needs interrupts.

#![deny(unsafe_code)]

use super::mmio::Mmio;
use crate::devices::Uart;

const DATA: usize = 0x00;
const FLAGS: usize = 0x18;
const FLAG_TX_FULL: u32 = 1 << 5;
/// Most polls of a full FIFO before a byte is written anyway.
const MAX_SPINS: u32 = 1_000_000;

/// A PL011 in its register window.
pub struct Pl011 {
    regs: Mmio,
}

impl Pl011 {
    /// The UART in `regs` (at least 0x1000 bytes).
    pub const fn new(regs: Mmio) -> Self {
        Self { regs }
    }
}

impl Uart for Pl011 {
    fn try_write_byte(&self, byte: u8) -> bool {
        if self.regs.read(FLAGS) & FLAG_TX_FULL != 0 {
            return false;
        }
        self.regs.write(DATA, u32::from(byte));
        true
    }

    fn write_bytes(&self, bytes: &[u8]) {
        for &byte in bytes {
            let mut spins = 0;
            while self.regs.read(FLAGS) & FLAG_TX_FULL != 0 && spins < MAX_SPINS {
                spins += 1;
                core::hint::spin_loop();
            }
            self.regs.write(DATA, u32::from(byte));
        }
    }
}
