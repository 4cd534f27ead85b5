//! Journal tests: every bit flip and every truncation of a record is
//! refused, and a power cut at any write point loses at most the game
//! being written while everything before it comes back.

use alloc::vec::Vec;

use super::*;
use crate::services::leaderboard::Leaderboard;

fn entry(number: u32) -> Entry {
    Entry { number, score: number * 4 % 97, max_tile: 64, moves: number, name: alloc::format!("né{number}") }
}

#[test]
fn a_record_round_trips() {
    let record = Record::Entry { epoch: 3, seq: 9, entry: entry(5) };
    assert_eq!(decode(&encode(&record)), Some(record));
    assert_eq!(decode(&encode(&Record::Commit { epoch: 1, seq: 2 })), Some(Record::Commit { epoch: 1, seq: 2 }));
}

#[test]
fn every_bit_flip_of_a_record_is_refused() {
    let block = encode(&Record::Entry { epoch: 1, seq: 1, entry: entry(7) });
    for bit in 0..BLOCK * 8 {
        let mut flipped = block;
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(decode(&flipped), None, "bit {bit}");
    }
}

#[test]
fn every_truncation_of_a_record_is_refused() {
    // A torn write: the first `cut` bytes are new, the rest what was there
    // (blank, or an older record).
    let new = encode(&Record::Entry { epoch: 2, seq: 5, entry: entry(8) });
    let old = encode(&Record::Entry { epoch: 1, seq: 1, entry: entry(1) });
    for before in [[0u8; BLOCK], [0xff; BLOCK], old] {
        for cut in 0..BLOCK {
            let mut torn = before;
            torn[..cut].copy_from_slice(&new[..cut]);
            let decoded = decode(&torn);
            assert!(decoded.is_none() || torn == before, "cut at {cut}");
        }
    }
}

/// A store that loses power at its `cut_at`-th write: that block gets
/// half of the new bytes, and every later write is lost.
struct CuttingStore {
    inner: RamStore,
    writes: usize,
    cut_at: usize,
}

impl BlockStore for CuttingStore {
    fn read(&mut self, block: u32, buf: &mut [u8; BLOCK]) -> Result<(), StoreError> {
        self.inner.read(block, buf)
    }
    fn write(&mut self, block: u32, data: &[u8; BLOCK]) -> Result<(), StoreError> {
        self.writes += 1;
        if self.writes < self.cut_at {
            return self.inner.write(block, data);
        }
        if self.writes == self.cut_at {
            let mut torn = [0; BLOCK];
            self.inner.read(block, &mut torn)?;
            torn[..BLOCK / 2].copy_from_slice(&data[..BLOCK / 2]);
            self.inner.write(block, &torn)?;
        }
        Err(StoreError)
    }
    fn blocks(&self) -> u32 {
        self.inner.blocks()
    }
    fn persistent(&self) -> bool {
        true
    }
}

type Lists = (Vec<Entry>, Vec<Entry>);

fn lists(board: &Leaderboard) -> Lists {
    (board.top().to_vec(), board.recent().cloned().collect())
}

/// Posts `games` games through a leaderboard and its journal, stopping at
/// the first failed write. Returns the lists before the game whose write
/// failed and with it (the same when every write completed), and the store.
fn run<S: BlockStore>(store: S, games: u32) -> (Lists, Lists, Option<S>) {
    let mut board = Leaderboard::new(0);
    let Ok((mut journal, restored, _)) = Journal::open(store) else {
        return (lists(&board), lists(&board), None);
    };
    for game in restored {
        board.restore(game);
    }
    let first = board.games_played() + 1;
    for number in first..first + games {
        let before = lists(&board);
        board.restore(entry(number));
        if journal.append(&entry(number), &board.kept()).is_err() {
            return (before, lists(&board), Some(journal.store));
        }
    }
    (lists(&board), lists(&board), Some(journal.store))
}

fn reopen(store: RamStore) -> (Lists, OpenStatus, RamStore) {
    let (journal, games, status) = Journal::open(store).unwrap();
    let mut board = Leaderboard::new(0);
    for game in games {
        board.restore(game);
    }
    (lists(&board), status, journal.store)
}

