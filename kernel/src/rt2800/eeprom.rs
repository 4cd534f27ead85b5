//! The EEPROM (or eFuse) image of an RT5370/RT5372 dongle: where its words
//! sit (Linux's rt2800_eeprom_map) and what the driver takes from them.
//!
//! The image is 512 bytes of little-endian 16-bit words, read whole at
//! bring-up by `read` (eFuse blocks or the EEPROM vendor request) and parsed
//! by `Eeprom::parse`, which checks every value it uses: an erased word
//! (0xffff) gets the default Linux gives it, an unknown RF chip is an error.

use super::bus::{mode, request, Rt2800Bus};
use super::csr::{Csr, CHUNK};
use super::regs;
use super::Error;
use log::warn;

/// Bytes of the EEPROM image.
pub const EEPROM_LEN: usize = 512;

/// Word offsets (EEPROM_* of rt2800lib.c's map for everything but the RT3593).
mod word {
    pub const CHIP_ID: usize = 0x00;
    pub const MAC_ADDR: usize = 0x02;
    pub const NIC_CONF0: usize = 0x1a;
    pub const NIC_CONF1: usize = 0x1b;
    pub const FREQ: usize = 0x1d;
    pub const LNA: usize = 0x22;
    pub const TXPOWER_BG1: usize = 0x29;
    pub const TXPOWER_BG2: usize = 0x30;
    pub const TXPOWER_BYRATE: usize = 0x6f;
    pub const BBP_START: usize = 0x78;
}

/// Words of BBP register overrides from EEPROM_BBP_START.
const BBP_WORDS: usize = 16;
/// Channels of the 2.4 GHz TX power tables (1-14).
pub const CHANNELS: usize = 14;
/// Largest TX power setting the RF5370 takes (Linux's POWER_BOUND).
pub const MAX_TXPOWER: u8 = 0x27;
/// TX power for a channel whose calibration byte is erased (Linux's DEFAULT_TXPOWER).
const DEFAULT_TXPOWER: u8 = 5;
/// Address used when the EEPROM holds none: locally administered, and logged.
const FALLBACK_MAC: [u8; 6] = [0x02, 0x52, 0x54, 0x53, 0x70, 0x00];

/// The RF chips of the RT5390 family, named by EEPROM_CHIP_ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RfChip {
    /// RF5360/RF5370/RF5390: one stream.
    Rf5370,
    /// RF5362/RF5372/RF5392: two streams.
    Rf5372,
}

/// What the driver uses from the EEPROM, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eeprom {
    /// The dongle's address, the access point's BSSID.
    pub mac: [u8; 6],
    /// The RF chip.
    pub rf: RfChip,
    /// TX chains (NIC_CONF0_TXPATH), 1 or 2.
    pub tx_chains: u8,
    /// RX chains (NIC_CONF0_RXPATH), 1 or 2.
    pub rx_chains: u8,
    /// NIC_CONF1_ANT_DIVERSITY: 3 selects the auxiliary antenna.
    pub antenna_diversity: u8,
    /// NIC_CONF1_BT_COEXIST: a Wi-Fi/Bluetooth combo (GPIO antenna switching, not supported).
    pub bt_coexist: bool,
    /// Crystal trim for RFCSR17 (EEPROM_FREQ_OFFSET), at most 0x5f.
    pub freq_offset: u8,
    /// LNA gain at 2.4 GHz (EEPROM_LNA_BG).
    pub lna_gain: u8,
    /// TX power of chain 0 per channel 1-14 (EEPROM_TXPOWER_BG1).
    pub txpower1: [u8; CHANNELS],
    /// TX power of chain 1 per channel (EEPROM_TXPOWER_BG2).
    pub txpower2: [u8; CHANNELS],
    /// TX_PWR_CFG_0..4: per-rate power deltas, nibbles capped at 0xc.
    pub txpower_by_rate: [u32; 5],
    /// BBP registers the vendor overrides (register, value).
    pub bbp: alloc::vec::Vec<(u8, u8)>,
}

fn read_word(image: &[u8; EEPROM_LEN], index: usize) -> u16 {
    u16::from_le_bytes([image[2 * index], image[2 * index + 1]])
}

fn power(byte: u8) -> u8 {
    if byte > MAX_TXPOWER {
        DEFAULT_TXPOWER
    } else {
        byte
    }
}

