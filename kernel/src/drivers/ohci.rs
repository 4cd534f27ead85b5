//! OHCI (Open Host Controller Interface 1.0a) USB 1.1 host controller, as
//! the Allwinner H3 has beside each EHCI and QEMU models (`sysbus-ohci`),
//! behind `usb::HostController`: root-hub ports, control and bulk transfers.
//!
//! The controller walks lists of endpoint descriptors (EDs) in RAM, each
//! with a queue of transfer descriptors (TDs) ending in a dummy tail TD.
//! Here every endpoint gets a slot of its own: an ED, a ring of `TDS` TDs
//! and a `BUFFER` of data, in heap DMA memory. One control ED serves every
//! device (control transfers run one at a time); `BULK_SLOTS` bulk EDs sit
//! in the bulk list from the start, skipped until an endpoint takes one.
//! A transfer is queued by filling TDs from the current tail and moving the
//! ED's tail pointer last, and is complete when the controller has moved the
//! ED's head up to that tail; a halted ED gives the failing TD's code.
//! Interrupt and isochronous lists are not used (no class driver needs them).

use alloc::vec::Vec;

use super::dma::{DmaBlock, LINE};
use super::mmio::{delay_us, wait_until, Mmio};
use crate::usb::{Data, Delimiting, HostController, Pipe, PortStatus, Setup, Speed, UsbError};

const HC_REVISION: usize = 0x00;
const HC_CONTROL: usize = 0x04;
const HC_COMMAND_STATUS: usize = 0x08;
const HC_INTERRUPT_STATUS: usize = 0x0c;
const HC_INTERRUPT_ENABLE: usize = 0x10;
const HC_INTERRUPT_DISABLE: usize = 0x14;
const HC_HCCA: usize = 0x18;
const HC_CONTROL_HEAD_ED: usize = 0x20;
const HC_BULK_HEAD_ED: usize = 0x28;
const HC_FM_INTERVAL: usize = 0x34;
const HC_PERIODIC_START: usize = 0x40;
const HC_RH_DESCRIPTOR_A: usize = 0x48;
const HC_RH_STATUS: usize = 0x50;
const HC_RH_PORT_STATUS: usize = 0x54;

const CONTROL_CLE: u32 = 1 << 4;
const CONTROL_BLE: u32 = 1 << 5;
const CONTROL_OPERATIONAL: u32 = 0b10 << 6;
const COMMAND_HCR: u32 = 1 << 0;
const COMMAND_CLF: u32 = 1 << 1;
const COMMAND_BLF: u32 = 1 << 2;
const INTERRUPT_WDH: u32 = 1 << 1;
const INTERRUPT_RHSC: u32 = 1 << 6;
const INTERRUPT_MIE: u32 = 1 << 31;
/// 12000 bit times a frame, less 1; the largest packet fitting its rest.
const FM_INTERVAL: u32 = 11999 | (((11999 - 210) * 6 / 7) << 16);
/// Periodic lists start at 90 % of the frame.
const PERIODIC_START: u32 = 11999 * 9 / 10;
const RH_STATUS_LPSC: u32 = 1 << 16;
const PORT_CCS: u32 = 1 << 0;
const PORT_PES: u32 = 1 << 1;
const PORT_PRS: u32 = 1 << 4;
const PORT_PPS: u32 = 1 << 8;
const PORT_LSDA: u32 = 1 << 9;
const PORT_CSC: u32 = 1 << 16;
const PORT_PRSC: u32 = 1 << 20;
/// Every change bit of a port (write 1 to clear).
const PORT_CHANGES: u32 = 0x1f << 16;

/// ED dword 0: direction from the TD, OUT, IN; low speed; skip.
const ED_DIR_TD: u32 = 0b00 << 11;
const ED_DIR_OUT: u32 = 0b01 << 11;
const ED_DIR_IN: u32 = 0b10 << 11;
const ED_LOW_SPEED: u32 = 1 << 13;
const ED_SKIP: u32 = 1 << 14;
/// ED dword 2 (head pointer) flags: halted, toggle carry.
const ED_HALTED: u32 = 1 << 0;
const ED_POINTER: u32 = !0xf;
/// TD dword 0: buffer rounding (short packet is fine), PID, no interrupt, toggle, code.
const TD_ROUNDING: u32 = 1 << 18;
const TD_SETUP: u32 = 0b00 << 19;
const TD_OUT: u32 = 0b01 << 19;
const TD_IN: u32 = 0b10 << 19;
const TD_INTERRUPT_NOW: u32 = 0 << 21;
const TD_NO_INTERRUPT: u32 = 7 << 21;
const TD_DATA0: u32 = 0b10 << 24;
const TD_DATA1: u32 = 0b11 << 24;
const TD_TOGGLE_FROM_ED: u32 = 0b00 << 24;
const TD_NOT_ACCESSED: u32 = 0xf << 28;
/// Completion codes (OHCI 4.3.3): stall, device not responding.
const CC_STALL: u32 = 4;
const CC_NOT_RESPONDING: u32 = 5;

