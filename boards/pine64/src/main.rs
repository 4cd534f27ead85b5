//! Pine64 (Allwinner A64, 4x Cortex-A53; real hardware only): memory map and
//! drivers only. The EMAC (same block as the H3's) drives an external
//! RTL8211E over RGMII; U-Boot powers the PHY from the PMIC.

#![no_std]
#![no_main]

use kernel::board::{Board, Clock, Interrupts, Nic};
use kernel::console::Uart;
use kernel::drivers::mmio::RegisterSetup;
use kernel::drivers::sun8i_emac::Sun8iEmacConfig;
use kernel::drivers::watchdog::Watchdog;

/// RGMII with the internal transmit clock (syscon EMAC clock register),
/// PD8-PD23 to function 4, "emac" (PIO port D), then the EMAC's clock gate
/// and reset (CCU).
static EMAC_SETUP: [RegisterSetup; 5] = [
    RegisterSetup { addr: 0x01c0_0030, clear: (1 << 15) | (1 << 13) | 0b111, set: (1 << 2) | 0b10 },
    RegisterSetup { addr: 0x01c2_086c, clear: u32::MAX, set: 0x4444_4444 },
    RegisterSetup { addr: 0x01c2_0870, clear: u32::MAX, set: 0x4444_4444 },
    RegisterSetup { addr: 0x01c2_0060, clear: 0, set: 1 << 17 },
    RegisterSetup { addr: 0x01c2_02c0, clear: 0, set: 1 << 17 },
];

static BOARD: Board = Board {
    name: "pine64",
    ram: (0x4000_0000, 512 << 20),
    uart: Uart::Ns16550 { base: 0x01c2_8000, reg_shift: 2 },
    interrupts: Interrupts::Gic { distributor: 0x01c8_1000, cpu_interface: 0x01c8_2000 },
    clock: Clock::GenericTimer,
    nic: Nic::Sun8iEmac(Sun8iEmacConfig { base: 0x01c3_0000, intid: 32 + 82, phy: Some(1), setup: &EMAC_SETUP }),
    watchdog: Some(Watchdog::Sun6i(0x01c2_0ca0)),
};

kernel::entry!(BOARD);
