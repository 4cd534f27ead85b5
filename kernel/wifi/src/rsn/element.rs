//! The RSN element: the one the access point advertises in beacons and probe
//! responses, and the check of the one a station sends when it associates.
//!
//! IEEE 802.11-2016 9.4.2.25. WPA2-Personal only: CCMP-128 for group and
//! pairwise traffic, PSK authentication, no management frame protection.

/// Element id of the RSN element.
pub(crate) const RSN_ID: u8 = 48;
const OUI: [u8; 3] = [0x00, 0x0f, 0xac];
const CIPHER_CCMP: [u8; 4] = [0x00, 0x0f, 0xac, 4];
const AKM_PSK: [u8; 4] = [0x00, 0x0f, 0xac, 2];
/// RSN capabilities: management frame protection required / capable.
const CAP_MFPR: u16 = 0x0040;

/// Version 1, group CCMP, one pairwise cipher (CCMP), one AKM (PSK), RSN
/// capabilities 0: MFP is not advertised since BIP is not implemented.
const RSN_ELEMENT: [u8; 22] = [
    RSN_ID, 20, 1, 0, // id, length, version
    OUI[0], OUI[1], OUI[2], 4, // group cipher: CCMP
    1, 0, OUI[0], OUI[1], OUI[2], 4, // one pairwise cipher: CCMP
    1, 0, OUI[0], OUI[1], OUI[2], 2, // one AKM: PSK
    0, 0, // RSN capabilities
];

/// The AP's RSN element, id and length included, for beacons, probe
/// responses and message 3 of the handshake (which must repeat it exactly).
pub fn rsn_element() -> &'static [u8] {
    &RSN_ELEMENT
}

/// Why a station's RSN element is refused; the association is answered with
/// [`RsnError::status_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsnError {
    /// Not an RSN element, or its fields overrun it.
    Malformed,
    /// A version other than 1.
    Version,
    /// A group cipher other than CCMP.
    GroupCipher,
    /// Not exactly one pairwise cipher, or not CCMP.
    PairwiseCipher,
    /// Not exactly one AKM, or not PSK (802.1X, SAE, FT ...).
    Akm,
    /// The station requires management frame protection, which we lack.
    ManagementFrameProtection,
}

impl RsnError {
    /// The 802.11 status code for the (re)association response
    /// (802.11-2016 Table 9-46), as hostapd maps the same failures.
    pub fn status_code(self) -> u16 {
        match self {
            RsnError::Malformed => 40,
            RsnError::GroupCipher => 41,
            RsnError::PairwiseCipher => 42,
            RsnError::Akm => 43,
            RsnError::Version => 44,
            RsnError::ManagementFrameProtection => 31,
        }
    }
}

/// A cursor over the element's body; every read is bounds-checked.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn u16(&mut self) -> Option<u16> {
        let (v, rest) = self.0.split_first_chunk::<2>()?;
        self.0 = rest;
        Some(u16::from_le_bytes(*v))
    }

    fn suite(&mut self) -> Option<[u8; 4]> {
        let (v, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(*v)
    }

    /// A count and that many suites; `Ok(None)` if the list is absent (the
    /// element ends before it), `Err` if it is cut short.
    fn single_suite(&mut self) -> Result<Option<Option<[u8; 4]>>, RsnError> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let count = self.u16().ok_or(RsnError::Malformed)?;
        let mut only = None;
        for _ in 0..count {
            let suite = self.suite().ok_or(RsnError::Malformed)?;
            only = if count == 1 { Some(suite) } else { None };
        }
        Ok(Some(only))
    }
}

