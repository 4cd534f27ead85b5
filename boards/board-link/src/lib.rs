//! Build-script helper shared by every board crate: links the image with the
//! workspace's one `link.ld`, at the address the board's boot loader puts it.
//!
//! ARMv7 boards load at RAM + 0x10000 (QEMU `-kernel`, our `boot.scr` with
//! `bootz`); AArch64 boards at RAM + 0x80000 (the arm64 `Image` text offset).

use std::path::Path;

/// Writes `memory.ld` with `KERNEL_ORIGIN = origin` and points the linker at
/// `link.ld`. Call it from the board's `build.rs`.
pub fn link_at(origin: u64) {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("memory.ld"), format!("KERNEL_ORIGIN = {origin:#x};\n")).expect("writing OUT_DIR");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../link.ld");
    println!("cargo:rustc-link-search={out}");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rerun-if-changed={}", script.display());
}
