//! Management frame bodies: checked views of what stations send (probe,
//! authentication, (re)association, deauthentication, disassociation, block-ack
//! requests) and emitters for what the access point answers.
//!
//! Body layouts from IEEE 802.11-2020 §9.3.3; element order of beacons and
//! probe responses as Table 9-27 and hostapd's `ieee802_11_build_ap_params`.

use super::frame::{self, mgmt as sub, FrameControl, FrameType, Header};
use super::ie::{self, Elements};
use super::{Error, MacAddr, ReasonCode, StatusCode, BROADCAST};
use alloc::vec::Vec;

/// Capability information bits the access point uses.
pub mod capability {
    /// An infrastructure BSS.
    pub const ESS: u16 = 0x0001;
    /// An independent BSS (ad hoc): never ours.
    pub const IBSS: u16 = 0x0002;
    /// Encryption required (WPA2).
    pub const PRIVACY: u16 = 0x0010;
    /// Short preamble allowed.
    pub const SHORT_PREAMBLE: u16 = 0x0020;
    /// Short slot time in use.
    pub const SHORT_SLOT: u16 = 0x0400;
}

/// Beacon interval: 100 TU = 102.4 ms.
pub const BEACON_INTERVAL_TU: u16 = 100;

/// Authentication algorithm: open system.
pub const AUTH_OPEN: u16 = 0;

/// An authentication frame's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Authentication {
    /// Algorithm number (0 open, 1 shared key, 3 SAE...).
    pub algorithm: u16,
    /// Transaction sequence number.
    pub transaction: u16,
    /// Status code.
    pub status: u16,
}

impl Authentication {
    /// Parses the fixed fields (elements after them are ignored: open system has none).
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        Ok(Authentication {
            algorithm: frame::read_u16(body, 0)?,
            transaction: frame::read_u16(body, 2)?,
            status: frame::read_u16(body, 4)?,
        })
    }
}

/// An association or reassociation request's body.
#[derive(Clone, Copy, Debug)]
pub struct AssocRequest<'a> {
    /// The station's capability information.
    pub capability: u16,
    /// How many beacon intervals the station may sleep between listens.
    pub listen_interval: u16,
    /// Its elements, already bounds-checked.
    pub elements: Elements<'a>,
}

impl<'a> AssocRequest<'a> {
    /// Parses a (re)association request body; `reassoc` adds the current-AP field.
    pub fn parse(body: &'a [u8], reassoc: bool) -> Result<Self, Error> {
        let fixed = if reassoc { 10 } else { 4 };
        let rest = body.get(fixed..).ok_or(Error::Truncated)?;
        Ok(AssocRequest {
            capability: frame::read_u16(body, 0)?,
            listen_interval: frame::read_u16(body, 2)?,
            elements: Elements::new(rest)?,
        })
    }

    /// The SSID element's contents, if present.
    pub fn ssid(&self) -> Option<&'a [u8]> {
        self.elements.find(ie::id::SSID).map(|e| e.data)
    }

    /// Whether the station announced WMM (QoS) support.
    pub fn wmm(&self) -> bool {
        self.elements.vendor(&ie::WMM_OUI_TYPE).is_some()
    }
}

/// The reason code of a deauthentication or disassociation body.
pub fn parse_reason(body: &[u8]) -> Result<ReasonCode, Error> {
    frame::read_u16(body, 0).map(ReasonCode)
}

/// Action categories the access point answers.
pub mod action {
    /// Public: class 1, sent before association (GAS/ANQP queries...).
    pub const PUBLIC: u8 = 4;
    /// Self-protected: class 1 too.
    pub const SELF_PROTECTED: u8 = 15;
    /// Block Ack (ADDBA).
    pub const BLOCK_ACK: u8 = 3;
    /// ADDBA request.
    pub const ADDBA_REQUEST: u8 = 0;
    /// ADDBA response.
    pub const ADDBA_RESPONSE: u8 = 1;
}

/// A station's ADDBA request (it wants to aggregate; we decline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddbaRequest {
    /// Dialog token to echo.
    pub dialog: u8,
    /// Block ack parameter set to echo.
    pub parameters: u16,
    /// Block ack timeout to echo.
    pub timeout: u16,
}

impl AddbaRequest {
    /// Parses an action body (category, action, dialog, parameters, timeout, SSC).
    pub fn parse(body: &[u8]) -> Option<Self> {
        match body {
            [action::BLOCK_ACK, action::ADDBA_REQUEST, dialog, rest @ ..] if rest.len() >= 6 => {
                Some(AddbaRequest {
                    dialog: *dialog,
                    parameters: frame::read_u16(rest, 0).ok()?,
                    timeout: frame::read_u16(rest, 2).ok()?,
                })
            }
            _ => None,
        }
    }
}

