//! What a board is made of, as a board crate declares it, and the bring-up
//! that turns that description into running drivers.
//!
//! A board is drivers plus wiring: which console, interrupt controller,
//! clock, NIC and watchdog it has, and where. `boards/*/src/main.rs` fill in
//! a `Board` and call `entry!`; `bring_up` (called by `runtime::start` once
//! the heap exists) starts the NIC and returns the idle loop's sleeper that
//! fits the interrupt controller: GIC + generic timer, the A10's own
//! controller + SoC timer, or plain polling.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::arch;
use crate::console::{self, Uart};
use crate::drivers::gic::Gic;
use crate::drivers::nic::BoardNic;
use crate::drivers::sun4i_emac::{Sun4iEmac, Sun4iEmacConfig};
use crate::drivers::sun4i_intc::Sun4iIntc;
use crate::drivers::sun4i_timer;
use crate::drivers::sun8i_emac::{Sun8iEmac, Sun8iEmacConfig};
use crate::drivers::virtio::{self, VirtioMmioSlots};
use crate::drivers::watchdog::{self, Watchdog};
use crate::net::device::NetDevice;
use crate::net::Sleeper;
use crate::services::tls;
pub use crate::time::Clock;
use crate::time;

/// A board's hardware, in the words the kernel's drivers understand.
pub struct Board {
    /// The board's name as people say it, for the boot log.
    pub name: &'static str,
    /// RAM start and size to assume when the DTB says nothing.
    pub ram: (usize, usize),
    /// The serial console.
    pub uart: Uart,
    /// What wakes the CPU from WFI.
    pub interrupts: Interrupts,
    /// Where monotonic time comes from.
    pub clock: Clock,
    /// The network interface.
    pub nic: Nic,
    /// How to reset when the firmware offers no PSCI.
    pub watchdog: Option<Watchdog>,
}

/// A board's interrupt controller.
#[derive(Clone, Copy, Debug)]
pub enum Interrupts {
    /// ARM GICv2: distributor and CPU interface addresses. Needs `Clock::GenericTimer`.
    Gic {
        /// GICD address.
        distributor: usize,
        /// GICC address.
        cpu_interface: usize,
    },
    /// The Allwinner A10 interrupt controller at this address. Needs `Clock::Sun4iTimer`.
    Sun4i(usize),
    /// None usable: the idle loop polls the NIC and the clock.
    Polling,
}

/// A board's NIC.
#[derive(Clone, Copy, Debug)]
pub enum Nic {
    /// virtio-net found by scanning virtio-mmio slots (also virtio-rng for entropy).
    Virtio(VirtioMmioSlots),
    /// Allwinner A10/A20 EMAC.
    Sun4iEmac(Sun4iEmacConfig),
    /// Allwinner H3/H5/A64 EMAC.
    Sun8iEmac(Sun8iEmacConfig),
}

impl Board {
    /// Starts the clock: the first thing `start` does, before the first
    /// timestamp and the MMU (so only plain stores and device accesses here).
    pub fn init_early(&self) {
        time::init(self.clock);
    }
}

/// The running devices `bring_up` hands to the network layer.
pub struct Devices {
    /// The NIC.
    pub nic: BoardNic,
    /// A seed for the TCP stack's randomness.
    pub seed: u64,
    /// How the idle loop waits.
    pub sleeper: BoardSleeper,
    /// The entropy source for TLS: virtio-rng where there is one, else timer jitter.
    pub entropy: fn(&mut [u8]) -> bool,
}

/// Starts the watchdog, the NIC and the interrupt controller of `board`.
pub fn bring_up(board: &Board) -> Devices {
    watchdog::register(board.watchdog);
    let fallback_mac = locally_administered_mac(board.name);
    let mut entropy = None;
    let nic = match board.nic {
        Nic::Virtio(slots) => {
            let devices = virtio::probe(&slots);
            let mut seed = [0u8; 8];
            if let Some(mut rng) = devices.rng {
                if rng.fill(&mut seed) {
                    entropy = Some(u64::from_le_bytes(seed));
                    virtio::install_entropy(rng);
                }
            }
            devices.net.map(BoardNic::Virtio)
        }
        Nic::Sun4iEmac(config) => Sun4iEmac::new(&config, fallback_mac).map(BoardNic::Sun4i),
        Nic::Sun8iEmac(config) => Sun8iEmac::new(&config, fallback_mac).map(BoardNic::Sun8i),
    };
    let Some(nic) = nic else {
        panic!("no network device found");
    };
    // Without an entropy device: the clock's low bits (boot timing varies) and the MAC.
    let seed = entropy.unwrap_or_else(|| {
        let mac = nic.mac_address();
        time::micros_since_power_on().rotate_left(17) ^ u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x20, 0x48])
    });
    let nic_interrupt = nic.interrupt_id();
    let sleeper = match (board.interrupts, board.clock) {
        (Interrupts::Gic { distributor, cpu_interface }, _) => {
            let gic = Gic::new(distributor, cpu_interface);
            gic.enable(arch::VIRTUAL_TIMER_INTID);
            if let Some(intid) = nic_interrupt {
                gic.enable(intid);
            }
            BoardSleeper::Gic { gic, nic_intid: nic_interrupt }
        }
        (Interrupts::Sun4i(base), Clock::Sun4iTimer(timer)) => {
            let intc = Sun4iIntc::new(base);
            intc.enable(sun4i_timer::ALARM_IRQ);
            if let Some(irq) = nic_interrupt {
                intc.enable(irq);
            }
            BoardSleeper::Sun4i { intc, timer, nic_irq: nic_interrupt }
        }
        _ => BoardSleeper::Polling,
    };
    let entropy_source: fn(&mut [u8]) -> bool = if entropy.is_some() { virtio::entropy } else { jitter_entropy };
    Devices { nic, seed, sleeper, entropy: entropy_source }
}

