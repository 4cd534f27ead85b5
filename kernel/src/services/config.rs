//! Runtime configuration: board-independent defaults, overridden by
//! `key=value` words in the DTB's `chosen/bootargs`.
//!
//! A booth operator changes the address, the DHCP pool or the name by editing
//! one line in `boot.scr` (or `qemu.sh --append`), with no rebuild. A bad
//! word never stops the boot: it is reported and its default kept.

#![deny(unsafe_code)]

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// What a deliberate crash should look like (for testing the crash path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashTrigger {
    /// A Rust panic.
    Panic,
    /// A data abort on an unmapped address.
    Fault,
}

/// The appliance's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The appliance's own address (`ip=10.42.0.1/24`).
    pub address: Ipv4Addr,
    /// Prefix length of the appliance's network.
    pub prefix_len: u8,
    /// HTTP connection slots (`http_slots=1024`; `None`: sized from RAM, see `slots`).
    pub http_slots: Option<usize>,
    /// HTTPS connection slots (`https_slots=64`; `None`: sized from RAM).
    pub https_slots: Option<usize>,
    /// First address the DHCP server hands out (`dhcp_pool=10.42.0.10-10.42.0.250`).
    pub pool_start: Ipv4Addr,
    /// Last address the DHCP server hands out.
    pub pool_end: Ipv4Addr,
    /// DHCP lease time in seconds (`lease=3600`).
    pub lease_secs: u32,
    /// The appliance's canonical DNS name (`name=2048.home.arpa`).
    pub canonical_name: String,
    /// Crash on purpose once the network is up (`crash=panic` or `crash=fault`).
    pub crash: Option<CrashTrigger>,
    /// Seconds of serving before that crash (`crash_after=5`; 0: at boot), so
    /// a crash can be tested with clients connected.
    pub crash_after_secs: u32,
    /// The access point, used when the board has a radio (`wifi_ssid=2048`,
    /// `wifi_channel=6`, `wifi_security=open|wpa2`, `wifi_passphrase=…`,
    /// `wifi_country=DE`, `wifi_stations=64`, `wifi_isolation=on|off`,
    /// `wifi_inactivity=300` seconds).
    pub wifi: wifi::Config,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            address: Ipv4Addr::new(10, 42, 0, 1),
            prefix_len: 24,
            http_slots: None,
            https_slots: None,
            pool_start: Ipv4Addr::new(10, 42, 0, 10),
            pool_end: Ipv4Addr::new(10, 42, 0, 250),
            lease_secs: 3600,
            canonical_name: String::from("2048.home.arpa"),
            crash: None,
            crash_after_secs: 0,
            wifi: wifi::Config::default(),
        }
    }
}

/// Most slots of either kind a bootarg may ask for; `slots` lowers what
/// the heap cannot hold.
pub const MAX_SLOTS: usize = 4096;

/// Heap an HTTP slot takes, measured (`/stats.json` heap at boot with 16
/// and 64 slots: 34.5 KiB on ARMv7, 41.1 KiB on AArch64): 20 KiB of TCP
/// buffers and the connection task's future, whose pointers double in size.
#[cfg(target_pointer_width = "32")]
pub const HTTP_SLOT_BYTES: usize = 36 * 1024;
/// Heap an HTTP slot takes (see the 32-bit figure).
#[cfg(not(target_pointer_width = "32"))]
pub const HTTP_SLOT_BYTES: usize = 42 * 1024;
/// Heap an HTTPS slot may take: an idle one costs the same as an HTTP slot,
/// plus a TLS connection's state while it is served (26 KiB, bench/tls.sh).
pub const HTTPS_SLOT_BYTES: usize = HTTP_SLOT_BYTES + 26 * 1024;
/// Slots sized from RAM: HTTP gets a quarter of the heap, HTTPS a
/// sixteenth, within these bounds.
const HTTP_SLOTS_FROM_RAM: (usize, usize) = (16, 1024);
const HTTPS_SLOTS_FROM_RAM: (usize, usize) = (8, 256);

