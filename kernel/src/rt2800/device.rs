//! The RT5370/RT5372 as the access point's radio: bring-up on a bus, then
//! `net::radio::Radio` over it.
//!
//! Frames go out on bulk OUT with a TXWI; the hardware ACKs, retries (TX_RTY_CFG)
//! and reports each frame's fate in TX_STA_FIFO, which `tx_status` reads and
//! matches to the ACK token by TXWI packet id. Beacons never go out on the
//! bulk pipe: the access point sends one each interval through `transmit`,
//! and the driver recognises it (frame control subtype 8) and writes it
//! into beacon slot 0, which the chip sends at each TBTT with its own
//! timestamp and sequence number. CCMP stays in software (the `wifi`
//! crate already does it): hardware keys would need the WCID and key tables
//! kept in step with the station table and every rekeying, so the key
//! tables are cleared and every frame is sent with WIV set (its IV is
//! already in the frame).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use log::{debug, info, warn};

use super::bus::{BusError, Rt2800Bus};
use super::channel;
use super::csr::Csr;
use super::eeprom::{self, Eeprom};
use super::firmware;
use super::init::{self, Chip};
use super::regs;
use super::wire::{self, Rate, TxDescriptor, TxStatus};
use super::Error;
use crate::net::device::Received;
use crate::net::radio::{Radio, RadioCapabilities};

/// Bytes of a bulk transfer buffer: the largest frame with its descriptors.
const TRANSFER_BYTES: usize = 4096;
/// Frames awaiting their TX status at once: TXWI's packet id has 15 values
/// besides "no report".
pub const MAX_IN_FLIGHT: usize = 15;
/// A frame whose status has not come by then is reported unacknowledged
/// (the hardware's retries take a few milliseconds; Linux waits 500 ms).
const STATUS_TIMEOUT_US: u64 = 200_000;
/// How often TX_STA_FIFO is read while frames are in flight (as rt2800usb).
const FIFO_POLL_US: u64 = 1_000;
/// How often the network loop must poll the bulk IN pipe: the radio has
/// no interrupt of its own, so it asks to be woken this often.
const RX_POLL_US: u64 = 2_000;
/// TX_STA_FIFO entries read per pass, so one pass stays short.
const FIFO_READS_PER_PASS: usize = 16;
/// Frame control byte 0 of a beacon and of a probe response.
const BEACON: u8 = 0x80;
const PROBE_RESPONSE: u8 = 0x50;
/// Bytes of a beacon that change every interval without changing its
/// meaning: sequence control (22-23) and timestamp (24-31).
const BEACON_VOLATILE: core::ops::Range<usize> = 22..32;

struct InFlight {
    packet_id: u8,
    token: u32,
    deadline_us: u64,
}

/// An RT5370 or RT5372 dongle, up and serving as an access point's radio.
pub struct Rt5370<B: Rt2800Bus> {
    csr: Csr<B>,
    chip: Chip,
    eeprom: Eeprom,
    gone: bool,
    bcn_time_cfg: u32,
    beacon: Option<Vec<u8>>,
    in_flight: VecDeque<InFlight>,
    statuses: VecDeque<(u32, bool)>,
    next_packet_id: u8,
    next_fifo_read_us: u64,
    last_pass_us: u64,
    rx: Box<[u8]>,
    tx: Box<[u8]>,
}

impl<B: Rt2800Bus> Rt5370<B> {
    /// Brings up the dongle on `bus` (enumerated, configuration set) with
    /// `firmware`, the whole rt2870.bin (8 KiB; `firmware::embedded()` in
    /// an image built with it): checks the chip, reads the EEPROM, loads
    /// the firmware, initialises MAC, BBP and RF, and makes it an access
    /// point with the EEPROM's address. The channel comes with `set_frequency`.
    pub fn new(bus: B, firmware: &[u8]) -> Result<Self, Error> {
        let image = firmware::image_for_rt5370(firmware).map_err(Error::Firmware)?;
        let mut csr = Csr::new(bus);
        let chip = init::probe(&mut csr)?;
        let autorun = eeprom::autorun(&mut csr)?;
        let eeprom = Eeprom::parse(&eeprom::read(&mut csr, autorun)?)?;
        firmware::load(&mut csr, image, autorun)?;
        init::enable_radio(&mut csr, chip, &eeprom)?;
        init::config_ap(&mut csr, eeprom.mac)?;
        let bcn_time_cfg = csr.read(regs::BCN_TIME_CFG)?;
        info!(
            "rt2800: RT{:04x} rev {:04x} ({:?}, {}T{}R{}), MAC {}, up",
            chip.rt,
            chip.rev,
            eeprom.rf,
            eeprom.tx_chains,
            eeprom.rx_chains,
            if autorun { ", autorun firmware" } else { "" },
            wifi::Mac(&eeprom.mac)
        );
        Ok(Self {
            csr,
            chip,
            eeprom,
            gone: false,
            bcn_time_cfg,
            beacon: None,
            in_flight: VecDeque::new(),
            statuses: VecDeque::new(),
            next_packet_id: 1,
            next_fifo_read_us: 0,
            last_pass_us: 0,
            rx: alloc::vec![0u8; TRANSFER_BYTES].into_boxed_slice(),
            tx: alloc::vec![0u8; TRANSFER_BYTES].into_boxed_slice(),
        })
    }

