//! Catch-all DNS server for UDP port 53.
//!
//! Every A question gets the appliance's address, so whatever a phone looks up
//! (its captive-portal probe first) leads to our HTTP server. Parsing and
//! composing come from the `domain` crate; `edge-captive`, a thin wrapper
//! around it, is not used: it cannot send FORMERR, echo EDNS, set TC or
//! ignore responses, and counts nothing.

#![deny(unsafe_code)]

use core::cell::RefCell;
use core::net::Ipv4Addr;

use domain::base::iana::{Class, Opcode, OptRcode, Rcode};
use domain::base::message_builder::{MessageBuilder, StaticCompressor};
use domain::base::opt::{Opt, OptRecord};
use domain::base::wire::{Composer, ParseError};
use domain::base::{Header, Message, Record, Rtype, Ttl};
use domain::dep::octseq::{OctetsBuilder, ShortBuf, Truncate};
use domain::rdata::A;

use crate::counters::Counter;
use crate::net::datagram::DatagramService;

/// TTL of every answer: short, so that a phone that leaves the booth soon
/// stops sending the whole internet to 10.42.0.1.
pub const ANSWER_TTL_SECS: u32 = 60;

/// UDP payload size we announce with EDNS, and the most we send: the DNS
/// flag day 2020 value, which never fragments.
const EDNS_PAYLOAD: u16 = 1232;

/// What a client without EDNS accepts (RFC 1035).
const PLAIN_PAYLOAD: u16 = 512;

/// An OPT record without options: root name, type, class, TTL, length.
const OPT_LEN: usize = 11;

/// Queries since boot, for `/stats.json`. `queries` is the sum of the others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DnsCounters {
    /// Datagrams received.
    pub queries: u32,
    /// Queries answered NOERROR (with or without records, truncated or not).
    pub answered: u32,
    /// Queries we could not parse, or with an EDNS version we do not speak
    /// (answered FORMERR or BADVERS).
    pub formerr: u32,
    /// Queries with an opcode other than QUERY (answered NOTIMP).
    pub notimp: u32,
    /// Datagrams not answered: shorter than a header, or responses.
    pub dropped: u32,
}

/// The DNS server: stateless apart from its counters.
#[derive(Debug, Default)]
pub struct DnsServer {
    counters: DnsCounters,
}

/// How a query was answered.
enum Outcome {
    Answered,
    FormErr,
    NotImp,
}

/// The EDNS facts of a query (RFC 6891).
#[derive(Clone, Copy)]
struct Edns {
    payload: u16,
    version: u8,
}

/// The query does not parse.
struct Malformed;

impl From<ParseError> for Malformed {
    fn from(_: ParseError) -> Self {
        Malformed
    }
}

impl DnsServer {
    /// Starts with zeroed counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers one datagram received on UDP port 53 with `answer` for every
    /// A question. Writes the reply into `reply` and returns its length, or
    /// `None` when nothing must be sent.
    ///
    /// AAAA and every other type get NOERROR without records, so phones fall
    /// back to IPv4. A query with several questions gets an answer for each
    /// A question: RFC 9619 allows FORMERR, but answering costs nothing and
    /// keeps the catch-all promise. The reply fits `reply`, 512 bytes (or the
    /// client's EDNS size, at most 1232); what does not fit is cut and TC set.
    pub fn respond(&mut self, query: &[u8], answer: Ipv4Addr, reply: &mut [u8]) -> Option<usize> {
        bump(&mut self.counters.queries);
        match reply_to(query, answer, reply) {
            Some((outcome, len)) => {
                bump(match outcome {
                    Outcome::Answered => &mut self.counters.answered,
                    Outcome::FormErr => &mut self.counters.formerr,
                    Outcome::NotImp => &mut self.counters.notimp,
                });
                Some(len)
            }
            None => {
                bump(&mut self.counters.dropped);
                log::debug!("dns: dropped a datagram of {} bytes", query.len());
                None
            }
        }
    }

    /// Queries since boot.
    pub fn counters(&self) -> DnsCounters {
        self.counters
    }
}

/// The catch-all DNS server on UDP port 53 (every name is the appliance),
/// as the network loop runs it and `/stats.json` reads it.
pub struct DnsService {
    server: RefCell<DnsServer>,
    address: Ipv4Addr,
    queue_full: Counter,
}

impl DnsService {
    /// Serves `server`, answering every A question with `address`.
    pub fn new(server: DnsServer, address: Ipv4Addr) -> Self {
        Self { server: RefCell::new(server), address, queue_full: Counter::new() }
    }

