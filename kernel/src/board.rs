//! What a board is: its name, its RAM, and its chip with the board's own
//! wiring (see `chip`); and the bring-up that turns that into running
//! devices for the network loop.
//!
//! `boards/*/src/main.rs` fill in a `Board` and call `entry!`; `bring_up`
//! (called by `runtime::start` once the heap exists) registers the watchdog,
//! starts the chip's devices and wraps the interrupt controller and alarm in
//! the idle loop's `IdleSleeper`.

#![deny(unsafe_code)]

use alloc::boxed::Box;

use crate::chip::Chip;
use crate::devices::BlockStore;
use crate::drivers::watchdog;
use crate::idle::IdleSleeper;
use crate::net::device::NetDevice;
use crate::net::radio::Radio;
use crate::time;

/// A board: a chip and what the board adds to it.
pub struct Board {
    /// The board's name as people say it, for the boot log.
    pub name: &'static str,
    /// RAM start and size to assume when the DTB says nothing.
    pub ram: (usize, usize),
    /// The SoC, with the board's wiring (PHY addresses) filled in.
    pub chip: &'static dyn Chip,
}

impl Board {
    /// Starts the clock: the first thing `start` does, before the first
    /// timestamp and the MMU (so only plain stores and device accesses here).
    pub fn init_early(&self) {
        time::init(self.chip.clock());
    }
}

/// The running devices `bring_up` hands to the network layer.
pub struct Devices {
    /// The NIC.
    pub nic: Box<dyn NetDevice>,
    /// The Wi-Fi radio, if the chip has one.
    pub radio: Option<Box<dyn Radio>>,
    /// A seed for the TCP stack's randomness.
    pub seed: u64,
    /// How the idle loop waits.
    pub sleeper: IdleSleeper,
    /// The chip's hardware entropy source, if it has one.
    pub entropy: Option<fn(&mut [u8]) -> bool>,
    /// The leaderboard's storage, if the board has some.
    pub storage: Option<Box<dyn BlockStore>>,
}

/// Starts the watchdog, the NIC and the wake-up sources of `board`.
pub fn bring_up(board: &Board) -> Devices {
    if let Some(dog) = board.chip.watchdog() {
        watchdog::register(dog);
    }
    let devices = board.chip.devices(locally_administered_mac(board.name));
    let Some(nic) = devices.nic else {
        panic!("no network device found");
    };
    let mut seed = [0u8; 8];
    let seeded = devices.entropy.is_some_and(|fill| fill(&mut seed));
    // Without an entropy device: the clock's low bits (boot timing varies) and the MAC.
    let seed = if seeded {
        u64::from_le_bytes(seed)
    } else {
        let mac = nic.mac_address();
        time::micros_since_power_on().rotate_left(17) ^ u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x20, 0x48])
    };
    let mut interrupts = nic.interrupt_ids();
    interrupts.extend(devices.radio.as_ref().and_then(|radio| radio.interrupt_id()));
    let sleeper = IdleSleeper::new(devices.wake, interrupts);
    Devices { nic, radio: devices.radio, seed, sleeper, entropy: devices.entropy.filter(|_| seeded), storage: devices.storage }
}

/// A stable, locally administered MAC for NICs that come up without one
/// (QEMU's A10 EMAC, a board started without U-Boot's `ethaddr`).
fn locally_administered_mac(name: &str) -> [u8; 6] {
    let hash = name.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    let [a, b, c, _] = hash.to_le_bytes();
    [0x02, 0x20, 0x48, a, b, c]
}

/// Defines the entry point a board's image starts in: the arch entry code
/// calls it with the DTB address from the boot loader.
#[macro_export]
macro_rules! entry {
    ($board:expr) => {
        #[no_mangle]
        extern "C" fn kernel_main(dtb: usize) -> ! {
            $crate::start(&$board, dtb)
        }
    };
}
