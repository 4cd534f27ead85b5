//! Host tool that turns a board's ELF into the image boot loaders take, and
//! that image into a bootable SD card.
//!
//! `imgtool packed KERNEL.elf UNPACK.elf OUT.bin` lays each ELF's loadable
//! segments out from its lowest load address and joins them into the
//! self-extracting image that QEMU's `-kernel` and U-Boot's `booti`/`bootz`
//! take (see `packed`).
//!
//! `imgtool sdcard KERNEL.bin U-BOOT-WITH-SPL.bin OUT.img [BOOTARGS]` writes
//! an Allwinner SD card image (see `sdcard`).
//!
//! `imgtool leaderboard-card OUT.img` writes a 1 MiB card with only the
//! leaderboard's partition, for an Allwinner board QEMU boots with `-kernel`.

mod packed;
mod sdcard;

use packed::Program;
use sdcard::{is_arm64, is_zimage};

use std::process::ExitCode;

use object::elf::PT_LOAD;
use object::read::elf::{ElfFile32, ElfFile64, FileHeader, ProgramHeader};
use object::Endianness;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.as_slice() {
        [_, cmd, kernel, unpacker, out] if cmd == "packed" => match packed_image(kernel, unpacker, out) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("imgtool: {error}");
                ExitCode::FAILURE
            }
        },
        [_, cmd, kernel, uboot, out, rest @ ..] if cmd == "sdcard" && rest.len() <= 1 => {
            match sd_image(kernel, uboot, out, rest.first().map_or("", String::as_str)) {
                Ok(summary) => {
                    println!("{summary}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("imgtool: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        [_, cmd, out] if cmd == "leaderboard-card" => match std::fs::write(out, sdcard::leaderboard_card()) {
            Ok(()) => {
                println!("{out}: 1 MiB card, leaderboard partition (type 0xda) in its last 128 KiB");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("imgtool: {out}: {error}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: imgtool packed KERNEL.elf UNPACK.elf OUT.bin");
            eprintln!("       imgtool sdcard KERNEL.bin U-BOOT-WITH-SPL.bin OUT.img [BOOTARGS]");
            eprintln!("       imgtool leaderboard-card OUT.img");
            ExitCode::from(2)
        }
    }
}

/// An ELF's loadable segments, (physical address, file bytes), and the end
/// of the memory they occupy once running (`.bss` and stacks included).
type Segments = (Vec<(u64, Vec<u8>)>, u64);

fn segments(data: &[u8]) -> Result<Segments, String> {
    fn collect<H: FileHeader<Endian = Endianness>>(file: &object::read::elf::ElfFile<H>, data: &[u8]) -> Result<Segments, String> {
        let endian = file.endian();
        let mut out = Vec::new();
        let mut memory_end = 0;
        for header in file.elf_program_headers() {
            if header.p_type(endian) != PT_LOAD {
                continue;
            }
            let address: u64 = header.p_paddr(endian).into();
            memory_end = memory_end.max(address + header.p_memsz(endian).into());
            if header.p_filesz(endian).into() == 0 {
                continue;
            }
            let bytes = header.data(endian, data).map_err(|_| "segment outside the file".to_string())?;
            out.push((address, bytes.to_vec()));
        }
        Ok((out, memory_end))
    }
    if let Ok(file) = ElfFile64::<Endianness>::parse(data) {
        collect(&file, data)
    } else {
        let file = ElfFile32::<Endianness>::parse(data).map_err(|e| format!("not an ELF: {e}"))?;
        collect(&file, data)
    }
}

/// A linked program, read from its ELF and laid out as raw bytes.
fn program(elf: &str) -> Result<Program, String> {
    let data = std::fs::read(elf).map_err(|e| format!("{elf}: {e}"))?;
    let (segments, memory_end) = segments(&data)?;
    let bytes = layout(&segments).map_err(|e| format!("{elf}: {e}"))?;
    let address = segments.iter().map(|(addr, _)| *addr).min().unwrap_or(0);
    Ok(Program { address, bytes, memory_end })
}

/// Lays out the segments from the lowest address.
pub fn layout(segments: &[(u64, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let base = segments.iter().map(|(addr, _)| *addr).min().ok_or("no loadable segments")?;
    let end = segments.iter().map(|(addr, bytes)| addr + bytes.len() as u64).max().unwrap_or(base);
    let mut image = vec![0u8; (end - base) as usize];
    for (addr, bytes) in segments {
        let offset = (addr - base) as usize;
        image[offset..offset + bytes.len()].copy_from_slice(bytes);
    }
    Ok(image)
}

fn packed_image(kernel: &str, unpacker: &str, out: &str) -> Result<String, String> {
    let kernel = program(kernel)?;
    let image = packed::pack(&kernel, &program(unpacker)?)?;
    std::fs::write(out, &image).map_err(|e| format!("{out}: {e}"))?;
    Ok(format!("{out}: {} bytes (kernel: {} bytes at {:#x})", image.len(), kernel.bytes.len(), kernel.address))
}

/// Writes the SD card image; the load address is the one in the kernel's header.
fn sd_image(kernel: &str, uboot: &str, out: &str, bootargs: &str) -> Result<String, String> {
    let kernel_bytes = std::fs::read(kernel).map_err(|e| format!("{kernel}: {e}"))?;
    let uboot_bytes = std::fs::read(uboot).map_err(|e| format!("{uboot}: {e}"))?;
    let load_address = load_address(&kernel_bytes)?;
    let card = sdcard::Card { kernel: &kernel_bytes, uboot: &uboot_bytes, load_address, bootargs };
    let image = sdcard::build(&card)?;
    std::fs::write(out, &image).map_err(|e| format!("{out}: {e}"))?;
    Ok(format!("{out}: {} MiB, kernel loaded at {load_address:#x}", image.len() >> 20))
}

/// Where the kernel must be loaded: the zImage header's start field (our
/// link address), or the arm64 Image's RAM base + text_offset (0x4000_0000
/// on every Allwinner SoC).
fn load_address(kernel: &[u8]) -> Result<u64, String> {
    let word = |at: usize| kernel.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if is_arm64(kernel) {
        let text_offset = word(0x08).ok_or("truncated Image header")?;
        Ok(0x4000_0000 + u64::from(text_offset))
    } else if is_zimage(kernel) {
        Ok(u64::from(word(0x28).ok_or("truncated zImage header")?))
    } else {
        Err("the kernel has neither an arm64 Image nor a zImage header".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_laid_out_from_the_lowest_address() {
        let image = layout(&[(0x4008_0100, vec![7, 7]), (0x4008_0000, vec![1; 0x40])]).unwrap();
        assert_eq!(image.len(), 0x102);
        assert_eq!(&image[..0x40], &[1u8; 0x40][..]);
        assert_eq!(&image[0x100..], &[7, 7]);
        assert_eq!(&image[0x40..0x100], &[0u8; 0xc0][..]);
    }

    #[test]
    fn an_elf_without_loadable_bytes_is_refused() {
        assert!(layout(&[]).is_err());
    }
}
