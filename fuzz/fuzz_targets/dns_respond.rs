//! `DnsServer::respond` gets every UDP datagram sent to port 53.
#![no_main]

use core::net::Ipv4Addr;

use domain::base::Message;
use kernel::services::dns::DnsServer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|query: &[u8]| {
    for size in [512usize, 1232] {
        let mut server = DnsServer::new();
        let mut reply = vec![0u8; size];
        let Some(len) = server.respond(query, Ipv4Addr::new(10, 42, 0, 1), &mut reply) else {
            continue;
        };
        assert!(len <= size, "reply of {len} bytes in a {size}-byte buffer");
        let message = Message::from_octets(&reply[..len]).expect("every reply parses");
        let header = message.header();
        assert!(header.qr(), "a reply is a response");
        assert_eq!(
            header.id(),
            u16::from_be_bytes([query[0], query[1]]),
            "the reply keeps the query's id"
        );
        let c = server.counters();
        assert_eq!(c.queries, 1);
        assert_eq!(c.answered + c.formerr + c.notimp + c.dropped, c.queries);
    }
});
