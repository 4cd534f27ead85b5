//! Links the board image at the address U-Boot's `bootz` (and QEMU's `-kernel`) start it at.

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(format!("{out}/memory.ld"), "KERNEL_ORIGIN = 0x40010000;\n").expect("writing OUT_DIR");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-search={out}");
    println!("cargo:rustc-link-arg-bins=-T{manifest}/../../link.ld");
    println!("cargo:rerun-if-changed={manifest}/../../link.ld");
}
