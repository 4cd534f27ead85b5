//! What the boot loader tells the kernel through the device tree: RAM,
//! `chosen/bootargs` and how to reach PSCI.
//!
//! Read by hand, in one pass over the flattened tree's structure block,
//! rather than with the `fdt` crate: the kernel needs three properties of
//! top-level nodes, and `fdt`'s node walk cost 1.9 ms of a 10 ms boot under
//! QEMU (where every instruction run for the first time is costly); this
//! pass costs a tenth of that. The blob comes from the boot loader, but it
//! is still bounds-checked throughout: a damaged one yields what could be
//! read before the damage, never a panic.

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;

/// The facts the kernel takes from a device tree blob.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DeviceTree<'a> {
    /// Bytes the blob occupies (its header's `totalsize`).
    pub total_size: usize,
    /// Start and size of the first region of the first `/memory` node.
    pub ram: Option<(u64, u64)>,
    /// `/chosen/bootargs`, without its terminating NUL.
    pub bootargs: Option<&'a [u8]>,
    /// `/psci/method` (`hvc` or `smc`), without its terminating NUL.
    pub psci_method: Option<&'a [u8]>,
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

/// The NUL-terminated string at `at`, without its NUL.
fn c_string(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let rest = bytes.get(at..)?;
    rest.iter().position(|&b| b == 0).map(|end| &rest[..end])
}

/// A `reg` value as (address, size), each `cells` 32-bit words long (1 or 2).
fn reg(value: &[u8], address_cells: u32, size_cells: u32) -> Option<(u64, u64)> {
    let number = |at: usize, cells: u32| match cells {
        1 => be32(value, at).map(u64::from),
        2 => Some((u64::from(be32(value, at)?) << 32) | u64::from(be32(value, at + 4)?)),
        _ => None,
    };
    Some((number(0, address_cells)?, number(4 * address_cells as usize, size_cells)?))
}

fn without_nul(value: &[u8]) -> &[u8] {
    value.strip_suffix(&[0]).unwrap_or(value)
}

/// Which top-level node the walk is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TopNode {
    Memory,
    Chosen,
    Psci,
    Other,
}

/// Reads the facts out of `blob`, which starts with an FDT header. `None`
/// if it is not a device tree; otherwise what was found before the end (or
/// before the first damaged token).
pub fn parse(blob: &[u8]) -> Option<DeviceTree<'_>> {
    if be32(blob, 0)? != FDT_MAGIC {
        return None;
    }
    let total_size = (be32(blob, 4)? as usize).min(blob.len());
    let blob = &blob[..total_size];
    let (struct_at, strings_at) = (be32(blob, 8)? as usize, be32(blob, 12)? as usize);
    let structure = blob.get(struct_at..)?;
    let strings = blob.get(strings_at..)?;
    let mut tree = DeviceTree { total_size, ..DeviceTree::default() };
    let (mut address_cells, mut size_cells) = (2, 1);
    let (mut depth, mut node) = (0usize, TopNode::Other);
    let mut at = 0;
    while let Some(token) = be32(structure, at) {
        at += 4;
        match token {
            FDT_BEGIN_NODE => {
                let Some(name) = c_string(structure, at) else { break };
                at += (name.len() + 4) & !3;
                depth += 1;
                if depth == 2 {
                    node = match name.split(|&b| b == b'@').next() {
                        Some(b"memory") => TopNode::Memory,
                        Some(b"chosen") => TopNode::Chosen,
                        Some(b"psci") => TopNode::Psci,
                        _ => TopNode::Other,
                    };
                }
            }
            FDT_END_NODE if depth > 0 => depth -= 1,
            FDT_PROP => {
                let (Some(len), Some(name_at)) = (be32(structure, at), be32(structure, at + 4)) else { break };
                let Some(value) = structure.get(at + 8..).and_then(|rest| rest.get(..len as usize)) else { break };
                at += 8 + ((len as usize + 3) & !3);
                let Some(name) = c_string(strings, name_at as usize) else { continue };
                match (depth, node, name) {
                    (1, _, b"#address-cells") => address_cells = be32(value, 0).unwrap_or(address_cells),
                    (1, _, b"#size-cells") => size_cells = be32(value, 0).unwrap_or(size_cells),
                    (2, TopNode::Memory, b"reg") if tree.ram.is_none() => tree.ram = reg(value, address_cells, size_cells),
                    (2, TopNode::Chosen, b"bootargs") => tree.bootargs = Some(without_nul(value)),
                    (2, TopNode::Psci, b"method") => tree.psci_method = Some(without_nul(value)),
                    _ => {}
                }
            }
            FDT_NOP => {}
            FDT_END => break,
            _ => break,
        }
    }
    Some(tree)
}

