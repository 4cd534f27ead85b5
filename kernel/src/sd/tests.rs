//! The SD protocol against a card model that follows the spec's state
//! machine for the commands `SdCard` sends.

use alloc::vec;
use alloc::vec::Vec;
use std::cell::Cell;

use super::*;

thread_local! {
    static NOW_US: Cell<u64> = const { Cell::new(0) };
}

/// A clock that moves 1 ms each time it is read, so deadlines pass.
fn fake_clock() -> u64 {
    NOW_US.with(|now| {
        now.set(now.get() + 1_000);
        now.get()
    })
}

/// The CSD QEMU's SD card model gives a 16 MiB card (hw/sd/sd.c, version 1:
/// C_SIZE 63, C_SIZE_MULT 7, READ_BL_LEN 9), as the four response words.
const QEMU_16MIB_CSD: [u32; 4] = words([0x00, 0x26, 0x00, 0x32, 0x5f, 0x59, 0xe0, 0x0f, 0xff, 0xff, 0xc2, 0x80, 0x00, 0x00, 0x00, 0x01]);
/// A version 2 CSD of an 8 GiB SDHC card (C_SIZE 16383).
const SDHC_8GIB_CSD: [u32; 4] = words([0x40, 0x0e, 0x00, 0x32, 0x5b, 0x59, 0x00, 0x00, 0x3f, 0xff, 0x7f, 0x80, 0x0a, 0x40, 0x00, 0x01]);

/// Response words from the 16 bytes of a long response, most significant first.
const fn words(bytes: [u8; 16]) -> [u32; 4] {
    const fn word(bytes: &[u8; 16], at: usize) -> u32 {
        u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
    }
    [word(&bytes, 12), word(&bytes, 8), word(&bytes, 4), word(&bytes, 0)]
}

struct FakeCard {
    present: bool,
    version2: bool,
    high_capacity: bool,
    busy_polls: u32,
    programming_polls: u32,
    stuck_programming: bool,
    echo: u32,
    app_cmd: bool,
    state: u32,
    blocks: Vec<[u8; BLOCK]>,
    sent: Vec<(u8, u32)>,
    clocks: Vec<u32>,
    failing_block: Option<u32>,
}

const RCA: u32 = 0x4567;

impl FakeCard {
    fn new(version2: bool, high_capacity: bool) -> Self {
        FakeCard {
            present: true,
            version2,
            high_capacity,
            busy_polls: 0,
            programming_polls: 0,
            stuck_programming: false,
            echo: CHECK_PATTERN,
            app_cmd: false,
            state: 0,
            blocks: vec![[0; BLOCK]; 64],
            sent: Vec::new(),
            clocks: Vec::new(),
            failing_block: None,
        }
    }

    fn status(&self) -> u32 {
        (self.state << 9) | READY_FOR_DATA | if self.app_cmd { 1 << 5 } else { 0 }
    }

    fn block_at(&self, arg: u32) -> Result<usize, u32> {
        let block = if self.high_capacity { arg } else if arg % BLOCK as u32 == 0 { arg / BLOCK as u32 } else { return Err(1 << 30) };
        if (block as usize) < self.blocks.len() && Some(block) != self.failing_block { Ok(block as usize) } else { Err(1 << 31) }
    }

    fn csd(&self) -> [u32; 4] {
        if self.high_capacity { SDHC_8GIB_CSD } else { QEMU_16MIB_CSD }
    }
}

impl SdHost for &mut FakeCard {
    fn set_clock(&mut self, hz: u32) -> Result<(), HostError> {
        self.clocks.push(hz);
        Ok(())
    }

