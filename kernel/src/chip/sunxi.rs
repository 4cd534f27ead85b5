//! The memory map Allwinner's A10, A20, H3 and A64 share (their manuals'
//! "Memory Mapping" chapters): the blocks every SoC file of this layer uses,
//! so that no address is written twice.

use alloc::boxed::Box;
use alloc::string::String;

use super::{window, Devices};
use crate::drivers::generic_timer::GenericTimerAlarm;
use crate::drivers::gic::Gic;
use crate::drivers::mmio::{Mmio, RegisterSetup};
use crate::drivers::ns16550::Ns16550;
use crate::drivers::ehci::Ehci;
use crate::drivers::ohci::Ohci;
use crate::devices::BlockStore;
use crate::drivers::sunxi_mmc::{FifoAt, SunxiMmc};
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;
use crate::net::radio::Radio;
use crate::partition::{AreaError, Partition};
use crate::rt2800;
use crate::sd::{CardError, HostError, SdCard};
use crate::time;
use crate::usb::bus::{Event, UsbBus};
use crate::usb::ecm::EcmNic;
use crate::usb::rt2800_bus::{start_radio, DongleRadio};
use crate::usb::shared::SharedBus;
use crate::usb::storage::find_leaderboard_stick;
use crate::usb::HostController;

/// UART0, the debug port every board wires to its serial header.
pub static UART0: Ns16550 = Ns16550::new(window(0x01c2_8000, 0x400), 2);

/// The devices of a SoC with a GIC-400 and the generic timer (A20, H3,
/// A64): its NIC, its Wi-Fi radio if a USB dongle came up, and the
/// leaderboard's storage (the SD card's area or a USB stick's), woken by the
/// GIC, no entropy device.
pub fn with_gic(nic: Option<Box<dyn NetDevice>>, radio: Option<Box<dyn Radio>>, storage: Option<Box<dyn BlockStore>>) -> Devices {
    let gic = Gic::new(window(0x01c8_1000, 0x1000), window(0x01c8_2000, 0x2000));
    Devices { nic, radio, wake: Some((Box::new(gic), Box::new(GenericTimerAlarm))), entropy: None, storage }
}

/// The A10/A20 watchdog, in the timer block.
pub fn sun4i_watchdog() -> Watchdog {
    Watchdog::Sun4i(TIMER.window(0x90, 0x10))
}

/// The H3/A64 watchdog 0, in the timer block.
pub fn sun6i_watchdog() -> Watchdog {
    Watchdog::Sun6i(TIMER.window(0xa0, 0x20))
}

/// The timer block (timers, A10/A20 watchdog at +0x90, H3/A64 watchdog at +0xA0).
pub const TIMER: Mmio = window(0x01c2_0c00, 0x400);
/// The A10/A20 EMAC.
pub const SUN4I_EMAC: Mmio = window(0x01c0_b000, 0x1000);
/// The H3/A64 EMAC.
pub const SUN8I_EMAC: Mmio = window(0x01c3_0000, 0x1_0000);

/// System control (SRAM mapping at +0x04, EMAC clock at +0x30).
const SYSCON: Mmio = window(0x01c0_0000, 0x1000);
/// Clock control unit (AHB gates at +0x60, bus resets at +0x2c0).
const CCU: Mmio = window(0x01c2_0000, 0x400);
/// Pin controller, port A at +0x00, port D at +0x6c.
const PIO: Mmio = window(0x01c2_0800, 0x400);

