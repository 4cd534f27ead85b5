//! `percent_decode` gets the raw request path from picoserve.
#![no_main]

use kernel::services::http::percent_decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(encoded) = core::str::from_utf8(data) else {
        return;
    };
    match percent_decode(encoded) {
        Some(decoded) => {
            assert!(decoded.len() <= encoded.len(), "decoding never grows");
            if !encoded.contains('%') {
                assert_eq!(decoded, encoded, "no escape, no change");
            }
            // Escaping every byte and decoding gives the bytes back.
            let escaped: String = decoded.bytes().map(|b| format!("%{b:02X}")).collect();
            assert_eq!(percent_decode(&escaped).as_deref(), Some(decoded.as_str()));
        }
        None => assert!(encoded.contains('%'), "only escapes can be malformed"),
    }
});
