//! One layer-2 network of the wired NIC and the access point's stations, as
//! smoltcp sees it: a `NetDevice` whose frames come from either side.
//!
//! The appliance's stack keeps the wired NIC's address. Frames a station
//! sends go through the access point (crate `wifi`, which turns 802.11 into
//! Ethernet) to the stack; frames the stack sends to a station's address go
//! to the access point, group frames to both sides. So a phone on Wi-Fi and
//! a laptop on the Ethernet get addresses from the same DHCP pool and reach
//! the same services. Client isolation (on by default) covers the wire too:
//! stations and wired hosts then reach the appliance, not each other, so a
//! phone's DHCP broadcast never meets another DHCP server on the wire. With
//! isolation off, frames cross between the sides as on a switch. The access
//! point lives in a `RefCell` that `/stats.json` reads between passes of the
//! network loop.

#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::cell::RefCell;

use wifi::{AccessPoint, Outbox};

use super::device::{NetDevice, Received, MAX_FRAME};
use super::radio::{Radio, MAX_RADIO_FRAME};
use crate::counters::Counter;

/// Frames from stations waiting for the stack: a burst of one pass's worth.
const STACK_QUEUE: usize = 64;
/// Radio frames handled per call of `receive`, so the wired side gets its turn.
const RADIO_FRAMES_PER_TURN: usize = 16;

/// What the bridge itself drops, for `/stats.json`.
#[derive(Debug, Default)]
pub struct BridgeCounters {
    /// Frames from stations dropped because the stack's queue was full.
    pub stack_queue_full: Counter,
    /// Frames the radio refused (its transmit queue full).
    pub radio_refused: Counter,
    /// Frames the radio received but could not hand over (bad link frames).
    pub radio_dropped: Counter,
}

/// The wired NIC and the radio with its access point, as one NIC.
pub struct Bridge<'a, N: NetDevice, R: Radio> {
    wired: N,
    radio: R,
    ap: &'a RefCell<AccessPoint>,
    counters: &'a BridgeCounters,
    now_us: fn() -> u64,
    /// Whether frames may cross between stations and the wire.
    crossing: bool,
    to_stack: VecDeque<Vec<u8>>,
    /// Tokens of frames the radio refused, reported to the access point as
    /// unacknowledged once it is free to hear about them.
    refused: Vec<u32>,
    radio_frame: Box<[u8]>,
}

/// The access point's view of the two sides during one call.
struct Sides<'s, N: NetDevice, R: Radio> {
    wired: &'s mut N,
    radio: &'s mut R,
    to_stack: &'s mut VecDeque<Vec<u8>>,
    refused: &'s mut Vec<u32>,
    counters: &'s BridgeCounters,
    our_mac: [u8; 6],
    crossing: bool,
    now_us: u64,
}

fn is_group(mac: &[u8]) -> bool {
    mac.first().is_some_and(|byte| byte & 1 == 1)
}

impl<N: NetDevice, R: Radio> Outbox for Sides<'_, N, R> {
    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>) {
        if !self.radio.transmit(frame, ack_token, self.now_us) {
            self.counters.radio_refused.increment();
            self.refused.extend(ack_token);
        }
    }

    fn deliver(&mut self, ethernet: &[u8]) {
        let Some(destination) = ethernet.get(..6) else { return };
        let group = is_group(destination);
        if group || destination == self.our_mac {
            if self.to_stack.len() < STACK_QUEUE {
                self.to_stack.push_back(ethernet.to_vec());
            } else {
                self.counters.stack_queue_full.increment();
            }
        }
        if self.crossing && (group || destination != self.our_mac) {
            let _ = self.wired.transmit(ethernet);
        }
    }
}

