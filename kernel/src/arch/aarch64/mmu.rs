//! AArch64 MMU: an identity map, RAM normal write-back, the rest device memory.
//!
//! 4 KiB granule, 32-bit address space (TCR.T0SZ = 32), so one level-1 table
//! of four 1 GiB entries covers it. The first GiB goes through a level-2
//! table of 2 MiB blocks so that its first block can stay unmapped: a null
//! pointer dereference faults instead of reading flash.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{ReadWriteable, Readable, Writeable, MAIR_EL1, SCTLR_EL1, TCR_EL1, TTBR0_EL1};

const BLOCK: u64 = 0b01;
const TABLE: u64 = 0b11;
const ACCESS_FLAG: u64 = 1 << 10;
const INNER_SHAREABLE: u64 = 0b11 << 8;
const ATTR_DEVICE: u64 = 0 << 2;
const ATTR_NORMAL: u64 = 1 << 2;
const EXECUTE_NEVER: u64 = (1 << 54) | (1 << 53);

const NORMAL_BLOCK: u64 = BLOCK | ACCESS_FLAG | INNER_SHAREABLE | ATTR_NORMAL;
const DEVICE_BLOCK: u64 = BLOCK | ACCESS_FLAG | ATTR_DEVICE | EXECUTE_NEVER;

#[repr(C, align(4096))]
struct Table([u64; 512]);

static mut LEVEL1: Table = Table([0; 512]);
static mut LEVEL2_FIRST_GIB: Table = Table([0; 512]);

/// Builds the identity map and turns on the MMU and caches.
///
/// Everything from `ram_start` up is normal memory; below it is device memory.
pub fn enable(ram_start: u64) {
    const GIB: u64 = 1 << 30;
    const MIB2: u64 = 2 << 20;
    // SAFETY: runs once on the boot CPU before anything else reads the tables.
    let (l1, l2) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(LEVEL1),
            &mut *core::ptr::addr_of_mut!(LEVEL2_FIRST_GIB),
        )
    };
    let kind = |addr: u64| if addr >= ram_start { NORMAL_BLOCK } else { DEVICE_BLOCK };
    for (i, entry) in l2.0.iter_mut().enumerate().skip(1) {
        let addr = i as u64 * MIB2;
        *entry = addr | kind(addr);
    }
    l1.0[0] = l2 as *const Table as u64 | TABLE;
    for (i, entry) in l1.0.iter_mut().enumerate().take(4).skip(1) {
        let addr = i as u64 * GIB;
        *entry = addr | kind(addr);
    }

    MAIR_EL1.write(
        MAIR_EL1::Attr0_Device::nonGathering_nonReordering_noEarlyWriteAck
            + MAIR_EL1::Attr1_Normal_Outer::WriteBack_NonTransient_ReadWriteAlloc
            + MAIR_EL1::Attr1_Normal_Inner::WriteBack_NonTransient_ReadWriteAlloc,
    );
    TCR_EL1.write(
        TCR_EL1::T0SZ.val(32)
            + TCR_EL1::IRGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::ORGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::SH0::Inner
            + TCR_EL1::TG0::KiB_4
            + TCR_EL1::EPD1::DisableTTBR1Walks
            + TCR_EL1::IPS::Bits_32,
    );
    TTBR0_EL1.set_baddr(l1 as *const Table as u64);
    barrier::dsb(barrier::ISHST);
    // SAFETY: TLB maintenance has no memory-safety effect; the tables are in place.
    unsafe { core::arch::asm!("tlbi vmalle1", "dsb ish", "isb") };
    SCTLR_EL1.modify(SCTLR_EL1::M::Enable + SCTLR_EL1::C::Cacheable + SCTLR_EL1::I::Cacheable + SCTLR_EL1::A::Disable);
    barrier::isb(barrier::SY);
    let _ = SCTLR_EL1.get();
}
