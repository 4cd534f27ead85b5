//! Allwinner "sun8i" EMAC (H3, H5, A64; QEMU `allwinner-sun8i-emac`): a
//! descriptor-ring DMA MAC with an MDIO-attached PHY, behind `NetDevice`.
//!
//! Rings of `RX_RING` receive and `TX_RING` transmit descriptors live in heap
//! DMA memory (`dma`), each descriptor in its own cache line and each with a
//! 2 KiB buffer. The CPU owns a descriptor while bit 31 of its status is
//! clear. Bad input never reaches smoltcp: frames split over several
//! buffers (over-long), runts, errored frames and lost frames (no free
//! descriptor, FIFO overflow) are returned as `Received::Dropped`, which the
//! device boundary counts. The PHY is polled about once a second (`mii`).
//! Register model: the H3 datasheet, and QEMU's hw/net/allwinner-sun8i-emac.c.
//!
//! QEMU's model (7.2 and later) has a trap: when a burst of queued frames
//! finds the ring full, it sets its current receive descriptor to 0 and
//! never receives again. Real hardware keeps a descriptor address there, so
//! a current descriptor of 0 means exactly that state; `restart_stuck_rx`
//! points the engine back at the next descriptor the CPU will read.

use super::dma::{DmaBlock, LINE};
use super::mii::{self, Link, LinkWatch, Mdio};
use super::mmio::{wait_until, Mmio};
use crate::net::device::{NetDevice, Received, MAX_FRAME};
use crate::time;

const BASIC_CTL_0: usize = 0x00;
const BASIC_CTL_1: usize = 0x04;
const INT_STA: usize = 0x08;
const INT_EN: usize = 0x0c;
const TX_CTL_0: usize = 0x10;
const TX_CTL_1: usize = 0x14;
const TX_DESC_LIST: usize = 0x20;
const RX_CTL_0: usize = 0x24;
const RX_CTL_1: usize = 0x28;
const RX_DESC_LIST: usize = 0x34;
const RX_CUR_DESC: usize = 0xc4;
const MII_CMD: usize = 0x48;
const MII_DATA: usize = 0x4c;
const ADDR_HIGH: usize = 0x50;
const ADDR_LOW: usize = 0x54;

const CTL0_FULL_DUPLEX: u32 = 1 << 0;
const CTL0_SPEED_100: u32 = 0b11 << 2;
const CTL1_SOFT_RESET: u32 = 1 << 0;
const CTL1_BURST_8: u32 = 8 << 24;
const INT_TX: u32 = 1 << 0;
const INT_RX: u32 = 1 << 8;
const INT_RX_NO_BUFFER: u32 = 1 << 9;
const INT_RX_OVERFLOW: u32 = 1 << 12;
const TX_CTL0_ENABLE: u32 = 1 << 31;
const TX_CTL1_DMA_START: u32 = 1 << 31;
const TX_CTL1_DMA_ENABLE: u32 = 1 << 30;
const TX_CTL1_STORE_AND_FORWARD: u32 = 1 << 1;
const RX_CTL0_ENABLE: u32 = 1 << 31;
const RX_CTL1_DMA_START: u32 = 1 << 31;
const RX_CTL1_DMA_ENABLE: u32 = 1 << 30;
const RX_CTL1_STORE_AND_FORWARD: u32 = 1 << 1;
const MII_BUSY: u32 = 1 << 0;
const MII_WRITE: u32 = 1 << 1;
const MII_CLOCK_DIV_128: u32 = 0b011 << 20;

const DESC_OWNED_BY_DMA: u32 = 1 << 31;
const RX_FIRST: u32 = 1 << 9;
const RX_LAST: u32 = 1 << 8;
/// No buffer, header, length, CRC and payload errors.
const RX_ERRORS: u32 = (1 << 14) | (1 << 7) | (1 << 4) | (1 << 1) | (1 << 0);
const TX_FIRST: u32 = 1 << 29;
const TX_LAST: u32 = 1 << 30;