impl<'a, N: NetDevice, R: Radio> Bridge<'a, N, R> {
    /// Joins `wired` and `radio` through `ap`, tuned to its channel; frames
    /// cross between stations and the wire unless the access point isolates
    /// its clients.
    pub fn new(wired: N, mut radio: R, ap: &'a RefCell<AccessPoint>, counters: &'a BridgeCounters, now_us: fn() -> u64) -> Self {
        let (frequency_mhz, crossing) = {
            let ap = ap.borrow();
            (ap.config().frequency_mhz(), !ap.config().client_isolation)
        };
        radio.set_frequency(frequency_mhz);
        Self {
            wired,
            radio,
            ap,
            counters,
            now_us,
            crossing,
            to_stack: VecDeque::new(),
            refused: Vec::new(),
            radio_frame: alloc::vec![0u8; MAX_RADIO_FRAME].into_boxed_slice(),
        }
    }

    /// Runs `f` on the access point with both sides as its outbox, then
    /// tells it about frames the radio refused meanwhile.
    fn with_ap(&mut self, now_us: u64, f: impl FnOnce(&mut AccessPoint, &mut dyn Outbox, &[u8])) {
        let our_mac = self.wired.mac_address();
        let Ok(mut ap) = self.ap.try_borrow_mut() else { return };
        let mut sides = Sides {
            wired: &mut self.wired,
            radio: &mut self.radio,
            to_stack: &mut self.to_stack,
            refused: &mut self.refused,
            counters: self.counters,
            our_mac,
            crossing: self.crossing,
            now_us,
        };
        f(&mut ap, &mut sides, &self.radio_frame);
        while let Some(token) = sides.refused.pop() {
            ap.tx_status(token, false, now_us, &mut sides);
        }
    }

    fn is_station(&self, mac: &[u8]) -> bool {
        let Ok(mac) = <[u8; 6]>::try_from(mac) else { return false };
        self.ap.try_borrow().is_ok_and(|ap| ap.is_station(&mac))
    }

    /// Hands one frame from the stack or the wire to the stations.
    fn to_stations(&mut self, ethernet: &[u8]) {
        let now_us = (self.now_us)();
        self.with_ap(now_us, |ap, out, _| ap.send(ethernet, now_us, out));
    }

    fn pop_for_stack(&mut self, frame: &mut [u8]) -> Option<Received> {
        let next = self.to_stack.pop_front()?;
        Some(match frame.get_mut(..next.len()) {
            Some(room) if next.len() <= MAX_FRAME => {
                room.copy_from_slice(&next);
                Received::Frame(next.len())
            }
            _ => Received::Dropped,
        })
    }
}

