//! Management frames from stations: probe requests, open-system
//! authentication, (re)association with AID allocation, deauthentication,
//! disassociation, and the block-ack requests we decline.
//!
//! Status and reason codes as IEEE 802.11-2020 §9.4.1.7/§9.4.1.9 and
//! §11.3.3's frame classes; choices where the standard leaves room follow hostapd.

use super::{AccessPoint, AUTH_SLACK};
use crate::queue::Kind;
use crate::station::{State, Station, SLOT_MGMT};
use crate::wire::frame::{flags, mgmt as sub, Header};
use crate::wire::mgmt::{
    action, capability, probe_wants, AddbaRequest, AssocRequest, Authentication, AUTH_OPEN,
};
use crate::wire::{ie, is_group, mgmt as wmgmt, MacAddr, ReasonCode, StatusCode, BROADCAST};
use crate::{rsn, Mac, Outbox};
use log::debug;

/// The BSS's basic rates (500 kb/s units): every station must support them.
const BASIC_RATES: [u8; 4] = [2, 4, 11, 22];

impl AccessPoint {
    pub(super) fn receive_management(&mut self, frame: &[u8], now: u64, out: &mut dyn Outbox) {
        let h = match Header::parse(frame) {
            Ok(h) => h,
            Err(e) => return self.counters.parse_error(e),
        };
        if h.fc.has(flags::MORE_FRAGMENTS) || h.fragment() != 0 || h.fc.has(flags::PROTECTED) {
            self.counters.drops.unsupported += 1;
            return;
        }
        if is_group(&h.addr2) {
            self.counters.drops.bad_element += 1;
            return;
        }
        let subtype = h.fc.subtype();
        if subtype == sub::PROBE_REQ {
            return self.probe_request(&h, now, out);
        }
        if h.addr1 != self.bss.bssid || h.addr3 != self.bss.bssid {
            self.counters.drops.not_for_us += 1;
            return;
        }
        let known = self.station(&h.addr2);
        if let Some(i) = known {
            let s = &mut self.stations[i];
            if s.is_duplicate(SLOT_MGMT, h.fc.has(flags::RETRY), h.seq_ctl) {
                self.counters.drops.duplicate += 1;
                return;
            }
            s.heard(now);
            if s.associated() && !matches!(subtype, sub::AUTH | sub::DEAUTH) {
                self.power_management(i, h.fc.has(flags::POWER_MGMT), now, out);
            }
        }
        match subtype {
            sub::AUTH => self.authentication(&h, known, now, out),
            sub::ASSOC_REQ | sub::REASSOC_REQ => {
                self.association(&h, known, subtype == sub::REASSOC_REQ, now, out)
            }
            sub::DEAUTH | sub::DISASSOC => self.farewell(&h, known, subtype == sub::DEAUTH),
            sub::ACTION | sub::ACTION_NO_ACK => {
                self.action(&h, known, subtype == sub::ACTION, now, out)
            }
            _ => self.counters.drops.not_for_us += 1,
        }
    }

    fn probe_request(&mut self, h: &Header<'_>, now: u64, out: &mut dyn Outbox) {
        let to_us = |a: &MacAddr| *a == BROADCAST || *a == self.bss.bssid;
        if !to_us(&h.addr1) || !to_us(&h.addr3) {
            self.counters.drops.not_for_us += 1;
            return;
        }
        match probe_wants(h, self.config.ssid.as_bytes()) {
            Ok(true) => {
                let seq = self.next_seq();
                out.transmit(&self.bss.probe_response(&h.addr2, seq, now), None);
            }
            Ok(false) => self.counters.drops.not_for_us += 1,
            Err(e) => self.counters.parse_error(e),
        }
    }