fn cap_nibbles(value: u32) -> u32 {
    (0..8).fold(0, |out, i| out | ((value >> (4 * i)) & 0xf).min(0xc) << (4 * i))
}

impl Eeprom {
    /// Parses a 512-byte image.
    pub fn parse(image: &[u8; EEPROM_LEN]) -> Result<Self, Error> {
        let rf = match read_word(image, word::CHIP_ID) {
            0x5360 | 0x5370 | 0x5390 => RfChip::Rf5370,
            0x5362 | 0x5372 | 0x5392 => RfChip::Rf5372,
            other => return Err(Error::UnknownRf(other)),
        };
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&image[2 * word::MAC_ADDR..2 * word::MAC_ADDR + 6]);
        if mac[0] & 1 != 0 || mac == [0; 6] {
            warn!("rt2800: EEPROM holds no valid MAC address ({}); using a fixed local one", wifi::Mac(&mac));
            mac = FALLBACK_MAC;
        }
        let conf0 = read_word(image, word::NIC_CONF0);
        let (rx, tx) = if conf0 == 0xffff { (2, 1) } else { ((conf0 & 0xf) as u8, ((conf0 >> 4) & 0xf) as u8) };
        let conf1 = match read_word(image, word::NIC_CONF1) {
            0xffff => 0,
            other => other,
        };
        let freq = read_word(image, word::FREQ);
        let freq_offset = if freq & 0xff == 0xff { 0 } else { (freq & 0x7f) as u8 };
        let lna = read_word(image, word::LNA);
        let lna_gain = match (lna & 0xff) as u8 {
            0xff => 0,
            gain => gain,
        };
        let mut txpower1 = [0u8; CHANNELS];
        let mut txpower2 = [0u8; CHANNELS];
        for ch in 0..CHANNELS {
            txpower1[ch] = power(image[2 * word::TXPOWER_BG1 + ch]);
            txpower2[ch] = power(image[2 * word::TXPOWER_BG2 + ch]);
        }
        // TX_PWR_CFG_0..4 at 20 MHz: two words each, low half first.
        let mut txpower_by_rate = [0u32; 5];
        for (i, reg) in txpower_by_rate.iter_mut().enumerate() {
            let low = read_word(image, word::TXPOWER_BYRATE + 2 * i);
            let high = read_word(image, word::TXPOWER_BYRATE + 2 * i + 1);
            *reg = cap_nibbles(u32::from(low) | u32::from(high) << 16);
        }
        let bbp = (0..BBP_WORDS)
            .map(|i| read_word(image, word::BBP_START + i))
            .filter(|&w| w != 0xffff && w != 0)
            .map(|w| ((w >> 8) as u8, w as u8))
            .collect();
        Ok(Eeprom {
            mac,
            rf,
            tx_chains: tx.clamp(1, 2),
            rx_chains: rx.clamp(1, 2),
            antenna_diversity: ((conf1 >> 11) & 3) as u8,
            bt_coexist: conf1 & 0x4000 != 0,
            freq_offset: freq_offset.min(0x5f),
            lna_gain,
            txpower1,
            txpower2,
            txpower_by_rate,
            bbp,
        })
    }
}

/// Whether the dongle runs firmware from its own flash (USB_MODE_AUTORUN
/// answers 2 in its low bits): then its configuration is in eFuse and no
/// firmware is loaded.
pub fn autorun<B: Rt2800Bus>(csr: &mut Csr<B>) -> Result<bool, Error> {
    let mut answer = [0u8; 4];
    csr.bus().vendor_in(request::DEVICE_MODE, mode::AUTORUN, 0, &mut answer)?;
    Ok(u32::from_le_bytes(answer) & 3 == 2)
}

