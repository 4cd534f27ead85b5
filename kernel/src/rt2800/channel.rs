//! Tuning the RF5370/RF5372 to a 2.4 GHz channel (1-13, HT20) and setting
//! its TX power, as rt2800_config_channel_rf53xx, rt2800_config_channel and
//! rt2800_config_txpower do for this chip.
//!
//! The PLL takes N (RFCSR8), K (RFCSR9) and R (RFCSR11) with the 20 MHz
//! crystal: f = 10 MHz × N + K MHz (Linux's rf_vals_3x). Per-channel RFCSR
//! 55/59 tweaks come from Linux's tables for parts without Bluetooth.

use super::bus::Rt2800Bus;
use super::csr::Csr;
use super::eeprom::{Eeprom, MAX_TXPOWER};
use super::init::{Chip, RT5392};
use super::regs::{self, mcu, Field};
use super::Error;

/// Highest channel the appliance offers.
pub const MAX_CHANNEL: u8 = 13;

/// N and K of channels 1-13 (rf_vals_3x; R is 2 for all).
#[rustfmt::skip]
const PLL: [(u8, u8); MAX_CHANNEL as usize] =
    [(241, 2), (241, 7), (242, 2), (242, 7), (243, 2), (243, 7), (244, 2), (244, 7), (245, 2), (245, 7), (246, 2), (246, 7), (247, 2)];
const PLL_R: u8 = 2;

/// RFCSR55 and RFCSR59 of the RT5390F without Bluetooth, channels 1-13.
#[rustfmt::skip]
const R55_REV_F: [u8; 13] = [0x23, 0x23, 0x23, 0x23, 0x13, 0x13, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03];
#[rustfmt::skip]
const R59_REV_F: [u8; 13] = [0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x06, 0x05, 0x04];
/// RFCSR59 of the older RT5390 and of the RT5392.
#[rustfmt::skip]
const R59: [u8; 13] = [0x8f, 0x8f, 0x8f, 0x8f, 0x8f, 0x8f, 0x8f, 0x8d, 0x8a, 0x88, 0x88, 0x87, 0x87];

/// RFCSR1: RF_BLOCK_EN, PLL_PD, RX0_PD, TX0_PD (on), RX1_PD, TX1_PD.
const RF1_CHAIN0: u8 = 0x01 | 0x02 | 0x04 | 0x08;
const RF1_CHAIN1: u8 = 0x10 | 0x20;
/// RFCSR11_R, RFCSR49_TX (and RFCSR50_TX), RFCSR17_CODE, RFCSR3_VCOCAL_EN, RFCSR30 TX/RX_H20M.
const RF11_R: u8 = 0x03;
const RF49_TX: u8 = 0x3f;
const RF17_CODE: u8 = 0x7f;
const RF3_VCOCAL_EN: u8 = 0x80;
const RF30_H20M: u8 = 0x02 | 0x04;
/// BBP4_BANDWIDTH and BBP3_HT40_MINUS: 20 MHz.
const BBP4_BANDWIDTH: u8 = 0x18;
const BBP3_HT40_MINUS: u8 = 0x20;
/// TX_BAND_CFG_BG (2.4 GHz), and the HT40-minus and 5 GHz bits cleared.
const TX_BAND_BG: Field = Field(0x4);
const TX_BAND_A_HT40: Field = Field(0x3);

/// The channel number of a 2.4 GHz frequency the appliance offers.
pub fn channel_of(mhz: u16) -> Option<u8> {
    let ch = mhz.checked_sub(2407)? / 5;
    (mhz == 2407 + 5 * ch && (1..=u16::from(MAX_CHANNEL)).contains(&ch)).then_some(ch as u8)
}

/// TX_PIN_CFG for the chains: the 2.4 GHz PAs and LNAs, RF/TR switches.
fn tx_pin(eeprom: &Eeprom) -> u32 {
    // PA_PE_G0_EN, LNA_PE_A0_EN, LNA_PE_G0_EN, RFTR_EN, TRSW_EN.
    let mut pin = 0x2 | 0x100 | 0x200 | 0x1_0000 | 0x4_0000;
    if eeprom.tx_chains == 2 {
        pin |= 0x8; // PA_PE_G1_EN
    }
    if eeprom.rx_chains == 2 {
        pin |= 0x400 | 0x800; // LNA_PE_A1_EN, LNA_PE_G1_EN
    }
    pin
}

