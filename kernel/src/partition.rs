//! Where the leaderboard lives on an SD card: the MBR partition of type
//! 0xDA ("non-file-system data") that `imgtool sdcard` reserves after the
//! boot partition.
//!
//! A card is somebody's medium: the kernel writes only inside a partition
//! the image tool marked as the leaderboard's, never to a card without one.
//! Split like smoltcp's protocols: `Mbr` is the checked view of the table
//! (wire format), `Partition` the block store confined to one entry
//! (behaviour). Hand-written: an MBR is four 16-byte entries, and the
//! partition crates on crates.io pull in `std` or a file system.

#![deny(unsafe_code)]

use crate::devices::{BlockStore, StoreError, BLOCK, MAX_AREA_BLOCKS};

/// The partition type `imgtool sdcard` gives the leaderboard's area.
pub const LEADERBOARD_TYPE: u8 = 0xda;

const ENTRIES_AT: usize = 446;
const ENTRY_LEN: usize = 16;
const SIGNATURE_AT: usize = 510;

/// Why a card's leaderboard area was not found, for the boot log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AreaError {
    /// Block 0 could not be read.
    Unreadable,
    /// Block 0 does not end in 55 AA: no partition table, so no area.
    NoTable,
    /// The table has no partition of type `LEADERBOARD_TYPE`.
    NoArea,
    /// The area's entry is empty or runs past the end of the card.
    BadExtent {
        /// First block of the area, as the entry gives it.
        first: u32,
        /// Blocks in the area, as the entry gives them.
        blocks: u32,
    },
}

/// A checked view of an MBR: the signature is there.
pub struct Mbr<'a>(&'a [u8; BLOCK]);

impl<'a> Mbr<'a> {
    /// Checks the signature that says block 0 holds a partition table.
    pub fn new_checked(block: &'a [u8; BLOCK]) -> Result<Self, AreaError> {
        if block[SIGNATURE_AT..] == [0x55, 0xaa] { Ok(Self(block)) } else { Err(AreaError::NoTable) }
    }

    /// The (first block, blocks) of the first entry of partition type `kind`.
    pub fn find(&self, kind: u8) -> Option<(u32, u32)> {
        self.0[ENTRIES_AT..SIGNATURE_AT].chunks_exact(ENTRY_LEN).find(|entry| entry[4] == kind).map(|entry| {
            let word = |at: usize| u32::from_le_bytes([entry[at], entry[at + 1], entry[at + 2], entry[at + 3]]);
            (word(8), word(12))
        })
    }
}

/// A block store confined to one partition of a card: block 0 of it is the
/// partition's first block, and nothing outside it can be reached.
pub struct Partition<D> {
    card: D,
    first: u32,
    blocks: u32,
}

impl<D: BlockStore> Partition<D> {
    /// Finds the leaderboard's area on `card` (at most `MAX_AREA_BLOCKS` of it).
    pub fn leaderboard(mut card: D) -> Result<Self, AreaError> {
        let mut block = [0u8; BLOCK];
        card.read(0, &mut block).map_err(|StoreError| AreaError::Unreadable)?;
        let (first, blocks) = Mbr::new_checked(&block)?.find(LEADERBOARD_TYPE).ok_or(AreaError::NoArea)?;
        let fits = first > 0 && blocks > 0 && first.checked_add(blocks).is_some_and(|end| end <= card.blocks());
        if !fits {
            return Err(AreaError::BadExtent { first, blocks });
        }
        Ok(Self { card, first, blocks: blocks.min(MAX_AREA_BLOCKS) })
    }

    /// The card block where the area starts, for the boot log.
    pub fn first_block(&self) -> u32 {
        self.first
    }

    fn on_card(&self, block: u32) -> Result<u32, StoreError> {
        if block < self.blocks { Ok(self.first + block) } else { Err(StoreError) }
    }
}

impl<D: BlockStore> BlockStore for Partition<D> {
    fn read(&mut self, block: u32, buf: &mut [u8; BLOCK]) -> Result<(), StoreError> {
        let block = self.on_card(block)?;
        self.card.read(block, buf)
    }

    fn write(&mut self, block: u32, data: &[u8; BLOCK]) -> Result<(), StoreError> {
        let block = self.on_card(block)?;
        self.card.write(block, data)
    }

    fn blocks(&self) -> u32 {
        self.blocks
    }

