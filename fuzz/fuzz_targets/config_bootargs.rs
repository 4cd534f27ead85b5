//! `Config::from_bootargs` reads the DTB's bootargs (U-Boot's boot.scr or
//! `qemu.sh --append`); the DHCP server is built from what it returns.
#![no_main]

use kernel::services::config::{Config, HTTPS_SLOT_BYTES, HTTP_SLOT_BYTES, MAX_SLOTS};
use kernel::services::dhcp::DhcpServer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(bootargs) = core::str::from_utf8(data) else {
        return;
    };
    let (config, rejected) = Config::from_bootargs(bootargs);
    assert!(config.http_slots.is_none_or(|n| (1..=MAX_SLOTS).contains(&n)));
    assert!(config.https_slots.is_none_or(|n| (1..=MAX_SLOTS).contains(&n)));
    for heap in [8 << 20, 64 << 20, 1 << 30] {
        let slots = config.slots(heap);
        assert!(slots.http >= 1 && slots.https >= 1);
        assert!(slots.http * HTTP_SLOT_BYTES + slots.https * HTTPS_SLOT_BYTES <= heap / 4 * 3 || (slots.http, slots.https) == (1, 1));
    }
    assert!((8..=30).contains(&config.prefix_len));
    assert!((60..=7 * 24 * 3600).contains(&config.lease_secs));
    assert!(!config.canonical_name.is_empty() && config.canonical_name.len() <= 253);
    let _ = config.netmask();
    for r in &rejected {
        assert!(
            r.word == "dhcp_pool" || bootargs.contains(r.word.as_str()),
            "rejected a word not given: {r:?}"
        );
    }
    // The same words again give the same result.
    assert_eq!(Config::from_bootargs(bootargs), (config.clone(), rejected));

    let server = DhcpServer::new(&config);
    assert!(server.pool_size() <= 4096);
    assert_eq!(server.leases_active(0), 0);
});
