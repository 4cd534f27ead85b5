//! One station as the access point sees it: the 802.11 state machine
//! (authenticated → associated), power-save state, sequence numbers, the
//! duplicate filter and its transmit queue.
//!
//! States follow IEEE 802.11-2020 §11.3 (state 2 = authenticated, state 3 =
//! associated; with WPA2, "keyed" once the 4-way handshake completes).

use crate::queue::TxQueue;
use crate::rsn::{Authenticator, PairwiseKey};
use crate::wire::MacAddr;
use alloc::boxed::Box;
use core::fmt;

/// Where a station's WPA2 keys stand (always `None` on an open network).
pub enum Keys {
    /// No handshake (open network, or not associated).
    None,
    /// The 4-way handshake is under way: only EAPOL passes.
    Handshake(Box<Authenticator>),
    /// Keyed: its data is CCMP-protected with this key.
    Keyed(Box<PairwiseKey>),
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Keys::None => "None",
            Keys::Handshake(_) => "Handshake",
            Keys::Keyed(_) => "Keyed",
        })
    }
}

/// Where a station is in joining.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Open-system authentication done (state 2).
    Authenticated,
    /// Associated with this AID (state 3).
    Associated {
        /// Association ID, 1..=2007.
        aid: u16,
    },
}

/// Duplicate-filter slots: one per TID, one for non-QoS data, one for management.
const SEQ_SLOTS: usize = 18;
/// The slot of non-QoS data frames.
pub const SLOT_NON_QOS: usize = 16;
/// The slot of management frames.
pub const SLOT_MGMT: usize = 17;

/// A station known to the access point.
#[derive(Debug)]
pub struct Station {
    /// Its address.
    pub mac: MacAddr,
    /// Authenticated or associated.
    pub state: State,
    /// It announced WMM: it gets QoS data frames.
    pub qos: bool,
    /// Beacon intervals it may sleep through (from its association request).
    pub listen_interval: u16,
    /// In power save (its last frame had the PM bit set).
    pub dozing: bool,
    /// Frames for it, in order; also its power-save buffer.
    pub queue: TxQueue,
    /// Last time it was heard from or acknowledged a frame.
    pub last_activity: u64,
    /// An inactivity probe is out; the station goes if silent until then.
    pub probe_deadline: Option<u64>,
    /// Counted in `joins` (so its leaving is counted in `leaves`).
    pub joined: bool,
    /// WPA2 handshake or key.
    pub keys: Keys,
    rx_seq: [Option<u16>; SEQ_SLOTS],
    tx_seq: u16,
}

impl Station {
    /// A station that just authenticated.
    pub fn new(mac: MacAddr, now: u64) -> Self {
        Station {
            mac,
            state: State::Authenticated,
            qos: false,
            listen_interval: 0,
            dozing: false,
            queue: TxQueue::default(),
            last_activity: now,
            probe_deadline: None,
            joined: false,
            keys: Keys::None,
            rx_seq: [None; SEQ_SLOTS],
            tx_seq: 0,
        }
    }

    /// Its AID when associated.
    pub fn aid(&self) -> Option<u16> {
        match self.state {
            State::Associated { aid } => Some(aid),
            State::Authenticated => None,
        }
    }

    /// Whether it is associated.
    pub fn associated(&self) -> bool {
        self.aid().is_some()
    }

    /// Records a received frame's sequence control in `slot` and says whether
    /// it is a retransmission of the last one (Retry bit, same sequence control).
    pub fn is_duplicate(&mut self, slot: usize, retry: bool, seq_ctl: u16) -> bool {
        let Some(last) = self.rx_seq.get_mut(slot) else {
            return false;
        };
        if retry && *last == Some(seq_ctl) {
            return true;
        }
        *last = Some(seq_ctl);
        false
    }

    /// Records the sequence control of a frame that created this entry.
    pub fn note_seq(&mut self, slot: usize, seq_ctl: u16) {
        if let Some(last) = self.rx_seq.get_mut(slot) {
            *last = Some(seq_ctl);
        }
    }

    /// The next sequence number for a frame to it.
    pub fn next_seq(&mut self) -> u16 {
        let seq = self.tx_seq;
        self.tx_seq = (self.tx_seq + 1) & 0xfff;
        seq
    }

    /// Back to state 2 (disassociated, or authenticating again): AID, power
    /// save and queue go; sequence numbers and the duplicate filter stay, so
    /// retries are still caught. Returns the frames dropped from the queue.
    pub fn reset(&mut self) -> usize {
        self.state = State::Authenticated;
        self.qos = false;
        self.dozing = false;
        self.probe_deadline = None;
        self.joined = false;
        self.keys = Keys::None;
        self.queue.clear()
    }

    /// Heard from (or acknowledged by) the station: it is alive.
    pub fn heard(&mut self, now: u64) {
        self.last_activity = now;
        self.probe_deadline = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_with_the_same_sequence_control_is_a_duplicate() {
        let mut s = Station::new([2; 6], 0);
        assert!(!s.is_duplicate(0, false, 0x10));
        assert!(s.is_duplicate(0, true, 0x10));
        assert!(!s.is_duplicate(0, true, 0x20));
    }

    #[test]
    fn same_sequence_without_retry_or_on_another_tid_is_new() {
        let mut s = Station::new([2; 6], 0);
        assert!(!s.is_duplicate(0, false, 0x10));
        assert!(!s.is_duplicate(0, false, 0x10));
        assert!(!s.is_duplicate(5, true, 0x10));
        assert!(!s.is_duplicate(SEQ_SLOTS, true, 0x10));
    }

    #[test]
    fn sequence_numbers_wrap_at_4096() {
        let mut s = Station::new([2; 6], 0);
        s.tx_seq = 4095;
        assert_eq!((s.next_seq(), s.next_seq()), (4095, 0));
    }
}
