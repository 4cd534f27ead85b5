//! The 802.11 MAC header: frame control, addresses, sequence and QoS control.
//!
//! Every frame the radio hands us starts here; `Header::parse` is the one
//! checked view over it, so the behaviour code never indexes raw bytes.
//! Layout from IEEE 802.11-2020 §9.2 (and Linux's `ieee80211.h` names).

use super::{Error, MacAddr};

/// Frame type field (bits 2-3 of the first frame-control byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameType {
    /// Association, authentication, beacons, probes, actions.
    Management,
    /// ACK, RTS/CTS, PS-Poll, block-ack requests.
    Control,
    /// Data, QoS data and their null (body-less) variants.
    Data,
    /// Type 3 (DMG beacons and the like): never ours.
    Extension,
}

/// Management subtypes the access point tells apart.
pub mod mgmt {
    /// Association request.
    pub const ASSOC_REQ: u8 = 0;
    /// Association response.
    pub const ASSOC_RESP: u8 = 1;
    /// Reassociation request.
    pub const REASSOC_REQ: u8 = 2;
    /// Reassociation response.
    pub const REASSOC_RESP: u8 = 3;
    /// Probe request.
    pub const PROBE_REQ: u8 = 4;
    /// Probe response.
    pub const PROBE_RESP: u8 = 5;
    /// Beacon.
    pub const BEACON: u8 = 8;
    /// Disassociation.
    pub const DISASSOC: u8 = 10;
    /// Authentication.
    pub const AUTH: u8 = 11;
    /// Deauthentication.
    pub const DEAUTH: u8 = 12;
    /// Action.
    pub const ACTION: u8 = 13;
    /// Action, no ACK expected.
    pub const ACTION_NO_ACK: u8 = 14;
}

/// Control subtypes the access point tells apart.
pub mod ctrl {
    /// PS-Poll: a dozing station asks for one buffered frame.
    pub const PS_POLL: u8 = 10;
    /// RTS.
    pub const RTS: u8 = 11;
    /// CTS.
    pub const CTS: u8 = 12;
    /// ACK.
    pub const ACK: u8 = 13;
}

/// Data subtypes (bit 3 = QoS, bit 2 = no body).
pub mod data {
    /// Plain data.
    pub const DATA: u8 = 0;
    /// Null data (power-management signalling, probing).
    pub const NULL: u8 = 4;
    /// QoS data.
    pub const QOS_DATA: u8 = 8;
    /// QoS null.
    pub const QOS_NULL: u8 = 12;
}

/// Flag bits of the second frame-control byte, as a 16-bit frame-control value.
pub mod flags {
    /// To the distribution system (station → AP).
    pub const TO_DS: u16 = 0x0100;
    /// From the distribution system (AP → station).
    pub const FROM_DS: u16 = 0x0200;
    /// More fragments follow.
    pub const MORE_FRAGMENTS: u16 = 0x0400;
    /// A retransmission.
    pub const RETRY: u16 = 0x0800;
    /// The sender goes to (1) or stays out of (0) power save after this frame.
    pub const POWER_MGMT: u16 = 0x1000;
    /// More frames are buffered for the receiver.
    pub const MORE_DATA: u16 = 0x2000;
    /// The body is encrypted (CCMP here).
    pub const PROTECTED: u16 = 0x4000;
    /// +HTC (QoS data) / strictly ordered.
    pub const ORDER: u16 = 0x8000;
}

/// The two frame-control bytes as one little-endian value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameControl(pub u16);

impl FrameControl {
    /// A frame control word for `ty`/`subtype` with `flag_bits` (from [`flags`]).
    pub const fn new(ty: FrameType, subtype: u8, flag_bits: u16) -> Self {
        let t = match ty {
            FrameType::Management => 0,
            FrameType::Control => 1,
            FrameType::Data => 2,
            FrameType::Extension => 3,
        };
        FrameControl(((subtype as u16 & 0xf) << 4) | (t << 2) | flag_bits)
    }

    /// Protocol version; only 0 exists.
    pub fn version(self) -> u8 {
        (self.0 & 0x3) as u8
    }

    /// Frame type.
    pub fn frame_type(self) -> FrameType {
        match (self.0 >> 2) & 0x3 {
            0 => FrameType::Management,
            1 => FrameType::Control,
            2 => FrameType::Data,
            _ => FrameType::Extension,
        }
    }

    /// Subtype (meaning depends on the type).
    pub fn subtype(self) -> u8 {
        ((self.0 >> 4) & 0xf) as u8
    }

