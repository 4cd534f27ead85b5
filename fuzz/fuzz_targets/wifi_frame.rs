//! The access point's 802.11 parsers get every frame the radio hears: the
//! MAC header, PS-Poll, element lists, management bodies, LLC/SNAP, Ethernet
//! from the wired side, and the station's RSN element.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wifi::wire::data::{snap_decap, Ethernet};
use wifi::wire::frame::{Header, PsPoll};
use wifi::wire::ie::{self, Elements};
use wifi::wire::mgmt::{probe_wants, AddbaRequest, AssocRequest, Authentication};

fuzz_target!(|frame: &[u8]| {
    if let Ok(h) = Header::parse(frame) {
        assert_eq!(h.len + h.body.len(), frame.len(), "header and body cover the frame");
        let _ = probe_wants(&h, b"2048");
        let _ = Authentication::parse(h.body);
        let _ = AddbaRequest::parse(h.body);
        let _ = snap_decap(h.body);
        for reassoc in [false, true] {
            if let Ok(req) = AssocRequest::parse(h.body, reassoc) {
                let _ = (req.ssid(), req.wmm(), ie::rates(req.elements).count());
                if let Some(rsn) = req.elements.find(ie::id::RSN) {
                    let _ = wifi::rsn::check_station_rsn(rsn.raw);
                }
            }
        }
    }
    let _ = PsPoll::parse(frame);
    if let Ok(elements) = Elements::new(frame) {
        let covered: usize = elements.map(|e| e.raw.len()).sum();
        assert_eq!(covered, frame.len(), "a checked element list iterates to its end");
    }
    if let Ok(e) = Ethernet::parse(frame) {
        assert_eq!(e.payload.len() + 14, frame.len());
    }
});
