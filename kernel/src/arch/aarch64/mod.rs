//! AArch64 (Cortex-A53 and up): entry, MMU, generic timer, PSCI, faults and
//! cache maintenance for DMA.

mod entry;
mod mmu;

pub use mmu::enable as enable_mmu;

use aarch64_cpu::registers::{Readable, Writeable, CNTFRQ_EL0, CNTVCT_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0};

/// GIC interrupt ID of the EL1 virtual timer (PPI 11).
pub const VIRTUAL_TIMER_INTID: u32 = 27;

/// Ticks of the monotonic counter; never goes back.
pub fn counter() -> u64 {
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    CNTVCT_EL0.get()
}

/// Counter ticks per second.
pub fn counter_frequency() -> u64 {
    CNTFRQ_EL0.get()
}

/// Arms the virtual timer to raise its interrupt at `deadline` (in counter
/// ticks), or disarms it with `None`. The interrupt only wakes `wait_for_interrupt`.
pub fn set_timer_deadline(deadline: Option<u64>) {
    match deadline {
        Some(ticks) => {
            CNTV_CVAL_EL0.set(ticks);
            CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
        }
        None => CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::CLEAR),
    }
}

/// Sleeps until an interrupt is pending. Interrupts stay masked at the CPU:
/// a pending one still ends WFI, and the caller acknowledges it at the GIC.
pub fn wait_for_interrupt() {
    aarch64_cpu::asm::wfi();
}

/// Calls PSCI firmware (`hvc` or `smc`, as the DTB says) with one function ID.
pub fn psci_call(use_smc: bool, function: u32) {
    // SAFETY: PSCI calls with no arguments (SYSTEM_RESET/OFF) do not return
    // on success and clobber only what the SMC calling convention allows.
    unsafe {
        if use_smc {
            core::arch::asm!("smc #0", inout("x0") function as u64 => _, out("x1") _, out("x2") _, out("x3") _);
        } else {
            core::arch::asm!("hvc #0", inout("x0") function as u64 => _, out("x1") _, out("x2") _, out("x3") _);
        }
    }
}

/// Reads a byte at an address that the MMU leaves unmapped: the deliberate
/// fault behind the `crash=fault` boot argument.
pub fn touch_unmapped_memory() -> u8 {
    // SAFETY: the first 2 MiB are unmapped (see `mmu`), so this read traps
    // into the exception vectors and never returns a value.
    unsafe { core::ptr::read_volatile(0x10 as *const u8) }
}

/// Called by the vectors for any exception: describes it and resets.
#[no_mangle]
extern "C" fn exception_report(vector: u64, esr: u64, elr: u64, far: u64) -> ! {
    const ORIGIN: [&str; 4] = ["current EL, SP0", "current EL", "lower EL, AArch64", "lower EL, AArch32"];
    const TYPE: [&str; 4] = ["synchronous", "IRQ", "FIQ", "SError"];
    let class = (esr >> 26) & 0x3f;
    let kind = match class {
        0x20 | 0x21 => "instruction abort",
        0x24 | 0x25 => "data abort",
        0x00 => "undefined instruction",
        0x22 => "PC alignment fault",
        0x26 => "SP alignment fault",
        _ => TYPE[(vector & 3) as usize],
    };
    crate::crash::fatal_exception(crate::crash::ExceptionReport {
        kind,
        origin: ORIGIN[((vector >> 2) & 3) as usize],
        pc: elr as usize,
        fault_address: far as usize,
        syndrome: esr as u32,
    })
}

/// Smallest data cache line of any cache level, from CTR_EL0.DminLine.
fn dcache_line() -> usize {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {0}, ctr_el0", out(reg) ctr) };
    4 << ((ctr >> 16) & 0xf)
}

/// Writes `[start, start + len)` back from the data cache to RAM, so that a
/// DMA master (the EMAC) reads what the CPU wrote. Needed on real hardware,
/// where RAM is cached write-back; QEMU has no caches to maintain.
pub fn dma_clean(start: usize, len: usize) {
    let line = dcache_line();
    let mut addr = start & !(line - 1);
    while addr < start + len {
        // SAFETY: DC CVAC only writes back dirty lines; it never loses data.
        unsafe { core::arch::asm!("dc cvac, {0}", in(reg) addr) };
        addr += line;
    }
    // SAFETY: a barrier has no memory-safety effect.
    unsafe { core::arch::asm!("dsb sy") };
}

/// Cleans and invalidates `[start, start + len)` so that the next CPU read
/// comes from RAM, where a DMA master wrote. Cleaning too (DC CIVAC rather
/// than DC IVAC) keeps any dirty bytes sharing a line from being lost.
pub fn dma_invalidate(start: usize, len: usize) {
    let line = dcache_line();
    let mut addr = start & !(line - 1);
    while addr < start + len {
        // SAFETY: DC CIVAC writes back, then drops the line: no data is lost.
        unsafe { core::arch::asm!("dc civac, {0}", in(reg) addr) };
        addr += line;
    }
    // SAFETY: a barrier has no memory-safety effect.
    unsafe { core::arch::asm!("dsb sy") };
}
