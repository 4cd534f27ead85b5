//! The access point's counters, for /stats.json and the booth's console.
//!
//! Plain numbers the behaviour code bumps; every dropped frame lands in one
//! of the `Drops` reasons, so "silently dropped" is never invisible.

/// Station, handshake and traffic counts since the access point came up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Stations associated now.
    pub stations: u64,
    /// Most stations associated at once.
    pub stations_peak: u64,
    /// Stations that became usable (associated; keyed too when secured).
    pub joins: u64,
    /// Stations that were usable and left or were dropped.
    pub leaves: u64,
    /// 4-way handshakes that failed (wrong passphrase, timeout).
    pub handshake_failures: u64,
    /// Beacons sent.
    pub beacons: u64,
    /// Frames received from the radio.
    pub rx_frames: u64,
    /// Frames handed to the radio (retransmissions included).
    pub tx_frames: u64,
    /// Retransmissions (Retry bit set).
    pub tx_retries: u64,
    /// Ethernet frames delivered to the wired side.
    pub delivered: u64,
    /// Frames relayed station to station over the air.
    pub relayed: u64,
    /// Frames dropped, by reason.
    pub drops: Drops,
}

/// Dropped frames by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    /// Shorter than their fixed fields.
    pub truncated: u64,
    /// Longer than 802.11 or the link allows.
    pub oversized: u64,
    /// An element running past the end, or a missing mandatory one.
    pub bad_element: u64,
    /// Authentication with an algorithm other than open system.
    pub unknown_algorithm: u64,
    /// Authentication out of sequence.
    pub auth_sequence: u64,
    /// Class 2 frames (association...) from stations not authenticated.
    pub not_authenticated: u64,
    /// Class 3 frames (data...) from stations not associated.
    pub not_associated: u64,
    /// Association refused (SSID, rates, capabilities, RSN, full).
    pub assoc_refused: u64,
    /// Data before the 4-way handshake completed, or unencrypted on a secured network.
    pub unauthorized: u64,
    /// Retransmissions already received.
    pub duplicate: u64,
    /// Power-save or transmit queue full.
    pub queue_overflow: u64,
    /// Unacknowledged after every retry.
    pub retry_exhausted: u64,
    /// No transmit status from the radio in time.
    pub tx_status_lost: u64,
    /// Stations dropped for silence (their queued frames are dropped with them).
    pub inactive: u64,
    /// Frames still queued for a station that left.
    pub station_gone: u64,
    /// MIC failures: CCMP, or EAPOL-Key message 2 (a wrong passphrase).
    pub mic: u64,
    /// Replays: CCMP packet number not increasing, or a stale EAPOL-Key replay counter.
    pub replay: u64,
    /// Addressed to another BSS or another SSID.
    pub not_for_us: u64,
    /// Ethernet frames for a destination that is no station of ours.
    pub no_station: u64,
    /// Station-to-station frames kept off the air by client isolation.
    pub isolated: u64,
    /// Well-formed but not handled (fragments, A-MSDU, WDS, other versions...).
    pub unsupported: u64,
}

impl Counters {
    /// Every counter with a stable snake_case name, for /stats.json.
    pub fn for_each(&self, mut f: impl FnMut(&'static str, u64)) {
        let d = &self.drops;
        for (name, value) in [
            ("stations", self.stations),
            ("stations_peak", self.stations_peak),
            ("joins", self.joins),
            ("leaves", self.leaves),
            ("handshake_failures", self.handshake_failures),
            ("beacons", self.beacons),
            ("rx_frames", self.rx_frames),
            ("tx_frames", self.tx_frames),
            ("tx_retries", self.tx_retries),
            ("delivered", self.delivered),
            ("relayed", self.relayed),
            ("drop_truncated", d.truncated),
            ("drop_oversized", d.oversized),
            ("drop_bad_element", d.bad_element),
            ("drop_unknown_algorithm", d.unknown_algorithm),
            ("drop_auth_sequence", d.auth_sequence),
            ("drop_not_authenticated", d.not_authenticated),
            ("drop_not_associated", d.not_associated),
            ("drop_assoc_refused", d.assoc_refused),
            ("drop_unauthorized", d.unauthorized),
            ("drop_duplicate", d.duplicate),
            ("drop_queue_overflow", d.queue_overflow),
            ("drop_retry_exhausted", d.retry_exhausted),
            ("drop_tx_status_lost", d.tx_status_lost),
            ("drop_inactive", d.inactive),
            ("drop_station_gone", d.station_gone),
            ("drop_mic", d.mic),
            ("drop_replay", d.replay),
            ("drop_not_for_us", d.not_for_us),
            ("drop_no_station", d.no_station),
            ("drop_isolated", d.isolated),
            ("drop_unsupported", d.unsupported),
        ] {
            f(name, value);
        }
    }

    /// Counts a parse failure under its reason.
    pub(crate) fn parse_error(&mut self, e: crate::wire::Error) {
        use crate::wire::Error;
        let d = &mut self.drops;
        match e {
            Error::Truncated => d.truncated += 1,
            Error::Oversized => d.oversized += 1,
            Error::BadElement => d.bad_element += 1,
            Error::BadVersion | Error::Unsupported => d.unsupported += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_has_a_distinct_name() {
        let mut names = alloc::vec::Vec::new();
        Counters::default().for_each(|n, _| names.push(n));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        assert!(names.contains(&"drop_retry_exhausted"));
    }
}
