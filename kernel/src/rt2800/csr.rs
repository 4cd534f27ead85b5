//! Register access over the bus: 32-bit CSRs through vendor requests, the
//! indirect BBP and RFCSR registers, and MCU mailbox commands.
//!
//! Every wait here polls a busy bit a bounded number of times (Linux's
//! REGISTER_BUSY_COUNT) and gives up with `Error::Timeout` naming what it
//! waited for; a vanished device ends the wait at once.

use super::bus::{request, BusError, Rt2800Bus};
use super::regs::{self, Field};
use super::Error;

/// Polls of a busy bit before giving up.
pub const BUSY_POLLS: u32 = 100;
/// Microseconds between two polls of a BBP/RFCSR/MCU busy bit.
const BUSY_DELAY_US: u32 = 100;
/// Bytes per control transfer of a multi-register write or an EEPROM read
/// (Linux's CSR_CACHE_SIZE).
pub const CHUNK: usize = 64;

/// The chip's registers, reached over `bus`.
pub struct Csr<B: Rt2800Bus> {
    bus: B,
}

impl<B: Rt2800Bus> Csr<B> {
    /// Register access over `bus`.
    pub fn new(bus: B) -> Self {
        Self { bus }
    }

    /// The bus, for the frame pipes and delays.
    pub fn bus(&mut self) -> &mut B {
        &mut self.bus
    }

