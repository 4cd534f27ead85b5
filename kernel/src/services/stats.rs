//! Live counters of the appliance, and their `/stats.json` rendering.
//!
//! Counters are lock-free atomics that any layer bumps (frames in the NIC
//! adapter, requests in HTTP); the JSON is rendered on demand from a
//! `Snapshot` so that the rendering is testable on the host.

#![deny(unsafe_code)]

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, Ordering};

/// A monotonically increasing event count.
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
    /// Events so far.
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
    /// Sets an absolute value (for figures measured once, like boot time).
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

/// Every counter the appliance keeps.
pub struct Stats {
    /// Milliseconds from entry to listening, measured by the kernel.
    pub boot_ms: Counter,
    /// HTTP requests answered.
    pub requests: Counter,
    /// Requests refused as malformed (400, 431).
    pub bad_requests: Counter,
    /// Connections closed for being idle or too slow.
    pub timed_out: Counter,
    /// Idle connections closed early to make room for a new client.
    pub evicted: Counter,
    /// Open HTTP connections.
    pub connections: Gauge,
    /// Ethernet frames received.
    pub rx_frames: Counter,
    /// Ethernet frames sent.
    pub tx_frames: Counter,
    /// Received frames dropped (bad length, errors).
    pub rx_dropped: Counter,
    /// Frames the NIC refused to send.
    pub tx_dropped: Counter,
    /// DHCP leases in force (0 when no DHCP server runs).
    pub leases_active: Counter,
    /// Addresses in the DHCP pool.
    pub leases_pool: Counter,
    /// DHCP packets dropped as malformed or not for us.
    pub dhcp_dropped: Counter,
    /// DISCOVERs left unanswered because the pool was full.
    pub dhcp_exhausted: Counter,
    /// DNS datagrams received.
    pub dns_queries: Counter,
    /// DNS datagrams dropped or answered FORMERR.
    pub dns_bad: Counter,
    /// The TLS boot self-test: `SELF_TEST_OFF`, `_PENDING`, `_PASSED` or `_FAILED`.
    pub tls_self_test: Counter,
    /// The self-test's handshake time in µs.
    pub tls_self_test_handshake_us: Counter,
    /// TLS handshakes completed on port 443.
    pub tls_handshakes: Counter,
    /// TLS connections that ended before or during the handshake (alerts,
    /// garbage, timeouts, TLS 1.2-only clients).
    pub tls_failures: Counter,
}

/// `tls_self_test`: TLS is off (no entropy or no certificate).
pub const SELF_TEST_OFF: u32 = 0;
/// `tls_self_test`: not finished yet.
pub const SELF_TEST_PENDING: u32 = 1;
/// `tls_self_test`: passed.
pub const SELF_TEST_PASSED: u32 = 2;
/// `tls_self_test`: failed.
pub const SELF_TEST_FAILED: u32 = 3;

/// The one set of counters.
pub static STATS: Stats = Stats::new();

