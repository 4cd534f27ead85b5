//! DHCPv4 server for the appliance's own network.
//!
//! Phones that join the access point get an address from the pool, with the
//! appliance as router and DNS server, so every name they look up comes back
//! to us. Wire format (decode, encode) comes from `edge-dhcp`; the lease table
//! and the policy are here because its `Server` cannot keep a returning phone's
//! old address, quarantine DECLINEd addresses, answer INFORM or count drops.

#![deny(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use core::cell::RefCell;

use edge_dhcp::{DhcpOption, Ipv4Addrs, MessageType, Options, Packet};

mod lease_table;

use lease_table::LeaseTable;

use super::config::Config;
use crate::counters::Counter;
use crate::net::datagram::DatagramService;
use crate::net::device::MacDisplay;

/// UDP port the replies go to (RFC 2131, section 4.1).
pub const CLIENT_PORT: u16 = 68;

/// Largest reply this server writes: a 576-byte datagram, which every client
/// must accept, less the IP and UDP headers. Size the reply buffer to this.
pub const MAX_REPLY_LEN: usize = 548;

/// Most addresses the table tracks, whatever pool the bootargs give: a booth
/// never sees more phones, and it bounds the memory a DISCOVER flood can take.
const MAX_POOL: u32 = 4096;

/// How long an offered address waits for the phone's REQUEST.
const OFFER_HOLD_SECS: u64 = 60;

/// How long an address that a client DECLINEd (someone else answers ARP for
/// it) stays out of the pool.
const DECLINE_HOLD_SECS: u64 = 600;

/// Longest DHCP option payload (one length byte).
const MAX_OPTION_LEN: usize = 255;

/// Events since boot, for `/stats.json` and the serial console.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DhcpCounters {
    /// DHCPOFFERs sent.
    pub offers: u32,
    /// DHCPACKs sent for leases (INFORM answers count in `informs`).
    pub acks: u32,
    /// DHCPNAKs sent.
    pub naks: u32,
    /// Leases given back by DHCPRELEASE.
    pub releases: u32,
    /// Addresses put aside after a DHCPDECLINE.
    pub declines: u32,
    /// DHCPINFORMs answered.
    pub informs: u32,
    /// DISCOVERs left without an offer because every address was taken.
    pub exhausted: u32,
    /// Packets dropped because they could not be parsed.
    pub malformed: u32,
    /// Packets dropped because they were not for us: replies, other
    /// hardware, relayed, another server chosen, plain BOOTP, someone
    /// else's address.
    pub foreign: u32,
}

/// Where the reply written by [`DhcpServer::handle`] must be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DhcpReply {
    /// Bytes of UDP payload written at the start of the reply buffer.
    pub len: usize,
    /// 255.255.255.255, or the client's own address when it already has one
    /// (renewal, INFORM), as RFC 2131 section 4.1 says.
    pub destination: Ipv4Addr,
    /// UDP destination port: always [`CLIENT_PORT`].
    pub port: u16,
}

/// The DHCP server: settings from the boot configuration, and the leases.
pub struct DhcpServer {
    address: Ipv4Addr,
    netmask: Ipv4Addr,
    lease_secs: u32,
    /// First and last address of the pool; empty when `first > last`.
    first: u32,
    last: u32,
    /// `http://<canonical name>/` for option 114, if it fits an option.
    portal_url: Option<String>,
    /// Every pool address ever handed out, by address. Entries stay after
    /// their lease ends so that a returning phone gets its old address back;
    /// they are reused, least recently used first, once the pool runs dry.
    table: LeaseTable,
    /// Next pool address that was never handed out.
    next_fresh: u64,
    counters: DhcpCounters,
}

/// What the table knows about one address.
#[derive(Clone, Copy, Debug)]
struct Binding {
    /// The phone it was last given to; `None` when declined or moved.
    owner: Option<Mac>,
    /// Until when (seconds since boot) it is offered, leased or quarantined.
    expires: u64,
    /// Leased by an ACK, not just offered.
    bound: bool,
}

type Mac = [u8; 6];

/// Why a packet got no answer.
enum Dropped {
    Malformed,
    Foreign,
}

/// The kinds of reply the server writes.
#[derive(Clone, Copy)]
enum Answer {
    Offer(Ipv4Addr),
    Ack(Ipv4Addr),
    Nak,
    Inform,
}

