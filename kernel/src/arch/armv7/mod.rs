//! ARMv7-A (Cortex-A7/A8/A15): entry, MMU, generic timer, PSCI, faults and
//! cache maintenance for DMA. The Cortex-A8 has no generic timer: on it the
//! board names a SoC timer instead (see `time`), and the timer functions here
//! are never called.

mod entry;
mod mmu;

pub use mmu::enable as enable_mmu;

use aarch32_cpu::generic_timer::{El1VirtualTimer, GenericTimer};

/// GIC interrupt ID of the PL1 virtual timer (PPI 11).
pub const VIRTUAL_TIMER_INTID: u32 = 27;

fn virtual_timer() -> El1VirtualTimer {
    // SAFETY: the kernel runs on one CPU and only this module touches the
    // virtual timer, one short-lived handle at a time.
    unsafe { El1VirtualTimer::new() }
}

/// Ticks of the monotonic counter; never goes back.
pub fn counter() -> u64 {
    aarch32_cpu::asm::isb();
    virtual_timer().counter()
}

/// Counter ticks per second.
pub fn counter_frequency() -> u64 {
    u64::from(virtual_timer().frequency_hz())
}

/// Arms the virtual timer to raise its interrupt at `deadline` (in counter
/// ticks), or disarms it with `None`. The interrupt only wakes `wait_for_interrupt`.
pub fn set_timer_deadline(deadline: Option<u64>) {
    let mut timer = virtual_timer();
    match deadline {
        Some(ticks) => {
            timer.counter_compare_set(ticks);
            timer.interrupt_mask(false);
            timer.enable(true);
        }
        None => timer.enable(false),
    }
}

/// Sleeps until an interrupt is pending. Interrupts stay masked at the CPU:
/// a pending one still ends WFI, and the caller acknowledges it at the GIC.
pub fn wait_for_interrupt() {
    aarch32_cpu::asm::wfi();
}

/// Calls PSCI firmware (`hvc` or `smc`, as the DTB says) with one function ID.
pub fn psci_call(use_smc: bool, function: u32) {
    // SAFETY: PSCI calls with no arguments (SYSTEM_RESET/OFF) do not return
    // on success and clobber only r0-r3.
    unsafe {
        if use_smc {
            core::arch::asm!(".arch_extension sec", "smc #0", inout("r0") function => _, out("r1") _, out("r2") _, out("r3") _);
        } else {
            core::arch::asm!(".arch_extension virt", "hvc #0", inout("r0") function => _, out("r1") _, out("r2") _, out("r3") _);
        }
    }
}

/// Reads a byte at an address that the MMU leaves unmapped: the deliberate
/// fault behind the `crash=fault` boot argument.
pub fn touch_unmapped_memory() -> u8 {
    // SAFETY: section 0 is unmapped (see `mmu`), so this read traps into the
    // exception vectors and never returns a value.
    unsafe { core::ptr::read_volatile(0x10 as *const u8) }
}

/// Called by the vectors for any exception: describes it and resets.
#[no_mangle]
extern "C" fn exception_report(kind: u32, pc: u32, fault_address: u32, status: u32) -> ! {
    let kind = match kind {
        1 => "undefined instruction",
        2 => "unexpected supervisor call or interrupt",
        3 => "prefetch abort",
        _ => "data abort",
    };
    crate::crash::fatal_exception(crate::crash::ExceptionReport {
        kind,
        origin: "kernel",
        pc: pc as usize,
        fault_address: fault_address as usize,
        syndrome: status,
    })
}

/// Smallest data cache line of any cache level, from CTR.DminLine.
fn dcache_line() -> usize {
    let ctr: u32;
    // SAFETY: reading CTR has no side effects.
    unsafe { core::arch::asm!("mrc p15, 0, {0}, c0, c0, 1", out(reg) ctr) };
    4 << ((ctr >> 16) & 0xf)
}

/// Writes `[start, start + len)` back from the data cache to RAM, so that a
/// DMA master (the EMAC) reads what the CPU wrote. Needed on real hardware,
/// where RAM is cached write-back; QEMU has no caches to maintain.
pub fn dma_clean(start: usize, len: usize) {
    let line = dcache_line();
    let mut addr = start & !(line - 1);
    while addr < start + len {
        // SAFETY: DCCMVAC (clean by VA to the point of coherency) only
        // writes back dirty lines; it never loses data.
        unsafe { core::arch::asm!("mcr p15, 0, {0}, c7, c10, 1", in(reg) addr) };
        addr += line;
    }
    // SAFETY: a barrier has no memory-safety effect.
    unsafe { core::arch::asm!("dsb") };
}

/// Cleans and invalidates `[start, start + len)` so that the next CPU read
/// comes from RAM, where a DMA master wrote. Cleaning too (DCCIMVAC rather
/// than DCIMVAC) keeps any dirty bytes sharing a line from being lost.
pub fn dma_invalidate(start: usize, len: usize) {
    let line = dcache_line();
    let mut addr = start & !(line - 1);
    while addr < start + len {
        // SAFETY: DCCIMVAC writes back, then drops the line: no data is lost.
        unsafe { core::arch::asm!("mcr p15, 0, {0}, c7, c14, 1", in(reg) addr) };
        addr += line;
    }
    // SAFETY: a barrier has no memory-safety effect.
    unsafe { core::arch::asm!("dsb") };
}
