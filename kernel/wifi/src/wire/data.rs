//! Data frames: Ethernet II ↔ 802.11 data with an LLC/SNAP header, the
//! FromDS headers the access point writes, and null data for probing.
//!
//! Encapsulation per IEEE 802.1H / RFC 1042 (SNAP OUI 00:00:00, or 00:00:F8
//! for the bridge-tunnel ethertypes), as Linux's `ieee80211_data_to_8023` reads it.

use super::frame::{self, data as sub, flags, FrameControl, FrameType};
use super::{Error, MacAddr};
use alloc::vec::Vec;

/// Ethertype of EAPOL (802.1X), the 4-way handshake's carrier.
pub const ETHERTYPE_EAPOL: u16 = 0x888e;
/// Ethernet II header length.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// The largest MSDU 802.11 carries (LLC/SNAP header included).
pub const MAX_MSDU: usize = 2304;
/// LLC/SNAP header length.
pub const SNAP_LEN: usize = 8;

const RFC1042: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];
const BRIDGE_TUNNEL: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0xf8];

/// A checked view of an Ethernet II frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ethernet<'a> {
    /// Destination.
    pub dst: MacAddr,
    /// Source.
    pub src: MacAddr,
    /// Ethertype (≥ 0x0600; 802.3 length frames are refused).
    pub ethertype: u16,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> Ethernet<'a> {
    /// Parses an Ethernet II frame that fits in one 802.11 MSDU.
    pub fn parse(frame: &'a [u8]) -> Result<Self, Error> {
        let payload = frame.get(ETHERNET_HEADER_LEN..).ok_or(Error::Truncated)?;
        if payload.len() + SNAP_LEN > MAX_MSDU {
            return Err(Error::Oversized);
        }
        let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
        if ethertype < 0x0600 {
            return Err(Error::Unsupported);
        }
        Ok(Ethernet {
            dst: frame::read_addr(frame, 0)?,
            src: frame::read_addr(frame, 6)?,
            ethertype,
            payload,
        })
    }
}

/// Builds an Ethernet II frame.
pub fn ethernet(dst: &MacAddr, src: &MacAddr, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ETHERNET_HEADER_LEN + payload.len());
    out.extend_from_slice(dst);
    out.extend_from_slice(src);
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits a data frame body into its ethertype and payload (LLC/SNAP).
pub fn snap_decap(body: &[u8]) -> Result<(u16, &[u8]), Error> {
    let head = body.get(..6).ok_or(Error::Truncated)?;
    if head != RFC1042 && head != BRIDGE_TUNNEL {
        return Err(Error::Unsupported);
    }
    let ethertype = frame::read_u16(body, 6).map(u16::swap_bytes)?;
    Ok((ethertype, body.get(SNAP_LEN..).ok_or(Error::Truncated)?))
}

/// LLC/SNAP header followed by `payload`.
pub fn snap_encap(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SNAP_LEN + payload.len());
    // 802.1H: AppleTalk AARP and IPX travel in the bridge tunnel.
    out.extend_from_slice(if matches!(ethertype, 0x80f3 | 0x8137) {
        &BRIDGE_TUNNEL
    } else {
        &RFC1042
    });
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A FromDS data header: to `ra` (a station, or a group address), from
/// `bssid`, on behalf of `sa`. With `qos`, a QoS data header for TID `tid`.
pub fn from_ds_header(
    ra: &MacAddr,
    bssid: &MacAddr,
    sa: &MacAddr,
    seq: u16,
    qos: Option<u8>,
) -> Vec<u8> {
    let subtype = if qos.is_some() {
        sub::QOS_DATA
    } else {
        sub::DATA
    };
    let fc = FrameControl::new(FrameType::Data, subtype, flags::FROM_DS);
    let mut out = Vec::with_capacity(frame::HEADER_LEN + 2);
    frame::write_header(&mut out, fc, 0, ra, bssid, sa, seq);
    if let Some(tid) = qos {
        out.extend_from_slice(&u16::from(tid & 0x7).to_le_bytes());
    }
    out
}

/// A FromDS null data frame: asks for nothing but an ACK (the AP's "are you still there?").
pub fn null_data(ra: &MacAddr, bssid: &MacAddr, seq: u16) -> Vec<u8> {
    let fc = FrameControl::new(FrameType::Data, sub::NULL, flags::FROM_DS);
    let mut out = Vec::with_capacity(frame::HEADER_LEN);
    frame::write_header(&mut out, fc, 0, ra, bssid, bssid, seq);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::Header;

    // An ARP request (payload shortened) as a station's IP stack hands it to mac80211.
    const ARP_ETHERNET: [u8; 18] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00,
    ];

    #[test]
    fn ethernet_round_trips_through_llc_snap() {
        let e = Ethernet::parse(&ARP_ETHERNET).unwrap();
        assert_eq!(e.ethertype, 0x0806);
        let body = snap_encap(e.ethertype, e.payload);
        assert_eq!(&body[..8], &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06]);
        let (ty, payload) = snap_decap(&body).unwrap();
        assert_eq!(ethernet(&e.dst, &e.src, ty, payload), ARP_ETHERNET);
    }

    #[test]
    fn ipx_uses_the_bridge_tunnel_oui() {
        assert_eq!(&snap_encap(0x8137, &[])[..6], &BRIDGE_TUNNEL);
        assert_eq!(
            snap_decap(&snap_encap(0x8137, &[1])).unwrap(),
            (0x8137, &[1][..])
        );
    }

    #[test]
    fn non_snap_bodies_and_short_frames_are_refused() {
        assert_eq!(
            snap_decap(&[0xaa, 0xaa, 0x03, 0, 0]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            snap_decap(&[0xf0, 0xf0, 0x03, 0, 0, 0, 8, 0]).unwrap_err(),
            Error::Unsupported
        );
        assert_eq!(
            Ethernet::parse(&ARP_ETHERNET[..13]).unwrap_err(),
            Error::Truncated
        );
        let mut len_frame = ARP_ETHERNET;
        len_frame[12..14].copy_from_slice(&[0x00, 0x40]);
        assert_eq!(Ethernet::parse(&len_frame).unwrap_err(), Error::Unsupported);
        let big = [0u8; ETHERNET_HEADER_LEN + MAX_MSDU];
        assert_eq!(Ethernet::parse(&big).unwrap_err(), Error::Oversized);
    }

    #[test]
    fn from_ds_qos_header_parses_back_with_its_tid() {
        let h = from_ds_header(&[2; 6], &[1; 6], &[3; 6], 17, Some(0));
        assert_eq!(&h[..2], &[0x88, 0x02]);
        let p = Header::parse(&h).unwrap();
        assert_eq!(
            (p.addr1, p.addr2, p.addr3, p.sequence(), p.tid()),
            ([2; 6], [1; 6], [3; 6], 17, Some(0))
        );
        assert_eq!(&null_data(&[2; 6], &[1; 6], 0)[..2], &[0x48, 0x02]);
    }
}