    /// Queries since boot (zeros in the impossible case of being asked
    /// while a datagram is being answered).
    pub fn counters(&self) -> DnsCounters {
        self.server.try_borrow().map_or(DnsCounters::default(), |server| server.counters())
    }
}

impl DatagramService for DnsService {
    fn port(&self) -> u16 {
        53
    }

    fn handle(&self, request: &[u8], from: (Ipv4Addr, u16), _now_us: u64, reply: &mut [u8]) -> Option<(usize, Ipv4Addr, u16)> {
        let len = self.server.try_borrow_mut().ok()?.respond(request, self.address, reply)?;
        Some((len, from.0, from.1))
    }

    fn queue_full(&self) -> &Counter {
        &self.queue_full
    }
}

fn reply_to(query: &[u8], answer: Ipv4Addr, reply: &mut [u8]) -> Option<(Outcome, usize)> {
    let message = Message::from_octets(query).ok()?;
    let header = message.header();
    if header.qr() {
        return None;
    }
    if header.opcode() != Opcode::QUERY {
        return header_only(header, Rcode::NOTIMP, reply).map(|len| (Outcome::NotImp, len));
    }
    let Ok(edns) = inspect(&message) else {
        return header_only(header, Rcode::FORMERR, reply).map(|len| (Outcome::FormErr, len));
    };
    let payload = edns.map_or(PLAIN_PAYLOAD, |e| e.payload.clamp(PLAIN_PAYLOAD, EDNS_PAYLOAD));
    let limit = usize::from(payload).min(reply.len());
    match edns {
        Some(Edns { version: 0, .. }) => {
            compose(&message, Some(answer), Some(OptRcode::NOERROR), limit, reply).map(|len| (Outcome::Answered, len))
        }
        Some(_) => compose(&message, None, Some(OptRcode::BADVERS), limit, reply).map(|len| (Outcome::FormErr, len)),
        None => compose(&message, Some(answer), None, limit, reply).map(|len| (Outcome::Answered, len)),
    }
}

/// Checks that every section parses, and finds the OPT record. A query
/// needs a question; an OPT record must be alone and owned by the root.
fn inspect(message: &Message<&[u8]>) -> Result<Option<Edns>, Malformed> {
    if message.header_counts().qdcount() == 0 {
        return Err(Malformed);
    }
    let questions = message.question();
    for question in questions {
        question?;
    }
    let authority = questions.answer()?.next_section()?.ok_or(Malformed)?;
    let additional = authority.next_section()?.ok_or(Malformed)?;
    let mut edns = None;
    for record in additional.limit_to::<Opt<&[u8]>>() {
        let record = record?;
        if edns.is_some() || !record.owner().is_root() {
            return Err(Malformed);
        }
        let opt = OptRecord::from_record(record);
        edns = Some(Edns { payload: opt.udp_payload_size(), version: opt.version() });
    }
    Ok(edns)
}

/// A reply of just a header: for queries whose questions we cannot trust.
fn header_only(query: Header, rcode: Rcode, reply: &mut [u8]) -> Option<usize> {
    let mut builder = MessageBuilder::from_target(Target::new(reply)).ok()?;
    answer_header(builder.header_mut(), query, rcode);
    Some(builder.finish().len)
}

fn answer_header(header: &mut Header, query: Header, rcode: Rcode) {
    header.set_id(query.id());
    header.set_qr(true);
    header.set_opcode(query.opcode());
    header.set_rd(query.rd());
    header.set_ra(true);
    header.set_rcode(rcode);
}

/// The questions copied, an A record for each A question when `answer` is
/// given, and an OPT record with `edns` when the query had one. Answer names
/// are compressed to point at their question.
fn compose(
    message: &Message<&[u8]>,
    answer: Option<Ipv4Addr>,
    edns: Option<OptRcode>,
    limit: usize,
    reply: &mut [u8],
) -> Option<usize> {
    let mut builder = MessageBuilder::from_target(StaticCompressor::new(Target::new(reply))).ok()?;
    answer_header(builder.header_mut(), message.header(), Rcode::NOERROR);
    let reserved = if edns.is_some() { OPT_LEN } else { 0 };
    builder.set_push_limit(limit.saturating_sub(reserved));
    let mut truncated = false;
    let mut questions = builder.question();
    for question in message.question().flatten() {
        if questions.push(question).is_err() {
            truncated = true;
            break;
        }
    }
    let mut answers = questions.answer();
    for question in message.question().flatten() {
        let Some(address) = answer.filter(|_| !truncated) else { break };
        if question.qtype() == Rtype::A && question.qclass() == Class::IN {
            let record = Record::new(question.qname(), Class::IN, Ttl::from_secs(ANSWER_TTL_SECS), A::new(address));
            truncated = answers.push(record).is_err();
        }
    }
    answers.header_mut().set_tc(truncated);
    let mut additional = answers.additional();
    if let Some(rcode) = edns {
        additional.as_builder_mut().set_push_limit(limit);
        additional
            .opt(|opt| {
                opt.set_udp_payload_size(EDNS_PAYLOAD);
                opt.set_rcode(rcode);
                Ok(())
            })
            .ok()?;
    }
    Some(additional.finish().into_target().len)
}