    fn authentication(
        &mut self,
        h: &Header<'_>,
        known: Option<usize>,
        now: u64,
        out: &mut dyn Outbox,
    ) {
        let auth = match Authentication::parse(h.body) {
            Ok(a) => a,
            Err(e) => return self.counters.parse_error(e),
        };
        let refuse = |ap: &mut Self, status: StatusCode, out: &mut dyn Outbox| {
            let seq = ap.next_seq();
            out.transmit(
                &ap.bss.authentication(&h.addr2, seq, auth.algorithm, status),
                None,
            );
        };
        if auth.algorithm != AUTH_OPEN {
            self.counters.drops.unknown_algorithm += 1;
            debug!(
                "wifi: {} asked for authentication algorithm {}",
                Mac(&h.addr2),
                auth.algorithm
            );
            return refuse(self, StatusCode::UNSUPPORTED_AUTH_ALGORITHM, out);
        }
        if auth.transaction != 1 {
            self.counters.drops.auth_sequence += 1;
            return refuse(self, StatusCode::AUTH_OUT_OF_SEQUENCE, out);
        }
        let i = match known {
            // Authenticating again (a phone that restarted): back to state 2.
            Some(i) => {
                self.reset_to_authenticated(i, "authenticated again");
                i
            }
            None => match self.admit(&h.addr2, now) {
                Some(i) => {
                    self.stations[i].note_seq(SLOT_MGMT, h.seq_ctl);
                    i
                }
                None => return refuse(self, StatusCode::AP_FULL, out),
            },
        };
        let body = self
            .bss
            .authentication(&h.addr2, 0, AUTH_OPEN, StatusCode::SUCCESS);
        self.send_management(i, sub::AUTH, &body[24..], now, out);
    }

    /// A table entry for a newly authenticated station, evicting the longest
    /// silent authenticated-only one when the table is full.
    fn admit(&mut self, mac: &MacAddr, now: u64) -> Option<usize> {
        if self.stations.len() >= self.config.max_stations + AUTH_SLACK {
            let oldest = (0..self.stations.len())
                .filter(|&i| !self.stations[i].associated())
                .min_by_key(|&i| self.stations[i].last_activity)?;
            self.remove(oldest, None, "evicted", &mut NoReply);
        }
        self.stations.push(Station::new(*mac, now));
        Some(self.stations.len() - 1)
    }

    /// Drops station `i` back to state 2: AID freed, buffers and keys gone.
    fn reset_to_authenticated(&mut self, i: usize, why: &str) {
        self.leave(i, why);
        self.counters.drops.station_gone += self.stations[i].reset() as u64;
        self.count_stations();
    }

    fn association(
        &mut self,
        h: &Header<'_>,
        known: Option<usize>,
        reassoc: bool,
        now: u64,
        out: &mut dyn Outbox,
    ) {
        let Some(i) = known else {
            self.counters.drops.not_authenticated += 1;
            return self.deauth_unqueued(&h.addr2, ReasonCode::CLASS2_FROM_UNAUTHENTICATED, out);
        };
        let req = match AssocRequest::parse(h.body, reassoc) {
            Ok(r) => r,
            Err(e) => return self.counters.parse_error(e),
        };
        let status = self.assoc_status(&req, i);
        let mac = self.stations[i].mac;
        if status != StatusCode::SUCCESS {
            self.counters.drops.assoc_refused += 1;
            debug!(
                "wifi: {} association refused, status {}",
                Mac(&mac),
                status.0
            );
            if self.stations[i].associated() {
                self.reset_to_authenticated(i, "reassociation refused");
            }
            let body = self.bss.assoc_response(&mac, 0, reassoc, status, 0, false);
            return self.send_management(
                i,
                if reassoc {
                    sub::REASSOC_RESP
                } else {
                    sub::ASSOC_RESP
                },
                &body[24..],
                now,
                out,
            );
        }
        let aid = match self.stations[i].aid() {
            Some(aid) => aid,
            None => self.free_aid().unwrap_or(0),
        };
        let s = &mut self.stations[i];
        s.state = State::Associated { aid };
        s.qos = req.wmm();
        s.listen_interval = req.listen_interval;
        debug!("wifi: {} associated, AID {aid}", Mac(&mac));
        self.count_stations();
        let body = self
            .bss
            .assoc_response(&mac, 0, reassoc, status, aid, req.wmm());
        self.send_management(
            i,
            if reassoc {
                sub::REASSOC_RESP
            } else {
                sub::ASSOC_RESP
            },
            &body[24..],
            now,
            out,
        );
        match req
            .elements
            .find(ie::id::RSN)
            .filter(|_| self.wpa2.is_some())
        {
            Some(rsn) => self.start_handshake(i, rsn.raw, now, out),
            None => self.join(i),
        }
    }

