//! Ethernet PHYs over MDIO (IEEE 802.3 clause 22): finding the PHY,
//! starting auto-negotiation and watching the link.
//!
//! Both Allwinner EMACs reach their PHY through an MDIO bus; the register
//! meanings are standard, so the shared logic sits here and each MAC driver
//! only supplies the bus (`Mdio`). The link is polled about once a second,
//! so a cable pulled and plugged back at the booth is noticed and logged,
//! and the MAC is told the negotiated speed and duplex again.

const BMCR: u8 = 0;
const BMSR: u8 = 1;
const PHYID1: u8 = 2;
const ANAR: u8 = 4;
const ANLPAR: u8 = 5;
const CTRL1000: u8 = 9;
const BMCR_AUTONEG_ENABLE: u16 = 1 << 12;
const BMCR_AUTONEG_RESTART: u16 = 1 << 9;
const BMSR_LINK_UP: u16 = 1 << 2;
const ANAR_100_FULL: u16 = 1 << 8;
const ANAR_100_HALF: u16 = 1 << 7;
const ANAR_10_FULL: u16 = 1 << 6;

/// How often the link state is read.
const POLL_INTERVAL_US: u64 = 1_000_000;

/// A MAC's MDIO bus.
pub trait Mdio {
    /// Reads a PHY register; `None` if the bus timed out.
    fn mdio_read(&mut self, phy: u8, register: u8) -> Option<u16>;
    /// Writes a PHY register.
    fn mdio_write(&mut self, phy: u8, register: u8, value: u16);
}

/// The link as negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Carrier present.
    pub up: bool,
    /// 100 Mbit/s (else 10).
    pub fast: bool,
    /// Full duplex.
    pub full_duplex: bool,
}

impl Link {
    const DOWN: Link = Link { up: false, fast: false, full_duplex: false };
}

/// Finds the first PHY that answers with a plausible ID, preferring `hint`.
pub fn find_phy(bus: &mut impl Mdio, hint: Option<u8>) -> Option<u8> {
    hint.into_iter().chain(0..32).find(|&phy| {
        matches!(bus.mdio_read(phy, PHYID1), Some(id) if id != 0xffff)
            && matches!(bus.mdio_read(phy, BMSR), Some(status) if status != 0xffff && status != 0)
    })
}

/// Advertises 10/100 and (re)starts auto-negotiation.
pub fn start_autonegotiation(bus: &mut impl Mdio, phy: u8) {
    let advertised = bus.mdio_read(phy, ANAR).unwrap_or(0x01e1);
    bus.mdio_write(phy, ANAR, advertised | ANAR_100_FULL | ANAR_100_HALF | ANAR_10_FULL | (1 << 5) | 1);
    // Gigabit PHYs (Pine64's RTL8211E): advertise no 1000BASE-T, the MAC runs at 10/100.
    bus.mdio_write(phy, CTRL1000, 0);
    bus.mdio_write(phy, BMCR, BMCR_AUTONEG_ENABLE | BMCR_AUTONEG_RESTART);
}

/// Reads the link state: carrier, and the best mode both ends advertise.
pub fn read_link(bus: &mut impl Mdio, phy: u8) -> Link {
    // BMSR latches link-down: the second read is the current state.
    let _ = bus.mdio_read(phy, BMSR);
    let Some(status) = bus.mdio_read(phy, BMSR) else { return Link::DOWN };
    if status & BMSR_LINK_UP == 0 {
        return Link::DOWN;
    }
    let common = bus.mdio_read(phy, ANAR).unwrap_or(0) & bus.mdio_read(phy, ANLPAR).unwrap_or(0);
    if common & (ANAR_100_FULL | ANAR_100_HALF) != 0 {
        Link { up: true, fast: true, full_duplex: common & ANAR_100_FULL != 0 }
    } else {
        Link { up: true, fast: false, full_duplex: common & ANAR_10_FULL != 0 }
    }
}

/// Polls a PHY's link about once a second and reports changes.
pub struct LinkWatch {
    /// The PHY's MDIO address.
    pub phy: u8,
    /// The state last seen.
    pub link: Link,
    next_poll_us: u64,
}

impl LinkWatch {
    /// Starts watching `phy`, whose state is `link`.
    pub fn new(phy: u8, link: Link) -> Self {
        Self { phy, link, next_poll_us: 0 }
    }

    /// Reads the link if a poll is due; returns the new state if it changed.
    pub fn poll(&mut self, bus: &mut impl Mdio, now_us: u64) -> Option<Link> {
        if now_us < self.next_poll_us {
            return None;
        }
        self.next_poll_us = now_us + POLL_INTERVAL_US;
        let link = read_link(bus, self.phy);
        if link == self.link {
            return None;
        }
        self.link = link;
        if link.up {
            log::info!("link up: {} Mbit/s, {} duplex", if link.fast { 100 } else { 10 }, if link.full_duplex { "full" } else { "half" });
        } else {
            log::warn!("link down (cable unplugged?); waiting for it to come back");
        }
        Some(link)
    }
}
