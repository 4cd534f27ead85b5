//! The leaderboard's journal on a block device: what survives a reboot.
//!
//! The kept games (top 20 and last 10) are a function of the set of games
//! posted, so the journal only has to keep a superset of the kept ones.
//! The area is split in two halves used in turn. New games are appended,
//! one 512-byte record each (epoch, sequence number, CRC32), to the active
//! half; when it is full, the kept games are copied to the other half under
//! a new epoch and a commit record makes that half the active one. A power
//! cut tears at most the block being written (its CRC fails, so it is
//! skipped) and never touches the active half's earlier blocks; a cut
//! during compaction leaves the old half active and complete. The
//! checksum is the `crc` crate's CRC-32 (IEEE), bitwise: table-driven
//! versions cost 1-16 KiB of image for a few 512-byte blocks per game.

#![deny(unsafe_code)]

use alloc::vec::Vec;

use super::Entry;
/// The journal's device class, from the device layer (`RamStore` is its RAM stand-in).
pub use crate::devices::{BlockStore, StoreError, BLOCK};

/// Most games the leaderboard keeps at once (top 20 and last 10): a
/// compaction writes at most this many records and a commit.
pub const MAX_KEPT: usize = 30;

/// Smallest area that can compact: two halves of the kept games plus a
/// commit and one free block each.
pub const MIN_BLOCKS: u32 = 2 * (MAX_KEPT as u32 + 2);

const MAGIC: &[u8; 4] = b"LBJ1";
const KIND_ENTRY: u8 = 1;
const KIND_COMMIT: u8 = 2;
const NAME_AT: usize = 32;
const NAME_MAX: usize = 48;
const CRC_AT: usize = BLOCK - 4;
const CRC32: crc::Crc<u32, crc::NoTable> = crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// What a journal found when it was opened, for the boot log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenStatus {
    /// Games restored from a committed half; `bad_blocks` records failed
    /// their checksum (a torn last write shows up as one).
    Restored {
        /// Games read back (duplicates counted once).
        games: usize,
        /// Blocks that are neither blank nor a valid record.
        bad_blocks: u32,
    },
    /// Nothing valid was there (a new card or disk): started fresh.
    Blank,
    /// No committed half, but some blocks were not blank: started fresh.
    Corrupted {
        /// Blocks that are neither blank nor a valid record.
        bad_blocks: u32,
    },
}

/// Why the journal cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JournalError {
    /// The area is smaller than `MIN_BLOCKS`.
    TooSmall,
    /// The device refused a write.
    Store,
}

/// A decoded record.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Record {
    Entry { epoch: u32, seq: u32, entry: Entry },
    Commit { epoch: u32, seq: u32 },
}

impl Record {
    fn epoch_seq(&self) -> (u32, u32) {
        match self {
            Record::Entry { epoch, seq, .. } | Record::Commit { epoch, seq } => (*epoch, *seq),
        }
    }
}