/// Receive descriptors: QEMU delivers its whole queue at once after a stall.
const RX_RING: usize = 128;
const TX_RING: usize = 16;
const BUFFER: usize = 2048;
/// Buffer size told to the hardware: a full frame plus FCS fits in one.
const BUFFER_USED: u32 = 1600;
const FCS: usize = 4;
/// Shortest legal frame on the wire, FCS included.
const MIN_FRAME_WITH_FCS: usize = 64;

/// A descriptor: status, control/size, buffer address, next descriptor.
const DESC_STATUS: usize = 0;
const DESC_CONTROL: usize = 4;
const DESC_BUFFER: usize = 8;
const DESC_NEXT: usize = 12;

/// Where a sun8i EMAC is and what it needs, as the chip layer declares it.
#[derive(Clone, Copy, Debug)]
pub struct Sun8iEmacConfig {
    /// Register window.
    pub regs: Mmio,
    /// GIC interrupt ID (SPI + 32).
    pub intid: u32,
    /// The PHY's MDIO address, if known; otherwise the bus is scanned.
    pub phy: Option<u8>,
}

/// The sun8i EMAC and its PHY, behind `NetDevice`.
pub struct Sun8iEmac {
    regs: Mmio,
    intid: u32,
    mac: [u8; 6],
    rx: DmaBlock,
    tx: DmaBlock,
    rx_next: usize,
    tx_next: usize,
    /// Still inside a frame that spilled over several buffers: drop until its last one.
    rx_discarding: bool,
    /// Frames the hardware reported lost (no descriptor, overflow), to count as drops.
    rx_lost: u32,
    link: LinkWatch,
}

struct Bus(Mmio);

impl Mdio for Bus {
    fn mdio_read(&mut self, phy: u8, register: u8) -> Option<u16> {
        // A PHY that does not answer leaves the data register alone: preset it.
        self.0.write(MII_DATA, 0xffff);
        self.command(phy, register, 0)?;
        Some(self.0.read(MII_DATA) as u16)
    }

    fn mdio_write(&mut self, phy: u8, register: u8, value: u16) {
        self.0.write(MII_DATA, u32::from(value));
        let _ = self.command(phy, register, MII_WRITE);
    }
}

impl Bus {
    fn command(&self, phy: u8, register: u8, write: u32) -> Option<()> {
        let command = MII_CLOCK_DIV_128 | (u32::from(phy & 0x1f) << 12) | (u32::from(register & 0x1f) << 4) | write | MII_BUSY;
        self.0.write(MII_CMD, command);
        wait_until(|| self.0.read(MII_CMD) & MII_BUSY == 0, 10_000)
    }
}