    /// Whether the flag bit(s) `bit` (from [`flags`]) are set.
    pub fn has(self, bit: u16) -> bool {
        self.0 & bit == bit
    }

    /// A QoS data subtype (carries a QoS control field).
    pub fn is_qos_data(self) -> bool {
        self.frame_type() == FrameType::Data && self.subtype() & 0x8 != 0
    }

    /// A data subtype without a body (null, QoS null).
    pub fn is_null_data(self) -> bool {
        self.frame_type() == FrameType::Data && self.subtype() & 0x4 != 0
    }
}

/// Header length of management frames and of data frames without QoS.
pub const HEADER_LEN: usize = 24;

/// A checked view of a management or data frame's MAC header and body.
#[derive(Clone, Copy, Debug)]
pub struct Header<'a> {
    /// Frame control.
    pub fc: FrameControl,
    /// Duration/ID.
    pub duration: u16,
    /// Receiver (for frames to the AP: our BSSID).
    pub addr1: MacAddr,
    /// Transmitter.
    pub addr2: MacAddr,
    /// BSSID (management) or the far end (data).
    pub addr3: MacAddr,
    /// Sequence control (sequence number << 4 | fragment number).
    pub seq_ctl: u16,
    /// QoS control, for QoS data subtypes.
    pub qos: Option<u16>,
    /// Length of the header, up to the body.
    pub len: usize,
    /// The frame body (after the header, possibly encrypted).
    pub body: &'a [u8],
}

impl<'a> Header<'a> {
    /// Parses a management or data frame. Four-address (WDS) frames and
    /// control/extension frames are `Unsupported`; their parsers live elsewhere.
    pub fn parse(frame: &'a [u8]) -> Result<Self, Error> {
        let fc = FrameControl(read_u16(frame, 0)?);
        if fc.version() != 0 {
            return Err(Error::BadVersion);
        }
        match fc.frame_type() {
            FrameType::Management | FrameType::Data => {}
            FrameType::Control | FrameType::Extension => return Err(Error::Unsupported),
        }
        if frame.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if fc.frame_type() == FrameType::Data && fc.has(flags::TO_DS | flags::FROM_DS) {
            return Err(Error::Unsupported);
        }
        let mut len = HEADER_LEN;
        let qos = if fc.is_qos_data() {
            let q = read_u16(frame, len)?;
            len += 2;
            Some(q)
        } else {
            None
        };
        // +HTC: a QoS data frame with the Order bit, or any management frame
        // with it, carries a 4-byte HT control field.
        if fc.has(flags::ORDER) && (qos.is_some() || fc.frame_type() == FrameType::Management) {
            len += 4;
        }
        let body = frame.get(len..).ok_or(Error::Truncated)?;
        Ok(Header {
            fc,
            duration: read_u16(frame, 2)?,
            addr1: read_addr(frame, 4)?,
            addr2: read_addr(frame, 10)?,
            addr3: read_addr(frame, 16)?,
            seq_ctl: read_u16(frame, 22)?,
            qos,
            len,
            body,
        })
    }

    /// Sequence number (upper 12 bits of the sequence control).
    pub fn sequence(&self) -> u16 {
        self.seq_ctl >> 4
    }

    /// Fragment number.
    pub fn fragment(&self) -> u8 {
        (self.seq_ctl & 0xf) as u8
    }

    /// Traffic identifier of a QoS data frame.
    pub fn tid(&self) -> Option<u8> {
        self.qos.map(|q| (q & 0xf) as u8)
    }
}

/// A PS-Poll control frame: a dozing station asks for one buffered frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PsPoll {
    /// The association ID the station claims (bits 14-15 stripped).
    pub aid: u16,
    /// The BSSID it polls.
    pub bssid: MacAddr,
    /// The station.
    pub ta: MacAddr,
}

impl PsPoll {
    /// Parses a PS-Poll (16 bytes: FC, AID, BSSID, TA).
    pub fn parse(frame: &[u8]) -> Result<Self, Error> {
        let fc = FrameControl(read_u16(frame, 0)?);
        if fc.version() != 0
            || fc.frame_type() != FrameType::Control
            || fc.subtype() != ctrl::PS_POLL
        {
            return Err(Error::Unsupported);
        }
        Ok(PsPoll {
            aid: read_u16(frame, 2)? & 0x3fff,
            bssid: read_addr(frame, 4)?,
            ta: read_addr(frame, 10)?,
        })
    }
}