impl DhcpServer {
    /// Starts with an empty lease table, serving the pool, lease time and name
    /// of `config`.
    pub fn new(config: &Config) -> Self {
        let first = u32::from(config.pool_start);
        let last = u32::from(config.pool_end).min(first.saturating_add(MAX_POOL - 1));
        let url = format!("http://{}/", config.canonical_name);
        let portal_url = if url.len() <= MAX_OPTION_LEN {
            Some(url)
        } else {
            log::warn!("dhcp: name too long for option 114, not announcing the portal URL");
            None
        };
        Self {
            address: config.address,
            netmask: config.netmask(),
            lease_secs: config.lease_secs,
            first,
            last,
            portal_url,
            table: LeaseTable::new(first, addresses(first, last)),
            next_fresh: u64::from(first),
            counters: DhcpCounters::default(),
        }
    }

    /// Answers one packet received on UDP port 67. `now_secs` is monotonic
    /// seconds since boot. The reply's UDP payload goes into `reply` (at least
    /// [`MAX_REPLY_LEN`] bytes); `None` means send nothing.
    pub fn handle(&mut self, request: &[u8], now_secs: u64, reply: &mut [u8]) -> Option<DhcpReply> {
        match self.answer(request, now_secs, reply) {
            Ok(sent) => sent,
            Err(Dropped::Malformed) => {
                bump(&mut self.counters.malformed);
                log::debug!("dhcp: dropped a malformed packet of {} bytes", request.len());
                None
            }
            Err(Dropped::Foreign) => {
                bump(&mut self.counters.foreign);
                log::debug!("dhcp: dropped a packet not meant for us");
                None
            }
        }
    }

    /// Leases given by an ACK that have not ended.
    pub fn leases_active(&self, now_secs: u64) -> usize {
        self.table.iter().filter(|(_, b)| b.bound && b.expires > now_secs).count()
    }

    /// Addresses the server hands out.
    pub fn pool_size(&self) -> usize {
        addresses(self.first, self.last)
    }

    /// Events since boot.
    pub fn counters(&self) -> DhcpCounters {
        self.counters
    }

    fn answer(&mut self, request: &[u8], now: u64, reply: &mut [u8]) -> Result<Option<DhcpReply>, Dropped> {
        match request.first() {
            Some(1) => {}
            Some(2) => return Err(Dropped::Foreign),
            _ => return Err(Dropped::Malformed),
        }
        // Ethernet (and Wi-Fi) hardware addresses only.
        match request.get(1..3) {
            Some([1, 6]) => {}
            Some(_) => return Err(Dropped::Foreign),
            None => return Err(Dropped::Malformed),
        }
        let packet = Packet::decode(request).map_err(|_| Dropped::Malformed)?;
        // A relayed packet comes from another link: the appliance serves one.
        if !packet.giaddr.is_unspecified() {
            return Err(Dropped::Foreign);
        }
        let [m0, m1, m2, m3, m4, m5, ..] = packet.chaddr;
        let mac = [m0, m1, m2, m3, m4, m5];
        let (mut kind, mut server, mut requested) = (None, None, None);
        for option in packet.options.iter() {
            match option {
                DhcpOption::MessageType(t) => kind = Some(t),
                DhcpOption::ServerIdentifier(ip) => server = Some(ip),
                DhcpOption::RequestedIpAddress(ip) => requested = Some(ip),
                _ => {}
            }
        }
        if server.is_some_and(|ip| ip != self.address) {
            if kind == Some(MessageType::Request) {
                self.withdraw_offer(mac, now);
            }
            return Err(Dropped::Foreign);
        }
        match kind.ok_or(Dropped::Foreign)? {
            MessageType::Discover => Ok(self.discover(&packet, mac, requested, now, reply)),
            MessageType::Request => self.request(&packet, mac, requested, now, reply),
            MessageType::Release => self.release(packet.ciaddr, mac, now).map(|()| None),
            MessageType::Decline => self.decline(requested, mac, now).map(|()| None),
            MessageType::Inform => {
                bump(&mut self.counters.informs);
                Ok(self.write(&packet, Answer::Inform, reply))
            }
            MessageType::Offer | MessageType::Ack | MessageType::Nak => Err(Dropped::Foreign),
        }
    }

    fn discover(
        &mut self,
        packet: &Packet,
        mac: Mac,
        requested: Option<Ipv4Addr>,
        now: u64,
        reply: &mut [u8],
    ) -> Option<DhcpReply> {
        let Some(addr) = self.choose(mac, requested, now) else {
            bump(&mut self.counters.exhausted);
            log::warn!("dhcp: pool exhausted, no address for {}", MacDisplay(mac));
            return None;
        };
        self.claim(addr, mac, now.saturating_add(OFFER_HOLD_SECS), false, now);
        bump(&mut self.counters.offers);
        self.write(packet, Answer::Offer(Ipv4Addr::from(addr)), reply)
    }

