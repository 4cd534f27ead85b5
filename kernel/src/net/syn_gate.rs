//! Holding back connection requests that no slot can take yet.
//!
//! smoltcp answers a SYN that no listening socket takes with a reset, which a
//! browser shows as "can't be reached". When every slot of a served port is
//! busy, the gate drops such a SYN instead, unanswered: the client sends it
//! again (after 1 s, then 2 s, ...), and by then eviction (`tcp.rs`) has freed
//! a slot. Each pass of the network loop starts by counting the listening
//! slots of each port; every SYN let through for a port uses one of them, as
//! the listening socket it reaches stops listening. Ports the server has no
//! slots on are not its business: smoltcp refuses those with a reset, as it
//! should. Parsing uses smoltcp's checked views; anything that does not parse
//! as an IPv4 TCP SYN goes through untouched.

#![deny(unsafe_code)]

use alloc::vec::Vec;

use smoltcp::wire::{EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, TcpPacket};

/// Listening slots per served port, for the current pass.
#[derive(Debug, Default)]
pub struct SynGate {
    ports: Vec<(u16, usize)>,
}

impl SynGate {
    /// Starts a new count (the start of a pass of the network loop).
    pub fn clear(&mut self) {
        self.ports.clear();
    }

    /// Counts one slot of `port`, listening or not.
    pub fn count_slot(&mut self, port: u16, listening: bool) {
        match self.ports.iter_mut().find(|(p, _)| *p == port) {
            Some((_, listeners)) => *listeners += usize::from(listening),
            None => self.ports.push((port, usize::from(listening))),
        }
    }

    /// False for a connection request (SYN without ACK) to a served port
    /// none of whose slots is listening now: drop it, the client retries.
    pub fn admits(&mut self, frame: &[u8]) -> bool {
        let Some(port) = syn_destination(frame) else { return true };
        match self.ports.iter_mut().find(|(p, _)| *p == port) {
            Some((_, 0)) => false,
            Some((_, listeners)) => {
                *listeners -= 1;
                true
            }
            None => true,
        }
    }
}

/// The destination port of an IPv4 TCP SYN (without ACK), if `frame` is one.
fn syn_destination(frame: &[u8]) -> Option<u16> {
    let ethernet = EthernetFrame::new_checked(frame).ok()?;
    if ethernet.ethertype() != EthernetProtocol::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(ethernet.payload()).ok()?;
    if ip.next_header() != IpProtocol::Tcp || ip.frag_offset() != 0 {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    (tcp.syn() && !tcp.ack()).then(|| tcp.dst_port())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet + IPv4 + TCP frame to 10.42.0.1:`port` with TCP `flags`.
    fn tcp_frame(port: u16, flags: u8) -> Vec<u8> {
        let mut frame = Vec::new();
        frame.extend_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
        frame.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 42, 0, 10, 10, 42, 0, 1]);
        frame.extend_from_slice(&[0xc0, 0x01]);
        frame.extend_from_slice(&port.to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        frame
    }

    const SYN: u8 = 0x02;
    const SYN_ACK: u8 = 0x12;
    const ACK: u8 = 0x10;

    fn gate(slots: &[(u16, bool)]) -> SynGate {
        let mut gate = SynGate::default();
        for &(port, listening) in slots {
            gate.count_slot(port, listening);
        }
        gate
    }

    #[test]
    fn syns_beyond_the_listening_slots_are_held_back() {
        let mut gate = gate(&[(80, true), (80, false), (80, true), (443, false)]);
        assert!(gate.admits(&tcp_frame(80, SYN)));
        assert!(gate.admits(&tcp_frame(80, SYN)));
        assert!(!gate.admits(&tcp_frame(80, SYN)), "both listeners used");
        assert!(!gate.admits(&tcp_frame(443, SYN)), "no HTTPS slot listening");
    }

    #[test]
    fn segments_of_open_connections_and_other_ports_always_pass() {
        let mut gate = gate(&[(80, false)]);
        assert!(gate.admits(&tcp_frame(80, ACK)));
        assert!(gate.admits(&tcp_frame(80, SYN_ACK)));
        assert!(gate.admits(&tcp_frame(8080, SYN)), "not a served port: smoltcp resets it");
    }

    #[test]
    fn a_new_pass_counts_afresh() {
        let mut gate = gate(&[(80, true)]);
        assert!(gate.admits(&tcp_frame(80, SYN)));
        assert!(!gate.admits(&tcp_frame(80, SYN)));
        gate.clear();
        gate.count_slot(80, true);
        assert!(gate.admits(&tcp_frame(80, SYN)));
    }

    #[test]
    fn anything_that_is_not_an_ipv4_tcp_syn_goes_through() {
        let mut gate = gate(&[(80, false)]);
        let syn = tcp_frame(80, SYN);
        for len in 0..syn.len() {
            assert!(gate.admits(&syn[..len]), "truncated to {len}");
        }
        let mut arp = syn.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        let mut udp = syn.clone();
        udp[23] = 17;
        let mut fragment = syn.clone();
        fragment[20] = 0x20;
        fragment[21] = 0x01;
        for frame in [arp, udp, fragment] {
            assert!(gate.admits(&frame));
        }
        assert!(!gate.admits(&syn));
    }
}
