//! Links the unpacker at `UNPACK_ORIGIN`: 4 MiB above where boot loaders put
//! the image (RAM + 0x10000 on ARMv7, RAM + 0x80000 on AArch64; every board
//! here has its RAM at 0x4000_0000), clear of the kernel it unpacks there.

use std::path::Path;

fn main() {
    let origin: u64 = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("arm") => 0x4041_0000,
        Ok("aarch64") => 0x4048_0000,
        _ => return, // host builds (`cargo check --workspace`) link nothing
    };
    board_link::link_with(&Path::new(env!("CARGO_MANIFEST_DIR")).join("link.ld"), "UNPACK_ORIGIN", origin);
}