/// How many connection slots the appliance opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slots {
    /// On port 80.
    pub http: usize,
    /// On port 443.
    pub https: usize,
    /// A bootarg asked for more than the heap holds and was lowered.
    pub lowered: bool,
}

/// Most stations the access point may be told to hold.
const MAX_STATIONS: usize = 256;

/// `wifi_security` and `wifi_passphrase`, which only make sense together.
#[derive(Default)]
struct WifiSecurity {
    wpa2: bool,
    passphrase: Option<String>,
}

/// A bootargs word that was not applied, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The word as written.
    pub word: String,
    /// Why it was ignored.
    pub reason: &'static str,
}

impl Config {
    /// The slots to open on a heap of `heap_bytes`: what the bootargs asked
    /// for, else sized from RAM (at least 256 HTTP slots on a 128 MiB board
    /// and 1,024 on 1 GiB). Slots take at most three quarters of the heap;
    /// past that, HTTPS slots not asked for shrink first, then what was
    /// asked for is lowered (and `lowered` says so, for the boot log).
    pub fn slots(&self, heap_bytes: usize) -> Slots {
        let from_ram = |share: usize, bytes: usize, (low, high): (usize, usize)| (heap_bytes / share / bytes).clamp(low, high);
        let mut http = self.http_slots.unwrap_or_else(|| from_ram(4, HTTP_SLOT_BYTES, HTTP_SLOTS_FROM_RAM));
        let mut https = self.https_slots.unwrap_or_else(|| from_ram(16, HTTPS_SLOT_BYTES, HTTPS_SLOTS_FROM_RAM));
        let budget = heap_bytes / 4 * 3;
        let cost = |http: usize, https: usize| http * HTTP_SLOT_BYTES + https * HTTPS_SLOT_BYTES;
        let https_room = |http: usize| (budget.saturating_sub(http * HTTP_SLOT_BYTES) / HTTPS_SLOT_BYTES).max(1);
        let mut lowered = false;
        if cost(http, https) > budget && self.https_slots.is_none() {
            https = https.min(https_room(http));
        }
        if cost(http, https) > budget {
            http = http.min((budget.saturating_sub(https * HTTPS_SLOT_BYTES) / HTTP_SLOT_BYTES).max(1));
            https = https.min(https_room(http));
            lowered = true;
        }
        Slots { http, https, lowered }
    }

    /// Applies the words of `bootargs` to the defaults. Words without `=` and
    /// keys meant for other software (`console=...`) are ignored silently;
    /// our keys with bad values are returned as `Rejected`.
    pub fn from_bootargs(bootargs: &str) -> (Self, Vec<Rejected>) {
        let mut config = Self::default();
        let mut rejected = Vec::new();
        let mut security = WifiSecurity::default();
        for word in bootargs.split_ascii_whitespace() {
            let Some((key, value)) = word.split_once('=') else { continue };
            let applied = if key.starts_with("wifi_") { config.apply_wifi(key, value, &mut security) } else { config.apply(key, value) };
            if let Err(reason) = applied {
                rejected.push(Rejected { word: String::from(word), reason });
            }
        }
        match security {
            WifiSecurity { wpa2: true, passphrase: Some(passphrase) } => config.wifi.security = wifi::Security::Wpa2 { passphrase },
            WifiSecurity { wpa2: true, passphrase: None } => {
                rejected.push(Rejected { word: String::from("wifi_security=wpa2"), reason: "needs wifi_passphrase=: the network stays open" });
            }
            WifiSecurity { wpa2: false, .. } => {}
        }
        if let Err(reason) = config.check_pool() {
            if bootargs.contains("dhcp_pool=") {
                rejected.push(Rejected { word: String::from("dhcp_pool"), reason });
            }
            config.derive_pool();
        }
        (config, rejected)
    }

