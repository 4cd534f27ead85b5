//! Behaviour tests of `ap::powersave`: beacons and TIM, buffering, PS-Poll, group traffic at DTIM.

use super::super::harness::*;
use super::super::BEACON_INTERVAL_US;
use crate::wire::frame::flags;
use crate::wire::ie::{self, Elements};

/// The TIM element's contents in the last beacon sent.
fn last_tim(air: &Air) -> alloc::vec::Vec<u8> {
    let (b, _) = air
        .sent
        .iter()
        .rev()
        .find(|(f, _)| f[0] == 0x80)
        .expect("a beacon");
    Elements::new(&b[36..])
        .unwrap()
        .find(ie::id::TIM)
        .unwrap()
        .data
        .to_vec()
}

fn beacons(air: &Air) -> usize {
    air.sent.iter().filter(|(f, _)| f[0] == 0x80).count()
}

#[test]
fn beacons_go_out_every_100_tu_with_the_dtim_count_running_down() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    assert_eq!(ap.poll(1000, &mut air), 1000 + BEACON_INTERVAL_US);
    assert_eq!(last_tim(&air), [0, 2, 0, 0]);
    assert_eq!(
        ap.poll(1000 + BEACON_INTERVAL_US - 1, &mut air),
        1000 + BEACON_INTERVAL_US
    );
    assert_eq!(beacons(&air), 1);
    ap.poll(1000 + BEACON_INTERVAL_US, &mut air);
    assert_eq!(last_tim(&air), [1, 2, 0, 0]);
    ap.poll(1000 + 2 * BEACON_INTERVAL_US, &mut air);
    assert_eq!(last_tim(&air), [0, 2, 0, 0]);
    assert_eq!((beacons(&air), ap.counters().beacons), (3, 3));
}

#[test]
fn late_poll_sends_one_beacon_not_a_burst() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.poll(0, &mut air);
    assert_eq!(
        ap.poll(10 * BEACON_INTERVAL_US + 5, &mut air),
        11 * BEACON_INTERVAL_US + 5
    );
    assert_eq!(beacons(&air), 2);
}

/// Joins station 1 and puts it in power save; returns its AID.
fn dozing(ap: &mut crate::AccessPoint, air: &mut Air) -> u16 {
    let aid = join(ap, air, 1, 0);
    ap.receive(&null(&sta(1), 3, true), 0, air);
    air.clear();
    aid
}

#[test]
fn frames_for_a_dozing_station_wait_and_its_aid_shows_in_the_tim() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    let aid = dozing(&mut ap, &mut air);
    assert_eq!(aid, 1);
    ap.send(&ethernet(&sta(1), &WIRED, b"one"), 0, &mut air);
    ap.send(&ethernet(&sta(1), &WIRED, b"two"), 0, &mut air);
    assert!(air.to(&sta(1)).is_empty());
    ap.poll(0, &mut air);
    // Offset 0, bitmap byte 0 with bit 1 (AID 1).
    assert_eq!(last_tim(&air), [0, 2, 0, 0x02]);
}

#[test]
fn ps_poll_releases_one_frame_with_more_data_then_the_last_without() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    let aid = dozing(&mut ap, &mut air);
    ap.send(&ethernet(&sta(1), &WIRED, b"one"), 0, &mut air);
    ap.send(&ethernet(&sta(1), &WIRED, b"two"), 0, &mut air);
    ap.receive(&ps_poll(&sta(1), aid), 0, &mut air);
    let first = air.to(&sta(1));
    assert_eq!(first.len(), 1);
    assert!(first[0].0.ends_with(b"one") && parse(&first[0].0).fc.has(flags::MORE_DATA));
    ack_all(&mut ap, &mut air, 0);
    assert_eq!(
        air.to(&sta(1)).len(),
        1,
        "the next waits for the next PS-Poll"
    );
    ap.receive(&ps_poll(&sta(1), aid), 0, &mut air);
    let (second, _) = air.last_to(&sta(1));
    assert!(second.ends_with(b"two") && !parse(&second).fc.has(flags::MORE_DATA));
    ack_all(&mut ap, &mut air, 0);
    ap.poll(0, &mut air);
    assert_eq!(last_tim(&air), [0, 2, 0, 0]);
}

#[test]
fn ps_poll_with_nothing_buffered_gets_a_null_frame() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    let aid = dozing(&mut ap, &mut air);
    ap.receive(&ps_poll(&sta(1), aid), 0, &mut air);
    assert_eq!(&air.last_to(&sta(1)).0[..2], &[0x48, 0x02]);
}