/// What beacons and probe responses share, built once when the AP starts.
#[derive(Clone, Debug)]
pub struct Bss {
    /// Our address.
    pub bssid: MacAddr,
    /// Our channel.
    pub channel: u8,
    /// Capability information we advertise.
    pub capability: u16,
    /// SSID, rates, DS parameter set.
    pub head: Vec<u8>,
    /// Country, ERP, extended rates, RSN, HT capabilities/operation, WMM.
    pub tail: Vec<u8>,
}

impl Bss {
    /// Builds the shared elements for an 802.11g+HT20 BSS; `rsn` is the whole
    /// RSN element (ID and length included) when the network is secured.
    pub fn new(
        bssid: MacAddr,
        ssid: &[u8],
        channel: u8,
        country: [u8; 2],
        rsn: Option<&[u8]>,
    ) -> Self {
        let mut head = Vec::new();
        ie::push_head(&mut head, ssid, channel);
        let mut tail = Vec::new();
        ie::push_country(&mut tail, country);
        ie::push_erp(&mut tail);
        ie::push(&mut tail, ie::id::EXTENDED_RATES, &ie::EXTENDED_RATES);
        if let Some(rsn) = rsn {
            tail.extend_from_slice(rsn);
        }
        ie::push_ht_capabilities(&mut tail);
        ie::push_ht_operation(&mut tail, channel);
        ie::push_wmm_parameters(&mut tail);
        let privacy = if rsn.is_some() {
            capability::PRIVACY
        } else {
            0
        };
        Bss {
            bssid,
            channel,
            capability: capability::ESS
                | capability::SHORT_PREAMBLE
                | capability::SHORT_SLOT
                | privacy,
            head,
            tail,
        }
    }

    fn fixed(&self, out: &mut Vec<u8>, subtype: u8, da: &MacAddr, seq: u16, timestamp_us: u64) {
        let fc = FrameControl::new(FrameType::Management, subtype, 0);
        frame::write_header(out, fc, 0, da, &self.bssid, &self.bssid, seq);
        out.extend_from_slice(&timestamp_us.to_le_bytes());
        out.extend_from_slice(&BEACON_INTERVAL_TU.to_le_bytes());
        out.extend_from_slice(&self.capability.to_le_bytes());
        out.extend_from_slice(&self.head);
    }

    /// A beacon; `tim` is the whole TIM element (see [`ie::push_tim`]).
    pub fn beacon(&self, seq: u16, timestamp_us: u64, tim: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.fixed(&mut out, sub::BEACON, &BROADCAST, seq, timestamp_us);
        out.extend_from_slice(tim);
        out.extend_from_slice(&self.tail);
        out
    }

    /// A probe response to `da`: the beacon's contents without the TIM.
    pub fn probe_response(&self, da: &MacAddr, seq: u16, timestamp_us: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.fixed(&mut out, sub::PROBE_RESP, da, seq, timestamp_us);
        out.extend_from_slice(&self.tail);
        out
    }

    /// A management frame from us to `da` with `body`.
    pub fn management(&self, subtype: u8, da: &MacAddr, seq: u16, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(frame::HEADER_LEN + body.len());
        let fc = FrameControl::new(FrameType::Management, subtype, 0);
        frame::write_header(&mut out, fc, 0, da, &self.bssid, &self.bssid, seq);
        out.extend_from_slice(body);
        out
    }

    /// An open-system authentication answer (transaction 2).
    pub fn authentication(
        &self,
        da: &MacAddr,
        seq: u16,
        algorithm: u16,
        status: StatusCode,
    ) -> Vec<u8> {
        let mut body = [0u8; 6];
        body[..2].copy_from_slice(&algorithm.to_le_bytes());
        body[2..4].copy_from_slice(&2u16.to_le_bytes());
        body[4..].copy_from_slice(&status.0.to_le_bytes());
        self.management(sub::AUTH, da, seq, &body)
    }

    /// A (re)association response; on success it carries the AID and the
    /// rate, HT and (for WMM stations) WMM elements.
    pub fn assoc_response(
        &self,
        da: &MacAddr,
        seq: u16,
        reassoc: bool,
        status: StatusCode,
        aid: u16,
        wmm: bool,
    ) -> Vec<u8> {
        let mut body = Vec::with_capacity(96);
        body.extend_from_slice(&self.capability.to_le_bytes());
        body.extend_from_slice(&status.0.to_le_bytes());
        body.extend_from_slice(
            &(if status == StatusCode::SUCCESS {
                aid | 0xc000
            } else {
                0
            })
            .to_le_bytes(),
        );
        ie::push(&mut body, ie::id::RATES, &ie::SUPPORTED_RATES);
        ie::push(&mut body, ie::id::EXTENDED_RATES, &ie::EXTENDED_RATES);
        if status == StatusCode::SUCCESS {
            ie::push_ht_capabilities(&mut body);
            ie::push_ht_operation(&mut body, self.channel);
            if wmm {
                ie::push_wmm_parameters(&mut body);
            }
        }
        let subtype = if reassoc {
            sub::REASSOC_RESP
        } else {
            sub::ASSOC_RESP
        };
        self.management(subtype, da, seq, &body)
    }

