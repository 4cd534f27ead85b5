//! USB mass storage (Bulk-Only Transport 1.0 carrying the SCSI transparent
//! command set: what every USB stick speaks) as the leaderboard's
//! `BlockStore`, where a board has no SD card to keep it on.
//!
//! Split like smoltcp's protocols: `Cbw`, `Csw`, `Capacity` and `Command`
//! are the wire format (checked, byte-fixture tested, fuzzed); `UsbStick`
//! is the behaviour (one command at a time, every wait bounded, BOT's reset
//! recovery after a stall or a phase error). A stick is somebody's medium:
//! `find_leaderboard_stick` hands it on only inside the partition
//! `imgtool leaderboard-card` makes (`partition::Partition`), never raw.
//! Hand-written: the `no_std` mass-storage crates are device-side.

#![deny(unsafe_code)]

use alloc::vec::Vec;
use core::fmt;

use super::bus::{DeviceId, DeviceInfo, Event};
use super::descriptor::TransferType;
use super::shared::{DeviceHandle, SharedBus};
use super::{request, Delimiting, UsbError};
use crate::devices::{BlockStore, StoreError, BLOCK};
use crate::partition::{AreaError, Partition};

/// Interface class, subclass and protocol of a stick (USB Mass Storage
/// Class Overview 1.4): mass storage, SCSI transparent, Bulk-Only.
const CLASS_MASS_STORAGE: u8 = 0x08;
const SUBCLASS_SCSI: u8 = 0x06;
const PROTOCOL_BULK_ONLY: u8 = 0x50;
/// Bulk-Only Mass Storage Reset, a class request to the interface (BOT 3.1).
const BULK_ONLY_RESET: u8 = 0xff;

/// Bytes of a Command Block Wrapper and of a Command Status Wrapper (BOT 5.1, 5.2).
pub const CBW_LEN: usize = 31;
/// See `CBW_LEN`.
pub const CSW_LEN: usize = 13;
const CBW_SIGNATURE: u32 = 0x4342_5355;
const CSW_SIGNATURE: u32 = 0x5342_5355;
/// bmCBWFlags: the data stage runs device-to-host.
const CBW_DATA_IN: u8 = 0x80;

/// How long one stage of a command may take (a stick programs flash
/// behind a write's status). Bounded, so a stick that stops answering
/// fails the command and never hangs the appliance.
const STAGE_TIMEOUT_US: u64 = 2_000_000;
/// TEST UNIT READY tries while the stick says it is not ready (spinning
/// up, or the unit attention every stick reports after a reset), and the
/// pause between them: a second at most.
const READY_TRIES: u32 = 10;
const READY_PAUSE_US: u64 = 100_000;
/// Blocks one read asks of the stick: the journal is read front to back at
/// boot, so a READ(10) of eight blocks (one 4 KiB bulk IN transfer, the most
/// the host controllers queue) does the work of eight. A read may so run up
/// to seven blocks past the one asked (never past the stick's end); writes
/// touch only the block asked.
const READ_AHEAD: u32 = 8;
/// Bytes of the data-stage buffer: a read ahead's blocks.
const IN_TRANSFER: usize = READ_AHEAD as usize * BLOCK;
/// Bytes asked for a status: a CSW ends with a short packet, and anything
/// longer than this is no status.
const STATUS_TRANSFER: usize = BLOCK;

/// The direction and length of a command's data stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// No data stage.
    None,
    /// This many bytes from the stick.
    In(u32),
    /// This many bytes to the stick.
    Out(u32),
}

/// A SCSI command block (SPC-4, SBC-3), at most 10 bytes, with the data
/// stage it has. Made only by the constructors below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    bytes: [u8; 10],
    len: usize,
    stage: Stage,
}

impl Command {
    fn six(opcode: u8, length: u8, stage: Stage) -> Self {
        Self { bytes: [opcode, 0, 0, 0, length, 0, 0, 0, 0, 0], len: 6, stage }
    }

    fn ten(opcode: u8, flags: u8, block: u32, blocks: u16, stage: Stage) -> Self {
        let [b0, b1, b2, b3] = block.to_be_bytes();
        let [n0, n1] = blocks.to_be_bytes();
        Self { bytes: [opcode, flags, b0, b1, b2, b3, 0, n0, n1, 0], len: 10, stage }
    }

    /// TEST UNIT READY: is the medium there and usable.
    pub fn test_unit_ready() -> Self {
        Self::six(0x00, 0, Stage::None)
    }

