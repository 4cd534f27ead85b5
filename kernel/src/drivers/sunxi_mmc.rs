//! The SD/MMC host controller of Allwinner's A10, A20, H3 and A64 (their
//! manuals' "SD/MMC" chapter; QEMU's `allwinner-sdhost`): one command at a
//! time, data through the FIFO by the CPU.
//!
//! It implements `sd::SdHost`; the card protocol above it is `sd::SdCard`.
//! The leaderboard moves a block or two per game, so the controller's DMA
//! engine (a descriptor chain for multi-block transfers) would add code and
//! buy nothing measurable. Every wait has a deadline: a card pulled out or
//! a controller that never answers fails the command, never hangs the boot.

use super::mmio::{self, Mmio};
use crate::devices::BLOCK;
use crate::sd::{Command, HostError, Response, SdHost, Transfer};
use crate::time;

const GCTL: usize = 0x00;
const CKCR: usize = 0x04;
const TMOR: usize = 0x08;
const BWDR: usize = 0x0c;
const BKSR: usize = 0x10;
const BYCR: usize = 0x14;
const CMDR: usize = 0x18;
const CAGR: usize = 0x1c;
const RESP0: usize = 0x20;
const RISR: usize = 0x38;
const STAR: usize = 0x3c;

const GCTL_SOFT_RESET: u32 = 1 << 0;
const GCTL_FIFO_RESET: u32 = 1 << 1;
const GCTL_DMA_RESET: u32 = 1 << 2;
const GCTL_FIFO_BY_CPU: u32 = 1 << 31;

const CKCR_CARD_CLOCK_ON: u32 = 1 << 16;

const CMD_START: u32 = 1 << 31;
const CMD_CLOCK_ONLY: u32 = 1 << 21;
const CMD_INIT_SEQUENCE: u32 = 1 << 15;
const CMD_WAIT_PREVIOUS: u32 = 1 << 13;
const CMD_WRITE: u32 = 1 << 10;
const CMD_DATA: u32 = 1 << 9;
const CMD_CHECK_CRC: u32 = 1 << 8;
const CMD_LONG: u32 = 1 << 7;
const CMD_RESPONSE: u32 = 1 << 6;

const INT_RESPONSE_ERROR: u32 = 1 << 1;
const INT_COMMAND_DONE: u32 = 1 << 2;
const INT_DATA_DONE: u32 = 1 << 3;
const INT_RESPONSE_CRC: u32 = 1 << 6;
const INT_DATA_CRC: u32 = 1 << 7;
const INT_RESPONSE_TIMEOUT: u32 = 1 << 8;
/// Data timeout, FIFO under/overrun, hardware lock, start and end bit errors.
const INT_DATA_ERRORS: u32 = (1 << 9) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 15);

const STAR_FIFO_EMPTY: u32 = 1 << 2;
const STAR_FIFO_FULL: u32 = 1 << 3;
const STAR_CARD_BUSY: u32 = 1 << 9;

/// The module clock the chip layer sets (OSC24M, undivided).
const MODULE_CLOCK_HZ: u32 = 24_000_000;
const COMMAND_DEADLINE_US: u64 = 100_000;
const BUSY_DEADLINE_US: u64 = 500_000;

/// Where the data FIFO sits: the A10/A20 generation has it at 0x100, the
/// H3/A64 generation at 0x200.
#[derive(Clone, Copy, Debug)]
pub enum FifoAt {
    /// A10, A20.
    Sun4i,
    /// H3, A64.
    Sun6i,
}

/// One controller, its clock and pins already set up by the chip layer.
pub struct SunxiMmc {
    regs: Mmio,
    fifo: usize,
}

impl SunxiMmc {
    /// Resets the controller and hands its FIFO to the CPU.
    pub fn new(regs: Mmio, fifo: FifoAt) -> Result<Self, HostError> {
        let host = Self { regs, fifo: match fifo { FifoAt::Sun4i => 0x100, FifoAt::Sun6i => 0x200 } };
        regs.write(GCTL, GCTL_SOFT_RESET | GCTL_FIFO_RESET | GCTL_DMA_RESET);
        wait_until(|| regs.read(GCTL) & (GCTL_SOFT_RESET | GCTL_FIFO_RESET | GCTL_DMA_RESET) == 0, COMMAND_DEADLINE_US)?;
        regs.write(GCTL, regs.read(GCTL) | GCTL_FIFO_BY_CPU);
        regs.write(TMOR, u32::MAX);
        regs.write(BWDR, 0);
        regs.write(RISR, u32::MAX);
        Ok(host)
    }

    /// Tells the controller that the card clock changed (a command that
    /// does not reach the card).
    fn update_clock(&self) -> Result<(), HostError> {
        self.regs.write(CMDR, CMD_START | CMD_CLOCK_ONLY | CMD_WAIT_PREVIOUS);
        let regs = self.regs;
        let done = wait_until(|| regs.read(CMDR) & CMD_START == 0, COMMAND_DEADLINE_US);
        regs.write(RISR, u32::MAX);
        done
    }

