//! The kernel heap: `linked_list_allocator` over the RAM the image leaves
//! free, with a high-water mark for `/stats.json`.
//!
//! The heap holds the TCP buffers, the boxed connection tasks and virtio
//! queues. Its size comes from the DTB memory node, so a board with more RAM
//! simply gets a larger heap.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use linked_list_allocator::LockedHeap;

use crate::services::stats::HeapUsage;

/// The global allocator: a locked first-fit heap plus its high-water mark.
pub struct KernelHeap {
    heap: LockedHeap,
    high_water: AtomicUsize,
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap { heap: LockedHeap::empty(), high_water: AtomicUsize::new(0) };

// SAFETY: delegates to `LockedHeap`, which is a sound `GlobalAlloc`; the
// high-water mark is bookkeeping only.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { self.heap.alloc(layout) };
        if !ptr.is_null() {
            self.high_water.fetch_max(self.heap.lock().used(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { self.heap.dealloc(ptr, layout) }
    }
}

/// Hands `[start, start + size)` to the allocator. Called once, before any allocation.
pub fn init(start: usize, size: usize) {
    // SAFETY: the caller passes RAM that nothing else uses (after the image,
    // outside the DTB), and this runs once before the first allocation.
    unsafe { HEAP.heap.lock().init(start as *mut u8, size) };
}

/// Used, free and high-water bytes.
pub fn usage() -> HeapUsage {
    let heap = HEAP.heap.lock();
    HeapUsage { used: heap.used(), free: heap.free(), high_water: HEAP.high_water.load(Ordering::Relaxed) }
}
