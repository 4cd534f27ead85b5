//! 802.11 wire format: checked views over received frames and emitters for
//! the frames the access point sends, with no state and no policy.
//!
//! Split as smoltcp splits its protocols: `frame` (MAC header), `ie`
//! (information elements), `mgmt` (management bodies), `data` (data frames,
//! LLC/SNAP, Ethernet II). The behaviour lives in `ap`, `station`, `queue`.

pub mod data;
pub mod frame;
pub mod ie;
pub mod mgmt;

/// A 48-bit MAC address.
pub type MacAddr = [u8; 6];

/// The broadcast address.
pub const BROADCAST: MacAddr = [0xff; 6];

/// Whether an address is a group (multicast or broadcast) address.
pub fn is_group(addr: &MacAddr) -> bool {
    addr[0] & 1 == 1
}

/// Why a received frame could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than its fixed fields.
    Truncated,
    /// Longer than 802.11 allows (or than we accept).
    Oversized,
    /// An information element runs past the end, or a mandatory one is malformed.
    BadElement,
    /// Protocol version other than 0.
    BadVersion,
    /// Well-formed but not something the access point handles (WDS, fragments, A-MSDU...).
    Unsupported,
}

/// A status code of §9.4.1.9, sent in authentication and (re)association responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusCode(pub u16);

impl StatusCode {
    /// Success.
    pub const SUCCESS: Self = StatusCode(0);
    /// Capabilities we cannot support (e.g. an IBSS station).
    pub const CAPABILITIES_UNSUPPORTED: Self = StatusCode(10);
    /// Refused for a reason outside the standard's scope (wrong SSID...).
    pub const DENIED_OTHER: Self = StatusCode(12);
    /// Authentication algorithm not supported.
    pub const UNSUPPORTED_AUTH_ALGORITHM: Self = StatusCode(13);
    /// Authentication transaction sequence number out of sequence.
    pub const AUTH_OUT_OF_SEQUENCE: Self = StatusCode(14);
    /// The AP cannot handle more associated stations.
    pub const AP_FULL: Self = StatusCode(17);
    /// The station does not support all basic rates.
    pub const BASIC_RATES_MISMATCH: Self = StatusCode(18);
    /// Invalid element (e.g. no RSN element on a WPA2 network).
    pub const INVALID_ELEMENT: Self = StatusCode(40);
}

/// A reason code of §9.4.1.7, sent in deauthentication and disassociation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReasonCode(pub u16);

impl ReasonCode {
    /// Unspecified.
    pub const UNSPECIFIED: Self = ReasonCode(1);
    /// Disassociated due to inactivity.
    pub const INACTIVITY: Self = ReasonCode(4);
    /// Class 2 frame from a non-authenticated station.
    pub const CLASS2_FROM_UNAUTHENTICATED: Self = ReasonCode(6);
    /// Class 3 frame from a non-associated station.
    pub const CLASS3_FROM_UNASSOCIATED: Self = ReasonCode(7);
    /// The station is leaving.
    pub const LEAVING: Self = ReasonCode(8);
    /// 4-way handshake timeout (or failure).
    pub const HANDSHAKE_TIMEOUT: Self = ReasonCode(15);
}
