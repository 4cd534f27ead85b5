//! The medium's behaviour: which frames cross the link, which are acknowledged, which are "lost".
//!
//! Rules from `notes-helpers/wifi-link.md`: unicast frames delivered to one of our radios are
//! acknowledged over the link with a real 802.11 ACK; group frames never are; ACKs from the link
//! are counted, not injected; `--drop` loses unicast frames in both directions, deterministically.
//! Pure logic, so it is tested without a kernel.

use crate::link::{self, Mac};

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

/// What happens to a frame one of our radios transmitted.
#[derive(Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Put it on the link.
    pub send: bool,
    /// Report HWSIM_TX_STAT_ACK to the radio.
    pub acked: bool,
}

/// Decides the fate of a transmitted frame: unicast ones may be lost, and are acked otherwise.
pub fn on_transmit(frame: &[u8], loss: &mut Loss) -> Transmit {
    match link::addr1(frame) {
        Some(ra) if !link::is_group(&ra) => {
            let lost = loss.lose();
            Transmit {
                send: !lost,
                acked: !lost,
            }
        }
        _ => Transmit {
            send: true,
            acked: false,
        },
    }
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
    /// Netlink messages that failed to parse, and errors the kernel returned.
    pub bad_netlink: u64,
    /// Frames too long for the link MTU, and send errors.
    pub send_errors: u64,
}

impl core::fmt::Display for Counters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "to_link={} lost_tx={} injected={} acks_sent={} acks_received={} lost_rx={} not_ours={} bad_link={} \
             bad_netlink={} send_errors={}",
            self.to_link,
            self.lost_tx,
            self.injected,
            self.acks_sent,
            self.acks_received,
            self.lost_rx,
            self.not_ours,
            self.bad_link,
            self.bad_netlink,
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
            on_transmit(&frame(AP, STA), &mut none),
            Transmit {
                send: true,
                acked: true
            }
        );
        assert_eq!(
            on_transmit(&frame([0xff; 6], STA), &mut none),
            Transmit {
                send: true,
                acked: false
            }
        );
        let mut all = Loss::new(100, 1);
        assert_eq!(
            on_transmit(&frame(AP, STA), &mut all),
            Transmit {
                send: false,
                acked: false
            }
        );
        assert_eq!(
            on_transmit(&frame([0xff; 6], STA), &mut all),
            Transmit {
                send: true,
                acked: false
            }
        );
        assert_eq!(
            on_receive(&frame(STA, AP), &radios(), &mut all),
            Receive::Lost
        );
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