/// Checks the RSN element of a (re)association request (id and length
/// included) against what this AP offers, before the handshake starts: fields
/// absent at the end take the defaults of 9.4.2.25.1.
pub fn check_station_rsn(element: &[u8]) -> Result<(), RsnError> {
    let (&[id, len], body) = element.split_first_chunk::<2>().ok_or(RsnError::Malformed)?;
    if id != RSN_ID || body.len() != usize::from(len) {
        return Err(RsnError::Malformed);
    }
    let mut f = Fields(body);
    if f.u16().ok_or(RsnError::Malformed)? != 1 {
        return Err(RsnError::Version);
    }
    if !f.0.is_empty() && f.suite().ok_or(RsnError::Malformed)? != CIPHER_CCMP {
        return Err(RsnError::GroupCipher);
    }
    match f.single_suite()? {
        None | Some(Some(CIPHER_CCMP)) => {}
        Some(_) => return Err(RsnError::PairwiseCipher),
    }
    // The default AKM is 802.1X, so an element without the list is refused too.
    if f.single_suite()? != Some(Some(AKM_PSK)) {
        return Err(RsnError::Akm);
    }
    if !f.0.is_empty() && f.u16().ok_or(RsnError::Malformed)? & CAP_MFPR != 0 {
        return Err(RsnError::ManagementFrameProtection);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsn::testutil::hex;

    #[test]
    fn our_element_is_wpa2_psk_ccmp() {
        assert_eq!(rsn_element(), &hex("30 14 0100 000fac04 0100 000fac04 0100 000fac02 0000")[..]);
        assert_eq!(check_station_rsn(rsn_element()), Ok(()));
    }

    #[test]
    fn android_and_linux_elements_are_accepted() {
        // wpa_supplicant with PMF optional: MFPC set, no PMKIDs.
        assert_eq!(check_station_rsn(&hex("30 14 0100 000fac04 0100 000fac04 0100 000fac02 8000")), Ok(()));
        // With a PMKID count of 0 and a group management cipher (BIP) after it.
        assert_eq!(
            check_station_rsn(&hex("30 1a 0100 000fac04 0100 000fac04 0100 000fac02 8000 0000 000fac06")),
            Ok(())
        );
    }

    #[test]
    fn other_ciphers_and_akms_get_their_status_codes() {
        let cases = [
            ("30 14 0200 000fac04 0100 000fac04 0100 000fac02 0000", RsnError::Version, 44),
            ("30 14 0100 000fac02 0100 000fac04 0100 000fac02 0000", RsnError::GroupCipher, 41),
            ("30 14 0100 000fac04 0100 000fac02 0100 000fac02 0000", RsnError::PairwiseCipher, 42),
            ("30 18 0100 000fac04 0200 000fac04 000fac02 0100 000fac02 0000", RsnError::PairwiseCipher, 42),
            ("30 14 0100 000fac04 0100 000fac04 0100 000fac08 0000", RsnError::Akm, 43),
            ("30 0c 0100 000fac04 0100 000fac04", RsnError::Akm, 43),
            ("30 14 0100 000fac04 0100 000fac04 0100 000fac02 c000", RsnError::ManagementFrameProtection, 31),
        ];
        for (element, err, status) in cases {
            assert_eq!(check_station_rsn(&hex(element)), Err(err), "{element}");
            assert_eq!(err.status_code(), status);
        }
    }

    #[test]
    fn cut_or_mislabelled_elements_are_refused() {
        let good = rsn_element();
        for len in 0..good.len() {
            let mut cut = good[..len].to_vec();
            if len >= 2 {
                cut[1] = len as u8 - 2;
            }
            // Cut before the capabilities, the element is still whole (they default to 0).
            assert_eq!(check_station_rsn(&cut).is_ok(), len == 20, "length {len}");
        }
        assert_eq!(check_station_rsn(&good[..21]), Err(RsnError::Malformed), "length byte says 20");
        let mut wpa = good.to_vec();
        wpa[0] = 0xdd;
        assert_eq!(check_station_rsn(&wpa), Err(RsnError::Malformed));
        assert_eq!(check_station_rsn(&hex("30 08 0100 000fac04 0500")), Err(RsnError::Malformed));
    }
}
