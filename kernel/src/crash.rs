//! Fatal errors: a readable report on the serial console, then a reset.
//!
//! A booth board must heal itself: any unexpected exception or Rust panic
//! prints what happened (kind, PC, fault address, message) and resets the
//! machine through PSCI, or the board's watchdog where there is no PSCI. A
//! record in `.noinit` RAM survives the warm reset so that the next boot says
//! why it happened.

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use crate::arch;
use crate::console::Console;

const PSCI_SYSTEM_RESET: u32 = 0x8400_0009;
const RECORD_MAGIC: u32 = 0x2048_dead;

/// How this machine resets itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetMethod {
    /// No known way: halt.
    None,
    /// PSCI through `hvc`.
    PsciHvc,
    /// PSCI through `smc`.
    PsciSmc,
}

static RESET_METHOD: AtomicU8 = AtomicU8::new(0);

#[link_section = ".noinit"]
static RECORD_CHECK: AtomicU32 = AtomicU32::new(0);
#[link_section = ".noinit"]
static RECORD_COUNT: AtomicU32 = AtomicU32::new(0);

/// Sets how `fatal` resets the machine.
pub fn set_reset_method(method: ResetMethod) {
    RESET_METHOD.store(method as u8, Ordering::Relaxed);
}

/// Crashes in a row before this boot, read once at boot from `.noinit`.
static CRASHES_BEFORE_BOOT: AtomicU32 = AtomicU32::new(0);

/// Reads (once, at boot) how many crashes in a row preceded this boot: 0
/// after a cold boot or a clean reset. Clears the record, so that only a
/// crash in this boot sets it again.
pub fn read_crash_record() -> u32 {
    let count = RECORD_COUNT.load(Ordering::Relaxed);
    let valid = RECORD_CHECK.load(Ordering::Relaxed) == RECORD_MAGIC ^ count;
    RECORD_CHECK.store(0, Ordering::Relaxed);
    let count = if valid { count } else { 0 };
    CRASHES_BEFORE_BOOT.store(count, Ordering::Relaxed);
    count
}

/// What the exception vectors saw.
pub struct ExceptionReport {
    /// What went wrong, in words.
    pub kind: &'static str,
    /// Where the exception came from.
    pub origin: &'static str,
    /// The faulting instruction.
    pub pc: usize,
    /// The address that faulted, for aborts.
    pub fault_address: usize,
    /// The architecture's syndrome or status register.
    pub syndrome: u32,
}

/// Reports an unexpected CPU exception and resets.
pub fn fatal_exception(report: ExceptionReport) -> ! {
    crate::console::go_synchronous();
    let _ = writeln!(
        Console,
        "\n*** CRASH: {} ({}) at pc={:#x}, fault address={:#x}, syndrome={:#x}",
        report.kind, report.origin, report.pc, report.fault_address, report.syndrome
    );
    reset()
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::console::go_synchronous();
    let _ = write!(Console, "\n*** CRASH: panic: {}", info.message());
    if let Some(location) = info.location() {
        let _ = write!(Console, " at {}:{}", location.file(), location.line());
    }
    let _ = writeln!(Console);
    reset()
}

fn reset() -> ! {
    let count = CRASHES_BEFORE_BOOT.load(Ordering::Relaxed).saturating_add(1);
    RECORD_COUNT.store(count, Ordering::Relaxed);
    RECORD_CHECK.store(RECORD_MAGIC ^ count, Ordering::Relaxed);
    let method = RESET_METHOD.load(Ordering::Relaxed);
    let _ = writeln!(Console, "*** resetting (crash {count} in a row)");
    if method == ResetMethod::PsciHvc as u8 || method == ResetMethod::PsciSmc as u8 {
        arch::psci_call(method == ResetMethod::PsciSmc as u8, PSCI_SYSTEM_RESET);
    }
    crate::drivers::watchdog::reset();
    let _ = writeln!(Console, "*** no reset method: halted");
    loop {
        arch::wait_for_interrupt();
    }
}