    /// True once the dongle has vanished: the radio then sends and receives nothing.
    pub fn is_gone(&self) -> bool {
        self.gone
    }

    /// Notes a failed operation; a vanished device stops the radio for good.
    fn failed(&mut self, what: &str, error: Error) {
        if error == Error::Bus(BusError::Gone) {
            if !self.gone {
                warn!("rt2800: dongle gone during {what}; radio stopped");
            }
            self.gone = true;
        } else {
            warn!("rt2800: {what} failed: {error}");
        }
    }

    fn free_packet_id(&mut self) -> Option<u8> {
        for _ in 0..MAX_IN_FLIGHT {
            let id = self.next_packet_id;
            self.next_packet_id = if id == MAX_IN_FLIGHT as u8 { 1 } else { id + 1 };
            if !self.in_flight.iter().any(|f| f.packet_id == id) {
                return Some(id);
            }
        }
        None
    }

    /// Puts `frame` into beacon slot 0 unless only its sequence number and
    /// timestamp changed; the first one starts the TBTT timer.
    fn write_beacon(&mut self, frame: &[u8]) -> Result<(), Error> {
        let same = |old: &Vec<u8>| {
            old.len() == frame.len()
                && old[..BEACON_VOLATILE.start] == frame[..BEACON_VOLATILE.start]
                && old[BEACON_VOLATILE.end..] == frame[BEACON_VOLATILE.end..]
        };
        if self.beacon.as_ref().is_some_and(same) {
            return Ok(());
        }
        let desc = TxDescriptor { rate: Rate::Cck1, ack: false, timestamp: true, hardware_sequence: true, packet_id: 0 };
        let slot = self.tx.get_mut(..regs::HW_BEACON_SIZE).ok_or(Error::BeaconTooLong(frame.len()))?;
        let len = wire::encode_beacon(&desc, frame, slot).ok_or(Error::BeaconTooLong(frame.len()))?;
        let generating = regs::BCN_BEACON_GEN.set(self.bcn_time_cfg, 0);
        self.csr.write(regs::BCN_TIME_CFG, generating)?;
        self.csr.write_block(regs::HW_BEACON_BASE0, &self.tx[..len])?;
        let mut on = regs::BCN_TSF_TICKING.set(self.bcn_time_cfg, 1);
        on = regs::BCN_TBTT_ENABLE.set(on, 1);
        on = regs::BCN_BEACON_GEN.set(on, 1);
        self.csr.write(regs::BCN_TIME_CFG, on)?;
        if self.beacon.is_none() {
            info!("rt2800: beaconing every 100 TU from the hardware template");
        }
        self.bcn_time_cfg = on;
        self.beacon = Some(frame.to_vec());
        Ok(())
    }

    fn send(&mut self, frame: &[u8], ack_token: Option<u32>, now_us: u64) -> Result<bool, Error> {
        let group = frame.get(4).is_some_and(|a1| a1 & 1 == 1);
        let management = frame.first().is_some_and(|fc| fc & 0x0c == 0);
        let packet_id = match ack_token {
            Some(_) => match self.free_packet_id() {
                Some(id) => id,
                None => return Ok(false),
            },
            None => 0,
        };
        let desc = TxDescriptor {
            rate: if management || group { Rate::Cck1 } else { Rate::Ofdm24 },
            ack: !group,
            timestamp: frame.first() == Some(&PROBE_RESPONSE),
            hardware_sequence: false,
            packet_id,
        };
        let Some(len) = wire::encode_tx(&desc, frame, &mut self.tx) else {
            debug!("rt2800: frame of {} bytes not sent (malformed or too long)", frame.len());
            return Ok(false);
        };
        self.csr.bus().bulk_out(&self.tx[..len])?;
        if let Some(token) = ack_token {
            self.in_flight.push_back(InFlight { packet_id, token, deadline_us: now_us + STATUS_TIMEOUT_US });
        }
        Ok(true)
    }

