//! Behaviour tests of `ap::mgmt`: probing, authentication, association, leaving.

use super::super::harness::*;
use crate::wire::frame::mgmt as sub;
use crate::wire::ie::{self, Elements};
use crate::wire::mgmt::tests::PROBE_REQUEST;

/// The status code of the last (re)association or authentication answer to `mac`.
fn last_status(air: &Air, mac: &[u8; 6], at: usize) -> u16 {
    let (f, _) = air.last_to(mac);
    u16::from_le_bytes([f[at], f[at + 1]])
}

/// The reason code of the last deauthentication to `mac`.
fn deauth_reason(air: &Air, mac: &[u8; 6]) -> Option<u16> {
    air.to(mac)
        .iter()
        .rev()
        .find(|(f, _)| f[0] == 0xc0)
        .map(|(f, _)| u16::from_le_bytes([f[24], f[25]]))
}

#[test]
fn wildcard_probe_request_gets_a_probe_response_with_our_ssid() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    let mut probe = PROBE_REQUEST;
    probe[10..16].copy_from_slice(&sta(1));
    ap.receive(&probe, 0, &mut air);
    let (resp, token) = air.last_to(&sta(1));
    assert_eq!(parse(&resp).fc.subtype(), sub::PROBE_RESP);
    assert_eq!(token, None);
    let e = Elements::new(&resp[36..]).unwrap();
    assert_eq!(e.find(ie::id::SSID).unwrap().data, b"2048");
    assert!(e.find(ie::id::RSN).is_none());
}

#[test]
fn probe_request_for_another_ssid_gets_no_answer() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    let mut probe = PROBE_REQUEST.to_vec();
    probe.splice(24..26, [0x00, 0x04, b'c', b'a', b'f', b'e']);
    ap.receive(&probe, 0, &mut air);
    assert!(air.sent.is_empty());
    assert_eq!(ap.counters().drops.not_for_us, 1);
}

#[test]
fn open_authentication_and_association_give_aid_1_and_a_join() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.receive(&auth(&sta(1), 0), 0, &mut air);
    let (resp, token) = air.last_to(&sta(1));
    assert_eq!(&resp[24..30], &[0, 0, 2, 0, 0, 0]); // open system, transaction 2, success
    assert!(
        token.is_some(),
        "answers to a known station are retried until acknowledged"
    );
    assert!(!ap.is_station(&sta(1)));
    ack_all(&mut ap, &mut air, 0);
    assert_eq!(join(&mut ap, &mut air, 2, 0), 1);
    assert_eq!(join(&mut ap, &mut air, 1, 0), 2);
    assert!(ap.is_station(&sta(1)));
    assert_eq!(
        (
            ap.stations(),
            ap.counters().joins,
            ap.counters().stations_peak
        ),
        (2, 2, 2)
    );
}

#[test]
fn shared_key_authentication_is_refused_with_status_13() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.receive(&auth(&sta(1), 1), 0, &mut air);
    assert_eq!(last_status(&air, &sta(1), 28), 13);
    assert_eq!(ap.counters().drops.unknown_algorithm, 1);
    ap.receive(&assoc(&sta(1)), 0, &mut air);
    assert_eq!(deauth_reason(&air, &sta(1)), Some(6));
}

#[test]
fn association_without_authentication_is_answered_with_deauthentication_reason_6() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.receive(&assoc(&sta(1)), 0, &mut air);
    assert_eq!(deauth_reason(&air, &sta(1)), Some(6));
    assert_eq!(ap.counters().drops.not_authenticated, 1);
    assert_eq!(ap.stations(), 0);
}

#[test]
fn association_for_another_ssid_is_refused_with_status_12() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.receive(&auth(&sta(1), 0), 0, &mut air);
    ack_all(&mut ap, &mut air, 0);
    ap.receive(&assoc_with(&sta(1), &assoc_elements(b"4096")), 0, &mut air);
    assert_eq!(last_status(&air, &sta(1), 26), 12);
    assert_eq!(ap.counters().drops.assoc_refused, 1);
    assert_eq!(ap.stations(), 0);
}

#[test]
fn station_without_the_basic_11b_rates_is_refused_with_status_18() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    let mut elements = alloc::vec![0x00, 0x04, b'2', b'0', b'4', b'8'];
    elements.extend_from_slice(&[0x01, 0x04, 0x0c, 0x12, 0x18, 0x24]); // OFDM only
    ap.receive(&auth(&sta(1), 0), 0, &mut air);
    ack_all(&mut ap, &mut air, 0);
    ap.receive(&assoc_with(&sta(1), &elements), 0, &mut air);
    assert_eq!(last_status(&air, &sta(1), 26), 18);
}

#[test]
fn full_access_point_refuses_with_status_17_and_a_leaver_frees_its_aid() {
    let (mut ap, mut air) = (ap_with(|c| c.max_stations = 1), Air::default());
    assert_eq!(join(&mut ap, &mut air, 1, 0), 1);
    ap.receive(&auth(&sta(2), 0), 0, &mut air);
    ack_all(&mut ap, &mut air, 0);
    ap.receive(&assoc(&sta(2)), 0, &mut air);
    assert_eq!(last_status(&air, &sta(2), 26), 17);
    ap.receive(&farewell(&sta(1), true), 0, &mut air);
    assert_eq!((ap.stations(), ap.counters().leaves), (0, 1));
    assert_eq!(join(&mut ap, &mut air, 2, 0), 1);
}

