//! The counter and gauge types every layer keeps its figures in.
//!
//! A leaf module: it imports nothing from the kernel, so the NIC adapter,
//! the TCP slots, the heap and the services can each own their counters and
//! hand them out by reference; `/stats.json` reads them where they live.
//! Lock-free atomics: one core, and a counter is bumped from inside the
//! network loop while a page renders it.

#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};

/// A monotonically increasing event count.
#[derive(Debug)]
pub struct Counter(AtomicU32);

impl Counter {
    /// Starts at zero.
    pub const fn new() -> Self {
        Self(AtomicU32::new(0))
    }
    /// Counts one event.
    pub fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts `n` events at once.
    pub fn add(&self, n: u32) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Events so far.
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
    /// Sets an absolute value (for figures measured once, like a handshake time).
    pub fn set(&self, value: u32) {
        self.0.store(value, Ordering::Relaxed);
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

/// A level that goes up and down, with its peak.
#[derive(Debug)]
pub struct Gauge {
    now: AtomicU32,
    peak: AtomicU32,
}

impl Gauge {
    /// Starts at zero.
    pub const fn new() -> Self {
        Self { now: AtomicU32::new(0), peak: AtomicU32::new(0) }
    }
    /// One more.
    pub fn up(&self) {
        let now = self.now.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
    /// One fewer.
    pub fn down(&self) {
        self.now.fetch_sub(1, Ordering::Relaxed);
    }
    /// The current level.
    pub fn get(&self) -> u32 {
        self.now.load(Ordering::Relaxed)
    }
    /// The highest level seen.
    pub fn peak(&self) -> u32 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Default for Gauge {
    fn default() -> Self {
        Self::new()
    }
}

/// Heap figures in bytes, as the allocator reports them.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeapUsage {
    /// Allocated now.
    pub used: usize,
    /// Free now.
    pub free: usize,
    /// Most ever allocated at once.
    pub high_water: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_keeps_its_peak_after_going_down() {
        let gauge = Gauge::new();
        gauge.up();
        gauge.up();
        gauge.down();
        assert_eq!((gauge.get(), gauge.peak()), (1, 2));
    }
}