    /// Reads TX_STA_FIFO until it is empty (or `FIFO_READS_PER_PASS`).
    fn read_fifo(&mut self) -> Result<(), Error> {
        for _ in 0..FIFO_READS_PER_PASS {
            let Some(status) = TxStatus::decode(self.csr.read(regs::TX_STA_FIFO)?) else { return Ok(()) };
            if status.packet_id == 0 {
                continue;
            }
            match self.in_flight.iter().position(|f| f.packet_id == status.packet_id) {
                Some(i) => {
                    if let Some(frame) = self.in_flight.remove(i) {
                        self.statuses.push_back((frame.token, status.success));
                    }
                }
                None => debug!("rt2800: TX status for packet id {} with none in flight", status.packet_id),
            }
        }
        Ok(())
    }
}

impl<B: Rt2800Bus> Radio for Rt5370<B> {
    fn mac_address(&self) -> [u8; 6] {
        self.eeprom.mac
    }

    fn capabilities(&self) -> RadioCapabilities {
        RadioCapabilities { hardware_retry: true }
    }

    fn set_frequency(&mut self, mhz: u16) {
        let Some(ch) = channel::channel_of(mhz) else {
            warn!("rt2800: {mhz} MHz is not a channel 1-13; staying where it is");
            return;
        };
        if self.gone {
            return;
        }
        match channel::set_channel(&mut self.csr, self.chip, &self.eeprom, ch) {
            Ok(()) => info!("rt2800: channel {ch} ({mhz} MHz), TX power {}", self.eeprom.txpower1[usize::from(ch) - 1]),
            Err(e) => self.failed("channel setting", e),
        }
    }

    fn receive(&mut self, frame: &mut [u8]) -> Received {
        if self.gone {
            return Received::Nothing;
        }
        let len = match self.csr.bus().poll_bulk_in(&mut self.rx) {
            None => return Received::Nothing,
            Some(Ok(len)) => len.min(self.rx.len()),
            Some(Err(e)) => {
                self.failed("bulk IN", Error::Bus(e));
                return if self.gone { Received::Nothing } else { Received::Dropped };
            }
        };
        match wire::parse_rx(&self.rx[..len]) {
            Ok(rx) => match rx.copy_to(frame) {
                Some(len) => Received::Frame(len),
                None => Received::Dropped,
            },
            Err(e) => {
                debug!("rt2800: bulk IN of {len} bytes dropped: {e:?}");
                Received::Dropped
            }
        }
    }

    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>, now_us: u64) -> bool {
        if self.gone {
            return false;
        }
        let result = if frame.first() == Some(&BEACON) && frame.len() >= BEACON_VOLATILE.end {
            self.write_beacon(frame).map(|()| true)
        } else {
            self.send(frame, ack_token, now_us)
        };
        result.unwrap_or_else(|e| {
            self.failed("transmit", e);
            false
        })
    }

    fn tx_status(&mut self, now_us: u64) -> Option<(u32, bool)> {
        self.last_pass_us = now_us;
        if self.gone {
            while let Some(frame) = self.in_flight.pop_front() {
                self.statuses.push_back((frame.token, false));
            }
        } else if !self.in_flight.is_empty() && now_us >= self.next_fifo_read_us {
            self.next_fifo_read_us = now_us + FIFO_POLL_US;
            if let Err(e) = self.read_fifo() {
                self.failed("TX status read", e);
            }
        }
        while self.in_flight.front().is_some_and(|f| now_us >= f.deadline_us) {
            if let Some(frame) = self.in_flight.pop_front() {
                debug!("rt2800: no TX status for packet id {}: unacknowledged", frame.packet_id);
                self.statuses.push_back((frame.token, false));
            }
        }
        self.statuses.pop_front()
    }

    fn deadline(&self) -> Option<u64> {
        if self.gone {
            return self.in_flight.front().map(|_| self.last_pass_us);
        }
        let rx_poll = self.last_pass_us + RX_POLL_US;
        let status = self.in_flight.front().map(|f| f.deadline_us.min(self.next_fifo_read_us));
        Some(status.map_or(rx_poll, |s| s.min(rx_poll)))
    }

    fn interrupt_id(&self) -> Option<u32> {
        None
    }

    fn acknowledge_interrupt(&mut self) {}
}
