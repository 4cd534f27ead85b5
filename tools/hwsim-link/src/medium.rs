//! The medium's behaviour: which frames cross the link, which are acknowledged, which are "lost".
//!
//! Rules from docs/wifi-rig.md: unicast frames delivered to one of our radios are acknowledged
//! over the link with a real 802.11 ACK; group frames never are; ACKs from the link are counted,
//! not injected; `--drop` loses unicast transmission attempts in both directions, deterministically,
//! and the transmitting radio retries as hardware does. Pure logic, tested without a kernel.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::link::{self, Mac};
use crate::netlink::TxFrame;

/// Deterministic pseudo-random loss (xorshift64*), so a run with the same seed loses the same frames.
pub struct Loss {
    percent: u64,
    state: u64,
}

impl Loss {
    /// `percent` of unicast frames are lost (0 = none, 100 = all).
    pub fn new(percent: u8, seed: u64) -> Self {
        Loss {
            percent: u64::from(percent.min(100)),
            state: seed | 1,
        }
    }

    /// Draws once: true if this frame is lost.
    pub fn lose(&mut self) -> bool {
        if self.percent == 0 {
            return false;
        }
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) % 100 < self.percent
    }
}

/// One hwsim radio of this VM: its netlink id and the addresses its interfaces answer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Radio {
    /// The 42:00:00:00:XX:00 id netlink names it by.
    pub id: Mac,
    /// MAC addresses of its interfaces (a station's, an access point's BSSID).
    pub addrs: Vec<Mac>,
}

/// Most attempts a radio makes at one unicast frame (mac80211's long retry limit is 7 per rate).
pub const MAX_ATTEMPTS: u32 = 15;

/// How many attempts the rate table allows: the sum of the counts of its valid entries (idx >= 0).
pub fn attempts(tx_info: &[u8]) -> u32 {
    let total: u32 = tx_info
        .chunks_exact(2)
        .filter(|r| (r[0] as i8) >= 0)
        .map(|r| u32::from(r[1]))
        .sum();
    total.clamp(1, MAX_ATTEMPTS)
}

/// What happens to a frame one of our radios transmitted.
#[derive(Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Put it on the link.
    pub send: bool,
    /// Report HWSIM_TX_STAT_ACK to the radio.
    pub acked: bool,
    /// Attempts the loss simulation threw away before the one that got through (or all of them).
    pub lost: u32,
}

/// Decides the fate of a transmitted frame, acknowledged at once (the far side's ACK is not
/// awaited): each attempt at a unicast frame may be lost, as on air, and the radio retries up to
/// `attempts` times; group frames go out once, unacknowledged.
pub fn on_transmit(frame: &[u8], attempts: u32, loss: &mut Loss) -> Transmit {
    match link::addr1(frame) {
        Some(ra) if !link::is_group(&ra) => {
            let lost = (0..attempts).take_while(|_| loss.lose()).count() as u32;
            let send = lost < attempts;
            Transmit {
                send,
                acked: send,
                lost,
            }
        }
        _ => Transmit {
            send: true,
            acked: false,
            lost: 0,
        },
    }
}

/// What the stop-and-wait radio asks of the forwarder.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Put this 802.11 frame on the link.
    Send { freq: u16, frame: Vec<u8> },
    /// Report this frame's transmit status to hwsim.
    Status { tx: TxFrame, acked: bool },
}

/// A radio that waits for the far side's 802.11 ACK before it reports a unicast frame acked, and
/// retransmits (Retry bit set) when none comes in time: as radio hardware, and the appliance's
/// virtual radio, do. One unicast frame in flight; the frames behind it wait in order.
pub struct StopAndWait {
    queue: VecDeque<TxFrame>,
    inflight: Option<InFlight>,
    timeout: Duration,
}

struct InFlight {
    tx: TxFrame,
    ta: Mac,
    tries_left: u32,
    deadline: Instant,
}

impl StopAndWait {
    /// `timeout`: how long to wait for an ACK before retrying.
    pub fn new(timeout: Duration) -> Self {
        StopAndWait {
            queue: VecDeque::new(),
            inflight: None,
            timeout,
        }
    }

    /// A frame hwsim handed us; returns the frames to send and statuses to report.
    pub fn push(
        &mut self,
        tx: TxFrame,
        now: Instant,
        loss: &mut Loss,
        count: &mut Counters,
    ) -> Vec<Action> {
        self.queue.push_back(tx);
        let mut out = Vec::new();
        self.pump(now, loss, count, &mut out);
        out
    }

