//! The USB stick driver against a hostile stick: the input is parsed
//! directly as a CSW and as READ CAPACITY data, then served, in pieces, as
//! every bulk IN transfer of a stick that enumerates as QEMU's usb-storage
//! (`[len u8][bytes]` each; a length of 254 is all the transfer asks, a
//! block or a read ahead's eight, 255 a poll that finds nothing yet). Nothing may panic or hang (the clock runs fast, so every deadline
//! passes), and no WRITE(10) may reach the stick outside the leaderboard
//! partition it reported, nor any before one was found.
#![no_main]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use kernel::devices::{BlockStore, BLOCK};
use kernel::usb::bus::UsbBus;
use kernel::usb::shared::SharedBus;
use kernel::usb::storage::{find_leaderboard_stick, Capacity, Csw, CBW_LEN};
use kernel::usb::{Data, Delimiting, HostController, Pipe, PortStatus, Setup, Speed, UsbError};
use libfuzzer_sys::fuzz_target;

/// QEMU's usb-storage: its device descriptor and its one configuration.
const DEVICE: [u8; 18] = [0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0xf4, 0x46, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x01];
const CONFIG: [u8; 32] = [
    0x09, 0x02, 0x20, 0x00, 0x01, 0x01, 0x04, 0xc0, 0x00, 0x09, 0x04, 0x00, 0x00, 0x02, 0x08, 0x06, 0x50, 0x00, 0x07, 0x05, 0x81, 0x02, 0x00,
    0x02, 0x00, 0x07, 0x05, 0x02, 0x02, 0x00, 0x02, 0x00,
];

fn fast_clock() -> u64 {
    static NOW: AtomicU64 = AtomicU64::new(0);
    NOW.fetch_add(50_000, Ordering::Relaxed)
}

/// What the host sent that the harness checks: the blocks of every WRITE(10).
#[derive(Default)]
struct Seen {
    writes: Vec<u32>,
}

struct HostileStick {
    input: Vec<u8>,
    at: usize,
    seen: Rc<RefCell<Seen>>,
}

impl HostController for HostileStick {
    fn port_count(&self) -> usize {
        1
    }
    fn port_status(&mut self, _port: usize) -> PortStatus {
        PortStatus { connected: true, changed: true }
    }
    fn reset_port(&mut self, _port: usize) -> Result<Speed, UsbError> {
        Ok(Speed::High)
    }
    fn control(&mut self, _pipe: Pipe, setup: &Setup, data: Data<'_>) -> Result<usize, UsbError> {
        let Data::In(buf) = data else { return Ok(0) };
        let answer: &[u8] = match (setup.request, setup.value >> 8) {
            (6, 1) => &DEVICE,
            (6, 2) => &CONFIG,
            _ => return Err(UsbError::Stall),
        };
        let len = answer.len().min(buf.len());
        buf[..len].copy_from_slice(&answer[..len]);
        Ok(len)
    }
    fn bulk_out(&mut self, _pipe: Pipe, data: &[u8], _delimiting: Delimiting) -> Result<(), UsbError> {
        if data.len() == CBW_LEN && data[..4] == *b"USBC" && data[15] == 0x2a {
            self.seen.borrow_mut().writes.push(u32::from_be_bytes([data[17], data[18], data[19], data[20]]));
        }
        Ok(())
    }
    fn bulk_in(&mut self, _pipe: Pipe, buf: &mut [u8], _delimiting: Delimiting) -> Result<Option<usize>, UsbError> {
        let (&len, rest) = self.input[self.at..].split_first().ok_or(UsbError::Stall)?;
        if len == 255 {
            self.at += 1;
            return Ok(None);
        }
        let len = if len == 254 { buf.len() } else { usize::from(len) };
        let answer = &rest[..len.min(rest.len()).min(buf.len())];
        buf[..answer.len()].copy_from_slice(answer);
        self.at += 1 + answer.len();
        Ok(Some(answer.len()))
    }
    fn release(&mut self, _device: u8) {}
    fn delay_ms(&mut self, _ms: u32) {}
    fn irq(&self) -> Option<u32> {
        None
    }
    fn acknowledge_interrupt(&mut self) {}
}

fuzz_target!(|input: &[u8]| {
    let _ = Csw::parse(input);
    if let Some(capacity) = Capacity::parse(input) {
        assert!(capacity.blocks > 0);
    }
    let seen = Rc::new(RefCell::new(Seen::default()));
    let host = HostileStick { input: input.to_vec(), at: 0, seen: seen.clone() };
    let bus = SharedBus::new(UsbBus::new(vec![Box::new(host) as Box<dyn HostController>]));
    let events = bus.poll();
    let (area, _) = find_leaderboard_stick(&bus, &events, fast_clock);
    assert!(seen.borrow().writes.is_empty(), "nothing is written before the partition is found");
    let Some(mut area) = area else { return };
    let (first, blocks) = (area.first_block(), area.blocks());
    let mut buf = [0u8; BLOCK];
    for block in [0, blocks - 1, blocks] {
        let _ = area.read(block, &mut buf);
        let _ = area.write(block, &[0x5a; BLOCK]);
    }
    assert!(seen.borrow().writes.iter().all(|&b| b >= first && b < first + blocks), "a write outside the partition");
});
