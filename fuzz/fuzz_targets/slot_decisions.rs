//! `choose_eviction` decides which connection is closed for a new visitor. Each input drives a
//! port's slots through accepts, requests, responses, client closes and clock ticks on a fake
//! clock, the way the slot layer feeds it, and checks every decision against the rules: never
//! while a socket listens, only a connection that has waited long enough, an idle one before a
//! stalled one, the longest-waiting first, and a deadline in the future when it must wait.
#![no_main]

use kernel::net::tcp::{choose_eviction, Eviction, SlotState, EVICT_AFTER_US};
use libfuzzer_sys::fuzz_target;

const PORTS: [u16; 2] = [80, 443];

fn check(slots: &[SlotState], port: u16, now_us: u64) -> Eviction {
    let decision = choose_eviction(slots, port, now_us);
    let of_port: Vec<(usize, &SlotState)> = slots.iter().enumerate().filter(|(_, s)| s.port == port).collect();
    let eligible = |s: &SlotState| s.active && now_us >= s.waiting_since_us.saturating_add(EVICT_AFTER_US);
    let blocked = of_port.iter().any(|(_, s)| s.listening || s.evicting) || of_port.len() < 2;
    match decision {
        Eviction::Evict(victim) => {
            let chosen = &slots[victim];
            assert!(!blocked, "evicted while the port listens, already evicts, or has one slot");
            assert_eq!(chosen.port, port, "evicted a slot of another port");
            assert!(eligible(chosen), "evicted a connection that has not waited long enough");
            for (_, other) in of_port.iter().filter(|(_, s)| eligible(s)) {
                assert!((!chosen.idle, chosen.waiting_since_us) <= (!other.idle, other.waiting_since_us), "a better candidate was passed over");
            }
        }
        Eviction::WaitUntil(at) => {
            assert!(!blocked, "a wait while nothing needs freeing");
            assert!(at > now_us, "a wake-up in the past");
            assert!(!of_port.iter().any(|(_, s)| eligible(s)), "waited although a candidate was eligible");
        }
        Eviction::None => assert!(blocked || !of_port.iter().any(|(_, s)| s.active), "nothing freed although the port has no listener"),
    }
    decision
}

fuzz_target!(|input: &[u8]| {
    let Some((&count, events)) = input.split_first() else { return };
    let mut slots: Vec<SlotState> = (0..usize::from(count % 12) + 1)
        .map(|n| SlotState { port: PORTS[n % 3 / 2], listening: true, active: false, waiting_since_us: 0, idle: true, evicting: false })
        .collect();
    let mut now_us = 0u64;
    for pair in events.chunks_exact(2) {
        let slot = usize::from(pair[1]) % slots.len();
        let state = &mut slots[slot];
        match pair[0] % 6 {
            // A client connects to a listening slot.
            0 if state.listening => *state = SlotState { listening: false, active: true, waiting_since_us: now_us, idle: true, ..*state },
            // It sends (part of) a request.
            1 if state.active => state.idle = false,
            // The slot sends (part of) a response; with the low bit, all of it was acknowledged.
            2 if state.active => {
                state.waiting_since_us = now_us;
                state.idle = pair[1] & 1 == 0;
            }
            // The client, or an eviction, closes it and the slot listens again.
            3 if state.active => *state = SlotState { listening: true, active: false, evicting: false, idle: true, ..*state },
            // The clock moves, by up to about 2 s.
            4 => now_us += u64::from(pair[1]) * 8_000,
            5 => now_us += 1,
            _ => {}
        }
        for port in PORTS {
            if let Eviction::Evict(victim) = check(&slots, port, now_us) {
                slots[victim].evicting = true;
            }
        }
    }
});