    fn persistent(&self) -> bool {
        self.card.persistent()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::leaderboard::journal::RamStore;

    /// Block 0 of the card `imgtool sdcard` writes for orangepi-pc: the FAT
    /// boot partition at 1 MiB, then the leaderboard's 256 blocks at the end
    /// of a 16 MiB card.
    fn imgtool_mbr() -> [u8; BLOCK] {
        let mut mbr = [0u8; BLOCK];
        mbr[446..462].copy_from_slice(&[0x80, 0xfe, 0xff, 0xff, 0x0e, 0xfe, 0xff, 0xff, 0x00, 0x08, 0, 0, 0x00, 0x77, 0, 0]);
        mbr[462..478].copy_from_slice(&[0x00, 0xfe, 0xff, 0xff, 0xda, 0xfe, 0xff, 0xff, 0x00, 0x7f, 0, 0, 0x00, 0x01, 0, 0]);
        mbr[510..].copy_from_slice(&[0x55, 0xaa]);
        mbr
    }

    fn card_with(mbr: &[u8; BLOCK], blocks: u32) -> RamStore {
        let mut card = RamStore::new(blocks);
        card.write(0, mbr).unwrap();
        card
    }

    #[test]
    fn finds_the_area_imgtool_reserves() {
        let mbr = imgtool_mbr();
        assert_eq!(Mbr::new_checked(&mbr).unwrap().find(LEADERBOARD_TYPE), Some((0x7f00, 0x100)));
        assert_eq!(Mbr::new_checked(&mbr).unwrap().find(0x0e), Some((0x800, 0x7700)));
        let area = Partition::leaderboard(card_with(&mbr, 0x8000)).unwrap();
        assert_eq!((area.first_block(), area.blocks()), (0x7f00, 256));
    }

    #[test]
    fn writes_land_inside_the_area_and_nowhere_else() {
        let mut area = Partition::leaderboard(card_with(&imgtool_mbr(), 0x8000)).unwrap();
        let data = [7u8; BLOCK];
        area.write(0, &data).unwrap();
        area.write(255, &data).unwrap();
        assert_eq!(area.write(256, &data), Err(StoreError));
        assert_eq!(area.read(u32::MAX, &mut [0; BLOCK]), Err(StoreError));
        let mut card = area.card;
        let mut seen = [0u8; BLOCK];
        for (block, expected) in [(0x7f00, 7), (0x7fff, 7), (0x7eff, 0)] {
            card.read(block, &mut seen).unwrap();
            assert_eq!(seen[0], expected, "card block {block:#x}");
        }
        card.read(0, &mut seen).unwrap();
        assert_eq!(seen, imgtool_mbr(), "the partition table is untouched");
    }

    #[test]
    fn a_card_without_the_area_is_left_alone() {
        assert_eq!(Partition::leaderboard(RamStore::new(64)).err(), Some(AreaError::NoTable));
        let mut fat_only = imgtool_mbr();
        fat_only[462..478].fill(0);
        assert_eq!(Partition::leaderboard(card_with(&fat_only, 0x8000)).err(), Some(AreaError::NoArea));
    }

    #[test]
    fn an_area_past_the_end_of_the_card_is_refused() {
        let too_small = Partition::leaderboard(card_with(&imgtool_mbr(), 0x7fff)).err();
        assert_eq!(too_small, Some(AreaError::BadExtent { first: 0x7f00, blocks: 0x100 }));
        let mut wrapping = imgtool_mbr();
        wrapping[470..478].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0]);
        assert!(matches!(Partition::leaderboard(card_with(&wrapping, 0x8000)), Err(AreaError::BadExtent { .. })));
        let mut at_zero = imgtool_mbr();
        at_zero[470..474].fill(0);
        assert!(matches!(Partition::leaderboard(card_with(&at_zero, 0x8000)), Err(AreaError::BadExtent { .. })));
    }

    #[test]
    fn every_bit_flip_of_block_zero_is_refused_or_stays_inside_the_card() {
        let mbr = imgtool_mbr();
        for bit in 0..BLOCK * 8 {
            let mut flipped = mbr;
            flipped[bit / 8] ^= 1 << (bit % 8);
            if let Ok(area) = Partition::leaderboard(card_with(&flipped, 0x8000)) {
                assert!(area.first_block() > 0 && area.first_block() + area.blocks() <= 0x8000, "bit {bit}");
            }
        }
    }

    #[test]
    fn a_failing_card_reports_unreadable() {
        struct Dead;
        impl BlockStore for Dead {
            fn read(&mut self, _: u32, _: &mut [u8; BLOCK]) -> Result<(), StoreError> {
                Err(StoreError)
            }
            fn write(&mut self, _: u32, _: &[u8; BLOCK]) -> Result<(), StoreError> {
                Err(StoreError)
            }
            fn blocks(&self) -> u32 {
                0x8000
            }
            fn persistent(&self) -> bool {
                true
            }
        }
        assert_eq!(Partition::leaderboard(Dead).err(), Some(AreaError::Unreadable));
    }
}
