//! EAPOL-Key frames of the 4-way handshake: a checked view of a received
//! frame and the writer of the authenticator's messages.
//!
//! 802.1X header (IEEE 802.1X-2010 11.3) then the RSN key descriptor of IEEE
//! 802.11-2016 12.7.2 (descriptor type 2, version 2: HMAC-SHA1 MIC, AES key
//! wrap). Written by hand: no maintained no_std crate carries this format.

use alloc::vec::Vec;

use subtle::ConstantTimeEq;

use super::keys::eapol_mic;

/// The 802.1X packet type of EAPOL-Key.
const TYPE_KEY: u8 = 3;
/// The 802.1X version we send (802.1X-2004, as hostapd does).
const VERSION: u8 = 2;
/// Descriptor type 2: the RSN key descriptor.
const DESCRIPTOR_RSN: u8 = 2;
/// 802.1X header (4) then the key descriptor's fixed fields (95).
const FIXED_LEN: usize = 99;
const MIC_AT: usize = 81;

/// Key Information bits (802.11-2016 Figure 12-33).
pub(crate) mod info {
    pub(crate) const VERSION_MASK: u16 = 0x0007;
    /// HMAC-SHA1-128 MIC, AES key wrap.
    pub(crate) const VERSION_2: u16 = 2;
    pub(crate) const PAIRWISE: u16 = 0x0008;
    pub(crate) const INSTALL: u16 = 0x0040;
    pub(crate) const ACK: u16 = 0x0080;
    pub(crate) const MIC: u16 = 0x0100;
    pub(crate) const SECURE: u16 = 0x0200;
    pub(crate) const REQUEST: u16 = 0x0800;
    pub(crate) const ENCRYPTED: u16 = 0x1000;
}

/// Why bytes are not an EAPOL-Key frame we can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// A well-formed EAPOL packet of another type (EAPOL-Start, EAP, ...).
    NotKey,
    /// Shorter than its headers or than the lengths it declares.
    Truncated,
    /// Not the RSN key descriptor, or not descriptor version 2.
    Descriptor,
}

/// A received EAPOL-Key frame, checked for length; fields are read on demand.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EapolKey<'a> {
    /// The 802.1X packet exactly (trailing padding cut), as the MIC covers it.
    frame: &'a [u8],
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

impl<'a> EapolKey<'a> {
    /// Checks the 802.1X and key descriptor headers and every length.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<EapolKey<'a>, ParseError> {
        if bytes.len() < 4 || !(1..=3).contains(&bytes[0]) {
            return Err(ParseError::Truncated);
        }
        if bytes[1] != TYPE_KEY {
            return Err(ParseError::NotKey);
        }
        let end = 4 + usize::from(be16(bytes, 2));
        let frame = bytes.get(..end).ok_or(ParseError::Truncated)?;
        if frame.len() < FIXED_LEN {
            return Err(ParseError::Truncated);
        }
        if frame[4] != DESCRIPTOR_RSN {
            return Err(ParseError::Descriptor);
        }
        let key = EapolKey { frame };
        if key.info() & info::VERSION_MASK != info::VERSION_2 {
            return Err(ParseError::Descriptor);
        }
        if FIXED_LEN + usize::from(be16(frame, 97)) > frame.len() {
            return Err(ParseError::Truncated);
        }
        Ok(key)
    }

    pub(crate) fn info(&self) -> u16 {
        be16(self.frame, 5)
    }

    pub(crate) fn replay_counter(&self) -> u64 {
        let mut c = [0u8; 8];
        c.copy_from_slice(&self.frame[9..17]);
        u64::from_be_bytes(c)
    }

    pub(crate) fn nonce(&self) -> [u8; 32] {
        let mut n = [0u8; 32];
        n.copy_from_slice(&self.frame[17..49]);
        n
    }

    pub(crate) fn key_data(&self) -> &'a [u8] {
        let len = usize::from(be16(self.frame, 97));
        &self.frame[FIXED_LEN..FIXED_LEN + len]
    }

    /// Recomputes the MIC under `kck` with the MIC field zeroed and compares
    /// in constant time.
    pub(crate) fn mic_valid(&self, kck: &[u8; 16]) -> bool {
        let mut zeroed = self.frame.to_vec();
        zeroed[MIC_AT..MIC_AT + 16].fill(0);
        let mic = eapol_mic(kck, &zeroed);
        mic.ct_eq(&self.frame[MIC_AT..MIC_AT + 16]).into()
    }
}

/// The fields of an EAPOL-Key frame to send.
pub(crate) struct KeyFrame<'a> {
    pub(crate) info: u16,
    pub(crate) key_length: u16,
    pub(crate) replay_counter: u64,
    pub(crate) nonce: &'a [u8; 32],
    /// Receive sequence counter of the key installed (the GTK's PN), LSB first.
    pub(crate) rsc: u64,
    pub(crate) key_data: &'a [u8],
}

impl KeyFrame<'_> {
    /// The whole 802.1X packet, its MIC computed under `kck` when the MIC bit is set.
    pub(crate) fn emit(&self, kck: Option<&[u8; 16]>) -> Vec<u8> {
        let body = FIXED_LEN - 4 + self.key_data.len();
        let mut f = Vec::with_capacity(FIXED_LEN + self.key_data.len());
        f.extend_from_slice(&[VERSION, TYPE_KEY]);
        f.extend_from_slice(&(body as u16).to_be_bytes());
        f.push(DESCRIPTOR_RSN);
        f.extend_from_slice(&self.info.to_be_bytes());
        f.extend_from_slice(&self.key_length.to_be_bytes());
        f.extend_from_slice(&self.replay_counter.to_be_bytes());
        f.extend_from_slice(self.nonce);
        f.extend_from_slice(&[0; 16]); // EAPOL-Key IV: zero for version 2
        f.extend_from_slice(&self.rsc.to_le_bytes());
        f.extend_from_slice(&[0; 8]); // reserved
        f.extend_from_slice(&[0; 16]); // MIC, filled in below
        f.extend_from_slice(&(self.key_data.len() as u16).to_be_bytes());
        f.extend_from_slice(self.key_data);
        if let (Some(kck), true) = (kck, self.info & info::MIC != 0) {
            let mic = eapol_mic(kck, &f);
            f[MIC_AT..MIC_AT + 16].copy_from_slice(&mic);
        }
        f
    }
}