#[cfg(target_os = "none")]
pub use boot::{read, BootInfo};

#[cfg(target_os = "none")]
#[allow(unsafe_code)]
mod boot {
    use super::parse;
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
        let ram_end = ram_start + ram_size;
        if address == 0 || address % 8 != 0 || address < ram_start || address + 8 > ram_end {
            return info;
        }
        // SAFETY: the 8 header bytes lie in RAM (checked above), which is
        // identity-mapped; a DTB header is big-endian magic then total size.
        let header = unsafe { core::slice::from_raw_parts(address as *const u8, 8) };
        let Some(total_size) = super::be32(header, 4) else { return info };
        let len = (total_size as usize).min(ram_end - address);
        // SAFETY: `[address, address + len)` lies in RAM, where the boot
        // loader put the blob, and nothing writes to it while it is read.
        let blob = unsafe { core::slice::from_raw_parts(address as *const u8, len) };
        let Some(tree) = parse(blob) else { return info };
        info.dtb = Some((address, tree.total_size));
        info.ram = tree.ram.map(|(start, size)| (start as usize, size as usize));
        if let Some(args) = tree.bootargs {
            let len = args.len().min(BOOTARGS_MAX);
            info.bootargs[..len].copy_from_slice(&args[..len]);
            info.bootargs_len = if core::str::from_utf8(&info.bootargs[..len]).is_ok() { len } else { 0 };
        }
        info.reset = match tree.psci_method {
            Some(b"hvc") => ResetMethod::PsciHvc,
            Some(b"smc") => ResetMethod::PsciSmc,
            _ => ResetMethod::None,
        };
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a flattened device tree: nodes, properties and a strings block.
    #[derive(Default)]
    struct Blob {
        structure: Vec<u8>,
        strings: Vec<u8>,
    }

    impl Blob {
        fn begin(mut self, name: &str) -> Self {
            self.structure.extend(FDT_BEGIN_NODE.to_be_bytes());
            self.structure.extend(name.as_bytes());
            self.structure.push(0);
            self.pad()
        }
        fn end(mut self) -> Self {
            self.structure.extend(FDT_END_NODE.to_be_bytes());
            self
        }
        fn prop(mut self, name: &str, value: &[u8]) -> Self {
            let name_at = self.strings.len() as u32;
            self.strings.extend(name.as_bytes());
            self.strings.push(0);
            self.structure.extend(FDT_PROP.to_be_bytes());
            self.structure.extend((value.len() as u32).to_be_bytes());
            self.structure.extend(name_at.to_be_bytes());
            self.structure.extend(value);
            self.pad()
        }
        fn cells(self, name: &str, cells: &[u32]) -> Self {
            let value: Vec<u8> = cells.iter().flat_map(|c| c.to_be_bytes()).collect();
            self.prop(name, &value)
        }
        fn pad(mut self) -> Self {
            while self.structure.len() % 4 != 0 {
                self.structure.push(0);
            }
            self
        }
        fn finish(mut self) -> Vec<u8> {
            self.structure.extend(FDT_END.to_be_bytes());
            let struct_at = 40 + 16; // header, then an empty reservation map
            let strings_at = struct_at + self.structure.len();
            let total = strings_at + self.strings.len();
            let mut blob = Vec::new();
            for word in [FDT_MAGIC, total as u32, struct_at as u32, strings_at as u32, 40, 17, 16, 0, self.strings.len() as u32, self.structure.len() as u32] {
                blob.extend(word.to_be_bytes());
            }
            blob.extend([0u8; 16]);
            blob.extend(self.structure);
            blob.extend(self.strings);
            blob
        }
    }

