//! EHCI (Enhanced Host Controller Interface 1.0) USB 2.0 host controller,
//! as the Allwinner H3 has on each host port and QEMU models
//! (`aw-h3-ehci-usb`), behind `usb::HostController`: high-speed devices,
//! control and bulk transfers on the asynchronous schedule.
//!
//! The asynchronous schedule is a ring of queue heads (QHs) in RAM: one for
//! control transfers (every device's endpoint 0, one transfer at a time,
//! the ring's head) and `BULK_SLOTS` for bulk endpoints, all in the ring from
//! the start; an idle QH (no active qTD in its overlay, next pointer
//! terminated) is passed over. A transfer is a chain of qTDs hung on its QH's
//! overlay; it is complete when the last one is no longer active, and failed
//! when one is halted. A full- or low-speed device found on a port is handed
//! to the port's companion (the OHCI beside it, `drivers::ohci`). Split
//! transactions through hubs, interrupt and isochronous transfers are not
//! used.

use alloc::vec::Vec;

use super::dma::{DmaBlock, LINE};
use super::mmio::{delay_us, wait_until, Mmio};
use crate::usb::{Data, Delimiting, HostController, Pipe, PortStatus, Setup, Speed, UsbError};

/// Capability registers: their length (the operational registers follow), structure parameters.
const CAPLENGTH: usize = 0x00;
const HCSPARAMS: usize = 0x04;
/// Operational registers, from CAPLENGTH.
const USBCMD: usize = 0x00;
const USBSTS: usize = 0x04;
const USBINTR: usize = 0x08;
const CTRLDSSEGMENT: usize = 0x10;
const ASYNCLISTADDR: usize = 0x18;
const CONFIGFLAG: usize = 0x40;
const PORTSC: usize = 0x44;

const CMD_RUN: u32 = 1 << 0;
const CMD_RESET: u32 = 1 << 1;
const CMD_ASYNC_ENABLE: u32 = 1 << 5;
/// Interrupt threshold: 8 microframes (1 ms).
const CMD_ITC_8: u32 = 8 << 16;
const STS_HALTED: u32 = 1 << 12;
/// USBINT, USBERRINT, port change: also the write-1-to-clear bits of USBSTS that matter here.
const INTR_TRANSFER_AND_PORTS: u32 = 0b111;
const STS_CLEAR: u32 = 0x3f;
const PORT_CCS: u32 = 1 << 0;
const PORT_CSC: u32 = 1 << 1;
const PORT_PE: u32 = 1 << 2;
const PORT_PEC: u32 = 1 << 3;
const PORT_OCC: u32 = 1 << 5;
const PORT_RESET: u32 = 1 << 8;
const PORT_POWER: u32 = 1 << 12;
const PORT_OWNER: u32 = 1 << 13;
/// Bits of PORTSC that a write of 1 clears: kept 0 in read-modify-writes.
const PORT_W1C: u32 = PORT_CSC | PORT_PEC | PORT_OCC;

/// Link pointer: terminate bit, QH type.
const TERMINATE: u32 = 1;
const TYPE_QH: u32 = 0b01 << 1;
/// QH endpoint characteristics: high speed, toggle from the qTD, head of the ring.
const QH_HIGH_SPEED: u32 = 0b10 << 12;
const QH_TOGGLE_FROM_QTD: u32 = 1 << 14;
const QH_HEAD: u32 = 1 << 15;
/// QH capabilities: one transaction per microframe.
const QH_MULT_1: u32 = 1 << 30;
/// QH offsets: link, characteristics, capabilities, current, overlay (next, alternate, token, buffers).
const QH_LINK: usize = 0;
const QH_CHARACTERISTICS: usize = 4;
const QH_CAPABILITIES: usize = 8;
const QH_NEXT: usize = 16;
const QH_ALTERNATE: usize = 20;
const QH_TOKEN: usize = 24;
/// qTD token: status (active, halted, buffer error, babble, transaction error), PID, error counter, interrupt, toggle.
const TOKEN_ACTIVE: u32 = 1 << 7;
const TOKEN_HALTED: u32 = 1 << 6;
const TOKEN_XACT_ERROR: u32 = 1 << 3;
const PID_OUT: u32 = 0 << 8;
const PID_IN: u32 = 1 << 8;
const PID_SETUP: u32 = 2 << 8;
const TOKEN_CERR_3: u32 = 3 << 10;
const TOKEN_IOC: u32 = 1 << 15;
const TOKEN_DATA1: u32 = 1 << 31;

