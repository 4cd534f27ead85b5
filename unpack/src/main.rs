//! The self-extracting boot stage: the first code of every board image.
//!
//! A board image is this small program followed by the kernel, compressed
//! (zlib; `imgtool packed` writes it). Boot loaders put the image where the
//! kernel is linked and start it there, MMU off, DTB in r2 / x0. The entry
//! code copies the image 4 MiB higher, where this program is linked, and
//! continues there; `unpack` inflates the kernel to its link address and
//! checks its Adler-32; the entry code then starts the kernel with the boot
//! loader's registers, as if the loader had started it. This is what Linux's
//! zImage does, and why the image is about half the kernel's size.
//!
//! Inflating is `miniz_oxide`'s. Both targets are built with strict
//! alignment, which matters here: with the MMU off, memory is Device /
//! Strongly-ordered and an unaligned access would fault. The instruction
//! cache is on while it inflates (allowed with the MMU off; boot loaders
//! leave it off) and put back as found before the kernel starts. A damaged
//! image (bad magic, bad checksum) stops here: there is no console to tell
//! yet, and the boot loader's last line stays on screen.
//!
//! Under QEMU (TCG) inflating takes about 17 ms, which shows in the kernel's
//! `entry at … ms after power-on` line; bench/RESULTS.md has the figures.
//! Why deflate, measured on qemu-virt-aarch64 (2026-12-01): LZ4 HC unpacks
//! in about 9 ms but leaves 514 KB (528 KB on armv7, over the 512 KiB the
//! image is meant to stay under); zstd (`ruzstd`) leaves 417 KB but takes
//! 55 ms; zlib leaves 450 KB in 17 ms.

#![no_std]
#![no_main]

use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// Where the kernel is and where it goes, at offset 0x40 of the image
/// (after the boot loader's header); `imgtool packed` fills it in.
#[repr(C)]
pub struct Descriptor {
    magic: [u8; 8],
    /// Bytes of the image file: this program and the compressed kernel.
    file_len: u32,
    /// Offset of the compressed kernel in the file.
    payload_offset: u32,
    /// Bytes of the compressed kernel (zlib).
    payload_len: u32,
    /// The kernel's link address: where it is unpacked to and started.
    kernel_address: u32,
    /// Bytes of the unpacked kernel.
    kernel_len: u32,
    reserved: u32,
}

/// The descriptor's first bytes, which `imgtool packed` looks for.
const MAGIC: &[u8; 8] = b"2048PACK";
/// Offset of the descriptor in the image, which the entry code knows too.
const DESCRIPTOR_OFFSET: usize = 0x40;

