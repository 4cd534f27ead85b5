//! The access point: the station table, beacons, timers and the transmit
//! path that every other part of the behaviour goes through.
//!
//! Sans-IO, as smoltcp's sockets: the caller passes frames, ACK reports and
//! the time in, and gets frames out through its [`Outbox`]. Management frames
//! are handled in `mgmt`, data in `data`, power save in `powersave`.

mod data;
#[cfg(test)]
mod harness;
mod mgmt;
mod powersave;
mod security;

use crate::counters::Counters;
use crate::queue::{Kind, Outcome};
use crate::rsn::{self, GroupKey, Psk};
use crate::station::{Keys, Station};
use crate::wire::frame::{self, flags, mgmt as sub, FrameType};
use crate::wire::mgmt::Bss;
use crate::wire::{data as wdata, MacAddr, ReasonCode};
use crate::{Config, ConfigError, Mac, Outbox, Security};
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use log::{debug, info};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use security::Wpa2;

/// 100 TU in microseconds.
pub const BEACON_INTERVAL_US: u64 = 102_400;
/// Authenticated stations that never associate are forgotten after this.
const AUTH_TIMEOUT_US: u64 = 30_000_000;
/// Authenticated-only stations the table holds beyond `max_stations`.
const AUTH_SLACK: usize = 8;
/// Largest frame accepted from the radio (the link's MTU).
pub const MAX_FRAME: usize = 2400;

/// The access point. See the crate documentation for what it does.
pub struct AccessPoint {
    config: Config,
    bss: Bss,
    stations: Vec<Station>,
    counters: Counters,
    /// Sequence numbers of beacons, probe responses, group data and replies to strangers.
    seq: u16,
    /// The last ACK token handed out.
    token: u32,
    next_beacon: Option<u64>,
    dtim_count: u8,
    /// Group frames held for the next DTIM beacon while a station dozes.
    group: VecDeque<Vec<u8>>,
    /// Keys of a secured network.
    wpa2: Option<Wpa2>,
}

impl AccessPoint {
    /// Checks the config and brings the access point up (beaconing starts at
    /// the first `poll`). `rng` seeds the keys and nonces of WPA2.
    pub fn new(
        config: Config,
        bssid: MacAddr,
        rng: &mut dyn rand_core::RngCore,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let wpa2 = match &config.security {
            Security::Open => None,
            Security::Wpa2 { passphrase } => {
                let psk = Psk::from_passphrase(passphrase, config.ssid.as_bytes())
                    .map_err(|_| ConfigError::Passphrase)?;
                let gtk = GroupKey::new(rng);
                let mut seed = [0u8; 32];
                rng.fill_bytes(&mut seed);
                Some(Wpa2 {
                    psk,
                    gtk,
                    rng: ChaCha20Rng::from_seed(seed),
                })
            }
        };
        let rsn = wpa2.as_ref().map(|_| rsn::rsn_element());
        let bss = Bss::new(
            bssid,
            config.ssid.as_bytes(),
            config.channel,
            config.country,
            rsn,
        );
        info!(
            "wifi: access point up: SSID \"{}\", channel {} ({} MHz), {}, BSSID {}",
            config.ssid,
            config.channel,
            config.frequency_mhz(),
            match config.security {
                Security::Open => "open",
                Security::Wpa2 { .. } => "WPA2-PSK (CCMP)",
            },
            Mac(&bssid)
        );
        Ok(AccessPoint {
            dtim_count: 0,
            config,
            bss,
            stations: Vec::new(),
            counters: Counters::default(),
            seq: 0,
            token: 0,
            next_beacon: None,
            group: VecDeque::new(),
            wpa2,
        })
    }

    /// One 802.11 frame from the radio (without FCS).
    pub fn receive(&mut self, frame: &[u8], now_us: u64, out: &mut dyn Outbox) {
        let mut out = Tally::new(out);
        self.counters.rx_frames += 1;
        self.dispatch(frame, now_us, &mut out);
        out.add_to(&mut self.counters);
    }

    /// An Ethernet II frame from the wired side or the local stack, towards
    /// one station (unicast) or all of them (group).
    pub fn send(&mut self, ethernet: &[u8], now_us: u64, out: &mut dyn Outbox) {
        let mut out = Tally::new(out);
        self.send_ethernet(ethernet, now_us, &mut out);
        out.add_to(&mut self.counters);
    }

    /// The radio's report on a frame handed over with an ACK token.
    pub fn tx_status(&mut self, token: u32, acked: bool, now_us: u64, out: &mut dyn Outbox) {
        let mut out = Tally::new(out);
        if let Some(i) = self.stations.iter().position(|s| s.queue.owns(token)) {
            self.apply_status(i, acked, now_us, &mut out);
        }
        out.add_to(&mut self.counters);
    }

