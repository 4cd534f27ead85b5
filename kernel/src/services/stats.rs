//! `/stats.json`: the appliance's live figures, read where each layer keeps
//! them at the moment a page asks.
//!
//! Every layer owns its counters (the NIC adapter, the TCP slots, HTTP,
//! DHCP, DNS, TLS; the heap and the clock through `Platform`); `Sources`
//! borrows them all and `write_json` renders them, so nothing is copied from
//! one structure to another and the rendering is testable on the host.

#![deny(unsafe_code)]

use core::cell::RefCell;
use core::fmt::{self, Write};
use core::sync::atomic::Ordering;

use wifi::AccessPoint;

use super::dhcp::DhcpService;
use super::dns::DnsService;
use super::leaderboard::Booth;
use super::serve::{HttpCounters, SelfTest, TlsStatus};
use crate::counters::HeapUsage;
use crate::net::bridge::BridgeCounters;
use crate::net::datagram::DatagramService;
use crate::net::device::NicCounters;
use crate::net::tcp::SlotCounters;

/// The platform facts that are not counters: where they come from differs
/// between the kernel and a host test.
pub trait Platform {
    /// Milliseconds since power-on.
    fn uptime_ms(&self) -> u64;
    /// Milliseconds from the kernel's entry to listening (0 until then).
    fn boot_ms(&self) -> u32;
    /// The heap right now.
    fn heap(&self) -> HeapUsage;
}

/// Where each figure of `/stats.json` lives.
pub struct Sources<'a> {
    /// Uptime, boot time, heap.
    pub platform: &'a dyn Platform,
    /// Requests, bad requests, timeouts.
    pub http: &'a HttpCounters,
    /// Open connections, evictions.
    pub slots: &'a SlotCounters,
    /// Frames and drops at the NIC.
    pub nic: &'a NicCounters,
    /// The DHCP server's drops and leases.
    pub dhcp: &'a DhcpService,
    /// The DNS server's queries.
    pub dns: &'a DnsService,
    /// HTTPS and its self-test.
    pub tls: &'a TlsStatus,
    /// The Wi-Fi access point, on boards with a radio.
    pub wifi: Option<WifiSource<'a>>,
    /// The leaderboard: games, refusals, where it is kept.
    pub booth: &'a Booth,
}

/// Where the access point's figures live.
#[derive(Clone, Copy)]
pub struct WifiSource<'a> {
    /// The access point (read between passes of the network loop).
    pub ap: &'a RefCell<AccessPoint>,
    /// What the bridge between radio, wire and stack dropped.
    pub bridge: &'a BridgeCounters,
}

/// Writes `/stats.json` from `sources`.
pub fn write_json(out: &mut impl Write, sources: &Sources) -> fmt::Result {
    let Sources { platform, http, slots, nic, dhcp, dns, tls, wifi, booth } = sources;
    let heap = platform.heap();
    let uptime_ms = platform.uptime_ms();
    let dhcp_figures = dhcp.figures(uptime_ms / 1000);
    let dns_counters = dns.counters();
    write!(
        out,
        concat!(
            "{{\"version\":\"{}\",\"uptime_ms\":{},\"boot_ms\":{},\"requests\":{},",
            "\"bad_requests\":{},\"timed_out\":{},\"evicted\":{},",
            "\"connections\":{{\"open\":{},\"peak\":{}}},",
            "\"heap\":{{\"used\":{},\"free\":{},\"high_water\":{}}},",
            "\"net\":{{\"rx_frames\":{},\"tx_frames\":{},\"rx_dropped\":{},\"tx_dropped\":{},\"syn_held\":{}}},",
            "\"dhcp\":{{\"dropped\":{},\"exhausted\":{},\"queue_full\":{}}},\"dns\":{{\"queries\":{},\"bad\":{},\"queue_full\":{}}}"
        ),
        env!("CARGO_PKG_VERSION"),
        uptime_ms,
        platform.boot_ms(),
        http.requests.get(),
        http.bad_requests.get(),
        http.timed_out.get(),
        slots.evicted.get(),
        slots.connections.get(),
        slots.connections.peak(),
        heap.used,
        heap.free,
        heap.high_water,
        nic.rx_frames.get(),
        nic.tx_frames.get(),
        nic.rx_dropped.get(),
        nic.tx_dropped.get(),
        nic.syn_held.get(),
        dhcp_figures.counters.malformed + dhcp_figures.counters.foreign,
        dhcp_figures.counters.exhausted,
        dhcp.queue_full().get(),
        dns_counters.queries,
        dns_counters.formerr + dns_counters.dropped,
        dns.queue_full().get(),
    )?;
    let self_test = match tls.self_test() {
        SelfTest::Pending => "pending",
        SelfTest::Passed => "passed",
        SelfTest::Failed => "failed",
        SelfTest::Off => "off",
    };
    let (handshakes, failures) = tls.server.get().map_or((0, 0), |server| (server.counters.handshakes.load(Ordering::Relaxed), server.counters.failures()));
    write!(
        out,
        ",\"tls\":{{\"self_test\":\"{self_test}\",\"self_test_handshake_us\":{},\"handshakes\":{handshakes},\"failures\":{failures}}}",
        tls.self_test_handshake_us.get(),
    )?;
    if dhcp_figures.pool > 0 {
        write!(out, ",\"leases\":{{\"active\":{},\"pool\":{}}}", dhcp_figures.leases_active, dhcp_figures.pool)?;
    }
    if let Some(wifi) = wifi {
        write_wifi(out, wifi)?;
    }
    out.write_char(',')?;
    booth.write_stats_json(out)?;
    out.write_char('}')
}

