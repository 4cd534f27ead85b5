//! `imgtool sdcard`: a bootable SD card image for an Allwinner board.
//!
//! Layout (what the sunxi boot ROM and U-Boot expect): an MBR partition
//! table; U-Boot with its SPL at 8 KiB, where the boot ROM looks; one FAT16
//! partition from 1 MiB holding the kernel (`zImage` or `Image`) and a
//! `boot.scr` that U-Boot's distro boot finds and runs; the card's last
//! 128 KiB, a partition of type 0xDA (non-file-system data), hold the
//! leaderboard's journal, blank until the appliance writes it. `boot.scr` is built
//! here, as `mkimage -T script` would: a 64-byte legacy image header, a
//! length table and the script text. The image size is a power of two (QEMU
//! requires it of SD cards). The FAT file system is written by `fatfs`.

use std::io::{Cursor, Seek, SeekFrom, Write};

/// What goes on the card.
pub struct Card<'a> {
    /// The raw kernel image (zImage or arm64 Image header).
    pub kernel: &'a [u8],
    /// `u-boot-sunxi-with-spl.bin`.
    pub uboot: &'a [u8],
    /// Address the kernel is linked at; the script loads it there.
    pub load_address: u64,
    /// Kernel command line (`bootargs`), may be empty.
    pub bootargs: &'a str,
}

const SPL_OFFSET: usize = 8 * 1024;
const PARTITION_START: usize = 1024 * 1024;
const SECTOR: usize = 512;
/// The leaderboard's area: the kernel's `partition::LEADERBOARD_TYPE`, 256 blocks.
const LEADERBOARD_TYPE: u8 = 0xda;
const LEADERBOARD_SECTORS: usize = 256;
const FAT16_LBA: u8 = 0x0e;
/// The card `leaderboard_card` writes: the smallest power of two above its table and area.
const LEADERBOARD_CARD: usize = 1024 * 1024;
/// Legacy image header constants (U-Boot's image.h).
const IH_MAGIC: u32 = 0x2705_1956;
const IH_OS_LINUX: u8 = 5;
const IH_ARCH_ARM: u8 = 2;
const IH_ARCH_ARM64: u8 = 22;
const IH_TYPE_SCRIPT: u8 = 6;

/// True if `kernel` carries the arm64 Image header (else it is a zImage).
pub fn is_arm64(kernel: &[u8]) -> bool {
    kernel.get(0x38..0x3c) == Some(b"ARM\x64")
}

/// The zImage header's magic word, at 0x24.
pub const ZIMAGE_MAGIC: u32 = 0x016f_2818;

/// True if `kernel` carries the zImage header.
pub fn is_zimage(kernel: &[u8]) -> bool {
    kernel.get(0x24..0x28) == Some(&ZIMAGE_MAGIC.to_le_bytes())
}

/// The U-Boot script that loads the kernel at its link address and starts it
/// with U-Boot's own device tree.
pub fn boot_script(card: &Card) -> String {
    let (file, command) = if is_arm64(card.kernel) { ("Image", "booti") } else { ("zImage", "bootz") };
    let mut script = String::new();
    script.push_str("# 2048 appliance: load the kernel at its link address and start it.\n");
    script.push_str("if test -z \"${devtype}\"; then setenv devtype mmc; setenv devnum 0; setenv distro_bootpart 1; fi\n");
    script.push_str(&format!("setenv bootargs \"{}\"\n", card.bootargs.replace('"', "")));
    script.push_str(&format!("echo \"2048 appliance: {file} from ${{devtype}} ${{devnum}}:${{distro_bootpart}} to {:#x}\"\n", card.load_address));
    script.push_str(&format!("load ${{devtype}} ${{devnum}}:${{distro_bootpart}} {:#x} {file}\n", card.load_address));
    script.push_str(&format!("{command} {:#x} - ${{fdtcontroladdr}}\n", card.load_address));
    script
}

/// `boot.scr`: legacy image header (type script) + length table + script.
pub fn script_image(script: &str, arm64: bool) -> Vec<u8> {
    let text = script.as_bytes();
    let mut data = Vec::with_capacity(8 + text.len());
    data.extend_from_slice(&(text.len() as u32).to_be_bytes());
    data.extend_from_slice(&0u32.to_be_bytes());
    data.extend_from_slice(text);
    let mut header = [0u8; 64];
    header[0..4].copy_from_slice(&IH_MAGIC.to_be_bytes());
    header[12..16].copy_from_slice(&(data.len() as u32).to_be_bytes());
    header[24..28].copy_from_slice(&crc32(&data).to_be_bytes());
    header[28] = IH_OS_LINUX;
    header[29] = if arm64 { IH_ARCH_ARM64 } else { IH_ARCH_ARM };
    header[30] = IH_TYPE_SCRIPT;
    header[31] = 0; // not compressed
    let name = b"2048 appliance boot script";
    header[32..32 + name.len()].copy_from_slice(name);
    let header_crc = crc32(&header);
    header[4..8].copy_from_slice(&header_crc.to_be_bytes());
    let mut image = header.to_vec();
    image.extend_from_slice(&data);
    image
}

