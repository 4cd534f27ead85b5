//! DMA memory for the descriptor-ring NICs: heap blocks that a bus master
//! reads and writes, and the cache maintenance that keeps both sides honest.
//!
//! RAM is identity-mapped, so a block's address is also what the device is
//! given. On real hardware RAM is cached write-back and the EMAC does not
//! snoop the caches: before the device reads, the CPU cleans the lines it
//! wrote (`clean`); before the CPU reads what the device wrote, it cleans
//! and invalidates them (`invalidate`). Each descriptor gets a cache line of
//! its own (`LINE`), so maintaining one never touches its neighbour. QEMU
//! has no caches, so there the same calls are harmless.

use alloc::alloc::{alloc_zeroed, Layout};

use crate::arch;

/// Cache line size the layout assumes (A7, A8 and A53 all use 64 bytes).
pub const LINE: usize = 64;

/// A zeroed, `LINE`-aligned block of `len` bytes that is never freed
/// (a NIC's rings live as long as the kernel).
pub struct DmaBlock {
    addr: usize,
    len: usize,
}

impl DmaBlock {
    /// Allocates the block from the heap.
    pub fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len.max(LINE), LINE).unwrap_or(Layout::new::<[u8; LINE]>());
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            panic!("out of memory for {len} bytes of NIC DMA memory");
        }
        let block = Self { addr: ptr as usize, len };
        block.clean(0, len);
        block
    }

    /// The block's bus (= virtual) address plus `offset`.
    pub fn addr(&self, offset: usize) -> usize {
        self.addr + offset
    }

    /// Reads the 32-bit word at `offset` as the device left it in RAM.
    pub fn read_word(&self, offset: usize) -> u32 {
        assert!(offset + 4 <= self.len);
        // SAFETY: in bounds (checked), 4-aligned by construction of the
        // callers' layouts, and owned by this block for the kernel's lifetime.
        unsafe { core::ptr::read_volatile((self.addr + offset) as *const u32) }
    }

    /// Writes the 32-bit word at `offset`.
    pub fn write_word(&self, offset: usize, value: u32) {
        assert!(offset + 4 <= self.len);
        // SAFETY: as for `read_word`.
        unsafe { core::ptr::write_volatile((self.addr + offset) as *mut u32, value) }
    }

    /// Copies `bytes` in at `offset`.
    pub fn write_bytes(&self, offset: usize, bytes: &[u8]) {
        assert!(offset + bytes.len() <= self.len);
        // SAFETY: in bounds (checked); the device does not own these bytes
        // while the CPU fills them (the descriptor is not yet handed over).
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), (self.addr + offset) as *mut u8, bytes.len()) }
    }

    /// Copies `out.len()` bytes out from `offset`.
    pub fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        assert!(offset + out.len() <= self.len);
        // SAFETY: in bounds (checked); the device has handed these bytes back.
        unsafe { core::ptr::copy_nonoverlapping((self.addr + offset) as *const u8, out.as_mut_ptr(), out.len()) }
    }

    /// Makes the CPU's writes to `[offset, offset + len)` visible to the device.
    pub fn clean(&self, offset: usize, len: usize) {
        arch::dma_clean(self.addr + offset, len);
    }

    /// Makes the device's writes to `[offset, offset + len)` visible to the CPU.
    pub fn invalidate(&self, offset: usize, len: usize) {
        arch::dma_invalidate(self.addr + offset, len);
    }
}
