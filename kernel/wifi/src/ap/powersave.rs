//! Power save: the PM bit of each station, PS-Poll, the TIM in beacons, and
//! group traffic held for the DTIM beacon while any station dozes.
//!
//! Legacy power save as IEEE 802.11-2020 §11.2.3 describes it (no U-APSD,
//! which the WMM element does not advertise). A station's power-save buffer is
//! its transmit queue (see `queue`), so waking up only restarts the queue.

use super::AccessPoint;
use crate::queue::Kind;
use crate::station::State;
use crate::wire::frame::{ctrl, flags, set_flag, FrameControl, PsPoll};
use crate::wire::{data as wdata, ie};
use crate::{Mac, Outbox};
use alloc::vec::Vec;
use log::debug;

/// Group frames held for the next DTIM at most.
pub const GROUP_CAPACITY: usize = 64;

impl AccessPoint {
    /// Applies the PM bit of a frame from associated station `i`.
    pub(super) fn power_management(&mut self, i: usize, pm: bool, now: u64, out: &mut dyn Outbox) {
        let s = &mut self.stations[i];
        if s.dozing == pm {
            return;
        }
        s.dozing = pm;
        debug!(
            "wifi: {} {}",
            Mac(&s.mac),
            if pm { "dozes" } else { "awake" }
        );
        if !pm {
            s.queue.pump(false, &mut self.token, now, out);
            self.release_group_if_all_awake(out);
        }
    }

    pub(super) fn receive_control(
        &mut self,
        frame: &[u8],
        fc: FrameControl,
        now: u64,
        out: &mut dyn Outbox,
    ) {
        match fc.subtype() {
            ctrl::PS_POLL => {}
            // The radio's own business (the link carries ACKs to the radio driver).
            ctrl::ACK | ctrl::CTS | ctrl::RTS => return,
            _ => {
                self.counters.drops.unsupported += 1;
                return;
            }
        }
        let poll = match PsPoll::parse(frame) {
            Ok(p) => p,
            Err(e) => return self.counters.parse_error(e),
        };
        if poll.bssid != self.bss.bssid {
            self.counters.drops.not_for_us += 1;
            return;
        }
        let known = self.station(&poll.ta);
        let Some(i) = known.filter(|&i| self.stations[i].associated()) else {
            self.counters.drops.not_associated += 1;
            return self.class3_from_stranger(&poll.ta, known, out);
        };
        if self.stations[i].state != (State::Associated { aid: poll.aid }) {
            self.counters.drops.not_associated += 1;
            return;
        }
        let s = &mut self.stations[i];
        s.heard(now);
        // A PS-Poll means "I doze, send one": PM is implicitly 1.
        s.dozing = true;
        if s.queue.is_empty() {
            // Nothing buffered after all: a null frame (More Data 0) lets it sleep.
            let seq = s.next_seq();
            let null = wdata::null_data(&poll.ta, &self.bss.bssid, seq);
            if s.queue.push(null, Kind::Normal).is_err() {
                self.counters.drops.queue_overflow += 1;
            }
        }
        let s = &mut self.stations[i];
        s.queue.poll_one(&mut self.token, now, out);
    }

    /// Whether any associated station is in power save.
    pub(super) fn anyone_dozes(&self) -> bool {
        self.stations.iter().any(|s| s.associated() && s.dozing)
    }

    /// Sends a group frame now, or holds it for the DTIM beacon while a station dozes.
    pub(super) fn transmit_group(&mut self, frame: Vec<u8>, out: &mut dyn Outbox) {
        if !self.anyone_dozes() {
            self.release_group(out);
            return out.transmit(&frame, None);
        }
        if self.group.len() >= GROUP_CAPACITY {
            self.counters.drops.queue_overflow += 1;
            return;
        }
        self.group.push_back(frame);
    }

    /// Sends held group frames, More Data on all but the last.
    fn release_group(&mut self, out: &mut dyn Outbox) {
        while let Some(mut f) = self.group.pop_front() {
            set_flag(&mut f, flags::MORE_DATA, !self.group.is_empty());
            out.transmit(&f, None);
        }
    }

    /// When the last dozing station wakes, nothing needs to wait for a DTIM.
    pub(super) fn release_group_if_all_awake(&mut self, out: &mut dyn Outbox) {
        if !self.group.is_empty() && !self.anyone_dozes() {
            self.release_group(out);
        }
    }

    /// A beacon with the TIM for the dozing stations; after a DTIM beacon, the held group frames.
    pub(super) fn beacon(&mut self, now: u64, out: &mut dyn Outbox) {
        let mut bitmap = [0u8; 251];
        for s in self
            .stations
            .iter()
            .filter(|s| s.dozing && !s.queue.is_empty())
        {
            if let Some(aid) = s.aid() {
                if let Some(byte) = bitmap.get_mut(usize::from(aid / 8)) {
                    *byte |= 1 << (aid % 8);
                }
            }
        }
        let dtim = self.dtim_count == 0;
        let mut tim = Vec::with_capacity(16);
        ie::push_tim(
            &mut tim,
            self.dtim_count,
            self.config.dtim_period,
            dtim && !self.group.is_empty(),
            &bitmap,
        );
        let seq = self.next_seq();
        out.transmit(&self.bss.beacon(seq, now, &tim), None);
        self.counters.beacons += 1;
        if dtim {
            self.release_group(out);
        }
        self.dtim_count = self
            .dtim_count
            .checked_sub(1)
            .unwrap_or(self.config.dtim_period - 1);
    }
}

#[cfg(test)]
mod tests;
