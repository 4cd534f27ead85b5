//! Behaviour tests of `ap::data` (and the retry and inactivity machinery it rides on).

use super::super::harness::*;
use crate::wire::frame::flags;

#[test]
fn station_data_is_delivered_as_ethernet_ii() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    ap.receive(&data(&sta(1), &WIRED, 1, 0, b"ping"), 0, &mut air);
    assert_eq!(
        air.delivered,
        [crate::wire::data::ethernet(
            &WIRED,
            &sta(1),
            0x0800,
            b"ping"
        )]
    );
    assert_eq!(ap.counters().delivered, 1);
}

#[test]
fn wired_frame_for_a_wmm_station_goes_out_as_qos_data_from_ds() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    ap.send(&ethernet(&sta(1), &WIRED, b"pong"), 0, &mut air);
    let (f, token) = air.last_to(&sta(1));
    let h = parse(&f);
    assert!(h.fc.has(flags::FROM_DS) && !h.fc.has(flags::TO_DS));
    assert_eq!((h.addr2, h.addr3, h.tid()), (BSSID, WIRED, Some(0)));
    assert_eq!(
        h.body,
        &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, b'p', b'o', b'n', b'g']
    );
    assert!(token.is_some());
    ack_all(&mut ap, &mut air, 0);
    ap.send(&ethernet(&sta(1), &WIRED, b"pong"), 0, &mut air);
    assert_eq!(parse(&air.last_to(&sta(1)).0).sequence(), h.sequence() + 1);
}

#[test]
fn retransmission_already_received_is_dropped_as_duplicate() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    ap.receive(&data(&sta(1), &WIRED, 5, 0, b"a"), 0, &mut air);
    ap.receive(&data(&sta(1), &WIRED, 5, flags::RETRY, b"a"), 0, &mut air);
    ap.receive(&data(&sta(1), &WIRED, 6, flags::RETRY, b"b"), 0, &mut air);
    assert_eq!(air.delivered.len(), 2);
    assert_eq!(ap.counters().drops.duplicate, 1);
}

#[test]
fn client_isolation_keeps_station_to_station_traffic_off_the_air() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    join(&mut ap, &mut air, 2, 0);
    air.clear();
    ap.receive(&data(&sta(1), &sta(2), 1, 0, b"hi"), 0, &mut air);
    ap.receive(&data(&sta(1), &[0xff; 6], 2, 0, b"all"), 0, &mut air);
    assert!(air.to(&sta(2)).is_empty());
    assert!(air.to(&[0xff; 6]).is_empty());
    assert_eq!(air.delivered.len(), 2, "the wired side still sees both");
    assert_eq!(ap.counters().drops.isolated, 2);
}

#[test]
fn without_isolation_stations_reach_each_other_over_the_air() {
    let (mut ap, mut air) = (ap_with(|c| c.client_isolation = false), Air::default());
    join(&mut ap, &mut air, 1, 0);
    join(&mut ap, &mut air, 2, 0);
    air.clear();
    ap.receive(&data(&sta(1), &sta(2), 1, 0, b"hi"), 0, &mut air);
    let h_frame = air.last_to(&sta(2)).0;
    let h = parse(&h_frame);
    assert_eq!((h.addr2, h.addr3), (BSSID, sta(1)));
    assert!(
        air.delivered.is_empty(),
        "unicast between stations is not passed up"
    );
    ap.receive(&data(&sta(1), &[0xff; 6], 2, 0, b"all"), 0, &mut air);
    assert_eq!(air.to(&[0xff; 6]).len(), 1);
    assert_eq!(air.delivered.len(), 1);
    assert_eq!(ap.counters().relayed, 2);
}

#[test]
fn wired_frame_for_an_unknown_station_is_dropped_and_counted() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.send(&ethernet(&sta(9), &WIRED, b"x"), 0, &mut air);
    ap.send(&ethernet(&sta(9), &WIRED, b"")[..13], 0, &mut air);
    assert!(air.sent.is_empty());
    assert_eq!(
        (
            ap.counters().drops.no_station,
            ap.counters().drops.truncated
        ),
        (1, 1)
    );
}

