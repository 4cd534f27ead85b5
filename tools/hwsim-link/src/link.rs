//! Wire format of the Wi-Fi frame link: one raw 802.11 frame per Ethernet frame.
//!
//! Layout (docs/wifi-rig.md): broadcast destination, the sender's MAC, ethertype
//! 0x88B5, then `'W'`, version 1, frequency in MHz (u16 BE), length (u16 BE) and the 802.11 frame
//! without FCS. The few 802.11 header fields the medium needs (addresses, "is this an ACK") are
//! read here too, with bounds checks: everything on the link is untrusted input.

/// IEEE "local experimental" ethertype: nothing else on the link uses it.
pub const ETHERTYPE: u16 = 0x88B5;
/// Lets a receiver tell our wrapper from stray traffic with the same ethertype.
pub const MAGIC: u8 = b'W';
/// Bumped if the wrapper ever changes, so mismatched peers drop instead of misreading.
pub const VERSION: u8 = 1;
/// Ethernet header (14) + wrapper header (6).
pub const HEADER_LEN: usize = 14 + 6;
/// The link MTU both sides configure: an encrypted 1500-byte packet is ~1560 bytes of 802.11.
pub const LINK_MTU: usize = 2400;
/// Longest 802.11 frame that fits the link MTU with the wrapper header.
pub const MAX_FRAME: usize = LINK_MTU - 6;

/// An 802.11 frame taken off the link, borrowed from the receive buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Wrapped<'a> {
    /// Channel centre frequency the sender transmitted on; hwsim drops off-channel frames.
    pub freq: u16,
    /// The 802.11 frame, FCS excluded, exactly `length` bytes long.
    pub frame: &'a [u8],
}

/// Why a link frame was dropped: each reason has its own counter.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum DecodeError {
    /// Shorter than the Ethernet and wrapper headers.
    Short,
    /// Not ethertype 0x88B5.
    Ethertype,
    /// Wrong magic byte or version.
    Header,
    /// The length field claims more bytes than the Ethernet frame holds.
    Length,
}

/// Why a frame could not be put on the link.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct TooLong(pub usize);

/// Wraps an 802.11 frame for the link, so the peer can recover it despite Ethernet padding.
pub fn encode(src: [u8; 6], freq: u16, frame: &[u8]) -> Result<Vec<u8>, TooLong> {
    if frame.len() > MAX_FRAME {
        return Err(TooLong(frame.len()));
    }
    let mut out = Vec::with_capacity(HEADER_LEN + frame.len());
    out.extend_from_slice(&[0xff; 6]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&ETHERTYPE.to_be_bytes());
    out.push(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&freq.to_be_bytes());
    out.extend_from_slice(&(frame.len() as u16).to_be_bytes());
    out.extend_from_slice(frame);
    Ok(out)
}

/// Unwraps a received Ethernet frame; the length field, not the Ethernet length, bounds the frame.
pub fn decode(eth: &[u8]) -> Result<Wrapped<'_>, DecodeError> {
    let header = eth.get(..HEADER_LEN).ok_or(DecodeError::Short)?;
    if u16::from_be_bytes([header[12], header[13]]) != ETHERTYPE {
        return Err(DecodeError::Ethertype);
    }
    if header[14] != MAGIC || header[15] != VERSION {
        return Err(DecodeError::Header);
    }
    let freq = u16::from_be_bytes([header[16], header[17]]);
    let len = usize::from(u16::from_be_bytes([header[18], header[19]]));
    let frame = eth
        .get(HEADER_LEN..HEADER_LEN + len)
        .ok_or(DecodeError::Length)?;
    Ok(Wrapped { freq, frame })
}

/// A MAC address as 802.11 carries it.
pub type Mac = [u8; 6];

/// Receiver address (addr1), present in every 802.11 frame that has one (all but a few controls).
pub fn addr1(frame: &[u8]) -> Option<Mac> {
    frame.get(4..10)?.try_into().ok()
}

/// Transmitter address (addr2): what an ACK is addressed back to.
pub fn addr2(frame: &[u8]) -> Option<Mac> {
    frame.get(10..16)?.try_into().ok()
}

/// Group-addressed frames (broadcast, multicast) are never acknowledged on a real radio.
pub fn is_group(mac: &Mac) -> bool {
    mac[0] & 1 == 1
}

/// Control frame, subtype ACK (frame control byte 0xd4, ignoring the flag bits of byte 1).
pub fn is_ack(frame: &[u8]) -> bool {
    frame.first().is_some_and(|fc| fc & 0xfc == 0xd4)
}

