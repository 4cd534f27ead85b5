//! Captive-portal decisions for HTTP: which answer makes a phone's OS open its
//! sign-in sheet on the game.
//!
//! DNS sends every name to the appliance, so the connectivity probe that an OS
//! fetches right after joining the Wi-Fi arrives here. A request addressed to
//! us gets the site; anything else gets a 302 to `http://<canonical name>/`.
//!
//! Why a redirect for every platform (probes all plain HTTP; never move them to
//! HTTPS, that breaks detection):
//! - Android / ChromeOS expect `204` from `generate_204`. A 302 marks the
//!   network as a portal: "Sign in to Wi-Fi network" appears (newer versions
//!   open it by themselves) and the login view follows the redirect.
//! - Apple expects a 200 page containing `Success`. A 302 pops the captive
//!   sheet, which follows it. Serving the game straight at
//!   `captive.apple.com/hotspot-detect.html` would also pop the sheet, but the
//!   page's relative `app.js` would then be fetched from `captive.apple.com`
//!   and redirected, so the game would not run: the redirect gives it its own
//!   origin.
//! - Windows expects `Microsoft Connect Test`. Anything else makes it report
//!   "action needed" and open the browser on `www.msftconnecttest.com/redirect`,
//!   which we redirect too.
//! - Firefox expects its exact `success` body. A redirect shows the "You must
//!   log in to this network" bar, whose button opens the probe and lands on us.

#![deny(unsafe_code)]

use alloc::format;
use alloc::string::String;
use core::net::{Ipv4Addr, Ipv6Addr};

/// What the HTTP server does with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortalAnswer {
    /// Addressed to us (Host is the canonical name, the appliance's address,
    /// localhost, or absent): serve the site normally.
    Site,
    /// Anything else, the OS probes first: 302 to this URL
    /// (`http://<canonical name>/`).
    Redirect(String),
}

/// One platform's connectivity probes: every host with every path.
struct Probe {
    platform: &'static str,
    hosts: &'static [&'static str],
    paths: &'static [&'static str],
}

/// The probes we know, for the log: the answer does not depend on them.
const PROBES: &[Probe] = &[
    Probe {
        platform: "Android/ChromeOS",
        hosts: &[
            "connectivitycheck.gstatic.com",
            "connectivitycheck.android.com",
            "clients1.google.com",
            "clients3.google.com",
            "www.google.com",
            "play.googleapis.com",
        ],
        paths: &["/generate_204", "/gen_204"],
    },
    Probe {
        platform: "Apple",
        hosts: &[
            "captive.apple.com",
            "www.apple.com",
            "www.appleiphonecell.com",
            "www.itools.info",
            "www.ibook.info",
            "www.airport.us",
            "www.thinkdifferent.us",
        ],
        paths: &["/hotspot-detect.html", "/library/test/success.html"],
    },
    Probe {
        platform: "Windows",
        hosts: &["www.msftconnecttest.com", "www.msftncsi.com"],
        paths: &["/connecttest.txt", "/ncsi.txt", "/redirect"],
    },
    Probe { platform: "Firefox", hosts: &["detectportal.firefox.com"], paths: &["/canonical.html", "/success.txt"] },
];

/// Decides how to answer a request for `path` with Host header `host`.
/// `canonical_name` is the appliance's DNS name, `appliance` its address.
pub fn classify(host: Option<&str>, path: &str, canonical_name: &str, appliance: Ipv4Addr) -> PortalAnswer {
    let name = host.map(without_port);
    if name.is_none_or(|name| is_us(name, canonical_name, appliance)) {
        return PortalAnswer::Site;
    }
    if let Some(platform) = name.and_then(|name| probe(name, path)) {
        log::debug!("captive: {platform} probe, sending the portal");
    }
    PortalAnswer::Redirect(format!("http://{canonical_name}/"))
}

/// The Host header without its port (`10.42.0.1:8080`, `[::1]:8080`) and
/// without a final dot.
fn without_port(host: &str) -> &str {
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or(host, |(literal, _)| literal),
        None => match host.rsplit_once(':') {
            Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        },
    };
    host.strip_suffix('.').unwrap_or(host)
}