/// TDs in each endpoint's ring: a control transfer needs three and the tail.
const TDS: usize = 4;
/// Data bytes an endpoint's slot holds: the longest transfer a class driver
/// asks (an RT5370's receive transfer, a stick's read ahead). It crosses at
/// most one page boundary, as one TD may.
const BUFFER: usize = 4096;
/// Bulk endpoints open at once, over all devices on this controller.
const BULK_SLOTS: usize = 8;
/// Bytes of one slot: its ED, its TDs (a cache line each) and its buffer.
const SLOT: usize = LINE * (1 + TDS) + BUFFER;
/// The HCCA: 256 bytes on a 256-byte boundary, found inside the first 512.
const HCCA_AREA: usize = 512;

/// Deadlines: a control transfer, a bulk OUT transfer, a port reset.
/// A control transfer gets a second: the RT5370's firmware start request
/// takes that long (`rt2800::Rt2800Bus::vendor_out`, as Linux allows).
const CONTROL_TIMEOUT_US: u64 = 1_000_000;
const BULK_OUT_TIMEOUT_US: u64 = 100_000;
const RESET_TIMEOUT_US: u64 = 50_000;

/// One endpoint's ED, TD ring and buffer.
struct Slot {
    /// Offset of the slot in the DMA block.
    offset: usize,
    /// The endpoint it serves (bulk slots: `None` while free).
    pipe: Option<Pipe>,
    /// The ring index of the current tail (dummy) TD.
    tail: usize,
    /// A bulk IN transfer is queued and not yet collected.
    in_flight: bool,
}

impl Slot {
    fn ed(&self) -> usize {
        self.offset
    }
    fn td(&self, index: usize) -> usize {
        self.offset + LINE * (1 + index % TDS)
    }
    fn buffer(&self) -> usize {
        self.offset + LINE * (1 + TDS)
    }
}

/// The controller's registers and its DMA memory: what queueing and
/// collecting transfers touch, apart from the slots themselves.
struct Lists {
    regs: Mmio,
    dma: DmaBlock,
}

/// An OHCI controller and its root hub.
pub struct Ohci {
    lists: Lists,
    irq: u32,
    ports: usize,
    control: Slot,
    bulk: Vec<Slot>,
}

/// Why a controller did not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OhciError {
    /// The revision register does not say OHCI 1.0 (nothing there, or another block).
    NotOhci(u32),
    /// The software reset did not finish.
    ResetTimeout,
}

impl Ohci {
    /// Resets the controller at `regs` (interrupt `irq`), sets up its lists
    /// and powers its ports. Its clocks and resets must be open.
    pub fn new(regs: Mmio, irq: u32) -> Result<Self, OhciError> {
        let revision = regs.read(HC_REVISION);
        if revision & 0xff != 0x10 {
            return Err(OhciError::NotOhci(revision));
        }
        regs.write(HC_COMMAND_STATUS, COMMAND_HCR);
        wait_until(|| regs.read(HC_COMMAND_STATUS) & COMMAND_HCR == 0, 10_000).ok_or(OhciError::ResetTimeout)?;
        let dma = DmaBlock::new(HCCA_AREA + SLOT * (1 + BULK_SLOTS));
        let slot = |index: usize| Slot { offset: HCCA_AREA + SLOT * index, pipe: None, tail: 0, in_flight: false };
        let (control, bulk): (Slot, Vec<Slot>) = (slot(0), (1..=BULK_SLOTS).map(slot).collect());
        // Every ED starts skipped and empty (head = tail = its first TD);
        // the bulk EDs are chained once and for all.
        let chain = core::iter::once((&control, None)).chain(bulk.iter().enumerate().map(|(i, s)| (s, bulk.get(i + 1))));
        for (slot, next) in chain {
            dma.write_word(slot.ed(), ED_SKIP);
            dma.write_word(slot.ed() + 4, dma.addr(slot.td(0)) as u32);
            dma.write_word(slot.ed() + 8, dma.addr(slot.td(0)) as u32);
            dma.write_word(slot.ed() + 12, next.map_or(0, |next| dma.addr(next.ed()) as u32));
        }
        dma.clean(0, HCCA_AREA + SLOT * (1 + BULK_SLOTS));
        regs.write(HC_HCCA, dma.addr(0).next_multiple_of(256) as u32);
        regs.write(HC_CONTROL_HEAD_ED, dma.addr(control.ed()) as u32);
        regs.write(HC_BULK_HEAD_ED, dma.addr(bulk[0].ed()) as u32);
        regs.write(HC_FM_INTERVAL, FM_INTERVAL);
        regs.write(HC_PERIODIC_START, PERIODIC_START);
        regs.write(HC_INTERRUPT_DISABLE, u32::MAX);
        regs.write(HC_INTERRUPT_STATUS, u32::MAX);
        regs.write(HC_INTERRUPT_ENABLE, INTERRUPT_MIE | INTERRUPT_WDH | INTERRUPT_RHSC);
        regs.write(HC_CONTROL, CONTROL_OPERATIONAL | CONTROL_CLE | CONTROL_BLE);
        regs.write(HC_RH_STATUS, RH_STATUS_LPSC);
        let ports = (regs.read(HC_RH_DESCRIPTOR_A) & 0xff) as usize;
        for port in 0..ports {
            regs.write(HC_RH_PORT_STATUS + 4 * port, PORT_PPS);
        }
        // Power-on to power-good, in 2 ms units (root hub descriptor A bits 24-31).
        delay_us(u64::from(regs.read(HC_RH_DESCRIPTOR_A) >> 24) * 2_000);
        Ok(Self { lists: Lists { regs, dma }, irq, ports, control, bulk })
    }

