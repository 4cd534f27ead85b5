//! Boot sequence and the idle loop: entry → MMU → console → heap → NIC up →
//! listening, each stage logged with its time since entry.

use alloc::boxed::Box;
use core::cell::RefCell;
use core::fmt::Write as _;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use picoserve::Router;
use wifi::AccessPoint;

use crate::board::{self, Board};
use crate::console::{self, Console};
use crate::counters::HeapUsage;
use crate::net::bridge::{Bridge, BridgeCounters};
use crate::net::datagram::DatagramService;
use crate::net::device::{MacDisplay, NetDevice, NicCounters};
use crate::net::radio::Radio;
use crate::net::tcp::SlotCounters;
use crate::net::Network;
use crate::services::config::{Config, CrashTrigger};
use crate::services::dhcp::{DhcpServer, DhcpService};
use crate::services::dns::{DnsServer, DnsService};
use crate::services::http::{HttpService, Identity};
use crate::services::leaderboard::journal::{JournalError, OpenStatus, RamStore, MIN_BLOCKS};
use crate::services::leaderboard::{self, Booth};
use crate::services::serve::{self, HttpCounters, Serving, TlsStatus};
use crate::services::stats::{Platform, Sources, WifiSource};
use crate::services::tls::{self, TlsServer};
use crate::{arch, crash, dtb, heap, time};

extern "C" {
    static __kernel_end: u8;
}

/// Milliseconds from entry to listening, set once when port 80 listens.
static BOOT_MS: AtomicU32 = AtomicU32::new(0);

/// Uptime, boot time and heap for `/stats.json`, from the real clock and allocator.
struct KernelPlatform;

impl Platform for KernelPlatform {
    fn uptime_ms(&self) -> u64 {
        time::millis_since_power_on()
    }
    fn boot_ms(&self) -> u32 {
        BOOT_MS.load(Ordering::Relaxed)
    }
    fn heap(&self) -> HeapUsage {
        heap::usage()
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
            log::info!("TLS 1.3 on port 443, demo CA {}", tls::CA_FINGERPRINT);
            Some(server)
        }
        Err(error) => {
            log::warn!("TLS off: {error} (HTTP keeps working)");
            None
        }
    }
}

/// Randomness for the access point's own generator, read once from the
/// entropy source (its handshake nonces and group key derive from it).
struct EntropyRng(fn(&mut [u8]) -> bool);

impl rand_core::RngCore for EntropyRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if !(self.0)(dest) {
            log::warn!("Wi-Fi: the entropy source failed; the access point's generator is seeded from the clock");
            let seed = time::ticks().to_le_bytes();
            dest.iter_mut().zip(seed.iter().cycle()).for_each(|(byte, seed)| *byte ^= seed);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// Brings the access point up on `radio` (its address the BSSID), or says
/// why not (the wired network goes on either way). A radio that retries in
/// hardware makes its TX status final (`wifi::Config::hardware_retry`).
fn start_access_point(config: &wifi::Config, radio: &dyn Radio, entropy: fn(&mut [u8]) -> bool) -> Option<RefCell<AccessPoint>> {
    let config = wifi::Config { hardware_retry: radio.capabilities().hardware_retry, ..config.clone() };
    // The access point logs itself coming up (SSID, channel, security, BSSID).
    match AccessPoint::new(config, radio.mac_address(), &mut EntropyRng(entropy)) {
        Ok(ap) => Some(RefCell::new(ap)),
        Err(error) => {
            log::error!("Wi-Fi access point off: {error}");
            None
        }
    }
}

/// Entropy for chips without an RNG device (all the Allwinner ones; see
/// `tls::jitter` for what their SoCs offer): the timing jitter of memory
/// walks, measured with the board's clock. It answers the boot seed (two
/// reads, for the health check) and then at most one read a minute, so
/// handshakes do not pay for the walks; between reads the generator runs on
/// its own key. A failure is logged and leaves TLS off.
fn jitter_entropy(buffer: &mut [u8]) -> bool {
    const BOOT_READS: u32 = 2;
    const RESEED_US: u64 = 60_000_000;
    static READS: AtomicU32 = AtomicU32::new(0);
    static LAST_US: AtomicU64 = AtomicU64::new(0);
    let started = time::micros_since_power_on();
    let reads = READS.load(Ordering::Relaxed);
    if reads >= BOOT_READS && started.saturating_sub(LAST_US.load(Ordering::Relaxed)) < RESEED_US {
        return false;
    }
    match tls::jitter::gather(time::ticks, buffer) {
        Ok(report) => {
            READS.store(reads.saturating_add(1), Ordering::Relaxed);
            LAST_US.store(started, Ordering::Relaxed);
            if reads == 0 {
                let took = time::Millis(time::micros_since_power_on() - started);
                log::info!("entropy: timer jitter, {} samples, ~{} bits estimated, {took} ms", report.samples, report.bits);
            }
            true
        }
        Err(error) => {
            log::warn!("entropy: timer jitter failed: {error}");
            false
        }
    }
}

/// Boots the kernel on `board`, with the DTB the boot loader passed.
pub fn start(board: &Board, dtb_address: usize) -> ! {
    board.init_early();
    let entry_us = time::micros_since_power_on();
    arch::enable_mmu(board.ram.0 as u64);
    console::init(board.chip.uart());
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

    let board::Devices { nic, radio, seed, mut sleeper, entropy, storage } = board::bring_up(board);
    let entropy = entropy.unwrap_or(jitter_entropy);
    let nic_counters = NicCounters::default();
    let bridge_counters = BridgeCounters::default();
    let access_point = radio.as_ref().and_then(|radio| start_access_point(&config.wifi, &**radio, entropy));
    let nic: Box<dyn NetDevice + '_> = match (radio, &access_point) {
        (Some(radio), Some(ap)) => Box::new(Bridge::new(nic, radio, ap, &bridge_counters, time::micros_since_power_on)),
        _ => nic,
    };
    let network = Network::new(nic, &nic_counters, config.address, config.prefix_len, seed, time::micros_since_power_on());
    let mac = network.mac_address();
    log::info!(
        "NIC up: {}, {}/{} (+{} ms)",
        MacDisplay(mac), config.address, config.prefix_len, since_entry()
    );