/// Entropy for boards without an RNG device (all the Allwinner ones; see
/// `tls::jitter` for what their SoCs offer): the timing jitter of memory
/// walks, measured with the board's clock. It answers the boot seed (two
/// reads, for the health check) and then at most one read a minute, so
/// handshakes do not pay for the walks; between reads the generator runs on
/// its own key. A failure is logged and leaves TLS off.
fn jitter_entropy(buffer: &mut [u8]) -> bool {
    const BOOT_READS: u32 = 2;
    const RESEED_US: u64 = 60_000_000;
    static READS: AtomicU32 = AtomicU32::new(0);
    static LAST_US: AtomicU64 = AtomicU64::new(0);
    let started = time::micros_since_power_on();
    let reads = READS.load(Ordering::Relaxed);
    if reads >= BOOT_READS && started.saturating_sub(LAST_US.load(Ordering::Relaxed)) < RESEED_US {
        return false;
    }
    match tls::jitter::gather(time::ticks, buffer) {
        Ok(report) => {
            READS.store(reads.saturating_add(1), Ordering::Relaxed);
            LAST_US.store(started, Ordering::Relaxed);
            if reads == 0 {
                let took = time::Millis(time::micros_since_power_on() - started);
                log::info!("entropy: timer jitter, {} samples, ~{} bits estimated, {took} ms", report.samples, report.bits);
            }
            true
        }
        Err(error) => {
            log::warn!("entropy: timer jitter failed: {error}");
            false
        }
    }
}

/// A stable, locally administered MAC for NICs that come up without one
/// (QEMU's A10 EMAC, a board started without U-Boot's `ethaddr`).
fn locally_administered_mac(name: &str) -> [u8; 6] {
    let hash = name.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    let [a, b, c, _] = hash.to_le_bytes();
    [0x02, 0x20, 0x48, a, b, c]
}

/// How the idle loop sleeps until its deadline or the NIC's next frame.
pub enum BoardSleeper {
    /// WFI, woken by the generic timer or the NIC through the GIC.
    Gic {
        /// The GIC.
        gic: Gic,
        /// The NIC's interrupt, if it has one.
        nic_intid: Option<u32>,
    },
    /// WFI, woken by the A10 timer's alarm or the EMAC through the A10 controller.
    Sun4i {
        /// The interrupt controller.
        intc: Sun4iIntc,
        /// The timer block (alarm = timer 2).
        timer: usize,
        /// The NIC's interrupt, if it has one.
        nic_irq: Option<u32>,
    },
    /// Spin on the clock and the NIC.
    Polling,
}

/// Most console bytes handed to the UART per wake-up. A real UART's FIFO
/// takes 16 to 64 at a time; under QEMU it takes them all, at a host system
/// call each, so this bounds the network's wait to a few milliseconds.
const CONSOLE_BYTES_PER_WAKE: usize = 256;
/// Sleep while console output waits: a 16-byte FIFO empties in 1.4 ms.
const CONSOLE_WAKE_US: u64 = 1_000;

/// Longest sleep for NICs whose PHY is polled: the link watch runs on wake-ups.
const LINK_POLL_US: u64 = 1_000_000;

impl Sleeper<BoardNic> for BoardSleeper {
    fn sleep(&mut self, deadline_us: Option<u64>, nic: &mut BoardNic) {
        // Console output waits for idle moments; while some is left, wake up
        // soon to feed the UART more.
        let deadline_us = if console::drain(CONSOLE_BYTES_PER_WAKE) {
            let soon = time::micros_since_power_on() + CONSOLE_WAKE_US;
            Some(deadline_us.map_or(soon, |deadline| deadline.min(soon)))
        } else {
            deadline_us
        };
        let deadline_us = if nic.polls_link() {
            let latest = time::micros_since_power_on() + LINK_POLL_US;
            Some(deadline_us.map_or(latest, |deadline| deadline.min(latest)))
        } else {
            deadline_us
        };
        match self {
            BoardSleeper::Gic { gic, nic_intid } => {
                arch::set_timer_deadline(deadline_us.map(time::micros_to_ticks));
                arch::wait_for_interrupt();
                while let Some(iar) = gic.acknowledge() {
                    let intid = iar & 0x3ff;
                    if intid == arch::VIRTUAL_TIMER_INTID {
                        arch::set_timer_deadline(None);
                    } else if Some(intid) == *nic_intid {
                        nic.acknowledge_interrupt();
                    }
                    gic.end(iar);
                }
            }
            BoardSleeper::Sun4i { intc, timer, nic_irq } => {
                let now = time::micros_since_power_on();
                let wait_us = deadline_us.map_or(u64::MAX, |deadline| deadline.saturating_sub(now));
                if wait_us > 0 && !nic.frame_pending() {
                    let ticks = wait_us.saturating_mul(sun4i_timer::FREQUENCY / 1_000_000);
                    sun4i_timer::set_alarm(*timer, Some(ticks));
                    arch::wait_for_interrupt();
                    sun4i_timer::set_alarm(*timer, None);
                }
                if intc.is_pending(sun4i_timer::ALARM_IRQ) {
                    sun4i_timer::acknowledge_alarm(*timer);
                }
                if nic_irq.is_some_and(|irq| intc.is_pending(irq)) {
                    nic.acknowledge_interrupt();
                }
            }
            BoardSleeper::Polling => {
                // Give up the turn after at most 1 ms, so the link watch runs too.
                let now = time::micros_since_power_on();
                let until = deadline_us.unwrap_or(u64::MAX).min(now + 1_000);
                while time::micros_since_power_on() < until && !nic.frame_pending() {
                    core::hint::spin_loop();
                }
            }
        }
    }
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