/// Our own names. Loopback counts because tests reach the appliance through
/// QEMU's port forwarding on 127.0.0.1:8080.
fn is_us(name: &str, canonical_name: &str, appliance: Ipv4Addr) -> bool {
    name.is_empty()
        || name.eq_ignore_ascii_case(canonical_name)
        || name.eq_ignore_ascii_case("localhost")
        || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip == appliance || ip.is_loopback())
        || name.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// The platform whose connectivity probe this is, if any.
fn probe(name: &str, path: &str) -> Option<&'static str> {
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    PROBES
        .iter()
        .find(|p| p.hosts.iter().any(|h| h.eq_ignore_ascii_case(name)) && p.paths.contains(&path))
        .map(|p| p.platform)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPLIANCE: Ipv4Addr = Ipv4Addr::new(10, 42, 0, 1);

    fn answer(host: Option<&str>, path: &str) -> PortalAnswer {
        classify(host, path, "2048.home.arpa", APPLIANCE)
    }

    fn portal() -> PortalAnswer {
        PortalAnswer::Redirect(String::from("http://2048.home.arpa/"))
    }

    #[test]
    fn captive_os_probes_redirect_to_the_game() {
        let probes = [
            ("connectivitycheck.gstatic.com", "/generate_204", "Android/ChromeOS"),
            ("clients3.google.com", "/generate_204", "Android/ChromeOS"),
            ("www.google.com", "/gen_204", "Android/ChromeOS"),
            ("captive.apple.com", "/hotspot-detect.html", "Apple"),
            ("www.apple.com", "/library/test/success.html", "Apple"),
            ("www.thinkdifferent.us", "/hotspot-detect.html", "Apple"),
            ("www.msftconnecttest.com", "/connecttest.txt", "Windows"),
            ("www.msftconnecttest.com", "/redirect", "Windows"),
            ("www.msftncsi.com", "/ncsi.txt", "Windows"),
            ("detectportal.firefox.com", "/canonical.html", "Firefox"),
            ("detectportal.firefox.com", "/success.txt?ipv4", "Firefox"),
        ];
        for (host, path, platform) in probes {
            assert_eq!(answer(Some(host), path), portal(), "{host}{path}");
            assert_eq!(probe(host, path), Some(platform), "{host}{path}");
        }
        assert_eq!(answer(Some("Captive.Apple.com:80"), "/hotspot-detect.html"), portal());
    }

    #[test]
    fn captive_other_hosts_redirect_to_the_game() {
        for host in ["example.com", "EXAMPLE.COM:80", "10.42.0.2", "10.42.0.1.example", "[2001:db8::1]:80", "10.42.0.1:x"] {
            assert_eq!(answer(Some(host), "/anything"), portal(), "{host}");
        }
        assert_eq!(probe("example.com", "/generate_204"), None);
        assert_eq!(probe("captive.apple.com", "/app.js"), None);
    }

    #[test]
    fn captive_our_own_host_gets_the_site() {
        let ours = [
            "2048.home.arpa",
            "2048.HOME.ARPA.",
            "2048.home.arpa:80",
            "10.42.0.1",
            "10.42.0.1:8080",
            "localhost:8080",
            "LocalHost",
            "127.0.0.1:8080",
            "[::1]:8080",
            "",
        ];
        for host in ours {
            assert_eq!(answer(Some(host), "/"), PortalAnswer::Site, "{host}");
        }
        assert_eq!(answer(None, "/app.js"), PortalAnswer::Site);
        assert_eq!(answer(Some("10.42.0.1"), "/generate_204"), PortalAnswer::Site);
    }

    #[test]
    fn captive_redirect_follows_the_configured_name() {
        let answer = classify(Some("captive.apple.com"), "/hotspot-detect.html", "play.example", APPLIANCE);
        assert_eq!(answer, PortalAnswer::Redirect(String::from("http://play.example/")));
        assert_eq!(classify(Some("play.example"), "/", "play.example", APPLIANCE), PortalAnswer::Site);
    }
}