#[test]
fn waking_up_flushes_the_buffer_in_order() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    dozing(&mut ap, &mut air);
    for p in [b"a", b"b", b"c"] {
        ap.send(&ethernet(&sta(1), &WIRED, p), 0, &mut air);
    }
    ap.receive(&null(&sta(1), 4, false), 0, &mut air);
    ack_all(&mut ap, &mut air, 0);
    let got: alloc::vec::Vec<u8> = air
        .to(&sta(1))
        .iter()
        .map(|(f, _)| *f.last().unwrap())
        .collect();
    assert_eq!(got, b"abc");
}

#[test]
fn frame_missed_as_the_station_dozes_off_is_kept_not_lost() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    air.clear();
    ap.send(&ethernet(&sta(1), &WIRED, b"x"), 0, &mut air);
    ap.receive(&null(&sta(1), 3, true), 0, &mut air);
    report_next(&mut ap, &mut air, false, 0);
    assert_eq!(air.to(&sta(1)).len(), 1, "no retry into a dozing radio");
    ap.receive(&null(&sta(1), 4, false), 0, &mut air);
    let sent = air.to(&sta(1));
    assert_eq!(sent.len(), 2);
    assert!(
        parse(&sent[1].0).fc.has(flags::RETRY),
        "same frame, marked as a retransmission"
    );
    ack_all(&mut ap, &mut air, 0);
    assert_eq!(ap.counters().drops.retry_exhausted, 0);
}

#[test]
fn power_save_buffer_overflow_is_counted() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    dozing(&mut ap, &mut air);
    for _ in 0..crate::queue::CAPACITY + 3 {
        ap.send(&ethernet(&sta(1), &WIRED, b"x"), 0, &mut air);
    }
    assert_eq!(ap.counters().drops.queue_overflow, 3);
}

#[test]
fn group_traffic_waits_for_the_dtim_beacon_while_a_station_dozes() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.poll(0, &mut air); // DTIM beacon at 0; the next DTIM is two beacons on
    dozing(&mut ap, &mut air);
    ap.send(&ethernet(&[0xff; 6], &WIRED, b"g1"), 0, &mut air);
    ap.send(
        &ethernet(&[0x01, 0, 0x5e, 0, 0, 1], &WIRED, b"g2"),
        0,
        &mut air,
    );
    assert!(air.sent.is_empty());
    ap.poll(BEACON_INTERVAL_US, &mut air);
    assert_eq!(last_tim(&air), [1, 2, 0, 0], "no group bit outside a DTIM");
    assert_eq!(air.sent.len(), 1);
    ap.poll(2 * BEACON_INTERVAL_US, &mut air);
    assert_eq!(last_tim(&air), [0, 2, 1, 0], "group bit in the DTIM beacon");
    let after: alloc::vec::Vec<_> = air.sent.iter().skip(2).collect();
    assert_eq!(after.len(), 2);
    assert!(
        parse(&after[0].0).fc.has(flags::MORE_DATA) && !parse(&after[1].0).fc.has(flags::MORE_DATA)
    );
    assert!(
        after.iter().all(|(_, token)| token.is_none()),
        "group frames are never acknowledged"
    );
}

#[test]
fn group_traffic_goes_at_once_when_nobody_dozes() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    join(&mut ap, &mut air, 1, 0);
    air.clear();
    ap.send(&ethernet(&[0xff; 6], &WIRED, b"g"), 0, &mut air);
    assert_eq!(air.to(&[0xff; 6]).len(), 1);
}

#[test]
fn ps_poll_from_a_stranger_is_answered_with_deauthentication_and_a_wrong_aid_dropped() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.receive(&ps_poll(&sta(1), 1), 0, &mut air);
    assert_eq!(&air.last_to(&sta(1)).0[24..26], &[7, 0]);
    let aid = join(&mut ap, &mut air, 2, 0);
    air.clear();
    ap.receive(&ps_poll(&sta(2), aid + 1), 0, &mut air);
    assert!(air.sent.is_empty());
    assert!(ap.is_station(&sta(2)));
    assert_eq!(ap.counters().drops.not_associated, 2);
    ap.receive(&ps_poll(&sta(2), aid)[..15], 0, &mut air);
    assert_eq!(ap.counters().drops.truncated, 1);
}

#[test]
fn held_group_traffic_goes_out_as_soon_as_the_last_dozer_wakes() {
    let (mut ap, mut air) = (open_ap(), Air::default());
    ap.poll(0, &mut air);
    dozing(&mut ap, &mut air);
    ap.send(&ethernet(&[0xff; 6], &WIRED, b"g1"), 0, &mut air);
    assert!(air.to(&[0xff; 6]).is_empty());
    ap.receive(&null(&sta(1), 4, false), 1, &mut air);
    ap.send(&ethernet(&[0xff; 6], &WIRED, b"g2"), 2, &mut air);
    let group: alloc::vec::Vec<u8> = air
        .to(&[0xff; 6])
        .iter()
        .map(|(f, _)| *f.last().unwrap())
        .collect();
    assert_eq!(group, b"12", "in order, nothing lost");
}