    fn command(&mut self, command: Command, data: Transfer<'_>) -> Result<[u32; 4], HostError> {
        self.sent.push((command.index, command.arg));
        if !self.present {
            return Err(HostError::NoResponse);
        }
        let app_cmd = core::mem::replace(&mut self.app_cmd, false);
        let short = |word: u32| Ok([word, 0, 0, 0]);
        match (command.index, app_cmd) {
            (0, _) => {
                self.state = 0;
                short(0)
            }
            (8, _) if self.version2 => short(self.echo),
            (55, _) => {
                self.app_cmd = true;
                short(self.status())
            }
            (41, true) if self.busy_polls > 0 => {
                self.busy_polls -= 1;
                short(OCR_VOLTAGES)
            }
            (41, true) => {
                self.state = 1;
                let capacity = if self.high_capacity && command.arg & OCR_HIGH_CAPACITY != 0 { OCR_HIGH_CAPACITY } else { 0 };
                short(OCR_POWERED_UP | OCR_VOLTAGES | capacity)
            }
            (2, _) => Ok(words(*b"\x03SDSD08G\x80\x12\x34\x56\x78\x01\x4f\x01")),
            (3, _) => {
                self.state = 3;
                short(RCA << 16)
            }
            (9, _) if command.arg == RCA << 16 => Ok(self.csd()),
            (7, _) if command.arg == RCA << 16 => {
                self.state = STATE_TRANSFER;
                short(self.status())
            }
            (16, _) if !self.high_capacity && command.arg == BLOCK as u32 => short(self.status()),
            (17, _) => match (self.block_at(command.arg), data) {
                (Ok(block), Transfer::Read(buf)) => {
                    buf.copy_from_slice(&self.blocks[block]);
                    short(self.status())
                }
                (Err(error), _) => short(self.status() | error),
                _ => Err(HostError::Timeout),
            },
            (24, _) => match (self.block_at(command.arg), data) {
                (Ok(block), Transfer::Write(bytes)) => {
                    self.blocks[block] = *bytes;
                    let status = self.status();
                    self.state = 7;
                    short(status)
                }
                (Err(error), _) => short(self.status() | error),
                _ => Err(HostError::Timeout),
            },
            (13, _) if command.arg == RCA << 16 => {
                if self.state == 7 && !self.stuck_programming {
                    if self.programming_polls == 0 {
                        self.state = STATE_TRANSFER;
                    } else {
                        self.programming_polls -= 1;
                    }
                }
                let ready = if self.state == 7 { 0 } else { READY_FOR_DATA };
                short((self.state << 9) | ready)
            }
            _ => Err(HostError::NoResponse),
        }
    }
}

fn count(card: &FakeCard, index: u8) -> usize {
    card.sent.iter().filter(|(sent, _)| *sent == index).count()
}

#[test]
fn an_sdhc_card_is_identified_and_addressed_by_block() {
    let mut model = FakeCard::new(true, true);
    {
        let mut card = SdCard::identify(&mut model, fake_clock).unwrap();
        assert!(card.high_capacity());
        assert_eq!(card.blocks(), 16 * 1024 * 1024);
        assert_eq!(card.name(), "SD08G");
        card.write(5, &[0xa5; BLOCK]).unwrap();
        let mut back = [0; BLOCK];
        card.read(5, &mut back).unwrap();
        assert_eq!(back, [0xa5; BLOCK]);
    }
    let order: Vec<u8> = model.sent.iter().map(|(index, _)| *index).collect();
    assert_eq!(order, [0, 8, 55, 41, 2, 3, 9, 7, 24, 13, 17]);
    assert!(model.sent.contains(&(41, OCR_VOLTAGES | OCR_HIGH_CAPACITY)));
    assert!(model.sent.contains(&(17, 5)));
    assert_eq!(model.clocks, [IDENTIFY_CLOCK_HZ, DATA_CLOCK_HZ]);
}

#[test]
fn a_version_1_card_gets_byte_addresses_and_a_block_length() {
    let mut model = FakeCard::new(false, false);
    {
        let mut card = SdCard::identify(&mut model, fake_clock).unwrap();
        assert!(!card.high_capacity());
        assert_eq!(card.blocks(), 32 * 1024);
        card.write(3, &[1; BLOCK]).unwrap();
    }
    assert!(model.sent.contains(&(41, OCR_VOLTAGES)), "no HCS to a card that did not answer CMD8");
    assert!(model.sent.contains(&(16, 512)));
    assert!(model.sent.contains(&(24, 3 * 512)));
    assert_eq!(model.blocks[3], [1; BLOCK]);
}