/// Inflates the kernel to its link address. Returns where to start it, or 0
/// if the image is damaged.
#[no_mangle]
extern "C" fn unpack(descriptor: &Descriptor) -> usize {
    if &descriptor.magic != MAGIC {
        return 0;
    }
    let file = descriptor as *const Descriptor as usize - DESCRIPTOR_OFFSET;
    let (offset, len) = (descriptor.payload_offset as usize, descriptor.payload_len as usize);
    if offset.checked_add(len).is_none_or(|end| end > descriptor.file_len as usize) {
        return 0;
    }
    // SAFETY: the entry code copied all `file_len` bytes of the image to
    // `file`, and the payload lies inside them (checked above).
    let payload = unsafe { core::slice::from_raw_parts((file + offset) as *const u8, len) };
    let kernel_address = descriptor.kernel_address as usize;
    // SAFETY: `imgtool packed` checked that the kernel's range is RAM below
    // this program's stack, so nothing else lives there.
    let kernel = unsafe { core::slice::from_raw_parts_mut(kernel_address as *mut u8, descriptor.kernel_len as usize) };
    let mut inflater = DecompressorOxide::new();
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_COMPUTE_ADLER32
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (status, _, written) = decompress(&mut inflater, payload, kernel, 0, flags);
    if status == TINFLStatus::Done && written == kernel.len() {
        kernel_address
    } else {
        0
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(target_arch = "arm")]
core::arch::global_asm!(
    r#"
    .arch   armv7-a
    .arch_extension virt
    .fpu    vfpv3
    .arm
    .section .text.head, "ax"
    .global _start
_start:
    .rept   8
    mov     r0, r0
    .endr
    b       1f
    .word   0x016f2818              // zImage magic
    .word   0                       // load address (imgtool)
    .word   0                       // end of what the boot uses, unpacker copy included (imgtool)
    .word   0x04030201              // little endian
    .balign 64
__descriptor:
    .ascii  "2048PACK"
    .word   0, 0, 0, 0, 0, 0

1:  mov     r4, r0                  // the boot loader's r0-r2 (r2: DTB), for the kernel
    mov     r5, r1
    mov     r6, r2
    adr     r0, _start              // where the loader put the image
    ldr     r1, =_start             // where this program is linked
    ldr     r2, [r0, #0x48]         // descriptor.file_len (a multiple of 16)
    add     r2, r0, r2
2:  ldmia   r0!, {{r3, r7, r8, r9}}
    stmia   r1!, {{r3, r7, r8, r9}}
    cmp     r0, r2
    blo     2b
    mov     r7, #0
    mcr     p15, 0, r7, c7, c5, 0   // ICIALLU: the copy is code the I-cache has not seen
    dsb
    isb
    ldr     pc, =3f                 // on in the copy: the kernel will overwrite this one

3:  mrs     r11, cpsr               // Hyp or not: the next lines run on this compare
    and     r11, r11, #0x1f
    cmp     r11, #0x1a
    moveq   r0, #0                  // FP access for the Rust code; in Hyp, no HCPTR traps first
    mcreq   p15, 4, r0, c1, c1, 2
    mrceq   p15, 4, r10, c1, c0, 0  // HSCTLR or SCTLR, kept in r10 to restore
    mrcne   p15, 0, r10, c1, c0, 0
    orr     r0, r10, #(1 << 12)     // I: instruction cache on while inflating (data stays uncached)
    mcreq   p15, 4, r0, c1, c0, 0
    mcrne   p15, 0, r0, c1, c0, 0
    mrc     p15, 0, r0, c1, c0, 2
    orr     r0, r0, #(0xf << 20)
    mcr     p15, 0, r0, c1, c0, 2
    isb
    mov     r0, #0x40000000         // FPEXC.EN
    vmsr    fpexc, r0
    ldr     sp, =__stack_top
    ldr     r0, =__descriptor
    ldr     r3, =unpack
    blx     r3
    cmp     r0, #0
    beq     9f
    mov     r3, r0
    cmp     r11, #0x1a              // the boot loader's cache setting back
    mcreq   p15, 4, r10, c1, c0, 0
    mcrne   p15, 0, r10, c1, c0, 0
    isb
    mov     r7, #0
    mcr     p15, 0, r7, c7, c5, 0   // ICIALLU: the kernel is new code too
    mcr     p15, 0, r7, c7, c5, 6   // BPIALL
    dsb
    isb
    mov     r0, r4
    mov     r1, r5
    mov     r2, r6
    bx      r3
9:  wfe
    b       9b
"#
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    r#"
    .section .text.head, "ax"
    .global _start
_start:
    b       1f                      // code0: jump over the header
    .word   0                       // code1
    .quad   0x80000                 // text_offset from the 2 MiB aligned RAM base
    .quad   0                       // bytes the boot uses from the load address, unpacker copy included (imgtool)
    .quad   0                       // flags: little endian, near the start of RAM
    .quad   0, 0, 0                 // reserved
    .ascii  "ARM\x64"               // magic
    .word   0                       // no PE header
__descriptor:
    .ascii  "2048PACK"
    .word   0, 0, 0, 0, 0, 0

1:  mov     x19, x0                 // the boot loader's x0-x3 (x0: DTB), for the kernel
    mov     x20, x1
    mov     x21, x2
    mov     x22, x3
    adr     x0, _start              // where the loader put the image
    ldr     x1, =_start             // where this program is linked
    ldr     w2, [x0, #0x48]         // descriptor.file_len (a multiple of 16)
    add     x2, x0, x2
2:  ldp     x3, x4, [x0], #16
    stp     x3, x4, [x1], #16
    cmp     x0, x2
    b.lo    2b
    ic      iallu                   // the copy is code the I-cache has not seen
    dsb     sy
    isb
    ldr     x0, =3f                 // on in the copy: the kernel will overwrite this one
    br      x0

3:  mrs     x24, CurrentEL          // FP/SIMD access for the Rust code, and the
    lsr     x24, x24, #2            // instruction cache on while inflating (data stays
    cmp     x24, #2                 // uncached); SCTLR kept in x23 to restore
    b.ne    4f
    mov     x0, #0x33ff             // CPTR_EL2: no FP/SIMD traps
    msr     cptr_el2, x0
    mrs     x23, sctlr_el2
    orr     x0, x23, #(1 << 12)
    msr     sctlr_el2, x0
    b       5f
4:  mov     x0, #(3 << 20)          // CPACR_EL1.FPEN: no FP/SIMD traps
    msr     cpacr_el1, x0
    mrs     x23, sctlr_el1
    orr     x0, x23, #(1 << 12)
    msr     sctlr_el1, x0
5:  isb
    ldr     x0, =__stack_top
    mov     sp, x0
    ldr     x0, =__descriptor
    ldr     x1, =unpack
    blr     x1
    cbz     x0, 9f
    mov     x4, x0
    cmp     x24, #2                 // the boot loader's cache setting back
    b.ne    6f
    msr     sctlr_el2, x23
    b       7f
6:  msr     sctlr_el1, x23
7:  isb
    ic      iallu                   // the kernel is new code too
    dsb     sy
    isb
    mov     x0, x19
    mov     x1, x20
    mov     x2, x21
    mov     x3, x22
    br      x4
9:  wfe
    b       9b
"#
);
