//! WPA2-Personal key hierarchy: the PMK from the passphrase, the PTK from the
//! 4-way handshake's nonces, the EAPOL-Key MIC and the AES key wrap of the GTK.
//!
//! IEEE 802.11-2016 12.7.1.2 (PRF), 12.7.1.3 (pairwise key hierarchy) and J.4
//! (passphrase to PSK). The primitives are RustCrypto's (`pbkdf2`, `hmac`,
//! `sha1`, `aes-kw`); only the PRF's counter loop is written here, no crate has it.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use aes_kw::KekAes128;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// Rounds of PBKDF2-SHA1 that turn a passphrase into the PSK (802.11 J.4.1).
const PBKDF2_ROUNDS: u32 = 4096;

/// The pairwise master key of a WPA2-Personal network, derived once at boot:
/// 4096 rounds of PBKDF2 take long enough that no handshake should wait on it.
#[derive(Clone)]
pub struct Psk {
    pmk: [u8; 32],
}

/// Why a passphrase cannot make a PSK; the configuration that holds it is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassphraseError {
    /// A passphrase has 8 to 63 characters (802.11 J.4.1).
    Length,
    /// Only printable ASCII (32..=126) is allowed, so every phone types the same bytes.
    NotPrintable,
    /// An SSID has 1 to 32 octets.
    SsidLength,
}

impl Psk {
    /// Derives the PSK from a passphrase and the SSID it salts, as every
    /// station does from what the user typed (PBKDF2-SHA1, 4096 rounds).
    pub fn from_passphrase(passphrase: &str, ssid: &[u8]) -> Result<Psk, PassphraseError> {
        if !(8..=63).contains(&passphrase.len()) {
            return Err(PassphraseError::Length);
        }
        if !passphrase.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(PassphraseError::NotPrintable);
        }
        if !(1..=32).contains(&ssid.len()) {
            return Err(PassphraseError::SsidLength);
        }
        let pmk = pbkdf2::pbkdf2_hmac_array::<Sha1, 32>(passphrase.as_bytes(), ssid, PBKDF2_ROUNDS);
        Ok(Psk { pmk })
    }

    pub(crate) fn pmk(&self) -> &[u8; 32] {
        &self.pmk
    }
}

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Psk(..)")
    }
}

fn hmac_sha1(key: &[u8]) -> HmacSha1 {
    // HMAC takes keys of any length (longer ones are hashed first), so
    // `new_from_slice` has no failing case.
    match HmacSha1::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts every key length"),
    }
}

