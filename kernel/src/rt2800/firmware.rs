//! The MCU firmware, rt2870.bin: checking the file and loading it, as
//! rt2800usb does (rt2800_check_firmware, rt2800usb_write_firmware,
//! rt2800_load_firmware).
//!
//! Debian's file is 8 KiB: two 4 KiB images, each ending in a CRC-CCITT
//! of the rest (stored low byte first). USB chips after the RT3070, the
//! RT5370 among them, run the second image. The image is embedded at build
//! time when tools/build.sh sets RT2870_FIRMWARE (tools/firmware.sh fetches
//! it); boards without USB and host tests build without it.

use super::bus::{mode, request, Rt2800Bus};
use super::csr::Csr;
use super::regs::{self, mcu};
use super::Error;

/// Bytes of one firmware image.
pub const IMAGE_LEN: usize = 4096;
/// Milliseconds the MCU may take to report PBF_SYS_CTRL_READY.
const READY_POLL_MS: u32 = 1;

/// CRC-CCITT as Linux's crc_ccitt computes it (reflected 0x1021, start
/// 0xffff, no final xor): CRC-16/MCRF4XX.
const CRC: crc::Crc<u16, crc::NoTable> = crc::Crc::<u16, crc::NoTable>::new(&crc::CRC_16_MCRF4XX);

/// Why a firmware file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirmwareError {
    /// Not a multiple of 4 KiB, or a single image (the RT5370 needs the second).
    Length(usize),
    /// Image `n`'s CRC does not match.
    Crc(usize),
}

/// Checks `file` and returns the image the RT5370 runs (the second).
pub fn image_for_rt5370(file: &[u8]) -> Result<&[u8], FirmwareError> {
    if file.len() % IMAGE_LEN != 0 || file.len() < 2 * IMAGE_LEN {
        return Err(FirmwareError::Length(file.len()));
    }
    for (n, image) in file.chunks(IMAGE_LEN).enumerate() {
        let (body, stored) = image.split_at(IMAGE_LEN - 2);
        if CRC.checksum(body).to_le_bytes() != [stored[0], stored[1]] {
            return Err(FirmwareError::Crc(n));
        }
    }
    Ok(&file[IMAGE_LEN..2 * IMAGE_LEN])
}

/// The firmware embedded in this image, if the build had it.
pub fn embedded() -> Option<&'static [u8]> {
    include!(concat!(env!("OUT_DIR"), "/rt2870_firmware.rs"))
}

/// Stops the packet DMA (rt2800_disable_wpdma).
pub fn disable_wpdma<B: Rt2800Bus>(csr: &mut Csr<B>) -> Result<(), Error> {
    csr.modify(
        regs::WPDMA_GLO_CFG,
        &[
            (regs::WPDMA_ENABLE_TX_DMA, 0),
            (regs::WPDMA_TX_DMA_BUSY, 0),
            (regs::WPDMA_ENABLE_RX_DMA, 0),
            (regs::WPDMA_RX_DMA_BUSY, 0),
            (regs::WPDMA_TX_WRITEBACK_DONE, 1),
        ],
    )?;
    Ok(())
}

/// Loads `image` (4 KiB, from `image_for_rt5370`) into the MCU unless the
/// dongle runs its own (`autorun`), starts it and waits for it to come up.
pub fn load<B: Rt2800Bus>(csr: &mut Csr<B>, image: &[u8], autorun: bool) -> Result<(), Error> {
    csr.write(regs::AUTOWAKEUP_CFG, 0)?;
    disable_wpdma(csr)?;
    if !autorun {
        csr.write_block(regs::FIRMWARE_IMAGE_BASE, image)?;
    }
    csr.write(regs::H2M_MAILBOX_CID, !0)?;
    csr.write(regs::H2M_MAILBOX_STATUS, !0)?;
    csr.bus().vendor_out(request::DEVICE_MODE, mode::FIRMWARE, 0, &[])?;
    csr.bus().delay_us(10_000);
    csr.write(regs::H2M_MAILBOX_CSR, 0)?;
    csr.wait("firmware (PBF_SYS_CTRL_READY)", regs::PBF_SYS_CTRL, READY_POLL_MS * 1000, |reg| {
        regs::PBF_SYS_CTRL_READY.get(reg) != 0
    })?;
    disable_wpdma(csr)?;
    csr.write(regs::H2M_BBP_AGENT, 0)?;
    csr.write(regs::H2M_MAILBOX_CSR, 0)?;
    csr.write(regs::H2M_INT_SRC, 0)?;
    csr.mcu_request(mcu::BOOT_SIGNAL, 0, 0, 0)?;
    csr.bus().delay_us(1000);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fake rt2870.bin: two 4 KiB images of a pattern, each with its CRC.
    pub(crate) fn fake_file() -> alloc::vec::Vec<u8> {
        let mut file = alloc::vec![0u8; 2 * IMAGE_LEN];
        for (i, byte) in file.iter_mut().enumerate() {
            *byte = (i * 7 % 251) as u8;
        }
        for image in file.chunks_mut(IMAGE_LEN) {
            let crc = CRC.checksum(&image[..IMAGE_LEN - 2]).to_le_bytes();
            image[IMAGE_LEN - 2..].copy_from_slice(&crc);
        }
        file
    }

    #[test]
    fn crc_is_linux_crc_ccitt() {
        // crc_ccitt(0xffff, "123456789") = 0x6f91 (CRC-16/MCRF4XX's check value).
        assert_eq!(CRC.checksum(b"123456789"), 0x6f91);
    }

    #[test]
    fn good_file_gives_the_second_image() {
        let file = fake_file();
        assert_eq!(image_for_rt5370(&file).unwrap(), &file[IMAGE_LEN..]);
    }

    #[test]
    fn debians_rt2870_bin_passes_the_checks_once_fetched() {
        // tools/firmware.sh puts it here; without it (a fresh checkout) there is nothing to check.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../build/firmware/rt2870.bin");
        if let Ok(file) = std::fs::read(path) {
            assert_eq!(image_for_rt5370(&file).map(<[u8]>::len), Ok(IMAGE_LEN));
        }
    }

    #[test]
    fn bad_files_are_refused() {
        let file = fake_file();
        assert_eq!(image_for_rt5370(&file[..IMAGE_LEN]), Err(FirmwareError::Length(IMAGE_LEN)));
        assert_eq!(image_for_rt5370(&file[..5000]), Err(FirmwareError::Length(5000)));
        let mut corrupt = file.clone();
        corrupt[IMAGE_LEN + 100] ^= 1;
        assert_eq!(image_for_rt5370(&corrupt), Err(FirmwareError::Crc(1)));
    }
}