/// qTDs in each slot: a control transfer needs three.
const TDS: usize = 3;
/// Data bytes an endpoint's slot holds: the longest transfer a class driver
/// asks (an RT5370's receive transfer, a stick's read ahead), in one buffer
/// of at most two pages, both in the qTD's page list.
const BUFFER: usize = 4096;
/// Bulk endpoints open at once on this controller.
const BULK_SLOTS: usize = 8;
/// Bytes of one slot: its QH, its qTDs (a cache line each) and its buffer.
const SLOT: usize = LINE * (1 + TDS) + BUFFER;

/// Deadlines: a control transfer, a bulk OUT transfer, the controller's reset.
/// A control transfer gets a second: the RT5370's firmware start request
/// takes that long (`rt2800::Rt2800Bus::vendor_out`, as Linux allows).
const CONTROL_TIMEOUT_US: u64 = 1_000_000;
const BULK_OUT_TIMEOUT_US: u64 = 100_000;
const RESET_TIMEOUT_US: u64 = 50_000;

/// One endpoint's QH, qTDs and buffer.
struct Slot {
    offset: usize,
    /// The endpoint it serves (bulk slots: `None` while free).
    pipe: Option<Pipe>,
    /// qTDs of the transfer in progress (0: none).
    queued: usize,
    /// Bytes asked of each of those qTDs.
    lengths: [usize; TDS],
}

impl Slot {
    fn qh(&self) -> usize {
        self.offset
    }
    fn td(&self, index: usize) -> usize {
        self.offset + LINE * (1 + index)
    }
    fn buffer(&self) -> usize {
        self.offset + LINE * (1 + TDS)
    }
}

/// Why a controller did not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EhciError {
    /// The capability length is not one an EHCI has (nothing there).
    NotEhci(u32),
    /// The reset or the start did not finish.
    Timeout,
}

/// The registers and DMA memory that queueing and collecting touch.
struct Lists {
    op: Mmio,
    dma: DmaBlock,
}

/// An EHCI controller and its root hub.
pub struct Ehci {
    lists: Lists,
    irq: u32,
    ports: usize,
    control: Slot,
    bulk: Vec<Slot>,
}

