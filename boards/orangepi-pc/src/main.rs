//! Orange Pi PC (Allwinner H3, 4x Cortex-A7; QEMU `-M orangepi-pc`): memory
//! map and drivers only. The EMAC drives the H3's internal 10/100 PHY.

#![no_std]
#![no_main]

use kernel::board::{Board, Clock, Interrupts, Nic};
use kernel::console::Uart;
use kernel::drivers::mmio::RegisterSetup;
use kernel::drivers::sun8i_emac::Sun8iEmacConfig;
use kernel::drivers::watchdog::Watchdog;

/// The internal PHY: selected, powered, 24 MHz clock, MDIO address 1 (syscon
/// EMAC clock register); then the EMAC and PHY clock gates and resets (CCU).
static EMAC_SETUP: [RegisterSetup; 5] = [
    RegisterSetup { addr: 0x01c0_0030, clear: (0x1f << 20) | (1 << 16) | (1 << 13) | 0b111, set: (1 << 20) | (1 << 18) | (1 << 15) },
    RegisterSetup { addr: 0x01c2_0060, clear: 0, set: 1 << 17 },
    RegisterSetup { addr: 0x01c2_0070, clear: 0, set: 1 << 0 },
    RegisterSetup { addr: 0x01c2_02c0, clear: 0, set: 1 << 17 },
    RegisterSetup { addr: 0x01c2_02c8, clear: 0, set: 1 << 2 },
];

static BOARD: Board = Board {
    name: "orangepi-pc",
    ram: (0x4000_0000, 1 << 30),
    uart: Uart::Ns16550 { base: 0x01c2_8000, reg_shift: 2 },
    interrupts: Interrupts::Gic { distributor: 0x01c8_1000, cpu_interface: 0x01c8_2000 },
    clock: Clock::GenericTimer,
    nic: Nic::Sun8iEmac(Sun8iEmacConfig { base: 0x01c3_0000, intid: 32 + 82, phy: Some(1), setup: &EMAC_SETUP }),
    watchdog: Some(Watchdog::Sun6i(0x01c2_0ca0)),
};

kernel::entry!(BOARD);
