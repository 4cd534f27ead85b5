//! `AccessPoint` driven by what stations, the wired side and the radio do,
//! in any order: frames from the air, Ethernet frames to send, ACK reports
//! and the passing of time. Whatever they do, it must not panic, must stay
//! within its limits and must only ever transmit well-formed frames.
//!
//! Input: one byte of setup (bits 0 and 4 both set: WPA2, rarer since every
//! start derives the PSK; bit 1 isolation off, bit 2 hardware retry, bit 3 a
//! 2-station limit), then records of [op u8][µs elapsed
//! u16 BE ×64][length u16 BE][bytes]: op 0 a frame from the radio, 1 an
//! Ethernet frame to send, 2/3 the oldest pending ACK token acked / not, 4 poll.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::VecDeque;
use wifi::wire::frame::Header;
use wifi::{AccessPoint, Config, Outbox, Security};

const BSSID: [u8; 6] = [0x02, 0, 0, 0, 0, 0];

#[derive(Default)]
struct Radio {
    tokens: VecDeque<u32>,
}

impl Outbox for Radio {
    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>) {
        assert!(Header::parse(frame).is_ok(), "the AP only sends well-formed frames: {frame:02x?}");
        assert!(frame.len() <= 2400);
        if let Some(token) = ack_token {
            assert!(!wifi::wire::is_group(&[frame[4], frame[5], frame[6], frame[7], frame[8], frame[9]]));
            self.tokens.push_back(token);
        }
    }
    fn deliver(&mut self, ethernet: &[u8]) {
        assert!(ethernet.len() >= 14);
    }
}

struct Seed(u64);

impl rand_core::RngCore for Seed {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut rest)) = data.split_first() else {
        return;
    };
    let config = Config {
        security: if setup & 0x11 == 0x11 {
            Security::Wpa2 { passphrase: "play 2048 here".into() }
        } else {
            Security::Open
        },
        client_isolation: setup & 2 == 0,
        hardware_retry: setup & 4 != 0,
        max_stations: if setup & 8 != 0 { 2 } else { 64 },
        inactivity_timeout_us: 2_000_000,
        ..Config::default()
    };
    let max = config.max_stations;
    let mut ap = AccessPoint::new(config, BSSID, &mut Seed(7)).expect("a valid config");
    let (mut radio, mut now) = (Radio::default(), 0u64);
    while rest.len() >= 5 {
        let op = rest[0];
        now += u64::from(u16::from_be_bytes([rest[1], rest[2]])) * 64;
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]])).min(rest.len() - 5);
        let (bytes, tail) = rest[5..].split_at(len);
        rest = tail;
        match op % 5 {
            0 => ap.receive(bytes, now, &mut radio),
            1 => ap.send(bytes, now, &mut radio),
            2 | 3 => {
                if let Some(token) = radio.tokens.pop_front() {
                    ap.tx_status(token, op % 5 == 2, now, &mut radio);
                }
            }
            _ => {
                let next = ap.poll(now, &mut radio);
                assert!(next > now, "the next deadline lies ahead");
            }
        }
        assert!(ap.stations() <= max);
        assert_eq!(ap.counters().stations, ap.stations() as u64);
        assert!(ap.counters().stations_peak >= ap.counters().stations);
        assert!(ap.counters().leaves <= ap.counters().joins);
    }
});