#[test]
fn unacknowledged_frame_is_retried_four_times_then_dropped() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    air.clear();
    ap.send(&ethernet(&sta(1), &WIRED, b"lost"), 0, &mut air);
    ap.send(&ethernet(&sta(1), &WIRED, b"next"), 0, &mut air);
    for _ in 0..5 {
        report_next(&mut ap, &mut air, false, 0).unwrap();
    }
    let sent = air.to(&sta(1));
    assert_eq!(
        sent.len(),
        6,
        "first try, four retries, then the next frame"
    );
    assert!(sent[1..5]
        .iter()
        .all(|(f, _)| parse(f).fc.has(flags::RETRY)));
    assert!(sent[5].0.ends_with(b"next") && !parse(&sent[5].0).fc.has(flags::RETRY));
    assert_eq!(ap.counters().drops.retry_exhausted, 1);
    assert_eq!(ap.counters().tx_retries, 4);
    assert!(
        ap.is_station(&sta(1)),
        "a lost frame does not end the association"
    );
}

#[test]
fn with_hardware_retry_a_failed_status_is_final() {
    let (mut ap, mut air) = (ap_with(|c| c.hardware_retry = true), Air::default());
    join(&mut ap, &mut air, 1, 0);
    air.clear();
    ap.send(&ethernet(&sta(1), &WIRED, b"lost"), 0, &mut air);
    report_next(&mut ap, &mut air, false, 0);
    assert_eq!(air.to(&sta(1)).len(), 1);
    assert_eq!(ap.counters().drops.retry_exhausted, 1);
}

#[test]
fn missing_tx_status_counts_as_a_miss_and_the_frame_is_retried() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    air.clear();
    ap.send(&ethernet(&sta(1), &WIRED, b"x"), 0, &mut air);
    let next = ap.poll(0, &mut air);
    assert!(next <= crate::queue::STATUS_TIMEOUT_US);
    ap.poll(crate::queue::STATUS_TIMEOUT_US, &mut air);
    let sent = air.to(&sta(1));
    assert_eq!(sent.len(), 2);
    assert!(parse(&sent[1].0).fc.has(flags::RETRY));
    assert_eq!(ap.counters().drops.tx_status_lost, 1);
}

const TIMEOUT: u64 = 10_000_000;

#[test]
fn silent_station_is_probed_and_dropped_when_the_probe_is_never_acknowledged() {
    let (mut ap, mut air) = (
        ap_with(|c| c.inactivity_timeout_us = TIMEOUT),
        Air::default(),
    );
    join(&mut ap, &mut air, 1, 0);
    air.clear();
    let next = ap.poll(1, &mut air);
    assert!(next <= TIMEOUT);
    ap.poll(TIMEOUT, &mut air);
    let (probe, _) = air.last_to(&sta(1));
    assert_eq!(&probe[..2], &[0x48, 0x02], "null data, FromDS");
    for _ in 0..5 {
        report_next(&mut ap, &mut air, false, TIMEOUT).unwrap();
    }
    let (deauth, token) = air.last_to(&sta(1));
    assert_eq!(
        (&deauth[..2], &deauth[24..26], token),
        (&[0xc0, 0x00][..], &[4, 0][..], None)
    );
    assert_eq!(
        (
            ap.stations(),
            ap.counters().drops.inactive,
            ap.counters().leaves
        ),
        (0, 1, 1)
    );
}

#[test]
fn station_that_acknowledges_the_probe_stays() {
    let (mut ap, mut air) = (
        ap_with(|c| c.inactivity_timeout_us = TIMEOUT),
        Air::default(),
    );
    join(&mut ap, &mut air, 1, 0);
    ap.poll(TIMEOUT, &mut air);
    ack_all(&mut ap, &mut air, TIMEOUT);
    ap.poll(TIMEOUT + 5_000_000, &mut air);
    assert!(ap.is_station(&sta(1)));
    ap.poll(2 * TIMEOUT + 1, &mut air);
    assert_eq!(
        air.to(&sta(1)).iter().filter(|(f, _)| f[0] == 0x48).count(),
        2,
        "probed again after another silence"
    );
}