    /// REQUEST SENSE (18 bytes of fixed-format sense): why the last command
    /// failed, which also clears a unit attention.
    pub fn request_sense() -> Self {
        Self::six(0x03, 18, Stage::In(18))
    }

    /// INQUIRY (36 bytes): some sticks want it before anything else.
    pub fn inquiry() -> Self {
        Self::six(0x12, 36, Stage::In(36))
    }

    /// READ CAPACITY(10): the last block's address and the block length.
    pub fn read_capacity() -> Self {
        Self::ten(0x25, 0, 0, 0, Stage::In(8))
    }

    /// READ(10) of `blocks` blocks from `block`.
    pub fn read(block: u32, blocks: u16) -> Self {
        Self::ten(0x28, 0, block, blocks, Stage::In(u32::from(blocks) * BLOCK as u32))
    }

    /// WRITE(10) of one block with FUA (force unit access: the status comes
    /// once the block is on the medium, past any write cache).
    pub fn write(block: u32) -> Self {
        Self::ten(0x2a, 1 << 3, block, 1, Stage::Out(BLOCK as u32))
    }

    /// SYNCHRONIZE CACHE(10) of one block, for sticks that ignore FUA.
    pub fn synchronize_cache(block: u32) -> Self {
        Self::ten(0x35, 0, block, 1, Stage::None)
    }

    /// The command block's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Its data stage.
    pub fn stage(&self) -> Stage {
        self.stage
    }
}

/// A Command Block Wrapper (BOT 5.1): a command to LUN 0, with the tag its
/// status must echo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cbw {
    /// dCBWTag.
    pub tag: u32,
    /// The command.
    pub command: Command,
}

impl Cbw {
    /// The 31 bytes on the wire.
    pub fn to_bytes(&self) -> [u8; CBW_LEN] {
        let (length, flags) = match self.command.stage {
            Stage::None => (0, 0),
            Stage::In(length) => (length, CBW_DATA_IN),
            Stage::Out(length) => (length, 0),
        };
        let mut bytes = [0u8; CBW_LEN];
        bytes[0..4].copy_from_slice(&CBW_SIGNATURE.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.tag.to_le_bytes());
        bytes[8..12].copy_from_slice(&length.to_le_bytes());
        bytes[12] = flags;
        bytes[13] = 0; // LUN 0
        bytes[14] = self.command.len as u8;
        bytes[15..15 + self.command.len].copy_from_slice(self.command.bytes());
        bytes
    }
}

/// bCSWStatus (BOT 5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Command passed.
    Passed,
    /// Command failed: REQUEST SENSE says why.
    Failed,
    /// Phase error: the stick needs a reset recovery.
    PhaseError,
}

/// Why 13 bytes are not a valid CSW.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CswError {
    /// Not 13 bytes.
    Length(usize),
    /// dCSWSignature is not "USBS".
    Signature,
    /// bCSWStatus is not 0, 1 or 2.
    Status(u8),
}

/// A Command Status Wrapper (BOT 5.2), checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Csw {
    /// dCSWTag: the tag of the command it answers.
    pub tag: u32,
    /// dCSWDataResidue: bytes of the data stage not processed.
    pub residue: u32,
    /// bCSWStatus.
    pub status: Status,
}

fn le32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

impl Csw {
    /// Checks and reads a CSW as received (BOT 6.3: length and signature;
    /// the tag is for the caller to compare).
    pub fn parse(bytes: &[u8]) -> Result<Self, CswError> {
        let bytes: &[u8; CSW_LEN] = bytes.try_into().map_err(|_| CswError::Length(bytes.len()))?;
        if le32(&bytes[0..4]) != CSW_SIGNATURE {
            return Err(CswError::Signature);
        }
        let status = match bytes[12] {
            0 => Status::Passed,
            1 => Status::Failed,
            2 => Status::PhaseError,
            other => return Err(CswError::Status(other)),
        };
        Ok(Self { tag: le32(&bytes[4..8]), residue: le32(&bytes[8..12]), status })
    }
}

/// What READ CAPACITY(10) says (SBC-3 5.16), checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// Blocks on the medium (the last block's address plus one).
    pub blocks: u32,
    /// Bytes in a block.
    pub block_len: u32,
}

impl Capacity {
    /// Reads the 8 bytes (big-endian); `None` when they are not 8 or the
    /// medium is too big for READ CAPACITY(10) (last address 0xffffffff:
    /// over 2 TiB, not a stick for a leaderboard).
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; 8] = bytes.try_into().ok()?;
        let last = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let block_len = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        Some(Self { blocks: last.checked_add(1)?, block_len })
    }
}