impl Ehci {
    /// Resets the controller at `regs` (interrupt `irq`), builds its
    /// asynchronous ring, starts it and takes its ports (CONFIGFLAG).
    pub fn new(regs: Mmio, irq: u32) -> Result<Self, EhciError> {
        let caplength = regs.read(CAPLENGTH) & 0xff;
        if !(0x10..=0x40).contains(&caplength) {
            return Err(EhciError::NotEhci(caplength));
        }
        let ports = (regs.read(HCSPARAMS) & 0xf) as usize;
        let op = regs.window(caplength as usize, regs.len() - caplength as usize);
        op.write(USBCMD, 0);
        wait_until(|| op.read(USBSTS) & STS_HALTED != 0, RESET_TIMEOUT_US).ok_or(EhciError::Timeout)?;
        op.write(USBCMD, CMD_RESET);
        wait_until(|| op.read(USBCMD) & CMD_RESET == 0, RESET_TIMEOUT_US).ok_or(EhciError::Timeout)?;
        let dma = DmaBlock::new(SLOT * (1 + BULK_SLOTS));
        let slot = |index: usize| Slot { offset: SLOT * index, pipe: None, queued: 0, lengths: [0; TDS] };
        let slots: Vec<Slot> = (0..=BULK_SLOTS).map(slot).collect();
        // The ring: control QH (the head) -> bulk QHs -> back to the control QH.
        for (index, slot) in slots.iter().enumerate() {
            let next = &slots[(index + 1) % slots.len()];
            dma.write_word(slot.qh() + QH_LINK, dma.addr(next.qh()) as u32 | TYPE_QH);
            dma.write_word(slot.qh() + QH_CHARACTERISTICS, if index == 0 { QH_HEAD | QH_HIGH_SPEED } else { QH_HIGH_SPEED });
            dma.write_word(slot.qh() + QH_CAPABILITIES, QH_MULT_1);
            dma.write_word(slot.qh() + QH_NEXT, TERMINATE);
            dma.write_word(slot.qh() + QH_ALTERNATE, TERMINATE);
            dma.write_word(slot.qh() + QH_TOKEN, 0);
        }
        dma.clean(0, SLOT * (1 + BULK_SLOTS));
        let mut slots = slots.into_iter();
        let control = slots.next().ok_or(EhciError::Timeout)?;
        op.write(CTRLDSSEGMENT, 0);
        op.write(ASYNCLISTADDR, dma.addr(control.qh()) as u32);
        op.write(USBINTR, INTR_TRANSFER_AND_PORTS);
        op.write(USBSTS, STS_CLEAR);
        op.write(USBCMD, CMD_RUN | CMD_ASYNC_ENABLE | CMD_ITC_8);
        wait_until(|| op.read(USBSTS) & STS_HALTED == 0, RESET_TIMEOUT_US).ok_or(EhciError::Timeout)?;
        op.write(CONFIGFLAG, 1);
        for port in 0..ports {
            let reg = PORTSC + 4 * port;
            op.write(reg, (op.read(reg) & !PORT_W1C) | PORT_POWER);
        }
        delay_us(20_000);
        Ok(Self { lists: Lists { op, dma }, irq, ports, control, bulk: slots.collect() })
    }

    fn bulk_slot(&mut self, pipe: Pipe) -> Result<usize, UsbError> {
        let (index, fresh) = pipe.bulk_slot(self.bulk.iter().map(|s| s.pipe))?;
        if !fresh {
            return Ok(index);
        }
        let (dma, slot) = (&self.lists.dma, &mut self.bulk[index]);
        slot.pipe = Some(pipe);
        slot.queued = 0;
        // The toggle lives in the overlay (DATA0 to start).
        dma.write_word(slot.qh() + QH_CHARACTERISTICS, characteristics(pipe, false));
        dma.write_word(slot.qh() + QH_NEXT, TERMINATE);
        dma.write_word(slot.qh() + QH_TOKEN, 0);
        dma.clean(slot.qh(), LINE);
        Ok(index)
    }
}

fn characteristics(pipe: Pipe, toggle_from_qtd: bool) -> u32 {
    let toggle = if toggle_from_qtd { QH_TOGGLE_FROM_QTD } else { 0 };
    u32::from(pipe.device & 0x7f) | (u32::from(pipe.endpoint & 0xf) << 8) | QH_HIGH_SPEED | toggle | (u32::from(pipe.max_packet & 0x7ff) << 16)
}

impl Lists {
    /// Writes qTD `index` of `slot`: `token` bits, `len` bytes at `buffer`
    /// (an offset in the DMA block), linked to the next qTD unless `last`.
    fn write_td(&self, slot: &mut Slot, index: usize, token: u32, buffer: usize, len: usize, last: bool) {
        let td = slot.td(index);
        let next = if last { TERMINATE } else { self.dma.addr(slot.td(index + 1)) as u32 };
        self.dma.write_word(td, next);
        self.dma.write_word(td + 4, TERMINATE);
        self.dma.write_word(td + 8, token | TOKEN_ACTIVE | TOKEN_CERR_3 | ((len as u32) << 16));
        let start = self.dma.addr(buffer);
        for page in 0..5 {
            let pointer = if page == 0 { start } else { (start & !0xfff) + 0x1000 * page };
            self.dma.write_word(td + 12 + 4 * page, pointer as u32);
        }
        self.dma.clean(td, 32);
        slot.lengths[index] = len;
    }