    /// What to answer an association request from station `i`.
    fn assoc_status(&self, req: &AssocRequest<'_>, i: usize) -> StatusCode {
        if req.ssid() != Some(self.config.ssid.as_bytes()) {
            return StatusCode::DENIED_OTHER;
        }
        if req.capability & capability::IBSS != 0 || req.capability & capability::ESS == 0 {
            return StatusCode::CAPABILITIES_UNSUPPORTED;
        }
        if !BASIC_RATES
            .iter()
            .all(|b| ie::rates(req.elements).any(|r| r == *b))
        {
            return StatusCode::BASIC_RATES_MISMATCH;
        }
        if self.wpa2.is_some() {
            let Some(rsn) = req.elements.find(ie::id::RSN) else {
                return StatusCode::INVALID_ELEMENT;
            };
            if let Err(e) = rsn::check_station_rsn(rsn.raw) {
                return StatusCode(e.status_code());
            }
        }
        if self.stations[i].aid().is_none() && self.free_aid().is_none() {
            return StatusCode::AP_FULL;
        }
        StatusCode::SUCCESS
    }

    /// The lowest AID no station holds, within the station limit.
    fn free_aid(&self) -> Option<u16> {
        (1..=self.config.max_stations as u16)
            .find(|aid| !self.stations.iter().any(|s| s.aid() == Some(*aid)))
    }

    fn farewell(&mut self, h: &Header<'_>, known: Option<usize>, deauth: bool) {
        if wmgmt::parse_reason(h.body).is_err() {
            self.counters.drops.truncated += 1;
            return;
        }
        let Some(i) = known else {
            self.counters.drops.not_authenticated += 1;
            return;
        };
        if deauth {
            self.remove(i, None, "deauthenticated", &mut NoReply);
        } else if self.stations[i].associated() {
            self.reset_to_authenticated(i, "disassociated");
        }
    }

    fn action(
        &mut self,
        h: &Header<'_>,
        known: Option<usize>,
        wants_ack: bool,
        now: u64,
        out: &mut dyn Outbox,
    ) {
        let class1 = matches!(
            h.body.first(),
            Some(&(action::PUBLIC | action::SELF_PROTECTED))
        );
        let Some(i) = known.filter(|&i| self.stations[i].associated()) else {
            if class1 {
                self.counters.drops.unsupported += 1;
                return;
            }
            self.counters.drops.not_associated += 1;
            return self.class3_from_stranger(&h.addr2, known, out);
        };
        match AddbaRequest::parse(h.body) {
            Some(req) if wants_ack => {
                let seq = self.stations[i].next_seq();
                let f = self.bss.addba_decline(&h.addr2, seq, &req);
                self.enqueue(i, f, Kind::Normal, now, out);
            }
            _ => self.counters.drops.unsupported += 1,
        }
    }

    /// A class-3 frame from a station not associated: deauthenticate it
    /// (reason 7) and forget it, as §11.3.3 asks.
    pub(super) fn class3_from_stranger(
        &mut self,
        mac: &MacAddr,
        known: Option<usize>,
        out: &mut dyn Outbox,
    ) {
        if let Some(i) = known {
            self.remove(i, None, "not associated", out);
        }
        self.deauth_unqueued(mac, ReasonCode::CLASS3_FROM_UNASSOCIATED, out);
    }
}

/// For removals that send nothing.
struct NoReply;

impl Outbox for NoReply {
    fn transmit(&mut self, _: &[u8], _: Option<u32>) {}
    fn deliver(&mut self, _: &[u8]) {}
}

#[cfg(test)]
mod tests;
