//! `SdCard::identify` and `Partition::leaderboard` against a hostile card:
//! every response word, status and data block comes from the fuzzer. They
//! must never panic or spin forever, and whatever area they accept, a write
//! to it must reach the card only inside that partition.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use kernel::devices::{BlockStore, BLOCK};
use kernel::partition::Partition;
use kernel::sd::{Command, HostError, SdCard, SdHost, Transfer};
use libfuzzer_sys::fuzz_target;

static NOW_US: AtomicU64 = AtomicU64::new(0);

/// Moves 10 ms each read, so every deadline passes within a few hundred polls.
fn clock() -> u64 {
    NOW_US.fetch_add(10_000, Ordering::Relaxed)
}

/// A card that answers from the fuzzer's bytes and then from zeros.
struct HostileCard<'a> {
    input: &'a [u8],
    written: Vec<u32>,
}

impl HostileCard<'_> {
    fn take(&mut self, n: usize) -> Vec<u8> {
        let (taken, rest) = self.input.split_at(n.min(self.input.len()));
        self.input = rest;
        let mut bytes = taken.to_vec();
        bytes.resize(n, 0);
        bytes
    }
}

impl SdHost for &mut HostileCard<'_> {
    fn set_clock(&mut self, _hz: u32) -> Result<(), HostError> {
        Ok(())
    }

    fn command(&mut self, command: Command, data: Transfer<'_>) -> Result<[u32; 4], HostError> {
        let outcome = self.take(1).first().copied().unwrap_or(0);
        match outcome % 8 {
            5 => return Err(HostError::NoResponse),
            6 => return Err(HostError::Crc),
            7 => return Err(HostError::Timeout),
            _ => {}
        }
        let mut words = [0u32; 4];
        for word in &mut words {
            let bytes = self.take(4);
            *word = bytes.iter().fold(0, |acc, &b| (acc << 8) | u32::from(b));
        }
        match data {
            Transfer::Read(buf) => {
                buf.copy_from_slice(&self.take(BLOCK));
            }
            Transfer::Write(_) => self.written.push(command.arg),
            Transfer::None => {}
        }
        Ok(words)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut host = HostileCard { input: data, written: Vec::new() };
    let Ok(card) = SdCard::identify(&mut host, clock) else {
        return;
    };
    let (high_capacity, card_blocks) = (card.high_capacity(), card.blocks());
    let Ok(mut area) = Partition::leaderboard(card) else {
        return;
    };
    let (first, blocks) = (area.first_block(), area.blocks());
    assert!(first > 0 && u64::from(first) + u64::from(blocks) <= u64::from(card_blocks));
    for block in 0..blocks.min(4) {
        let _ = area.write(block, &[0x5a; BLOCK]);
    }
    let _ = area.write(blocks, &[0; BLOCK]);
    drop(area);
    for arg in &host.written {
        let block = if high_capacity { *arg } else { arg / BLOCK as u32 };
        assert!(block >= first && block < first + blocks, "write to card block {block} outside {first}+{blocks}");
    }
});