/// Where a stick's Bulk-Only interface sits in its descriptors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkOnly {
    /// bConfigurationValue of the configuration holding it.
    pub configuration: u8,
    /// The interface (alternate setting 0).
    pub interface: u8,
    /// Bulk IN endpoint address.
    pub bulk_in: u8,
    /// Bulk OUT endpoint address.
    pub bulk_out: u8,
}

impl BulkOnly {
    /// The first SCSI Bulk-Only interface with a bulk IN and a bulk OUT
    /// endpoint in any of the device's configurations.
    pub fn find(info: &DeviceInfo) -> Option<Self> {
        info.configurations.iter().find_map(|config| {
            config.interfaces.iter().filter(|i| i.alternate == 0 && i.class == CLASS_MASS_STORAGE && i.subclass == SUBCLASS_SCSI && i.protocol == PROTOCOL_BULK_ONLY).find_map(|i| {
                let bulk = |is_in: bool| i.endpoints.iter().find(|e| e.transfer == TransferType::Bulk && e.is_in() == is_in).map(|e| e.address);
                Some(Self { configuration: config.value, interface: i.number, bulk_in: bulk(true)?, bulk_out: bulk(false)? })
            })
        })
    }
}

/// Why a stick did not start or a command failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StickError {
    /// A transfer failed (a stall, the stick gone, the controller).
    Usb(UsbError),
    /// A stage did not finish within `STAGE_TIMEOUT_US`.
    Timeout,
    /// The stick and the host disagree on where the command stands (a bad
    /// or mistagged CSW, a phase-error status, data of the wrong length).
    Phase,
    /// The stick ran the command and reported failure.
    Failed,
    /// Still not ready after `READY_TRIES` TEST UNIT READYs.
    NotReady,
    /// READ CAPACITY's answer was malformed.
    Capacity,
}

impl fmt::Display for StickError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StickError::Usb(error) => write!(f, "transfer failed ({error:?})"),
            StickError::Timeout => f.write_str("no answer in time"),
            StickError::Phase => f.write_str("protocol out of step"),
            StickError::Failed => f.write_str("command refused"),
            StickError::NotReady => f.write_str("medium not ready"),
            StickError::Capacity => f.write_str("bad READ CAPACITY answer"),
        }
    }
}

/// A started stick: its interface and endpoints on the device its handle
/// names, and its size. Reads and writes single blocks.
pub struct UsbStick {
    device: DeviceHandle,
    function: BulkOnly,
    tag: u32,
    blocks: u32,
    block_len: u32,
    /// SYNCHRONIZE CACHE was refused once: the stick has no cache to flush
    /// (FUA writes alone are on the medium).
    no_cache: bool,
    /// The kernel's microsecond clock, for the deadlines.
    clock: fn() -> u64,
    /// The data stage of the last IN command.
    buf: [u8; IN_TRANSFER],
    /// The blocks `buf` holds from the last read (first, count), until the
    /// next command of any kind.
    read_ahead: Option<(u32, u32)>,
    /// The last status received.
    status: [u8; STATUS_TRANSFER],
}

impl UsbStick {
    /// Selects the stick's configuration, waits (bounded) for its medium
    /// and reads its capacity. `clock` is the kernel's microsecond clock.
    pub fn start(device: DeviceHandle, function: BulkOnly, clock: fn() -> u64) -> Result<Self, StickError> {
        device.with_device(|d| d.set_configuration(function.configuration)).map_err(StickError::Usb)?;
        let mut stick = Self { device, function, tag: 0, blocks: 0, block_len: 0, no_cache: false, clock, buf: [0; IN_TRANSFER], read_ahead: None, status: [0; STATUS_TRANSFER] };
        stick.command(Command::inquiry(), &[])?;
        stick.wait_ready()?;
        let got = stick.command(Command::read_capacity(), &[])?;
        let capacity = Capacity::parse(&stick.buf[..got]).ok_or(StickError::Capacity)?;
        (stick.blocks, stick.block_len) = (capacity.blocks, capacity.block_len);
        Ok(stick)
    }

    /// Bytes in a block, as the stick reported them.
    pub fn block_len(&self) -> u32 {
        self.block_len
    }

    fn wait_ready(&mut self) -> Result<(), StickError> {
        for _ in 0..READY_TRIES {
            match self.command(Command::test_unit_ready(), &[]) {
                Ok(_) => return Ok(()),
                Err(StickError::Failed) => {
                    // The sense (not ready, unit attention) is read to clear it; its content changes nothing here.
                    let _ = self.command(Command::request_sense(), &[]);
                    self.pause(READY_PAUSE_US);
                }
                Err(error) => return Err(error),
            }
        }
        Err(StickError::NotReady)
    }