fn bump(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

/// The caller's reply buffer as a place for `domain` to compose into.
struct Target<'a> {
    buf: &'a mut [u8],
    /// Bytes written; never more than `buf.len()`.
    len: usize,
}

impl<'a> Target<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }
}

impl OctetsBuilder for Target<'_> {
    type AppendError = ShortBuf;

    fn append_slice(&mut self, slice: &[u8]) -> Result<(), ShortBuf> {
        let end = self.len.checked_add(slice.len()).ok_or(ShortBuf)?;
        self.buf.get_mut(self.len..end).ok_or(ShortBuf)?.copy_from_slice(slice);
        self.len = end;
        Ok(())
    }
}

impl Truncate for Target<'_> {
    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

impl AsRef<[u8]> for Target<'_> {
    fn as_ref(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl AsMut<[u8]> for Target<'_> {
    fn as_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(..self.len).unwrap_or_default()
    }
}

impl Composer for Target<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const APPLIANCE: Ipv4Addr = Ipv4Addr::new(10, 42, 0, 1);

    // Queries sent by `dig @127.0.0.1 -p 5353 NAME TYPE` (DiG 9.18), captured
    // with a UDP listener: EDNS with a 1232-byte payload and a client cookie.
    const DIG_A: &str = "e00601200001000000000001076578616d706c6503636f6d000001000100002904d000000000000c000a0008122fc57b4726eac5";
    const DIG_A_NOEDNS: &str = "000101200001000000000000076578616d706c6503636f6d0000010001";
    const DIG_AAAA: &str = "66b001200001000000000001076578616d706c6503636f6d00001c000100002904d000000000000c000a0008624e099cfd5bb85d";
    const DIG_TXT: &str = "5d2f01200001000000000001076578616d706c6503636f6d000010000100002904d000000000000c000a0008ac78cd7a765b704d";
    const DIG_MX: &str = "093a01200001000000000001076578616d706c6503636f6d00000f000100002904d000000000000c000a0008a1338fe7a2ed4abb";
    const DIG_EDNS1: &str = "edce01200001000000000001076578616d706c6503636f6d000001000100002904d000010000000c000a000890d91df46fc05f2d";
    const DIG_PROBES: [(&str, &str); 4] = [
        ("connectivitycheck.gstatic.com", "10040120000100000000000111636f6e6e6563746976697479636865636b076773746174696303636f6d000001000100002904d000000000000c000a00081631ca6f9296e9cb"),
        ("captive.apple.com", "297d012000010000000000010763617074697665056170706c6503636f6d000001000100002904d000000000000c000a00081aaab0176e01c505"),
        ("www.msftconnecttest.com", "c47701200001000000000001037777770f6d736674636f6e6e6563747465737403636f6d000001000100002904d000000000000c000a000833fd81c4a5b8b50c"),
        ("detectportal.firefox.com", "a55b012000010000000000010c646574656374706f7274616c0766697265666f7803636f6d000001000100002904d000000000000c000a0008a841378ec6229f67"),
    ];

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    fn ask(server: &mut DnsServer, query: &[u8]) -> Option<Vec<u8>> {
        let mut buf = [0; 1500];
        server.respond(query, APPLIANCE, &mut buf).map(|len| buf[..len].to_vec())
    }

    /// Header fields: (id, flags, qdcount, ancount, nscount, arcount).
    fn header(reply: &[u8]) -> (u16, u16, u16, u16, u16, u16) {
        let word = |at: usize| u16::from_be_bytes([reply[at], reply[at + 1]]);
        (word(0), word(2), word(4), word(6), word(8), word(10))
    }

    fn a_answers(reply: &[u8]) -> Vec<(String, Ipv4Addr)> {
        let message = Message::from_octets(reply).unwrap();
        let answers = message.answer().unwrap().limit_to::<A>();
        answers.map(|r| r.unwrap()).map(|r| (r.owner().to_string(), r.data().addr())).collect()
    }

    /// A query without EDNS for `names`, each as an A question.
    fn query(id: u16, names: &[&str]) -> Vec<u8> {
        let mut q = Vec::from(id.to_be_bytes());
        q.extend([1, 0, 0, names.len() as u8, 0, 0, 0, 0, 0, 0]);
        for name in names {
            for label in name.split('.') {
                q.push(label.len() as u8);
                q.extend(label.bytes());
            }
            q.extend([0, 0, 1, 0, 1]);
        }
        q
    }

    #[test]
    fn dns_dig_a_query_gets_the_appliance_with_edns() {
        let mut server = DnsServer::new();
        let reply = ask(&mut server, &hex(DIG_A)).unwrap();
        // id; QR, RD, RA, NOERROR; one question, one answer, one OPT.
        assert_eq!(header(&reply), (0xe006, 0x8180, 1, 1, 0, 1));
        let question = &hex(DIG_A)[12..29];
        assert_eq!(&reply[12..29], question);
        // Owner: pointer to the question; A, IN, TTL 60, 4 bytes, the address.
        assert_eq!(&reply[29..45], &[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 42, 0, 1]);
        // OPT: root, type 41, payload 1232, rcode/version/flags 0, no options.
        assert_eq!(&reply[45..], &[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(server.counters(), DnsCounters { queries: 1, answered: 1, ..DnsCounters::default() });
    }

    #[test]
    fn dns_query_without_edns_gets_no_opt() {
        let mut server = DnsServer::new();
        let reply = ask(&mut server, &hex(DIG_A_NOEDNS)).unwrap();
        assert_eq!(header(&reply), (0x0001, 0x8180, 1, 1, 0, 0));
        assert_eq!(a_answers(&reply), [(String::from("example.com"), APPLIANCE)]);
    }

    #[test]
    fn dns_aaaa_txt_mx_get_noerror_without_answers() {
        let mut server = DnsServer::new();
        for fixture in [DIG_AAAA, DIG_TXT, DIG_MX] {
            let query = hex(fixture);
            let reply = ask(&mut server, &query).unwrap();
            let (id, flags, qd, an, _, ar) = header(&reply);
            assert_eq!((id, flags & 0x800f, qd, an, ar), (u16::from_be_bytes([query[0], query[1]]), 0x8000, 1, 0, 1));
        }
        assert_eq!(server.counters().answered, 3);
    }

    #[test]
    fn dns_probe_hosts_resolve_to_the_appliance() {
        let mut server = DnsServer::new();
        for (name, fixture) in DIG_PROBES {
            let reply = ask(&mut server, &hex(fixture)).unwrap();
            assert_eq!(a_answers(&reply), [(String::from(name), APPLIANCE)]);
        }
    }

    #[test]
    fn dns_every_a_question_is_answered() {
        let mut server = DnsServer::new();
        let mut two = query(7, &["captive.apple.com", "example.org"]);
        // Third question: AAAA, which gets no record.
        two[5] = 3;
        two.extend([7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'n', b'e', b't', 0, 0, 28, 0, 1]);
        let reply = ask(&mut server, &two).unwrap();
        let (_, _, questions, answers, _, _) = header(&reply);
        assert_eq!((questions, answers), (3, 2));
        let names: Vec<_> = a_answers(&reply).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["captive.apple.com", "example.org"]);
    }

    #[test]
    fn dns_compression_pointer_loops_get_formerr() {
        let mut server = DnsServer::new();
        let mut to_itself = query(9, &[]);
        to_itself[5] = 1;
        to_itself.extend([0xc0, 12, 0, 1, 0, 1]);
        let mut forward = query(9, &[]);
        forward[5] = 1;
        forward.extend([0xc0, 14, 0, 0, 1, 0, 1]);
        let mut back_and_forth = query(9, &[]);
        back_and_forth[5] = 1;
        back_and_forth.extend([1, b'a', 0xc0, 12, 0, 1, 0, 1]);
        for bad in [to_itself, forward, back_and_forth] {
            let reply = ask(&mut server, &bad).unwrap();
            assert_eq!(header(&reply), (9, 0x8181, 0, 0, 0, 0));
        }
        assert_eq!(server.counters().formerr, 3);
    }

    #[test]
    fn dns_malformed_queries_get_formerr_and_short_ones_are_dropped() {
        let mut server = DnsServer::new();
        let good = hex(DIG_A);
        // Question cut short; no question; OPT record cut short.
        let mut no_question = good[..12].to_vec();
        no_question[5] = 0;
        no_question[11] = 0;
        let mut two_opts = good.clone();
        two_opts[11] = 2;
        two_opts.extend_from_slice(&good[29..]);
        let mut bad_option = good.clone();
        bad_option[39] = 9;
        for bad in [&good[..20], &good[..good.len() - 3], &no_question, &two_opts, &bad_option] {
            let reply = ask(&mut server, bad).unwrap();
            assert_eq!(header(&reply), (0xe006, 0x8181, 0, 0, 0, 0));
        }
        for short in [&good[..0], &good[..1], &good[..11]] {
            assert_eq!(ask(&mut server, short), None);
        }
        assert_eq!(server.counters(), DnsCounters { queries: 8, formerr: 5, dropped: 3, ..DnsCounters::default() });
    }

    #[test]
    fn dns_responses_are_not_answered() {
        let mut server = DnsServer::new();
        let mut response = hex(DIG_A);
        response[2] |= 0x80;
        assert_eq!(ask(&mut server, &response), None);
        assert_eq!(server.counters().dropped, 1);
    }

    #[test]
    fn dns_other_opcodes_get_notimp() {
        let mut server = DnsServer::new();
        for opcode in [2u8, 4, 5] {
            let mut query = hex(DIG_A);
            query[2] = (query[2] & 0x87) | (opcode << 3);
            let reply = ask(&mut server, &query).unwrap();
            let (id, flags, qd, an, ns, ar) = header(&reply);
            assert_eq!((id, flags & 0xf80f, qd, an, ns, ar), (0xe006, 0x8004 | u16::from(opcode) << 11, 0, 0, 0, 0));
        }
        assert_eq!(server.counters().notimp, 3);
    }

    #[test]
    fn dns_unknown_edns_version_gets_badvers() {
        let mut server = DnsServer::new();
        let reply = ask(&mut server, &hex(DIG_EDNS1)).unwrap();
        assert_eq!(header(&reply), (0xedce, 0x8180, 1, 0, 0, 1));
        // Extended rcode 1 in the OPT TTL's top byte: 1 << 4 | 0 = 16, BADVERS.
        assert_eq!(&reply[reply.len() - 11..], &[0, 0, 41, 0x04, 0xd0, 1, 0, 0, 0, 0, 0]);
        assert_eq!(server.counters().formerr, 1);
    }

    #[test]
    fn dns_reply_is_truncated_to_fit() {
        let mut server = DnsServer::new();
        let long = "a".repeat(60);
        let names: Vec<String> = (0..8).map(|i| format!("{long}.{i}.example")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let reply = ask(&mut server, &query(3, &names)).unwrap();
        let (_, flags, qd, an, _, _) = header(&reply);
        assert!(reply.len() <= 512, "{} bytes", reply.len());
        assert_eq!((flags & 0x0200, qd), (0x0200, 7), "TC set, questions that fit kept");
        assert_eq!(an, 0);
        // A small buffer cuts the answer of a single question.
        let mut small = [0; 40];
        let len = server.respond(&hex(DIG_A), APPLIANCE, &mut small).unwrap();
        assert_eq!(header(&small[..len]).1 & 0x0200, 0x0200);
        assert_eq!(server.respond(&hex(DIG_A), APPLIANCE, &mut [0; 11]), None);
    }

    #[test]
    fn dns_random_and_mutated_bytes_never_panic() {
        let mut server = DnsServer::new();
        let seed = hex(DIG_A);
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..30_000 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                (0..next() % 600).map(|_| next() as u8).collect()
            } else {
                let mut bytes = seed.clone();
                for _ in 0..1 + next() % 6 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
                bytes.truncate(12 + (next() as usize) % (seed.len() - 11));
                bytes
            };
            let mut buf = [0; 512];
            if let Some(len) = server.respond(&bytes, APPLIANCE, &mut buf) {
                assert!((12..=512).contains(&len));
            }
        }
        let c = server.counters();
        assert_eq!(c.queries, c.answered + c.formerr + c.notimp + c.dropped);
        assert!(c.answered > 0 && c.formerr > 0 && c.notimp > 0 && c.dropped > 0, "{c:?}");
    }
}