impl<N: NetDevice, R: Radio> NetDevice for Bridge<'_, N, R> {
    fn mac_address(&self) -> [u8; 6] {
        self.wired.mac_address()
    }

    fn receive(&mut self, frame: &mut [u8]) -> Received {
        if let Some(received) = self.pop_for_stack(frame) {
            return received;
        }
        loop {
            match self.wired.receive(frame) {
                Received::Frame(len) => {
                    let destination = frame.get(..6).unwrap_or(&[]);
                    if self.is_station(destination) {
                        if self.crossing {
                            self.to_stations(&frame[..len]);
                        }
                        continue;
                    }
                    if self.crossing && is_group(destination) && self.ap.try_borrow().is_ok_and(|ap| ap.stations() > 0) {
                        self.to_stations(&frame[..len]);
                    }
                    return Received::Frame(len);
                }
                Received::Dropped => return Received::Dropped,
                Received::Nothing => break,
            }
        }
        for _ in 0..RADIO_FRAMES_PER_TURN {
            let mut radio_frame = core::mem::take(&mut self.radio_frame);
            let received = self.radio.receive(&mut radio_frame);
            self.radio_frame = radio_frame;
            match received {
                Received::Frame(len) => {
                    let now_us = (self.now_us)();
                    self.with_ap(now_us, |ap, out, buffer| ap.receive(&buffer[..len], now_us, out));
                    if let Some(received) = self.pop_for_stack(frame) {
                        return received;
                    }
                }
                Received::Dropped => self.counters.radio_dropped.increment(),
                Received::Nothing => break,
            }
        }
        Received::Nothing
    }

    fn can_transmit(&mut self) -> bool {
        self.wired.can_transmit()
    }

    fn transmit(&mut self, frame: &[u8]) -> bool {
        let destination = frame.get(..6).unwrap_or(&[]);
        if self.is_station(destination) {
            self.to_stations(frame);
            return true;
        }
        if is_group(destination) {
            self.to_stations(frame);
        }
        self.wired.transmit(frame)
    }

    fn interrupt_ids(&self) -> Vec<u32> {
        let mut ids = self.wired.interrupt_ids();
        ids.extend(self.radio.interrupt_id());
        ids
    }

    fn acknowledge_interrupt(&mut self) {
        self.wired.acknowledge_interrupt();
        self.radio.acknowledge_interrupt();
    }

    fn frame_pending(&self) -> bool {
        !self.to_stack.is_empty() || self.wired.frame_pending()
    }

    fn polls_link(&self) -> bool {
        self.wired.polls_link()
    }

    fn service(&mut self, now_us: u64) -> Option<u64> {
        while let Some((token, acked)) = self.radio.tx_status(now_us) {
            self.with_ap(now_us, |ap, out, _| ap.tx_status(token, acked, now_us, out));
        }
        let mut next = None;
        self.with_ap(now_us, |ap, out, _| next = Some(ap.poll(now_us, out)));
        [next, self.radio.deadline()].into_iter().flatten().min()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::collections::VecDeque;

    const OURS: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    const BSSID: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x57];
    const PHONE: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x01, 0x00];
    const LAPTOP: [u8; 6] = [0x02, 0x20, 0x48, 0x00, 0x00, 0x01];

    #[derive(Default)]
    struct FakeNic {
        incoming: VecDeque<Vec<u8>>,
        sent: Vec<Vec<u8>>,
    }

    impl NetDevice for FakeNic {
        fn mac_address(&self) -> [u8; 6] {
            OURS
        }
        fn receive(&mut self, frame: &mut [u8]) -> Received {
            let Some(next) = self.incoming.pop_front() else { return Received::Nothing };
            frame[..next.len()].copy_from_slice(&next);
            Received::Frame(next.len())
        }
        fn can_transmit(&mut self) -> bool {
            true
        }
        fn transmit(&mut self, frame: &[u8]) -> bool {
            self.sent.push(frame.to_vec());
            true
        }
        fn interrupt_ids(&self) -> Vec<u32> {
            alloc::vec![79]
        }
        fn acknowledge_interrupt(&mut self) {}
    }

    /// A radio whose every frame is acknowledged at once.
    #[derive(Default)]
    struct FakeRadio {
        incoming: VecDeque<Vec<u8>>,
        sent: Vec<Vec<u8>>,
        statuses: VecDeque<(u32, bool)>,
    }

    impl Radio for FakeRadio {
        fn mac_address(&self) -> [u8; 6] {
            BSSID
        }
        fn capabilities(&self) -> super::super::radio::RadioCapabilities {
            Default::default()
        }
        fn set_frequency(&mut self, _mhz: u16) {}
        fn receive(&mut self, frame: &mut [u8]) -> Received {
            let Some(next) = self.incoming.pop_front() else { return Received::Nothing };
            frame[..next.len()].copy_from_slice(&next);
            Received::Frame(next.len())
        }
        fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>, _now_us: u64) -> bool {
            self.sent.push(frame.to_vec());
            self.statuses.extend(ack_token.map(|token| (token, true)));
            true
        }
        fn tx_status(&mut self, _now_us: u64) -> Option<(u32, bool)> {
            self.statuses.pop_front()
        }
        fn deadline(&self) -> Option<u64> {
            None
        }
        fn interrupt_id(&self) -> Option<u32> {
            Some(78)
        }
        fn acknowledge_interrupt(&mut self) {}
    }

    fn now() -> u64 {
        1_000_000
    }

    fn header(fc: [u8; 2], a1: &[u8; 6], a2: &[u8; 6], a3: &[u8; 6], seq: u16) -> Vec<u8> {
        let mut frame = alloc::vec![fc[0], fc[1], 0x3a, 0x01];
        for address in [a1, a2, a3] {
            frame.extend_from_slice(address);
        }
        frame.extend_from_slice(&(seq << 4).to_le_bytes());
        frame
    }

    /// What mac80211 sends to join an open network called "2048".
    fn join_frames() -> [Vec<u8>; 2] {
        let mut auth = header([0xb0, 0x00], &BSSID, &PHONE, &BSSID, 1);
        auth.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
        let mut assoc = header([0x00, 0x00], &BSSID, &PHONE, &BSSID, 2);
        assoc.extend_from_slice(&[0x21, 0x04, 0x05, 0x00, 0x00, 0x04]);
        assoc.extend_from_slice(b"2048");
        assoc.extend_from_slice(&[0x01, 0x08, 0x02, 0x04, 0x0b, 0x16, 0x0c, 0x12, 0x18, 0x24, 0x32, 0x04, 0x30, 0x48, 0x60, 0x6c]);
        assoc.extend_from_slice(&[0xdd, 0x07, 0x00, 0x50, 0xf2, 0x02, 0x00, 0x01, 0x00]);
        [auth, assoc]
    }

    fn ethernet(to: &[u8; 6], from: &[u8; 6], payload: &[u8]) -> Vec<u8> {
        let mut frame = to.to_vec();
        frame.extend_from_slice(from);
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(payload);
        frame
    }

    fn access_point() -> RefCell<AccessPoint> {
        access_point_with(wifi::Config::default())
    }

    /// A generator that always says 7: tests need no real randomness.
    pub(crate) struct FixedRng;

    impl rand_core::RngCore for FixedRng {
        fn next_u32(&mut self) -> u32 {
            7
        }
        fn next_u64(&mut self) -> u64 {
            7
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(7);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            dest.fill(7);
            Ok(())
        }
    }

    /// An access point with `config` at the test BSSID.
    pub(crate) fn access_point_with(config: wifi::Config) -> RefCell<AccessPoint> {
        RefCell::new(AccessPoint::new(config, BSSID, &mut FixedRng).unwrap())
    }

    fn stack_receives(bridge: &mut Bridge<'_, FakeNic, FakeRadio>) -> Option<Vec<u8>> {
        let mut frame = [0u8; MAX_FRAME];
        match bridge.receive(&mut frame) {
            Received::Frame(len) => Some(frame[..len].to_vec()),
            _ => None,
        }
    }

    fn joined<'a>(ap: &'a RefCell<AccessPoint>, counters: &'a BridgeCounters) -> Bridge<'a, FakeNic, FakeRadio> {
        let mut bridge = Bridge::new(FakeNic::default(), FakeRadio::default(), ap, counters, now);
        for frame in join_frames() {
            bridge.radio.incoming.push_back(frame);
            assert_eq!(stack_receives(&mut bridge), None, "management frames stay in the access point");
            bridge.service(now());
        }
        assert!(ap.borrow().is_station(&PHONE), "the phone joined");
        bridge.radio.sent.clear();
        bridge
    }

    #[test]
    fn a_station_frame_reaches_the_stack_as_ethernet() {
        let (ap, counters) = (access_point(), BridgeCounters::default());
        let mut bridge = joined(&ap, &counters);
        let mut data = header([0x88, 0x01], &BSSID, &PHONE, &OURS, 3);
        data.extend_from_slice(&[0, 0, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45, 0x00]);
        bridge.radio.incoming.push_back(data);
        assert_eq!(stack_receives(&mut bridge), Some(ethernet(&OURS, &PHONE, &[0x45, 0x00])));
        assert!(bridge.wired.sent.is_empty(), "a frame for the appliance stays off the wire");
    }

    #[test]
    fn stack_frames_go_to_the_station_or_the_wire_by_address() {
        let (ap, counters) = (access_point(), BridgeCounters::default());
        let mut bridge = joined(&ap, &counters);
        assert!(bridge.transmit(&ethernet(&PHONE, &OURS, b"to the phone")));
        let over_the_air = bridge.radio.sent.last().expect("a data frame for the phone").clone();
        assert_eq!(&over_the_air[4..10], &PHONE);
        assert!(over_the_air.ends_with(b"to the phone"));
        assert!(bridge.wired.sent.is_empty());
        assert!(bridge.transmit(&ethernet(&LAPTOP, &OURS, b"to the laptop")));
        assert_eq!(bridge.wired.sent, [ethernet(&LAPTOP, &OURS, b"to the laptop")]);
    }

    #[test]
    fn broadcasts_from_the_stack_go_to_both_sides() {
        let (ap, counters) = (access_point(), BridgeCounters::default());
        let mut bridge = joined(&ap, &counters);
        let offer = ethernet(&[0xff; 6], &OURS, b"DHCPOFFER");
        assert!(bridge.transmit(&offer));
        assert_eq!(bridge.wired.sent, [offer]);
        assert!(bridge.radio.sent.iter().any(|frame| frame[4..10] == [0xff; 6] && frame.ends_with(b"DHCPOFFER")));
    }

    fn station_broadcast() -> Vec<u8> {
        let mut discover = header([0x88, 0x01], &BSSID, &PHONE, &[0xff; 6], 4);
        discover.extend_from_slice(&[0, 0, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45, 0x01]);
        discover
    }

    #[test]
    fn an_isolated_station_broadcast_reaches_the_stack_only() {
        let (ap, counters) = (access_point(), BridgeCounters::default());
        let mut bridge = joined(&ap, &counters);
        bridge.radio.incoming.push_back(station_broadcast());
        assert_eq!(stack_receives(&mut bridge), Some(ethernet(&[0xff; 6], &PHONE, &[0x45, 0x01])));
        assert!(bridge.wired.sent.is_empty(), "a phone's DHCP broadcast must not meet another server on the wire");
        bridge.wired.incoming.push_back(ethernet(&PHONE, &LAPTOP, b"hello phone"));
        assert_eq!(stack_receives(&mut bridge), None);
        assert!(bridge.radio.sent.is_empty(), "the laptop does not reach the phone");
    }

    #[test]
    fn without_isolation_frames_cross_between_stations_and_the_wire() {
        let (ap, counters) = (access_point_with(wifi::Config { client_isolation: false, ..wifi::Config::default() }), BridgeCounters::default());
        let mut bridge = joined(&ap, &counters);
        bridge.radio.incoming.push_back(station_broadcast());
        let expected = ethernet(&[0xff; 6], &PHONE, &[0x45, 0x01]);
        assert_eq!(stack_receives(&mut bridge), Some(expected.clone()));
        assert_eq!(bridge.wired.sent, [expected]);
        bridge.wired.incoming.push_back(ethernet(&PHONE, &LAPTOP, b"hello phone"));
        assert_eq!(stack_receives(&mut bridge), None);
        assert!(bridge.radio.sent.last().is_some_and(|frame| frame.ends_with(b"hello phone")));
    }

    #[test]
    fn wired_frames_pass_to_the_stack_untouched() {
        let (ap, counters) = (access_point(), BridgeCounters::default());
        let mut bridge = Bridge::new(FakeNic::default(), FakeRadio::default(), &ap, &counters, now);
        let frame = ethernet(&OURS, &LAPTOP, b"GET /");
        bridge.wired.incoming.push_back(frame.clone());
        assert_eq!(stack_receives(&mut bridge), Some(frame));
        assert_eq!(bridge.interrupt_ids(), [79, 78]);
    }

    #[test]
    fn beacons_come_from_the_service_call_with_the_next_deadline() {
        let (ap, counters) = (access_point(), BridgeCounters::default());
        let mut bridge = Bridge::new(FakeNic::default(), FakeRadio::default(), &ap, &counters, now);
        let next = bridge.service(now()).expect("a beacon deadline");
        assert!(next > now() && next <= now() + 102_400, "{next}");
        assert!(bridge.radio.sent.iter().any(|frame| frame[0] == 0x80), "a beacon went out");
    }
}
