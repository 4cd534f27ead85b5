//! Boot sequence and the idle loop: entry → MMU → console → heap → NIC up →
//! listening, each stage logged with its time since entry.

use core::fmt::Write as _;
use core::net::Ipv4Addr;

use picoserve::Router;

use crate::board::{self, Board};
use crate::console::{self, Console};
use crate::net::{DatagramService, Network};
use crate::services::config::{Config, CrashTrigger};
use crate::services::dhcp::DhcpServer;
use crate::services::dns::DnsServer;
use crate::services::http::{HttpService, Identity};
use crate::services::leaderboard::journal::{JournalError, OpenStatus, RamStore, MIN_BLOCKS};
use crate::services::leaderboard::Booth;
use crate::services::stats::{HeapUsage, Platform, SELF_TEST_PENDING, STATS};
use crate::services::tls::{self, TlsServer};
use crate::{arch, crash, dtb, heap, time};

extern "C" {
    static __kernel_end: u8;
}

/// Uptime and heap for `/stats.json`, from the real clock and allocator.
struct KernelPlatform;

impl Platform for KernelPlatform {
    fn uptime_ms(&self) -> u64 {
        time::millis_since_power_on()
    }
    fn heap(&self) -> HeapUsage {
        heap::usage()
    }
}

/// The DHCP server on port 67, mirroring its figures into `/stats.json`.
struct DhcpPort {
    server: DhcpServer,
    /// When `leases_active` was last recounted (µs since power-on).
    counted_at_us: u64,
}

impl DatagramService for DhcpPort {
    fn port(&self) -> u16 {
        67
    }
    fn handle(&mut self, request: &[u8], _from: (Ipv4Addr, u16), now_us: u64, reply: &mut [u8]) -> Option<(usize, Ipv4Addr, u16)> {
        let now_secs = now_us / 1_000_000;
        let answer = self.server.handle(request, now_secs, reply);
        let counters = self.server.counters();
        STATS.dhcp_dropped.set(counters.malformed + counters.foreign);
        STATS.dhcp_exhausted.set(counters.exhausted);
        self.counted_at_us = 0;
        answer.map(|reply| (reply.len, reply.destination, reply.port))
    }

    fn refresh(&mut self, now_us: u64) {
        if self.counted_at_us == 0 || now_us >= self.counted_at_us + 1_000_000 {
            STATS.leases_active.set(self.server.leases_active(now_us / 1_000_000) as u32);
            self.counted_at_us = now_us.max(1);
        }
    }
}

/// The catch-all DNS server on port 53: every name is the appliance.
struct DnsPort {
    server: DnsServer,
    address: Ipv4Addr,
}

impl DatagramService for DnsPort {
    fn port(&self) -> u16 {
        53
    }
    fn handle(&mut self, request: &[u8], from: (Ipv4Addr, u16), _now_us: u64, reply: &mut [u8]) -> Option<(usize, Ipv4Addr, u16)> {
        let answer = self.server.respond(request, self.address, reply);
        let counters = self.server.counters();
        STATS.dns_queries.set(counters.queries);
        STATS.dns_bad.set(counters.formerr + counters.dropped);
        answer.map(|len| (len, from.0, from.1))
    }
}

/// Brings up the TLS server if there is real entropy; without it TLS stays
/// off (fails closed) and HTTP goes on.
fn start_tls(entropy: fn(&mut [u8]) -> bool) -> Option<TlsServer> {
    tls::set_uptime_source(time::micros_since_power_on);
    if let Err(error) = tls::set_entropy_source(entropy) {
        log::warn!("TLS off: {error} (HTTP keeps working)");
        return None;
    }
    match TlsServer::new() {
        Ok(server) => {
            STATS.tls_self_test.set(SELF_TEST_PENDING);
            log::info!("TLS 1.3 on port 443, demo CA {}", tls::CA_FINGERPRINT);
            Some(server)
        }
        Err(error) => {
            log::warn!("TLS off: {error} (HTTP keeps working)");
            None
        }
    }
}