    /// Sends due beacons, runs the stations' timers (inactivity, lost
    /// statuses) and returns when it wants to be called again (µs).
    pub fn poll(&mut self, now_us: u64, out: &mut dyn Outbox) -> u64 {
        let mut out = Tally::new(out);
        let next = *self.next_beacon.get_or_insert(now_us);
        if now_us >= next {
            self.beacon(now_us, &mut out);
            let mut following = next.saturating_add(BEACON_INTERVAL_US);
            if following <= now_us {
                following = now_us.saturating_add(BEACON_INTERVAL_US); // fell behind: skip, do not burst
            }
            self.next_beacon = Some(following);
        }
        self.release_group_if_all_awake(&mut out);
        self.run_handshakes(now_us, &mut out);
        self.run_timers(now_us, &mut out);
        out.add_to(&mut self.counters);
        self.deadline(now_us)
    }

    /// Whether `mac` is a station the bridge may send to: associated (and, on
    /// a secured network, keyed).
    pub fn is_station(&self, mac: &MacAddr) -> bool {
        self.station(mac)
            .is_some_and(|i| self.ready(&self.stations[i]))
    }

    /// The counters, for /stats.json.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Stations associated now.
    pub fn stations(&self) -> usize {
        self.stations.iter().filter(|s| s.associated()).count()
    }