    /// Reads the 32-bit register at `offset` (MULTI_READ of 4 bytes).
    pub fn read(&mut self, offset: u16) -> Result<u32, Error> {
        let mut bytes = [0u8; 4];
        self.bus.vendor_in(request::MULTI_READ, 0, offset, &mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    /// Writes the 32-bit register at `offset` (MULTI_WRITE of 4 bytes).
    pub fn write(&mut self, offset: u16, value: u32) -> Result<(), Error> {
        self.bus.vendor_out(request::MULTI_WRITE, 0, offset, &value.to_le_bytes())?;
        Ok(())
    }

    /// Writes `data` to consecutive registers from `offset` (firmware,
    /// beacon templates, tables), in `CHUNK`-byte transfers.
    pub fn write_block(&mut self, offset: u16, data: &[u8]) -> Result<(), Error> {
        for (i, chunk) in data.chunks(CHUNK).enumerate() {
            let at = usize::from(offset) + i * CHUNK;
            let at = u16::try_from(at).map_err(|_| Error::Bus(BusError::Stall))?;
            self.bus.vendor_out(request::MULTI_WRITE, 0, at, chunk)?;
        }
        Ok(())
    }

    /// Read-modify-write: sets each field of `fields` in the register.
    pub fn modify(&mut self, offset: u16, fields: &[(Field, u32)]) -> Result<u32, Error> {
        let value = fields.iter().fold(self.read(offset)?, |reg, &(field, v)| field.set(reg, v));
        self.write(offset, value)?;
        Ok(value)
    }

    /// Polls `offset` until `done` holds, `BUSY_POLLS` times `delay_us` apart.
    pub fn wait(&mut self, what: &'static str, offset: u16, delay_us: u32, done: impl Fn(u32) -> bool) -> Result<u32, Error> {
        for _ in 0..BUSY_POLLS {
            let reg = self.read(offset)?;
            if done(reg) {
                return Ok(reg);
            }
            self.bus.delay_us(delay_us);
        }
        Err(Error::Timeout(what))
    }

    fn wait_idle(&mut self, what: &'static str, offset: u16, busy: Field) -> Result<u32, Error> {
        self.wait(what, offset, BUSY_DELAY_US, |reg| busy.get(reg) == 0)
    }

    /// Writes BBP register `reg` (BBP_CSR_CFG, parallel mode).
    pub fn bbp_write(&mut self, reg: u8, value: u8) -> Result<(), Error> {
        self.wait_idle("BBP", regs::BBP_CSR_CFG, regs::BBP_CSR_BUSY)?;
        let mut cfg = regs::BBP_CSR_VALUE.set(0, u32::from(value));
        cfg = regs::BBP_CSR_REGNUM.set(cfg, u32::from(reg));
        cfg = regs::BBP_CSR_BUSY.set(cfg, 1);
        cfg = regs::BBP_CSR_RW_MODE.set(cfg, 1);
        self.write(regs::BBP_CSR_CFG, cfg)
    }

    /// Reads BBP register `reg`.
    pub fn bbp_read(&mut self, reg: u8) -> Result<u8, Error> {
        self.wait_idle("BBP", regs::BBP_CSR_CFG, regs::BBP_CSR_BUSY)?;
        let mut cfg = regs::BBP_CSR_REGNUM.set(0, u32::from(reg));
        cfg = regs::BBP_CSR_BUSY.set(cfg, 1);
        cfg = regs::BBP_CSR_READ_CONTROL.set(cfg, 1);
        cfg = regs::BBP_CSR_RW_MODE.set(cfg, 1);
        self.write(regs::BBP_CSR_CFG, cfg)?;
        let done = self.wait_idle("BBP", regs::BBP_CSR_CFG, regs::BBP_CSR_BUSY)?;
        Ok(regs::BBP_CSR_VALUE.get(done) as u8)
    }

    /// Sets the bits of `set` and clears those of `clear` in BBP register `reg`.
    pub fn bbp_modify(&mut self, reg: u8, set: u8, clear: u8) -> Result<(), Error> {
        let value = (self.bbp_read(reg)? & !clear) | set;
        self.bbp_write(reg, value)
    }

    /// Writes RF register `reg` (RF_CSR_CFG).
    pub fn rfcsr_write(&mut self, reg: u8, value: u8) -> Result<(), Error> {
        self.wait_idle("RFCSR", regs::RF_CSR_CFG, regs::RF_CSR_BUSY)?;
        let mut cfg = regs::RF_CSR_DATA.set(0, u32::from(value));
        cfg = regs::RF_CSR_REGNUM.set(cfg, u32::from(reg));
        cfg = regs::RF_CSR_WRITE.set(cfg, 1);
        cfg = regs::RF_CSR_BUSY.set(cfg, 1);
        self.write(regs::RF_CSR_CFG, cfg)
    }

    /// Reads RF register `reg`.
    pub fn rfcsr_read(&mut self, reg: u8) -> Result<u8, Error> {
        self.wait_idle("RFCSR", regs::RF_CSR_CFG, regs::RF_CSR_BUSY)?;
        let mut cfg = regs::RF_CSR_REGNUM.set(0, u32::from(reg));
        cfg = regs::RF_CSR_BUSY.set(cfg, 1);
        self.write(regs::RF_CSR_CFG, cfg)?;
        let done = self.wait_idle("RFCSR", regs::RF_CSR_CFG, regs::RF_CSR_BUSY)?;
        Ok(regs::RF_CSR_DATA.get(done) as u8)
    }

    /// Sets the bits of `set` and clears those of `clear` in RF register `reg`.
    pub fn rfcsr_modify(&mut self, reg: u8, set: u8, clear: u8) -> Result<u8, Error> {
        let value = (self.rfcsr_read(reg)? & !clear) | set;
        self.rfcsr_write(reg, value)?;
        Ok(value)
    }

    /// Hands the MCU `command` with its token and arguments through the
    /// H2M mailbox, once the MCU has taken the previous one.
    pub fn mcu_request(&mut self, command: u8, token: u8, arg0: u8, arg1: u8) -> Result<(), Error> {
        let mut reg = self.wait_idle("MCU mailbox", regs::H2M_MAILBOX_CSR, regs::H2M_MAILBOX_OWNER)?;
        reg = regs::H2M_MAILBOX_OWNER.set(reg, 1);
        reg = regs::H2M_MAILBOX_TOKEN.set(reg, u32::from(token));
        reg = regs::H2M_MAILBOX_ARG0.set(reg, u32::from(arg0));
        reg = regs::H2M_MAILBOX_ARG1.set(reg, u32::from(arg1));
        self.write(regs::H2M_MAILBOX_CSR, reg)?;
        self.write(regs::HOST_CMD_CSR, u32::from(command))
    }
}
