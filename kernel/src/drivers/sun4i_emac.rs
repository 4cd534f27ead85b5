//! Allwinner A10/A20 EMAC (QEMU `allwinner-emac`): the 10/100 MAC of the
//! Cubieboards, with FIFOs read and written by the CPU (no descriptors),
//! and its MDIO-attached PHY, behind `NetDevice`.
//!
//! Receive: the frame count register says how many frames wait; each starts
//! with a magic word and a header word (length with FCS, status). Bad input
//! is drained and returned as `Received::Dropped` (counted at the device
//! boundary): runts, frames over the MTU, errored frames, and a lost FIFO
//! sync (RX overflow), after which the FIFO is flushed. Transmit: one FIFO
//! channel, filled word by word, then started. The PHY is polled about once
//! a second (`mii`). Register model: Linux's sun4i-emac and QEMU's
//! hw/net/allwinner_emac.c; the SoC glue (SRAM, clock, pins) is the board's.

use super::mii::{self, Link, LinkWatch, Mdio};
use super::mmio::{wait_until, Mmio};
use crate::net::device::{NetDevice, Received, MAX_FRAME};
use crate::time;

const CTL: usize = 0x00;
const TX_MODE: usize = 0x04;
const TX_CTL0: usize = 0x0c;
const TX_INS: usize = 0x14;
const TX_PL0: usize = 0x18;
const TX_IO_DATA: usize = 0x24;
const RX_CTL: usize = 0x3c;
const RX_IO_DATA: usize = 0x4c;
const RX_FBC: usize = 0x50;
const INT_CTL: usize = 0x54;
const INT_STA: usize = 0x58;
const MAC_CTL0: usize = 0x5c;
const MAC_CTL1: usize = 0x60;
const MAC_IPGT: usize = 0x64;
const MAC_IPGR: usize = 0x68;
const MAC_CLRT: usize = 0x6c;
const MAC_MAXF: usize = 0x70;
const MAC_SUPP: usize = 0x74;
const MAC_MCMD: usize = 0x80;
const MAC_MADR: usize = 0x84;
const MAC_MWTD: usize = 0x88;
const MAC_MRDD: usize = 0x8c;
const MAC_MIND: usize = 0x90;
const MAC_A0: usize = 0x98;
const MAC_A1: usize = 0x9c;

const CTL_RUN: u32 = 1 << 0;
const CTL_TX_ENABLE: u32 = 1 << 1;
const CTL_RX_ENABLE: u32 = 1 << 2;
const TX_MODE_ABORTED_FRAME: u32 = 1 << 0;
const TX_START: u32 = 1 << 0;
const RX_CTL_FLUSH_FIFO: u32 = 1 << 3;
const RX_CTL_ACCEPT_UNICAST: u32 = 1 << 16;
const RX_CTL_DA_FILTER: u32 = 1 << 17;
const RX_CTL_ACCEPT_MULTICAST: u32 = 1 << 20;
const RX_CTL_ACCEPT_BROADCAST: u32 = 1 << 22;
const INT_TX_CHANNEL0: u32 = 1 << 0;
const INT_RX: u32 = 1 << 8;
const MAC_CTL0_FLOW_CONTROL: u32 = (1 << 2) | (1 << 3);
const MAC_CTL1_FULL_DUPLEX: u32 = 1 << 0;
const MAC_CTL1_LENGTH_CHECK: u32 = 1 << 1;
const MAC_CTL1_CRC: u32 = 1 << 4;
const MAC_CTL1_PAD: u32 = 1 << 5;
const MAC_SUPP_100: u32 = 1 << 8;
const MIND_BUSY: u32 = 1 << 0;

/// The word that starts every received frame in the FIFO.
const RX_MAGIC: u32 = 0x0143_414d;
const RX_STATUS_OK: u32 = 1 << 7;
const RX_STATUS_CRC_ERROR: u32 = 1 << 4;
const RX_STATUS_LENGTH_ERROR: u32 = 3 << 5;
const FCS: usize = 4;
const MIN_FRAME_WITH_FCS: usize = 64;
/// Anything longer cannot be a frame: the FIFO is out of step.
const FIFO_SANE_LENGTH: usize = 2048;