    fn pause(&self, us: u64) {
        let end = (self.clock)().saturating_add(us);
        while (self.clock)() < end {
            core::hint::spin_loop();
        }
    }

    /// Runs `command`: its OUT data from `out` (empty for IN commands); IN
    /// data lands in `self.buf`, its length returned. A transfer failure or
    /// a phase error is followed by the reset recovery.
    fn command(&mut self, command: Command, out: &[u8]) -> Result<usize, StickError> {
        self.read_ahead = None;
        let result = self.transport(command, out);
        if matches!(result, Err(StickError::Usb(_) | StickError::Timeout | StickError::Phase)) {
            if let Err(error) = self.reset_recovery() {
                log::debug!("USB {}: mass storage reset recovery failed ({error:?})", self.device.name());
            }
        }
        result
    }

    fn transport(&mut self, command: Command, out: &[u8]) -> Result<usize, StickError> {
        self.tag = self.tag.wrapping_add(1);
        let tag = self.tag;
        self.send(&Cbw { tag, command }.to_bytes())?;
        let mut got = 0;
        match command.stage() {
            Stage::None => {}
            Stage::Out(length) => {
                if out.len() != length as usize {
                    return Err(StickError::Phase);
                }
                self.send(out)?;
            }
            Stage::In(length) => {
                got = self.receive(false, length as usize)?;
                // A stick may skip a failed command's data and send its status at once.
                if got == CSW_LEN && length as usize != CSW_LEN {
                    if let Ok(csw) = Csw::parse(&self.buf[..CSW_LEN]) {
                        return Self::status(csw, tag).and(Err(StickError::Phase));
                    }
                }
                if got > length as usize {
                    return Err(StickError::Phase);
                }
            }
        }
        let status = self.receive(true, STATUS_TRANSFER)?;
        let csw = Csw::parse(&self.status[..status]).map_err(|_| StickError::Phase)?;
        Self::status(csw, tag).map(|()| got)
    }

    fn status(csw: Csw, tag: u32) -> Result<(), StickError> {
        match (csw.tag == tag, csw.status) {
            (false, _) | (_, Status::PhaseError) => Err(StickError::Phase),
            (true, Status::Failed) => Err(StickError::Failed),
            (true, Status::Passed) => Ok(()),
        }
    }

    fn send(&mut self, data: &[u8]) -> Result<(), StickError> {
        let endpoint = self.function.bulk_out;
        self.device.with_device(|d| d.bulk_out(endpoint, data, Delimiting::Announced)).map_err(StickError::Usb)
    }

    /// One bulk IN transfer of at most `len` bytes into the data buffer, or
    /// the status buffer (so a status never overwrites the data before it),
    /// polled until it completes or the stage's deadline passes. A data
    /// stage is asked exactly its length: BOT ends one that fills whole
    /// packets without a short packet, so asking more would run on into the
    /// status.
    fn receive(&mut self, status: bool, len: usize) -> Result<usize, StickError> {
        let (endpoint, deadline) = (self.function.bulk_in, (self.clock)().saturating_add(STAGE_TIMEOUT_US));
        loop {
            let buf = if status { &mut self.status[..len.min(STATUS_TRANSFER)] } else { &mut self.buf[..len.min(IN_TRANSFER)] };
            match self.device.with_device(|d| d.bulk_in(endpoint, buf, Delimiting::Announced)) {
                Ok(Some(len)) => return Ok(len),
                Ok(None) if (self.clock)() >= deadline => return Err(StickError::Timeout),
                Ok(None) => core::hint::spin_loop(),
                Err(error) => return Err(StickError::Usb(error)),
            }
        }
    }

    /// BOT 5.3.4: Bulk-Only Mass Storage Reset, then CLEAR_FEATURE(HALT)
    /// on both bulk endpoints (whose toggles start over on both sides).
    fn reset_recovery(&mut self) -> Result<(), UsbError> {
        let BulkOnly { interface, bulk_in, bulk_out, .. } = self.function;
        self.device.with_device(|d| {
            d.control_out(request::OUT_CLASS_INTERFACE, BULK_ONLY_RESET, 0, u16::from(interface), &[])?;
            d.clear_halts(&[bulk_in, bulk_out])
        })
    }

    fn check(&self, block: u32) -> Result<(), StoreError> {
        if block < self.blocks { Ok(()) } else { Err(StoreError) }
    }

