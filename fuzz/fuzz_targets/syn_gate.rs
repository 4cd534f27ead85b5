//! `SynGate::admits` sees every Ethernet frame the NIC receives, before smoltcp.
#![no_main]

use kernel::net::syn_gate::SynGate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|frame: &[u8]| {
    let mut gate = SynGate::default();
    gate.count_slot(80, true);
    gate.count_slot(443, false);
    let first = gate.admits(frame);
    let second = gate.admits(frame);
    // Once the one listener is used, only a SYN to port 80 changes its answer.
    assert!(first || !second, "a frame refused once is refused again");
});