#[test]
fn disassociation_frees_the_aid_but_keeps_the_authentication() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    ap.receive(&farewell(&sta(1), false), 0, &mut air);
    assert_eq!(ap.stations(), 0);
    assert!(!ap.is_station(&sta(1)));
    air.clear();
    ap.receive(&assoc(&sta(1)), 0, &mut air);
    assert_eq!(
        last_status(&air, &sta(1), 26),
        0,
        "no new authentication needed"
    );
}

#[test]
fn reassociation_keeps_the_aid() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    let aid2 = join(&mut ap, &mut air, 2, 0);
    let mut reassoc = assoc(&sta(2));
    reassoc[0] = 0x20;
    reassoc.splice(28..28, BSSID); // current AP
    ap.receive(&reassoc, 0, &mut air);
    let (f, _) = air.last_to(&sta(2));
    assert_eq!(f[0], 0x30);
    assert_eq!(u16::from_le_bytes([f[28], f[29]]) & 0x3fff, aid2);
    assert_eq!(ap.counters().joins, 2);
}

#[test]
fn data_from_a_stranger_is_answered_with_deauthentication_reason_7() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.receive(&data(&sta(1), &WIRED, 1, 0, b"hello"), 0, &mut air);
    assert_eq!(deauth_reason(&air, &sta(1)), Some(7));
    ap.receive(&auth(&sta(1), 0), 0, &mut air);
    ap.receive(&data(&sta(1), &WIRED, 2, 0, b"hello"), 0, &mut air);
    assert_eq!(deauth_reason(&air, &sta(1)), Some(7));
    assert_eq!(ap.counters().drops.not_associated, 2);
    assert!(air.delivered.is_empty());
    // The deauthentication ended its authentication too.
    ap.receive(&assoc(&sta(1)), 0, &mut air);
    assert_eq!(deauth_reason(&air, &sta(1)), Some(6));
}

#[test]
fn authenticating_again_ends_the_association() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    ap.receive(&auth(&sta(1), 0), 1, &mut air);
    assert_eq!((ap.stations(), ap.counters().leaves), (0, 1));
    assert_eq!(join(&mut ap, &mut air, 1, 2), 1);
}

#[test]
fn malformed_management_frames_are_dropped_and_counted() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.receive(&auth(&sta(1), 0)[..27], 0, &mut air);
    ap.receive(&auth(&sta(1), 0), 0, &mut air);
    let mut broken = assoc(&sta(1));
    broken.extend_from_slice(&[0x30, 0x10, 0x01]); // RSN element claiming 16 bytes
    ap.receive(&broken, 0, &mut air);
    ap.receive(&[0x00], 0, &mut air);
    ap.receive(&[0u8; 3000], 0, &mut air);
    let d = &ap.counters().drops;
    assert_eq!((d.truncated, d.bad_element, d.oversized), (2, 1, 1));
    assert_eq!(ap.stations(), 0);
}

#[test]
fn addba_request_from_a_station_is_declined() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    let mut f = alloc::vec![0xd0, 0x00, 0, 0];
    f.extend_from_slice(&BSSID);
    f.extend_from_slice(&sta(1));
    f.extend_from_slice(&BSSID);
    f.extend_from_slice(&[0x50, 0x00, 3, 0, 7, 0x02, 0x10, 0, 0, 0x10, 0]);
    ap.receive(&f, 0, &mut air);
    let (resp, _) = air.last_to(&sta(1));
    assert_eq!(&resp[24..29], &[3, 1, 7, 37, 0]);
}

#[test]
fn retransmitted_authentication_is_a_duplicate() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    let mut f = auth(&sta(1), 0);
    ap.receive(&f, 0, &mut air);
    f[1] |= 0x08;
    ap.receive(&f, 0, &mut air);
    assert_eq!(ap.counters().drops.duplicate, 1);
    assert_eq!(air.to(&sta(1)).len(), 1);
}

#[test]
fn station_that_authenticates_and_never_associates_is_forgotten() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.receive(&auth(&sta(1), 0), 0, &mut air);
    ack_all(&mut ap, &mut air, 0);
    ap.poll(31_000_000, &mut air);
    ap.receive(&assoc(&sta(1)), 31_000_001, &mut air);
    assert_eq!(deauth_reason(&air, &sta(1)), Some(6));
}

#[test]
fn public_action_from_a_stranger_is_dropped_without_deauthentication() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    let mut f = alloc::vec![0xd0, 0x00, 0, 0];
    f.extend_from_slice(&BSSID);
    f.extend_from_slice(&sta(1));
    f.extend_from_slice(&BSSID);
    f.extend_from_slice(&[0x50, 0x00, 4, 10, 1]); // public, GAS initial request
    ap.receive(&f, 0, &mut air);
    assert!(air.sent.is_empty());
    f[24] = 3; // block ack: class 3
    ap.receive(&f, 0, &mut air);
    assert_eq!(&air.last_to(&sta(1)).0[24..26], &[7, 0]);
}
