//! Test harness: a recording outbox and the frames a Linux station
//! (mac80211 + wpa_supplicant) sends, so behaviour tests read as exchanges.

use super::AccessPoint;
use crate::wire::frame::{flags, Header};
use crate::wire::MacAddr;
use crate::{Config, Outbox};
use alloc::vec::Vec;

pub const BSSID: MacAddr = [0x02, 0x00, 0x00, 0x00, 0x00, 0x00];
pub const WIRED: MacAddr = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

pub fn sta(n: u8) -> MacAddr {
    [0x02, 0x00, 0x00, 0x00, n, 0x00]
}

/// Everything the access point handed out.
#[derive(Default)]
pub struct Air {
    pub sent: Vec<(Vec<u8>, Option<u32>)>,
    pub delivered: Vec<Vec<u8>>,
    /// Frames before this index have been acknowledged (or left alone).
    pub cursor: usize,
}

impl Outbox for Air {
    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>) {
        self.sent.push((frame.to_vec(), ack_token));
    }
    fn deliver(&mut self, ethernet: &[u8]) {
        self.delivered.push(ethernet.to_vec());
    }
}

impl Air {
    /// Frames sent to `ra` (addr1), skipping beacons.
    pub fn to(&self, ra: &MacAddr) -> Vec<&(Vec<u8>, Option<u32>)> {
        self.sent
            .iter()
            .filter(|(f, _)| f.get(4..10) == Some(&ra[..]))
            .collect()
    }

    /// The last frame sent to `ra`.
    pub fn last_to(&self, ra: &MacAddr) -> (Vec<u8>, Option<u32>) {
        self.to(ra)
            .last()
            .map(|f| (*f).clone())
            .expect("a frame to the station")
    }

    pub fn clear(&mut self) {
        self.sent.clear();
        self.delivered.clear();
        self.cursor = 0;
    }
}

/// A deterministic stand-in for the kernel's generator.
pub struct Counter(pub u64);

impl rand_core::RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

pub fn ap_with(f: impl FnOnce(&mut Config)) -> AccessPoint {
    let mut config = Config::default();
    f(&mut config);
    AccessPoint::new(config, BSSID, &mut Counter(1)).unwrap()
}

pub fn open_ap() -> AccessPoint {
    ap_with(|_| {})
}

fn header(out: &mut Vec<u8>, fc: [u8; 2], a1: &MacAddr, a2: &MacAddr, a3: &MacAddr, seq: u16) {
    out.extend_from_slice(&fc);
    out.extend_from_slice(&[0x3a, 0x01]);
    out.extend_from_slice(a1);
    out.extend_from_slice(a2);
    out.extend_from_slice(a3);
    out.extend_from_slice(&(seq << 4).to_le_bytes());
}

/// Open-system authentication request (transaction 1).
pub fn auth(from: &MacAddr, algorithm: u16) -> Vec<u8> {
    let mut f = Vec::new();
    header(&mut f, [0xb0, 0x00], &BSSID, from, &BSSID, 1);
    f.extend_from_slice(&algorithm.to_le_bytes());
    f.extend_from_slice(&[1, 0, 0, 0]);
    f
}

/// mac80211's association request elements for SSID "2048" (open network).
pub fn assoc_elements(ssid: &[u8]) -> Vec<u8> {
    let mut e = alloc::vec![0x00, ssid.len() as u8];
    e.extend_from_slice(ssid);
    e.extend_from_slice(&[0x01, 0x08, 0x02, 0x04, 0x0b, 0x16, 0x0c, 0x12, 0x18, 0x24]);
    e.extend_from_slice(&[0x32, 0x04, 0x30, 0x48, 0x60, 0x6c]);
    e.extend_from_slice(&[0xdd, 0x07, 0x00, 0x50, 0xf2, 0x02, 0x00, 0x01, 0x00]);
    e
}

/// An association request with these elements.
pub fn assoc_with(from: &MacAddr, elements: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    header(&mut f, [0x00, 0x00], &BSSID, from, &BSSID, 2);
    f.extend_from_slice(&[0x21, 0x04, 0x05, 0x00]);
    f.extend_from_slice(elements);
    f
}

pub fn assoc(from: &MacAddr) -> Vec<u8> {
    assoc_with(from, &assoc_elements(b"2048"))
}