    /// The base address, for logs.
    pub fn address(&self) -> usize {
        self.lists.regs.address()
    }

    /// The bulk slot of `pipe`, taking a free one on first use.
    fn bulk_slot(&mut self, pipe: Pipe) -> Result<usize, UsbError> {
        let (index, fresh) = pipe.bulk_slot(self.bulk.iter().map(|s| s.pipe))?;
        if !fresh {
            return Ok(index);
        }
        let direction = if pipe.endpoint & 0x80 != 0 { ED_DIR_IN } else { ED_DIR_OUT };
        let (dma, slot) = (&self.lists.dma, &mut self.bulk[index]);
        slot.pipe = Some(pipe);
        slot.in_flight = false;
        // Head = tail (empty, toggle DATA0), then the flags without skip.
        dma.write_word(slot.ed() + 8, dma.addr(slot.td(slot.tail)) as u32);
        dma.write_word(slot.ed(), ed_flags(pipe, direction));
        dma.clean(slot.ed(), 16);
        Ok(index)
    }
}

fn ed_flags(pipe: Pipe, direction: u32) -> u32 {
    let low = if pipe.speed == Speed::Low { ED_LOW_SPEED } else { 0 };
    u32::from(pipe.device & 0x7f) | (u32::from(pipe.endpoint & 0xf) << 7) | direction | low | (u32::from(pipe.max_packet & 0x7ff) << 16)
}

impl Lists {
    /// Writes TD `index` of `slot`: `flags`, `len` bytes at `buffer` (an
    /// offset in the DMA block), the next TD in the ring.
    fn write_td(&self, slot: &Slot, index: usize, flags: u32, buffer: usize, len: usize) {
        let td = slot.td(index);
        let (start, end) = if len == 0 { (0, 0) } else { (self.dma.addr(buffer) as u32, (self.dma.addr(buffer) + len - 1) as u32) };
        self.dma.write_word(td, flags | TD_NOT_ACCESSED);
        self.dma.write_word(td + 4, start);
        self.dma.write_word(td + 8, self.dma.addr(slot.td(index + 1)) as u32);
        self.dma.write_word(td + 12, end);
        self.dma.clean(td, 16);
    }

    /// Hands `count` TDs written from the slot's tail to the controller by
    /// moving the ED's tail past them, and says the list has work.
    fn submit(&self, slot: &mut Slot, count: usize, list_filled: u32) {
        slot.tail = (slot.tail + count) % TDS;
        self.dma.write_word(slot.ed() + 4, self.dma.addr(slot.td(slot.tail)) as u32);
        self.dma.clean(slot.ed(), 16);
        self.regs.write(HC_COMMAND_STATUS, list_filled);
    }

