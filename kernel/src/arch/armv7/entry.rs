//! ARMv7-A entry: Hyp → SVC, stacks, FPU, `.bss`, vectors.
//!
//! The image's first stage (`unpack/`, which carries the zImage header boot
//! loaders read) starts the kernel here as U-Boot's `bootz` or QEMU's
//! `-kernel` would: MMU off, DTB in r2, in Hyp or SVC mode. Only the boot
//! CPU runs the kernel; the others park.

core::arch::global_asm!(
    r#"
    .arch   armv7-a
    .arch_extension virt
    .arch_extension sec
    .fpu    vfpv3
    .arm
    .section .text.head, "ax"
    .global _start
_start:
    mov     r4, r2                  // DTB address from the boot loader
    mrc     p15, 0, r0, c0, c0, 5   // MPIDR
    ands    r0, r0, #0xff
    bne     9f

    mrs     r0, cpsr
    and     r1, r0, #0x1f
    cmp     r1, #0x1a
    bne     2f
    // Hyp (U-Boot, or QEMU with virtualization=on): hand SVC the timer, then drop.
    mov     r0, #3                  // CNTHCTL: PL1 may use the physical counter and timer
    mcr     p15, 4, r0, c14, c1, 0
    mov     r0, #0
    mov     r1, #0
    mcrr    p15, 4, r0, r1, c14     // CNTVOFF = 0
    mcr     p15, 4, r0, c1, c1, 0   // HCR = 0
    mcr     p15, 4, r0, c1, c1, 2   // HCPTR: no coprocessor traps
    mov     r0, #0x1d3              // SVC, IRQ/FIQ/async aborts masked
    msr     spsr_cxsf, r0           // SPSR_hyp (banked access is undefined from Hyp itself)
    adr     r0, 2f
    msr     elr_hyp, r0
    eret

2:  cpsid   aif
    cps     #0x17                   // abort mode
    ldr     sp, =__exception_stack_top
    cps     #0x1b                   // undefined mode
    ldr     sp, =__exception_stack_top
    cps     #0x13                   // supervisor mode
    ldr     sp, =__stack_top

    mrc     p15, 0, r0, c1, c0, 2   // CPACR: cp10/cp11 full access
    orr     r0, r0, #(0xf << 20)
    mcr     p15, 0, r0, c1, c0, 2
    isb
    mov     r0, #0x40000000         // FPEXC.EN
    vmsr    fpexc, r0

    ldr     r0, =__exception_vectors
    mcr     p15, 0, r0, c12, c0, 0  // VBAR

    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    mov     r2, #0
    mov     r3, #0
3:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     3b
    mov     r0, r4
    bl      kernel_main
9:  wfe
    b       9b

    // Every exception is fatal: report it and reset. Abort and undefined
    // modes have their own stack; the handler never returns.
    .section .text.vectors, "ax"
    .balign 32
__exception_vectors:
    b       .                       // reset
    b       10f                     // undefined instruction
    b       11f                     // supervisor call
    b       12f                     // prefetch abort
    b       13f                     // data abort
    b       .
    b       11f                     // IRQ (never unmasked)
    b       11f                     // FIQ (never unmasked)
10: mov     r0, #1
    sub     r1, lr, #4
    mov     r2, #0
    mov     r3, #0
    b       20f
11: mov     r0, #2
    ldr     sp, =__exception_stack_top
    mov     r1, lr
    mov     r2, #0
    mov     r3, #0
    b       20f
12: mov     r0, #3
    sub     r1, lr, #4
    mrc     p15, 0, r2, c6, c0, 2   // IFAR
    mrc     p15, 0, r3, c5, c0, 1   // IFSR
    b       20f
13: mov     r0, #4
    sub     r1, lr, #8
    mrc     p15, 0, r2, c6, c0, 0   // DFAR
    mrc     p15, 0, r3, c5, c0, 0   // DFSR
20: bl      exception_report
    b       .
"#
);