/// Sets the crystal trim (rt2800_freq_cal_mode1): over USB the MCU moves
/// RFCSR17 itself, given the target and the current value.
fn freq_calibration<B: Rt2800Bus>(csr: &mut Csr<B>, eeprom: &Eeprom) -> Result<(), Error> {
    let previous = csr.rfcsr_read(17)?;
    if (previous & !RF17_CODE) | eeprom.freq_offset == previous {
        return Ok(());
    }
    csr.mcu_request(mcu::FREQ_OFFSET, 0xff, eeprom.freq_offset, previous)
}

/// Tunes to `channel` (1-13) at 20 MHz with the EEPROM's power for it.
pub fn set_channel<B: Rt2800Bus>(csr: &mut Csr<B>, chip: Chip, eeprom: &Eeprom, channel: u8) -> Result<(), Error> {
    let index = usize::from(channel.checked_sub(1).filter(|&c| c < MAX_CHANNEL).ok_or(Error::BadChannel(channel))?);
    let (n, k) = PLL[index];
    csr.rfcsr_write(8, n)?;
    csr.rfcsr_write(9, k)?;
    let r11 = csr.rfcsr_read(11)?;
    csr.rfcsr_write(11, (r11 & !RF11_R) | PLL_R)?;
    let power1 = eeprom.txpower1[index].min(MAX_TXPOWER);
    let r49 = csr.rfcsr_read(49)?;
    csr.rfcsr_write(49, (r49 & !RF49_TX) | power1)?;
    let two_streams = chip.rt == RT5392;
    if two_streams {
        let power2 = eeprom.txpower2[index].min(MAX_TXPOWER);
        let r50 = csr.rfcsr_read(50)?;
        csr.rfcsr_write(50, (r50 & !RF49_TX) | power2)?;
    }
    csr.rfcsr_modify(1, RF1_CHAIN0 | if two_streams { RF1_CHAIN1 } else { 0 }, 0)?;
    freq_calibration(csr, eeprom)?;
    if chip.rev_f() {
        csr.rfcsr_write(55, R55_REV_F[index])?;
        csr.rfcsr_write(59, R59_REV_F[index])?;
    } else {
        csr.rfcsr_write(59, R59[index])?;
    }
    csr.rfcsr_modify(30, 0, RF30_H20M)?;
    csr.rfcsr_modify(3, RF3_VCOCAL_EN, 0)?;
    let agc = 0x37u8.wrapping_sub(eeprom.lna_gain);
    for reg in [62, 63, 64] {
        csr.bbp_write(reg, agc)?;
    }
    csr.bbp_write(86, 0)?;
    csr.modify(regs::TX_BAND_CFG, &[(TX_BAND_A_HT40, 0), (TX_BAND_BG, 1)])?;
    csr.write(regs::TX_PIN_CFG, tx_pin(eeprom))?;
    csr.bbp_modify(4, 0, BBP4_BANDWIDTH)?;
    csr.bbp_modify(3, 0, BBP3_HT40_MINUS)?;
    csr.bus().delay_us(1000);
    // rt2800_reset_tuner: the RT5390's default VGC at 2.4 GHz.
    csr.bbp_write(66, 0x1cu8.wrapping_add(2 * eeprom.lna_gain))?;
    for (i, &value) in eeprom.txpower_by_rate.iter().enumerate() {
        csr.write(regs::TX_PWR_CFG_0 + 4 * i as u16, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pll_table_gives_each_channels_frequency() {
        for (i, &(n, k)) in PLL.iter().enumerate() {
            assert_eq!(10 * u32::from(n) + u32::from(k), 2412 + 5 * i as u32, "channel {}", i + 1);
        }
    }

    #[test]
    fn frequencies_map_to_channels_1_to_13() {
        assert_eq!(channel_of(2412), Some(1));
        assert_eq!(channel_of(2437), Some(6));
        assert_eq!(channel_of(2472), Some(13));
        assert_eq!(channel_of(2484), None);
        assert_eq!(channel_of(2413), None);
        assert_eq!(channel_of(5180), None);
        assert_eq!(channel_of(0), None);
    }
}
