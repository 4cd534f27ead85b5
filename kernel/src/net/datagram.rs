//! Request-reply services on UDP ports (DHCP, DNS): the trait they
//! implement, the loop that answers every datagram waiting on a socket, and
//! the gate that counts the datagrams a burst brings beyond a socket's queue.
//!
//! A service sees one datagram in and writes at most one out; the sockets,
//! their queues and the reply's route stay here. smoltcp drops a datagram
//! whose socket queue is full without a trace, so `DatagramGate` (in the
//! device's receive path, like the SYN gate) admits at most the room each
//! queue has in a pass of the network loop and counts the rest, per service.

#![deny(unsafe_code)]

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use smoltcp::socket::udp;
use smoltcp::wire::{EthernetFrame, EthernetProtocol, IpAddress, IpEndpoint, IpProtocol, Ipv4Address, Ipv4Packet, UdpPacket};

use super::device::NicCounters;
use crate::counters::Counter;

/// Largest datagram a UDP service receives or sends.
pub const DATAGRAM_BYTES: usize = 1500;

/// Datagrams each UDP socket queues in either direction: a burst of DNS
/// queries is answered, not dropped.
const QUEUE_DEPTH: usize = 64;

/// Replies each socket queues for the NIC: several passes' worth, so that
/// a burst answered faster than the NIC sends is held, not dropped.
const REPLY_DEPTH: usize = 4 * QUEUE_DEPTH;

/// Datagrams the gate admits to an empty queue in one pass: one entry is
/// left for the padding smoltcp's ring writes when a datagram wraps.
const ADMITTED_PER_PASS: usize = QUEUE_DEPTH - 1;

/// A request-reply service on a UDP port: one datagram in, at most one out.
/// Takes `&self` so that `/stats.json` can read the service's figures while
/// the network loop owns it (services keep their state in a `RefCell`).
pub trait DatagramService {
    /// The port it listens on.
    fn port(&self) -> u16;
    /// Answers `request` from `from`: writes the reply into `reply` and
    /// returns its length and destination, or `None` to stay silent.
    fn handle(&self, request: &[u8], from: (Ipv4Addr, u16), now_us: u64, reply: &mut [u8]) -> Option<(usize, Ipv4Addr, u16)>;
    /// Where the datagrams that found its queue full are counted.
    fn queue_full(&self) -> &Counter;
}

/// A UDP socket bound to `port` with `QUEUE_DEPTH` datagrams of room in
/// (its ring holds that many of the largest even when one wraps, so the
/// gate's count is the only limit) and `REPLY_DEPTH` out.
pub fn udp_socket(port: u16) -> udp::Socket<'static> {
    let buffer = |datagrams, bytes| udp::PacketBuffer::new(alloc::vec![udp::PacketMetadata::EMPTY; datagrams], alloc::vec![0; bytes]);
    let rx = buffer(QUEUE_DEPTH, QUEUE_DEPTH * DATAGRAM_BYTES + DATAGRAM_BYTES);
    let mut socket = udp::Socket::new(rx, buffer(REPLY_DEPTH, REPLY_DEPTH * 600));
    if socket.bind(port).is_err() {
        log::error!("cannot bind UDP port {port}");
    }
    socket
}

/// Answers every datagram waiting on `socket`; a reply that finds no room
/// in the send queue counts as a transmit drop.
pub fn answer_all(socket: &mut udp::Socket, service: &dyn DatagramService, buffers: &mut [u8; 2 * DATAGRAM_BYTES], now_us: u64, counters: &NicCounters) {
    let (datagram, reply) = buffers.split_at_mut(DATAGRAM_BYTES);
    while let Ok((len, meta)) = socket.recv_slice(datagram) {
        let IpAddress::Ipv4(from) = meta.endpoint.addr;
        let Some((reply_len, to, port)) = service.handle(&datagram[..len], (from, meta.endpoint.port), now_us, reply) else {
            continue;
        };
        let Some(bytes) = reply.get(..reply_len) else { continue };
        let destination = IpEndpoint::new(IpAddress::Ipv4(to), port);
        if socket.send_slice(bytes, destination).is_err() {
            counters.tx_dropped.increment();
        }
    }
}

/// Room in each served UDP port's queue for the current pass.
#[derive(Debug, Default)]
pub struct DatagramGate {
    address: Option<Ipv4Address>,
    ports: Vec<(u16, usize, u32)>,
}

impl DatagramGate {
    /// Serves `ports` at `address`; what is not addressed to it (or to a
    /// broadcast) is smoltcp's to drop, not a queue's overflow.
    pub fn open(&mut self, address: Option<Ipv4Address>, ports: impl Iterator<Item = u16>) {
        self.address = address;
        self.ports = ports.map(|port| (port, ADMITTED_PER_PASS, 0)).collect();
    }

