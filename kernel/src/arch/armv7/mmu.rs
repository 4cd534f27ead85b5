//! ARMv7-A MMU: an identity map of 1 MiB sections (short descriptors), RAM
//! normal write-back, the rest device memory.
//!
//! Section 0 stays unmapped so that a null pointer dereference faults.
//! LDREX/STREX, and so every atomic, need normal memory: this runs first.

use aarch32_cpu::register::Sctlr;

const SECTION: u32 = 0b10;
const FULL_ACCESS: u32 = 0b11 << 10;
const EXECUTE_NEVER: u32 = 1 << 4;
const SHAREABLE: u32 = 1 << 16;
/// TEX=001 C=1 B=1: outer and inner write-back, write-allocate.
const NORMAL_WRITE_BACK: u32 = (0b001 << 12) | (1 << 3) | (1 << 2);
/// TEX=000 C=0 B=1: shareable device.
const DEVICE: u32 = 1 << 2;

#[repr(C, align(16384))]
struct Table([u32; 4096]);

static mut SECTIONS: Table = Table([0; 4096]);

/// Builds the identity map and turns on the MMU, caches and branch prediction.
///
/// Everything from `ram_start` up is normal memory; below it is device memory.
pub fn enable(ram_start: u64) {
    // SAFETY: runs once on the boot CPU before anything else reads the table.
    let table = unsafe { &mut *core::ptr::addr_of_mut!(SECTIONS) };
    for (i, entry) in table.0.iter_mut().enumerate().skip(1) {
        let addr = (i as u32) << 20;
        let attributes = if u64::from(addr) >= ram_start {
            NORMAL_WRITE_BACK | SHAREABLE
        } else {
            DEVICE | EXECUTE_NEVER
        };
        *entry = addr | SECTION | FULL_ACCESS | attributes;
    }
    // TTBR0 walks: inner write-back write-allocate (IRGN=01), outer the same (RGN=01), shareable.
    let ttbr0 = table as *const Table as u32 | (1 << 6) | (0b01 << 3) | (1 << 1);
    // SAFETY: the table is complete and identity-maps the running code, so
    // turning translation on does not move anything under our feet.
    unsafe {
        core::arch::asm!(
            "mcr p15, 0, {0}, c2, c0, 2",   // TTBCR: TTBR0 only, short descriptors
            "mcr p15, 0, {1}, c2, c0, 0",   // TTBR0
            "mcr p15, 0, {2}, c3, c0, 0",   // DACR: every domain is a client
            "mcr p15, 0, {0}, c8, c7, 0",   // TLBIALL
            "mcr p15, 0, {0}, c7, c5, 0",   // ICIALLU
            "mcr p15, 0, {0}, c7, c5, 6",   // BPIALL
            "dsb",
            "isb",
            in(reg) 0u32,
            in(reg) ttbr0,
            in(reg) 0x5555_5555u32,
        );
    }
    Sctlr::modify(|sctlr| {
        sctlr.set_m(true);
        sctlr.set_c(true);
        sctlr.set_i(true);
        sctlr.set_z(true);
        sctlr.set_a(false);
    });
}
