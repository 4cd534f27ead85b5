//! Allwinner A64 (4x Cortex-A53): GIC-400 and the generic timer; the sun8i
//! EMAC (the H3's block) at SPI 82, which has no internal PHY here: it
//! drives an external one over RGMII on port D.

use alloc::boxed::Box;

use super::sunxi::{self, SUN8I_EMAC};
use super::{Chip, Devices};
use crate::devices::Uart;
use crate::drivers::sun8i_emac::{Sun8iEmac, Sun8iEmacConfig};
use crate::drivers::sunxi_mmc::FifoAt;
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;
use crate::time::Clock;

/// An A64 and what its board wires to it.
pub struct A64 {
    /// The RGMII PHY's MDIO address, if known (else the bus is scanned).
    pub emac_phy: Option<u8>,
}

impl Chip for A64 {
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
        // RGMII with the internal transmit clock (syscon EMAC clock
        // register), PD8-PD23 to function 4 ("emac"), then the EMAC's clock
        // gate and reset (CCU).
        let setup = [
            sunxi::syscon(0x30, (1 << 15) | (1 << 13) | 0b111, (1 << 2) | 0b10),
            sunxi::pio(0x6c, u32::MAX, 0x4444_4444),
            sunxi::pio(0x70, u32::MAX, 0x4444_4444),
            sunxi::ccu(0x60, 0, 1 << 17),
            sunxi::ccu(0x2c0, 0, 1 << 17),
        ];
        setup.iter().for_each(|step| step.apply());
        let config = Sun8iEmacConfig { regs: SUN8I_EMAC, intid: 32 + 82, phy: self.emac_phy };
        let nic = Sun8iEmac::new(&config, fallback_mac).map(|emac| Box::new(emac) as Box<dyn NetDevice>);
        // MMC0's AHB clock gate and bus reset.
        let storage = sunxi::sd_storage(&[sunxi::ccu(0x60, 0, 1 << 8), sunxi::ccu(0x2c0, 0, 1 << 8)], FifoAt::Sun6i);
        sunxi::with_gic(nic, None, storage)
    }
}