    /// RFC 2131 4.3.2: SELECTING and INIT-REBOOT name the address in option
    /// 50, RENEWING and REBINDING in `ciaddr`. The server is authoritative: it
    /// ACKs any free pool address, so phones keep their address across an
    /// appliance reboot, and NAKs everything else.
    fn request(
        &mut self,
        packet: &Packet,
        mac: Mac,
        requested: Option<Ipv4Addr>,
        now: u64,
        reply: &mut [u8],
    ) -> Result<Option<DhcpReply>, Dropped> {
        let renewing = (!packet.ciaddr.is_unspecified()).then_some(packet.ciaddr);
        let addr = requested.or(renewing).ok_or(Dropped::Malformed)?;
        if self.available_to(u32::from(addr), mac, now) {
            self.claim(u32::from(addr), mac, now.saturating_add(u64::from(self.lease_secs)), true, now);
            bump(&mut self.counters.acks);
            log::debug!("dhcp: {} leased to {}", addr, MacDisplay(mac));
            Ok(self.write(packet, Answer::Ack(addr), reply))
        } else {
            bump(&mut self.counters.naks);
            log::debug!("dhcp: {} refused to {}", addr, MacDisplay(mac));
            Ok(self.write(packet, Answer::Nak, reply))
        }
    }

    /// The lease ends now, but the address stays remembered for this phone.
    fn release(&mut self, ciaddr: Ipv4Addr, mac: Mac, now: u64) -> Result<(), Dropped> {
        match self.table.get_mut(u32::from(ciaddr)) {
            Some(binding) if binding.owner == Some(mac) => {
                binding.expires = binding.expires.min(now);
                binding.bound = false;
                bump(&mut self.counters.releases);
                Ok(())
            }
            _ => Err(Dropped::Foreign),
        }
    }

    /// Another host uses the address: keep it out of the pool for a while.
    fn decline(&mut self, requested: Option<Ipv4Addr>, mac: Mac, now: u64) -> Result<(), Dropped> {
        let addr = requested.ok_or(Dropped::Malformed)?;
        match self.table.get_mut(u32::from(addr)) {
            Some(binding) if binding.owner == Some(mac) => {
                *binding = Binding { owner: None, expires: now.saturating_add(DECLINE_HOLD_SECS), bound: false };
                bump(&mut self.counters.declines);
                log::warn!("dhcp: {} declined by {}, another host uses it", addr, MacDisplay(mac));
                Ok(())
            }
            _ => Err(Dropped::Foreign),
        }
    }

    /// A phone took another server's offer: ours is free again.
    fn withdraw_offer(&mut self, mac: Mac, now: u64) {
        for (_, binding) in self.table.bindings_mut() {
            if binding.owner == Some(mac) && !binding.bound {
                binding.expires = binding.expires.min(now);
            }
        }
    }

    /// RFC 2131 4.3.1 order: the phone's current or previous address, the
    /// address it asks for, a never used one, then the one unused longest.
    fn choose(&mut self, mac: Mac, requested: Option<Ipv4Addr>, now: u64) -> Option<u32> {
        if let Some((addr, _)) = self.table.iter().find(|(_, b)| b.owner == Some(mac)) {
            return Some(addr);
        }
        if let Some(addr) = requested.map(u32::from).filter(|&addr| self.available_to(addr, mac, now)) {
            return Some(addr);
        }
        while let Ok(addr) = u32::try_from(self.next_fresh) {
            if addr > self.last {
                break;
            }
            self.next_fresh += 1;
            if self.table.get(addr).is_none() && addr != u32::from(self.address) {
                return Some(addr);
            }
        }
        self.table
            .iter()
            .filter(|(_, b)| b.expires <= now)
            .min_by_key(|(_, b)| (b.owner.is_some(), b.expires))
            .map(|(addr, _)| addr)
    }

    fn available_to(&self, addr: u32, mac: Mac, now: u64) -> bool {
        (self.first..=self.last).contains(&addr)
            && addr != u32::from(self.address)
            && self.table.get(addr).is_none_or(|b| b.owner == Some(mac) || b.expires <= now)
    }

