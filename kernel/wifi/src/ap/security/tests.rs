//! Behaviour tests of `ap::security`: the 4-way handshake through the access
//! point, CCMP data both ways, and what happens when it goes wrong.

use super::super::harness::*;
use crate::rsn::PairwiseKey;
use crate::wire::data::ETHERTYPE_EAPOL;
use crate::wire::frame::flags;
use crate::wire::ie::{self, Elements};
use crate::{AccessPoint, Security};
use alloc::vec::Vec;
use hmac::{Hmac, Mac};
use sha1::Sha1;

const PASSPHRASE: &str = "play 2048 here";
const SEC: u64 = 1_000_000;
/// wpa_supplicant's RSN element (pmf=0): CCMP/CCMP/PSK.
const STATION_RSN: [u8; 22] = [
    0x30, 0x14, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00,
    0x00, 0x0f, 0xac, 0x02, 0x00, 0x00,
];

fn secured_ap() -> AccessPoint {
    ap_with(|c| {
        c.security = Security::Wpa2 {
            passphrase: PASSPHRASE.into(),
        }
    })
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// A WPA2 supplicant written from the standard's layout (12.7.1.3 PRF,
/// 12.7.2 EAPOL-Key), with the primitives only.
struct Supplicant {
    mac: [u8; 6],
    pmk: [u8; 32],
    snonce: [u8; 32],
    kck: [u8; 16],
    tk: [u8; 16],
    seq: u16,
}

impl Supplicant {
    fn new(n: u8, passphrase: &str) -> Self {
        let pmk = pbkdf2::pbkdf2_hmac_array::<Sha1, 32>(passphrase.as_bytes(), b"2048", 4096);
        Supplicant {
            mac: sta(n),
            pmk,
            snonce: [0x5a; 32],
            kck: [0; 16],
            tk: [0; 16],
            seq: 10,
        }
    }

    /// EAPOL-Key as wpa_supplicant sends it: 802.1X version 1, RSN descriptor.
    fn key_frame(&self, info: u16, replay: &[u8], nonce: &[u8; 32], data: &[u8]) -> Vec<u8> {
        let mut f = alloc::vec![1, 3];
        f.extend_from_slice(&((95 + data.len()) as u16).to_be_bytes());
        f.push(2);
        f.extend_from_slice(&info.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(replay);
        f.extend_from_slice(nonce);
        f.extend_from_slice(&[0; 48]);
        f.extend_from_slice(&(data.len() as u16).to_be_bytes());
        f.extend_from_slice(data);
        let mic = hmac_sha1(&self.kck, &[&f]);
        f[81..97].copy_from_slice(&mic[..16]);
        f
    }

    /// Message 2 for the message 1 in `m1` (the EAPOL part).
    fn answer1(&mut self, m1: &[u8]) -> Vec<u8> {
        let anonce: [u8; 32] = m1[17..49].try_into().unwrap();
        let (a1, a2) = if BSSID < self.mac {
            (BSSID, self.mac)
        } else {
            (self.mac, BSSID)
        };
        let (n1, n2) = if anonce < self.snonce {
            (anonce, self.snonce)
        } else {
            (self.snonce, anonce)
        };
        let mut ptk = Vec::new();
        for i in 0u8..3 {
            ptk.extend_from_slice(&hmac_sha1(
                &self.pmk,
                &[b"Pairwise key expansion", &[0], &a1, &a2, &n1, &n2, &[i]],
            ));
        }
        self.kck.copy_from_slice(&ptk[..16]);
        self.tk.copy_from_slice(&ptk[32..48]);
        self.key_frame(0x010a, &m1[9..17], &self.snonce, &STATION_RSN)
    }

    /// Message 4 for message 3.
    fn answer3(&self, m3: &[u8]) -> Vec<u8> {
        assert_eq!(
            u16::from_be_bytes([m3[5], m3[6]]),
            0x13ca,
            "message 3: install, ack, MIC, secure, encrypted"
        );
        self.key_frame(0x030a, &m3[9..17], &[0; 32], &[])
    }

    fn eapol(&mut self, eapol: &[u8]) -> Vec<u8> {
        self.seq += 1;
        data_typed(&self.mac, &BSSID, self.seq, 0, ETHERTYPE_EAPOL, eapol)
    }
}

/// The EAPOL payload of the last frame the AP sent to `mac` (QoS data, LLC/SNAP 0x888E).
fn last_eapol(air: &Air, mac: &[u8; 6]) -> Vec<u8> {
    let (f, _) = air.last_to(mac);
    assert_eq!(
        &f[26..34],
        &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0x8e],
        "an EAPOL frame"
    );
    f[34..].to_vec()
}

/// Authenticates and associates with the RSN element; leaves message 1 sent.
fn associate(ap: &mut AccessPoint, air: &mut Air, n: u8, rsn: &[u8]) {
    ap.receive(&auth(&sta(n), 0), 0, air);
    ack_all(ap, air, 0);
    let mut elements = assoc_elements(b"2048");
    elements.extend_from_slice(rsn);
    ap.receive(&assoc_with(&sta(n), &elements), 0, air);
    ack_all(ap, air, 0);
}

/// A full join with the right passphrase; returns the station's key.
fn join_secured(ap: &mut AccessPoint, air: &mut Air, s: &mut Supplicant) -> PairwiseKey {
    associate(ap, air, s.mac[4], &STATION_RSN);
    let m2 = s.answer1(&last_eapol(air, &s.mac));
    let f = s.eapol(&m2);
    ap.receive(&f, 10, air);
    ack_all(ap, air, 10);
    let m4 = s.answer3(&last_eapol(air, &s.mac));
    let f = s.eapol(&m4);
    ap.receive(&f, 20, air);
    ack_all(ap, air, 20);
    PairwiseKey::from_tk(s.tk)
}

#[test]
fn secured_beacon_sets_privacy_and_carries_the_rsn_element() {
    let (mut ap, mut air) = (secured_ap(), Air::default());
    ap.poll(0, &mut air);
    let (b, _) = &air.sent[0];
    assert_eq!(b[34] & 0x10, 0x10);
    let rsn = Elements::new(&b[36..]).unwrap().find(ie::id::RSN).unwrap();
    assert_eq!(rsn.raw, crate::rsn::rsn_element());
}

#[test]
fn right_passphrase_completes_the_handshake_and_data_flows_under_ccmp() {
    let (mut ap, mut air) = (secured_ap(), Air::default());
    let mut s = Supplicant::new(1, PASSPHRASE);
    let mut key = join_secured(&mut ap, &mut air, &mut s);
    assert!(ap.is_station(&s.mac));
    assert_eq!(
        (ap.counters().joins, ap.counters().handshake_failures),
        (1, 0)
    );

    let up = key.protect(
        &qos_header(&s.mac, &WIRED, 20, 0),
        &crate::wire::data::snap_encap(0x0800, b"GET /"),
    );
    ap.receive(&up, 30, &mut air);
    assert_eq!(
        air.delivered,
        [crate::wire::data::ethernet(
            &WIRED, &s.mac, 0x0800, b"GET /"
        )]
    );

    ap.send(&ethernet(&s.mac, &WIRED, b"200 OK"), 40, &mut air);
    let (down, _) = air.last_to(&s.mac);
    assert!(parse(&down).fc.has(flags::PROTECTED));
    let plain = key.unprotect(&down).unwrap();
    assert_eq!(
        &plain[26..],
        &crate::wire::data::snap_encap(0x0800, b"200 OK")[..]
    );

    ap.send(&ethernet(&[0xff; 6], &WIRED, b"arp"), 50, &mut air);
    let (group, token) = air.last_to(&[0xff; 6]);
    assert_eq!(
        (group[1] & 0x40, group[27], token),
        (0x40, 0x60, None),
        "protected, group key id 1"
    );

    ap.receive(&up, 60, &mut air);
    assert_eq!(ap.counters().drops.replay, 1);
}

#[test]
fn only_eapol_passes_before_the_handshake_completes() {
    let (mut ap, mut air) = (secured_ap(), Air::default());
    associate(&mut ap, &mut air, 1, &STATION_RSN);
    assert!(!ap.is_station(&sta(1)));
    ap.receive(&data(&sta(1), &WIRED, 30, 0, b"sneaky"), 0, &mut air);
    ap.send(&ethernet(&sta(1), &WIRED, b"early"), 0, &mut air);
    assert!(air.delivered.is_empty());
    let d = &ap.counters().drops;
    assert_eq!((d.unauthorized, d.no_station), (1, 1));
}

#[test]
fn wrong_passphrase_never_completes_and_ends_in_deauthentication() {
    let (mut ap, mut air) = (secured_ap(), Air::default());
    let mut s = Supplicant::new(1, "not the passphrase");
    associate(&mut ap, &mut air, 1, &STATION_RSN);
    for n in 1..=3u64 {
        let m2 = s.answer1(&last_eapol(&air, &s.mac));
        let f = s.eapol(&m2);
        ap.receive(&f, n * SEC - SEC / 2, &mut air);
        assert_eq!(ap.counters().drops.mic, n);
        let next = ap.poll(n * SEC, &mut air);
        ack_all(&mut ap, &mut air, n * SEC);
        assert!(next > n * SEC);
    }
    let (deauth, _) = air.last_to(&s.mac);
    assert_eq!((deauth[0], &deauth[24..26]), (0xc0, &[15, 0][..]));
    assert!(!ap.is_station(&s.mac));
    let c = ap.counters();
    assert_eq!(
        (c.handshake_failures, c.stations, c.joins, c.leaves),
        (1, 0, 0, 0)
    );
}

#[test]
fn rsn_mismatches_are_refused_with_their_status_codes() {
    let (mut ap, mut air) = (secured_ap(), Air::default());
    let status = |air: &Air, n: u8| {
        let (f, _) = air.last_to(&sta(n));
        u16::from_le_bytes([f[26], f[27]])
    };
    associate(&mut ap, &mut air, 1, &[]);
    assert_eq!(status(&air, 1), 40, "no RSN element on a WPA2 network");
    let mut tkip = STATION_RSN;
    tkip[13] = 2;
    associate(&mut ap, &mut air, 2, &tkip);
    assert_eq!(status(&air, 2), 42);
    let mut eap = STATION_RSN;
    eap[19] = 1;
    associate(&mut ap, &mut air, 3, &eap);
    assert_eq!(status(&air, 3), 43);
    assert_eq!((ap.stations(), ap.counters().drops.assoc_refused), (0, 3));
}

#[test]
fn passphrase_is_checked_when_the_access_point_starts() {
    let config = crate::Config {
        security: Security::Wpa2 {
            passphrase: "1234567".into(),
        },
        ..Default::default()
    };
    assert_eq!(
        AccessPoint::new(config, BSSID, &mut Counter(1)).err(),
        Some(crate::ConfigError::Passphrase)
    );
}

#[test]
fn message_4_protected_with_the_new_key_still_completes_the_handshake() {
    let (mut ap, mut air) = (secured_ap(), Air::default());
    let mut s = Supplicant::new(1, PASSPHRASE);
    associate(&mut ap, &mut air, 1, &STATION_RSN);
    let m2 = s.answer1(&last_eapol(&air, &s.mac));
    let f = s.eapol(&m2);
    ap.receive(&f, 10, &mut air);
    ack_all(&mut ap, &mut air, 10);
    let m4 = s.answer3(&last_eapol(&air, &s.mac));
    // The station installed the TK on message 3 and protects message 4 with it.
    let mut key = PairwiseKey::from_tk(s.tk);
    let body = crate::wire::data::snap_encap(ETHERTYPE_EAPOL, &m4);
    ap.receive(
        &key.protect(&qos_header(&s.mac, &BSSID, 30, 0), &body),
        20,
        &mut air,
    );
    assert!(ap.is_station(&s.mac));
    // Other protected data before the handshake completes never passes.
    let (mut ap, mut air) = (secured_ap(), Air::default());
    let mut s = Supplicant::new(1, PASSPHRASE);
    associate(&mut ap, &mut air, 1, &STATION_RSN);
    let m2 = s.answer1(&last_eapol(&air, &s.mac));
    let f = s.eapol(&m2);
    ap.receive(&f, 10, &mut air);
    let mut key = PairwiseKey::from_tk(s.tk);
    let ip = crate::wire::data::snap_encap(0x0800, b"early");
    ap.receive(
        &key.protect(&qos_header(&s.mac, &WIRED, 31, 0), &ip),
        20,
        &mut air,
    );
    assert!(air.delivered.is_empty());
    assert_eq!(ap.counters().drops.unauthorized, 1);
}
