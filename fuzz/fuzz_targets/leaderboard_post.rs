//! `Booth::submit` parses a phone's posted JSON and replays its moves; any
//! body must give a verdict (never a panic), and junk must never be kept.
#![no_main]

use kernel::services::leaderboard::journal::RamStore;
use kernel::services::leaderboard::Booth;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (booth, _) = Booth::new(7, Box::new(RamStore::new(64)));
    let issued = booth.issue(1, 0).expect("a first game is never rate-limited");
    // The fuzzer's bytes alone, and as the moves of a real game id.
    let _ = booth.submit(1, 0, data);
    if let Ok(moves) = core::str::from_utf8(data) {
        if moves.bytes().all(|b| b.is_ascii_alphanumeric()) {
            let body = format!(r#"{{"id":"{:016x}","name":"fuzz","moves":"{moves}","score":0}}"#, issued.id);
            let _ = booth.submit(1, 0, body.as_bytes());
        }
    }
    assert!(booth.games_played() <= 1);
});