    let crash_at = match config.crash {
        Some(trigger) if crashes > 0 => {
            log::info!("crash={trigger:?} skipped: this boot follows a crash");
            None
        }
        Some(trigger) if config.crash_after_secs == 0 => {
            log::warn!("crash={trigger:?} asked for on the command line: crashing now");
            crash_on_purpose(trigger)();
            None
        }
        Some(trigger) => {
            log::warn!("crash={trigger:?} asked for on the command line: in {} s", config.crash_after_secs);
            Some((time::micros_since_power_on() + u64::from(config.crash_after_secs) * 1_000_000, crash_on_purpose(trigger)))
        }
        None => None,
    };

    let (http, slots, tls_status) = (HttpCounters::default(), SlotCounters::default(), TlsStatus::default());
    let dhcp = DhcpService::new(DhcpServer::new(&config));
    let dns = DnsService::new(DnsServer::new(), config.address);
    let wifi = access_point.as_ref().map(|ap| WifiSource { ap, bridge: &bridge_counters });
    // The leaderboard lives on the board's storage, or in RAM without one.
    let store = storage.unwrap_or_else(|| Box::new(RamStore::new(MIN_BLOCKS)));
    let (booth, journal) = Booth::new(seed ^ entry_us, store);
    log_journal(journal, booth.storage());
    leaderboard::CRASHES_SURVIVED.store(crashes, Ordering::Relaxed);
    let stats = Sources { platform: &KernelPlatform, http: &http, slots: &slots, nic: &nic_counters, dhcp: &dhcp, dns: &dns, tls: &tls_status, wifi, booth: &booth };
    let identity = Identity { canonical_name: &config.canonical_name, address: config.address };
    let app = Router::from_service(HttpService { stats, identity, booth: &booth });
    let slots_open = config.slots(heap_size);
    if slots_open.lowered {
        log::warn!("slots lowered to {} HTTP and {} HTTPS: the heap holds no more", slots_open.http, slots_open.https);
    }
    let serving = Serving {
        app: &app,
        http_slots: slots_open.http,
        https_slots: slots_open.https,
        start_tls: || start_tls(entropy),
        tls: &tls_status,
        http: &http,
        slots: &slots,
        now_us: time::micros_since_power_on,
        crash_at,
    };
    let datagram_services: [&dyn DatagramService; 2] = [&dhcp, &dns];
    serve::serve(network, serving, &datagram_services, &mut sleeper, || {
        let boot_us = time::micros_since_power_on() - entry_us;
        BOOT_MS.store(((boot_us + 999) / 1000) as u32, Ordering::Relaxed);
        log::info!(
            "listening on http://{}:80/ with {} slots ({} for HTTPS), DHCP and DNS as {} (+{} ms)",
            config.address, slots_open.http, slots_open.https, config.canonical_name, time::Millis(boot_us)
        );
        // The boot log so far goes out now (what the UART takes without
        // waiting), before TLS is set up: whoever watches the console sees
        // "listening" when it is true.
        console::drain(usize::MAX);
    })
}

/// The deliberate crash `crash=` asks for, to test the crash path.
fn crash_on_purpose(trigger: CrashTrigger) -> fn() {
    match trigger {
        CrashTrigger::Panic => || panic!("deliberate crash (crash=panic)"),
        CrashTrigger::Fault => || {
            let _ = arch::touch_unmapped_memory();
        },
    }
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
