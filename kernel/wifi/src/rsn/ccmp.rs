//! CCMP: AES-CCM protection of 802.11 frames with the pairwise key (TK) or the
//! group key (GTK), 8-byte MIC, 48-bit packet numbers and replay counters.
//!
//! Nonce, AAD and CCMP header follow IEEE 802.11-2016 12.5.3.3 (the masking
//! rules as hostapd's wlantest applies them); AES-CCM itself is RustCrypto's
//! `ccm` over `aes`. Only frame layout and replay state are written here.

use alloc::vec::Vec;
use core::fmt;

use aes::Aes128;
use ccm::aead::generic_array::GenericArray;
use ccm::aead::{AeadInPlace, KeyInit};
use ccm::consts::{U13, U8};
use ccm::Ccm;
use rand_core::RngCore;

type Aes128Ccm8 = Ccm<Aes128, U8, U13>;

/// CCMP header (8) and MIC (8) around the encrypted payload.
const CCMP_HEADER: usize = 8;
const MIC_LEN: usize = 8;
/// Frame control, second byte.
const FC1_TO_DS: u8 = 0x01;
const FC1_FROM_DS: u8 = 0x02;
const FC1_RETRY: u8 = 0x08;
const FC1_PWR_MGT: u8 = 0x10;
const FC1_MORE_DATA: u8 = 0x20;
const FC1_PROTECTED: u8 = 0x40;
const FC1_ORDER: u8 = 0x80;
/// CCMP header byte 3: the Extended IV bit (always set for CCMP) and key id.
const EXT_IV: u8 = 0x20;
/// Replay counters: one per TID (non-QoS data shares TID 0's, as mac80211
/// does), one for robust management frames.
const RX_COUNTERS: usize = 17;
const MGMT_COUNTER: usize = 16;
/// The largest packet number (48 bits).
const PN_MAX: u64 = (1 << 48) - 1;

/// Why a received frame was dropped by [`PairwiseKey::unprotect`]; each is
/// counted by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcmpError {
    /// Shorter than its MAC header, CCMP header and MIC.
    Truncated,
    /// The Protected bit is clear (or a control frame, which is never protected).
    NotProtected,
    /// Protected, but without the Extended IV bit: WEP or TKIP, not CCMP.
    ExtIv,
    /// Protected with a key id this key does not have.
    KeyId,
    /// Its packet number is not above the last one accepted for its TID.
    Replay,
    /// Forged, damaged, or protected with another key.
    Mic,
}

/// What the AAD and nonce need from a MAC header.
struct Header {
    len: usize,
    data: bool,
    mgmt: bool,
    addr4: bool,
    qos: Option<u8>,
}

fn byte(buf: &[u8], i: usize) -> u8 {
    buf.get(i).copied().unwrap_or(0)
}

impl Header {
    /// Reads the frame control field; `None` for control and extension frames.
    fn parse(frame: &[u8]) -> Option<Header> {
        let (fc0, fc1) = (byte(frame, 0), byte(frame, 1));
        let kind = (fc0 >> 2) & 3;
        let (data, mgmt) = (kind == 2, kind == 0);
        if !data && !mgmt {
            return None;
        }
        let addr4 = data && fc1 & (FC1_TO_DS | FC1_FROM_DS) == FC1_TO_DS | FC1_FROM_DS;
        let is_qos = data && fc0 & 0x80 != 0;
        let mut len = 24 + if addr4 { 6 } else { 0 };
        let qos = if is_qos {
            let tid = byte(frame, len) & 0x0f;
            len += 2;
            Some(tid)
        } else {
            None
        };
        // An HT Control field follows in QoS data and management frames with Order set.
        if fc1 & FC1_ORDER != 0 && (is_qos || mgmt) {
            len += 4;
        }
        Some(Header { len, data, mgmt, addr4, qos })
    }

    /// Which replay counter a received frame is checked against.
    fn counter(&self) -> usize {
        match (self.mgmt, self.qos) {
            (true, _) => MGMT_COUNTER,
            (false, Some(tid)) => usize::from(tid),
            (false, None) => 0,
        }
    }
}

