//! Allwinner H3 (4x Cortex-A7): GIC-400 and the generic timer; the sun8i
//! EMAC at SPI 82 driving the SoC's internal 10/100 PHY, which the kernel
//! selects, powers and clocks through system control and the CCU; four USB
//! host ports (EHCI + OHCI each, SPI 72-79). A USB Ethernet adapter found at
//! boot is the NIC instead of the EMAC; an RT5370 dongle found at boot is
//! the access point's radio; a USB stick with a leaderboard partition keeps
//! the leaderboard when the SD card has no such area.

use alloc::boxed::Box;

use super::sunxi::{self, UsbHost, SUN8I_EMAC};
use super::{Chip, Devices};
use crate::devices::Uart;
use crate::drivers::sun8i_emac::{Sun8iEmac, Sun8iEmacConfig};
use crate::drivers::sunxi_mmc::FifoAt;
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;
use crate::time::Clock;

/// The internal PHY's MDIO address, as the syscon write below sets it.
const INTERNAL_PHY: u8 = 1;

/// The four HCI blocks (USB1-3 are host only; USB0 is the OTG port's host
/// side) and their EHCI and OHCI interrupts (H3 manual 4.3 and 4.6).
const USB_HOSTS: [UsbHost; 4] = [
    UsbHost::at(0x01c1_a000, 32 + 72, 32 + 73),
    UsbHost::at(0x01c1_b000, 32 + 74, 32 + 75),
    UsbHost::at(0x01c1_c000, 32 + 76, 32 + 77),
    UsbHost::at(0x01c1_d000, 32 + 78, 32 + 79),
];

/// Starts the USB host ports and enumerates what is plugged in (see
/// `sunxi::usb_devices`): a dongle is the radio, an adapter the NIC, and
/// with `want_stick` a stick with a leaderboard partition the storage.
fn usb_devices(want_stick: bool) -> sunxi::UsbDevices {
    // Clock gates of EHCI0-3 and OHCI0-3 (CCU bus gating 0, bits 24-31);
    // the four PHYs out of reset with their clocks and the OHCIs' 12 MHz
    // clocks (USBPHY_CFG); the EHCIs' resets pulsed, so that whatever a boot
    // loader left them doing stops; the resets of all eight lifted (bus soft
    // reset 0).
    let gates = [
        sunxi::ccu(0x60, 0, 0xff << 24),
        sunxi::ccu(0xcc, 0, 0xf | (0xf << 8) | (0xf << 16)),
        sunxi::ccu(0x2c0, 0xf << 24, 0),
        sunxi::ccu(0x2c0, 0, 0xff << 24),
        // USB0's PHY routed to its HCI rather than to the OTG controller.
        sunxi::usb_otg_phy(0x20, 1 << 0, 0),
    ];
    sunxi::usb_devices(&gates, &USB_HOSTS, true, want_stick)
}

/// An H3 whose EMAC drives the internal PHY (Orange Pi PC, NanoPi NEO).
pub struct H3;

impl Chip for H3 {
    fn clock(&self) -> Clock {
        Clock::GenericTimer
    }

    fn uart(&self) -> &'static dyn Uart {
        &sunxi::UART0
    }

    fn watchdog(&self) -> Option<Watchdog> {
        Some(sunxi::sun6i_watchdog())
    }

    fn devices(&self, fallback_mac: [u8; 6]) -> Devices {
        // The internal PHY selected, powered, on the 24 MHz clock at MDIO
        // address 1 (syscon EMAC clock register); then the EMAC and PHY
        // clock gates and resets (CCU).
        let setup = [
            sunxi::syscon(0x30, (0x1f << 20) | (1 << 16) | (1 << 13) | 0b111, (u32::from(INTERNAL_PHY) << 20) | (1 << 18) | (1 << 15)),
            sunxi::ccu(0x60, 0, 1 << 17),
            sunxi::ccu(0x70, 0, 1 << 0),
            sunxi::ccu(0x2c0, 0, 1 << 17),
            sunxi::ccu(0x2c8, 0, 1 << 2),
        ];
        setup.iter().for_each(|step| step.apply());
        let config = Sun8iEmacConfig { regs: SUN8I_EMAC, intid: 32 + 82, phy: Some(INTERNAL_PHY) };
        // MMC0's AHB clock gate and bus reset. The SD card's leaderboard
        // area first; a USB stick's only when the card has none.
        let sd = sunxi::sd_storage(&[sunxi::ccu(0x60, 0, 1 << 8), sunxi::ccu(0x2c0, 0, 1 << 8)], FifoAt::Sun6i);
        let usb = usb_devices(sd.is_none());
        let nic = usb.nic.or_else(|| Sun8iEmac::new(&config, fallback_mac).map(|emac| Box::new(emac) as Box<dyn NetDevice>));
        sunxi::with_gic(nic, usb.radio, sd.or(usb.storage))
    }
}