/// Boots the kernel on `board`, with the DTB the boot loader passed.
pub fn start(board: &Board, dtb_address: usize) -> ! {
    board.init_early();
    let entry_us = time::micros_since_power_on();
    arch::enable_mmu(board.ram.0 as u64);
    console::init(board.uart);
    console::init_logging(log::LevelFilter::Info);
    let crashes = crash::read_crash_record();
    let since_entry = || time::Millis(time::micros_since_power_on() - entry_us);
    let _ = writeln!(Console);
    log::info!("2048 appliance {} on {}", env!("CARGO_PKG_VERSION"), board.name);
    log::info!("entry at {} ms after power-on", time::Millis(entry_us));
    if crashes > 0 {
        log::warn!("previous boot ended in a crash ({crashes} in a row); recovered by reset");
    }

    let boot = dtb::read(dtb_address, board.ram);
    crash::set_reset_method(boot.reset);
    let (ram_start, ram_size) = boot.ram.unwrap_or(board.ram);
    let image_end = core::ptr::addr_of!(__kernel_end) as usize;
    let (heap_start, heap_size) = free_ram(image_end, ram_start + ram_size, boot.dtb);
    heap::init(heap_start, heap_size);
    log::info!("heap: {} KiB at {heap_start:#x} (+{} ms)", heap_size / 1024, since_entry());

    let (config, rejected) = Config::from_bootargs(boot.bootargs());
    for word in &rejected {
        log::warn!("bootargs: ignored '{}': {}", word.word, word.reason);
    }

    let board::Devices { nic, seed, mut sleeper, entropy } = board::bring_up(board);
    let now_us = time::micros_since_power_on;
    let network = Network::new(nic, config.address, config.prefix_len, seed, now_us);
    let mac = network.mac_address();
    log::info!(
        "NIC up: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, {}/{} (+{} ms)",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], config.address, config.prefix_len, since_entry()
    );

    if let Some(trigger) = config.crash {
        if crashes == 0 {
            log::warn!("crash={trigger:?} asked for on the command line: crashing now");
            match trigger {
                CrashTrigger::Panic => panic!("deliberate crash (crash=panic)"),
                CrashTrigger::Fault => {
                    let _ = arch::touch_unmapped_memory();
                }
            }
        } else {
            log::info!("crash={trigger:?} skipped: this boot follows a crash");
        }
    }

    let platform = KernelPlatform;
    let identity = Identity { canonical_name: &config.canonical_name, address: config.address };
    // The leaderboard lives in RAM until a board brings a block device.
    let (booth, journal) = Booth::new(seed ^ entry_us, alloc::boxed::Box::new(RamStore::new(MIN_BLOCKS)));
    log_journal(journal, booth.storage());
    let app = Router::from_service(HttpService { platform: &platform, identity, booth: &booth });
    let dhcp = DhcpServer::new(&config);
    STATS.leases_pool.set(dhcp.pool_size() as u32);
    let mut dhcp = DhcpPort { server: dhcp, counted_at_us: 0 };
    let mut dns = DnsPort { server: DnsServer::new(), address: config.address };
    let slots = config.http_slots;
    let start_tls = || start_tls(entropy);
    network.serve(&app, slots, config.https_slots, start_tls, &mut [&mut dhcp, &mut dns], now_us, &mut sleeper, || {
        let boot_us = time::micros_since_power_on() - entry_us;
        STATS.boot_ms.set(((boot_us + 999) / 1000) as u32);
        log::info!("listening on http://{}:80/ with {slots} slots, DHCP and DNS as {} (+{} ms)", config.address, config.canonical_name, time::Millis(boot_us));
        // The boot log so far goes out now (what the UART takes without
        // waiting), before TLS is set up: whoever watches the console sees
        // "listening" when it is true.
        console::drain(usize::MAX);
    })
}

/// Says on the console what the leaderboard's journal held at boot.
fn log_journal(status: Result<OpenStatus, JournalError>, storage: &str) {
    match status {
        Ok(OpenStatus::Restored { games, bad_blocks }) => log::info!("leaderboard: {games} games restored ({storage}, {bad_blocks} bad blocks)"),
        Ok(OpenStatus::Blank) => log::info!("leaderboard: blank area, started fresh ({storage})"),
        Ok(OpenStatus::Corrupted { bad_blocks }) => log::warn!("leaderboard: area corrupted ({bad_blocks} bad blocks), started fresh ({storage})"),
        Err(error) => log::warn!("leaderboard: journal off ({error:?}), games kept in RAM only"),
    }
}

/// The largest free RAM range after the image, avoiding the DTB.
fn free_ram(image_end: usize, ram_end: usize, dtb: Option<(usize, usize)>) -> (usize, usize) {
    let start = image_end;
    match dtb {
        Some((dtb_start, dtb_size)) if dtb_start >= start && dtb_start < ram_end => {
            let dtb_end = (dtb_start + dtb_size + 0xfff) & !0xfff;
            let below = dtb_start - start;
            let above = ram_end.saturating_sub(dtb_end);
            if below >= above {
                (start, below)
            } else {
                (dtb_end, above)
            }
        }
        _ => (start, ram_end.saturating_sub(start)),
    }
}
