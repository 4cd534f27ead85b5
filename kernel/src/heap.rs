//! The kernel heap: `linked_list_allocator` over the RAM the image leaves
//! free, with a high-water mark for `/stats.json`.
//!
//! The heap holds the TCP buffers, the boxed connection tasks and virtio
//! queues. Its size comes from the DTB memory node, so a board with more RAM
//! simply gets a larger heap.
//!
//! The Cargo feature `talc` swaps in `talc` (an O(1)-ish segregated-fit
//! allocator) for comparison: `KERNEL_FEATURES=talc tools/build.sh BOARD`.
//! `bench/tls.sh` measures both under TLS load (handshakes/s, `wrk` over
//! HTTPS at 16 connections, heap high-water); figures in the TLS section of
//! bench/RESULTS.md. linked_list_allocator stays the default: on 2026-12-01
//! (2 rounds per board) talc changed handshakes/s by -2.3% (armv7) and +1.5%
//! (aarch64), HTTPS req/s by +9.7% and -3.8% with p99 latency twice as bad on
//! armv7, and the heap high-water by under 0.1%. First-fit walks a short free list
//! here (TLS buffers are few and large), so the O(1) allocator buys nothing
//! worth a second allocator in the image.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::counters::HeapUsage;

#[cfg(not(feature = "talc"))]
mod imp {
    use core::alloc::{GlobalAlloc, Layout};

    use linked_list_allocator::LockedHeap;

    /// A locked first-fit heap that knows its own used and free bytes.
    pub struct Heap(LockedHeap);

    impl Heap {
        pub const fn empty() -> Self {
            Heap(LockedHeap::empty())
        }

        /// # Safety
        /// `[start, start + size)` is unused RAM; called once, before any allocation.
        pub unsafe fn init(&self, start: usize, size: usize) {
            // SAFETY: forwarded contract.
            unsafe { self.0.lock().init(start as *mut u8, size) };
        }

        /// # Safety
        /// The `GlobalAlloc::alloc` contract: `layout` has a non-zero size.
        pub unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded `GlobalAlloc` contract.
            unsafe { self.0.alloc(layout) }
        }

        /// # Safety
        /// The `GlobalAlloc::dealloc` contract: `ptr` came from `alloc` with this `layout`.
        pub unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded `GlobalAlloc` contract.
            unsafe { self.0.dealloc(ptr, layout) }
        }

        /// Used bytes (as the allocator counts them).
        pub fn used(&self) -> usize {
            self.0.lock().used()
        }

        /// Used and free bytes.
        pub fn usage(&self) -> (usize, usize) {
            let heap = self.0.lock();
            (heap.used(), heap.free())
        }
    }
}

#[cfg(feature = "talc")]
mod imp {
    use core::alloc::{GlobalAlloc, Layout};
    use core::sync::atomic::{AtomicUsize, Ordering};

    use talc::{ErrOnOom, Span, Talc, Talck};

    /// talc behind a spin lock, plus the byte counts `/stats.json` wants
    /// (requested sizes, as linked_list_allocator counts them).
    pub struct Heap {
        talc: Talck<spin::Mutex<()>, ErrOnOom>,
        size: AtomicUsize,
        used: AtomicUsize,
    }

    impl Heap {
        pub const fn empty() -> Self {
            Heap { talc: Talc::new(ErrOnOom).lock(), size: AtomicUsize::new(0), used: AtomicUsize::new(0) }
        }

        /// # Safety
        /// `[start, start + size)` is unused RAM; called once, before any allocation.
        pub unsafe fn init(&self, start: usize, size: usize) {
            // SAFETY: forwarded contract.
            let claimed = unsafe { self.talc.lock().claim(Span::from_base_size(start as *mut u8, size)) };
            if let Ok(span) = claimed {
                self.size.store(span.size(), Ordering::Relaxed);
            }
        }

        /// # Safety
        /// The `GlobalAlloc::alloc` contract: `layout` has a non-zero size.
        pub unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded `GlobalAlloc` contract.
            let ptr = unsafe { self.talc.alloc(layout) };
            if !ptr.is_null() {
                self.used.fetch_add(layout.size(), Ordering::Relaxed);
            }
            ptr
        }

        /// # Safety
        /// The `GlobalAlloc::dealloc` contract: `ptr` came from `alloc` with this `layout`.
        pub unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded `GlobalAlloc` contract.
            unsafe { self.talc.dealloc(ptr, layout) };
            self.used.fetch_sub(layout.size(), Ordering::Relaxed);
        }

        /// Used bytes (requested sizes).
        pub fn used(&self) -> usize {
            self.used.load(Ordering::Relaxed)
        }

        /// Used and free bytes.
        pub fn usage(&self) -> (usize, usize) {
            let used = self.used();
            (used, self.size.load(Ordering::Relaxed).saturating_sub(used))
        }
    }
}

/// The global allocator: the heap plus its high-water mark.
pub struct KernelHeap {
    heap: imp::Heap,
    high_water: AtomicUsize,
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap { heap: imp::Heap::empty(), high_water: AtomicUsize::new(0) };

// SAFETY: delegates to a sound `GlobalAlloc` (`LockedHeap` or `Talck`); the
// high-water mark is bookkeeping only.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { self.heap.alloc(layout) };
        if !ptr.is_null() {
            self.high_water.fetch_max(self.heap.used(), Ordering::Relaxed);
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
    unsafe { HEAP.heap.init(start, size) };
}

/// Used, free and high-water bytes.
pub fn usage() -> HeapUsage {
    let (used, free) = HEAP.heap.usage();
    HeapUsage { used, free, high_water: HEAP.high_water.load(Ordering::Relaxed) }
}