#[test]
fn a_power_cut_at_every_write_point_loses_at_most_that_write() {
    // The smallest area (halves of 32 blocks): 150 games compact often.
    const GAMES: u32 = 150;
    let mut counting = CuttingStore { inner: RamStore::new(MIN_BLOCKS), writes: 0, cut_at: usize::MAX };
    let (all, _, _) = run(&mut counting, GAMES);
    assert_eq!(all.1.first().map(|e| e.number), Some(GAMES));
    let total = counting.writes;
    assert!(total > GAMES as usize + 3 * MAX_KEPT, "{total} writes: several compactions");
    for cut_at in 1..=total + 1 {
        let store = CuttingStore { inner: RamStore::new(MIN_BLOCKS), writes: 0, cut_at };
        let (before, in_flight, store) = run(store, GAMES);
        let inner = store.map_or_else(|| RamStore::new(MIN_BLOCKS), |s| s.inner);
        let (after_cut, _, inner) = reopen(inner);
        assert!(after_cut == before || after_cut == in_flight, "cut at write {cut_at}");
        // A second life on the same area is as safe: 40 more games, reboot.
        let (second, _, inner) = run(inner, 40);
        let (after_reboot, _, _) = reopen(inner.unwrap());
        assert_eq!(after_reboot, second, "second life after a cut at write {cut_at}");
    }
}

#[test]
fn a_blank_area_starts_fresh_and_says_so() {
    let (_, games, status) = Journal::open(RamStore::new(MIN_BLOCKS)).unwrap();
    assert!(games.is_empty());
    assert_eq!(status, OpenStatus::Blank);
}

#[test]
fn a_corrupted_area_is_reported_and_started_fresh() {
    let mut store = RamStore::new(MIN_BLOCKS);
    for block in 0..MIN_BLOCKS {
        store.blocks[block as usize] = [block as u8 | 1; BLOCK];
    }
    // An orphan record without a commit must not come back either.
    store.blocks[3] = encode(&Record::Entry { epoch: 9, seq: 9, entry: entry(1) });
    let (_, games, status) = Journal::open(store).unwrap();
    assert!(games.is_empty());
    assert_eq!(status, OpenStatus::Corrupted { bad_blocks: MIN_BLOCKS - 1 });
}

#[test]
fn a_fresh_start_does_not_bring_back_old_records() {
    let mut store = RamStore::new(MIN_BLOCKS);
    store.blocks[3] = encode(&Record::Entry { epoch: 9, seq: 9, entry: entry(1) });
    let (journal, _, _) = Journal::open(store).unwrap();
    let (_, games, status) = Journal::open(journal.store).unwrap();
    assert!(games.is_empty());
    assert_eq!(status, OpenStatus::Restored { games: 0, bad_blocks: 0 });
}

#[test]
fn a_bad_block_among_good_ones_is_counted_and_skipped() {
    let (kept, _, inner) = run(RamStore::new(MIN_BLOCKS), 5);
    let mut inner = inner.unwrap();
    inner.blocks[MIN_BLOCKS as usize - 1] = [0x55; BLOCK];
    let (after, status, _) = reopen(inner);
    assert_eq!(after, kept);
    assert_eq!(status, OpenStatus::Restored { games: 5, bad_blocks: 1 });
}

#[test]
fn an_area_too_small_is_refused() {
    assert_eq!(Journal::open(RamStore::new(MIN_BLOCKS - 1)).err(), Some(JournalError::TooSmall));
}

impl BlockStore for &mut CuttingStore {
    fn read(&mut self, block: u32, buf: &mut [u8; BLOCK]) -> Result<(), StoreError> {
        (**self).read(block, buf)
    }
    fn write(&mut self, block: u32, data: &[u8; BLOCK]) -> Result<(), StoreError> {
        (**self).write(block, data)
    }
    fn blocks(&self) -> u32 {
        (**self).blocks()
    }
    fn persistent(&self) -> bool {
        true
    }
}