/// The SD card in slot MMC0 (PF0-PF5 on every board of this family), confined
/// to the leaderboard's partition; `None` without a card or without the
/// partition, said on the log (the board then looks for a USB stick with
/// one, else the leaderboard stays in RAM). `gates` opens
/// the controller's clock gate and, on the H3 and A64, lifts its reset.
pub fn sd_storage(gates: &[RegisterSetup], fifo: FifoAt) -> Option<Box<dyn BlockStore>> {
    gates.iter().for_each(RegisterSetup::apply);
    // The module clock from OSC24M undivided; PF0-PF5 to function 2 (SDC0), pulled up.
    ccu(0x88, u32::MAX, 1 << 31).apply();
    pio(0xb4, 0x00ff_ffff, 0x0022_2222).apply();
    pio(0xd0, 0xfff, 0x555).apply();
    let host = match SunxiMmc::new(MMC0, fifo) {
        Ok(host) => host,
        Err(error) => {
            log::error!("SD controller did not reset ({error:?}): leaderboard on a USB stick or in RAM");
            return None;
        }
    };
    let card = match SdCard::identify(host, time::micros_since_power_on) {
        Ok(card) => card,
        Err(CardError::Host(_, HostError::NoResponse)) => {
            log::info!("SD: no card in slot 0: leaderboard on a USB stick or in RAM");
            return None;
        }
        Err(error) => {
            log::error!("SD card not usable ({error:?}): leaderboard on a USB stick or in RAM");
            return None;
        }
    };
    let (name, kind, mib) = (String::from(card.name()), if card.high_capacity() { "SDHC" } else { "SDSC" }, card.blocks() / 2048);
    match Partition::leaderboard(card) {
        Ok(area) => {
            log::info!("SD card {name} ({kind}, {mib} MiB): leaderboard area at block {}, {} blocks", area.first_block(), area.blocks());
            Some(Box::new(area))
        }
        Err(AreaError::NoArea | AreaError::NoTable) => {
            log::warn!("SD card {name} ({kind}, {mib} MiB) has no leaderboard partition (type 0xda; tools/sdcard.sh makes one): leaderboard on a USB stick or in RAM");
            None
        }
        Err(error) => {
            log::error!("SD card {name}: leaderboard partition not used ({error:?}): leaderboard on a USB stick or in RAM");
            None
        }
    }
}

/// MMC0, the SD card slot.
const MMC0: Mmio = window(0x01c0_f000, 0x1000);

/// A change to the system-control register at `offset`.
pub fn syscon(offset: usize, clear: u32, set: u32) -> RegisterSetup {
    RegisterSetup { reg: SYSCON.window(offset, 4), clear, set }
}

/// A change to the clock-control register at `offset`.
pub fn ccu(offset: usize, clear: u32, set: u32) -> RegisterSetup {
    RegisterSetup { reg: CCU.window(offset, 4), clear, set }
}

/// A change to the USB OTG PHY's register at `offset` (H3/A64: USB0's
/// routing between the OTG controller and HCI0 at +0x20).
pub fn usb_otg_phy(offset: usize, clear: u32, set: u32) -> RegisterSetup {
    RegisterSetup { reg: USB_OTG_PHY.window(offset, 4), clear, set }
}

/// The USB PHY control block of USB0 (H3/A64).
const USB_OTG_PHY: Mmio = window(0x01c1_9400, 0x100);

/// A change to the pin-controller register at `offset`.
pub fn pio(offset: usize, clear: u32, set: u32) -> RegisterSetup {
    RegisterSetup { reg: PIO.window(offset, 4), clear, set }
}

/// A pin of the pin controller, as schematics name it (`PH6`).
#[derive(Clone, Copy, Debug)]
pub struct Pin {
    /// The port: 0 for PA, 7 for PH.
    port: u8,
    /// The pin within its port (0-31).
    number: u8,
}

impl Pin {
    /// Pin `number` of port `port` (`'A'` to `'I'`).
    pub const fn new(port: char, number: u8) -> Self {
        Self { port: port as u8 - b'A', number }
    }

    /// The register changes that make the pin an output driven high (the
    /// level set first, so it never drives low): how boards switch on what
    /// a pin powers (a USB port's VBUS). Each port's block is 0x24 bytes:
    /// four configuration registers (4 bits a pin, 1 is output) and the
    /// data register at +0x10.
    pub fn driven_high(self) -> [RegisterSetup; 2] {
        let bank = usize::from(self.port) * 0x24;
        let (config, shift) = (bank + usize::from(self.number / 8) * 4, u32::from(self.number % 8) * 4);
        [pio(bank + 0x10, 0, 1 << self.number), pio(config, 0xf << shift, 1 << shift)]
    }
}

/// One USB host port's controllers: the EHCI's registers (its "HCI"
/// block, with the PHY's pass-by register at +0x800), the OHCI companion's at
/// +0x400, and their interrupts (GIC numbers).
pub struct UsbHost {
    /// The whole HCI block.
    pub hci: Mmio,
    /// The EHCI's interrupt.
    pub ehci_irq: u32,
    /// The OHCI's interrupt.
    pub ohci_irq: u32,
}

impl UsbHost {
    /// The HCI block at `base` (0x1000 long) whose EHCI and OHCI raise these interrupts.
    pub const fn at(base: usize, ehci_irq: u32, ohci_irq: u32) -> Self {
        Self { hci: window(base, 0x1000), ehci_irq, ohci_irq }
    }
}