/// The first information element `id` in `data` (a sequence of elements and
/// KDEs), header included; `None` if absent or cut short.
pub(crate) fn find_element(mut data: &[u8], id: u8) -> Option<&[u8]> {
    while data.len() >= 2 {
        let len = 2 + usize::from(data[1]);
        let element = data.get(..len)?;
        if element[0] == id {
            return Some(element);
        }
        data = &data[len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: [u8; 32] = [0x5a; 32];

    fn message(info: u16, data: &[u8]) -> Vec<u8> {
        KeyFrame {
            info,
            key_length: 16,
            replay_counter: 0x0102_0304_0506_0708,
            nonce: &NONCE,
            rsc: 0x0a0b,
            key_data: data,
        }
        .emit(Some(&[9; 16]))
    }

    #[test]
    fn emitted_message_has_the_descriptor_layout() {
        let f = message(info::VERSION_2 | info::PAIRWISE | info::ACK, &[0xdd, 0]);
        assert_eq!(f.len(), 99 + 2);
        assert_eq!(f[..9], [2, 3, 0, 97, 2, 0x00, 0x8a, 0, 16]);
        assert_eq!(f[9..17], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(f[17..49], NONCE);
        assert_eq!(f[49..65], [0; 16]);
        assert_eq!(f[65..73], [0x0b, 0x0a, 0, 0, 0, 0, 0, 0]);
        assert_eq!(f[73..97], [0; 24], "no MIC without the MIC bit");
        assert_eq!(f[97..], [0, 2, 0xdd, 0]);
    }

    #[test]
    fn parse_reads_back_what_emit_wrote() {
        let f = message(info::VERSION_2 | info::PAIRWISE | info::MIC, b"\x30\x02\x01\x00");
        let key = EapolKey::parse(&f).unwrap();
        assert_eq!(key.info(), 0x010a);
        assert_eq!(key.replay_counter(), 0x0102_0304_0506_0708);
        assert_eq!(key.nonce(), NONCE);
        assert_eq!(key.key_data(), b"\x30\x02\x01\x00");
        assert!(key.mic_valid(&[9; 16]));
        assert!(!key.mic_valid(&[8; 16]));
    }

    #[test]
    fn mic_covers_every_byte() {
        let f = message(info::VERSION_2 | info::PAIRWISE | info::MIC, b"\x30\x00");
        for i in (0..f.len()).filter(|i| !(MIC_AT..MIC_AT + 16).contains(i)) {
            let mut bad = f.clone();
            bad[i] ^= 0x01;
            if let Ok(key) = EapolKey::parse(&bad) {
                assert!(!key.mic_valid(&[9; 16]), "byte {i} not covered");
            }
        }
    }

    #[test]
    fn parse_ignores_trailing_padding_but_not_missing_bytes() {
        let mut f = message(info::VERSION_2 | info::MIC, b"abcd");
        f.extend_from_slice(&[0; 10]);
        let key = EapolKey::parse(&f).unwrap();
        assert_eq!(key.key_data(), b"abcd");
        assert!(key.mic_valid(&[9; 16]));
        for len in 0..99 + 4 {
            assert_eq!(EapolKey::parse(&f[..len]).unwrap_err(), ParseError::Truncated, "length {len}");
        }
    }

    #[test]
    fn parse_rejects_key_data_longer_than_the_body() {
        let mut f = message(info::VERSION_2, b"abcd");
        f[98] = 5;
        assert_eq!(EapolKey::parse(&f).unwrap_err(), ParseError::Truncated);
    }

    #[test]
    fn parse_sorts_out_other_packets_and_descriptors() {
        assert_eq!(EapolKey::parse(&[2, 1, 0, 0]).unwrap_err(), ParseError::NotKey, "EAPOL-Start");
        assert_eq!(EapolKey::parse(&[2, 0, 0, 5, 1, 1, 0, 5, 1]).unwrap_err(), ParseError::NotKey, "EAP");
        assert_eq!(EapolKey::parse(&[0, 3, 0, 0]).unwrap_err(), ParseError::Truncated, "version 0");
        let mut wpa1 = message(info::VERSION_2, b"");
        wpa1[4] = 254;
        assert_eq!(EapolKey::parse(&wpa1).unwrap_err(), ParseError::Descriptor);
        let tkip = message(1 | info::PAIRWISE, b"");
        assert_eq!(EapolKey::parse(&tkip).unwrap_err(), ParseError::Descriptor);
        let mut v1 = message(info::VERSION_2, b"");
        v1[0] = 1;
        assert!(EapolKey::parse(&v1).is_ok(), "802.1X-2001 supplicants answer with version 1");
    }

    #[test]
    fn find_element_walks_elements_and_stops_at_a_cut() {
        let data = [0xdd, 2, 1, 2, 0x30, 3, 7, 8, 9, 0x30, 1];
        assert_eq!(find_element(&data, 0x30), Some(&data[4..9]));
        assert_eq!(find_element(&data, 0xdd), Some(&data[..4]));
        assert_eq!(find_element(&data, 0x2a), None);
        assert_eq!(find_element(&data[..8], 0x30), None);
        assert_eq!(find_element(&[], 0x30), None);
    }
}