    /// Starts a pass: every queue was drained by the previous one.
    pub fn refill(&mut self) {
        self.ports.iter_mut().for_each(|(_, room, _)| *room = ADMITTED_PER_PASS);
    }

    /// False for a datagram to a served port whose queue has no room left
    /// in this pass: dropped here and counted, rather than by smoltcp unseen.
    pub fn admits(&mut self, frame: &[u8]) -> bool {
        let Some(port) = self.served_port(frame) else { return true };
        match self.ports.iter_mut().find(|(p, _, _)| *p == port) {
            Some((_, 0, dropped)) => {
                *dropped += 1;
                false
            }
            Some((_, room, _)) => {
                *room -= 1;
                true
            }
            None => true,
        }
    }

    /// Datagrams dropped on `port` since the last call.
    pub fn take_dropped(&mut self, port: u16) -> u32 {
        self.ports.iter_mut().find(|(p, _, _)| *p == port).map_or(0, |(_, _, dropped)| core::mem::take(dropped))
    }

    fn served_port(&self, frame: &[u8]) -> Option<u16> {
        let ethernet = EthernetFrame::new_checked(frame).ok()?;
        if ethernet.ethertype() != EthernetProtocol::Ipv4 {
            return None;
        }
        let ip = Ipv4Packet::new_checked(ethernet.payload()).ok()?;
        let to_us = Some(ip.dst_addr()) == self.address || ip.dst_addr().is_broadcast();
        if !to_us || ip.next_header() != IpProtocol::Udp || ip.more_frags() || ip.frag_offset() != 0 {
            return None;
        }
        Some(UdpPacket::new_checked(ip.payload()).ok()?.dst_port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::phy::ChecksumCapabilities;
    use smoltcp::wire::{EthernetAddress, EthernetRepr, Ipv4Repr, UdpRepr};

    const US: Ipv4Address = Ipv4Address::new(10, 42, 0, 1);

    fn datagram(to: Ipv4Address, port: u16) -> Vec<u8> {
        let udp = UdpRepr { src_port: 5353, dst_port: port };
        let ip = Ipv4Repr { src_addr: Ipv4Address::new(10, 42, 0, 99), dst_addr: to, next_header: IpProtocol::Udp, payload_len: 8 + 4, hop_limit: 64 };
        let ethernet = EthernetRepr { src_addr: EthernetAddress([2, 0, 0, 0, 0, 1]), dst_addr: EthernetAddress([2, 0, 0, 0, 0, 2]), ethertype: EthernetProtocol::Ipv4 };
        let mut frame = alloc::vec![0; ethernet.buffer_len() + ip.buffer_len() + 12];
        let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
        ethernet.emit(&mut eth);
        let mut packet = Ipv4Packet::new_unchecked(eth.payload_mut());
        ip.emit(&mut packet, &ChecksumCapabilities::default());
        let checksums = ChecksumCapabilities::default();
        udp.emit(&mut UdpPacket::new_unchecked(packet.payload_mut()), &IpAddress::Ipv4(ip.src_addr), &IpAddress::Ipv4(to), 4, |p| p.copy_from_slice(b"ping"), &checksums);
        frame
    }

    fn gate() -> DatagramGate {
        let mut gate = DatagramGate::default();
        gate.open(Some(US), [53, 67].into_iter());
        gate
    }

    #[test]
    fn a_burst_beyond_the_queue_is_dropped_and_counted_per_port() {
        let mut gate = gate();
        let query = datagram(US, 53);
        let admitted = (0..100).filter(|_| gate.admits(&query)).count();
        assert_eq!(admitted, ADMITTED_PER_PASS);
        assert!(gate.admits(&datagram(Ipv4Address::BROADCAST, 67)), "DHCP has its own queue");
        assert_eq!((gate.take_dropped(53), gate.take_dropped(67)), (100 - ADMITTED_PER_PASS as u32, 0));
        assert_eq!(gate.take_dropped(53), 0, "taken once");
        gate.refill();
        assert!(gate.admits(&query), "the next pass has room again");
    }

    #[test]
    fn what_is_not_for_a_served_queue_always_passes() {
        let mut gate = gate();
        for _ in 0..200 {
            assert!(gate.admits(&datagram(Ipv4Address::new(8, 8, 8, 8), 53)), "not addressed to us");
            assert!(gate.admits(&datagram(US, 5000)), "no service there");
            assert!(gate.admits(&[0u8; 20]), "not a frame");
        }
        assert_eq!(gate.take_dropped(53), 0);
    }
}