/// The `"wifi"` object: the access point's settings and every counter it
/// keeps (stations, joins, handshake failures, drops by reason), then the
/// bridge's drops.
fn write_wifi(out: &mut impl Write, wifi: &WifiSource) -> fmt::Result {
    let Ok(ap) = wifi.ap.try_borrow() else { return Ok(()) };
    let config = ap.config();
    let security = match config.security {
        wifi::Security::Open => "open",
        wifi::Security::Wpa2 { .. } => "wpa2",
    };
    out.write_str(",\"wifi\":{\"ssid\":\"")?;
    for c in config.ssid.chars() {
        match c {
            '"' | '\\' => write!(out, "\\{c}")?,
            c if c.is_control() => write!(out, "\\u{:04x}", u32::from(c))?,
            c => out.write_char(c)?,
        }
    }
    write!(out, "\",\"channel\":{},\"security\":\"{security}\"", config.channel)?;
    let mut result = Ok(());
    ap.counters().for_each(|name, value| {
        if result.is_ok() {
            result = write!(out, ",\"{name}\":{value}");
        }
    });
    result?;
    let bridge = wifi.bridge;
    write!(
        out,
        ",\"bridge_stack_queue_full\":{},\"bridge_radio_refused\":{},\"bridge_radio_dropped\":{}}}",
        bridge.stack_queue_full.get(),
        bridge.radio_refused.get(),
        bridge.radio_dropped.get()
    )
}

/// Every source of `/stats.json` at zero, for host tests that serve pages.
#[cfg(test)]
pub(crate) struct TestSources {
    pub(crate) http: HttpCounters,
    pub(crate) slots: SlotCounters,
    pub(crate) nic: NicCounters,
    pub(crate) dhcp: DhcpService,
    pub(crate) dns: DnsService,
    pub(crate) tls: TlsStatus,
    pub(crate) booth: Booth,
}

#[cfg(test)]
impl TestSources {
    /// Zeroed counters, the default DHCP pool, DNS answering 10.42.0.1.
    pub(crate) fn new() -> Self {
        use super::config::Config;
        use super::dhcp::DhcpServer;
        use super::dns::DnsServer;
        Self {
            http: HttpCounters::default(),
            slots: SlotCounters::default(),
            nic: NicCounters::default(),
            dhcp: DhcpService::new(DhcpServer::new(&Config::default())),
            dns: DnsService::new(DnsServer::new(), core::net::Ipv4Addr::new(10, 42, 0, 1)),
            tls: TlsStatus::default(),
            booth: Booth::new(1, alloc::boxed::Box::new(super::leaderboard::journal::RamStore::new(super::leaderboard::journal::MIN_BLOCKS))).0,
        }
    }

    /// The sources, on a platform that reports zeros.
    pub(crate) fn sources(&self) -> Sources<'_> {
        Sources { platform: &ZeroPlatform, http: &self.http, slots: &self.slots, nic: &self.nic, dhcp: &self.dhcp, dns: &self.dns, tls: &self.tls, wifi: None, booth: &self.booth }
    }
}

/// A platform whose figures are all zero.
#[cfg(test)]
struct ZeroPlatform;