/// Where a sun4i EMAC is and what it needs, as the chip layer declares it.
#[derive(Clone, Copy, Debug)]
pub struct Sun4iEmacConfig {
    /// Register window.
    pub regs: Mmio,
    /// Interrupt number at the board's interrupt controller.
    pub irq: u32,
    /// The PHY's MDIO address, if known; otherwise the bus is scanned.
    pub phy: Option<u8>,
}

/// The sun4i EMAC and its PHY, behind `NetDevice`.
pub struct Sun4iEmac {
    regs: Mmio,
    irq: u32,
    mac: [u8; 6],
    link: LinkWatch,
    /// Receive words, read before the length is trusted.
    scratch: [u32; (MAX_FRAME + FCS + 3) / 4],
}

struct Bus(Mmio);

impl Mdio for Bus {
    fn mdio_read(&mut self, phy: u8, register: u8) -> Option<u16> {
        self.0.write(MAC_MADR, (u32::from(phy) << 8) | u32::from(register));
        self.0.write(MAC_MCMD, 1);
        let done = wait_until(|| self.0.read(MAC_MIND) & MIND_BUSY == 0, 10_000);
        self.0.write(MAC_MCMD, 0);
        done.map(|()| self.0.read(MAC_MRDD) as u16)
    }

    fn mdio_write(&mut self, phy: u8, register: u8, value: u16) {
        self.0.write(MAC_MADR, (u32::from(phy) << 8) | u32::from(register));
        self.0.write(MAC_MWTD, u32::from(value));
        self.0.write(MAC_MCMD, 1);
        let _ = wait_until(|| self.0.read(MAC_MIND) & MIND_BUSY == 0, 10_000);
        self.0.write(MAC_MCMD, 0);
    }
}

impl Sun4iEmac {
    /// Sets the SoC glue up, resets the MAC, finds the PHY and starts
    /// receiving. `None` (logged) if no PHY answers.
    pub fn new(config: &Sun4iEmacConfig, fallback_mac: [u8; 6]) -> Option<Self> {
        let regs = config.regs;
        let mac = station_address(regs).unwrap_or(fallback_mac);
        // Hold in reset, then release (QEMU resets the model on the release).
        regs.write(CTL, 0);
        super::mmio::delay_us(200);
        regs.write(CTL, CTL_RUN);
        super::mmio::delay_us(200);

        let mut bus = Bus(regs);
        let Some(phy) = mii::find_phy(&mut bus, config.phy) else {
            log::error!("sun4i EMAC at {:#x}: no PHY answers on MDIO", config.regs.address());
            return None;
        };
        mii::start_autonegotiation(&mut bus, phy);
        let link = mii::read_link(&mut bus, phy);

        regs.write(TX_MODE, TX_MODE_ABORTED_FRAME);
        regs.write(RX_CTL, RX_CTL_ACCEPT_UNICAST | RX_CTL_DA_FILTER | RX_CTL_ACCEPT_MULTICAST | RX_CTL_ACCEPT_BROADCAST);
        regs.write(MAC_CTL0, MAC_CTL0_FLOW_CONTROL);
        regs.write(MAC_IPGR, 0x0c12);
        regs.write(MAC_CLRT, 0x370f);
        regs.write(MAC_MAXF, (MAX_FRAME + FCS) as u32);
        regs.write(MAC_A0, (u32::from(mac[0]) << 16) | (u32::from(mac[1]) << 8) | u32::from(mac[2]));
        regs.write(MAC_A1, (u32::from(mac[3]) << 16) | (u32::from(mac[4]) << 8) | u32::from(mac[5]));
        let mut emac = Self { regs, irq: config.irq, mac, link: LinkWatch::new(phy, link), scratch: [0; (MAX_FRAME + FCS + 3) / 4] };
        emac.apply_link(link);
        regs.write(RX_FBC, 0);
        regs.write(CTL, CTL_RUN | CTL_TX_ENABLE | CTL_RX_ENABLE);
        regs.write(INT_STA, u32::MAX);
        regs.write(INT_CTL, INT_RX);
        log::info!("sun4i EMAC at {:#x}, PHY at MDIO address {phy}, link {}", config.regs.address(), if link.up { "up" } else { "down" });
        Some(emac)
    }

    fn apply_link(&mut self, link: Link) {
        let mut ctl1 = MAC_CTL1_LENGTH_CHECK | MAC_CTL1_CRC | MAC_CTL1_PAD;
        if link.full_duplex {
            ctl1 |= MAC_CTL1_FULL_DUPLEX;
        }
        self.regs.write(MAC_CTL1, ctl1);
        self.regs.write(MAC_IPGT, if link.full_duplex { 0x15 } else { 0x12 });
        self.regs.write(MAC_SUPP, if link.fast { MAC_SUPP_100 } else { 0 });
    }