    /// Where the slot's queue stands: `None` while TDs are pending, else
    /// `Ok` or the failing TD's completion code as an error.
    fn progress(&self, slot: &Slot) -> Option<Result<(), UsbError>> {
        self.dma.invalidate(slot.ed(), 16);
        let head = self.dma.read_word(slot.ed() + 8);
        if head & ED_HALTED != 0 {
            let failed = ((head & ED_POINTER) as usize).wrapping_sub(self.dma.addr(0));
            let code = match (0..TDS).map(|i| slot.td(i)).find(|&td| td == failed) {
                Some(td) => {
                    self.dma.invalidate(td, 16);
                    self.dma.read_word(td) >> 28
                }
                None => 0xf,
            };
            return Some(Err(match code {
                CC_STALL => UsbError::Stall,
                CC_NOT_RESPONDING => UsbError::NoDevice,
                code => UsbError::Transfer(code as u8),
            }));
        }
        ((head & ED_POINTER) as usize == self.dma.addr(slot.td(slot.tail))).then_some(Ok(()))
    }

    /// Empties a slot's queue after a halt or a timeout: skipped for a frame
    /// so the controller lets go of it, head moved to the tail (toggle back
    /// to DATA0), unskipped.
    fn flush(&self, slot: &Slot) {
        let flags = self.dma.read_word(slot.ed());
        self.dma.write_word(slot.ed(), flags | ED_SKIP);
        self.dma.clean(slot.ed(), 16);
        delay_us(1_100);
        self.dma.write_word(slot.ed() + 8, self.dma.addr(slot.td(slot.tail)) as u32);
        self.dma.write_word(slot.ed(), flags);
        self.dma.clean(slot.ed(), 16);
    }

    /// Waits for a slot's queue to drain, flushing it on error or timeout.
    fn wait(&self, slot: &Slot, timeout_us: u64) -> Result<(), UsbError> {
        let outcome = core::cell::Cell::new(None);
        let finished = wait_until(
            || {
                outcome.set(self.progress(slot));
                outcome.get().is_some()
            },
            timeout_us,
        );
        let result = match (finished, outcome.get()) {
            (Some(()), Some(result)) => result,
            _ => Err(UsbError::Timeout),
        };
        if result.is_err() {
            self.flush(slot);
        }
        result
    }

    /// Bytes a completed TD moved, from where its buffer pointer stopped.
    fn transferred(&self, slot: &Slot, index: usize, buffer: usize, len: usize) -> usize {
        let td = slot.td(index);
        self.dma.invalidate(td, 16);
        match self.dma.read_word(td + 4) {
            0 => len,
            stopped => (stopped as usize).wrapping_sub(self.dma.addr(buffer)).min(len),
        }
    }

    /// Queues one bulk IN transfer of `len` bytes into the slot's buffer,
    /// interrupting when it completes (so a received frame ends WFI).
    fn queue_in(&self, slot: &mut Slot, len: usize) {
        self.write_td(slot, slot.tail, TD_IN | TD_ROUNDING | TD_INTERRUPT_NOW | TD_TOGGLE_FROM_ED, slot.buffer(), len);
        self.submit(slot, 1, COMMAND_BLF);
        slot.in_flight = true;
    }
}

impl HostController for Ohci {
    fn port_count(&self) -> usize {
        self.ports
    }

    fn port_status(&mut self, port: usize) -> PortStatus {
        let (regs, reg) = (self.lists.regs, HC_RH_PORT_STATUS + 4 * port);
        let status = regs.read(reg);
        if status & PORT_CHANGES != 0 {
            regs.write(reg, status & PORT_CHANGES);
        }
        PortStatus { connected: status & PORT_CCS != 0, changed: status & PORT_CSC != 0 }
    }

    fn reset_port(&mut self, port: usize) -> Result<Speed, UsbError> {
        let (regs, reg) = (self.lists.regs, HC_RH_PORT_STATUS + 4 * port);
        regs.write(reg, PORT_PRS);
        wait_until(|| regs.read(reg) & PORT_PRSC != 0, RESET_TIMEOUT_US).ok_or(UsbError::Timeout)?;
        regs.write(reg, PORT_PRSC);
        let status = regs.read(reg);
        if status & PORT_CCS == 0 || status & PORT_PES == 0 {
            return Err(UsbError::NoDevice);
        }
        Ok(if status & PORT_LSDA != 0 { Speed::Low } else { Speed::Full })
    }