/// PRF-n of 802.11 12.7.1.2: HMAC-SHA1(K, label || 0 || data || i) for
/// i = 0, 1, ..., concatenated and cut to `out.len()` bytes.
pub(crate) fn prf_sha1(key: &[u8], label: &[u8], data: &[u8], out: &mut [u8]) {
    for (i, chunk) in out.chunks_mut(20).enumerate() {
        let mut mac = hmac_sha1(key);
        mac.update(label);
        mac.update(&[0]);
        mac.update(data);
        mac.update(&[i as u8]);
        let block = mac.finalize().into_bytes();
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
}

/// The pairwise transient key of one association: KCK authenticates
/// EAPOL-Key frames, KEK wraps the GTK, TK is the CCMP key.
#[derive(Clone)]
pub(crate) struct Ptk {
    pub(crate) kck: [u8; 16],
    pub(crate) kek: [u8; 16],
    pub(crate) tk: [u8; 16],
}

impl Ptk {
    /// PTK = PRF-384(PMK, "Pairwise key expansion", Min(AA,SPA) || Max(AA,SPA)
    /// || Min(ANonce,SNonce) || Max(ANonce,SNonce)), CCMP-128 sizes.
    pub(crate) fn derive(pmk: &[u8; 32], aa: &[u8; 6], spa: &[u8; 6], anonce: &[u8; 32], snonce: &[u8; 32]) -> Ptk {
        let mut data = [0u8; 6 + 6 + 32 + 32];
        let (a_lo, a_hi) = if aa <= spa { (aa, spa) } else { (spa, aa) };
        let (n_lo, n_hi) = if anonce <= snonce { (anonce, snonce) } else { (snonce, anonce) };
        data[..6].copy_from_slice(a_lo);
        data[6..12].copy_from_slice(a_hi);
        data[12..44].copy_from_slice(n_lo);
        data[44..].copy_from_slice(n_hi);
        let mut ptk = [0u8; 48];
        prf_sha1(pmk, b"Pairwise key expansion", &data, &mut ptk);
        let mut out = Ptk { kck: [0; 16], kek: [0; 16], tk: [0; 16] };
        out.kck.copy_from_slice(&ptk[..16]);
        out.kek.copy_from_slice(&ptk[16..32]);
        out.tk.copy_from_slice(&ptk[32..]);
        out
    }
}

/// The MIC of key descriptor version 2: HMAC-SHA1 over the whole EAPOL frame
/// (MIC field zeroed), first 16 bytes.
pub(crate) fn eapol_mic(kck: &[u8; 16], frame: &[u8]) -> [u8; 16] {
    let mut mac = hmac_sha1(kck);
    mac.update(frame);
    let full = mac.finalize().into_bytes();
    let mut mic = [0u8; 16];
    mic.copy_from_slice(&full[..16]);
    mic
}

/// Pads key data as 802.11-2016 12.7.2 asks (0xdd, then zeros, to a multiple
/// of 8 and at least 16 bytes) and wraps it under the KEK (RFC 3394).
pub(crate) fn wrap(kek: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut padded = data.to_vec();
    if !padded.len().is_multiple_of(8) || padded.len() < 16 {
        padded.push(0xdd);
        while !padded.len().is_multiple_of(8) || padded.len() < 16 {
            padded.push(0);
        }
    }
    let mut out = vec![0u8; padded.len() + 8];
    match KekAes128::from(*kek).wrap(&padded, &mut out) {
        Ok(()) => out,
        Err(_) => unreachable!("padded to whole semiblocks, at least two, with room for the IV"),
    }
}

/// The inverse of [`wrap`]; `None` if the integrity check fails.
#[cfg(test)]
pub(crate) fn unwrap(kek: &[u8; 16], data: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; data.len().checked_sub(8)?];
    KekAes128::from(*kek).unwrap(data, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsn::testutil::hex;

    #[test]
    fn passphrase_ieee_gives_annex_psk() {
        let psk = Psk::from_passphrase("password", b"IEEE").unwrap();
        assert_eq!(psk.pmk().to_vec(), hex("f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"));
    }

    #[test]
    fn passphrase_this_is_a_password_gives_annex_psk() {
        let psk = Psk::from_passphrase("ThisIsAPassword", b"ThisIsASSID").unwrap();
        assert_eq!(psk.pmk().to_vec(), hex("0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"));
    }

    #[test]
    fn passphrase_of_32_a_gives_annex_psk() {
        let psk =
            Psk::from_passphrase("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", b"ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ").unwrap();
        assert_eq!(psk.pmk().to_vec(), hex("becb93866bb8c3832cb777c2f559807c8c59afcb6eae734885001300a981cc62"));
    }

    #[test]
    fn passphrase_out_of_bounds_is_refused() {
        assert_eq!(Psk::from_passphrase("1234567", b"x").unwrap_err(), PassphraseError::Length);
        let long = "a".repeat(64);
        assert_eq!(Psk::from_passphrase(&long, b"x").unwrap_err(), PassphraseError::Length);
        assert_eq!(Psk::from_passphrase("caf\u{e9}caf\u{e9}", b"x").unwrap_err(), PassphraseError::NotPrintable);
        assert_eq!(Psk::from_passphrase("tab\there!", b"x").unwrap_err(), PassphraseError::NotPrintable);
        assert_eq!(Psk::from_passphrase("12345678", b"").unwrap_err(), PassphraseError::SsidLength);
        assert_eq!(Psk::from_passphrase("12345678", &[b'x'; 33]).unwrap_err(), PassphraseError::SsidLength);
        assert!(Psk::from_passphrase(&"~".repeat(63), &[b'x'; 32]).is_ok());
    }

    #[test]
    fn psk_debug_hides_the_key() {
        let psk = Psk::from_passphrase("password", b"IEEE").unwrap();
        assert_eq!(alloc::format!("{psk:?}"), "Psk(..)");
    }

    // PRF test vectors of IEEE 802.11 (as in hostapd's crypto module tests).
    #[test]
    fn prf_hi_there_matches_vector() {
        let mut out = [0u8; 64];
        prf_sha1(&[0x0b; 20], b"prefix", b"Hi There", &mut out);
        assert_eq!(
            out.to_vec(),
            hex("bcd4c650b30b9684951829e0d75f9d54b862175ed9f00606e17d8da35402ffee
                 75df78c3d31e0f889f012120c0862beb67753e7439ae242edb8373698356cf5a")
        );
    }

    #[test]
    fn prf_jefe_matches_vector() {
        let mut out = [0u8; 64];
        prf_sha1(b"Jefe", b"prefix", b"what do ya want for nothing?", &mut out);
        assert_eq!(
            out.to_vec(),
            hex("51f4de5b33f249adf81aeb713a3c20f4fe631446fabdfa58244759ae58ef9009
                 a99abf4eac2ca5fa87e692c440eb40023e7babb206d61de7b92f41529092b8fc")
        );
    }

    #[test]
    fn prf_dd_matches_vector() {
        let mut out = [0u8; 64];
        prf_sha1(&[0xaa; 20], b"prefix", &[0xdd; 50], &mut out);
        assert_eq!(
            out.to_vec(),
            hex("e1ac546ec4cb636f9976487be5c86be17a0252ca5d8d8df12cfb0473525249ce
                 9dd8d177ead710bc9b5905472391 07aef7b4abd43d87f0a68f1cbd9e2b6f7607")
        );
    }

    #[test]
    fn prf_short_output_is_prefix_of_long() {
        let mut long = [0u8; 48];
        let mut short = [0u8; 30];
        prf_sha1(b"key", b"label", b"data", &mut long);
        prf_sha1(b"key", b"label", b"data", &mut short);
        assert_eq!(short[..], long[..30]);
    }

    #[test]
    fn ptk_does_not_depend_on_argument_order() {
        let pmk = [7u8; 32];
        let (a, s) = ([2u8, 0, 0, 0, 0, 1], [2u8, 0, 0, 0, 0, 2]);
        let (n1, n2) = ([1u8; 32], [9u8; 32]);
        let one = Ptk::derive(&pmk, &a, &s, &n1, &n2);
        let two = Ptk::derive(&pmk, &s, &a, &n2, &n1);
        assert_eq!((one.kck, one.kek, one.tk), (two.kck, two.kek, two.tk));
        let mut data = Vec::new();
        data.extend_from_slice(&a);
        data.extend_from_slice(&s);
        data.extend_from_slice(&n1);
        data.extend_from_slice(&n2);
        let mut raw = [0u8; 48];
        prf_sha1(&pmk, b"Pairwise key expansion", &data, &mut raw);
        assert_eq!(raw[..16], one.kck);
        assert_eq!(raw[16..32], one.kek);
        assert_eq!(raw[32..], one.tk);
    }

    #[test]
    fn key_wrap_matches_rfc3394_4_1() {
        let kek: [u8; 16] = core::array::from_fn(|i| i as u8);
        let plain = hex("00112233445566778899aabbccddeeff");
        let wrapped = wrap(&kek, &plain);
        assert_eq!(wrapped, hex("1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"));
        assert_eq!(unwrap(&kek, &wrapped).unwrap(), plain);
    }

    #[test]
    fn key_wrap_pads_short_and_ragged_key_data() {
        let kek = [1u8; 16];
        assert_eq!(unwrap(&kek, &wrap(&kek, &[7; 46])).unwrap(), [&[7u8; 46][..], &[0xdd, 0]].concat());
        assert_eq!(unwrap(&kek, &wrap(&kek, &[7; 8])).unwrap(), [&[7u8; 8][..], &[0xdd, 0, 0, 0, 0, 0, 0, 0]].concat());
        assert_eq!(unwrap(&kek, &wrap(&kek, &[7; 24])).unwrap(), [7u8; 24]);
    }

    #[test]
    fn key_unwrap_detects_a_changed_byte() {
        let kek = [1u8; 16];
        let mut wrapped = wrap(&kek, &[5u8; 24]);
        wrapped[3] ^= 1;
        assert!(unwrap(&kek, &wrapped).is_none());
    }
}
