//! QEMU `virt` with a Cortex-A53 (AArch64): the `virt` machine's map, 128
//! MiB of RAM unless the DTB says otherwise.

#![no_std]
#![no_main]

use kernel::board::Board;
use kernel::chip::qemu_virt::QemuVirt;

static BOARD: Board = Board { name: "qemu-virt-aarch64", ram: (0x4000_0000, 128 << 20), chip: &QemuVirt };

kernel::entry!(BOARD);
