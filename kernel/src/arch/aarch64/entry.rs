//! AArch64 entry: EL2 → EL1, stack, FPU, `.bss`.
//!
//! The image's first stage (`unpack/`, which carries the arm64 `Image` header
//! boot loaders read) starts the kernel here as U-Boot's `booti` or QEMU's
//! `-kernel` would: MMU off, DTB in x0, at EL2 or EL1. Only the boot CPU runs
//! the kernel; the others park.

core::arch::global_asm!(
    r#"
    .section .text.head, "ax"
    .global _start
_start:
    mov     x19, x0                 // DTB address from the boot loader
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    cbnz    x1, 9f

    mrs     x1, CurrentEL
    lsr     x1, x1, #2
    cmp     x1, #2
    b.ne    2f
    // EL2 (U-Boot, or QEMU with virtualization=on): hand EL1 the timer and FPU, then drop.
    mov     x1, #(1 << 31)          // HCR_EL2.RW: EL1 is AArch64
    msr     hcr_el2, x1
    mov     x1, #3                  // CNTHCTL_EL2: EL1 may use the physical counter and timer
    msr     cnthctl_el2, x1
    msr     cntvoff_el2, xzr
    mov     x1, #0x33ff             // CPTR_EL2: no FP/SIMD traps
    msr     cptr_el2, x1
    msr     sctlr_el1, xzr
    mov     x1, #0x3c5              // SPSR: EL1h, DAIF masked
    msr     spsr_el2, x1
    adr     x1, 2f
    msr     elr_el2, x1
    eret

2:  ldr     x1, =__stack_top
    mov     sp, x1
    mov     x1, #(3 << 20)          // CPACR_EL1.FPEN: no FP/SIMD traps
    msr     cpacr_el1, x1
    isb
    ldr     x1, =__exception_vectors
    msr     vbar_el1, x1
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
3:  cmp     x1, x2
    b.hs    4f
    stp     xzr, xzr, [x1], #16
    b       3b
4:  mov     x0, x19
    bl      kernel_main
9:  wfe
    b       9b

    // Every exception is fatal: report it from a known-good stack and reset.
    .section .text.vectors, "ax"
    .balign 2048
__exception_vectors:
    .irp    kind, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .balign 128
    mov     x0, #\kind
    b       __exception_common
    .endr

__exception_common:
    ldr     x1, =__exception_stack_top
    mov     sp, x1
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    bl      exception_report
    b       .
"#
);
