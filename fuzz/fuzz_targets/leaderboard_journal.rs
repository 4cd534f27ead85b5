//! `Journal::open` reads whatever the leaderboard's area holds at boot (a
//! new card, another system's data, a torn write); it must never panic,
//! and what it opens must take new games that come back at the next open.
#![no_main]

use kernel::services::leaderboard::journal::{BlockStore, Journal, StoreError, BLOCK, MIN_BLOCKS};
use kernel::services::leaderboard::{Entry, Leaderboard};
use libfuzzer_sys::fuzz_target;

/// The fuzzer's bytes laid over a blank area.
struct Area(Vec<[u8; BLOCK]>);

impl BlockStore for Area {
    fn read(&mut self, block: u32, buf: &mut [u8; BLOCK]) -> Result<(), StoreError> {
        *buf = *self.0.get(block as usize).ok_or(StoreError)?;
        Ok(())
    }
    fn write(&mut self, block: u32, data: &[u8; BLOCK]) -> Result<(), StoreError> {
        *self.0.get_mut(block as usize).ok_or(StoreError)? = *data;
        Ok(())
    }
    fn blocks(&self) -> u32 {
        self.0.len() as u32
    }
    fn persistent(&self) -> bool {
        true
    }
}

fuzz_target!(|data: &[u8]| {
    let mut area = vec![[0u8; BLOCK]; MIN_BLOCKS as usize];
    for (block, chunk) in area.iter_mut().zip(data.chunks(BLOCK)) {
        block[..chunk.len()].copy_from_slice(chunk);
    }
    for block in &area {
        let _ = kernel::services::leaderboard::journal::decode_block(block);
    }
    let Ok((mut journal, games, _)) = Journal::open(Area(area)) else {
        return;
    };
    let mut board = Leaderboard::new(0);
    for game in games {
        board.restore(game);
    }
    // A forged record may claim any game number; leave room to count on.
    let Some(first) = board.games_played().checked_add(1).filter(|n| *n < u32::MAX - 40) else {
        return;
    };
    for number in first..first + 40 {
        let entry = Entry { number, score: number % 7 * 100, max_tile: 64, moves: 9, name: "fuzz".into() };
        board.restore(entry.clone());
        journal.append(&entry, &board.kept()).expect("a RAM area takes every write");
    }
    let expected: Vec<Entry> = board.recent().cloned().collect();
    let Ok((_, games, _)) = Journal::open(journal.into_store()) else {
        panic!("an area the journal wrote must open again");
    };
    let mut again = Leaderboard::new(0);
    for game in games {
        again.restore(game);
    }
    assert_eq!(again.recent().cloned().collect::<Vec<_>>(), expected);
});
