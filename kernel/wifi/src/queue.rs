//! A station's transmit queue, which is also its power-save buffer, with
//! stop-and-wait retransmission on missing ACKs.
//!
//! One frame per station is with the radio at a time (as radio hardware does),
//! so frames arrive in order and a retry keeps its place. While the station
//! dozes the queue just holds frames until a PS-Poll or a wake-up: one queue
//! means nothing is lost or reordered when a station changes its mind.

use crate::wire::frame::{self, flags};
use crate::Outbox;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Frames a station's queue holds (power-save buffer bound).
pub const CAPACITY: usize = 64;
/// Retransmissions after the first attempt before a frame is dropped.
pub const MAX_RETRIES: u8 = 4;
/// How long to wait for the radio's `tx_status` before counting the frame lost.
pub const STATUS_TIMEOUT_US: u64 = 500_000;

/// What a queued frame is for, so its fate can be acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Data or management: nothing to do when it arrives.
    Normal,
    /// The inactivity probe (null data): its ACK proves the station is there.
    Probe,
}

/// A frame waiting for (or with) the radio.
#[derive(Debug)]
struct Queued {
    frame: Vec<u8>,
    retries: u8,
    /// Handed to the radio before: a resend carries the Retry bit.
    sent: bool,
    kind: Kind,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    token: u32,
    sent_at: u64,
    /// Sent in answer to a PS-Poll: the station stays awake for it.
    polled: bool,
}

/// What became of the frame in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged.
    Acked(Kind),
    /// Not acknowledged; sent again (or kept for when the station wakes).
    Retrying,
    /// Not acknowledged after every retry: dropped.
    Exhausted(Kind),
}

/// The queue itself.
#[derive(Debug, Default)]
pub struct TxQueue {
    frames: VecDeque<Queued>,
    in_flight: Option<InFlight>,
}

