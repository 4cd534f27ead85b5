//! Data frames: stations' ToDS data to Ethernet for the wired side, Ethernet
//! from the wired side to FromDS data for one station or all, and relaying
//! between stations when client isolation is off.
//!
//! Bridging follows Linux mac80211's AP mode: unicast between two stations
//! is relayed over the air and not passed up; group frames are passed up
//! and relayed; with isolation, nothing is relayed and everything passes up.

use super::AccessPoint;
use crate::queue::Kind;
use crate::station::{Keys, SLOT_NON_QOS};
use crate::wire::data::{self as wdata, Ethernet, ETHERTYPE_EAPOL};
use crate::wire::frame::{flags, Header};
use crate::wire::{is_group, MacAddr};
use crate::Outbox;

/// QoS control bit: the body is an A-MSDU (we decline block ack, so never expected).
const QOS_AMSDU: u16 = 0x0080;

impl AccessPoint {
    pub(super) fn receive_data(&mut self, frame: &[u8], now: u64, out: &mut dyn Outbox) {
        let h = match Header::parse(frame) {
            Ok(h) => h,
            Err(e) => return self.counters.parse_error(e),
        };
        if !h.fc.has(flags::TO_DS) || h.fc.has(flags::FROM_DS) || h.addr1 != self.bss.bssid {
            self.counters.drops.not_for_us += 1;
            return;
        }
        let known = self.station(&h.addr2);
        let Some(i) = known.filter(|&i| self.stations[i].associated()) else {
            self.counters.drops.not_associated += 1;
            return self.class3_from_stranger(&h.addr2, known, out);
        };
        if h.fc.has(flags::MORE_FRAGMENTS) || h.fragment() != 0 {
            self.counters.drops.unsupported += 1;
            return;
        }
        let slot = h.tid().map_or(SLOT_NON_QOS, usize::from);
        let s = &mut self.stations[i];
        if s.is_duplicate(slot, h.fc.has(flags::RETRY), h.seq_ctl) {
            self.counters.drops.duplicate += 1;
            return;
        }
        s.heard(now);
        self.power_management(i, h.fc.has(flags::POWER_MGMT), now, out);
        if h.fc.is_null_data() {
            return;
        }
        if h.qos.is_some_and(|q| q & QOS_AMSDU != 0) {
            self.counters.drops.unsupported += 1;
            return;
        }
        let protected = h.fc.has(flags::PROTECTED);
        let plain;
        let body = if !protected {
            h.body
        } else if self.wpa2.is_none() {
            self.counters.drops.unsupported += 1;
            return;
        } else {
            match self.unprotect(i, frame) {
                Some(p) => plain = p,
                None => return,
            }
            plain.get(h.len..).unwrap_or_default()
        };
        let (ethertype, payload) = match wdata::snap_decap(body) {
            Ok(x) => x,
            Err(e) => return self.counters.parse_error(e),
        };
        if self.wpa2.is_some() {
            if ethertype == ETHERTYPE_EAPOL {
                return self.receive_eapol(i, payload, now, out);
            }
            if !protected || !matches!(self.stations[i].keys, Keys::Keyed(_)) {
                self.counters.drops.unauthorized += 1;
                return;
            }
        }
        self.bridge(&h.addr3, &h.addr2, ethertype, payload, now, out);
    }

    /// Passes a station's frame (`sa` → `da`) up, over the air, or both.
    fn bridge(
        &mut self,
        da: &MacAddr,
        sa: &MacAddr,
        ethertype: u16,
        payload: &[u8],
        now: u64,
        out: &mut dyn Outbox,
    ) {
        let isolated = self.config.client_isolation;
        if is_group(da) {
            out.deliver(&wdata::ethernet(da, sa, ethertype, payload));
            if isolated {
                self.counters.drops.isolated += 1;
            } else {
                self.counters.relayed += 1;
                self.send_group(da, sa, ethertype, payload, out);
            }
            return;
        }
        match self.station(da).filter(|&j| self.ready(&self.stations[j])) {
            Some(j) if !isolated => {
                self.counters.relayed += 1;
                self.send_unicast(j, sa, ethertype, payload, now, out);
            }
            Some(_) => {
                self.counters.drops.isolated += 1;
                out.deliver(&wdata::ethernet(da, sa, ethertype, payload));
            }
            None => out.deliver(&wdata::ethernet(da, sa, ethertype, payload)),
        }
    }

    pub(super) fn send_ethernet(&mut self, ethernet: &[u8], now: u64, out: &mut dyn Outbox) {
        let e = match Ethernet::parse(ethernet) {
            Ok(e) => e,
            Err(err) => return self.counters.parse_error(err),
        };
        if is_group(&e.dst) {
            return self.send_group(&e.dst, &e.src, e.ethertype, e.payload, out);
        }
        match self
            .station(&e.dst)
            .filter(|&i| self.ready(&self.stations[i]))
        {
            Some(i) => self.send_unicast(i, &e.src, e.ethertype, e.payload, now, out),
            None => self.counters.drops.no_station += 1,
        }
    }

    /// A FromDS data frame for station `i` (QoS data, best effort, if it does WMM).
    fn send_unicast(
        &mut self,
        i: usize,
        sa: &MacAddr,
        ethertype: u16,
        payload: &[u8],
        now: u64,
        out: &mut dyn Outbox,
    ) {
        let s = &mut self.stations[i];
        let (mac, seq, qos) = (s.mac, s.next_seq(), s.qos.then_some(0));
        let header = wdata::from_ds_header(&mac, &self.bss.bssid, sa, seq, qos);
        let frame = self.seal_unicast(i, header, &wdata::snap_encap(ethertype, payload));
        self.enqueue(i, frame, Kind::Normal, now, out);
    }

    /// A FromDS group data frame to `da` on behalf of `sa`.
    fn send_group(
        &mut self,
        da: &MacAddr,
        sa: &MacAddr,
        ethertype: u16,
        payload: &[u8],
        out: &mut dyn Outbox,
    ) {
        let seq = self.next_seq();
        let header = wdata::from_ds_header(da, &self.bss.bssid, sa, seq, None);
        let frame = self.seal_group(header, &wdata::snap_encap(ethertype, payload));
        self.transmit_group(frame, out);
    }
}

#[cfg(test)]
mod tests;