#[cfg(test)]
impl Platform for ZeroPlatform {
    fn uptime_ms(&self) -> u64 {
        0
    }
    fn boot_ms(&self) -> u32 {
        0
    }
    fn heap(&self) -> HeapUsage {
        HeapUsage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::config::Config;
    use crate::services::dhcp::DhcpServer;

    struct FakePlatform;
    impl Platform for FakePlatform {
        fn uptime_ms(&self) -> u64 {
            61_000
        }
        fn boot_ms(&self) -> u32 {
            3
        }
        fn heap(&self) -> HeapUsage {
            HeapUsage { used: 1024, free: 4096, high_water: 2048 }
        }
    }

    #[test]
    fn json_has_every_figure_the_booth_page_reads() {
        let parts = TestSources::new();
        let no_pool = Config { pool_start: core::net::Ipv4Addr::new(10, 42, 0, 20), pool_end: core::net::Ipv4Addr::new(10, 42, 0, 10), ..Config::default() };
        let dhcp = DhcpService::new(DhcpServer::new(&no_pool));
        parts.http.requests.increment();
        parts.slots.connections.up();
        parts.slots.connections.up();
        parts.slots.connections.down();
        parts.nic.rx_frames.increment();
        let sources = Sources { platform: &FakePlatform, dhcp: &dhcp, ..parts.sources() };
        let mut json = String::new();
        write_json(&mut json, &sources).unwrap();
        assert_eq!(
            json,
            concat!(
                "{\"version\":\"", env!("CARGO_PKG_VERSION"), "\",\"uptime_ms\":61000,\"boot_ms\":3,\"requests\":1,",
                "\"bad_requests\":0,\"timed_out\":0,\"evicted\":0,",
                "\"connections\":{\"open\":1,\"peak\":2},",
                "\"heap\":{\"used\":1024,\"free\":4096,\"high_water\":2048},",
                "\"net\":{\"rx_frames\":1,\"tx_frames\":0,\"rx_dropped\":0,\"tx_dropped\":0,\"syn_held\":0},",
                "\"dhcp\":{\"dropped\":0,\"exhausted\":0,\"queue_full\":0},\"dns\":{\"queries\":0,\"bad\":0,\"queue_full\":0},",
                "\"tls\":{\"self_test\":\"off\",\"self_test_handshake_us\":0,\"handshakes\":0,\"failures\":0},",
                "\"leaderboard\":{\"storage\":\"ram\",\"games\":0,\"issued\":0,\"accepted\":0,\"refused\":{\"replayed\":0,\"forged\":0,",
                "\"mismatched\":0,\"junk\":0,\"too_large\":0,\"rate_limited\":0},\"journal_errors\":0}}"
            )
        );
        let mut leasing = DhcpServer::new(&Config::default());
        crate::services::dhcp::tests::lease(&mut leasing, 1, 0);
        crate::services::dhcp::tests::lease(&mut leasing, 2, 0);
        let dhcp = DhcpService::new(leasing);
        let sources = Sources { dhcp: &dhcp, ..sources };
        json.clear();
        write_json(&mut json, &sources).unwrap();
        assert!(json.contains(",\"leases\":{\"active\":2,\"pool\":241},\"leaderboard\":"), "{json}");
    }

    #[test]
    fn wifi_figures_appear_with_an_access_point() {
        let parts = TestSources::new();
        let config = wifi::Config { ssid: String::from("a \"quoted\" 2048"), ..wifi::Config::default() };
        let ap = crate::net::bridge::tests::access_point_with(config);
        let bridge = BridgeCounters::default();
        let sources = Sources { wifi: Some(WifiSource { ap: &ap, bridge: &bridge }), ..parts.sources() };
        let mut json = String::new();
        write_json(&mut json, &sources).unwrap();
        let wifi = &json[json.find(",\"wifi\":").expect("a wifi object")..];
        assert!(wifi.starts_with(",\"wifi\":{\"ssid\":\"a \\\"quoted\\\" 2048\",\"channel\":6,\"security\":\"open\",\"stations\":0,\"stations_peak\":0,\"joins\":0,"), "{wifi}");
        assert!(wifi.contains(",\"handshake_failures\":0,") && wifi.contains(",\"drop_mic\":0,"), "{wifi}");
        assert!(wifi.contains(",\"bridge_radio_dropped\":0},\"leaderboard\":"), "{wifi}");
    }
}