    /// Shaped like QEMU `virt`'s tree: 2-cell addresses and sizes, the nodes
    /// we read among others, and decoys with the same property names deeper.
    fn qemu_virt_like() -> Vec<u8> {
        Blob::default()
            .begin("")
            .cells("#address-cells", &[2])
            .cells("#size-cells", &[2])
            .prop("compatible", b"linux,dummy-virt\0")
            .begin("psci")
            .prop("method", b"hvc\0")
            .end()
            .begin("memory@40000000")
            .prop("device_type", b"memory\0")
            .cells("reg", &[0, 0x4000_0000, 0, 0x0800_0000])
            .end()
            .begin("virtio_mmio@a000000")
            .cells("reg", &[0, 0x0a00_0000, 0, 0x200])
            .end()
            .begin("cpus")
            .begin("memory")
            .cells("reg", &[0, 0x1000, 0, 0x1000])
            .end()
            .end()
            .begin("chosen")
            .prop("bootargs", b"http_slots=4 name=booth.home.arpa\0")
            .prop("stdout-path", b"/pl011@9000000\0")
            .end()
            .end()
            .finish()
    }

    #[test]
    fn dtb_qemu_virt_gives_ram_bootargs_and_psci() {
        let blob = qemu_virt_like();
        let tree = parse(&blob).unwrap();
        assert_eq!(tree.total_size, blob.len());
        assert_eq!(tree.ram, Some((0x4000_0000, 0x0800_0000)));
        assert_eq!(tree.bootargs, Some(&b"http_slots=4 name=booth.home.arpa"[..]));
        assert_eq!(tree.psci_method, Some(&b"hvc"[..]));
    }

    #[test]
    fn dtb_one_cell_addresses_as_u_boot_gives_them_on_arm32() {
        let blob = Blob::default()
            .begin("")
            .cells("#address-cells", &[1])
            .cells("#size-cells", &[1])
            .begin("memory")
            .cells("reg", &[0x4000_0000, 0x4000_0000])
            .end()
            .end()
            .finish();
        let tree = parse(&blob).unwrap();
        assert_eq!(tree.ram, Some((0x4000_0000, 0x4000_0000)));
        assert_eq!((tree.bootargs, tree.psci_method), (None, None));
    }

    #[test]
    fn dtb_nops_are_skipped() {
        let mut blob = Blob::default().begin("");
        blob.structure.extend(FDT_NOP.to_be_bytes());
        let blob = blob.begin("chosen").prop("bootargs", b"lease=60\0").end().end().finish();
        assert_eq!(parse(&blob).unwrap().bootargs, Some(&b"lease=60"[..]));
    }

    #[test]
    fn dtb_without_the_magic_is_not_read() {
        let mut blob = qemu_virt_like();
        blob[0] = 0;
        assert_eq!(parse(&blob), None);
        assert_eq!(parse(&[]), None);
    }

    #[test]
    fn dtb_truncated_anywhere_gives_what_came_before_and_never_panics() {
        let blob = qemu_virt_like();
        let whole = parse(&blob).unwrap();
        for len in 0..blob.len() {
            if let Some(tree) = parse(&blob[..len]) {
                assert!(tree.ram.is_none() || tree.ram == whole.ram);
                assert!(tree.bootargs.is_none() || tree.bootargs == whole.bootargs);
            }
        }
    }

    #[test]
    fn dtb_corrupted_bytes_never_panic() {
        let blob = qemu_virt_like();
        let mut state = 0x2048_u32;
        for _ in 0..20_000 {
            let mut damaged = blob.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let at = 8 + state as usize % (damaged.len() - 8);
                damaged[at] = (state >> 8) as u8;
            }
            let _ = parse(&damaged);
        }
    }
}