    /// An ACK from the link for `ra`: completes the frame in flight if it was sent by `ra`.
    pub fn on_ack(
        &mut self,
        ra: Mac,
        now: Instant,
        loss: &mut Loss,
        count: &mut Counters,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if self.inflight.as_ref().is_some_and(|f| f.ta == ra) {
            if let Some(done) = self.inflight.take() {
                out.push(Action::Status {
                    tx: done.tx,
                    acked: true,
                });
            }
            self.pump(now, loss, count, &mut out);
        }
        out
    }

    /// Retries or gives up on the frame in flight once its deadline has passed.
    pub fn on_tick(&mut self, now: Instant, loss: &mut Loss, count: &mut Counters) -> Vec<Action> {
        let mut out = Vec::new();
        let Some(mut f) = self.inflight.take() else {
            return out;
        };
        if now < f.deadline {
            self.inflight = Some(f);
            return out;
        }
        if f.tries_left == 0 {
            count.unacked += 1;
            out.push(Action::Status {
                tx: f.tx,
                acked: false,
            });
        } else {
            count.retries += 1;
            if let Some(fc1) = f.tx.frame.get_mut(1) {
                *fc1 |= 0x08;
            }
            f.tries_left -= 1;
            f.deadline = now + self.timeout;
            Self::attempt(&f.tx, loss, count, &mut out);
            self.inflight = Some(f);
        }
        self.pump(now, loss, count, &mut out);
        out
    }

    /// When on_tick next has something to do.
    pub fn deadline(&self) -> Option<Instant> {
        self.inflight.as_ref().map(|f| f.deadline)
    }

    fn pump(&mut self, now: Instant, loss: &mut Loss, count: &mut Counters, out: &mut Vec<Action>) {
        while self.inflight.is_none() {
            let Some(tx) = self.queue.pop_front() else {
                return;
            };
            let unicast = link::addr1(&tx.frame)
                .filter(|ra| !link::is_group(ra))
                .and(link::addr2(&tx.frame));
            match unicast {
                Some(ta) => {
                    Self::attempt(&tx, loss, count, out);
                    let tries_left = attempts(&tx.tx_info) - 1;
                    self.inflight = Some(InFlight {
                        tx,
                        ta,
                        tries_left,
                        deadline: now + self.timeout,
                    });
                }
                None => {
                    out.push(Action::Send {
                        freq: freq_of(&tx),
                        frame: tx.frame.clone(),
                    });
                    out.push(Action::Status { tx, acked: false });
                }
            }
        }
    }

    fn attempt(tx: &TxFrame, loss: &mut Loss, count: &mut Counters, out: &mut Vec<Action>) {
        if loss.lose() {
            count.lost_tx += 1;
        } else {
            out.push(Action::Send {
                freq: freq_of(tx),
                frame: tx.frame.clone(),
            });
        }
    }
}

/// The frame's channel, or channel 6 for kernels that do not say.
pub fn freq_of(tx: &TxFrame) -> u16 {
    tx.freq.and_then(|f| u16::try_from(f).ok()).unwrap_or(2437)
}

/// What happens to a frame that came over the link.
#[derive(Debug, PartialEq, Eq)]
pub enum Receive {
    /// An 802.11 ACK from the far side: counted, not injected.
    Ack,
    /// Inject into these radios; send an ACK to `ack_to` over the link if set.
    Deliver {
        radios: Vec<Mac>,
        ack_to: Option<Mac>,
    },
    /// A unicast frame for us that the loss simulation threw away.
    Lost,
    /// Unicast to an address none of our radios has.
    NotOurs,
    /// Too short to carry a receiver address.
    Runt,
}

/// Decides where a frame from the link goes and whether it is acknowledged.
pub fn on_receive(frame: &[u8], radios: &[Radio], loss: &mut Loss) -> Receive {
    if link::is_ack(frame) {
        return Receive::Ack;
    }
    let Some(ra) = link::addr1(frame) else {
        return Receive::Runt;
    };
    if link::is_group(&ra) {
        return Receive::Deliver {
            radios: radios.iter().map(|r| r.id).collect(),
            ack_to: None,
        };
    }
    let Some(radio) = radios.iter().find(|r| r.addrs.contains(&ra)) else {
        return Receive::NotOurs;
    };
    if loss.lose() {
        return Receive::Lost;
    }
    Receive::Deliver {
        radios: vec![radio.id],
        ack_to: link::addr2(frame),
    }
}

