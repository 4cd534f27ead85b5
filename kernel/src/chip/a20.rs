//! Allwinner A20 (2x Cortex-A7): GIC-400 and the generic timer; the sun4i
//! EMAC at SPI 55, which shares its pins with the GMAC, so the kernel maps
//! its SRAM, opens its clock gate and muxes port A to it.

use alloc::boxed::Box;

use super::sunxi::{self, SUN4I_EMAC};
use super::{Chip, Devices};
use crate::devices::Uart;
use crate::drivers::sun4i_emac::{Sun4iEmac, Sun4iEmacConfig};
use crate::drivers::sunxi_mmc::FifoAt;
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;
use crate::time::Clock;

/// An A20 and what its board wires to it.
pub struct A20 {
    /// The EMAC's PHY address on MDIO, if known (else the bus is scanned).
    pub emac_phy: Option<u8>,
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
        let nic = Sun4iEmac::new(&config, fallback_mac).map(|emac| Box::new(emac) as Box<dyn NetDevice>);
        // MMC0's AHB clock gate.
        let storage = sunxi::sd_storage(&[sunxi::ccu(0x60, 0, 1 << 8)], FifoAt::Sun4i);
        sunxi::with_gic(nic, None, storage)
    }
}
