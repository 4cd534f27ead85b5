//! The appliance's 802.11 access point, sans-IO: radio frames and the time in,
//! frames out through an [`Outbox`]. Phones join the appliance's own network;
//! this is all of its MAC-level logic (beacons, joining, power save, retries,
//! bridging, WPA2 via [`rsn`]) without hardware or clock, so it is tested on
//! the host. Formats follow IEEE 802.11-2020; choices follow hostapd/mac80211.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod ap;
pub mod counters;
mod queue;
pub mod rsn;
mod station;
pub mod wire;

pub use ap::AccessPoint;
pub use counters::Counters;

use alloc::string::String;
use core::fmt;

/// How the access point is set up (from the bootargs, in the kernel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Network name, 1..=32 bytes.
    pub ssid: String,
    /// 2.4 GHz channel, 1..=13 (1..=11 for US/CA).
    pub channel: u8,
    /// Open or WPA2-PSK.
    pub security: Security,
    /// ISO 3166 country code for the country element (two capital letters).
    pub country: [u8; 2],
    /// Most stations associated at once (AIDs 1..=max_stations, at most 2007).
    pub max_stations: usize,
    /// Whether station-to-station traffic stays off the air (only the wired side sees it).
    pub client_isolation: bool,
    /// Silence after which a station is probed with a null frame, then dropped.
    pub inactivity_timeout_us: u64,
    /// Beacons per DTIM (when dozing stations wake for group traffic), 1..=255.
    pub dtim_period: u8,
    /// The radio retries unacknowledged frames itself; `tx_status` is then final.
    pub hardware_retry: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ssid: String::from("2048"),
            channel: 6,
            security: Security::Open,
            country: *b"DE",
            max_stations: 64,
            client_isolation: true,
            inactivity_timeout_us: 300_000_000,
            dtim_period: 2,
            hardware_retry: false,
        }
    }
}

impl Config {
    /// The channel's centre frequency, for the radio and the link's wrapper.
    pub fn frequency_mhz(&self) -> u16 {
        2407 + 5 * u16::from(self.channel)
    }

    /// Checks every field; `AccessPoint::new` refuses a config that fails.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.ssid.is_empty() || self.ssid.len() > 32 {
            return Err(ConfigError::Ssid);
        }
        if !self.country.iter().all(u8::is_ascii_uppercase) {
            return Err(ConfigError::Country);
        }
        let last = if matches!(&self.country, b"US" | b"CA") {
            11
        } else {
            13
        };
        if !(1..=last).contains(&self.channel) {
            return Err(ConfigError::Channel);
        }
        if !(1..=2007).contains(&self.max_stations) {
            return Err(ConfigError::MaxStations);
        }
        if self.dtim_period == 0 {
            return Err(ConfigError::DtimPeriod);
        }
        if let Security::Wpa2 { passphrase } = &self.security {
            let printable = passphrase.bytes().all(|b| (0x20..=0x7e).contains(&b));
            if !(8..=63).contains(&passphrase.len()) || !printable {
                return Err(ConfigError::Passphrase);
            }
        }
        Ok(())
    }
}

/// Network security.
#[derive(Clone, PartialEq, Eq)]
pub enum Security {
    /// No encryption: anyone in range joins.
    Open,
    /// WPA2-Personal (CCMP, PSK) with this passphrase (8..=63 printable ASCII).
    Wpa2 {
        /// The passphrase the PSK is derived from.
        passphrase: String,
    },
}

impl fmt::Debug for Security {
    // The passphrase stays out of logs and crash reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Security::Open => f.write_str("Open"),
            Security::Wpa2 { .. } => f.write_str("Wpa2"),
        }
    }
}

/// Why a [`Config`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// SSID empty or longer than 32 bytes.
    Ssid,
    /// Channel outside 1..=13 (1..=11 for US/CA).
    Channel,
    /// Country not two capital letters.
    Country,
    /// Station limit outside 1..=2007.
    MaxStations,
    /// DTIM period 0.
    DtimPeriod,
    /// Passphrase not 8..=63 printable ASCII characters.
    Passphrase,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::Ssid => "wifi_ssid must be 1 to 32 bytes",
            ConfigError::Channel => "wifi_channel must be 1 to 13 (11 in US/CA)",
            ConfigError::Country => "wifi_country must be two capital letters",
            ConfigError::MaxStations => "the station limit must be 1 to 2007",
            ConfigError::DtimPeriod => "the DTIM period must be at least 1",
            ConfigError::Passphrase => "wifi_passphrase must be 8 to 63 printable ASCII characters",
        })
    }
}

/// Where the access point's output goes: the radio, and the wired side.
pub trait Outbox {
    /// An 802.11 frame (no FCS) for the radio. With `Some(token)`, the radio
    /// reports whether it was acknowledged through [`AccessPoint::tx_status`].
    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>);
    /// An Ethernet II frame from a station, for the bridge or the local stack.
    fn deliver(&mut self, ethernet: &[u8]);
}

/// Formats a MAC address as `02:00:00:00:01:00` for logs.
pub struct Mac<'a>(pub &'a wire::MacAddr);

impl fmt::Display for Mac<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_on_channel_6() {
        let c = Config::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.frequency_mhz(), 2437);
    }

    #[test]
    fn config_fields_out_of_range_are_refused() {
        let bad = |f: fn(&mut Config)| {
            let mut c = Config::default();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert_eq!(bad(|c| c.ssid.clear()), ConfigError::Ssid);
        assert_eq!(bad(|c| c.ssid = "x".repeat(33)), ConfigError::Ssid);
        assert_eq!(bad(|c| c.channel = 14), ConfigError::Channel);
        assert_eq!(
            bad(|c| (c.channel, c.country) = (12, *b"US")),
            ConfigError::Channel
        );
        assert_eq!(bad(|c| c.country = *b"de"), ConfigError::Country);
        assert_eq!(bad(|c| c.max_stations = 0), ConfigError::MaxStations);
        assert_eq!(bad(|c| c.dtim_period = 0), ConfigError::DtimPeriod);
        assert_eq!(
            bad(|c| c.security = Security::Wpa2 {
                passphrase: "short".into()
            }),
            ConfigError::Passphrase
        );
        assert_eq!(
            bad(|c| c.security = Security::Wpa2 {
                passphrase: "tab\there!".into()
            }),
            ConfigError::Passphrase
        );
    }

    #[test]
    fn passphrase_never_shows_in_debug_output() {
        let s = Security::Wpa2 {
            passphrase: "correct horse".into(),
        };
        assert_eq!(alloc::format!("{s:?}"), "Wpa2");
    }

    #[test]
    fn mac_formats_with_colons() {
        assert_eq!(
            alloc::format!("{}", Mac(&[2, 0, 0, 0, 0x1a, 0])),
            "02:00:00:00:1a:00"
        );
    }
}