/// Every frame's fate, counted: printed on exit and on SIGUSR1.
#[derive(Debug, Default)]
pub struct Counters {
    /// Frames our radios transmitted that went onto the link.
    pub to_link: u64,
    /// Unicast frames our radios transmitted that the loss simulation dropped.
    pub lost_tx: u64,
    /// Frames from the link injected into a radio (once per radio).
    pub injected: u64,
    /// ACKs we sent over the link.
    pub acks_sent: u64,
    /// ACKs that came over the link.
    pub acks_received: u64,
    /// Unicast frames from the link that the loss simulation dropped.
    pub lost_rx: u64,
    /// Unicast frames from the link for an address that is not ours.
    pub not_ours: u64,
    /// Link frames that failed to decode, or too short for an 802.11 header.
    pub bad_link: u64,
    /// Netlink messages that failed to parse, or were not FRAMEs.
    pub bad_netlink: u64,
    /// Kernel messages lost because our socket's receive buffer was full (ENOBUFS).
    pub overruns: u64,
    /// Errors the kernel returned (an injection into a radio that is off that channel or idle).
    pub kernel_errors: u64,
    /// Retransmissions of the stop-and-wait radio (no ACK in time).
    pub retries: u64,
    /// Unicast frames the stop-and-wait radio gave up on.
    pub unacked: u64,
    /// Frames too long for the link MTU, and send errors.
    pub send_errors: u64,
}