    /// The access point's config, as given.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn dispatch(&mut self, frame: &[u8], now: u64, out: &mut dyn Outbox) {
        if frame.len() > MAX_FRAME {
            self.counters.drops.oversized += 1;
            return;
        }
        let fc = match frame::read_u16(frame, 0) {
            Ok(fc) => frame::FrameControl(fc),
            Err(e) => return self.counters.parse_error(e),
        };
        if fc.version() != 0 {
            self.counters.drops.unsupported += 1;
            return;
        }
        match fc.frame_type() {
            FrameType::Management => self.receive_management(frame, now, out),
            FrameType::Data => self.receive_data(frame, now, out),
            FrameType::Control => self.receive_control(frame, fc, now, out),
            FrameType::Extension => self.counters.drops.unsupported += 1,
        }
    }

    fn station(&self, mac: &MacAddr) -> Option<usize> {
        self.stations.iter().position(|s| &s.mac == mac)
    }

    /// Associated, and keyed when the network is secured.
    fn ready(&self, s: &Station) -> bool {
        s.associated() && (self.wpa2.is_none() || matches!(s.keys, Keys::Keyed(_)))
    }

    fn next_seq(&mut self) -> u16 {
        let seq = self.seq;
        self.seq = (self.seq + 1) & 0xfff;
        seq
    }

    /// Queues a frame for station `i` and hands the head to the radio.
    fn enqueue(&mut self, i: usize, frame: Vec<u8>, kind: Kind, now: u64, out: &mut dyn Outbox) {
        let s = &mut self.stations[i];
        if s.queue.push(frame, kind).is_err() {
            self.counters.drops.queue_overflow += 1;
            debug!("wifi: queue of {} full, frame dropped", Mac(&s.mac));
        }
        s.queue.pump(s.dozing, &mut self.token, now, out);
    }

    /// A management frame to station `i`, through its queue (so it is retried).
    fn send_management(
        &mut self,
        i: usize,
        subtype: u8,
        body: &[u8],
        now: u64,
        out: &mut dyn Outbox,
    ) {
        let (mac, seq) = (self.stations[i].mac, self.stations[i].next_seq());
        let f = self.bss.management(subtype, &mac, seq, body);
        self.enqueue(i, f, Kind::Normal, now, out);
    }

    /// A deauthentication to someone without queue or retries (a stranger, or a station we drop).
    fn deauth_unqueued(&mut self, mac: &MacAddr, reason: ReasonCode, out: &mut dyn Outbox) {
        let seq = self.next_seq();
        out.transmit(&self.bss.farewell(sub::DEAUTH, mac, seq, reason), None);
    }

    fn apply_status(&mut self, i: usize, acked: bool, now: u64, out: &mut dyn Outbox) {
        let hw = self.config.hardware_retry;
        let s = &mut self.stations[i];
        match s
            .queue
            .status(acked, hw, s.dozing, &mut self.token, now, out)
        {
            Some(Outcome::Acked(_)) => s.heard(now),
            Some(Outcome::Retrying) | None => {}
            Some(Outcome::Exhausted(Kind::Normal)) => self.counters.drops.retry_exhausted += 1,
            Some(Outcome::Exhausted(Kind::Probe)) => return self.drop_inactive(i, out),
        }
        let s = &mut self.stations[i];
        s.queue.pump(s.dozing, &mut self.token, now, out);
    }

    fn drop_inactive(&mut self, i: usize, out: &mut dyn Outbox) {
        self.counters.drops.inactive += 1;
        self.remove(i, Some(ReasonCode::INACTIVITY), "inactive", out);
    }

    /// Forgets station `i`, telling it with a deauthentication when `reason` is given.
    fn remove(&mut self, i: usize, reason: Option<ReasonCode>, why: &str, out: &mut dyn Outbox) {
        self.leave(i, why);
        let mut s = self.stations.swap_remove(i);
        if let Some(reason) = reason {
            self.deauth_unqueued(&s.mac, reason, out);
        }
        self.counters.drops.station_gone += s.queue.clear() as u64;
        self.count_stations();
    }

    /// Ends station `i`'s membership; counts and logs a leave if it had joined.
    fn leave(&mut self, i: usize, why: &str) {
        let mac = self.stations[i].mac;
        if core::mem::take(&mut self.stations[i].joined) {
            self.counters.leaves += 1;
            let n = self.stations.iter().filter(|t| t.joined).count();
            info!("wifi: {} left ({why}), {n} stations", Mac(&mac));
        } else {
            debug!("wifi: {} gone before joining ({why})", Mac(&mac));
        }
    }

    /// Station `i` is now usable: counted and logged once.
    fn join(&mut self, i: usize) {
        let s = &mut self.stations[i];
        if s.joined {
            return;
        }
        s.joined = true;
        self.counters.joins += 1;
        let (mac, aid, qos) = (s.mac, s.aid().unwrap_or(0), s.qos);
        let n = self.stations.iter().filter(|t| t.joined).count();
        info!(
            "wifi: {} joined (AID {aid}{}), {n} stations",
            Mac(&mac),
            if qos { ", WMM" } else { "" }
        );
    }

    fn count_stations(&mut self) {
        let n = self.stations() as u64;
        self.counters.stations = n;
        self.counters.stations_peak = self.counters.stations_peak.max(n);
    }

    fn run_timers(&mut self, now: u64, out: &mut dyn Outbox) {
        let mut i = self.stations.len();
        while i > 0 {
            i -= 1;
            if self.stations[i].queue.status_overdue(now).is_some() {
                let mac = self.stations[i].mac;
                self.counters.drops.tx_status_lost += 1;
                self.apply_status(i, false, now, out);
                if self.stations.get(i).map(|s| s.mac) != Some(mac) {
                    continue; // dropped (swap_remove put an already visited one here)
                }
            }
            let s = &self.stations[i];
            let silent = now.saturating_sub(s.last_activity);
            if !s.associated() {
                if silent >= AUTH_TIMEOUT_US.min(self.config.inactivity_timeout_us) {
                    self.remove(i, None, "never associated", out);
                }
            } else if s.probe_deadline.is_some_and(|d| now >= d) {
                self.drop_inactive(i, out);
            } else if s.probe_deadline.is_none() && silent >= self.config.inactivity_timeout_us {
                self.probe(i, now, out);
            }
        }
    }

    /// Asks a silent station whether it is still there: a null data frame it must ACK.
    fn probe(&mut self, i: usize, now: u64, out: &mut dyn Outbox) {
        let s = &mut self.stations[i];
        // A dozing station hears the TIM only every listen interval: give it that long.
        let wait = (u64::from(s.listen_interval) + 2) * BEACON_INTERVAL_US;
        s.probe_deadline = Some(now.saturating_add(wait.clamp(1_000_000, 10_000_000)));
        let (mac, seq) = (s.mac, s.next_seq());
        debug!("wifi: {} silent, probing", Mac(&mac));
        let f = wdata::null_data(&mac, &self.bss.bssid, seq);
        self.enqueue(i, f, Kind::Probe, now, out);
    }

    fn deadline(&self, now: u64) -> u64 {
        let mut next = self.next_beacon.unwrap_or(now);
        if let Some(d) = self.handshake_deadline() {
            next = next.min(d);
        }
        for s in &self.stations {
            let idle = if s.associated() {
                self.config.inactivity_timeout_us
            } else {
                AUTH_TIMEOUT_US.min(self.config.inactivity_timeout_us)
            };
            let timer = s
                .probe_deadline
                .unwrap_or(s.last_activity.saturating_add(idle));
            next = next.min(timer);
            if let Some(d) = s.queue.deadline() {
                next = next.min(d);
            }
        }
        next.max(now.saturating_add(1))
    }
}

/// Counts what the access point hands out, on its way to the caller's outbox.
struct Tally<'a> {
    out: &'a mut dyn Outbox,
    frames: u64,
    retries: u64,
    delivered: u64,
}

impl<'a> Tally<'a> {
    fn new(out: &'a mut dyn Outbox) -> Self {
        Tally {
            out,
            frames: 0,
            retries: 0,
            delivered: 0,
        }
    }

    fn add_to(&self, c: &mut Counters) {
        c.tx_frames += self.frames;
        c.tx_retries += self.retries;
        c.delivered += self.delivered;
    }
}

impl Outbox for Tally<'_> {
    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>) {
        self.frames += 1;
        if frame::read_u16(frame, 0).is_ok_and(|fc| frame::FrameControl(fc).has(flags::RETRY)) {
            self.retries += 1;
        }
        self.out.transmit(frame, ack_token);
    }

    fn deliver(&mut self, ethernet: &[u8]) {
        self.delivered += 1;
        self.out.deliver(ethernet);
    }
}