#[test]
fn dozing_station_that_never_answers_its_probe_is_dropped_at_the_deadline() {
    let (mut ap, mut air) = (
        ap_with(|c| c.inactivity_timeout_us = TIMEOUT),
        Air::default(),
    );
    join(&mut ap, &mut air, 1, 0);
    ap.receive(&null(&sta(1), 3, true), 0, &mut air);
    ap.poll(TIMEOUT, &mut air);
    assert!(ap.is_station(&sta(1)));
    let deadline = ap.poll(TIMEOUT + 1, &mut air);
    ap.poll(deadline.max(TIMEOUT + 1_000_000), &mut air);
    ap.poll(TIMEOUT + 10_000_000, &mut air);
    assert!(!ap.is_station(&sta(1)));
    assert_eq!(ap.counters().drops.inactive, 1);
}

#[test]
fn malformed_data_frames_are_dropped_and_counted() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    let good = data(&sta(1), &WIRED, 1, 0, b"x");
    ap.receive(&good[..25], 0, &mut air); // QoS control cut
    ap.receive(&good[..30], 1, &mut air); // SNAP header cut
    let mut fragment = data(&sta(1), &WIRED, 2, flags::MORE_FRAGMENTS, b"x");
    ap.receive(&fragment, 0, &mut air);
    fragment[1] = 0x03; // four addresses
    ap.receive(&fragment, 0, &mut air);
    let mut amsdu = data(&sta(1), &WIRED, 3, 0, b"x");
    amsdu[24] = 0x80;
    ap.receive(&amsdu, 0, &mut air);
    assert!(air.delivered.is_empty());
    let d = &ap.counters().drops;
    assert_eq!((d.truncated, d.unsupported), (2, 3));
}

#[test]
fn eight_stations_at_once_each_get_their_own_aid_and_traffic() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    let aids: alloc::vec::Vec<u16> = (1..=8).map(|n| join(&mut ap, &mut air, n, 0)).collect();
    assert_eq!(aids, [1, 2, 3, 4, 5, 6, 7, 8]);
    for n in 1..=8 {
        ap.send(&ethernet(&sta(n), &WIRED, &[n]), 0, &mut air);
        ap.receive(&data(&sta(n), &WIRED, 40, 0, &[n]), 0, &mut air);
    }
    ack_all(&mut ap, &mut air, 0);
    for n in 1..=8 {
        assert!(air
            .to(&sta(n))
            .iter()
            .any(|(f, _)| f.ends_with(&[0x08, 0x00, n])));
    }
    assert_eq!(air.delivered.len(), 8);
    assert_eq!((ap.stations(), ap.counters().stations_peak), (8, 8));
}

#[test]
fn a_lossy_link_loses_nothing_while_retries_last() {
    // Every second attempt goes unacknowledged: each frame needs one retry.
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    air.clear();
    for k in 0..60u8 {
        ap.send(&ethernet(&sta(1), &WIRED, &[k]), 0, &mut air);
    }
    let mut attempt = 0;
    while report_next(&mut ap, &mut air, attempt % 2 == 1, 0).is_some() {
        attempt += 1;
    }
    let received: alloc::vec::Vec<u8> = air
        .to(&sta(1))
        .iter()
        .filter(|(f, _)| parse(f).fc.has(flags::RETRY))
        .map(|(f, _)| *f.last().unwrap())
        .collect();
    assert_eq!(
        received,
        (0..60).collect::<alloc::vec::Vec<u8>>(),
        "every frame, in order"
    );
    assert_eq!(ap.counters().drops.retry_exhausted, 0);
}