/// CRC-32 (IEEE 802.3, reflected), as U-Boot checks image headers.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Builds the whole card image in memory.
pub fn build(card: &Card) -> Result<Vec<u8>, String> {
    if SPL_OFFSET + card.uboot.len() > PARTITION_START {
        return Err(format!("U-Boot is {} bytes: it does not fit between 8 KiB and 1 MiB", card.uboot.len()));
    }
    let arm64 = is_arm64(card.kernel);
    let kernel_name = if arm64 { "Image" } else { "zImage" };
    let script = script_image(&boot_script(card), arm64);
    // FAT overhead and slack: at least 8 MiB of partition, rounded to a power-of-two card.
    let needed = PARTITION_START + (card.kernel.len() + script.len()) * 2 + (8 << 20);
    let size = needed.next_power_of_two();
    let area_start = size - LEADERBOARD_SECTORS * SECTOR;
    let partition_len = area_start - PARTITION_START;

    let mut partition = vec![0u8; partition_len];
    {
        let mut cursor = Cursor::new(&mut partition[..]);
        let options = fatfs::FormatVolumeOptions::new().fat_type(fatfs::FatType::Fat16).volume_label(*b"APPLIANCE  ");
        fatfs::format_volume(&mut cursor, options).map_err(|e| format!("formatting FAT: {e}"))?;
        cursor.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        let fs = fatfs::FileSystem::new(cursor, fatfs::FsOptions::new()).map_err(|e| format!("opening FAT: {e}"))?;
        for (name, bytes) in [(kernel_name, card.kernel), ("boot.scr", &script[..])] {
            let mut file = fs.root_dir().create_file(name).map_err(|e| format!("{name}: {e}"))?;
            file.truncate().map_err(|e| format!("{name}: {e}"))?;
            file.write_all(bytes).map_err(|e| format!("{name}: {e}"))?;
        }
        fs.unmount().map_err(|e| format!("closing FAT: {e}"))?;
    }

    let mut image = vec![0u8; size];
    let partitions = [
        Partition { kind: FAT16_LBA, bootable: true, first: PARTITION_START / SECTOR, sectors: partition_len / SECTOR },
        Partition { kind: LEADERBOARD_TYPE, bootable: false, first: area_start / SECTOR, sectors: LEADERBOARD_SECTORS },
    ];
    image[..SECTOR].copy_from_slice(&mbr(&partitions));
    image[SPL_OFFSET..SPL_OFFSET + card.uboot.len()].copy_from_slice(card.uboot);
    image[PARTITION_START..area_start].copy_from_slice(&partition);
    Ok(image)
}

/// A card holding only the leaderboard's area, for a board booted with
/// QEMU's `-kernel` that still keeps its leaderboard on an SD card.
pub fn leaderboard_card() -> Vec<u8> {
    let first = LEADERBOARD_CARD / SECTOR - LEADERBOARD_SECTORS;
    let mut image = vec![0u8; LEADERBOARD_CARD];
    image[..SECTOR].copy_from_slice(&mbr(&[Partition { kind: LEADERBOARD_TYPE, bootable: false, first, sectors: LEADERBOARD_SECTORS }]));
    image
}

/// One MBR partition entry.
struct Partition {
    kind: u8,
    bootable: bool,
    first: usize,
    sectors: usize,
}