/// AAD (at most 30 bytes) and nonce of 802.11-2016 12.5.3.3.3 and 12.5.3.3.4.
fn aad_and_nonce(frame: &[u8], h: &Header, pn: u64) -> ([u8; 30], usize, [u8; 13]) {
    let mut aad = [0u8; 30];
    let mut fc0 = byte(frame, 0);
    if h.data {
        fc0 &= !0x70; // subtype bits 4-6; the QoS bit stays
    }
    let mut fc1 = (byte(frame, 1) & !(FC1_RETRY | FC1_PWR_MGT | FC1_MORE_DATA)) | FC1_PROTECTED;
    if h.qos.is_some() {
        fc1 &= !FC1_ORDER;
    }
    aad[0] = fc0;
    aad[1] = fc1;
    for i in 0..18 {
        aad[2 + i] = byte(frame, 4 + i); // A1, A2, A3
    }
    aad[20] = byte(frame, 22) & 0x0f; // fragment number; sequence number masked
    let mut n = 22;
    if h.addr4 {
        for i in 0..6 {
            aad[n + i] = byte(frame, 24 + i);
        }
        n += 6;
    }
    if let Some(tid) = h.qos {
        // TID only: EOSP, ack policy, A-MSDU present (no SPP A-MSDU) and the
        // upper byte are masked.
        aad[n] = tid;
        n += 2;
    }
    let mut nonce = [0u8; 13];
    nonce[0] = h.qos.unwrap_or(0) | if h.mgmt { 0x10 } else { 0 };
    for i in 0..6 {
        nonce[1 + i] = byte(frame, 10 + i); // A2
    }
    nonce[7..].copy_from_slice(&pn.to_be_bytes()[2..]);
    (aad, n, nonce)
}

/// One CCMP key with its transmit packet number and receive replay counters.
struct Ccmp {
    cipher: Aes128Ccm8,
    key_id: u8,
    tx_pn: u64,
    rx_pn: [u64; RX_COUNTERS],
}

impl Ccmp {
    fn new(key: [u8; 16], key_id: u8) -> Ccmp {
        Ccmp { cipher: Aes128Ccm8::new(&GenericArray::from(key)), key_id, tx_pn: 0, rx_pn: [0; RX_COUNTERS] }
    }

    fn protect(&mut self, header: &[u8], payload: &[u8]) -> Vec<u8> {
        // 2^48 frames: a frame every microsecond for 8.9 years. Past that the
        // key must be replaced (a new handshake); never reuse a nonce.
        if self.tx_pn >= PN_MAX {
            return Vec::new();
        }
        self.tx_pn += 1;
        let pn = self.tx_pn.to_le_bytes();
        let mut out = Vec::with_capacity(header.len() + CCMP_HEADER + payload.len() + MIC_LEN);
        out.extend_from_slice(header);
        if let Some(fc1) = out.get_mut(1) {
            *fc1 |= FC1_PROTECTED;
        }
        out.extend_from_slice(&[pn[0], pn[1], 0, (self.key_id << 6) | EXT_IV, pn[2], pn[3], pn[4], pn[5]]);
        let body = out.len();
        out.extend_from_slice(payload);
        // The header passed in is ours, so its length is taken as given; the
        // AAD reads from it with bounds checks.
        let h = Header::parse(header).unwrap_or(Header {
            len: header.len(),
            data: true,
            mgmt: false,
            addr4: false,
            qos: None,
        });
        let (aad, aad_len, nonce) = aad_and_nonce(header, &h, self.tx_pn);
        match self.cipher.encrypt_in_place_detached(&GenericArray::from(nonce), &aad[..aad_len], &mut out[body..]) {
            Ok(tag) => out.extend_from_slice(&tag),
            // Only a payload over CCM's 65535-byte limit; no 802.11 frame is.
            Err(_) => return Vec::new(),
        }
        out
    }