    /// Runs `command` once more after a failure (the reset recovery between
    /// them clears a one-off stall or a lost packet).
    fn with_retry(&mut self, command: Command, out: &[u8]) -> Result<usize, StickError> {
        self.command(command, out).or_else(|error| {
            log::debug!("USB {}: SCSI command {:#04x} failed ({error}), tried again", self.device.name(), command.bytes()[0]);
            self.command(command, out)
        })
    }
}

/// Reads and writes on the whole stick; the leaderboard gets it only
/// through `Partition`. `write` returns Ok once the block is on the medium:
/// WRITE(10) with FUA, then SYNCHRONIZE CACHE(10) unless the stick refused
/// that once (a stick without a write cache, whose FUA writes are through).
impl BlockStore for UsbStick {
    fn read(&mut self, block: u32, buf: &mut [u8; BLOCK]) -> Result<(), StoreError> {
        self.check(block)?;
        if let Some((first, _)) = self.read_ahead.filter(|&(first, count)| (first..first + count).contains(&block)) {
            let at = (block - first) as usize * BLOCK;
            buf.copy_from_slice(&self.buf[at..at + BLOCK]);
            return Ok(());
        }
        let count = READ_AHEAD.min(self.blocks - block);
        match self.with_retry(Command::read(block, count as u16), &[]) {
            Ok(got) if got == count as usize * BLOCK => {
                self.read_ahead = Some((block, count));
                buf.copy_from_slice(&self.buf[..BLOCK]);
                Ok(())
            }
            Ok(_) | Err(_) => Err(StoreError),
        }
    }

    fn write(&mut self, block: u32, data: &[u8; BLOCK]) -> Result<(), StoreError> {
        self.check(block)?;
        self.with_retry(Command::write(block), data).map_err(|_| StoreError)?;
        if self.no_cache {
            return Ok(());
        }
        match self.command(Command::synchronize_cache(block), &[]) {
            Ok(_) => Ok(()),
            Err(StickError::Failed) => {
                let _ = self.command(Command::request_sense(), &[]);
                log::debug!("USB {}: SYNCHRONIZE CACHE refused: writes are through", self.device.name());
                self.no_cache = true;
                Ok(())
            }
            Err(_) => Err(StoreError),
        }
    }

    fn blocks(&self) -> u32 {
        self.blocks
    }

    fn persistent(&self) -> bool {
        true
    }
}

/// The first mass-storage stick among the devices the bus's first poll
/// found (`events`) that has a leaderboard partition, confined to it. Each
/// stick looked at is logged (its size and area, or why it is not used) and
/// its id returned with the others looked at, so no other driver logs it as
/// driverless; a stick not used is let go untouched.
pub fn find_leaderboard_stick(bus: &SharedBus, events: &[Event], clock: fn() -> u64) -> (Option<Partition<UsbStick>>, Vec<DeviceId>) {
    let mut looked_at = Vec::new();
    let mut found = None;
    for event in events {
        let Event::Attached(id) = *event else { continue };
        let Some(function) = bus.with_info(id, BulkOnly::find).flatten() else { continue };
        looked_at.push(id);
        if found.is_some() {
            continue;
        }
        let Some(device) = bus.claim(id) else { continue };
        let name = device.name();
        found = match UsbStick::start(device, function, clock) {
            Ok(stick) => confine(stick, &name),
            Err(error) => {
                log::warn!("USB {name}: mass storage did not start ({error}): not used");
                None
            }
        };
    }
    (found, looked_at)
}

fn confine(stick: UsbStick, name: &str) -> Option<Partition<UsbStick>> {
    let (blocks, block_len) = (stick.blocks(), stick.block_len());
    if block_len as usize != BLOCK {
        log::warn!("USB {name}: mass storage with {block_len}-byte blocks: only {BLOCK}-byte blocks are supported, not used");
        return None;
    }
    match Partition::leaderboard(stick) {
        Ok(area) => {
            log::info!("USB {name}: mass storage, {blocks} blocks of {BLOCK} B, leaderboard area at block {}, {} blocks", area.first_block(), area.blocks());
            Some(area)
        }
        Err(AreaError::NoArea | AreaError::NoTable) => {
            log::info!("USB {name}: mass storage, {blocks} blocks of {BLOCK} B, no leaderboard partition (type 0xda; imgtool leaderboard-card makes one): not used");
            None
        }
        Err(error) => {
            log::warn!("USB {name}: mass storage, {blocks} blocks of {BLOCK} B, leaderboard partition not used ({error:?})");
            None
        }
    }
}

#[cfg(test)]
#[path = "storage/tests.rs"]
mod tests;
