//! `rt2800::wire::parse_rx` reads every bulk IN transfer of an RT5370
//! dongle: RXINFO, RXWI, the frame with its L2 pad, RXD. Whatever the device
//! sends, it must never panic, and a frame it accepts must lie inside the
//! transfer and copy out whole.
#![no_main]

use kernel::rt2800::wire::{parse_rx, RXD_LEN, RXINFO_LEN, RXWI_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rx) = parse_rx(data) else { return };
    assert!(!rx.is_empty());
    assert!(RXINFO_LEN + RXWI_LEN + rx.len() + RXD_LEN <= data.len());
    let mut out = vec![0u8; rx.len()];
    assert_eq!(rx.copy_to(&mut out), Some(rx.len()));
    assert_eq!(&out[..rx.header.len()], rx.header);
    assert!(rx.copy_to(&mut out[..rx.len() - 1]).is_none());
});
