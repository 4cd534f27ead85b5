//! Build-script helper shared by every board crate and the unpacker: links
//! a bare-metal program with its linker script at a given address.
//!
//! Board kernels use the workspace's one `link.ld` (`link_at`): ARMv7 boards
//! load at RAM + 0x10000 (QEMU `-kernel`, our `boot.scr` with `bootz`);
//! AArch64 boards at RAM + 0x80000 (the arm64 `Image` text offset).

use std::path::Path;

/// Links the board's kernel with `link.ld` at `origin` (`KERNEL_ORIGIN`).
/// Call it from the board's `build.rs`.
pub fn link_at(origin: u64) {
    link_with(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../link.ld"), "KERNEL_ORIGIN", origin);
}

/// Writes `memory.ld` with `symbol = origin` and points the linker at
/// `script`, which includes it. Call it from a `build.rs`.
pub fn link_with(script: &Path, symbol: &str, origin: u64) {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("memory.ld"), format!("{symbol} = {origin:#x};\n")).expect("writing OUT_DIR");
    println!("cargo:rustc-link-search={out}");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rerun-if-changed={}", script.display());
}
