//! Allwinner H3 (4x Cortex-A7): GIC-400 and the generic timer; the sun8i
//! EMAC at SPI 82 driving the SoC's internal 10/100 PHY, which the kernel
//! selects, powers and clocks through system control and the CCU.

use alloc::boxed::Box;

use super::sunxi::{self, SUN8I_EMAC};
use super::{Chip, Devices};
use crate::devices::Uart;
use crate::drivers::sun8i_emac::{Sun8iEmac, Sun8iEmacConfig};
use crate::drivers::sunxi_mmc::FifoAt;
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;
use crate::time::Clock;

/// The internal PHY's MDIO address, as the syscon write below sets it.
const INTERNAL_PHY: u8 = 1;

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
        let nic = Sun8iEmac::new(&config, fallback_mac).map(|emac| Box::new(emac) as Box<dyn NetDevice>);
        // MMC0's AHB clock gate and bus reset.
        let storage = sunxi::sd_storage(&[sunxi::ccu(0x60, 0, 1 << 8), sunxi::ccu(0x2c0, 0, 1 << 8)], FifoAt::Sun6i);
        sunxi::with_gic(nic, storage)
    }
}