/// The 10-byte 802.11 ACK a receiving radio sends to `ra` (the acknowledged frame's addr2).
pub fn ack_frame(ra: Mac) -> [u8; 10] {
    let mut ack = [0xd4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    ack[4..].copy_from_slice(&ra);
    ack
}

/// Short name of the frame's type for the `--verbose` log.
pub fn kind(frame: &[u8]) -> &'static str {
    let Some(&fc) = frame.first() else {
        return "empty";
    };
    match (fc >> 2 & 3, fc >> 4) {
        (0, 0) => "assoc-req",
        (0, 1) => "assoc-resp",
        (0, 4) => "probe-req",
        (0, 5) => "probe-resp",
        (0, 8) => "beacon",
        (0, 10) => "disassoc",
        (0, 11) => "auth",
        (0, 12) => "deauth",
        (0, 13) => "action",
        (0, _) => "mgmt",
        (1, 13) => "ack",
        (1, _) => "ctrl",
        (2, 4) | (2, 12) => "null",
        (2, _) => "data",
        _ => "ext",
    }
}

/// `aa:bb:cc:dd:ee:ff`, for logs and messages.
pub fn fmt_mac(mac: &Mac) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses `aa:bb:cc:dd:ee:ff` (as sysfs writes it).
pub fn parse_mac(text: &str) -> Option<Mac> {
    let mut mac = [0u8; 6];
    let mut parts = text.trim().split(':');
    for byte in mac.iter_mut() {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x57];
    /// A null-data frame from 02:00:00:00:00:00 to 02:00:00:00:01:00 (24-byte header).
    const NULL_DATA: [u8; 24] = [
        0x48, 0x01, 0x3a, 0x01, 0x02, 0, 0, 0, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0x01,
        0, 0x10, 0,
    ];

    #[test]
    fn encode_puts_broadcast_ethertype_and_wrapper_header_first() {
        let eth = encode(SRC, 2437, &NULL_DATA).unwrap();
        assert_eq!(
            &eth[..HEADER_LEN],
            &[
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 0x88, 0xb5,
                b'W', 1, 0x09, 0x85, 0x00, 24
            ]
        );
        assert_eq!(&eth[HEADER_LEN..], &NULL_DATA);
    }

    #[test]
    fn decode_ignores_ethernet_padding_after_length() {
        let mut eth = encode(SRC, 2412, &ack_frame(SRC)).unwrap();
        eth.resize(60, 0);
        let got = decode(&eth).unwrap();
        assert_eq!(got.freq, 2412);
        assert_eq!(got.frame, &ack_frame(SRC));
    }

    #[test]
    fn decode_rejects_length_beyond_frame() {
        let mut eth = encode(SRC, 2437, &NULL_DATA).unwrap();
        eth[19] = 25;
        assert_eq!(decode(&eth), Err(DecodeError::Length));
    }

    #[test]
    fn decode_rejects_other_ethertype_magic_and_version() {
        let eth = encode(SRC, 2437, &NULL_DATA).unwrap();
        let mut other = eth.clone();
        other[13] = 0x00;
        assert_eq!(decode(&other), Err(DecodeError::Ethertype));
        let mut magic = eth.clone();
        magic[14] = b'X';
        assert_eq!(decode(&magic), Err(DecodeError::Header));
        let mut version = eth;
        version[15] = 2;
        assert_eq!(decode(&version), Err(DecodeError::Header));
        assert_eq!(decode(&[0xff; 19]), Err(DecodeError::Short));
    }

    #[test]
    fn encode_refuses_frames_over_link_mtu() {
        assert_eq!(
            encode(SRC, 2437, &[0; MAX_FRAME + 1]),
            Err(TooLong(MAX_FRAME + 1))
        );
        assert!(encode(SRC, 2437, &[0; MAX_FRAME]).is_ok());
    }

    #[test]
    fn ack_frame_is_d4_then_receiver_address() {
        let ack = ack_frame([2, 0, 0, 0, 0, 0]);
        assert_eq!(ack, [0xd4, 0, 0, 0, 2, 0, 0, 0, 0, 0]);
        assert!(is_ack(&ack));
        assert_eq!(addr1(&ack), Some([2, 0, 0, 0, 0, 0]));
        assert_eq!(addr2(&ack), None);
        assert!(!is_ack(&NULL_DATA));
    }

    #[test]
    fn header_addresses_and_group_bit() {
        assert_eq!(addr1(&NULL_DATA), Some([2, 0, 0, 0, 1, 0]));
        assert_eq!(addr2(&NULL_DATA), Some([2, 0, 0, 0, 0, 0]));
        assert!(is_group(&[0xff; 6]));
        assert!(is_group(&[0x33, 0x33, 0, 0, 0, 1]));
        assert!(!is_group(&[2, 0, 0, 0, 0, 0]));
        assert_eq!(addr1(&[0xd4, 0, 0]), None);
        assert_eq!(kind(&NULL_DATA), "null");
        assert_eq!(kind(&[0x80, 0]), "beacon");
    }

    #[test]
    fn mac_text_round_trips_and_rejects_garbage() {
        assert_eq!(
            parse_mac("42:00:00:00:01:00\n"),
            Some([0x42, 0, 0, 0, 1, 0])
        );
        assert_eq!(fmt_mac(&[0x42, 0, 0, 0, 1, 0]), "42:00:00:00:01:00");
        assert_eq!(parse_mac("42:00:00:00:01"), None);
        assert_eq!(parse_mac("42:00:00:00:01:00:00"), None);
        assert_eq!(parse_mac("zz:00:00:00:01:00"), None);
    }
}