/// The HCI's PHY control: pass-by of the ULPI interface and the AHB burst
/// modes the EHCI and OHCI need (Linux's phy-sun4i-usb "passby"), and on the
/// H3/A64 the PHY's power-down bit (SIDDQ) cleared.
fn usb_phy_passby(hci: Mmio, clear_siddq: bool) {
    hci.window(0x800, 4).modify(0, 0, (1 << 10) | (1 << 9) | (1 << 8) | (1 << 0));
    if clear_siddq {
        hci.window(0x810, 4).modify(0, 1 << 1, 0);
    }
}

/// The USB bus on `hosts`: their OHCIs first (buses 1 to n: full- and
/// low-speed devices), then their EHCIs (buses n+1 to 2n: high-speed
/// devices; a slower one found there is handed to the OHCI beside it).
/// `gates` opens the clocks and lifts the resets first. A controller that
/// does not start is logged and left out.
pub fn usb_bus(gates: &[RegisterSetup], hosts: &[UsbHost], clear_siddq: bool) -> UsbBus {
    gates.iter().for_each(RegisterSetup::apply);
    let mut controllers: alloc::vec::Vec<Box<dyn HostController>> = alloc::vec::Vec::new();
    for host in hosts {
        usb_phy_passby(host.hci, clear_siddq);
        match Ohci::new(host.hci.window(0x400, 0x400), host.ohci_irq) {
            Ok(ohci) => controllers.push(Box::new(ohci)),
            Err(error) => log::warn!("USB: OHCI at {:#x} not started ({error:?})", host.hci.address() + 0x400),
        }
    }
    let ohcis = controllers.len();
    for host in hosts {
        match Ehci::new(host.hci.window(0, 0x400), host.ehci_irq) {
            Ok(ehci) => controllers.push(Box::new(ehci)),
            Err(error) => log::warn!("USB: EHCI at {:#x} not started ({error:?})", host.hci.address()),
        }
    }
    log::info!("USB: {ohcis} OHCI and {} EHCI controllers up", controllers.len() - ohcis);
    UsbBus::new(controllers)
}

/// What `usb_devices` found plugged in at boot, each holding its device on
/// the shared bus.
pub struct UsbDevices {
    /// A CDC Ethernet adapter, to be the NIC.
    pub nic: Option<Box<dyn NetDevice>>,
    /// An RT5370/RT5372 dongle, to be the Wi-Fi radio.
    pub radio: Option<Box<dyn Radio>>,
    /// A USB stick's leaderboard partition, to keep the leaderboard on.
    pub storage: Option<Box<dyn BlockStore>>,
}

/// The USB bus on `hosts` (see `usb_bus`) with what was plugged in at boot:
/// the first RT5370/RT5372 dongle that comes up is the Wi-Fi radio (taken
/// up again if it is unplugged and plugged back in), the first CDC Ethernet adapter the NIC, and with `want_stick` (the board
/// has no other storage with a leaderboard area) the first mass-storage
/// stick with a leaderboard partition the leaderboard's store. The bus is
/// let go when none of them came up.
pub fn usb_devices(gates: &[RegisterSetup], hosts: &[UsbHost], clear_siddq: bool, want_stick: bool) -> UsbDevices {
    let bus = SharedBus::new(usb_bus(gates, hosts, clear_siddq));
    let mut events = bus.poll();
    let firmware = rt2800::firmware::embedded();
    let radio = start_radio(&bus, &events, firmware, time::micros_since_power_on);
    let mut storage = None;
    if want_stick {
        let (stick, looked_at) = find_leaderboard_stick(&bus, &events, time::micros_since_power_on);
        storage = stick.map(|area| Box::new(area) as Box<dyn BlockStore>);
        // The sticks looked at were logged already: not offered as driverless.
        events.retain(|event| !matches!(event, Event::Attached(id) if looked_at.contains(id)));
    }
    let nic = EcmNic::claim(&bus, &events).map(|nic| Box::new(nic) as Box<dyn NetDevice>);
    // Without an ECM adapter polling the bus, the radio polls it while its dongle is away.
    let radio = radio.zip(firmware).map(|(radio, firmware)| Box::new(DongleRadio::new(bus.clone(), radio, firmware, time::micros_since_power_on, nic.is_none())) as Box<dyn Radio>);
    UsbDevices { nic, radio, storage }
}
