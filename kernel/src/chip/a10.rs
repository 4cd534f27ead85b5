//! Allwinner A10 (Cortex-A8): no GIC and no generic timer, so its own
//! interrupt controller and timer block wake the CPU and keep time; the
//! sun4i EMAC at interrupt 55.
//!
//! Two USB host ports (EHCI + OHCI each, interrupts 39/64 and 40/65), at
//! the A20's addresses: a USB Ethernet adapter found at boot is the NIC
//! instead of the EMAC, an RT5370 dongle the access point's radio, and a
//! USB stick with a leaderboard partition keeps the leaderboard (the board
//! has no SD card driver in use here).
//!
//! The EMAC's SRAM mapping, clock gate and pin mux, and the USB ports'
//! clock gates, PHY resets and VBUS pins, are left as U-Boot set them
//! (QEMU 7.2's `cubieboard` does not model those blocks, and an access to
//! them aborts); the A20 file shows the writes a bare start would need.

use alloc::boxed::Box;

use super::sunxi::{self, UsbHost, SUN4I_EMAC, TIMER};
use super::{window, Chip, Devices};
use crate::devices::Uart;
use crate::drivers::sun4i_emac::{Sun4iEmac, Sun4iEmacConfig};
use crate::drivers::sun4i_intc::Sun4iIntc;
use crate::drivers::sun4i_timer::Sun4iAlarm;
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;
use crate::time::Clock;

/// USB1 and USB2 (USB0 is the OTG port, left to its controller).
const USB_HOSTS: [UsbHost; 2] = [UsbHost::at(0x01c1_4000, 39, 64), UsbHost::at(0x01c1_c000, 40, 65)];

/// An A10 and what its board wires to it.
pub struct A10 {
    /// The EMAC's PHY address on MDIO, if known (else the bus is scanned).
    pub emac_phy: Option<u8>,
}

impl Chip for A10 {
    fn clock(&self) -> Clock {
        Clock::Sun4iTimer(TIMER)
    }

    fn uart(&self) -> &'static dyn Uart {
        &sunxi::UART0
    }

    fn watchdog(&self) -> Option<Watchdog> {
        Some(sunxi::sun4i_watchdog())
    }

    fn devices(&self, fallback_mac: [u8; 6]) -> Devices {
        let config = Sun4iEmacConfig { regs: SUN4I_EMAC, irq: 55, phy: self.emac_phy };
        // No SD card here (QEMU 7.2 models none on the A10): a USB stick's
        // leaderboard partition is the only persistent storage.
        let usb = sunxi::usb_devices(&[], &USB_HOSTS, false, true);
        let nic = usb.nic.or_else(|| Sun4iEmac::new(&config, fallback_mac).map(|emac| Box::new(emac) as Box<dyn NetDevice>));
        let intc = Sun4iIntc::new(window(0x01c2_0400, 0x400));
        Devices { nic, radio: usb.radio, wake: Some((Box::new(intc), Box::new(Sun4iAlarm { block: TIMER }))), entropy: None, storage: usb.storage }
    }
}