impl TxQueue {
    /// Appends a frame; gives it back when the queue is full.
    pub fn push(&mut self, frame: Vec<u8>, kind: Kind) -> Result<(), Vec<u8>> {
        if self.frames.len() >= CAPACITY {
            return Err(frame);
        }
        self.frames.push_back(Queued {
            frame,
            retries: 0,
            sent: false,
            kind,
        });
        Ok(())
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Whether this token is the frame in flight.
    pub fn owns(&self, token: u32) -> bool {
        self.in_flight.is_some_and(|f| f.token == token)
    }

    /// When the frame in flight counts as lost without a status.
    pub fn deadline(&self) -> Option<u64> {
        self.in_flight
            .map(|f| f.sent_at.saturating_add(STATUS_TIMEOUT_US))
    }

    /// Whether the frame in flight has waited past its status deadline.
    pub fn status_overdue(&self, now: u64) -> Option<u32> {
        self.in_flight
            .filter(|f| now >= f.sent_at.saturating_add(STATUS_TIMEOUT_US))
            .map(|f| f.token)
    }

    /// Hands the head frame to the radio if the station is awake and nothing
    /// is in flight. Returns whether a frame went out.
    pub fn pump(&mut self, dozing: bool, token: &mut u32, now: u64, out: &mut dyn Outbox) -> bool {
        if dozing {
            return false;
        }
        self.send_head(false, false, token, now, out)
    }

    /// Answers a PS-Poll with the head frame (More Data when others wait).
    pub fn poll_one(&mut self, token: &mut u32, now: u64, out: &mut dyn Outbox) -> bool {
        self.send_head(true, true, token, now, out)
    }

    fn send_head(
        &mut self,
        dozing: bool,
        polled: bool,
        token: &mut u32,
        now: u64,
        out: &mut dyn Outbox,
    ) -> bool {
        if self.in_flight.is_some() {
            return false;
        }
        let more = self.frames.len() > 1;
        let Some(head) = self.frames.front_mut() else {
            return false;
        };
        frame::set_flag(&mut head.frame, flags::RETRY, head.sent);
        head.sent = true;
        frame::set_flag(&mut head.frame, flags::MORE_DATA, dozing && more);
        *token = token.wrapping_add(1);
        self.in_flight = Some(InFlight {
            token: *token,
            sent_at: now,
            polled,
        });
        out.transmit(&head.frame, Some(*token));
        true
    }

    /// Applies the radio's report on the frame in flight. Without hardware
    /// retry, a miss is retransmitted at once, unless the station went to
    /// sleep meanwhile: then the frame waits for it without spending a retry.
    pub fn status(
        &mut self,
        acked: bool,
        hardware_retry: bool,
        dozing: bool,
        token: &mut u32,
        now: u64,
        out: &mut dyn Outbox,
    ) -> Option<Outcome> {
        let flight = self.in_flight.take()?;
        if acked {
            return self.frames.pop_front().map(|q| Outcome::Acked(q.kind));
        }
        let head = self.frames.front_mut()?;
        if hardware_retry || head.retries >= MAX_RETRIES {
            return self.frames.pop_front().map(|q| Outcome::Exhausted(q.kind));
        }
        if dozing && !flight.polled {
            return Some(Outcome::Retrying);
        }
        head.retries += 1;
        self.send_head(dozing, flight.polled, token, now, out);
        Some(Outcome::Retrying)
    }

    /// Drops everything (the station left); returns how many frames went.
    pub fn clear(&mut self) -> usize {
        self.in_flight = None;
        let n = self.frames.len();
        self.frames.clear();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Radio(Vec<(Vec<u8>, Option<u32>)>);

    impl Outbox for Radio {
        fn transmit(&mut self, frame: &[u8], token: Option<u32>) {
            self.0.push((frame.to_vec(), token));
        }
        fn deliver(&mut self, _: &[u8]) {}
    }

    fn frame(n: u8) -> Vec<u8> {
        let mut f = alloc::vec![0x88, 0x02];
        f.extend_from_slice(&[n; 22]);
        f
    }

    #[test]
    fn one_frame_in_flight_at_a_time_in_order() {
        let (mut q, mut radio, mut token) = (TxQueue::default(), Radio::default(), 0);
        q.push(frame(1), Kind::Normal).unwrap();
        q.push(frame(2), Kind::Normal).unwrap();
        assert!(q.pump(false, &mut token, 0, &mut radio));
        assert!(!q.pump(false, &mut token, 0, &mut radio));
        assert_eq!(radio.0.len(), 1);
        assert_eq!(
            q.status(true, false, false, &mut token, 0, &mut radio),
            Some(Outcome::Acked(Kind::Normal))
        );
        assert!(q.pump(false, &mut token, 0, &mut radio));
        assert_eq!(radio.0[1].0[2], 2);
        assert_ne!(radio.0[0].1, radio.0[1].1);
    }

    #[test]
    fn unacknowledged_frame_is_retried_four_times_with_the_retry_bit() {
        let (mut q, mut radio, mut token) = (TxQueue::default(), Radio::default(), 0);
        q.push(frame(1), Kind::Probe).unwrap();
        q.pump(false, &mut token, 0, &mut radio);
        for _ in 0..MAX_RETRIES {
            assert_eq!(
                q.status(false, false, false, &mut token, 0, &mut radio),
                Some(Outcome::Retrying)
            );
        }
        assert_eq!(
            q.status(false, false, false, &mut token, 0, &mut radio),
            Some(Outcome::Exhausted(Kind::Probe))
        );
        assert_eq!(radio.0.len(), 5);
        assert_eq!(radio.0[0].0[1] & 0x08, 0);
        assert!(radio.0[1..].iter().all(|(f, _)| f[1] & 0x08 == 0x08));
        assert!(q.is_empty());
    }

    #[test]
    fn hardware_retry_makes_the_first_miss_final() {
        let (mut q, mut radio, mut token) = (TxQueue::default(), Radio::default(), 0);
        q.push(frame(1), Kind::Normal).unwrap();
        q.pump(false, &mut token, 0, &mut radio);
        assert_eq!(
            q.status(false, true, false, &mut token, 0, &mut radio),
            Some(Outcome::Exhausted(Kind::Normal))
        );
    }

    #[test]
    fn miss_while_dozing_waits_for_the_station_without_spending_a_retry() {
        let (mut q, mut radio, mut token) = (TxQueue::default(), Radio::default(), 0);
        q.push(frame(1), Kind::Normal).unwrap();
        q.push(frame(2), Kind::Normal).unwrap();
        q.pump(false, &mut token, 0, &mut radio);
        assert_eq!(
            q.status(false, false, true, &mut token, 0, &mut radio),
            Some(Outcome::Retrying)
        );
        assert_eq!(radio.0.len(), 1);
        assert!(!q.pump(true, &mut token, 0, &mut radio));
        // PS-Poll: the head goes out with More Data, since another waits.
        assert!(q.poll_one(&mut token, 0, &mut radio));
        assert_eq!(radio.0[1].0[1] & 0x28, 0x28); // More Data, and Retry: it was sent before
        assert_eq!(radio.0[1].0[2], 1);
    }

    #[test]
    fn full_queue_gives_the_frame_back() {
        let mut q = TxQueue::default();
        for _ in 0..CAPACITY {
            q.push(frame(0), Kind::Normal).unwrap();
        }
        assert!(q.push(frame(1), Kind::Normal).is_err());
        assert_eq!(q.clear(), CAPACITY);
    }

    #[test]
    fn status_overdue_after_the_timeout_only() {
        let (mut q, mut radio, mut token) = (TxQueue::default(), Radio::default(), 0);
        q.push(frame(1), Kind::Normal).unwrap();
        q.pump(false, &mut token, 100, &mut radio);
        assert_eq!(q.status_overdue(100 + STATUS_TIMEOUT_US - 1), None);
        assert_eq!(q.status_overdue(100 + STATUS_TIMEOUT_US), Some(token));
        assert_eq!(q.deadline(), Some(100 + STATUS_TIMEOUT_US));
    }
}
