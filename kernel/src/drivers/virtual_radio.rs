//! The virtual radio of QEMU: a virtio-net device whose Ethernet frames
//! each carry one 802.11 frame (`net::radio::link_frame`), linked to a
//! phone VM's mac80211_hwsim by its forwarder (docs/wifi.md).
//!
//! It behaves as radio hardware does, so the access point above it is the
//! one a real radio would get: it acknowledges unicast frames addressed to
//! it with an 802.11 ACK, keeps at most one unicast frame of its own waiting
//! for the far side's ACK (stop-and-wait, with the others queued behind it),
//! and reports "not acknowledged" when no ACK comes within `ACK_TIMEOUT_US`;
//! retrying is the access point's job. Group frames (beacons) go out at once.

#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::virtio::VirtioNet;
use crate::net::device::{NetDevice, Received};
use crate::net::radio::{link_frame, Radio, RadioCapabilities};
use crate::time;

/// How long an ACK may take over the link: a TCG-emulated phone VM's
/// forwarder answers within a few milliseconds, but a busy host stretches it.
const ACK_TIMEOUT_US: u64 = 25_000;
/// Bytes of a link frame: the link's 2400-byte MTU and the Ethernet header, rounded up.
const LINK_FRAME_BYTES: usize = 4096;
/// Frames queued behind the one awaiting its ACK.
const TX_QUEUE: usize = 256;
/// Frame control byte 0 of an 802.11 ACK (control frame, subtype 13).
const ACK_FRAME_CONTROL: u8 = 0xd4;

/// A frame waiting for its ACK.
struct Awaiting {
    token: u32,
    deadline_us: u64,
}

/// The virtual radio on its virtio-net link.
pub struct VirtualRadio {
    link: VirtioNet,
    mac: [u8; 6],
    frequency_mhz: u16,
    awaiting: Option<Awaiting>,
    queue: VecDeque<(Vec<u8>, Option<u32>)>,
    statuses: VecDeque<(u32, bool)>,
    link_frame: Box<[u8]>,
}

fn address(frame: &[u8], at: usize) -> Option<[u8; 6]> {
    frame.get(at..at + 6).and_then(|bytes| <[u8; 6]>::try_from(bytes).ok())
}

impl VirtualRadio {
    /// The radio on `link`; its address is the link NIC's.
    pub fn new(link: VirtioNet) -> Self {
        let mac = link.mac_address();
        Self {
            link,
            mac,
            frequency_mhz: 2437,
            awaiting: None,
            queue: VecDeque::new(),
            statuses: VecDeque::new(),
            link_frame: alloc::vec![0u8; LINK_FRAME_BYTES].into_boxed_slice(),
        }
    }

    /// Puts `frame` on the link; with a token, waits for its ACK.
    fn send_now(&mut self, frame: &[u8], ack_token: Option<u32>, now_us: u64) -> bool {
        let Some(len) = link_frame::encode(self.mac, self.frequency_mhz, frame, &mut self.link_frame) else { return false };
        let sent = self.link.can_transmit() && self.link.transmit(&self.link_frame[..len]);
        match (ack_token, sent) {
            (Some(token), true) => self.awaiting = Some(Awaiting { token, deadline_us: now_us + ACK_TIMEOUT_US }),
            (Some(token), false) => self.statuses.push_back((token, false)),
            (None, _) => {}
        }
        sent
    }

    /// Sends queued frames until one awaits its ACK.
    fn send_queued(&mut self, now_us: u64) {
        while self.awaiting.is_none() {
            let Some((frame, token)) = self.queue.pop_front() else { return };
            self.send_now(&frame, token, now_us);
        }
    }

    fn acknowledge(&mut self, to: [u8; 6]) {
        let mut ack = [ACK_FRAME_CONTROL, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        ack[4..].copy_from_slice(&to);
        let mut out = [0u8; link_frame::OVERHEAD + 10];
        if let Some(len) = link_frame::encode(self.mac, self.frequency_mhz, &ack, &mut out) {
            if self.link.can_transmit() {
                let _ = self.link.transmit(&out[..len]);
            }
        }
    }
}

impl Radio for VirtualRadio {
    fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    fn capabilities(&self) -> RadioCapabilities {
        RadioCapabilities { hardware_retry: false }
    }

    fn set_frequency(&mut self, mhz: u16) {
        self.frequency_mhz = mhz;
    }

    fn receive(&mut self, frame: &mut [u8]) -> Received {
        loop {
            let len = match self.link.receive(&mut self.link_frame) {
                Received::Frame(len) => len,
                other => return other,
            };
            let Ok(decoded) = link_frame::decode(&self.link_frame[..len]) else { return Received::Dropped };
            if decoded.frequency_mhz != self.frequency_mhz {
                continue;
            }
            let inner = decoded.frame;
            let for_us = address(inner, 4) == Some(self.mac);
            if inner.first() == Some(&ACK_FRAME_CONTROL) {
                if for_us {
                    if let Some(awaiting) = self.awaiting.take() {
                        self.statuses.push_back((awaiting.token, true));
                        // The next frame goes on the air now, as a radio's own
                        // queue would send it; left to the network loop's next
                        // pass it could wait out a stale ACK deadline.
                        self.send_queued(time::micros_since_power_on());
                    }
                }
                continue;
            }
            let is_control = inner.first().is_some_and(|fc| fc & 0x0c == 0x04);
            let Some(destination) = frame.get_mut(..inner.len()) else { return Received::Dropped };
            destination.copy_from_slice(inner);
            let inner_len = inner.len();
            if for_us && !is_control {
                if let Some(transmitter) = address(&frame[..inner_len], 10) {
                    self.acknowledge(transmitter);
                }
            }
            return Received::Frame(inner_len);
        }
    }

    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>, now_us: u64) -> bool {
        if ack_token.is_none() || (self.awaiting.is_none() && self.queue.is_empty()) {
            return self.send_now(frame, ack_token, now_us);
        }
        if self.queue.len() >= TX_QUEUE {
            return false;
        }
        self.queue.push_back((frame.to_vec(), ack_token));
        true
    }

    fn tx_status(&mut self, now_us: u64) -> Option<(u32, bool)> {
        if self.awaiting.as_ref().is_some_and(|awaiting| now_us >= awaiting.deadline_us) {
            if let Some(awaiting) = self.awaiting.take() {
                self.statuses.push_back((awaiting.token, false));
            }
        }
        self.send_queued(now_us);
        self.statuses.pop_front()
    }

    fn deadline(&self) -> Option<u64> {
        self.awaiting.as_ref().map(|awaiting| awaiting.deadline_us)
    }

    fn interrupt_id(&self) -> Option<u32> {
        self.link.interrupt_ids().first().copied()
    }

    fn acknowledge_interrupt(&mut self) {
        self.link.acknowledge_interrupt();
    }
}
