//! Cubieboard2 (Allwinner A20, 2x Cortex-A7; real hardware only): memory map
//! and drivers only. Its 10/100 PHY sits on the pins the EMAC shares with the
//! GMAC, so the EMAC's SRAM, clock gate and pin mux are set here.

#![no_std]
#![no_main]

use kernel::board::{Board, Clock, Interrupts, Nic};
use kernel::console::Uart;
use kernel::drivers::mmio::RegisterSetup;
use kernel::drivers::sun4i_emac::Sun4iEmacConfig;
use kernel::drivers::watchdog::Watchdog;

/// SRAM A3/A4 to the EMAC (SRAM controller), the EMAC's AHB clock gate
/// (CCU), and PA0-PA17 to function 2, "emac" (PIO port A).
static EMAC_SETUP: [RegisterSetup; 5] = [
    RegisterSetup { addr: 0x01c0_0004, clear: 0b11 << 2, set: 0b01 << 2 },
    RegisterSetup { addr: 0x01c2_0060, clear: 0, set: 1 << 17 },
    RegisterSetup { addr: 0x01c2_0800, clear: u32::MAX, set: 0x2222_2222 },
    RegisterSetup { addr: 0x01c2_0804, clear: u32::MAX, set: 0x2222_2222 },
    RegisterSetup { addr: 0x01c2_0808, clear: 0xff, set: 0x22 },
];

static BOARD: Board = Board {
    name: "cubieboard2",
    ram: (0x4000_0000, 1 << 30),
    uart: Uart::Ns16550 { base: 0x01c2_8000, reg_shift: 2 },
    interrupts: Interrupts::Gic { distributor: 0x01c8_1000, cpu_interface: 0x01c8_2000 },
    clock: Clock::GenericTimer,
    nic: Nic::Sun4iEmac(Sun4iEmacConfig { base: 0x01c0_b000, irq: 32 + 55, phy: Some(1), setup: &EMAC_SETUP }),
    watchdog: Some(Watchdog::Sun4i(0x01c2_0c90)),
};

kernel::entry!(BOARD);
