//! `imgtool packed`: the self-extracting board image.
//!
//! The image is the unpacker (`unpack/`, linked 4 MiB above the kernel)
//! followed by the kernel's raw image, zlib-compressed. The unpacker's
//! header is what boot loaders read: the zImage or arm64 Image header, here
//! given the kernel's load address and the extent the boot uses (kernel,
//! then the unpacker's copy of the image), so that U-Boot keeps its device
//! tree out of both. Its descriptor at 0x40 says where the compressed kernel
//! is and where it goes. Every layout condition the unpacker relies on is
//! checked here, and the compressed kernel is inflated again and compared.

use miniz_oxide::inflate::decompress_to_vec_zlib;

use crate::sdcard::{is_arm64, is_zimage};

/// Where the unpacker's descriptor is, and its first bytes.
const DESCRIPTOR_OFFSET: usize = 0x40;
const MAGIC: &[u8; 8] = b"2048PACK";
/// Stack the unpacker keeps just below its link address.
const UNPACK_STACK_BYTES: u64 = 64 * 1024;
/// zopfli's passes over each block: the image is built once and booted often,
/// and more passes than this gained nothing on our kernels (1.6 s per image).
const ZOPFLI_ITERATIONS: u64 = 5;

/// A linked program as raw bytes: where it starts and how far it reaches in
/// RAM once running (`.bss` and stacks included).
pub struct Program {
    /// Link (and load) address of the first byte.
    pub address: u64,
    /// The raw image, from `address`.
    pub bytes: Vec<u8>,
    /// End of everything it occupies in RAM.
    pub memory_end: u64,
}

/// The kernel as one zlib stream, the format unpack/ inflates.
fn compress(kernel: &[u8]) -> Result<Vec<u8>, String> {
    let mut options = zopfli::Options::default();
    options.iteration_count = core::num::NonZeroU64::new(ZOPFLI_ITERATIONS).ok_or("no zopfli iterations")?;
    let mut payload = Vec::new();
    zopfli::compress(options, zopfli::Format::Zlib, kernel, &mut payload).map_err(|e| format!("compressing the kernel: {e}"))?;
    Ok(payload)
}