impl Stats {
    /// Every counter at zero.
    pub const fn new() -> Self {
        Self {
            boot_ms: Counter::new(),
            requests: Counter::new(),
            bad_requests: Counter::new(),
            timed_out: Counter::new(),
            evicted: Counter::new(),
            connections: Gauge::new(),
            rx_frames: Counter::new(),
            tx_frames: Counter::new(),
            rx_dropped: Counter::new(),
            tx_dropped: Counter::new(),
            leases_active: Counter::new(),
            leases_pool: Counter::new(),
            dhcp_dropped: Counter::new(),
            dhcp_exhausted: Counter::new(),
            dns_queries: Counter::new(),
            dns_bad: Counter::new(),
            tls_self_test: Counter::new(),
            tls_self_test_handshake_us: Counter::new(),
            tls_handshakes: Counter::new(),
            tls_failures: Counter::new(),
        }
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

/// Heap figures in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeapUsage {
    /// Allocated now.
    pub used: usize,
    /// Free now.
    pub free: usize,
    /// Most ever allocated at once.
    pub high_water: usize,
}

/// The platform facts that are not counters: where they come from differs
/// between the kernel and a host test.
pub trait Platform {
    /// Milliseconds since power-on.
    fn uptime_ms(&self) -> u64;
    /// The heap right now.
    fn heap(&self) -> HeapUsage;
}

/// Writes `/stats.json` for `stats` as seen on `platform`.
pub fn write_json(out: &mut impl Write, stats: &Stats, platform: &dyn Platform) -> fmt::Result {
    let heap = platform.heap();
    write!(
        out,
        concat!(
            "{{\"version\":\"{}\",\"uptime_ms\":{},\"boot_ms\":{},\"requests\":{},",
            "\"bad_requests\":{},\"timed_out\":{},\"evicted\":{},",
            "\"connections\":{{\"open\":{},\"peak\":{}}},",
            "\"heap\":{{\"used\":{},\"free\":{},\"high_water\":{}}},",
            "\"net\":{{\"rx_frames\":{},\"tx_frames\":{},\"rx_dropped\":{},\"tx_dropped\":{}}},",
            "\"dhcp\":{{\"dropped\":{},\"exhausted\":{}}},\"dns\":{{\"queries\":{},\"bad\":{}}}"
        ),
        env!("CARGO_PKG_VERSION"),
        platform.uptime_ms(),
        stats.boot_ms.get(),
        stats.requests.get(),
        stats.bad_requests.get(),
        stats.timed_out.get(),
        stats.evicted.get(),
        stats.connections.get(),
        stats.connections.peak(),
        heap.used,
        heap.free,
        heap.high_water,
        stats.rx_frames.get(),
        stats.tx_frames.get(),
        stats.rx_dropped.get(),
        stats.tx_dropped.get(),
        stats.dhcp_dropped.get(),
        stats.dhcp_exhausted.get(),
        stats.dns_queries.get(),
        stats.dns_bad.get(),
    )?;
    let self_test = match stats.tls_self_test.get() {
        SELF_TEST_PENDING => "pending",
        SELF_TEST_PASSED => "passed",
        SELF_TEST_FAILED => "failed",
        _ => "off",
    };
    write!(
        out,
        ",\"tls\":{{\"self_test\":\"{self_test}\",\"self_test_handshake_us\":{},\"handshakes\":{},\"failures\":{}}}",
        stats.tls_self_test_handshake_us.get(),
        stats.tls_handshakes.get(),
        stats.tls_failures.get()
    )?;
    if stats.leases_pool.get() > 0 {
        write!(out, ",\"leases\":{{\"active\":{},\"pool\":{}}}", stats.leases_active.get(), stats.leases_pool.get())?;
    }
    out.write_char('}')
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FakePlatform;
    impl Platform for FakePlatform {
        fn uptime_ms(&self) -> u64 {
            61_000
        }
        fn heap(&self) -> HeapUsage {
            HeapUsage { used: 1024, free: 4096, high_water: 2048 }
        }
    }

    #[test]
    fn json_has_every_figure_the_booth_page_reads() {
        let stats = Stats::new();
        stats.boot_ms.set(3);
        stats.requests.increment();
        stats.connections.up();
        stats.connections.up();
        stats.connections.down();
        stats.rx_frames.increment();
        let mut json = String::new();
        write_json(&mut json, &stats, &FakePlatform).unwrap();
        assert_eq!(
            json,
            concat!(
                "{\"version\":\"", env!("CARGO_PKG_VERSION"), "\",\"uptime_ms\":61000,\"boot_ms\":3,\"requests\":1,",
                "\"bad_requests\":0,\"timed_out\":0,\"evicted\":0,",
                "\"connections\":{\"open\":1,\"peak\":2},",
                "\"heap\":{\"used\":1024,\"free\":4096,\"high_water\":2048},",
                "\"net\":{\"rx_frames\":1,\"tx_frames\":0,\"rx_dropped\":0,\"tx_dropped\":0},",
                "\"dhcp\":{\"dropped\":0,\"exhausted\":0},\"dns\":{\"queries\":0,\"bad\":0},",
                "\"tls\":{\"self_test\":\"off\",\"self_test_handshake_us\":0,\"handshakes\":0,\"failures\":0}}"
            )
        );
        stats.leases_pool.set(241);
        stats.leases_active.set(2);
        json.clear();
        write_json(&mut json, &stats, &FakePlatform).unwrap();
        assert!(json.ends_with(",\"leases\":{\"active\":2,\"pool\":241}}"), "{json}");
    }
}