/// An MBR with up to four LBA partitions.
fn mbr(partitions: &[Partition]) -> [u8; SECTOR] {
    let mut mbr = [0u8; SECTOR];
    mbr[440..444].copy_from_slice(&0x2048_0001u32.to_le_bytes()); // disk signature
    for (partition, entry) in partitions.iter().zip(mbr[446..510].chunks_exact_mut(16)) {
        entry[0] = if partition.bootable { 0x80 } else { 0 };
        entry[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]); // CHS: use LBA
        entry[4] = partition.kind;
        entry[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
        entry[8..12].copy_from_slice(&(partition.first as u32).to_le_bytes());
        entry[12..16].copy_from_slice(&(partition.sectors as u32).to_le_bytes());
    }
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    mbr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn boot_script_image_has_a_valid_legacy_header() {
        let image = script_image("echo hi\n", false);
        assert_eq!(&image[0..4], &IH_MAGIC.to_be_bytes());
        assert_eq!(image[30], IH_TYPE_SCRIPT);
        assert_eq!(image[29], IH_ARCH_ARM);
        let size = u32::from_be_bytes(image[12..16].try_into().unwrap()) as usize;
        assert_eq!(size, image.len() - 64);
        assert_eq!(u32::from_be_bytes(image[24..28].try_into().unwrap()), crc32(&image[64..]));
        let mut header = image[..64].to_vec();
        let stored = u32::from_be_bytes(header[4..8].try_into().unwrap());
        header[4..8].fill(0);
        assert_eq!(stored, crc32(&header));
        // Length table: the script's length, then the zero terminator, then the text.
        assert_eq!(&image[64..68], &8u32.to_be_bytes());
        assert_eq!(&image[68..72], &[0; 4]);
        assert_eq!(&image[72..], b"echo hi\n");
    }

    #[test]
    fn zimage_is_loaded_at_its_link_address_with_bootz() {
        let kernel = vec![0u8; 0x40];
        let card = Card { kernel: &kernel, uboot: &[], load_address: 0x4001_0000, bootargs: "" };
        let script = boot_script(&card);
        assert!(script.contains("0x40010000 zImage\n"));
        assert!(script.contains("bootz 0x40010000 - ${fdtcontroladdr}"));
    }

    #[test]
    fn card_has_spl_at_8k_a_partition_at_1m_and_a_power_of_two_size() {
        let mut kernel = vec![7u8; 300_000];
        kernel[0x38..0x3c].copy_from_slice(b"ARM\x64");
        let uboot = vec![0xabu8; 600_000];
        let card = Card { kernel: &kernel, uboot: &uboot, load_address: 0x4008_0000, bootargs: "ip=10.0.0.1/24" };
        let image = build(&card).unwrap();
        assert!(image.len().is_power_of_two());
        assert_eq!(&image[510..512], &[0x55, 0xaa]);
        assert_eq!(image[446 + 4], 0x0e);
        assert_eq!(u32::from_le_bytes(image[454..458].try_into().unwrap()), 2048);
        let sectors = image.len() / SECTOR;
        assert_eq!(u32::from_le_bytes(image[458..462].try_into().unwrap()) as usize, sectors - 2048 - 256);
        assert_eq!(image[462 + 4], LEADERBOARD_TYPE);
        assert_eq!(u32::from_le_bytes(image[470..474].try_into().unwrap()) as usize, sectors - 256);
        assert_eq!(u32::from_le_bytes(image[474..478].try_into().unwrap()), 256);
        assert!(image[image.len() - 256 * SECTOR..].iter().all(|&byte| byte == 0), "the area starts blank");
        assert_eq!(&image[SPL_OFFSET..SPL_OFFSET + uboot.len()], &uboot[..]);
        let fs = fatfs::FileSystem::new(Cursor::new(image[PARTITION_START..].to_vec()), fatfs::FsOptions::new()).unwrap();
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut fs.root_dir().open_file("Image").unwrap(), &mut read).unwrap();
        assert_eq!(read, kernel);
        let mut script = Vec::new();
        std::io::Read::read_to_end(&mut fs.root_dir().open_file("boot.scr").unwrap(), &mut script).unwrap();
        assert!(String::from_utf8_lossy(&script).contains("booti 0x40080000"));
    }

    #[test]
    fn the_leaderboard_card_holds_only_the_area_at_its_end() {
        let image = leaderboard_card();
        assert!(image.len().is_power_of_two());
        assert_eq!(&image[510..512], &[0x55, 0xaa]);
        assert_eq!(image[446 + 4], LEADERBOARD_TYPE);
        assert_eq!(u32::from_le_bytes(image[454..458].try_into().unwrap()), 2048 - 256);
        assert_eq!(u32::from_le_bytes(image[458..462].try_into().unwrap()), 256);
        assert!(image[462..510].iter().all(|&byte| byte == 0), "one entry");
    }

    #[test]
    fn an_oversized_uboot_is_refused() {
        let uboot = vec![0u8; PARTITION_START];
        let card = Card { kernel: &[0u8; 0x40], uboot: &uboot, load_address: 0x4001_0000, bootargs: "" };
        assert!(build(&card).is_err());
    }
}