    /// Hangs the `count` qTDs written from index 0 on the slot's QH.
    fn submit(&self, slot: &mut Slot, count: usize) {
        let qh = slot.qh();
        self.dma.invalidate(qh, LINE);
        let toggle = self.dma.read_word(qh + QH_TOKEN) & TOKEN_DATA1;
        self.dma.write_word(qh + QH_TOKEN, toggle);
        self.dma.write_word(qh + QH_ALTERNATE, TERMINATE);
        self.dma.write_word(qh + QH_NEXT, self.dma.addr(slot.td(0)) as u32);
        self.dma.clean(qh, LINE);
        slot.queued = count;
    }

    /// `None` while the slot's transfer runs; then `Ok` or why it failed.
    fn progress(&self, slot: &Slot) -> Option<Result<(), UsbError>> {
        for index in 0..slot.queued {
            self.dma.invalidate(slot.td(index), 32);
            let token = self.dma.read_word(slot.td(index) + 8);
            if token & TOKEN_HALTED != 0 {
                return Some(Err(if token & TOKEN_XACT_ERROR != 0 {
                    UsbError::NoDevice
                } else if token & 0x3f == 0 {
                    UsbError::Stall
                } else {
                    UsbError::Transfer((token & 0xff) as u8)
                }));
            }
            if token & TOKEN_ACTIVE != 0 {
                return None;
            }
        }
        Some(Ok(()))
    }

    /// Takes a finished or abandoned transfer off its QH: every qTD made
    /// inactive, the overlay emptied (toggle back to DATA0 after an error).
    fn retire(&self, slot: &mut Slot, failed: bool) {
        for index in 0..slot.queued {
            let token = self.dma.read_word(slot.td(index) + 8);
            self.dma.write_word(slot.td(index) + 8, token & !TOKEN_ACTIVE);
            self.dma.clean(slot.td(index), 32);
        }
        if failed {
            self.dma.write_word(slot.qh() + QH_NEXT, TERMINATE);
            self.dma.write_word(slot.qh() + QH_TOKEN, 0);
            self.dma.clean(slot.qh(), LINE);
        }
        slot.queued = 0;
    }

    fn wait(&self, slot: &mut Slot, timeout_us: u64) -> Result<(), UsbError> {
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
        self.retire(slot, result.is_err());
        result
    }

    /// Bytes qTD `index` moved: what it asked for less what it has left.
    fn transferred(&self, slot: &Slot, index: usize) -> usize {
        let left = ((self.dma.read_word(slot.td(index) + 8) >> 16) & 0x7fff) as usize;
        slot.lengths[index].saturating_sub(left)
    }
}

impl HostController for Ehci {
    fn port_count(&self) -> usize {
        self.ports
    }

    fn port_status(&mut self, port: usize) -> PortStatus {
        let (op, reg) = (self.lists.op, PORTSC + 4 * port);
        let status = op.read(reg);
        if status & PORT_W1C != 0 {
            op.write(reg, status);
        }
        let owned = status & PORT_OWNER == 0;
        PortStatus { connected: owned && status & PORT_CCS != 0, changed: status & PORT_CSC != 0 }
    }