    fn unprotect(&mut self, frame: &[u8]) -> Result<Vec<u8>, CcmpError> {
        if frame.len() < 24 {
            return Err(CcmpError::Truncated);
        }
        if byte(frame, 1) & FC1_PROTECTED == 0 {
            return Err(CcmpError::NotProtected);
        }
        let h = Header::parse(frame).ok_or(CcmpError::NotProtected)?;
        let (head, rest) = frame.split_at_checked(h.len).ok_or(CcmpError::Truncated)?;
        if rest.len() < CCMP_HEADER + MIC_LEN {
            return Err(CcmpError::Truncated);
        }
        let (ccmp, rest) = rest.split_at(CCMP_HEADER);
        let (ciphertext, mic) = rest.split_at(rest.len() - MIC_LEN);
        if ccmp[3] & EXT_IV == 0 {
            return Err(CcmpError::ExtIv);
        }
        if ccmp[3] >> 6 != self.key_id {
            return Err(CcmpError::KeyId);
        }
        let pn = u64::from_le_bytes([ccmp[0], ccmp[1], ccmp[4], ccmp[5], ccmp[6], ccmp[7], 0, 0]);
        let counter = h.counter();
        if pn <= self.rx_pn[counter] {
            return Err(CcmpError::Replay);
        }
        let (aad, aad_len, nonce) = aad_and_nonce(frame, &h, pn);
        let mut tag = [0u8; MIC_LEN];
        tag.copy_from_slice(mic);
        let mut out = Vec::with_capacity(head.len() + ciphertext.len());
        out.extend_from_slice(head);
        out.extend_from_slice(ciphertext);
        self.cipher
            .decrypt_in_place_detached(
                &GenericArray::from(nonce),
                &aad[..aad_len],
                &mut out[head.len()..],
                &GenericArray::from(tag),
            )
            .map_err(|_| CcmpError::Mic)?;
        self.rx_pn[counter] = pn;
        out[1] &= !FC1_PROTECTED;
        Ok(out)
    }
}

/// The TK of one associated station, installed when its 4-way handshake
/// completes: protects what the AP sends it and checks what it sends.
pub struct PairwiseKey {
    ccmp: Ccmp,
}

impl PairwiseKey {
    /// A pairwise key from a TK agreed elsewhere than [`super::Authenticator`]:
    /// the station side of tests, and later key agreements (OWE).
    pub fn from_tk(tk: [u8; 16]) -> PairwiseKey {
        PairwiseKey { ccmp: Ccmp::new(tk, 0) }
    }

    /// Protects one MPDU to the station. `header` is its plain MAC header
    /// (24, 26, 30 or 32 bytes); returns the whole frame: header with the
    /// Protected bit, CCMP header, ciphertext, MIC. The packet number starts
    /// at 1 and rises by one per frame. Empty only past 2^48 frames or for a
    /// payload over 65535 bytes, which no 802.11 frame reaches.
    pub fn protect(&mut self, header: &[u8], payload: &[u8]) -> Vec<u8> {
        self.ccmp.protect(header, payload)
    }

    /// Checks and decrypts one MPDU from the station; returns it as if sent
    /// unprotected: its MAC header with the Protected bit cleared, then the
    /// plaintext (CCMP header and MIC removed). A frame that fails any check
    /// leaves the replay counters as they were.
    pub fn unprotect(&mut self, frame: &[u8]) -> Result<Vec<u8>, CcmpError> {
        self.ccmp.unprotect(frame)
    }
}

impl fmt::Debug for PairwiseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairwiseKey").field("tx_pn", &self.ccmp.tx_pn).finish_non_exhaustive()
    }
}

/// The GTK of the network: protects what the AP sends to every station
/// (broadcast and multicast); handed to each station in message 3.
pub struct GroupKey {
    gtk: [u8; 16],
    ccmp: Ccmp,
}

/// The key id of the GTK (0 is the pairwise key's).
const GTK_KEY_ID: u8 = 1;

impl GroupKey {
    /// A fresh random GTK, made once when the access point starts.
    pub fn new(rng: &mut dyn RngCore) -> GroupKey {
        let mut gtk = [0u8; 16];
        rng.fill_bytes(&mut gtk);
        GroupKey { gtk, ccmp: Ccmp::new(gtk, GTK_KEY_ID) }
    }

    /// Protects one group-addressed MPDU; the frame layout and packet numbers
    /// are those of [`PairwiseKey::protect`].
    pub fn protect(&mut self, header: &[u8], payload: &[u8]) -> Vec<u8> {
        self.ccmp.protect(header, payload)
    }

    pub(crate) fn gtk(&self) -> &[u8; 16] {
        &self.gtk
    }

    pub(crate) fn key_id(&self) -> u8 {
        self.ccmp.key_id
    }

    /// The last packet number sent: a station that joins now accepts only
    /// group frames above it (the RSC of message 3).
    pub(crate) fn last_pn(&self) -> u64 {
        self.ccmp.tx_pn
    }
}