/// Appends a 24-byte header (management or three-address data).
pub fn write_header(
    out: &mut alloc::vec::Vec<u8>,
    fc: FrameControl,
    duration: u16,
    a1: &MacAddr,
    a2: &MacAddr,
    a3: &MacAddr,
    seq: u16,
) {
    out.extend_from_slice(&fc.0.to_le_bytes());
    out.extend_from_slice(&duration.to_le_bytes());
    out.extend_from_slice(a1);
    out.extend_from_slice(a2);
    out.extend_from_slice(a3);
    out.extend_from_slice(&((seq & 0xfff) << 4).to_le_bytes());
}

/// Sets or clears frame-control flag bits in an already built frame.
pub fn set_flag(frame: &mut [u8], bit: u16, on: bool) {
    if let Some(b) = frame.get_mut(1) {
        let mask = (bit >> 8) as u8;
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// Little-endian u16 at `at`, if the buffer holds it.
pub fn read_u16(buf: &[u8], at: usize) -> Result<u16, Error> {
    match buf.get(at..at + 2) {
        Some(&[a, b]) => Ok(u16::from_le_bytes([a, b])),
        _ => Err(Error::Truncated),
    }
}

/// A MAC address at `at`, if the buffer holds it.
pub fn read_addr(buf: &[u8], at: usize) -> Result<MacAddr, Error> {
    buf.get(at..at + 6)
        .and_then(|s| s.try_into().ok())
        .ok_or(Error::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A QoS data frame as mac80211 sends it to its AP: ToDS, TID 0, an ARP
    // request in LLC/SNAP (the body is shortened to the SNAP header).
    const QOS_DATA: [u8; 34] = [
        0x88, 0x01, 0x2c, 0x00, // QoS data, ToDS, duration 44
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, // addr1: BSSID
        0x02, 0x00, 0x00, 0x00, 0x01, 0x00, // addr2: station
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // addr3: DA
        0x30, 0x00, // sequence 3, fragment 0
        0x00, 0x00, // QoS control: TID 0
        0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x06,
    ];

    #[test]
    fn qos_data_header_parses_addresses_sequence_and_tid() {
        let h = Header::parse(&QOS_DATA).unwrap();
        assert_eq!(h.fc.frame_type(), FrameType::Data);
        assert!(h.fc.has(flags::TO_DS) && !h.fc.has(flags::FROM_DS));
        assert_eq!(h.addr2, [2, 0, 0, 0, 1, 0]);
        assert_eq!(h.sequence(), 3);
        assert_eq!(h.tid(), Some(0));
        assert_eq!(h.len, 26);
        assert_eq!(h.body.len(), 8);
    }

    #[test]
    fn header_shorter_than_its_fields_is_truncated() {
        for n in 0..26 {
            assert!(Header::parse(&QOS_DATA[..n]).is_err(), "{n} bytes");
        }
    }

    #[test]
    fn four_address_and_control_frames_are_not_header_frames() {
        let mut wds = QOS_DATA;
        wds[1] = 0x03;
        assert_eq!(Header::parse(&wds).unwrap_err(), Error::Unsupported);
        let ack = [0xd4, 0, 0, 0, 2, 0, 0, 0, 0, 0];
        assert_eq!(Header::parse(&ack).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn protocol_version_other_than_zero_is_refused() {
        let mut f = QOS_DATA;
        f[0] |= 1;
        assert_eq!(Header::parse(&f).unwrap_err(), Error::BadVersion);
    }

    #[test]
    fn ps_poll_parses_aid_without_the_top_bits() {
        // mac80211's PS-Poll: AID 1 with bits 14-15 set, BSSID, TA.
        let f = [0xa4, 0x10, 0x01, 0xc0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0];
        let p = PsPoll::parse(&f).unwrap();
        assert_eq!(p.aid, 1);
        assert_eq!(p.ta, [2, 0, 0, 0, 1, 0]);
        assert!(PsPoll::parse(&f[..15]).is_err());
    }

    #[test]
    fn written_header_parses_back() {
        let mut v = alloc::vec::Vec::new();
        let fc = FrameControl::new(FrameType::Management, mgmt::DEAUTH, 0);
        write_header(&mut v, fc, 0, &[1; 6], &[2; 6], &[3; 6], 4095);
        let h = Header::parse(&v).unwrap();
        assert_eq!(h.fc.subtype(), mgmt::DEAUTH);
        assert_eq!(
            (h.addr1, h.addr2, h.addr3, h.sequence()),
            ([1; 6], [2; 6], [3; 6], 4095)
        );
        set_flag(&mut v, flags::RETRY, true);
        assert!(Header::parse(&v).unwrap().fc.has(flags::RETRY));
    }
}
