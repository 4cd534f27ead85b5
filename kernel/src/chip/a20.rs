//! Allwinner A20 (2x Cortex-A7): GIC-400 and the generic timer; the sun4i
//! EMAC at SPI 55, which shares its pins with the GMAC, so the kernel maps
//! its SRAM, opens its clock gate and muxes port A to it; two USB host ports
//! (EHCI + OHCI each, SPI 39/64 and 40/65), powered by board pins. A USB
//! Ethernet adapter found at boot is the NIC instead of the EMAC; an RT5370
//! dongle the access point's radio.

use alloc::boxed::Box;

use super::sunxi::{self, UsbHost, SUN4I_EMAC};
use super::{Chip, Devices};
use crate::devices::Uart;
use crate::drivers::sun4i_emac::{Sun4iEmac, Sun4iEmacConfig};
use crate::drivers::sunxi_mmc::FifoAt;
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;
use crate::time::Clock;

pub use super::sunxi::Pin;

/// USB1 and USB2 (USB0 is the OTG port, left to its controller), as on
/// the A10: HCI blocks 0x8000 apart, EHCIs at SPI 39-40, OHCIs at 64-65.
const USB_HOSTS: [UsbHost; 2] = [UsbHost::at(0x01c1_4000, 32 + 39, 32 + 64), UsbHost::at(0x01c1_c000, 32 + 40, 32 + 65)];

/// An A20 and what its board wires to it.
pub struct A20 {
    /// The EMAC's PHY address on MDIO, if known (else the bus is scanned).
    pub emac_phy: Option<u8>,
    /// The pins that switch on the USB host ports' 5 V (VBUS), driven high
    /// before the controllers start.
    pub usb_vbus: &'static [Pin],
}

impl A20 {
    /// Powers and starts the USB host ports and takes what is plugged in
    /// (see `sunxi::usb_devices`). The A20 has no USB resets: AHB gates of
    /// EHCI0, OHCI0, EHCI1 and OHCI1 (bits 1-4), then the PHYs of USB1 and
    /// USB2 out of reset, the OHCIs' 12 MHz clocks and the PHY clock
    /// (USB clock register: bits 1-2, 6-7, 8). `want_stick`: a USB stick's
    /// leaderboard partition is wanted (the SD card has none).
    fn usb_devices(&self, want_stick: bool) -> sunxi::UsbDevices {
        self.usb_vbus.iter().flat_map(|pin| pin.driven_high()).for_each(|step| step.apply());
        let gates = [sunxi::ccu(0x60, 0, 0b1111 << 1), sunxi::ccu(0xcc, 0, (0b11 << 1) | (0b11 << 6) | (1 << 8))];
        sunxi::usb_devices(&gates, &USB_HOSTS, false, want_stick)
    }
}

impl Chip for A20 {
    fn clock(&self) -> Clock {
        Clock::GenericTimer
    }

    fn uart(&self) -> &'static dyn Uart {
        &sunxi::UART0
    }

    fn watchdog(&self) -> Option<Watchdog> {
        Some(sunxi::sun4i_watchdog())
    }

    fn devices(&self, fallback_mac: [u8; 6]) -> Devices {
        // SRAM A3/A4 to the EMAC, its AHB clock gate, PA0-PA17 to function 2 ("emac").
        let setup = [
            sunxi::syscon(0x04, 0b11 << 2, 0b01 << 2),
            sunxi::ccu(0x60, 0, 1 << 17),
            sunxi::pio(0x00, u32::MAX, 0x2222_2222),
            sunxi::pio(0x04, u32::MAX, 0x2222_2222),
            sunxi::pio(0x08, 0xff, 0x22),
        ];
        setup.iter().for_each(|step| step.apply());
        let config = Sun4iEmacConfig { regs: SUN4I_EMAC, irq: 32 + 55, phy: self.emac_phy };
        // MMC0's AHB clock gate. The SD card's leaderboard area first; a
        // USB stick's only when the card has none.
        let sd = sunxi::sd_storage(&[sunxi::ccu(0x60, 0, 1 << 8)], FifoAt::Sun4i);
        let usb = self.usb_devices(sd.is_none());
        let nic = usb.nic.or_else(|| Sun4iEmac::new(&config, fallback_mac).map(|emac| Box::new(emac) as Box<dyn NetDevice>));
        sunxi::with_gic(nic, usb.radio, sd.or(usb.storage))
    }
}
