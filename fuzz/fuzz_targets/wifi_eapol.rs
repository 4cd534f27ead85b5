//! `Authenticator::receive` gets every EAPOL frame a station sends during its
//! 4-way handshake (EAPOL-Key parsing, then the message 2/4 checks), and
//! `check_station_rsn` the RSN element of its association request.
//!
//! Input: one byte of setup (bit 0: the first record is the station's RSN
//! element rather than ours), then records of [length u16 big-endian][op u8]
//! [frame]. Op bits: 1 = the harness, knowing the passphrase, writes a valid
//! MIC (so the checks after it are reached), 2 = the replay counter is set to
//! the last one the authenticator sent, 4 = time moves to the deadline first.
#![no_main]

use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use rand_core::{impls, RngCore};
use sha1::Sha1;
use wifi::rsn::{check_station_rsn, rsn_element, Authenticator, GroupKey, Psk, Step};

const AA: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SPA: [u8; 6] = [0x02, 0, 0, 0, 0x07, 0x00];
const SSID: &[u8] = b"2048";
const PASSPHRASE: &str = "play 2048 here";

struct Fixed;
impl RngCore for Fixed {
    fn next_u32(&mut self) -> u32 {
        impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0x5a);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The KCK a supplicant with the right passphrase derives from this SNonce.
fn kck(pmk: &[u8; 32], anonce: &[u8], snonce: &[u8]) -> [u8; 16] {
    let (lo, hi) = if anonce <= snonce { (anonce, snonce) } else { (snonce, anonce) };
    let block = hmac(pmk, &[b"Pairwise key expansion", &[0], &AA, &SPA, lo, hi, &[0]]);
    block[..16].try_into().unwrap()
}

fuzz_target!(|data: &[u8]| {
    static KEYS: OnceLock<(Psk, [u8; 32])> = OnceLock::new();
    let (psk, pmk) = KEYS.get_or_init(|| {
        let pmk = pbkdf2::pbkdf2_hmac_array::<Sha1, 32>(PASSPHRASE.as_bytes(), SSID, 4096);
        (Psk::from_passphrase(PASSPHRASE, SSID).unwrap(), pmk)
    });
    let Some((&setup, mut rest)) = data.split_first() else {
        return;
    };
    let mut records = Vec::new();
    while rest.len() >= 3 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 3);
        records.push((rest[2], rest[3..3 + len].to_vec()));
        rest = &rest[3 + len..];
    }
    let mut records = records.into_iter();
    let station_rsn = match setup & 1 {
        1 => records.next().map(|(_, element)| element).unwrap_or_default(),
        _ => rsn_element().to_vec(),
    };
    let _ = check_station_rsn(&station_rsn);

    let gtk = GroupKey::new(&mut Fixed);
    let mut auth = Authenticator::new(psk, AA, SPA, &station_rsn, &gtk, &mut Fixed);
    let mut last = auth.start(0);
    let anonce = last[17..49].to_vec();
    let mut accepted_kck = None;
    let mut now = 0;
    let mut over = false;
    for (op, mut frame) in records {
        if op & 4 != 0 {
            if let Some(deadline) = auth.deadline() {
                now = deadline;
            }
            match auth.poll(now) {
                Some(Ok(again)) => last = again,
                Some(Err(e)) => {
                    assert!(e.is_fatal());
                    over = true;
                }
                None => assert!(over || auth.deadline().is_some_and(|d| d > now)),
            }
        }
        if op & 2 != 0 && frame.len() >= 17 {
            frame[9..17].copy_from_slice(&last[9..17]);
        }
        let signed = op & 1 != 0 && frame.len() >= 99;
        if signed {
            let kck = accepted_kck.unwrap_or_else(|| kck(pmk, &anonce, &frame[17..49]));
            let end = (4 + usize::from(u16::from_be_bytes([frame[2], frame[3]]))).min(frame.len());
            frame[81..97].fill(0);
            let mic = hmac(&kck, &[&frame[..end]]);
            frame[81..97].copy_from_slice(&mic[..16]);
        }
        match auth.receive(&frame, now) {
            Ok(Step::Send(m3)) => {
                assert!(signed && !over && accepted_kck.is_none(), "message 3 only for a valid message 2");
                assert_eq!(m3[1], 3, "an EAPOL-Key frame");
                assert_eq!(u16::from_be_bytes([m3[5], m3[6]]), 0x13ca, "message 3's key information");
                accepted_kck = Some(kck(pmk, &anonce, &frame[17..49]));
                last = m3;
            }
            Ok(Step::Done(_)) => {
                assert!(signed && !over && accepted_kck.is_some(), "done only after a valid message 4");
                over = true;
            }
            Ok(Step::Ignore) => {}
            Err(e) => {
                assert!(!over, "a finished handshake ignores frames");
                over |= e.is_fatal();
            }
        }
        assert_eq!(auth.deadline().is_none(), over);
    }
});
