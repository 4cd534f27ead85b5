//! What the boot loader tells the kernel through the device tree: RAM,
//! `chosen/bootargs` and how to reach PSCI. Parsing is the `fdt` crate's.

use crate::crash::ResetMethod;

/// Bytes of bootargs kept; the heap does not exist yet when they are read.
const BOOTARGS_MAX: usize = 512;

/// The boot loader's facts.
pub struct BootInfo {
    /// RAM start and size, if the DTB has a memory node.
    pub ram: Option<(usize, usize)>,
    /// The DTB's own location, so the heap avoids it.
    pub dtb: Option<(usize, usize)>,
    /// How PSCI is reached, if the DTB has a PSCI node.
    pub reset: ResetMethod,
    bootargs: [u8; BOOTARGS_MAX],
    bootargs_len: usize,
}

impl BootInfo {
    /// The kernel command line (empty without a DTB).
    pub fn bootargs(&self) -> &str {
        core::str::from_utf8(&self.bootargs[..self.bootargs_len]).unwrap_or("")
    }
}

/// Reads the DTB at `address`, which must lie in `ram_hint` to be trusted.
pub fn read(address: usize, ram_hint: (usize, usize)) -> BootInfo {
    let mut info = BootInfo { ram: None, dtb: None, reset: ResetMethod::None, bootargs: [0; BOOTARGS_MAX], bootargs_len: 0 };
    let (ram_start, ram_size) = ram_hint;
    if address == 0 || address % 8 != 0 || address < ram_start || address >= ram_start + ram_size {
        return info;
    }
    // SAFETY: the address is in RAM (checked above), identity-mapped, and the
    // boot loader put a DTB there; `from_ptr` checks the magic and sizes.
    let Ok(fdt) = (unsafe { fdt::Fdt::from_ptr(address as *const u8) }) else { return info };
    info.dtb = Some((address, fdt.total_size()));
    // One walk over the root's children (each `find_node` would walk the
    // tree again; QEMU's `virt` has 32 virtio nodes). `Fdt::memory` and
    // `Fdt::chosen` panic when the node is missing, so they are not used.
    let Some(root) = fdt.find_node("/") else { return info };
    for node in root.children() {
        let name = node.name.split('@').next().unwrap_or("");
        match name {
            "memory" if info.ram.is_none() => {
                if let Some(region) = node.reg().and_then(|mut regions| regions.next()) {
                    info.ram = region.size.map(|size| (region.starting_address as usize, size));
                }
            }
            "chosen" => {
                if let Some(args) = node.property("bootargs").and_then(|p| p.as_str()) {
                    let len = args.len().min(BOOTARGS_MAX);
                    info.bootargs[..len].copy_from_slice(&args.as_bytes()[..len]);
                    info.bootargs_len = if core::str::from_utf8(&info.bootargs[..len]).is_ok() { len } else { 0 };
                }
            }
            "psci" => {
                info.reset = match node.property("method").and_then(|m| m.as_str()) {
                    Some("hvc") => ResetMethod::PsciHvc,
                    Some("smc") => ResetMethod::PsciSmc,
                    _ => ResetMethod::None,
                };
            }
            _ => {}
        }
    }
    info
}
