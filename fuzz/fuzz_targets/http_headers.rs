//! The request facts an HTTP client controls: method, path, Accept-Encoding,
//! If-None-Match and Host, through `accepts_gzip`, `etag_matches`, `route` and
//! the captive-portal `classify` it calls.
//!
//! Input: up to five fields separated by '\n': method, path (percent-encoded),
//! Accept-Encoding, If-None-Match, Host.
#![no_main]

use core::net::Ipv4Addr;

use kernel::services::captive::{classify, PortalAnswer};
use kernel::services::http::{
    accepts_gzip, etag_matches, percent_decode, route, Identity, RequestHead, Route,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let mut fields = text.splitn(5, '\n');
    let method = fields.next().unwrap_or("");
    let raw_path = fields.next().unwrap_or("");
    let accept_encoding = fields.next();
    let if_none_match = fields.next();
    let host = fields.next();

    // Accept-Encoding: the first coding that names gzip decides.
    let gzip = accepts_gzip(accept_encoding);
    if let Some(header) = accept_encoding {
        assert!(accepts_gzip(Some(&format!("gzip,{header}"))));
        assert!(!accepts_gzip(Some(&format!("gzip;q=0,{header}"))));
        let _ = gzip;
    } else {
        assert!(!gzip);
    }

    // If-None-Match against a fixed tag and against every asset's tag.
    if let Some(tags) = if_none_match {
        let _ = etag_matches(tags, "\"0123456789abcdef\"");
        for asset in kernel::services::site::ASSETS {
            let _ = etag_matches(tags, asset.etag);
            assert!(etag_matches(&format!("{tags},{}", asset.etag), asset.etag));
            assert!(etag_matches(
                &format!("W/{}, {tags}", asset.etag),
                asset.etag
            ));
        }
    }

    // The whole decision, as the service makes it.
    let decoded = percent_decode(raw_path);
    #[allow(clippy::needless_update)] // new request facts default to absent
    let head = RequestHead {
        method,
        path: decoded.as_deref().unwrap_or(""),
        accept_encoding,
        if_none_match,
        host,
        ..Default::default()
    };
    let identity = Identity {
        canonical_name: "2048.home.arpa",
        address: Ipv4Addr::new(10, 42, 0, 1),
    };
    let answer = classify(host, head.path, identity.canonical_name, identity.address);
    if host.is_none() {
        assert_eq!(
            answer,
            PortalAnswer::Site,
            "no Host header: the request is for us"
        );
    }
    match route(&head, &identity) {
        Route::Portal(url) => {
            assert_eq!(url, "http://2048.home.arpa/");
            assert_eq!(answer, PortalAnswer::Redirect(url));
        }
        Route::MethodNotAllowed { allow } => {
            assert!(!allow.split(", ").any(|allowed| allowed == method), "{method} is allowed on {}", head.path)
        }
        Route::Asset { asset, gzip, .. } => assert!(!gzip || asset.gzip.is_some()),
        _ => assert_eq!(answer, PortalAnswer::Site),
    }
});