    /// Waits for `bits` in the raw interrupt status, failing on an error bit.
    fn wait_status(&self, bits: u32) -> Result<(), HostError> {
        let deadline = time::micros_since_power_on() + COMMAND_DEADLINE_US;
        loop {
            let status = self.regs.read(RISR);
            if status & (INT_RESPONSE_ERROR | INT_RESPONSE_TIMEOUT) != 0 {
                return Err(HostError::NoResponse);
            }
            if status & (INT_RESPONSE_CRC | INT_DATA_CRC) != 0 {
                return Err(HostError::Crc);
            }
            if status & INT_DATA_ERRORS != 0 {
                return Err(HostError::Timeout);
            }
            if status & bits == bits {
                return Ok(());
            }
            if time::micros_since_power_on() > deadline {
                return Err(HostError::Timeout);
            }
        }
    }

    /// Moves one block through the FIFO, a word whenever it has room or data.
    fn move_block(&self, data: Transfer<'_>) -> Result<(), HostError> {
        let regs = self.regs;
        match data {
            Transfer::None => Ok(()),
            Transfer::Read(buf) => buf.chunks_exact_mut(4).try_for_each(|word| {
                wait_until(|| regs.read(STAR) & STAR_FIFO_EMPTY == 0 || regs.read(RISR) & INT_DATA_ERRORS != 0, COMMAND_DEADLINE_US)?;
                word.copy_from_slice(&regs.read(self.fifo).to_le_bytes());
                Ok(())
            }),
            Transfer::Write(bytes) => bytes.chunks_exact(4).try_for_each(|word| {
                wait_until(|| regs.read(STAR) & STAR_FIFO_FULL == 0 || regs.read(RISR) & INT_DATA_ERRORS != 0, COMMAND_DEADLINE_US)?;
                regs.write(self.fifo, u32::from_le_bytes([word[0], word[1], word[2], word[3]]));
                Ok(())
            }),
        }
    }

    /// Puts the controller back in a state for the next command after a failure.
    fn recover(&self) {
        let regs = self.regs;
        regs.write(GCTL, regs.read(GCTL) | GCTL_FIFO_RESET);
        // Best effort: a controller that does not even reset fails the next command too.
        let _ = wait_until(|| regs.read(GCTL) & GCTL_FIFO_RESET == 0, COMMAND_DEADLINE_US);
        regs.write(RISR, u32::MAX);
    }
}

impl SdHost for SunxiMmc {
    fn set_clock(&mut self, hz: u32) -> Result<(), HostError> {
        // Card clock = module clock / (2 x divider), or undivided for 0.
        let divider = if hz >= MODULE_CLOCK_HZ { 0 } else { MODULE_CLOCK_HZ.div_ceil(2 * hz.max(1)).min(0xff) };
        self.regs.modify(CKCR, CKCR_CARD_CLOCK_ON, 0);
        self.update_clock()?;
        self.regs.modify(CKCR, 0xff, divider);
        self.update_clock()?;
        self.regs.modify(CKCR, 0, CKCR_CARD_CLOCK_ON);
        self.update_clock()
    }

    fn command(&mut self, command: Command, data: Transfer<'_>) -> Result<[u32; 4], HostError> {
        let mut flags = CMD_START | u32::from(command.index & 0x3f);
        if command.index == 0 {
            flags |= CMD_INIT_SEQUENCE;
        }
        flags |= match command.response {
            Response::None => 0,
            Response::ShortNoCrc => CMD_RESPONSE,
            Response::Short | Response::ShortBusy => CMD_RESPONSE | CMD_CHECK_CRC,
            Response::Long => CMD_RESPONSE | CMD_CHECK_CRC | CMD_LONG,
        };
        let moves_data = !matches!(data, Transfer::None);
        if moves_data {
            flags |= CMD_DATA | CMD_WAIT_PREVIOUS;
            self.regs.write(BKSR, BLOCK as u32);
            self.regs.write(BYCR, BLOCK as u32);
        }
        let writes = matches!(data, Transfer::Write(_));
        if writes {
            flags |= CMD_WRITE;
        }
        self.regs.write(RISR, u32::MAX);
        self.regs.write(CAGR, command.arg);
        self.regs.write(CMDR, flags);
        let result = self
            .wait_status(INT_COMMAND_DONE)
            .and_then(|()| self.move_block(data))
            .and_then(|()| if moves_data { self.wait_status(INT_DATA_DONE) } else { Ok(()) })
            .and_then(|()| {
                let regs = self.regs;
                if writes || command.response == Response::ShortBusy {
                    wait_until(|| regs.read(STAR) & STAR_CARD_BUSY == 0, BUSY_DEADLINE_US)
                } else {
                    Ok(())
                }
            });
        if let Err(error) = result {
            self.recover();
            return Err(error);
        }
        let word = |n: usize| self.regs.read(RESP0 + 4 * n);
        let response = match command.response {
            Response::Long => [word(0), word(1), word(2), word(3)],
            _ => [word(0), 0, 0, 0],
        };
        self.regs.write(RISR, u32::MAX);
        Ok(response)
    }
}

/// `mmio::wait_until`, failing a command with `Timeout`.
fn wait_until(done: impl Fn() -> bool, timeout_us: u64) -> Result<(), HostError> {
    mmio::wait_until(done, timeout_us).ok_or(HostError::Timeout)
}
