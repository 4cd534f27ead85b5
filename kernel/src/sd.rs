//! An SD memory card over a host controller: the card's side of the SD
//! protocol (identification, addressing, single-block reads and writes,
//! waiting out programming), written once for every controller.
//!
//! A controller driver implements `SdHost`: send one command, with at most
//! one 512-byte block of data, and hand back the response words. `SdCard`
//! turns that into a `BlockStore` covering the whole card; the chip layer
//! confines it to the leaderboard's partition (`partition`). Responses are
//! the card's input and are decoded here with checks (OCR, RCA, card status,
//! CSD), so the host tests below run the protocol against a card model.
//! Hand-written: the embedded SD crates speak SPI mode or bring their own
//! controller, and the part every controller shares is this small.

#![deny(unsafe_code)]

use crate::devices::{BlockStore, StoreError, BLOCK};

/// What a command expects back (SD Physical Layer spec, 4.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// CMD0: nothing.
    None,
    /// 48 bits with CRC: card status, RCA, echo (R1, R6, R7).
    Short,
    /// R1b: short, then the card holds DAT0 busy until it is done.
    ShortBusy,
    /// R3 (OCR): short without a valid CRC.
    ShortNoCrc,
    /// R2 (CID, CSD): 136 bits.
    Long,
}

/// One command to the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// The command index (CMD17 is 17).
    pub index: u8,
    /// Its 32-bit argument.
    pub arg: u32,
    /// The response it expects.
    pub response: Response,
}

/// The data phase of a command: none or one block each way.
pub enum Transfer<'a> {
    /// No data.
    None,
    /// One block from the card.
    Read(&'a mut [u8; BLOCK]),
    /// One block to the card (the host waits while the card is busy).
    Write(&'a [u8; BLOCK]),
}

/// Why a controller could not complete a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostError {
    /// No response from the card (no card, or a command it does not know).
    NoResponse,
    /// A response or data block failed its CRC.
    Crc,
    /// The command or its data did not finish in time.
    Timeout,
}

/// A host controller: the one thing each SoC's driver provides.
pub trait SdHost {
    /// Sets the card clock (400 kHz while identifying, then the data rate).
    fn set_clock(&mut self, hz: u32) -> Result<(), HostError>;
    /// Sends `command` with its data phase and returns the response as four
    /// words, word 0 holding bits 31..0 (for short responses: the 32 bits
    /// after the index) and word 3 bits 127..96 of a long one.
    fn command(&mut self, command: Command, data: Transfer<'_>) -> Result<[u32; 4], HostError>;
}

/// Why a card was not brought up, for the boot log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardError {
    /// The controller failed a command.
    Host(u8, HostError),
    /// The card did not echo CMD8's check pattern: not a usable SD card.
    BadEcho(u32),
    /// The card stayed busy powering up past the deadline.
    PowerUpTimeout,
    /// The CSD's structure version is not one this code reads.
    UnknownCsd(u32),
    /// The card reported an error bit in its status.
    Status(u8, u32),
    /// The card did not return to the transfer state after a write.
    StuckProgramming,
}

/// Card status bits that mean a command failed (spec 4.10.1: out of range
/// through general error, except CARD_IS_LOCKED, plus AKE_SEQ_ERROR).
const STATUS_ERRORS: u32 = 0xfdf8_0008;
const READY_FOR_DATA: u32 = 1 << 8;
const STATE_TRANSFER: u32 = 4;
const CHECK_PATTERN: u32 = 0x1aa;
/// ACMD41's argument: 2.7-3.6 V, and high capacity supported when CMD8 was answered.
const OCR_VOLTAGES: u32 = 0x00ff_8000;
const OCR_HIGH_CAPACITY: u32 = 1 << 30;
const OCR_POWERED_UP: u32 = 1 << 31;
const POWER_UP_DEADLINE_US: u64 = 1_000_000;
const PROGRAMMING_DEADLINE_US: u64 = 500_000;
/// The data clock once identified: default speed, which every card supports.
const DATA_CLOCK_HZ: u32 = 25_000_000;
const IDENTIFY_CLOCK_HZ: u32 = 400_000;

/// The card's capacity in 512-byte blocks, from its CSD (spec 5.3).
pub fn csd_blocks(csd: [u32; 4]) -> Result<u32, CardError> {
    let bits = (u128::from(csd[3]) << 96) | (u128::from(csd[2]) << 64) | (u128::from(csd[1]) << 32) | u128::from(csd[0]);
    let field = |high: u32, low: u32| ((bits >> low) & ((1u128 << (high - low + 1)) - 1)) as u64;
    let bytes = match field(127, 126) {
        0 => (field(73, 62) + 1) << (field(49, 47) + 2 + field(83, 80)),
        1 => (field(69, 48) + 1) * 512 * 1024,
        version => return Err(CardError::UnknownCsd(version as u32)),
    };
    Ok(u32::try_from(bytes / BLOCK as u64).unwrap_or(u32::MAX))
}

/// The product name from a CID (spec 5.2), printable characters only.
pub fn cid_name(cid: [u32; 4]) -> [u8; 5] {
    let bytes = [cid[3] as u8, (cid[2] >> 24) as u8, (cid[2] >> 16) as u8, (cid[2] >> 8) as u8, cid[2] as u8];
    bytes.map(|byte| if byte.is_ascii_graphic() { byte } else { b'?' })
}