/// Joins the unpacker and the compressed kernel into one image.
pub fn pack(kernel: &Program, unpacker: &Program) -> Result<Vec<u8>, String> {
    let descriptor = unpacker.bytes.get(DESCRIPTOR_OFFSET..DESCRIPTOR_OFFSET + 32).ok_or("the unpacker is too short")?;
    if !is_arm64(&unpacker.bytes) && !is_zimage(&unpacker.bytes) {
        return Err("the unpacker has neither an arm64 Image nor a zImage header".into());
    }
    if &descriptor[..8] != MAGIC {
        return Err("the unpacker has no 2048PACK descriptor at 0x40".into());
    }
    let payload = compress(&kernel.bytes)?;
    if decompress_to_vec_zlib(&payload).ok().as_deref() != Some(&kernel.bytes[..]) {
        return Err("the compressed kernel does not inflate back to the kernel".into());
    }
    let payload_offset = unpacker.bytes.len().next_multiple_of(16);
    let mut image = unpacker.bytes.clone();
    image.resize(payload_offset, 0);
    image.extend_from_slice(&payload);
    image.resize(image.len().next_multiple_of(16), 0);

    let load = kernel.address;
    let copy_end = unpacker.address + image.len() as u64;
    if load + image.len() as u64 > unpacker.address {
        return Err(format!("the image ({} bytes at {load:#x}) reaches the unpacker's copy at {:#x}", image.len(), unpacker.address));
    }
    if kernel.memory_end > unpacker.address - UNPACK_STACK_BYTES {
        return Err(format!("the kernel reaches {:#x}, into the unpacker's stack below {:#x}", kernel.memory_end, unpacker.address));
    }
    let word = |value: u64| u32::try_from(value).map_err(|_| format!("{value:#x} does not fit the descriptor"));
    let fields = [
        word(image.len() as u64)?,
        word(payload_offset as u64)?,
        word(payload.len() as u64)?,
        word(load)?,
        word(kernel.bytes.len() as u64)?,
    ];
    for (n, field) in fields.iter().enumerate() {
        let at = DESCRIPTOR_OFFSET + 8 + 4 * n;
        image[at..at + 4].copy_from_slice(&field.to_le_bytes());
    }
    if is_arm64(&image) {
        image[0x10..0x18].copy_from_slice(&(copy_end - load).to_le_bytes());
    } else {
        image[0x28..0x2c].copy_from_slice(&word(load)?.to_le_bytes());
        image[0x2c..0x30].copy_from_slice(&word(copy_end)?.to_le_bytes());
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpacker(address: u64, arm64: bool) -> Program {
        let mut bytes = vec![0u8; 0x100];
        if arm64 {
            bytes[0x38..0x3c].copy_from_slice(b"ARM\x64");
        } else {
            bytes[0x24..0x28].copy_from_slice(&crate::sdcard::ZIMAGE_MAGIC.to_le_bytes());
        }
        bytes[DESCRIPTOR_OFFSET..DESCRIPTOR_OFFSET + 8].copy_from_slice(MAGIC);
        Program { address, bytes, memory_end: address + 0x100 }
    }

    fn kernel() -> Program {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        Program { address: 0x4001_0000, memory_end: 0x4001_0000 + 0x20_0000, bytes }
    }

    fn field(image: &[u8], n: usize) -> u32 {
        let at = DESCRIPTOR_OFFSET + 8 + 4 * n;
        u32::from_le_bytes(image[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn the_descriptor_finds_a_payload_that_inflates_to_the_kernel() {
        let kernel = kernel();
        let image = pack(&kernel, &unpacker(0x4041_0000, false)).unwrap();
        assert_eq!(field(&image, 0) as usize, image.len());
        assert_eq!(image.len() % 16, 0);
        let (offset, len) = (field(&image, 1) as usize, field(&image, 2) as usize);
        assert_eq!(decompress_to_vec_zlib(&image[offset..offset + len]).unwrap(), kernel.bytes);
        assert_eq!(field(&image, 3), 0x4001_0000);
        assert_eq!(field(&image, 4) as usize, kernel.bytes.len());
        assert!(image.len() < kernel.bytes.len() / 10);
    }

    #[test]
    fn zimage_header_covers_the_kernel_and_the_unpackers_copy() {
        let image = pack(&kernel(), &unpacker(0x4041_0000, false)).unwrap();
        assert_eq!(&image[0x28..0x2c], &0x4001_0000u32.to_le_bytes());
        assert_eq!(&image[0x2c..0x30], &(0x4041_0000 + image.len() as u32).to_le_bytes());
    }

    #[test]
    fn arm64_image_size_covers_the_kernel_and_the_unpackers_copy() {
        let mut kernel = kernel();
        kernel.address = 0x4008_0000;
        kernel.memory_end = 0x4028_0000;
        let image = pack(&kernel, &unpacker(0x4048_0000, true)).unwrap();
        assert_eq!(&image[0x10..0x18], &(0x40_0000 + image.len() as u64).to_le_bytes());
    }

    #[test]
    fn a_kernel_that_reaches_the_unpackers_stack_is_refused() {
        let mut kernel = kernel();
        kernel.memory_end = 0x4041_0000 - 0x100;
        assert!(pack(&kernel, &unpacker(0x4041_0000, false)).unwrap_err().contains("stack"));
    }

    #[test]
    fn an_unpacker_without_a_boot_header_is_refused() {
        let mut unpacker = unpacker(0x4041_0000, false);
        unpacker.bytes[0x24] = 0;
        assert!(pack(&kernel(), &unpacker).unwrap_err().contains("header"));
    }

    #[test]
    fn an_unpacker_without_its_descriptor_is_refused() {
        let mut unpacker = unpacker(0x4041_0000, false);
        unpacker.bytes[DESCRIPTOR_OFFSET] = b'X';
        assert!(pack(&kernel(), &unpacker).is_err());
    }
}