impl fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupKey")
            .field("key_id", &self.ccmp.key_id)
            .field("tx_pn", &self.ccmp.tx_pn)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsn::testutil::{hex, SeqRng};

    fn key(s: &str) -> [u8; 16] {
        hex(s).try_into().unwrap()
    }

    /// One vector: TK, key id, PN, plain MAC header, plaintext, protected MPDU (no FCS).
    fn check_vector(tk: &str, key_id: u8, pn: u64, header: &str, plain: &str, protected: &str) {
        let (header, plain, protected) = (hex(header), hex(plain), hex(protected));
        let mut tx = Ccmp::new(key(tk), key_id);
        tx.tx_pn = pn - 1;
        assert_eq!(tx.protect(&header, &plain), protected);
        let mut rx = Ccmp::new(key(tk), key_id);
        let mut expected = header.clone();
        expected.extend_from_slice(&plain);
        expected[1] &= !FC1_PROTECTED;
        assert_eq!(rx.unprotect(&protected).unwrap(), expected);
    }

    // IEEE 802.11-2016 J.6.4 (802.11i D7.0 I.7.4, MPDU 1): non-QoS data, Retry set.
    #[test]
    fn ccmp_matches_802_11_annex_vector() {
        check_vector(
            "c97c1f67ce371185514a8a19f2bdd52f",
            0,
            0xB5039776E70C,
            "08 48 c3 2c 0f d2 e1 28 a5 7c 50 30 f1 84 44 08 ab ae a5 b8 fc ba 80 33",
            "f8 ba 1a 55 d0 2f 85 ae 96 7b b6 2f b6 cd a8 eb 7e 78 a0 50",
            "08 48 c3 2c 0f d2 e1 28 a5 7c 50 30 f1 84 44 08 ab ae a5 b8 fc ba 80 33
             0c e7 00 20 76 97 03 b5 f3 d0 a2 fe 9a 3d bf 23 42 a6 43 e4 32 46 e8 0c
             3c 04 d0 19 78 45 ce 0b 16 f9 76 23",
        );
    }

    // 802.11i D7.0 I.7.4 MPDU 2: Data+CF-Ack+CF-Poll, Order set (kept: not QoS), key id 2.
    #[test]
    fn ccmp_masks_subtype_and_keeps_order_of_non_qos_data() {
        check_vector(
            "8f7a053fa577a559752927 2097a603d5",
            2,
            0x31F3CBBA97EA,
            "38 c0 6a 51 ea 10 0c 84 68 50 ee c1 76 2c 88 de af 2e e9 f4 6a 07 e0 cc",
            "83 a0 63 4b 5e d7 62 7e b9 df 22 5e 05 74 03 42 de 19 41 17",
            "38 c0 6a 51 ea 10 0c 84 68 50 ee c1 76 2c 88 de af 2e e9 f4 6a 07 e0 cc
             ea 97 00 a0 ba cb f3 31 81 4b 69 65 d0 5b f2 b2 ed 38 d4 be b0 69 fe 82
             71 4a 61 0b 54 2f bf 8d a0 6a a4 ae",
        );
    }

    // 802.11i D7.0 I.7.4 MPDU 6: QoS data from the DS, TID 13, PwrMgt set, key id 1.
    #[test]
    fn ccmp_qos_tid_goes_into_nonce_and_aad() {
        check_vector(
            "f71eea4e1f58804b9717230ad0614641",
            1,
            0x6B81ECA48989,
            "88 52 e1 1f 5a f2 84 30 fd ab bf f9 43 b9 f9 a6 ab 1d 98 c7 fe 73 50 71 3d 6a",
            "ab fd a2 2d 3a 0b fc 9c c1 fc 07 93 63 c2 fc a1 43 e6 eb 1d",
            "88 52 e1 1f 5a f2 84 30 fd ab bf f9 43 b9 f9 a6 ab 1d 98 c7 fe 73 50 71 3d 6a
             89 89 00 60 a4 ec 81 6b 9a 70 9b 60 a3 9d 40 b1 df b6 12 e1 8b 5f 11 4b
             ad b6 cc 86 30 9a 8d 5c 46 6b bb 71",
        );
    }

    // 802.11i D7.0 I.7.4 MPDU 7: Data+CF-Ack to the DS, Retry, PwrMgt and MoreData set, key id 3.
    #[test]
    fn ccmp_masks_retry_pwrmgt_and_more_data() {
        check_vector(
            "1bdb34980e038124a1db1a892bec366a",
            3,
            0x5EEC4073E723,
            "18 79 81 46 9b 50 f4 fd 56 f6 ef ec 95 20 16 91 83 57 0c 4c cd ee 20 a0",
            "98 be ca 86 f4 b3 8d a2 0c fd f2 47 24 c5 8e b8 35 66 53 39",
            "18 79 81 46 9b 50 f4 fd 56 f6 ef ec 95 20 16 91 83 57 0c 4c cd ee 20 a0
             23 e7 00 e0 73 40 ec 5e 12 c5 37 eb f3 ab 58 4e f1 fe f9 a1 f3 54 7a 8c
             13 b3 22 5a 2d 09 57 ec fa be 95 b9",
        );
    }

    const TK: [u8; 16] = [0x42; 16];
    /// Data to the DS: A1 = AP (BSSID), A2 = station, A3 = destination.
    const TO_AP: [u8; 24] =
        [0x08, 0x01, 0, 0, 2, 0, 0, 0, 0, 0xaa, 2, 0, 0, 0, 0, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10, 0];

    fn qos_header(tid: u8) -> Vec<u8> {
        let mut h = TO_AP.to_vec();
        h[0] = 0x88;
        h.extend_from_slice(&[tid, 0]);
        h
    }

    #[test]
    fn protect_numbers_frames_from_one_and_sets_protected() {
        let mut key = PairwiseKey::from_tk(TK);
        let one = key.protect(&TO_AP, b"hello");
        let two = key.protect(&TO_AP, b"hello");
        assert_eq!(one[1], 0x41);
        assert_eq!(one[24..32], [1, 0, 0, 0x20, 0, 0, 0, 0]);
        assert_eq!(two[24..32], [2, 0, 0, 0x20, 0, 0, 0, 0]);
        assert_eq!(one.len(), 24 + 8 + 5 + 8);
        assert_ne!(one[32..], two[32..]);
    }

    #[test]
    fn unprotect_round_trips_every_header_shape() {
        let mut addr4 = TO_AP.to_vec();
        addr4[1] = 0x03;
        addr4.extend_from_slice(&[2, 0, 0, 0, 0, 0x77]);
        let mut addr4_qos = addr4.clone();
        addr4_qos[0] = 0x88;
        addr4_qos.extend_from_slice(&[5, 0]);
        for header in [TO_AP.to_vec(), qos_header(3), addr4, addr4_qos] {
            let mut tx = PairwiseKey::from_tk(TK);
            let mut rx = PairwiseKey::from_tk(TK);
            let frame = tx.protect(&header, b"payload of some length");
            let plain = rx.unprotect(&frame).unwrap();
            assert_eq!(plain[..header.len()], header[..]);
            assert_eq!(&plain[header.len()..], b"payload of some length");
        }
    }

    #[test]
    fn unprotect_ignores_retry_and_power_management_bits() {
        let mut tx = PairwiseKey::from_tk(TK);
        let mut rx = PairwiseKey::from_tk(TK);
        let mut frame = tx.protect(&TO_AP, b"data");
        frame[1] |= FC1_RETRY | FC1_PWR_MGT | FC1_MORE_DATA;
        frame[22] = 0x70; // another sequence number, same fragment
        assert!(rx.unprotect(&frame).is_ok());
    }

    #[test]
    fn unprotect_rejects_a_replayed_packet_number() {
        let mut tx = PairwiseKey::from_tk(TK);
        let mut rx = PairwiseKey::from_tk(TK);
        let (f1, f2, f3) = (tx.protect(&TO_AP, b"a"), tx.protect(&TO_AP, b"b"), tx.protect(&TO_AP, b"c"));
        assert!(rx.unprotect(&f1).is_ok());
        assert_eq!(rx.unprotect(&f1), Err(CcmpError::Replay));
        assert!(rx.unprotect(&f3).is_ok());
        assert_eq!(rx.unprotect(&f2), Err(CcmpError::Replay));
        assert_eq!(rx.unprotect(&f3), Err(CcmpError::Replay));
        assert!(rx.unprotect(&tx.protect(&TO_AP, b"d")).is_ok());
    }

    #[test]
    fn unprotect_keeps_one_replay_counter_per_tid() {
        let mut tx = PairwiseKey::from_tk(TK);
        let mut rx = PairwiseKey::from_tk(TK);
        let early_tid6 = tx.protect(&qos_header(6), b"voice");
        let late_tid0 = tx.protect(&qos_header(0), b"best effort");
        assert!(rx.unprotect(&late_tid0).is_ok());
        assert!(rx.unprotect(&early_tid6).is_ok());
        assert_eq!(rx.unprotect(&early_tid6), Err(CcmpError::Replay));
        // Non-QoS data shares TID 0's counter.
        let mut tx2 = PairwiseKey::from_tk(TK);
        let old_plain = tx2.protect(&TO_AP, b"x");
        assert_eq!(rx.unprotect(&old_plain), Err(CcmpError::Replay));
    }

    #[test]
    fn failed_mic_does_not_advance_the_replay_counter() {
        let mut tx = PairwiseKey::from_tk(TK);
        let mut rx = PairwiseKey::from_tk(TK);
        let good = tx.protect(&TO_AP, b"genuine");
        let mut forged = good.clone();
        forged[24] = 0xff; // PN 255, ciphertext unchanged: MIC fails
        assert_eq!(rx.unprotect(&forged), Err(CcmpError::Mic));
        assert!(rx.unprotect(&good).is_ok());
    }

    #[test]
    fn unprotect_detects_changed_payload_header_or_key() {
        let mut tx = PairwiseKey::from_tk(TK);
        let frame = tx.protect(&TO_AP, b"genuine payload");
        let mut body = frame.clone();
        body[35] ^= 1;
        let mut addr = frame.clone();
        addr[21] ^= 1; // A3: in the AAD
        let mut mic = frame.clone();
        *mic.last_mut().unwrap() ^= 0x80;
        for bad in [body, addr, mic] {
            assert_eq!(PairwiseKey::from_tk(TK).unprotect(&bad), Err(CcmpError::Mic));
        }
        assert_eq!(PairwiseKey::from_tk([0x43; 16]).unprotect(&frame), Err(CcmpError::Mic));
    }

    #[test]
    fn unprotect_rejects_short_unprotected_and_foreign_frames() {
        let mut tx = PairwiseKey::from_tk(TK);
        let frame = tx.protect(&TO_AP, b"");
        assert_eq!(frame.len(), 24 + 16);
        let mut rx = PairwiseKey::from_tk(TK);
        for len in 0..frame.len() {
            assert_eq!(rx.unprotect(&frame[..len]), Err(CcmpError::Truncated), "length {len}");
        }
        let mut qos = PairwiseKey::from_tk(TK).protect(&qos_header(1), b"");
        qos.truncate(26 + 15);
        assert_eq!(rx.unprotect(&qos), Err(CcmpError::Truncated));
        let mut plain = frame.clone();
        plain[1] &= !FC1_PROTECTED;
        assert_eq!(rx.unprotect(&plain), Err(CcmpError::NotProtected));
        let mut control = frame.clone();
        control[0] = 0xb4; // RTS
        assert_eq!(rx.unprotect(&control), Err(CcmpError::NotProtected));
        let mut wep = frame.clone();
        wep[27] = 0;
        assert_eq!(rx.unprotect(&wep), Err(CcmpError::ExtIv));
        let mut group = frame.clone();
        group[27] = 0x60;
        assert_eq!(rx.unprotect(&group), Err(CcmpError::KeyId));
        assert_eq!(rx.unprotect(&frame).map(|p| p.len()), Ok(24));
    }

    #[test]
    fn group_key_uses_key_id_one_and_counts_its_frames() {
        let mut gtk = GroupKey::new(&mut SeqRng(0));
        assert_eq!(gtk.gtk(), &core::array::from_fn::<u8, 16, _>(|i| i as u8 + 1));
        let mut header = TO_AP;
        header[1] = 0x02; // from the DS
        header[4..10].copy_from_slice(&[0xff; 6]);
        let frame = gtk.protect(&header, b"broadcast");
        assert_eq!(frame[27], 0x60);
        assert_eq!(gtk.last_pn(), 1);
        let mut rx = Ccmp::new(*gtk.gtk(), 1);
        assert_eq!(&rx.unprotect(&frame).unwrap()[24..], b"broadcast");
        assert_eq!(gtk.key_id(), 1);
    }
}