    fn reset_port(&mut self, port: usize) -> Result<Speed, UsbError> {
        let (op, reg) = (self.lists.op, PORTSC + 4 * port);
        let status = op.read(reg) & !PORT_W1C;
        op.write(reg, (status & !PORT_PE) | PORT_RESET);
        // USB 2.0 7.1.7.5: a root port's reset lasts 50 ms.
        delay_us(50_000);
        op.write(reg, op.read(reg) & !(PORT_W1C | PORT_RESET));
        wait_until(|| op.read(reg) & PORT_RESET == 0, RESET_TIMEOUT_US).ok_or(UsbError::Timeout)?;
        let status = op.read(reg);
        if status & PORT_CCS == 0 {
            return Err(UsbError::NoDevice);
        }
        if status & PORT_PE == 0 {
            // Not high speed: the companion controller takes it from here.
            op.write(reg, (status & !PORT_W1C) | PORT_OWNER);
            return Err(UsbError::Companion);
        }
        Ok(Speed::High)
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
        dma.write_word(slot.qh() + QH_CHARACTERISTICS, characteristics(pipe, true) | QH_HEAD);
        let (setup_at, data_at) = (slot.buffer(), slot.buffer() + 8);
        dma.write_bytes(setup_at, &setup.to_bytes());
        if let Data::Out(bytes) = &data {
            dma.write_bytes(data_at, bytes);
        }
        dma.clean(setup_at, 8 + len);
        lists.write_td(slot, 0, PID_SETUP, setup_at, 8, false);
        let mut count = 1;
        if len > 0 {
            let pid = if setup.is_in() { PID_IN } else { PID_OUT };
            lists.write_td(slot, 1, pid | TOKEN_DATA1, data_at, len, false);
            count += 1;
        }
        let status_pid = if setup.is_in() && len > 0 { PID_OUT } else { PID_IN };
        lists.write_td(slot, count, status_pid | TOKEN_DATA1 | TOKEN_IOC, data_at, 0, true);
        count += 1;
        lists.submit(slot, count);
        lists.wait(slot, CONTROL_TIMEOUT_US)?;
        let moved = if len > 0 { lists.transferred(slot, 1) } else { 0 };
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
        let zero_length = delimiting == Delimiting::ShortPacket && !data.is_empty() && data.len() % usize::from(pipe.max_packet.max(1)) == 0;
        lists.write_td(slot, 0, PID_OUT, slot.buffer(), data.len(), !zero_length);
        if zero_length {
            lists.write_td(slot, 1, PID_OUT, slot.buffer(), 0, true);
        }
        lists.submit(slot, 1 + usize::from(zero_length));
        lists.wait(slot, BULK_OUT_TIMEOUT_US)
    }

    fn bulk_in(&mut self, pipe: Pipe, buf: &mut [u8], delimiting: Delimiting) -> Result<Option<usize>, UsbError> {
        let len = buf.len().min(BUFFER);
        let index = self.bulk_slot(pipe)?;
        let (lists, slot) = (&self.lists, &mut self.bulk[index]);
        if slot.queued == 0 {
            lists.write_td(slot, 0, PID_IN | TOKEN_IOC, slot.buffer(), len, true);
            lists.submit(slot, 1);
            return Ok(None);
        }
        match lists.progress(slot) {
            None => Ok(None),
            Some(Err(error)) => {
                lists.retire(slot, true);
                Err(error)
            }
            Some(Ok(())) => {
                let moved = lists.transferred(slot, 0).min(len);
                lists.dma.invalidate(slot.buffer(), moved);
                lists.dma.read_bytes(slot.buffer(), &mut buf[..moved]);
                lists.retire(slot, false);
                if delimiting == Delimiting::ShortPacket {
                    lists.write_td(slot, 0, PID_IN | TOKEN_IOC, slot.buffer(), len, true);
                    lists.submit(slot, 1);
                }
                Ok(Some(moved))
            }
        }
    }

    fn release(&mut self, device: u8) {
        let lists = &self.lists;
        for slot in self.bulk.iter_mut().filter(|s| s.pipe.is_some_and(|p| p.device == device)) {
            lists.retire(slot, true);
            slot.pipe = None;
        }
    }

    fn delay_ms(&mut self, ms: u32) {
        delay_us(u64::from(ms) * 1_000);
    }

    fn irq(&self) -> Option<u32> {
        Some(self.irq)
    }

    fn acknowledge_interrupt(&mut self) {
        let status = self.lists.op.read(USBSTS);
        self.lists.op.write(USBSTS, status & STS_CLEAR);
    }
}