impl Sun8iEmac {
    /// Resets the MAC, finds the PHY, builds the rings and starts both DMA
    /// engines. `None` (logged) if the MAC or its PHY does not answer.
    pub fn new(config: &Sun8iEmacConfig, fallback_mac: [u8; 6]) -> Option<Self> {
        let regs = config.regs;
        regs.write(BASIC_CTL_1, CTL1_SOFT_RESET);
        if wait_until(|| regs.read(BASIC_CTL_1) & CTL1_SOFT_RESET == 0, 100_000).is_none() {
            log::error!("sun8i EMAC at {:#x}: stuck in reset (clock gate off?)", config.regs.address());
            return None;
        }
        regs.write(BASIC_CTL_1, CTL1_BURST_8);

        let mut bus = Bus(regs);
        let Some(phy) = mii::find_phy(&mut bus, config.phy) else {
            log::error!("sun8i EMAC at {:#x}: no PHY answers on MDIO", config.regs.address());
            return None;
        };
        mii::start_autonegotiation(&mut bus, phy);
        let link = mii::read_link(&mut bus, phy);

        let mac = station_address(regs).unwrap_or(fallback_mac);
        regs.write(ADDR_HIGH, u32::from(mac[4]) | (u32::from(mac[5]) << 8));
        regs.write(ADDR_LOW, u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]));

        let rx = DmaBlock::new(RX_RING * (LINE + BUFFER));
        let tx = DmaBlock::new(TX_RING * (LINE + BUFFER));
        build_ring(&rx, RX_RING, DESC_OWNED_BY_DMA);
        build_ring(&tx, TX_RING, 0);
        regs.write(RX_DESC_LIST, rx.addr(0) as u32);
        regs.write(TX_DESC_LIST, tx.addr(0) as u32);

        let mut emac = Self { regs, intid: config.intid, mac, rx, tx, rx_next: 0, tx_next: 0, rx_discarding: false, rx_lost: 0, link: LinkWatch::new(phy, link) };
        emac.apply_link(link);
        regs.write(INT_STA, u32::MAX);
        regs.write(INT_EN, INT_RX);
        regs.write(TX_CTL_0, TX_CTL0_ENABLE);
        regs.write(TX_CTL_1, TX_CTL1_DMA_ENABLE | TX_CTL1_STORE_AND_FORWARD);
        regs.write(RX_CTL_0, RX_CTL0_ENABLE);
        regs.write(RX_CTL_1, RX_CTL1_DMA_ENABLE | RX_CTL1_DMA_START | RX_CTL1_STORE_AND_FORWARD);
        log::info!("sun8i EMAC at {:#x}, PHY at MDIO address {phy}, link {}", config.regs.address(), if link.up { "up" } else { "down" });
        Some(emac)
    }

    fn apply_link(&mut self, link: Link) {
        let mut ctl0 = 0;
        if link.fast {
            ctl0 |= CTL0_SPEED_100;
        }
        if link.full_duplex {
            ctl0 |= CTL0_FULL_DUPLEX;
        }
        self.regs.write(BASIC_CTL_0, ctl0);
    }

    /// Counts frames the hardware lost since the last look.
    fn collect_losses(&mut self) {
        let status = self.regs.read(INT_STA) & (INT_RX_NO_BUFFER | INT_RX_OVERFLOW);
        if status != 0 {
            self.regs.write(INT_STA, status);
            self.rx_lost = self.rx_lost.saturating_add(1);
        }
    }

    /// Gives the current receive descriptor back to the DMA and moves on.
    fn recycle_rx(&mut self) {
        let offset = desc_offset(self.rx_next);
        self.rx.write_word(offset + DESC_STATUS, DESC_OWNED_BY_DMA);
        self.rx.clean(offset, LINE);
        self.rx_next = (self.rx_next + 1) % RX_RING;
        // Resume a DMA engine that stopped for want of descriptors (QEMU
        // also delivers the frames it held back on this write).
        self.regs.write(RX_CTL_1, RX_CTL1_DMA_ENABLE | RX_CTL1_DMA_START | RX_CTL1_STORE_AND_FORWARD);
    }

    /// Revives a receive engine that lost its place in the ring (see the
    /// module doc): the frames it dropped meanwhile are already counted.
    fn restart_stuck_rx(&mut self) {
        if self.regs.read(RX_CUR_DESC) != 0 {
            return;
        }
        log::debug!("sun8i EMAC: receive engine lost its descriptor, restarting at {}", self.rx_next);
        self.regs.write(RX_DESC_LIST, self.rx.addr(desc_offset(self.rx_next)) as u32);
        self.regs.write(RX_CTL_1, RX_CTL1_DMA_ENABLE | RX_CTL1_DMA_START | RX_CTL1_STORE_AND_FORWARD);
    }

    fn poll_link(&mut self) {
        let mut bus = Bus(self.regs);
        if let Some(link) = self.link.poll(&mut bus, time::micros_since_power_on()) {
            self.apply_link(link);
        }
    }
}

/// The address U-Boot (or QEMU) left in the MAC, if it is a usable unicast one.
fn station_address(regs: Mmio) -> Option<[u8; 6]> {
    let low = regs.read(ADDR_LOW).to_le_bytes();
    let high = regs.read(ADDR_HIGH).to_le_bytes();
    let mac = [low[0], low[1], low[2], low[3], high[0], high[1]];
    let usable = mac != [0; 6] && mac != [0xff; 6] && mac[0] & 1 == 0;
    usable.then_some(mac)
}

fn desc_offset(index: usize) -> usize {
    index * LINE
}

fn buffer_offset(ring: usize, index: usize) -> usize {
    ring * LINE + index * BUFFER
}