    /// Gives `addr` to `mac` until `until`; the phone's other address, if
    /// any, becomes free. Re-offering a live lease does not shorten it.
    fn claim(&mut self, addr: u32, mac: Mac, until: u64, bound: bool, now: u64) {
        for (other, binding) in self.table.bindings_mut() {
            if other != addr && binding.owner == Some(mac) {
                *binding = Binding { owner: None, expires: binding.expires.min(now), bound: false };
            }
        }
        let fresh = Binding { owner: Some(mac), expires: until, bound };
        let Some(binding) = self.table.get_or_insert(addr, fresh) else { return };
        let live_lease = binding.owner == Some(mac) && binding.bound && binding.expires > now;
        if bound || !live_lease {
            *binding = fresh;
        }
    }

    fn write(&self, request: &Packet, answer: Answer, reply: &mut [u8]) -> Option<DhcpReply> {
        let own = [self.address];
        let lease = self.lease_secs;
        let renew = (lease / 2).to_be_bytes();
        let rebind = (lease - lease / 8).to_be_bytes();
        let (kind, yiaddr, ciaddr) = match answer {
            Answer::Offer(addr) => (MessageType::Offer, addr, Ipv4Addr::UNSPECIFIED),
            Answer::Ack(addr) => (MessageType::Ack, addr, request.ciaddr),
            Answer::Inform => (MessageType::Ack, Ipv4Addr::UNSPECIFIED, request.ciaddr),
            Answer::Nak => (MessageType::Nak, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
        };
        let mut options = Vec::with_capacity(10);
        options.push(DhcpOption::MessageType(kind));
        options.push(DhcpOption::ServerIdentifier(self.address));
        if matches!(answer, Answer::Nak) {
            options.push(DhcpOption::Message("address not available"));
        } else {
            // RFC 2131 table 3: an answer to INFORM carries no lease time.
            if !matches!(answer, Answer::Inform) {
                options.push(DhcpOption::IpAddressLeaseTime(lease));
                options.push(DhcpOption::Unrecognized(58, &renew));
                options.push(DhcpOption::Unrecognized(59, &rebind));
            }
            options.push(DhcpOption::SubnetMask(self.netmask));
            options.push(DhcpOption::Router(Ipv4Addrs::new(&own)));
            options.push(DhcpOption::DomainNameServer(Ipv4Addrs::new(&own)));
            if let Some(url) = &self.portal_url {
                options.push(DhcpOption::CaptiveUrl(url));
            }
        }
        let packet = Packet {
            reply: true,
            hops: 0,
            xid: request.xid,
            secs: 0,
            broadcast: request.broadcast,
            ciaddr,
            yiaddr,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: request.chaddr,
            options: Options::new(&options),
        };
        let Ok(bytes) = packet.encode(reply) else {
            log::warn!("dhcp: reply buffer of {} bytes too small", reply.len());
            return None;
        };
        let destination = match answer {
            Answer::Nak => Ipv4Addr::BROADCAST,
            _ if request.ciaddr.is_unspecified() => Ipv4Addr::BROADCAST,
            _ => request.ciaddr,
        };
        Some(DhcpReply { len: bytes.len(), destination, port: CLIENT_PORT })
    }
}

/// Addresses in the pool `first..=last` (none when `first > last`).
fn addresses(first: u32, last: u32) -> usize {
    last.checked_sub(first).map_or(0, |span| span as usize + 1)
}

fn bump(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

/// The DHCP server on UDP port 67, as the network loop runs it and
/// `/stats.json` reads it.
pub struct DhcpService {
    server: RefCell<DhcpServer>,
    queue_full: Counter,
}

/// What `/stats.json` shows of the DHCP server.
#[derive(Clone, Copy, Debug, Default)]
pub struct DhcpFigures {
    /// Events since boot.
    pub counters: DhcpCounters,
    /// Leases in force now.
    pub leases_active: usize,
    /// Addresses in the pool.
    pub pool: usize,
}

impl DhcpService {
    /// Serves `server` on port 67.
    pub fn new(server: DhcpServer) -> Self {
        Self { server: RefCell::new(server), queue_full: Counter::new() }
    }

    /// The server's figures at `now_secs` (zeros in the impossible case of
    /// being asked while a datagram is being answered).
    pub fn figures(&self, now_secs: u64) -> DhcpFigures {
        self.server.try_borrow().map_or(DhcpFigures::default(), |server| DhcpFigures {
            counters: server.counters(),
            leases_active: server.leases_active(now_secs),
            pool: server.pool_size(),
        })
    }
}

impl DatagramService for DhcpService {
    fn port(&self) -> u16 {
        67
    }

    fn handle(&self, request: &[u8], _from: (Ipv4Addr, u16), now_us: u64, reply: &mut [u8]) -> Option<(usize, Ipv4Addr, u16)> {
        let mut server = self.server.try_borrow_mut().ok()?;
        let answer = server.handle(request, now_us / 1_000_000, reply)?;
        Some((answer.len, answer.destination, answer.port))
    }

    fn queue_full(&self) -> &Counter {
        &self.queue_full
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use alloc::collections::BTreeMap;

    use super::*;

    /// DHCPDISCOVER from BusyBox udhcpc 1.35 (`-F phone -V android-dhcp-13`),
    /// captured on a veth link: MAC 02:42:ac:11:00:02, no broadcast flag.
    const UDHCPC_DISCOVER: &str = "010106005e1f640100000000000000000000000000000000000000000242ac11000200000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000006382536335010139020240370701\
        03060c0f1c2a3c0f616e64726f69642d646863702d31333d07010242ac110002510801000070686f6e65ff00000000000000";

    /// The DHCPREQUEST that followed, selecting 10.42.0.204 from server 10.42.0.1.
    const UDHCPC_REQUEST: &str = "010106005e1f640100020000000000000000000000000000000000000242ac11000200000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000006382536335010332040a2a00cc36\
        040a2a00013902024037070103060c0f1c2a3c0f616e64726f69642d646863702d31333d07010242ac110002510801000070\
        686f6e65ff";

    const DISCOVER: u8 = 1;
    const REQUEST: u8 = 3;
    const DECLINE: u8 = 4;
    const RELEASE: u8 = 7;
    const INFORM: u8 = 8;
    const SERVER: &[u8] = &[10, 42, 0, 1];

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    /// A client packet as RFC 2131 lays it out: MAC 02:00:00:00:00:`id`.
    fn packet(kind: u8, id: u8, ciaddr: [u8; 4], options: &[(u8, &[u8])]) -> Vec<u8> {
        let mut p = vec![1, 1, 6, 0, 0xab, 0xcd, 0, id, 0, 0, 0x80, 0];
        p.extend(ciaddr);
        p.extend([0; 12]);
        p.extend([2, 0, 0, 0, 0, id]);
        p.extend([0; 10 + 64 + 128]);
        p.extend([99, 130, 83, 99, 53, 1, kind]);
        for (code, data) in options {
            p.extend([*code, data.len() as u8]);
            p.extend(*data);
        }
        p.push(255);
        p
    }

    fn options(reply: &[u8]) -> BTreeMap<u8, Vec<u8>> {
        assert_eq!(&reply[236..240], &[99, 130, 83, 99]);
        let (mut found, mut at) = (BTreeMap::new(), 240);
        while reply[at] != 255 {
            let len = usize::from(reply[at + 1]);
            found.insert(reply[at], reply[at + 2..at + 2 + len].to_vec());
            at += 2 + len;
        }
        found
    }

    struct Reply {
        sent: DhcpReply,
        bytes: Vec<u8>,
    }

    impl Reply {
        fn yiaddr(&self) -> Ipv4Addr {
            Ipv4Addr::new(self.bytes[16], self.bytes[17], self.bytes[18], self.bytes[19])
        }
        fn kind(&self) -> u8 {
            options(&self.bytes)[&53][0]
        }
    }

    fn send(server: &mut DhcpServer, request: &[u8], now: u64) -> Option<Reply> {
        let mut buf = [0; MAX_REPLY_LEN];
        let sent = server.handle(request, now, &mut buf)?;
        assert!(sent.len <= MAX_REPLY_LEN);
        Some(Reply { sent, bytes: buf[..sent.len].to_vec() })
    }

    fn discover(server: &mut DhcpServer, id: u8, now: u64) -> Option<Ipv4Addr> {
        send(server, &packet(DISCOVER, id, [0; 4], &[]), now).map(|r| r.yiaddr())
    }

    /// A lease for client `id`, through DISCOVER and REQUEST.
    pub(crate) fn lease(server: &mut DhcpServer, id: u8, now: u64) -> Ipv4Addr {
        let offered = discover(server, id, now).unwrap();
        let ack = send(server, &packet(REQUEST, id, [0; 4], &[(50, &offered.octets()), (54, SERVER)]), now).unwrap();
        assert_eq!((ack.kind(), ack.yiaddr()), (5, offered));
        offered
    }

    fn small_pool(size: u8) -> DhcpServer {
        DhcpServer::new(&Config { pool_end: Ipv4Addr::new(10, 42, 0, 9 + size), ..Config::default() })
    }

    #[test]
    fn dhcp_offer_carries_address_router_dns_and_portal() {
        let mut server = DhcpServer::new(&Config::default());
        let request = hex(UDHCPC_DISCOVER);
        let offer = send(&mut server, &request, 0).unwrap();
        assert_eq!(offer.sent.destination, Ipv4Addr::BROADCAST);
        assert_eq!(offer.sent.port, 68);
        assert_eq!(&offer.bytes[..8], &[2, 1, 6, 0, 0x5e, 0x1f, 0x64, 0x01]);
        assert_eq!(&offer.bytes[28..34], &[0x02, 0x42, 0xac, 0x11, 0x00, 0x02]);
        assert_eq!(offer.yiaddr(), Ipv4Addr::new(10, 42, 0, 10));
        let options = options(&offer.bytes);
        assert_eq!(options[&53], [2]);
        assert_eq!(options[&1], [255, 255, 255, 0]);
        assert_eq!(options[&3], SERVER);
        assert_eq!(options[&6], SERVER);
        assert_eq!(options[&51], 3600u32.to_be_bytes());
        assert_eq!(options[&54], SERVER);
        assert_eq!(options[&58], 1800u32.to_be_bytes());
        assert_eq!(options[&59], 3150u32.to_be_bytes());
        assert_eq!(options[&114], b"http://2048.home.arpa/");
        assert_eq!(server.counters().offers, 1);
        assert_eq!(server.leases_active(0), 0);
    }

    #[test]
    fn dhcp_request_for_a_free_address_is_acked() {
        let mut server = DhcpServer::new(&Config::default());
        send(&mut server, &hex(UDHCPC_DISCOVER), 0).unwrap();
        let ack = send(&mut server, &hex(UDHCPC_REQUEST), 1).unwrap();
        assert_eq!(ack.kind(), 5);
        assert_eq!(ack.yiaddr(), Ipv4Addr::new(10, 42, 0, 204));
        assert_eq!(ack.sent.destination, Ipv4Addr::BROADCAST);
        assert_eq!(options(&ack.bytes)[&51], 3600u32.to_be_bytes());
        assert_eq!(server.leases_active(1), 1);
        assert_eq!(server.leases_active(3601), 0);
        // The phone keeps 10.42.0.204; the .10 it was offered first is free.
        assert_eq!(discover(&mut server, 9, 2), Some(Ipv4Addr::new(10, 42, 0, 11)));
        assert_eq!(discover(&mut server, 8, 2), Some(Ipv4Addr::new(10, 42, 0, 12)));
        assert_eq!(discover(&mut server, 7, 2), Some(Ipv4Addr::new(10, 42, 0, 13)));
        assert_eq!(send(&mut server, &hex(UDHCPC_DISCOVER), 3).unwrap().yiaddr(), Ipv4Addr::new(10, 42, 0, 204));
    }

    #[test]
    fn dhcp_same_mac_gets_same_address() {
        let mut server = DhcpServer::new(&Config::default());
        let first = discover(&mut server, 1, 0).unwrap();
        assert_eq!(discover(&mut server, 1, 5), Some(first));
        assert_eq!(lease(&mut server, 1, 10), first);
        assert_eq!(discover(&mut server, 1, 20), Some(first));
        assert_eq!(server.leases_active(20), 1, "re-offering keeps the lease");
        assert_ne!(discover(&mut server, 2, 20), Some(first));
    }

    #[test]
    fn dhcp_returning_mac_gets_its_old_address_after_expiry() {
        let mut server = DhcpServer::new(&Config::default());
        let old = lease(&mut server, 1, 0);
        let later = 10 * 3600;
        assert_eq!(server.leases_active(later), 0);
        assert_ne!(lease(&mut server, 2, later), old);
        assert_eq!(discover(&mut server, 1, later), Some(old));
    }

    #[test]
    fn dhcp_requested_address_is_honoured_when_free() {
        let mut server = DhcpServer::new(&Config::default());
        let wish = [10, 42, 0, 77];
        let offer = send(&mut server, &packet(DISCOVER, 1, [0; 4], &[(50, &wish)]), 0).unwrap();
        assert_eq!(offer.yiaddr(), Ipv4Addr::from(wish));
        let outside = send(&mut server, &packet(DISCOVER, 2, [0; 4], &[(50, &[10, 42, 0, 1])]), 0).unwrap();
        assert_eq!(outside.yiaddr(), Ipv4Addr::new(10, 42, 0, 10));
        let taken = send(&mut server, &packet(DISCOVER, 3, [0; 4], &[(50, &wish)]), 0).unwrap();
        assert_eq!(taken.yiaddr(), Ipv4Addr::new(10, 42, 0, 11));
    }

    #[test]
    fn dhcp_request_for_someone_elses_address_is_naked() {
        let mut server = DhcpServer::new(&Config::default());
        let taken = lease(&mut server, 1, 0);
        let nak = send(&mut server, &packet(REQUEST, 2, [0; 4], &[(50, &taken.octets())]), 1).unwrap();
        assert_eq!((nak.kind(), nak.yiaddr()), (6, Ipv4Addr::UNSPECIFIED));
        assert_eq!(nak.sent.destination, Ipv4Addr::BROADCAST);
        assert_eq!(options(&nak.bytes)[&54], SERVER);
        assert!(!options(&nak.bytes).contains_key(&51));
        // INIT-REBOOT with an address from the phone's previous network.
        let away = send(&mut server, &packet(REQUEST, 3, [0; 4], &[(50, &[192, 168, 1, 5])]), 1).unwrap();
        assert_eq!(away.kind(), 6);
        assert_eq!(server.counters().naks, 2);
    }

    #[test]
    fn dhcp_renewal_is_acked_by_unicast() {
        let mut server = DhcpServer::new(&Config::default());
        let addr = lease(&mut server, 1, 0);
        let ack = send(&mut server, &packet(REQUEST, 1, addr.octets(), &[]), 1800).unwrap();
        assert_eq!((ack.kind(), ack.yiaddr()), (5, addr));
        assert_eq!(&ack.bytes[12..16], &addr.octets(), "ciaddr echoed");
        assert_eq!(ack.sent.destination, addr);
        assert_eq!(server.leases_active(3600 + 1000), 1, "renewed from t=1800");
    }

    #[test]
    fn dhcp_release_frees_the_address() {
        let mut server = small_pool(1);
        let addr = lease(&mut server, 1, 0);
        assert_eq!(discover(&mut server, 2, 1), None);
        assert_eq!(send(&mut server, &packet(RELEASE, 1, addr.octets(), &[(54, SERVER)]), 2).map(|r| r.sent), None);
        assert_eq!(server.counters().releases, 1);
        assert_eq!(server.leases_active(2), 0);
        assert_eq!(lease(&mut server, 2, 3), addr);
        // A release for an address the sender does not hold is ignored.
        send(&mut server, &packet(RELEASE, 1, addr.octets(), &[(54, SERVER)]), 4);
        assert_eq!(server.leases_active(4), 1);
        assert_eq!(server.counters().foreign, 1);
    }

    #[test]
    fn dhcp_small_pool_exhausts_then_reclaims_expired_leases() {
        let mut server = small_pool(2);
        assert_eq!(server.pool_size(), 2);
        lease(&mut server, 1, 0);
        lease(&mut server, 2, 0);
        assert_eq!(discover(&mut server, 3, 10), None);
        assert_eq!(discover(&mut server, 3, 11), None);
        assert_eq!(server.counters().exhausted, 2);
        assert_eq!(server.counters().offers, 2);
        assert!(discover(&mut server, 3, 3600).is_some(), "expired leases are reclaimed lazily");
    }

    #[test]
    fn dhcp_unanswered_offer_is_reused_after_its_hold() {
        let mut server = small_pool(1);
        discover(&mut server, 1, 0).unwrap();
        assert_eq!(discover(&mut server, 2, 30), None);
        assert!(discover(&mut server, 2, OFFER_HOLD_SECS).is_some());
    }

    #[test]
    fn dhcp_decline_keeps_the_address_out_for_a_while() {
        let mut server = small_pool(2);
        let bad = lease(&mut server, 1, 0);
        let decline = packet(DECLINE, 1, [0; 4], &[(50, &bad.octets()), (54, SERVER)]);
        assert_eq!(send(&mut server, &decline, 1).map(|r| r.sent), None);
        assert_eq!(server.counters().declines, 1);
        let next = discover(&mut server, 1, 2).unwrap();
        assert_ne!(next, bad);
        lease(&mut server, 1, 2);
        assert_eq!(discover(&mut server, 2, 3), None, "declined address is quarantined");
        assert_eq!(discover(&mut server, 2, 1 + DECLINE_HOLD_SECS), Some(bad));
    }

    #[test]
    fn dhcp_inform_gets_options_without_a_lease() {
        let mut server = DhcpServer::new(&Config::default());
        let ack = send(&mut server, &packet(INFORM, 1, [10, 42, 0, 99], &[]), 0).unwrap();
        assert_eq!((ack.kind(), ack.yiaddr()), (5, Ipv4Addr::UNSPECIFIED));
        assert_eq!(ack.sent.destination, Ipv4Addr::new(10, 42, 0, 99));
        let options = options(&ack.bytes);
        assert!(!options.contains_key(&51) && !options.contains_key(&58));
        for code in [1, 3, 6, 54, 114] {
            assert!(options.contains_key(&code), "option {code}");
        }
        assert_eq!(server.counters().informs, 1);
        assert_eq!(server.leases_active(0), 0);
    }

    #[test]
    fn dhcp_foreign_packets_are_dropped_and_counted() {
        let mut server = small_pool(1);
        let offered = discover(&mut server, 1, 0).unwrap();
        let mut reply = packet(DISCOVER, 2, [0; 4], &[]);
        reply[0] = 2;
        let mut token_ring = packet(DISCOVER, 2, [0; 4], &[]);
        token_ring[1] = 6;
        let mut relayed = packet(DISCOVER, 2, [0; 4], &[]);
        relayed[24..28].copy_from_slice(&[10, 9, 0, 1]);
        let elsewhere = packet(REQUEST, 1, [0; 4], &[(50, &[192, 168, 0, 5]), (54, &[192, 168, 0, 1])]);
        let mut bootp = packet(DISCOVER, 2, [0; 4], &[]);
        bootp.truncate(240);
        bootp.push(255);
        for request in [reply, token_ring, relayed, elsewhere, bootp] {
            assert!(send(&mut server, &request, 1).is_none());
        }
        assert_eq!(server.counters().foreign, 5);
        assert_eq!(server.counters().malformed, 0);
        // The phone took the other server's offer: ours went back to the pool.
        assert_eq!(discover(&mut server, 3, 2), Some(offered));
    }

    #[test]
    fn dhcp_truncated_and_random_packets_are_dropped_without_panic() {
        let mut server = DhcpServer::new(&Config::default());
        let discover = hex(UDHCPC_DISCOVER);
        let end = discover.iter().rposition(|&b| b == 255).unwrap();
        for len in 0..=end {
            assert!(send(&mut server, &discover[..len], 0).is_none(), "length {len}");
        }
        assert_eq!(server.counters().malformed, end as u32 + 1);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..20_000 {
            let len = (next() % 600) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 {
                // Keep a valid fixed part so that the options parser is reached.
                bytes = discover.clone();
                for _ in 0..1 + next() % 8 {
                    let at = 236 + (next() as usize) % (discover.len() - 236);
                    bytes[at] = next() as u8;
                }
                bytes.truncate(240 + (next() as usize) % (discover.len() - 240));
            }
            let mut buf = [0; MAX_REPLY_LEN];
            if let Some(sent) = server.handle(&bytes, round, &mut buf) {
                assert!(sent.len <= MAX_REPLY_LEN);
            }
        }
        assert!(server.table.len() <= server.pool_size());
    }

    #[test]
    fn dhcp_table_is_bounded_by_the_pool() {
        let mut server = small_pool(5);
        for id in 0..=255 {
            discover(&mut server, id, 0);
            lease(&mut server, 250, 0);
        }
        assert_eq!(server.table.len(), 5);
        assert_eq!(server.counters().exhausted, 251);
        let huge = Config::from_bootargs("ip=10.0.0.1/8 dhcp_pool=10.0.0.2-10.255.255.254").0;
        assert_eq!(DhcpServer::new(&huge).pool_size(), MAX_POOL as usize);
    }

    #[test]
    fn dhcp_portal_url_is_left_out_when_the_name_is_too_long() {
        let label = "a".repeat(61);
        let fits = format!("{label}.{label}.{label}.{label}");
        for (name, announced) in [(fits.clone(), true), (format!("{fits}.aaaaa"), false)] {
            let config = Config::from_bootargs(&format!("name={name}")).0;
            assert_eq!(config.canonical_name, name);
            let mut server = DhcpServer::new(&config);
            let offer = send(&mut server, &packet(DISCOVER, 1, [0; 4], &[]), 0).unwrap();
            assert_eq!(options(&offer.bytes).contains_key(&114), announced, "{} bytes", name.len());
        }
    }
}
