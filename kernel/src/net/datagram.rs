//! Request-reply services on UDP ports (DHCP, DNS): the trait they
//! implement, and the loop that answers every datagram waiting on a socket.
//!
//! A service sees one datagram in and writes at most one out; the sockets,
//! their queues and the reply's route stay here.

#![deny(unsafe_code)]

use core::net::Ipv4Addr;

use smoltcp::socket::udp;
use smoltcp::wire::{IpAddress, IpEndpoint};

use super::device::NicCounters;

/// Largest datagram a UDP service receives or sends.
pub const DATAGRAM_BYTES: usize = 1500;

/// Datagrams each UDP socket queues in either direction: a burst of DNS
/// queries is answered, not dropped.
const QUEUE_DEPTH: usize = 64;

/// A request-reply service on a UDP port: one datagram in, at most one out.
/// Takes `&self` so that `/stats.json` can read the service's figures while
/// the network loop owns it (services keep their state in a `RefCell`).
pub trait DatagramService {
    /// The port it listens on.
    fn port(&self) -> u16;
    /// Answers `request` from `from`: writes the reply into `reply` and
    /// returns its length and destination, or `None` to stay silent.
    fn handle(&self, request: &[u8], from: (Ipv4Addr, u16), now_us: u64, reply: &mut [u8]) -> Option<(usize, Ipv4Addr, u16)>;
}

/// A UDP socket bound to `port` with `QUEUE_DEPTH` datagrams of room each way.
pub fn udp_socket(port: u16) -> udp::Socket<'static> {
    let buffer = || udp::PacketBuffer::new(alloc::vec![udp::PacketMetadata::EMPTY; QUEUE_DEPTH], alloc::vec![0; QUEUE_DEPTH * 600]);
    let mut socket = udp::Socket::new(buffer(), buffer());
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