/// An identified card, selected and ready for block transfers.
pub struct SdCard<H> {
    host: H,
    rca: u32,
    high_capacity: bool,
    blocks: u32,
    name: [u8; 5],
    clock: fn() -> u64,
}

impl<H: SdHost> SdCard<H> {
    /// Runs the identification sequence (spec 4.2): reset, interface check,
    /// power-up, CID, address, CSD, select. `clock` gives µs for deadlines.
    pub fn identify(mut host: H, clock: fn() -> u64) -> Result<Self, CardError> {
        host.set_clock(IDENTIFY_CLOCK_HZ).map_err(|e| CardError::Host(0, e))?;
        send(&mut host, 0, 0, Response::None)?;
        let version2 = match host.command(Command { index: 8, arg: CHECK_PATTERN, response: Response::Short }, Transfer::None) {
            Ok(echo) if echo[0] & 0xfff == CHECK_PATTERN => true,
            Ok(echo) => return Err(CardError::BadEcho(echo[0])),
            // A version 1 card does not know CMD8.
            Err(HostError::NoResponse | HostError::Timeout) => false,
            Err(error) => return Err(CardError::Host(8, error)),
        };
        let request = OCR_VOLTAGES | if version2 { OCR_HIGH_CAPACITY } else { 0 };
        let deadline = clock() + POWER_UP_DEADLINE_US;
        let ocr = loop {
            send(&mut host, 55, 0, Response::Short)?;
            let ocr = send(&mut host, 41, request, Response::ShortNoCrc)?[0];
            if ocr & OCR_POWERED_UP != 0 {
                break ocr;
            }
            if clock() > deadline {
                return Err(CardError::PowerUpTimeout);
            }
        };
        let name = cid_name(send(&mut host, 2, 0, Response::Long)?);
        let rca = send(&mut host, 3, 0, Response::Short)?[0] & 0xffff_0000;
        let blocks = csd_blocks(send(&mut host, 9, rca, Response::Long)?)?;
        let mut card = Self { host, rca, high_capacity: ocr & OCR_HIGH_CAPACITY != 0, blocks, name, clock };
        card.checked(7, rca, Response::ShortBusy, Transfer::None)?;
        if !card.high_capacity {
            card.checked(16, BLOCK as u32, Response::Short, Transfer::None)?;
        }
        card.host.set_clock(DATA_CLOCK_HZ).map_err(|e| CardError::Host(0, e))?;
        Ok(card)
    }

    /// True for SDHC/SDXC (block addressing), false for SDSC.
    pub fn high_capacity(&self) -> bool {
        self.high_capacity
    }

    /// The product name from the card's CID, for the boot log.
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name).unwrap_or("?")
    }

    /// Sends a command and fails on any error bit in the card status it returns.
    fn checked(&mut self, index: u8, arg: u32, response: Response, data: Transfer<'_>) -> Result<u32, CardError> {
        let status = self.host.command(Command { index, arg, response }, data).map_err(|e| CardError::Host(index, e))?[0];
        if status & STATUS_ERRORS != 0 { Err(CardError::Status(index, status)) } else { Ok(status) }
    }

    /// The address argument for `block`: a block number or a byte offset.
    fn address(&self, block: u32) -> Result<u32, StoreError> {
        if block >= self.blocks {
            return Err(StoreError);
        }
        if self.high_capacity { Ok(block) } else { block.checked_mul(BLOCK as u32).ok_or(StoreError) }
    }

    /// Waits until the card has programmed what it was sent (CMD13 until it
    /// is ready for data in the transfer state), so a write that returned
    /// is on the card.
    fn wait_programmed(&mut self) -> Result<(), CardError> {
        let deadline = (self.clock)() + PROGRAMMING_DEADLINE_US;
        loop {
            let status = self.checked(13, self.rca, Response::Short, Transfer::None)?;
            if status & READY_FOR_DATA != 0 && (status >> 9) & 0xf == STATE_TRANSFER {
                return Ok(());
            }
            if (self.clock)() > deadline {
                return Err(CardError::StuckProgramming);
            }
        }
    }
}

fn send<H: SdHost>(host: &mut H, index: u8, arg: u32, response: Response) -> Result<[u32; 4], CardError> {
    host.command(Command { index, arg, response }, Transfer::None).map_err(|e| CardError::Host(index, e))
}

impl<H: SdHost> BlockStore for SdCard<H> {
    fn read(&mut self, block: u32, buf: &mut [u8; BLOCK]) -> Result<(), StoreError> {
        let address = self.address(block)?;
        self.checked(17, address, Response::Short, Transfer::Read(buf)).map(drop).map_err(|_| StoreError)
    }

    fn write(&mut self, block: u32, data: &[u8; BLOCK]) -> Result<(), StoreError> {
        let address = self.address(block)?;
        self.checked(24, address, Response::Short, Transfer::Write(data)).map_err(|_| StoreError)?;
        self.wait_programmed().map_err(|_| StoreError)
    }

    fn blocks(&self) -> u32 {
        self.blocks
    }

    fn persistent(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
