//! `DhcpServer::handle` gets every UDP datagram sent to port 67; it keeps a
//! lease table, so the input is a sequence of packets.
//!
//! Input: one byte of setup (bit 0: a 3-address pool, to reach exhaustion),
//! then records of [length u16 big-endian][seconds elapsed u8][packet].
#![no_main]

use edge_dhcp::Packet;
use kernel::services::config::Config;
use kernel::services::dhcp::{DhcpServer, CLIENT_PORT, MAX_REPLY_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut rest)) = data.split_first() else {
        return;
    };
    let bootargs = if setup & 1 == 1 {
        "dhcp_pool=10.42.0.10-10.42.0.12 lease=60"
    } else {
        ""
    };
    let (config, _) = Config::from_bootargs(bootargs);
    let mut server = DhcpServer::new(&config);
    let mut now = 0u64;
    while rest.len() >= 3 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 3);
        now += u64::from(rest[2]) * 7;
        let (packet, tail) = rest[3..].split_at(len);
        rest = tail;
        let mut reply = [0u8; MAX_REPLY_LEN];
        if let Some(sent) = server.handle(packet, now, &mut reply) {
            assert!(sent.len <= MAX_REPLY_LEN);
            assert_eq!(sent.port, CLIENT_PORT);
            let decoded = Packet::decode(&reply[..sent.len]).expect("every reply decodes");
            assert!(decoded.reply, "a reply is a BOOTREPLY");
        }
        assert!(server.leases_active(now) <= server.pool_size());
    }
});