/// A deauthentication (or disassociation) from a station.
pub fn farewell(from: &MacAddr, deauth: bool) -> Vec<u8> {
    let mut f = Vec::new();
    header(
        &mut f,
        [if deauth { 0xc0 } else { 0xa0 }, 0x00],
        &BSSID,
        from,
        &BSSID,
        9,
    );
    f.extend_from_slice(&[3, 0]);
    f
}

/// A QoS data frame (TID 0, ToDS) from a station to `da`, with extra FC flag bits.
pub fn data(from: &MacAddr, da: &MacAddr, seq: u16, extra: u16, payload: &[u8]) -> Vec<u8> {
    data_typed(from, da, seq, extra, 0x0800, payload)
}

/// A QoS data frame (TID 0, ToDS) with this ethertype in its LLC/SNAP header.
pub fn data_typed(
    from: &MacAddr,
    da: &MacAddr,
    seq: u16,
    extra: u16,
    ethertype: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = qos_header(from, da, seq, extra);
    f.extend_from_slice(&crate::wire::data::snap_encap(ethertype, payload));
    f
}

/// The 26-byte header of a QoS data frame (TID 0, ToDS).
pub fn qos_header(from: &MacAddr, da: &MacAddr, seq: u16, extra: u16) -> Vec<u8> {
    let fc = (0x0188u16 | extra).to_le_bytes();
    let mut f = Vec::new();
    header(&mut f, fc, &BSSID, from, da, seq);
    f.extend_from_slice(&[0x00, 0x00]);
    f
}

/// A null data frame (ToDS) announcing power save on (`pm`) or off.
pub fn null(from: &MacAddr, seq: u16, pm: bool) -> Vec<u8> {
    let fc = (0x0148u16 | if pm { flags::POWER_MGMT } else { 0 }).to_le_bytes();
    let mut f = Vec::new();
    header(&mut f, fc, &BSSID, from, &BSSID, seq);
    f
}

pub fn ps_poll(from: &MacAddr, aid: u16) -> Vec<u8> {
    let mut f = alloc::vec![0xa4, 0x10];
    f.extend_from_slice(&(aid | 0xc000).to_le_bytes());
    f.extend_from_slice(&BSSID);
    f.extend_from_slice(from);
    f
}

/// An IPv4-looking Ethernet frame from the wired side.
pub fn ethernet(dst: &MacAddr, src: &MacAddr, payload: &[u8]) -> Vec<u8> {
    crate::wire::data::ethernet(dst, src, 0x0800, payload)
}

/// Acknowledges every frame with a token sent since the last call.
pub fn ack_all(ap: &mut AccessPoint, air: &mut Air, now: u64) {
    while let Some(k) = (air.cursor..air.sent.len()).find(|&k| air.sent[k].1.is_some()) {
        air.cursor = k + 1;
        if let Some(token) = air.sent[k].1 {
            ap.tx_status(token, true, now, air);
        }
    }
}

/// Reports the oldest unreported frame with a token as `acked` or not; returns its token.
pub fn report_next(ap: &mut AccessPoint, air: &mut Air, acked: bool, now: u64) -> Option<u32> {
    let k = (air.cursor..air.sent.len()).find(|&k| air.sent[k].1.is_some())?;
    air.cursor = k + 1;
    let token = air.sent[k].1?;
    ap.tx_status(token, acked, now, air);
    Some(token)
}

/// Authenticates and associates station `n` (acknowledging the AP's answers); returns its AID.
pub fn join(ap: &mut AccessPoint, air: &mut Air, n: u8, now: u64) -> u16 {
    let mac = sta(n);
    ap.receive(&auth(&mac, 0), now, air);
    ack_all(ap, air, now);
    ap.receive(&assoc(&mac), now, air);
    ack_all(ap, air, now);
    let (resp, _) = air
        .to(&mac)
        .into_iter()
        .rev()
        .find(|(f, _)| f[0] == 0x10)
        .expect("an association response")
        .clone();
    assert_eq!(&resp[26..28], &[0, 0], "association status");
    u16::from_le_bytes([resp[28], resp[29]]) & 0x3fff
}

/// The frame parsed, for assertions.
pub fn parse(frame: &[u8]) -> Header<'_> {
    Header::parse(frame).expect("a well-formed frame")
}