    /// A deauthentication (`subtype` DEAUTH) or disassociation (DISASSOC).
    pub fn farewell(&self, subtype: u8, da: &MacAddr, seq: u16, reason: ReasonCode) -> Vec<u8> {
        self.management(subtype, da, seq, &reason.0.to_le_bytes())
    }

    /// An ADDBA response declining the station's block-ack session (status 37).
    pub fn addba_decline(&self, da: &MacAddr, seq: u16, req: &AddbaRequest) -> Vec<u8> {
        let mut body = [0u8; 9];
        body[0] = action::BLOCK_ACK;
        body[1] = action::ADDBA_RESPONSE;
        body[2] = req.dialog;
        body[3..5].copy_from_slice(&37u16.to_le_bytes());
        body[5..7].copy_from_slice(&req.parameters.to_le_bytes());
        body[7..9].copy_from_slice(&req.timeout.to_le_bytes());
        self.management(sub::ACTION, da, seq, &body)
    }
}

/// Whether a probe request's SSID asks for us: the wildcard or our SSID.
pub fn probe_wants(header: &Header<'_>, ssid: &[u8]) -> Result<bool, Error> {
    let elements = Elements::new(header.body)?;
    let Some(asked) = elements.find(ie::id::SSID) else {
        return Err(Error::BadElement);
    };
    Ok(asked.data.is_empty() || asked.data == ssid)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A probe request as mac80211 sends it while wpa_supplicant scans:
    /// wildcard SSID and BSSID, 11g rates, DS channel 6, HT capabilities.
    pub(crate) const PROBE_REQUEST: [u8; 77] = [
        0x40, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x01,
        0x00, //
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10, 0x00, //
        0x00, 0x00, // SSID: wildcard
        0x01, 0x08, 0x02, 0x04, 0x0b, 0x16, 0x0c, 0x12, 0x18, 0x24, //
        0x32, 0x04, 0x30, 0x48, 0x60, 0x6c, //
        0x03, 0x01, 0x06, //
        0x2d, 0x1a, 0x2c, 0x01, 0x03, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        0x7f, 0x02, 0x00, 0x00,
    ];

    /// An association request from wpa_supplicant (WPA2-PSK, pmf=0) for SSID
    /// "2048": capabilities ESS|privacy|short preamble|short slot, listen
    /// interval 5, rates, power capability, supported channels, RSN, HT, WMM info.
    pub(crate) const ASSOC_REQUEST: [u8; 121] = [
        0x00, 0x00, 0x3a, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
        0x00, //
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, //
        0x31, 0x04, 0x05, 0x00, // capability, listen interval
        0x00, 0x04, b'2', b'0', b'4', b'8', //
        0x01, 0x08, 0x02, 0x04, 0x0b, 0x16, 0x0c, 0x12, 0x18, 0x24, //
        0x21, 0x02, 0x00, 0x14, // power capability
        0x24, 0x02, 0x01, 0x0d, // supported channels 1-13
        0x30, 0x14, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01,
        0x00, //
        0x00, 0x0f, 0xac, 0x02, 0x00, 0x00, //
        0x32, 0x04, 0x30, 0x48, 0x60, 0x6c, //
        0x2d, 0x1a, 0x2c, 0x01, 0x03, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        0x7f, 0x02, 0x00, 0x00, //
        0xdd, 0x07, 0x00, 0x50, 0xf2, 0x02, 0x00, 0x01, 0x00, // WMM information element
    ];

    #[test]
    fn wildcard_probe_request_asks_for_any_ssid() {
        let h = Header::parse(&PROBE_REQUEST).unwrap();
        assert_eq!(h.fc.subtype(), sub::PROBE_REQ);
        assert_eq!(probe_wants(&h, b"2048"), Ok(true));
    }

    #[test]
    fn probe_request_for_another_ssid_is_not_for_us() {
        let mut f = PROBE_REQUEST.to_vec();
        f.splice(24..26, [0x00, 0x03, b'a', b'b', b'c']);
        let h = Header::parse(&f).unwrap();
        assert_eq!(probe_wants(&h, b"2048"), Ok(false));
        f.truncate(f.len() - 1);
        assert_eq!(
            probe_wants(&Header::parse(&f).unwrap(), b"2048"),
            Err(Error::BadElement)
        );
    }

    #[test]
    fn association_request_parses_ssid_rates_rsn_and_wmm() {
        let h = Header::parse(&ASSOC_REQUEST).unwrap();
        let req = AssocRequest::parse(h.body, false).unwrap();
        assert_eq!(req.capability, 0x0431);
        assert_eq!(req.listen_interval, 5);
        assert_eq!(req.ssid(), Some(&b"2048"[..]));
        assert!(req.wmm());
        let rsn = req.elements.find(ie::id::RSN).unwrap();
        assert_eq!(rsn.raw.len(), 22);
        assert_eq!(crate::rsn::check_station_rsn(rsn.raw), Ok(()));
        assert_eq!(ie::rates(req.elements).count(), 12);
    }

    #[test]
    fn association_request_with_a_broken_element_is_refused() {
        let h = Header::parse(&ASSOC_REQUEST[..ASSOC_REQUEST.len() - 1]).unwrap();
        assert_eq!(
            AssocRequest::parse(h.body, false).unwrap_err(),
            Error::BadElement
        );
        assert_eq!(
            AssocRequest::parse(&[0x31, 0x04, 0x05], false).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn open_authentication_request_parses() {
        // mac80211's open-system authentication: algorithm 0, transaction 1, status 0.
        assert_eq!(
            Authentication::parse(&[0, 0, 1, 0, 0, 0]),
            Ok(Authentication {
                algorithm: 0,
                transaction: 1,
                status: 0
            })
        );
        assert_eq!(
            Authentication::parse(&[0, 0, 1, 0, 0]),
            Err(Error::Truncated)
        );
    }

    fn bss() -> Bss {
        Bss::new([2, 0, 0, 0, 0, 0], b"2048", 6, *b"DE", None)
    }

    #[test]
    fn beacon_carries_fixed_fields_and_elements_in_order() {
        let mut tim = Vec::new();
        ie::push_tim(&mut tim, 0, 2, false, &[0; 251]);
        let b = bss().beacon(7, 0x0102_0304, &tim);
        assert_eq!(&b[..2], &[0x80, 0x00]);
        assert_eq!(&b[4..10], &BROADCAST);
        assert_eq!(&b[24..32], &0x0102_0304u64.to_le_bytes());
        assert_eq!(&b[32..34], &[100, 0]);
        assert_eq!(&b[34..36], &[0x21, 0x04]); // ESS, short preamble, short slot
        let ids: Vec<u8> = Elements::new(&b[36..]).unwrap().map(|e| e.id).collect();
        assert_eq!(ids, [0, 1, 3, 5, 7, 42, 50, 45, 61, 221]);
        let ds = Elements::new(&b[36..])
            .unwrap()
            .find(ie::id::DS_PARAMS)
            .unwrap();
        assert_eq!(ds.data, &[6]);
    }

    #[test]
    fn secured_bss_sets_privacy_and_carries_the_rsn_element() {
        let rsn = [0x30, 0x02, 0x01, 0x00];
        let b = Bss::new([2; 6], b"x", 1, *b"US", Some(&rsn)).probe_response(&[4; 6], 1, 0);
        assert_eq!(b[34] & 0x10, 0x10);
        let e = Elements::new(&b[36..]).unwrap();
        assert_eq!(e.find(ie::id::RSN).unwrap().raw, &rsn);
        assert!(e.find(ie::id::TIM).is_none());
        assert_eq!(e.find(ie::id::COUNTRY).unwrap().data, b"US \x01\x0b\x14");
    }

    #[test]
    fn association_response_carries_aid_with_top_bits_and_wmm() {
        let r = bss().assoc_response(&[4; 6], 3, false, StatusCode::SUCCESS, 5, true);
        assert_eq!(&r[..2], &[0x10, 0x00]);
        assert_eq!(&r[26..30], &[0x00, 0x00, 0x05, 0xc0]);
        let e = Elements::new(&r[30..]).unwrap();
        assert!(e.find(ie::id::HT_OPERATION).is_some());
        assert!(e.vendor(&ie::WMM_OUI_TYPE).is_some());
        let refused = bss().assoc_response(&[4; 6], 3, true, StatusCode::AP_FULL, 5, true);
        assert_eq!(&refused[..2], &[0x30, 0x00]);
        assert_eq!(&refused[26..30], &[17, 0, 0, 0]);
    }

    #[test]
    fn addba_request_is_declined_with_its_dialog_token() {
        // mac80211's ADDBA request: dialog 1, parameters (TID 0, 64 buffers), timeout 0, SSC 0x0010.
        let body = [3, 0, 1, 0x02, 0x10, 0, 0, 0x10, 0];
        let req = AddbaRequest::parse(&body).unwrap();
        let r = bss().addba_decline(&[4; 6], 9, &req);
        assert_eq!(&r[24..], &[3, 1, 1, 37, 0, 0x02, 0x10, 0, 0]);
        assert!(AddbaRequest::parse(&body[..8]).is_none());
    }
}
