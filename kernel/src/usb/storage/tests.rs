//! The wire format against byte fixtures, and `UsbStick` against a fake
//! stick behind the fake controller of `bus::tests`: a Bulk-Only state
//! machine over a RAM disk that, like QEMU's `usb-storage`, stalls an IN
//! token between a status and the next command and takes a zero-length
//! packet for a bad CBW.

use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use super::*;
use crate::usb::bus::tests::{fake_bus, BulkFunction, FakeDevice};
use crate::usb::descriptor::tests::{USB_STORAGE_CONFIG, USB_STORAGE_DEVICE};

std::thread_local! {
    static NOW: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

/// A clock (one per test thread) that moves 1 ms each time it is read, so
/// deadlines pass quickly.
fn fast_clock() -> u64 {
    NOW.with(|now| {
        now.set(now.get() + 1_000);
        now.get()
    })
}

/// READ(10) of block 0x1234 with tag 7, as Linux's usb-storage sends it.
const READ_CBW: [u8; CBW_LEN] = [
    0x55, 0x53, 0x42, 0x43, 0x07, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x80, 0x00, 0x0a, 0x28, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];
/// The status QEMU's usb-storage sent for it: passed, no residue.
const PASSED_CSW: [u8; CSW_LEN] = [0x55, 0x53, 0x42, 0x53, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];

#[test]
fn cbw_of_read_10_is_the_bytes_linux_sends() {
    assert_eq!(Cbw { tag: 7, command: Command::read(0x1234, 1) }.to_bytes(), READ_CBW);
    let write = Cbw { tag: 8, command: Command::write(5) }.to_bytes();
    assert_eq!((write[8..13].to_vec(), write[15..25].to_vec()), (vec![0, 2, 0, 0, 0], vec![0x2a, 0x08, 0, 0, 0, 5, 0, 0, 1, 0]));
    let ready = Cbw { tag: 1, command: Command::test_unit_ready() }.to_bytes();
    assert_eq!((&ready[8..15], &ready[15..21]), (&[0, 0, 0, 0, 0, 0, 6][..], &[0u8; 6][..]));
}

#[test]
fn csw_is_checked_for_length_signature_and_status() {
    assert_eq!(Csw::parse(&PASSED_CSW), Ok(Csw { tag: 7, residue: 0, status: Status::Passed }));
    let mut failed = PASSED_CSW;
    failed[8..13].copy_from_slice(&[0x00, 0x02, 0, 0, 1]);
    assert_eq!(Csw::parse(&failed), Ok(Csw { tag: 7, residue: 512, status: Status::Failed }));
    failed[12] = 2;
    assert_eq!(Csw::parse(&failed).map(|c| c.status), Ok(Status::PhaseError));
    failed[12] = 3;
    assert_eq!(Csw::parse(&failed), Err(CswError::Status(3)));
    assert_eq!(Csw::parse(&PASSED_CSW[..12]), Err(CswError::Length(12)));
    assert_eq!(Csw::parse(&[0; 512]), Err(CswError::Length(512)));
    let mut cbw_back = PASSED_CSW;
    cbw_back[3] = 0x43;
    assert_eq!(Csw::parse(&cbw_back), Err(CswError::Signature));
}

#[test]
fn read_capacity_gives_blocks_and_refuses_what_needs_read_capacity_16() {
    // QEMU's answer for a 1 MiB image: last block 2047, 512-byte blocks.
    assert_eq!(Capacity::parse(&[0, 0, 0x07, 0xff, 0, 0, 0x02, 0]), Some(Capacity { blocks: 2048, block_len: 512 }));
    assert_eq!(Capacity::parse(&[0xff; 8]), None);
    assert_eq!(Capacity::parse(&[0; 7]), None);
}

/// Where the fake's Bulk-Only state machine stands.
enum Phase {
    Command,
    DataIn(Vec<u8>),
    DataOut(u32),
    Status(u32, u8),
}

/// A stick: a RAM disk behind Bulk-Only and the SCSI commands the driver sends.
struct FakeStick {
    disk: Vec<u8>,
    block_len: u32,
    phase: Phase,
    halted: bool,
    /// TEST UNIT READYs still to fail.
    not_ready: u32,
    /// Faults to inject on the next command: stall its data stage, mistag its status.
    stall_next_data: bool,
    mistag_next: bool,
    /// Never answers on bulk IN.
    silent: bool,
    refuses_sync: bool,
    opcodes: Vec<u8>,
    resets: u32,
    cleared: Vec<u8>,
    /// Protocol slips by the host: an IN token between status and command,
    /// a zero-length packet, a transfer not `Announced`.
    slips: Vec<&'static str>,
}

impl FakeStick {
    fn new(disk: Vec<u8>) -> Self {
        Self {
            disk,
            block_len: 512,
            phase: Phase::Command,
            halted: false,
            not_ready: 0,
            stall_next_data: false,
            mistag_next: false,
            silent: false,
            refuses_sync: false,
            opcodes: Vec::new(),
            resets: 0,
            cleared: Vec::new(),
            slips: Vec::new(),
        }
    }

    fn run(&mut self, cbw: &[u8]) -> Phase {
        let tag = le32(&cbw[4..8]);
        let cb = &cbw[15..15 + usize::from(cbw[14])];
        self.opcodes.push(cb[0]);
        let block = u32::from_be_bytes([cb.get(2).copied().unwrap_or(0), cb.get(3).copied().unwrap_or(0), cb.get(4).copied().unwrap_or(0), cb.get(5).copied().unwrap_or(0)]);
        let data = |bytes: Vec<u8>| Phase::DataIn(bytes);
        match cb[0] {
            0x00 if self.not_ready > 0 => {
                self.not_ready -= 1;
                Phase::Status(tag, 1)
            }
            0x03 => data(vec![0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0, 0, 0, 0, 0]),
            0x12 => data(vec![0; 36]),
            0x25 => {
                let last = (self.disk.len() as u32 / self.block_len) - 1;
                data([last.to_be_bytes(), self.block_len.to_be_bytes()].concat())
            }
            0x28 => {
                let (at, blocks) = (block as usize * 512, usize::from(u16::from_be_bytes([cb[7], cb[8]])));
                data(self.disk[at..at + 512 * blocks].to_vec())
            }
            0x2a => Phase::DataOut(block),
            0x35 if self.refuses_sync => Phase::Status(tag, 1),
            _ => Phase::Status(tag, 0),
        }
        .tagged(tag)
    }
}

impl Phase {
    /// Data stages carry no tag; the status after them does (kept apart below).
    fn tagged(self, tag: u32) -> Phase {
        match self {
            Phase::DataIn(mut bytes) => {
                bytes.extend(tag.to_le_bytes());
                Phase::DataIn(bytes)
            }
            Phase::DataOut(block) => Phase::DataOut(block << 8 | (tag & 0xff)),
            other => other,
        }
    }
}

impl BulkFunction for FakeStick {
    fn bulk_out(&mut self, _endpoint: u8, data: &[u8], delimiting: Delimiting) -> Result<(), UsbError> {
        if delimiting != Delimiting::Announced {
            self.slips.push("not announced");
            if data.len() % 64 == 0 {
                self.slips.push("zero-length packet");
                self.halted = true;
            }
        }
        if self.halted {
            return Err(UsbError::Stall);
        }
        match core::mem::replace(&mut self.phase, Phase::Command) {
            Phase::Command if data.len() == CBW_LEN && le32(&data[0..4]) == CBW_SIGNATURE => {
                self.phase = self.run(data);
                Ok(())
            }
            Phase::DataOut(block_tag) if data.len() == 512 => {
                let at = (block_tag >> 8) as usize * 512;
                self.disk[at..at + 512].copy_from_slice(data);
                self.phase = Phase::Status(block_tag & 0xff, 0);
                Ok(())
            }
            _ => {
                self.halted = true;
                Err(UsbError::Stall)
            }
        }
    }

    fn bulk_in(&mut self, _endpoint: u8, buf: &mut [u8], delimiting: Delimiting) -> Result<Option<usize>, UsbError> {
        if delimiting != Delimiting::Announced {
            self.slips.push("not announced");
        }
        if self.halted {
            return Err(UsbError::Stall);
        }
        if self.silent {
            return Ok(None);
        }
        match core::mem::replace(&mut self.phase, Phase::Command) {
            Phase::Command => {
                self.slips.push("IN token before a command");
                self.halted = true;
                Err(UsbError::Stall)
            }
            Phase::DataIn(mut bytes) => {
                let tag = le32(&bytes.split_off(bytes.len() - 4));
                if core::mem::take(&mut self.stall_next_data) {
                    self.halted = true;
                    self.phase = Phase::Status(tag, 1);
                    return Err(UsbError::Stall);
                }
                if buf.len() > bytes.len() && bytes.len() % 512 == 0 {
                    // No short packet ends this data stage: the transfer would run on into the status.
                    self.slips.push("asked past a data stage of whole packets");
                }
                let sent = bytes.len().min(buf.len());
                buf[..sent].copy_from_slice(&bytes[..sent]);
                self.phase = if sent < bytes.len() { Phase::DataIn([&bytes[sent..], &tag.to_le_bytes()[..]].concat()) } else { Phase::Status(tag, 0) };
                Ok(Some(sent))
            }
            Phase::DataOut(_) => {
                self.halted = true;
                Err(UsbError::Stall)
            }
            Phase::Status(tag, status) => {
                let tag = if core::mem::take(&mut self.mistag_next) { tag ^ 0x55 } else { tag };
                let mut csw = PASSED_CSW;
                csw[4..8].copy_from_slice(&tag.to_le_bytes());
                csw[12] = status;
                buf[..CSW_LEN].copy_from_slice(&csw);
                Ok(Some(CSW_LEN))
            }
        }
    }

    fn class_out(&mut self, request: u8, _value: u16, index: u16) -> Result<(), UsbError> {
        assert_eq!((request, index), (BULK_ONLY_RESET, 0));
        self.resets += 1;
        self.phase = Phase::Command;
        Ok(())
    }

    fn clear_halt(&mut self, endpoint: u8) -> Result<(), UsbError> {
        self.cleared.push(endpoint);
        self.halted = false;
        Ok(())
    }
}

/// A 1 MiB disk as `imgtool leaderboard-card` makes it: an MBR whose one
/// partition, type 0xda, is the last 256 blocks (from block 1792).
fn leaderboard_card() -> Vec<u8> {
    let mut disk = vec![0u8; 1 << 20];
    disk[446..462].copy_from_slice(&[0, 0, 0, 0, 0xda, 0, 0, 0, 0x00, 0x07, 0, 0, 0x00, 0x01, 0, 0]);
    disk[510..512].copy_from_slice(&[0x55, 0xaa]);
    disk
}

/// The stick plugged in and enumerated; the driver's pick of it.
fn plugged(stick: FakeStick) -> (Rc<RefCell<FakeStick>>, (Option<Partition<UsbStick>>, Vec<DeviceId>)) {
    let (bus, state) = fake_bus(2);
    let stick = Rc::new(RefCell::new(stick));
    let device = FakeDevice { device: USB_STORAGE_DEVICE.to_vec(), configurations: vec![USB_STORAGE_CONFIG.to_vec()], function: Some(stick.clone()), ..FakeDevice::default() };
    state.borrow_mut().plug(1, device);
    let bus = SharedBus::new(bus);
    let events = bus.poll();
    let found = find_leaderboard_stick(&bus, &events, fast_clock);
    (stick, found)
}

#[test]
fn a_stick_with_the_leaderboard_partition_is_used_inside_it_only() {
    let (stick, (area, looked_at)) = plugged(FakeStick::new(leaderboard_card()));
    let mut area = area.expect("the leaderboard's area");
    assert_eq!(looked_at.len(), 1);
    assert_eq!((area.first_block(), area.blocks(), area.persistent()), (1792, 256, true));
    area.write(0, &[0xab; BLOCK]).unwrap();
    area.write(255, &[0xcd; BLOCK]).unwrap();
    assert_eq!(area.write(256, &[0; BLOCK]), Err(StoreError));
    let mut back = [0u8; BLOCK];
    area.read(255, &mut back).unwrap();
    assert_eq!(back, [0xcd; BLOCK]);
    let stick = stick.borrow();
    assert!(stick.disk[1792 * 512..1793 * 512].iter().all(|&b| b == 0xab));
    assert!(stick.disk[2047 * 512..].iter().all(|&b| b == 0xcd));
    assert_eq!(stick.disk[..512], leaderboard_card()[..512], "the partition table is untouched");
    // INQUIRY, TEST UNIT READY, READ CAPACITY, the MBR; each write synchronized; the read after them asks the stick again.
    assert_eq!(stick.opcodes, [0x12, 0x00, 0x25, 0x28, 0x2a, 0x35, 0x2a, 0x35, 0x28]);
    assert_eq!((stick.slips.len(), stick.resets), (0, 0), "{:?}", stick.slips);
}

#[test]
fn a_stick_without_the_partition_is_not_used_and_never_written() {
    let (stick, (area, looked_at)) = plugged(FakeStick::new(vec![0; 1 << 20]));
    assert!(area.is_none());
    assert_eq!(looked_at.len(), 1, "looked at, so no other driver calls it driverless");
    assert!(!stick.borrow().opcodes.contains(&0x2a));
    assert!(stick.borrow().disk.iter().all(|&b| b == 0));
}

#[test]
fn a_stick_of_other_block_sizes_is_not_used() {
    let mut stick = FakeStick::new(leaderboard_card());
    stick.block_len = 4096;
    let (stick, (area, _)) = plugged(stick);
    assert!(area.is_none());
    assert_eq!(stick.borrow().opcodes, [0x12, 0x00, 0x25], "not even block 0 is read");
}

#[test]
fn a_stick_not_ready_at_first_is_asked_again_with_request_sense_between() {
    let mut stick = FakeStick::new(leaderboard_card());
    stick.not_ready = 3;
    let (stick, (area, _)) = plugged(stick);
    assert!(area.is_some());
    assert_eq!(stick.borrow().opcodes[..8], [0x12, 0x00, 0x03, 0x00, 0x03, 0x00, 0x03, 0x00]);
}

#[test]
fn a_stick_never_ready_is_given_up_after_a_bounded_number_of_tries() {
    let mut stick = FakeStick::new(leaderboard_card());
    stick.not_ready = u32::MAX;
    let (stick, (area, _)) = plugged(stick);
    assert!(area.is_none());
    let tries = stick.borrow().opcodes.iter().filter(|&&op| op == 0x00).count();
    assert_eq!(tries, READY_TRIES as usize);
}

#[test]
fn a_stall_in_the_data_stage_is_followed_by_reset_recovery_and_the_read_is_tried_again() {
    let (stick, (area, _)) = plugged(FakeStick::new(leaderboard_card()));
    let mut area = area.unwrap();
    stick.borrow_mut().disk[1800 * 512] = 0x42;
    stick.borrow_mut().stall_next_data = true;
    let mut back = [0u8; BLOCK];
    area.read(8, &mut back).unwrap();
    assert_eq!(back[0], 0x42);
    let stick = stick.borrow();
    assert_eq!((stick.resets, stick.cleared.as_slice()), (1, &[0x81, 0x02][..]));
    assert!(stick.slips.is_empty(), "{:?}", stick.slips);
}

#[test]
fn a_mistagged_status_is_a_phase_error_and_the_write_is_tried_again() {
    let (stick, (area, _)) = plugged(FakeStick::new(leaderboard_card()));
    let mut area = area.unwrap();
    stick.borrow_mut().mistag_next = true;
    area.write(3, &[9; BLOCK]).unwrap();
    let stick = stick.borrow();
    assert_eq!(stick.resets, 1);
    assert!(stick.disk[1795 * 512..1796 * 512].iter().all(|&b| b == 9));
}

#[test]
fn a_stick_that_stops_answering_fails_the_read_within_the_deadline() {
    let (stick, (area, _)) = plugged(FakeStick::new(leaderboard_card()));
    let mut area = area.unwrap();
    stick.borrow_mut().silent = true;
    let before = fast_clock();
    assert_eq!(area.read(0, &mut [0; BLOCK]), Err(StoreError));
    // Two tries, each a stage's deadline (and the reset recoveries between).
    assert!(fast_clock() - before <= 2 * STAGE_TIMEOUT_US + 100_000);
    assert_eq!(stick.borrow().resets, 2);
}

#[test]
fn a_stick_that_refuses_synchronize_cache_is_written_through_and_not_asked_again() {
    let mut stick = FakeStick::new(leaderboard_card());
    stick.refuses_sync = true;
    let (stick, (area, _)) = plugged(stick);
    let mut area = area.unwrap();
    area.write(0, &[1; BLOCK]).unwrap();
    area.write(1, &[2; BLOCK]).unwrap();
    let opcodes = stick.borrow().opcodes.clone();
    assert_eq!(opcodes[4..], [0x2a, 0x35, 0x03, 0x2a]);
}

#[test]
fn a_failing_stick_is_reported_not_used_and_the_bus_goes_on() {
    let mut stick = FakeStick::new(leaderboard_card());
    stick.silent = true;
    let (stick, (area, looked_at)) = plugged(stick);
    assert!(area.is_none());
    assert_eq!(looked_at.len(), 1);
    assert!(stick.borrow().resets >= 1);
}

#[test]
fn the_area_read_front_to_back_takes_a_read_of_eight_blocks_per_eight_and_ends_at_the_stick() {
    let mut card = leaderboard_card();
    for (block, bytes) in card[1792 * 512..].chunks_mut(512).enumerate() {
        bytes.fill(block as u8);
    }
    let (stick, (area, _)) = plugged(FakeStick::new(card));
    let mut area = area.unwrap();
    let mut back = [0u8; BLOCK];
    for block in 0..256 {
        area.read(block, &mut back).unwrap();
        assert!(back.iter().all(|&b| b == block as u8), "block {block}");
    }
    let stick = stick.borrow();
    let reads = stick.opcodes.iter().filter(|&&op| op == 0x28).count();
    assert_eq!(reads, 1 + 256 / 8, "the MBR's, then one per eight blocks");
    assert!(stick.slips.is_empty(), "{:?}", stick.slips);
}

#[test]
fn a_write_inside_the_blocks_read_ahead_is_read_back_from_the_stick() {
    let (stick, (area, _)) = plugged(FakeStick::new(leaderboard_card()));
    let mut area = area.unwrap();
    let mut back = [0u8; BLOCK];
    area.read(0, &mut back).unwrap();
    area.write(1, &[7; BLOCK]).unwrap();
    area.read(1, &mut back).unwrap();
    assert_eq!(back, [7; BLOCK], "the write let go of what was read ahead");
    assert_eq!(stick.borrow().opcodes[4..], [0x28, 0x2a, 0x35, 0x28]);
}

#[test]
fn a_read_ahead_near_the_end_asks_only_the_blocks_the_stick_has() {
    let (stick, (area, _)) = plugged(FakeStick::new(leaderboard_card()));
    let mut area = area.unwrap();
    area.read(253, &mut [0; BLOCK]).unwrap();
    area.read(255, &mut [0; BLOCK]).unwrap();
    let stick = stick.borrow();
    assert_eq!(stick.opcodes.iter().filter(|&&op| op == 0x28).count(), 2, "the MBR's and one of blocks 2045-2047");
    assert!(stick.slips.is_empty(), "{:?}", stick.slips);
}