/// Links `count` descriptors into a circle, each with its buffer.
fn build_ring(block: &DmaBlock, count: usize, status: u32) {
    for index in 0..count {
        let offset = desc_offset(index);
        block.write_word(offset + DESC_STATUS, status);
        block.write_word(offset + DESC_CONTROL, BUFFER_USED);
        block.write_word(offset + DESC_BUFFER, block.addr(buffer_offset(count, index)) as u32);
        block.write_word(offset + DESC_NEXT, block.addr(desc_offset((index + 1) % count)) as u32);
    }
    block.clean(0, count * LINE);
}

impl NetDevice for Sun8iEmac {
    fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    fn receive(&mut self, frame: &mut [u8]) -> Received {
        self.poll_link();
        self.collect_losses();
        if self.rx_lost > 0 {
            self.rx_lost -= 1;
            return Received::Dropped;
        }
        let offset = desc_offset(self.rx_next);
        self.rx.invalidate(offset, LINE);
        let status = self.rx.read_word(offset + DESC_STATUS);
        if status & DESC_OWNED_BY_DMA != 0 {
            self.restart_stuck_rx();
            return Received::Nothing;
        }
        let first = status & RX_FIRST != 0;
        let last = status & RX_LAST != 0;
        let length = ((status >> 16) & 0x3fff) as usize;
        let result = if self.rx_discarding || !first || !last {
            // Part of a frame longer than a buffer: over the MTU. Count it once, at its first buffer.
            let count_it = !self.rx_discarding || first;
            self.rx_discarding = !last;
            if count_it { Received::Dropped } else { Received::Nothing }
        } else if status & RX_ERRORS != 0 || length < MIN_FRAME_WITH_FCS || length - FCS > MAX_FRAME || length - FCS > frame.len() {
            log::debug!("sun8i EMAC: dropped a frame, status {status:#x}");
            Received::Dropped
        } else {
            let len = length - FCS;
            let buffer = buffer_offset(RX_RING, self.rx_next);
            self.rx.invalidate(buffer, len);
            self.rx.read_bytes(buffer, &mut frame[..len]);
            Received::Frame(len)
        };
        self.recycle_rx();
        match result {
            // The tail of a long frame: look at the next descriptor straight away.
            Received::Nothing => self.receive(frame),
            other => other,
        }
    }

    fn can_transmit(&mut self) -> bool {
        let offset = desc_offset(self.tx_next);
        self.tx.invalidate(offset, 4);
        self.tx.read_word(offset + DESC_STATUS) & DESC_OWNED_BY_DMA == 0
    }

    fn transmit(&mut self, frame: &[u8]) -> bool {
        if !self.link.link.up || frame.len() > MAX_FRAME || !self.can_transmit() {
            return false;
        }
        let offset = desc_offset(self.tx_next);
        let buffer = buffer_offset(TX_RING, self.tx_next);
        // Pad runts to the 60-byte minimum with zeros rather than leak old bytes.
        let len = frame.len().max(60);
        self.tx.write_bytes(buffer, frame);
        self.tx.write_bytes(buffer + frame.len(), &[0u8; 60][..len - frame.len()]);
        self.tx.clean(buffer, len);
        self.tx.write_word(offset + DESC_CONTROL, TX_FIRST | TX_LAST | len as u32);
        self.tx.write_word(offset + DESC_STATUS, DESC_OWNED_BY_DMA);
        self.tx.clean(offset, LINE);
        self.tx_next = (self.tx_next + 1) % TX_RING;
        self.regs.write(TX_CTL_1, TX_CTL1_DMA_ENABLE | TX_CTL1_DMA_START | TX_CTL1_STORE_AND_FORWARD);
        true
    }

    fn interrupt_ids(&self) -> alloc::vec::Vec<u32> {
        alloc::vec![self.intid]
    }

    fn acknowledge_interrupt(&mut self) {
        self.collect_losses();
        self.regs.write(INT_STA, INT_RX | INT_TX);
    }

    fn frame_pending(&self) -> bool {
        let offset = desc_offset(self.rx_next);
        self.rx.invalidate(offset, 4);
        self.rx.read_word(offset + DESC_STATUS) & DESC_OWNED_BY_DMA == 0 || self.rx_lost > 0
    }

    fn polls_link(&self) -> bool {
        true
    }
}