#[test]
fn power_up_is_polled_until_the_card_is_ready() {
    let mut model = FakeCard::new(true, false);
    model.busy_polls = 3;
    SdCard::identify(&mut model, fake_clock).unwrap();
    assert_eq!(count(&model, 41), 4);
    assert_eq!(count(&model, 55), 4);
}

#[test]
fn a_card_that_never_powers_up_is_given_up_on() {
    let mut model = FakeCard::new(true, true);
    model.busy_polls = u32::MAX;
    assert_eq!(SdCard::identify(&mut model, fake_clock).err(), Some(CardError::PowerUpTimeout));
    assert!(count(&model, 41) < 2_000, "bounded by the deadline, not by the card");
}

#[test]
fn no_card_and_a_wrong_echo_are_reported() {
    let mut empty = FakeCard::new(true, true);
    empty.present = false;
    assert_eq!(SdCard::identify(&mut empty, fake_clock).err(), Some(CardError::Host(0, HostError::NoResponse)));
    let mut confused = FakeCard::new(true, true);
    confused.echo = 0x1ab;
    assert_eq!(SdCard::identify(&mut confused, fake_clock).err(), Some(CardError::BadEcho(0x1ab)));
}

#[test]
fn a_write_returns_only_once_the_card_has_programmed_it() {
    let mut model = FakeCard::new(true, true);
    model.programming_polls = 3;
    SdCard::identify(&mut model, fake_clock).unwrap().write(1, &[2; BLOCK]).unwrap();
    assert_eq!(count(&model, 13), 4);

    let mut stuck = FakeCard::new(true, true);
    stuck.stuck_programming = true;
    assert_eq!(SdCard::identify(&mut stuck, fake_clock).unwrap().write(1, &[2; BLOCK]), Err(StoreError));
}

#[test]
fn error_bits_and_blocks_past_the_end_fail_the_transfer() {
    let mut model = FakeCard::new(false, false);
    model.failing_block = Some(9);
    let mut card = SdCard::identify(&mut model, fake_clock).unwrap();
    assert_eq!(card.read(9, &mut [0; BLOCK]), Err(StoreError));
    assert_eq!(card.write(9, &[0; BLOCK]), Err(StoreError));
    let sent = card.host.sent.len();
    assert_eq!(card.read(32 * 1024, &mut [0; BLOCK]), Err(StoreError));
    assert_eq!(card.host.sent.len(), sent, "past the capacity: nothing is sent");
}

#[test]
fn csd_capacity_of_both_versions() {
    assert_eq!(csd_blocks(QEMU_16MIB_CSD), Ok(32 * 1024));
    assert_eq!(csd_blocks(SDHC_8GIB_CSD), Ok(16 * 1024 * 1024));
    let mut version3 = SDHC_8GIB_CSD;
    version3[3] |= 0x8000_0000;
    assert_eq!(csd_blocks(version3), Err(CardError::UnknownCsd(3)));
    assert_eq!(csd_blocks([u32::MAX; 4]), Err(CardError::UnknownCsd(3)));
    let mut largest = [0; 4];
    largest[3] = 0x4000_0000;
    largest[2] = 0x0000_003f;
    largest[1] = 0xffff_0000;
    assert_eq!(csd_blocks(largest), Ok(u32::MAX), "a 2 TiB SDXC saturates rather than wraps");
}

#[test]
fn cid_names_keep_only_printable_bytes() {
    assert_eq!(&cid_name(words(*b"\x03SDSD08G\x80\x12\x34\x56\x78\x01\x4f\x01")), b"SD08G");
    assert_eq!(&cid_name(words([0, 0, 0, b'A', 0, b'<', 0xff, b' ', 0, 0, 0, 0, 0, 0, 0, 0])), b"A?<??");
}