    fn apply(&mut self, key: &str, value: &str) -> Result<(), &'static str> {
        match key {
            "ip" => {
                let (address, prefix) = value.split_once('/').unwrap_or((value, "24"));
                let address: Ipv4Addr = address.parse().map_err(|_| "not an IPv4 address")?;
                let prefix: u8 = prefix.parse().map_err(|_| "prefix is not a number")?;
                if !(8..=30).contains(&prefix) {
                    return Err("prefix must be 8 to 30");
                }
                self.address = address;
                self.prefix_len = prefix;
            }
            "http_slots" => {
                let slots: usize = value.parse().map_err(|_| "not a number")?;
                if !(1..=MAX_SLOTS).contains(&slots) {
                    return Err("must be 1 to 4096");
                }
                self.http_slots = Some(slots);
            }
            "https_slots" => {
                let slots: usize = value.parse().map_err(|_| "not a number")?;
                if !(1..=MAX_SLOTS).contains(&slots) {
                    return Err("must be 1 to 4096");
                }
                self.https_slots = Some(slots);
            }
            "dhcp_pool" => {
                let (start, end) = value.split_once('-').ok_or("expected FIRST-LAST")?;
                self.pool_start = start.parse().map_err(|_| "first address is not IPv4")?;
                self.pool_end = end.parse().map_err(|_| "last address is not IPv4")?;
            }
            "lease" => {
                let secs: u32 = value.parse().map_err(|_| "not a number of seconds")?;
                if !(60..=7 * 24 * 3600).contains(&secs) {
                    return Err("must be 60 s to 7 days");
                }
                self.lease_secs = secs;
            }
            "name" => {
                let valid = !value.is_empty()
                    && value.len() <= 253
                    && value.split('.').all(|label| {
                        !label.is_empty() && label.len() <= 63 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    });
                if !valid {
                    return Err("not a valid DNS name");
                }
                self.canonical_name = value.to_ascii_lowercase();
            }
            "crash" => {
                self.crash = Some(match value {
                    "panic" => CrashTrigger::Panic,
                    "fault" => CrashTrigger::Fault,
                    _ => return Err("expected panic or fault"),
                });
            }
            "crash_after" => {
                let secs: u32 = value.parse().map_err(|_| "not a number")?;
                if secs > 86_400 {
                    return Err("must be 0 to 86400 seconds");
                }
                self.crash_after_secs = secs;
            }
            _ => {}
        }
        Ok(())
    }

    fn apply_wifi(&mut self, key: &str, value: &str, security: &mut WifiSecurity) -> Result<(), &'static str> {
        let wifi = &mut self.wifi;
        match key {
            "wifi_ssid" => {
                if value.is_empty() || value.len() > 32 {
                    return Err("must be 1 to 32 bytes");
                }
                wifi.ssid = String::from(value);
            }
            "wifi_channel" => {
                let channel: u8 = value.parse().map_err(|_| "not a number")?;
                if !(1..=13).contains(&channel) {
                    return Err("must be 1 to 13");
                }
                wifi.channel = channel;
            }
            "wifi_security" => {
                security.wpa2 = match value {
                    "open" => false,
                    "wpa2" => true,
                    _ => return Err("expected open or wpa2"),
                };
            }
            "wifi_passphrase" => {
                if !(8..=63).contains(&value.len()) || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                    return Err("must be 8 to 63 printable ASCII characters");
                }
                security.passphrase = Some(String::from(value));
            }
            "wifi_country" => {
                let code: [u8; 2] = value.as_bytes().try_into().map_err(|_| "expected two letters")?;
                if !code.iter().all(u8::is_ascii_alphabetic) {
                    return Err("expected two letters");
                }
                wifi.country = code.map(|letter| letter.to_ascii_uppercase());
            }
            "wifi_stations" => {
                let stations: usize = value.parse().map_err(|_| "not a number")?;
                if !(1..=MAX_STATIONS).contains(&stations) {
                    return Err("must be 1 to 256");
                }
                wifi.max_stations = stations;
            }
            "wifi_isolation" => {
                wifi.client_isolation = match value {
                    "on" => true,
                    "off" => false,
                    _ => return Err("expected on or off"),
                };
            }
            "wifi_inactivity" => {
                let secs: u64 = value.parse().map_err(|_| "not a number of seconds")?;
                if !(1..=86_400).contains(&secs) {
                    return Err("must be 1 s to a day");
                }
                wifi.inactivity_timeout_us = secs * 1_000_000;
            }
            _ => return Err("not a Wi-Fi setting"),
        }
        Ok(())
    }

    /// The netmask of the appliance's network.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0))
    }

    fn same_network(&self, other: Ipv4Addr) -> bool {
        let mask = u32::from(self.netmask());
        u32::from(other) & mask == u32::from(self.address) & mask
    }

    /// A pool in the appliance's own network: .10 to .250 of a /24 (or the
    /// like in a larger network), or every other host of a smaller one.
    fn derive_pool(&mut self) {
        let mask = u32::from(self.netmask());
        let network = u32::from(self.address) & mask;
        let broadcast = network | !mask;
        let (start, end) = if self.prefix_len <= 24 { (network | 10, network | 250) } else { (network + 1, broadcast - 1) };
        let own = u32::from(self.address);
        let (start, end) = if own == start { (start + 1, end) } else if own == end { (start, end - 1) } else if (start..=end).contains(&own) { (own + 1, end) } else { (start, end) };
        self.pool_start = Ipv4Addr::from(start);
        self.pool_end = Ipv4Addr::from(end);
    }

    fn check_pool(&self) -> Result<(), &'static str> {
        let (start, end) = (u32::from(self.pool_start), u32::from(self.pool_end));
        if start > end {
            return Err("pool ends before it starts");
        }
        if !self.same_network(self.pool_start) || !self.same_network(self.pool_end) {
            return Err("pool is outside the appliance's network");
        }
        if (start..=end).contains(&u32::from(self.address)) {
            return Err("pool contains the appliance's own address");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn slots_are_sized_from_ram() {
        let config = Config::default();
        // A 128 MiB board's 64 MiB heap; a 1 GiB board's.
        // A 64-bit host: AArch64's slot sizes.
        assert_eq!(config.slots(64 * MIB), Slots { http: 390, https: 60, lowered: false });
        assert_eq!(config.slots(1000 * MIB), Slots { http: 1024, https: 256, lowered: false });
        assert_eq!(config.slots(8 * MIB), Slots { http: 48, https: 8, lowered: false });
    }

    #[test]
    fn slots_asked_for_fit_the_heap_or_are_lowered() {
        let (config, _) = Config::from_bootargs("http_slots=1024");
        let slots = config.slots(64 * MIB);
        assert_eq!((slots.http, slots.lowered), (1024, false), "1,024 connections on a 128 MiB board");
        assert!(slots.http * HTTP_SLOT_BYTES + slots.https * HTTPS_SLOT_BYTES <= 48 * MIB);
        let (config, _) = Config::from_bootargs("http_slots=4096 https_slots=4096");
        let slots = config.slots(64 * MIB);
        assert!(slots.lowered && slots.http >= 1 && slots.https >= 1, "{slots:?}");
        assert!(slots.http * HTTP_SLOT_BYTES + slots.https * HTTPS_SLOT_BYTES <= 48 * MIB, "{slots:?}");
        let (config, _) = Config::from_bootargs("http_slots=16 https_slots=8");
        assert_eq!(config.slots(64 * MIB), Slots { http: 16, https: 8, lowered: false });
        let (_, rejected) = Config::from_bootargs("http_slots=4097 https_slots=0");
        assert_eq!(rejected.len(), 2, "{rejected:?}");
    }

    #[test]
    fn defaults_are_the_appliance_network() {
        let (config, rejected) = Config::from_bootargs("console=ttyAMA0");
        assert_eq!(config, Config::default());
        assert!(rejected.is_empty());
        assert_eq!(config.netmask(), Ipv4Addr::new(255, 255, 255, 0));
    }

    #[test]
    fn bootargs_override_each_setting() {
        let (config, rejected) = Config::from_bootargs(
            "ip=192.168.7.1/16 http_slots=32 https_slots=4 dhcp_pool=192.168.7.100-192.168.7.110 lease=120 name=Game.Example crash=fault crash_after=5",
        );
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(config.address, Ipv4Addr::new(192, 168, 7, 1));
        assert_eq!(config.prefix_len, 16);
        assert_eq!(config.netmask(), Ipv4Addr::new(255, 255, 0, 0));
        assert_eq!(config.http_slots, Some(32));
        assert_eq!(config.https_slots, Some(4));
        assert_eq!(config.pool_start, Ipv4Addr::new(192, 168, 7, 100));
        assert_eq!(config.pool_end, Ipv4Addr::new(192, 168, 7, 110));
        assert_eq!(config.lease_secs, 120);
        assert_eq!(config.canonical_name, "game.example");
        assert_eq!(config.crash, Some(CrashTrigger::Fault));
        assert_eq!(config.crash_after_secs, 5);
    }

    #[test]
    fn bad_values_are_rejected_and_defaults_kept() {
        let (config, rejected) =
            Config::from_bootargs("ip=10.42.0.999 http_slots=0 lease=abc name=bad..name crash=maybe crash_after=86401 dhcp_pool=1");
        assert_eq!(config, Config::default());
        let words: Vec<_> = rejected.iter().map(|r| r.word.as_str()).collect();
        assert_eq!(words, ["ip=10.42.0.999", "http_slots=0", "lease=abc", "name=bad..name", "crash=maybe", "crash_after=86401", "dhcp_pool=1"]);
    }

    #[test]
    fn wifi_settings_come_from_the_bootargs() {
        let (config, rejected) = Config::from_bootargs(
            "wifi_ssid=Booth-2048 wifi_channel=11 wifi_passphrase=correct-horse wifi_security=wpa2 wifi_country=us wifi_stations=8 wifi_isolation=off wifi_inactivity=5",
        );
        assert_eq!(rejected, []);
        let wifi = config.wifi;
        assert_eq!((wifi.ssid.as_str(), wifi.channel, wifi.country), ("Booth-2048", 11, *b"US"));
        assert_eq!(wifi.security, wifi::Security::Wpa2 { passphrase: String::from("correct-horse") });
        assert_eq!((wifi.max_stations, wifi.client_isolation, wifi.inactivity_timeout_us), (8, false, 5_000_000));
    }

    #[test]
    fn bad_wifi_settings_keep_the_open_booth_network() {
        let (config, rejected) = Config::from_bootargs(
            "wifi_ssid=012345678901234567890123456789012 wifi_channel=14 wifi_security=wep wifi_passphrase=short wifi_country=D wifi_stations=0 wifi_isolation=maybe wifi_inactivity=0 wifi_power=max",
        );
        assert_eq!(config.wifi, wifi::Config::default());
        assert_eq!(rejected.len(), 9);
        let (config, rejected) = Config::from_bootargs("wifi_security=wpa2");
        assert_eq!(config.wifi.security, wifi::Security::Open);
        assert_eq!(rejected[0].word, "wifi_security=wpa2");
    }

    #[test]
    fn a_pool_outside_the_network_falls_back() {
        let (config, rejected) = Config::from_bootargs("dhcp_pool=10.43.0.10-10.43.0.20");
        assert_eq!(rejected.len(), 1);
        assert_eq!(config.pool_start, Config::default().pool_start);
        let (config, rejected) = Config::from_bootargs("ip=192.168.1.1");
        assert!(rejected.is_empty());
        assert_eq!((config.pool_start, config.pool_end), (Ipv4Addr::new(192, 168, 1, 10), Ipv4Addr::new(192, 168, 1, 250)));
        let (config, _) = Config::from_bootargs("ip=172.16.0.1/29");
        assert_eq!((config.pool_start, config.pool_end), (Ipv4Addr::new(172, 16, 0, 2), Ipv4Addr::new(172, 16, 0, 6)));
        let (_, rejected) = Config::from_bootargs("dhcp_pool=10.42.0.1-10.42.0.20");
        assert_eq!(rejected[0].reason, "pool contains the appliance's own address");
    }
}