impl core::fmt::Display for Counters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "to_link={} lost_tx={} injected={} acks_sent={} acks_received={} lost_rx={} not_ours={} bad_link={} \
             bad_netlink={} overruns={} kernel_errors={} retries={} unacked={} send_errors={}",
            self.to_link,
            self.lost_tx,
            self.injected,
            self.acks_sent,
            self.acks_received,
            self.lost_rx,
            self.not_ours,
            self.bad_link,
            self.bad_netlink,
            self.overruns,
            self.kernel_errors,
            self.retries,
            self.unacked,
            self.send_errors
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STA: Mac = [2, 0, 0, 0, 0, 0];
    const AP: Mac = [2, 0, 0, 0, 0xaa, 0];

    fn frame(a1: Mac, a2: Mac) -> Vec<u8> {
        let mut f = vec![0x08, 0x02, 0, 0];
        f.extend_from_slice(&a1);
        f.extend_from_slice(&a2);
        f.extend_from_slice(&a2);
        f.extend_from_slice(&[0, 0]);
        f
    }

    fn radios() -> Vec<Radio> {
        vec![
            Radio {
                id: [0x42, 0, 0, 0, 0, 0],
                addrs: vec![STA],
            },
            Radio {
                id: [0x42, 0, 0, 0, 1, 0],
                addrs: vec![[2, 0, 0, 0, 1, 0]],
            },
        ]
    }

    #[test]
    fn unicast_for_our_station_is_delivered_and_acked_to_transmitter() {
        let got = on_receive(&frame(STA, AP), &radios(), &mut Loss::new(0, 1));
        assert_eq!(
            got,
            Receive::Deliver {
                radios: vec![[0x42, 0, 0, 0, 0, 0]],
                ack_to: Some(AP)
            }
        );
    }

    #[test]
    fn broadcast_reaches_every_radio_unacked() {
        let got = on_receive(&frame([0xff; 6], AP), &radios(), &mut Loss::new(100, 1));
        assert_eq!(
            got,
            Receive::Deliver {
                radios: vec![[0x42, 0, 0, 0, 0, 0], [0x42, 0, 0, 0, 1, 0]],
                ack_to: None
            }
        );
    }

    #[test]
    fn ack_from_link_is_not_injected() {
        assert_eq!(
            on_receive(&link::ack_frame(STA), &radios(), &mut Loss::new(0, 1)),
            Receive::Ack
        );
    }

    #[test]
    fn unicast_for_someone_else_and_runts_are_dropped() {
        assert_eq!(
            on_receive(&frame(AP, STA), &radios(), &mut Loss::new(0, 1)),
            Receive::NotOurs
        );
        assert_eq!(
            on_receive(&[0x08, 0x02, 0], &radios(), &mut Loss::new(0, 1)),
            Receive::Runt
        );
    }

    #[test]
    fn transmitted_unicast_acked_group_not() {
        let mut none = Loss::new(0, 1);
        assert_eq!(
            on_transmit(&frame(AP, STA), 7, &mut none),
            Transmit {
                send: true,
                acked: true,
                lost: 0
            }
        );
        assert_eq!(
            on_transmit(&frame([0xff; 6], STA), 7, &mut none),
            Transmit {
                send: true,
                acked: false,
                lost: 0
            }
        );
        let mut all = Loss::new(100, 1);
        assert_eq!(
            on_transmit(&frame(AP, STA), 7, &mut all),
            Transmit {
                send: false,
                acked: false,
                lost: 7
            }
        );
        assert_eq!(
            on_transmit(&frame([0xff; 6], STA), 7, &mut all),
            Transmit {
                send: true,
                acked: false,
                lost: 0
            }
        );
        assert_eq!(
            on_receive(&frame(STA, AP), &radios(), &mut all),
            Receive::Lost
        );
    }

    #[test]
    fn lossy_unicast_usually_gets_through_within_retries() {
        let mut loss = Loss::new(20, 3);
        let through = (0..1000)
            .filter(|_| on_transmit(&frame(AP, STA), 4, &mut loss).acked)
            .count();
        assert!(through > 990, "{through}");
    }

    #[test]
    fn attempts_sum_valid_rate_counts() {
        assert_eq!(attempts(&[0, 3, 1, 2, 0xff, 0, 0xff, 0]), 5);
        assert_eq!(attempts(&[0xff, 9, 0xff, 0, 0xff, 0, 0xff, 0]), 1);
        assert_eq!(attempts(&[0, 200, 1, 200]), MAX_ATTEMPTS);
        assert_eq!(attempts(&[]), 1);
    }

    fn tx(a1: Mac, cookie: u64) -> TxFrame {
        TxFrame {
            transmitter: [0x42, 0, 0, 0, 0, 0],
            frame: frame(a1, AP),
            flags: 1,
            tx_info: vec![0, 2, 0xff, 0, 0xff, 0, 0xff, 0],
            freq: Some(2437),
            cookie,
        }
    }

    fn sent(actions: &[Action]) -> usize {
        actions
            .iter()
            .filter(|a| matches!(a, Action::Send { .. }))
            .count()
    }

    fn status(actions: &[Action]) -> Vec<(u64, bool)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Status { tx, acked } => Some((tx.cookie, *acked)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn stop_and_wait_holds_status_until_ack_then_sends_next() {
        let (mut radio, mut loss, mut count) = (
            StopAndWait::new(Duration::from_millis(10)),
            Loss::new(0, 1),
            Counters::default(),
        );
        let t = Instant::now();
        let first = radio.push(tx(STA, 1), t, &mut loss, &mut count);
        assert_eq!((sent(&first), status(&first)), (1, vec![]));
        let second = radio.push(tx(STA, 2), t, &mut loss, &mut count);
        assert_eq!((sent(&second), status(&second)), (0, vec![]));
        assert!(
            radio.on_ack(STA, t, &mut loss, &mut count).is_empty(),
            "an ACK for someone else"
        );
        let acked = radio.on_ack(AP, t, &mut loss, &mut count);
        assert_eq!((sent(&acked), status(&acked)), (1, vec![(1, true)]));
    }

    #[test]
    fn stop_and_wait_retries_with_retry_bit_then_reports_unacked() {
        let (mut radio, mut loss, mut count) = (
            StopAndWait::new(Duration::from_millis(10)),
            Loss::new(0, 1),
            Counters::default(),
        );
        let t = Instant::now();
        radio.push(tx(STA, 7), t, &mut loss, &mut count);
        assert!(
            radio.on_tick(t, &mut loss, &mut count).is_empty(),
            "before the deadline"
        );
        let retry = radio.on_tick(t + Duration::from_millis(11), &mut loss, &mut count);
        match retry.as_slice() {
            [Action::Send { frame, .. }] => assert_eq!(frame[1] & 0x08, 0x08),
            other => panic!("{other:?}"),
        }
        let gave_up = radio.on_tick(t + Duration::from_millis(30), &mut loss, &mut count);
        assert_eq!(status(&gave_up), vec![(7, false)]);
        assert_eq!((count.retries, count.unacked), (1, 1));
        assert_eq!(radio.deadline(), None);
    }

    #[test]
    fn stop_and_wait_sends_group_frames_at_once_unacked() {
        let (mut radio, mut loss, mut count) = (
            StopAndWait::new(Duration::from_millis(10)),
            Loss::new(0, 1),
            Counters::default(),
        );
        let out = radio.push(tx([0xff; 6], 3), Instant::now(), &mut loss, &mut count);
        assert_eq!((sent(&out), status(&out)), (1, vec![(3, false)]));
    }

    #[test]
    fn loss_rate_close_to_percent_and_repeatable() {
        let mut a = Loss::new(20, 42);
        let lost = (0..10_000).filter(|_| a.lose()).count();
        assert!((1800..2200).contains(&lost), "{lost}");
        let mut b = Loss::new(20, 42);
        let mut c = Loss::new(20, 42);
        assert!((0..100).all(|_| b.lose() == c.lose()));
    }
}