    /// Throws away everything in the receive FIFO after it lost step.
    fn flush_rx(&mut self) {
        log::debug!("sun4i EMAC: receive FIFO out of step; flushing it");
        self.regs.write(CTL, CTL_RUN | CTL_TX_ENABLE);
        self.regs.modify(RX_CTL, 0, RX_CTL_FLUSH_FIFO);
        let _ = wait_until(|| self.regs.read(RX_CTL) & RX_CTL_FLUSH_FIFO == 0, 10_000);
        self.regs.write(RX_FBC, 0);
        self.regs.write(CTL, CTL_RUN | CTL_TX_ENABLE | CTL_RX_ENABLE);
        self.regs.write(INT_CTL, INT_RX);
    }

    fn poll_link(&mut self) {
        let mut bus = Bus(self.regs);
        if let Some(link) = self.link.poll(&mut bus, time::micros_since_power_on()) {
            self.apply_link(link);
        }
    }
}

/// The address U-Boot left in the MAC, if it is a usable unicast one (QEMU
/// does not model these registers and reads zero).
fn station_address(regs: Mmio) -> Option<[u8; 6]> {
    let (a0, a1) = (regs.read(MAC_A0), regs.read(MAC_A1));
    let mac = [(a0 >> 16) as u8, (a0 >> 8) as u8, a0 as u8, (a1 >> 16) as u8, (a1 >> 8) as u8, a1 as u8];
    let usable = mac != [0; 6] && mac != [0xff; 6] && mac[0] & 1 == 0;
    usable.then_some(mac)
}

impl NetDevice for Sun4iEmac {
    fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    fn receive(&mut self, frame: &mut [u8]) -> Received {
        self.poll_link();
        if self.regs.read(RX_FBC) == 0 {
            return Received::Nothing;
        }
        if self.regs.read(RX_IO_DATA) != RX_MAGIC {
            self.flush_rx();
            return Received::Dropped;
        }
        let header = self.regs.read(RX_IO_DATA);
        let length = (header & 0xffff) as usize;
        let status = header >> 16;
        let words = length.div_ceil(4);
        if length > FIFO_SANE_LENGTH {
            self.flush_rx();
            return Received::Dropped;
        }
        let good = status & RX_STATUS_OK != 0 && status & (RX_STATUS_CRC_ERROR | RX_STATUS_LENGTH_ERROR) == 0;
        if !good || length < MIN_FRAME_WITH_FCS || length - FCS > MAX_FRAME || length - FCS > frame.len() {
            // Runt, over the MTU or errored: drain its words and count it.
            for _ in 0..words {
                let _ = self.regs.read(RX_IO_DATA);
            }
            log::debug!("sun4i EMAC: dropped a frame of {length} bytes, status {status:#x}");
            return Received::Dropped;
        }
        for word in &mut self.scratch[..words] {
            *word = self.regs.read(RX_IO_DATA);
        }
        let len = length - FCS;
        for (chunk, word) in frame[..len].chunks_mut(4).zip(&self.scratch) {
            chunk.copy_from_slice(&word.to_le_bytes()[..chunk.len()]);
        }
        Received::Frame(len)
    }

    fn can_transmit(&mut self) -> bool {
        self.regs.read(TX_CTL0) & TX_START == 0
    }

    fn transmit(&mut self, frame: &[u8]) -> bool {
        if !self.link.link.up || frame.len() > MAX_FRAME || !self.can_transmit() {
            return false;
        }
        self.regs.write(TX_INS, 0);
        for chunk in frame.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.regs.write(TX_IO_DATA, u32::from_le_bytes(word));
        }
        self.regs.write(TX_PL0, frame.len() as u32);
        self.regs.write(TX_CTL0, TX_START);
        true
    }

    fn interrupt_ids(&self) -> alloc::vec::Vec<u32> {
        alloc::vec![self.irq]
    }

    fn acknowledge_interrupt(&mut self) {
        self.regs.write(INT_STA, INT_RX | INT_TX_CHANNEL0);
    }

    fn frame_pending(&self) -> bool {
        self.regs.read(RX_FBC) != 0
    }

    fn polls_link(&self) -> bool {
        true
    }
}