/// Reads the image: from eFuse when the chip has one (or runs in autorun
/// mode), else from the EEPROM through the vendor request.
pub fn read<B: Rt2800Bus>(csr: &mut Csr<B>, autorun: bool) -> Result<[u8; EEPROM_LEN], Error> {
    let mut image = [0u8; EEPROM_LEN];
    if autorun || regs::EFUSE_PRESENT.get(csr.read(regs::EFUSE_CTRL)?) != 0 {
        for block in (0..EEPROM_LEN / 2).step_by(8) {
            let ctrl = csr.read(regs::EFUSE_CTRL)?;
            let mut kick = regs::EFUSE_ADDRESS_IN.set(ctrl, block as u32);
            kick = regs::EFUSE_MODE.set(kick, 0);
            kick = regs::EFUSE_KICK.set(kick, 1);
            csr.write(regs::EFUSE_CTRL, kick)?;
            csr.wait("eFuse read", regs::EFUSE_CTRL, 100, |reg| regs::EFUSE_KICK.get(reg) == 0)?;
            // The chip fills EFUSE_DATA3 with the block's first word pair, DATA0 with its last.
            for (i, reg) in (regs::EFUSE_DATA0..=regs::EFUSE_DATA3).step_by(4).rev().enumerate() {
                let at = 2 * block + 4 * i;
                image[at..at + 4].copy_from_slice(&csr.read(reg)?.to_le_bytes());
            }
        }
    } else {
        for (i, chunk) in image.chunks_mut(CHUNK).enumerate() {
            csr.bus().vendor_in(request::EEPROM_READ, 0, (i * CHUNK) as u16, chunk)?;
        }
    }
    Ok(image)
}

/// An RT5370 dongle's eFuse image, cut to the words the driver reads (the
/// rest erased): address 00:0f:55:6b:c8:41, one chain, trim 0x24, LNA 4.
#[cfg(test)]
pub(crate) fn tests_image() -> [u8; EEPROM_LEN] {
    let mut image = [0xffu8; EEPROM_LEN];
    let mut put = |word: usize, value: u16| image[2 * word..2 * word + 2].copy_from_slice(&value.to_le_bytes());
    put(0x00, 0x5370);
    put(0x01, 0x0101);
    put(0x02, 0x0f00);
    put(0x03, 0x6b55);
    put(0x04, 0x41c8);
    put(0x1a, 0x0011);
    put(0x1b, 0x0000);
    put(0x1d, 0x1a24);
    put(0x22, 0x0a04);
    for w in 0..7 {
        put(0x29 + w, 0x1c1c);
        put(0x30 + w, 0x1c1c);
    }
    put(0x29, 0x1e1d);
    put(0x6f, 0x6666);
    put(0x70, 0xaaaa);
    put(0x78, 0x6a02);
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt5370_image() -> [u8; EEPROM_LEN] {
        tests_image()
    }

    #[test]
    fn rt5370_image_gives_address_rf_and_calibration() {
        let e = Eeprom::parse(&rt5370_image()).unwrap();
        assert_eq!(e.mac, [0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41]);
        assert_eq!(e.rf, RfChip::Rf5370);
        assert_eq!((e.tx_chains, e.rx_chains), (1, 1));
        assert_eq!(e.freq_offset, 0x24);
        assert_eq!(e.lna_gain, 4);
        assert_eq!(e.txpower1[..3], [0x1d, 0x1e, 0x1c]);
        assert_eq!(e.txpower2[13], 0x1c);
        assert_eq!(e.txpower_by_rate[0], 0xaaaa_6666);
        assert_eq!(e.txpower_by_rate[1], 0xcccc_cccc, "erased words are capped at 0xc per nibble");
        assert_eq!(e.bbp, [(0x6a, 0x02)]);
    }

    #[test]
    fn erased_words_get_linux_defaults() {
        let mut image = [0xffu8; EEPROM_LEN];
        image[0..2].copy_from_slice(&0x5392u16.to_le_bytes());
        let e = Eeprom::parse(&image).unwrap();
        assert_eq!(e.rf, RfChip::Rf5372);
        assert_eq!((e.tx_chains, e.rx_chains), (1, 2));
        assert_eq!(e.freq_offset, 0);
        assert_eq!(e.lna_gain, 0);
        assert_eq!(e.txpower1, [DEFAULT_TXPOWER; CHANNELS]);
        assert_eq!(e.mac, FALLBACK_MAC);
        assert!(e.bbp.is_empty());
        assert!(!e.bt_coexist);
    }

    #[test]
    fn unknown_rf_chip_is_refused() {
        let mut image = rt5370_image();
        image[0..2].copy_from_slice(&0x3070u16.to_le_bytes());
        assert_eq!(Eeprom::parse(&image), Err(Error::UnknownRf(0x3070)));
    }

    #[test]
    fn frequency_offset_is_bounded() {
        let mut image = rt5370_image();
        image[2 * 0x1d] = 0x7e;
        assert_eq!(Eeprom::parse(&image).unwrap().freq_offset, 0x5f);
    }
}