fn put_u32(block: &mut [u8; BLOCK], at: usize, value: u32) {
    block[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn get_u32(block: &[u8; BLOCK], at: usize) -> u32 {
    let mut bytes = [0; 4];
    bytes.copy_from_slice(&block[at..at + 4]);
    u32::from_le_bytes(bytes)
}

fn encode(record: &Record) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    block[..4].copy_from_slice(MAGIC);
    let (epoch, seq) = record.epoch_seq();
    put_u32(&mut block, 4, epoch);
    put_u32(&mut block, 8, seq);
    match record {
        Record::Entry { entry, .. } => {
            block[12] = KIND_ENTRY;
            let name = entry.name.as_bytes();
            let len = name.len().min(NAME_MAX);
            block[13] = len as u8;
            put_u32(&mut block, 16, entry.number);
            put_u32(&mut block, 20, entry.score);
            put_u32(&mut block, 24, entry.max_tile);
            put_u32(&mut block, 28, entry.moves);
            block[NAME_AT..NAME_AT + len].copy_from_slice(&name[..len]);
        }
        Record::Commit { .. } => block[12] = KIND_COMMIT,
    }
    let crc = CRC32.checksum(&block[..CRC_AT]);
    put_u32(&mut block, CRC_AT, crc);
    block
}

/// A block's record, or `None` for a blank, torn or foreign block.
fn decode(block: &[u8; BLOCK]) -> Option<Record> {
    if &block[..4] != MAGIC || CRC32.checksum(&block[..CRC_AT]) != get_u32(block, CRC_AT) {
        return None;
    }
    let (epoch, seq) = (get_u32(block, 4), get_u32(block, 8));
    match block[12] {
        KIND_ENTRY => {
            let len = usize::from(block[13]);
            let name = block.get(NAME_AT..NAME_AT + len).filter(|_| len <= NAME_MAX)?;
            let name = core::str::from_utf8(name).ok()?.into();
            let entry = Entry { number: get_u32(block, 16), score: get_u32(block, 20), max_tile: get_u32(block, 24), moves: get_u32(block, 28), name };
            Some(Record::Entry { epoch, seq, entry })
        }
        KIND_COMMIT => Some(Record::Commit { epoch, seq }),
        _ => None,
    }
}

/// The journal: where the next record goes.
pub struct Journal<S: BlockStore> {
    store: S,
    half: u32,
    active: u32,
    epoch: u32,
    seq: u32,
    head: u32,
}

impl<S: BlockStore> Journal<S> {
    /// Reads the area back: the games found (each once) and what was found.
    /// A blank or corrupted area is started fresh (one commit written).
    pub fn open(mut store: S) -> Result<(Self, Vec<Entry>, OpenStatus), JournalError> {
        let blocks = store.blocks();
        if blocks < MIN_BLOCKS {
            return Err(JournalError::TooSmall);
        }
        let half = blocks / 2;
        let mut games: Vec<Entry> = Vec::new();
        let mut bad_blocks = 0;
        let mut written = Vec::new();
        let mut records: Vec<(u32, Record)> = Vec::new();
        let mut buf = [0u8; BLOCK];
        for block in 0..half * 2 {
            if store.read(block, &mut buf).is_err() {
                bad_blocks += 1;
                written.push(block);
                continue;
            }
            match decode(&buf) {
                Some(record) => {
                    if let Record::Entry { entry, .. } = &record {
                        if !games.iter().any(|known| known.number == entry.number) {
                            games.push(entry.clone());
                        }
                    }
                    records.push((block, record));
                    written.push(block);
                }
                None if buf.iter().all(|&b| b == 0) || buf.iter().all(|&b| b == 0xff) => {}
                None => {
                    bad_blocks += 1;
                    written.push(block);
                }
            }
        }
        let committed = records
            .iter()
            .filter_map(|(block, record)| matches!(record, Record::Commit { .. }).then_some((record.epoch_seq().0, block / half)))
            .max();
        let Some((epoch, active)) = committed else {
            let status = if records.is_empty() && bad_blocks == 0 { OpenStatus::Blank } else { OpenStatus::Corrupted { bad_blocks } };
            // Records from an earlier life of the area must not come back
            // at the next boot: blank them before the first commit.
            for &block in &written {
                store.write(block, &[0; BLOCK]).map_err(|_| JournalError::Store)?;
            }
            let mut journal = Self { store, half, active: 1, epoch: 0, seq: 0, head: half };
            journal.compact(&[])?;
            return Ok((journal, Vec::new(), status));
        };
        let last = records
            .iter()
            .filter(|(block, record)| block / half == active && record.epoch_seq().0 == epoch)
            .map(|(block, record)| (record.epoch_seq().1, block % half))
            .max()
            .unwrap_or((0, 0));
        let seq = records.iter().map(|(_, record)| record.epoch_seq().1).max().unwrap_or(0);
        let journal = Self { store, half, active, epoch, seq, head: last.1 + 1 };
        Ok((journal, games.clone(), OpenStatus::Restored { games: games.len(), bad_blocks }))
    }

    /// Records a new game. `kept` is every game the leaderboard keeps now,
    /// the new one included: when the active half is full they are copied
    /// to the other half.
    pub fn append(&mut self, entry: &Entry, kept: &[Entry]) -> Result<(), JournalError> {
        if self.head >= self.half {
            return self.compact(kept);
        }
        self.seq = self.seq.wrapping_add(1);
        let record = Record::Entry { epoch: self.epoch, seq: self.seq, entry: entry.clone() };
        self.store.write(self.active * self.half + self.head, &encode(&record)).map_err(|_| JournalError::Store)?;
        self.head += 1;
        Ok(())
    }

    /// Copies `kept` to the other half under a new epoch and commits it.
    fn compact(&mut self, kept: &[Entry]) -> Result<(), JournalError> {
        let target = 1 - self.active;
        let epoch = self.epoch.wrapping_add(1);
        let kept = &kept[..kept.len().min(MAX_KEPT)];
        for (index, entry) in kept.iter().enumerate() {
            self.seq = self.seq.wrapping_add(1);
            let record = Record::Entry { epoch, seq: self.seq, entry: entry.clone() };
            self.store.write(target * self.half + index as u32, &encode(&record)).map_err(|_| JournalError::Store)?;
        }
        self.seq = self.seq.wrapping_add(1);
        let commit = Record::Commit { epoch, seq: self.seq };
        self.store.write(target * self.half + kept.len() as u32, &encode(&commit)).map_err(|_| JournalError::Store)?;
        (self.active, self.epoch, self.head) = (target, epoch, kept.len() as u32 + 1);
        Ok(())
    }

    /// Gives the device back (to reopen it, in tests and fuzzing).
    pub fn into_store(self) -> S {
        self.store
    }
}

/// RAM standing in for a block device, for boards without storage (and
/// for tests): the leaderboard works the same and is lost at reboot.
pub struct RamStore {
    blocks: Vec<[u8; BLOCK]>,
}

impl RamStore {
    /// `blocks` blank blocks.
    pub fn new(blocks: u32) -> Self {
        Self { blocks: alloc::vec![[0; BLOCK]; blocks as usize] }
    }
}

impl BlockStore for RamStore {
    fn read(&mut self, block: u32, buf: &mut [u8; BLOCK]) -> Result<(), StoreError> {
        *buf = *self.blocks.get(block as usize).ok_or(StoreError)?;
        Ok(())
    }
    fn write(&mut self, block: u32, data: &[u8; BLOCK]) -> Result<(), StoreError> {
        *self.blocks.get_mut(block as usize).ok_or(StoreError)? = *data;
        Ok(())
    }
    fn blocks(&self) -> u32 {
        self.blocks.len() as u32
    }
    fn persistent(&self) -> bool {
        false
    }
}

impl<S: BlockStore + ?Sized> BlockStore for alloc::boxed::Box<S> {
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
        (**self).persistent()
    }
}

/// Decodes one block as the journal would; for the fuzz target.
pub fn decode_block(block: &[u8; BLOCK]) -> Option<Entry> {
    match decode(block)? {
        Record::Entry { entry, .. } => Some(entry),
        Record::Commit { .. } => None,
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