    fn control(&mut self, pipe: Pipe, setup: &Setup, data: Data<'_>) -> Result<usize, UsbError> {
        let len = match &data {
            Data::None => 0,
            Data::In(buf) => buf.len(),
            Data::Out(bytes) => bytes.len(),
        };
        if len > BUFFER - 8 || len != usize::from(setup.length) {
            return Err(UsbError::Invalid);
        }
        let (lists, slot) = (&self.lists, &mut self.control);
        let dma = &lists.dma;
        dma.write_word(slot.ed(), ed_flags(pipe, ED_DIR_TD));
        dma.clean(slot.ed(), 16);
        let (setup_at, data_at) = (slot.buffer(), slot.buffer() + 8);
        dma.write_bytes(setup_at, &setup.to_bytes());
        if let Data::Out(bytes) = &data {
            dma.write_bytes(data_at, bytes);
        }
        dma.clean(setup_at, 8 + len);
        let first = slot.tail;
        lists.write_td(slot, first, TD_SETUP | TD_NO_INTERRUPT | TD_DATA0, setup_at, 8);
        let mut count = 1;
        if len > 0 {
            let pid = if setup.is_in() { TD_IN | TD_ROUNDING } else { TD_OUT };
            lists.write_td(slot, first + 1, pid | TD_NO_INTERRUPT | TD_DATA1, data_at, len);
            count += 1;
        }
        // The status stage runs the other way, always DATA1.
        let status_pid = if setup.is_in() && len > 0 { TD_OUT } else { TD_IN };
        lists.write_td(slot, first + count, status_pid | TD_NO_INTERRUPT | TD_DATA1, 0, 0);
        count += 1;
        lists.submit(slot, count, COMMAND_CLF);
        lists.wait(slot, CONTROL_TIMEOUT_US)?;
        let moved = if len > 0 { lists.transferred(slot, first + 1, data_at, len) } else { 0 };
        if let Data::In(buf) = data {
            dma.invalidate(data_at, moved);
            dma.read_bytes(data_at, &mut buf[..moved]);
        }
        Ok(moved)
    }

    fn bulk_out(&mut self, pipe: Pipe, data: &[u8], delimiting: Delimiting) -> Result<(), UsbError> {
        if data.len() > BUFFER {
            return Err(UsbError::Invalid);
        }
        let index = self.bulk_slot(pipe)?;
        let (lists, slot) = (&self.lists, &mut self.bulk[index]);
        lists.dma.write_bytes(slot.buffer(), data);
        lists.dma.clean(slot.buffer(), data.len());
        let first = slot.tail;
        lists.write_td(slot, first, TD_OUT | TD_NO_INTERRUPT | TD_TOGGLE_FROM_ED, slot.buffer(), data.len());
        let mut count = 1;
        if delimiting == Delimiting::ShortPacket && !data.is_empty() && data.len() % usize::from(pipe.max_packet.max(1)) == 0 {
            lists.write_td(slot, first + 1, TD_OUT | TD_NO_INTERRUPT | TD_TOGGLE_FROM_ED, 0, 0);
            count += 1;
        }
        lists.submit(slot, count, COMMAND_BLF);
        lists.wait(slot, BULK_OUT_TIMEOUT_US)
    }

    fn bulk_in(&mut self, pipe: Pipe, buf: &mut [u8], delimiting: Delimiting) -> Result<Option<usize>, UsbError> {
        let len = buf.len().min(BUFFER);
        let index = self.bulk_slot(pipe)?;
        let (lists, slot) = (&self.lists, &mut self.bulk[index]);
        if !slot.in_flight {
            lists.queue_in(slot, len);
            return Ok(None);
        }
        match lists.progress(slot) {
            None => Ok(None),
            Some(Err(error)) => {
                lists.flush(slot);
                slot.in_flight = false;
                Err(error)
            }
            Some(Ok(())) => {
                let done = (slot.tail + TDS - 1) % TDS;
                let moved = lists.transferred(slot, done, slot.buffer(), len);
                lists.dma.invalidate(slot.buffer(), moved);
                lists.dma.read_bytes(slot.buffer(), &mut buf[..moved]);
                match delimiting {
                    Delimiting::ShortPacket => lists.queue_in(slot, len),
                    Delimiting::Announced => slot.in_flight = false,
                }
                Ok(Some(moved))
            }
        }
    }

    fn release(&mut self, device: u8) {
        let lists = &self.lists;
        for slot in self.bulk.iter_mut().filter(|s| s.pipe.is_some_and(|p| p.device == device)) {
            lists.flush(slot);
            let flags = lists.dma.read_word(slot.ed());
            lists.dma.write_word(slot.ed(), flags | ED_SKIP);
            lists.dma.clean(slot.ed(), 16);
            slot.pipe = None;
            slot.in_flight = false;
        }
    }

    fn delay_ms(&mut self, ms: u32) {
        delay_us(u64::from(ms) * 1_000);
    }

    fn irq(&self) -> Option<u32> {
        Some(self.irq)
    }

    fn acknowledge_interrupt(&mut self) {
        let status = self.lists.regs.read(HC_INTERRUPT_STATUS);
        self.lists.regs.write(HC_INTERRUPT_STATUS, status);
    }
}
