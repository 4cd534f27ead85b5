//! Finds this VM's hwsim radios and the addresses their interfaces use, from sysfs.
//!
//! A radio's netlink id is the second line of `/sys/class/ieee80211/phyN/addresses`; the
//! addresses frames are sent to are those of its interfaces (`/sys/class/net/*/phy80211`), which
//! can differ from the permanent one (the peer access point gives its BSS its own address).
//! Re-read whenever a unicast frame names an unknown address, and once a second.

use std::fs;
use std::path::Path;

use crate::link::parse_mac;
use crate::medium::Radio;

/// Every radio under `sys` (normally `/sys`), sorted by phy name, with its interfaces' addresses.
pub fn scan(sys: &Path) -> Vec<Radio> {
    let mut phys: Vec<(String, Radio)> = Vec::new();
    let Ok(entries) = fs::read_dir(sys.join("class/ieee80211")) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(text) = fs::read_to_string(entry.path().join("addresses")) else {
            continue;
        };
        let addrs: Vec<_> = text.lines().filter_map(parse_mac).collect();
        let Some(id) = addrs.get(1).or(addrs.first()) else {
            continue;
        };
        phys.push((
            name,
            Radio {
                id: *id,
                addrs: Vec::new(),
            },
        ));
    }
    if let Ok(nets) = fs::read_dir(sys.join("class/net")) {
        for net in nets.flatten() {
            let Ok(phy) = fs::read_link(net.path().join("phy80211")) else {
                continue;
            };
            let Some(phy) = phy.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            let Some(addr) = fs::read_to_string(net.path().join("address"))
                .ok()
                .and_then(|t| parse_mac(&t))
            else {
                continue;
            };
            if let Some((_, radio)) = phys.iter_mut().find(|(name, _)| *name == phy) {
                radio.addrs.push(addr);
            }
        }
    }
    phys.sort_by(|a, b| a.0.cmp(&b.0));
    phys.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_pairs_netlink_id_with_interface_addresses() {
        let root = std::env::temp_dir().join(format!("hwsim-link-sys-{}", std::process::id()));
        let phy = root.join("class/ieee80211/phy0");
        fs::create_dir_all(&phy).unwrap();
        fs::write(
            phy.join("addresses"),
            "02:00:00:00:00:00\n42:00:00:00:00:00\n",
        )
        .unwrap();
        let wlan = root.join("class/net/wlan0");
        fs::create_dir_all(&wlan).unwrap();
        fs::write(wlan.join("address"), "02:00:00:00:aa:00\n").unwrap();
        std::os::unix::fs::symlink(&phy, wlan.join("phy80211")).unwrap();
        fs::create_dir_all(root.join("class/net/eth1")).unwrap();
        let radios = scan(&root);
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(
            radios,
            vec![Radio {
                id: [0x42, 0, 0, 0, 0, 0],
                addrs: vec![[2, 0, 0, 0, 0xaa, 0]]
            }]
        );
    }

    #[test]
    fn scan_of_missing_sysfs_finds_nothing() {
        assert!(scan(Path::new("/nonexistent")).is_empty());
    }
}
