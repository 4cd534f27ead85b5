//! WPA2 in the access point: the 4-way handshake right after association,
//! EAPOL to and from each station's `rsn::Authenticator`, and CCMP on data
//! frames once the station is keyed.
//!
//! The cryptography and the handshake's own state are in `rsn`; this module
//! only carries frames between it and the stations, counts and enforces
//! (nothing but EAPOL before the keys, deauthentication when it fails).

use super::AccessPoint;
use crate::queue::Kind;
use crate::rsn::{Authenticator, CcmpError, GroupKey, HandshakeError, Psk, Step};
use crate::station::Keys;
use crate::wire::data::{self as wdata, ETHERTYPE_EAPOL};
use crate::wire::ReasonCode;
use crate::{Mac, Outbox};
use alloc::boxed::Box;
use alloc::vec::Vec;
use log::info;
use rand_chacha::ChaCha20Rng;

/// The network's WPA2 secrets.
pub(super) struct Wpa2 {
    /// From the passphrase and SSID, derived once.
    pub psk: Psk,
    /// The group key for broadcast and multicast.
    pub gtk: GroupKey,
    /// ANonces for the handshakes.
    pub rng: ChaCha20Rng,
}

impl AccessPoint {
    /// Station `i` associated on a secured network: send message 1.
    pub(super) fn start_handshake(
        &mut self,
        i: usize,
        station_rsn: &[u8],
        now: u64,
        out: &mut dyn Outbox,
    ) {
        let Some(w) = self.wpa2.as_mut() else { return };
        let mut auth = Authenticator::new(
            &w.psk,
            self.bss.bssid,
            self.stations[i].mac,
            station_rsn,
            &w.gtk,
            &mut w.rng,
        );
        let message1 = auth.start(now);
        self.stations[i].keys = Keys::Handshake(Box::new(auth));
        self.send_eapol(i, &message1, now, out);
    }

    /// An EAPOL frame to station `i`, unprotected (the handshake runs before any key).
    fn send_eapol(&mut self, i: usize, eapol: &[u8], now: u64, out: &mut dyn Outbox) {
        let s = &mut self.stations[i];
        let (mac, seq, qos) = (s.mac, s.next_seq(), s.qos.then_some(0));
        let bssid = self.bss.bssid;
        let mut frame = wdata::from_ds_header(&mac, &bssid, &bssid, seq, qos);
        frame.extend_from_slice(&wdata::snap_encap(ETHERTYPE_EAPOL, eapol));
        self.enqueue(i, frame, Kind::Normal, now, out);
    }

    /// An EAPOL frame from station `i` (the payload after LLC/SNAP).
    pub(super) fn receive_eapol(&mut self, i: usize, eapol: &[u8], now: u64, out: &mut dyn Outbox) {
        let Keys::Handshake(auth) = &mut self.stations[i].keys else {
            self.counters.drops.unsupported += 1; // no handshake under way (group rekeying is not served)
            return;
        };
        match auth.receive(eapol, now) {
            Ok(Step::Send(message3)) => self.send_eapol(i, &message3, now, out),
            Ok(Step::Done(key)) => {
                self.stations[i].keys = Keys::Keyed(Box::new(key));
                self.join(i);
            }
            Ok(Step::Ignore) => self.counters.drops.unsupported += 1,
            Err(e) => self.handshake_error(i, e, out),
        }
    }

    /// Counts a handshake error; a fatal one ends in deauthentication (reason 15).
    fn handshake_error(&mut self, i: usize, e: HandshakeError, out: &mut dyn Outbox) {
        let d = &mut self.counters.drops;
        match e {
            HandshakeError::Mic => d.mic += 1,
            HandshakeError::Replay => d.replay += 1,
            HandshakeError::Malformed => d.bad_element += 1,
            HandshakeError::Unexpected => d.unsupported += 1,
            HandshakeError::RsnMismatch | HandshakeError::Timeout => {}
        }
        if e.is_fatal() {
            self.counters.handshake_failures += 1;
            info!(
                "wifi: {} failed the 4-way handshake ({e:?}): wrong passphrase?",
                Mac(&self.stations[i].mac)
            );
            self.remove(
                i,
                Some(ReasonCode::HANDSHAKE_TIMEOUT),
                "handshake failed",
                out,
            );
        }
    }

    /// Retransmits handshake messages that went unanswered, or gives up on them.
    pub(super) fn run_handshakes(&mut self, now: u64, out: &mut dyn Outbox) {
        let mut i = self.stations.len();
        while i > 0 {
            i -= 1;
            let Keys::Handshake(auth) = &mut self.stations[i].keys else {
                continue;
            };
            match auth.poll(now) {
                Some(Ok(again)) => self.send_eapol(i, &again, now, out),
                Some(Err(e)) => self.handshake_error(i, e, out),
                None => {}
            }
        }
    }

    /// The earliest handshake retransmission due.
    pub(super) fn handshake_deadline(&self) -> Option<u64> {
        self.stations
            .iter()
            .filter_map(|s| match &s.keys {
                Keys::Handshake(auth) => auth.deadline(),
                _ => None,
            })
            .min()
    }

    /// Checks and decrypts a protected frame from station `i`: the frame as if
    /// sent in the clear, or `None` (counted). A station still in the handshake may protect a repeated message 4 with
    /// the key of an earlier message 3: that key opens it (EAPOL only, see `data`).
    pub(super) fn unprotect(&mut self, i: usize, frame: &[u8]) -> Option<Vec<u8>> {
        let pending = match &self.stations[i].keys {
            Keys::Handshake(auth) => auth.pending_key(),
            _ => None,
        };
        let result = match (&mut self.stations[i].keys, pending) {
            (Keys::Keyed(key), _) => key.unprotect(frame),
            (_, Some(mut pending)) => pending.unprotect(frame),
            _ => {
                self.counters.drops.unauthorized += 1;
                return None;
            }
        };
        let d = &mut self.counters.drops;
        match result {
            Ok(plain) => return Some(plain),
            Err(CcmpError::Mic) => d.mic += 1,
            Err(CcmpError::Replay) => d.replay += 1,
            Err(CcmpError::Truncated) => d.truncated += 1,
            Err(CcmpError::NotProtected | CcmpError::ExtIv | CcmpError::KeyId) => {
                d.unsupported += 1
            }
        }
        None
    }

    /// A unicast frame for station `i`: CCMP-protected once it is keyed.
    pub(super) fn seal_unicast(&mut self, i: usize, mut header: Vec<u8>, body: &[u8]) -> Vec<u8> {
        match &mut self.stations[i].keys {
            Keys::Keyed(key) => key.protect(&header, body),
            _ => {
                header.extend_from_slice(body);
                header
            }
        }
    }

    /// A group frame: CCMP-protected with the group key on a secured network.
    pub(super) fn seal_group(&mut self, mut header: Vec<u8>, body: &[u8]) -> Vec<u8> {
        match &mut self.wpa2 {
            Some(w) => w.gtk.protect(&header, body),
            None => {
                header.extend_from_slice(body);
                header
            }
        }
    }
}

#[cfg(test)]
mod tests;
