//! Bring-up of an RT5370/RT5372 after its firmware runs: MAC registers,
//! BBP and RF (RFCSR) initialisation, and the switch to TX/RX, as data
//! tables in the order Linux's rt2800lib writes them (rt2800_init_registers,
//! rt2800_init_bbp_53xx, rt2800_init_rfcsr_5390/5392, rt2800_enable_radio).
//!
//! Values that Linux computes from fields are written here as whole words
//! with the fields they hold named beside them; read-modify-write stays
//! where the register has bits the driver does not own.

use super::bus::{mode, request, Rt2800Bus};
use super::csr::Csr;
use super::eeprom::Eeprom;
use super::regs::{self, mcu, Field};
use super::Error;

/// MAC_CSR0's chip id for the RT5370/RT5390 (one stream).
pub const RT5390: u16 = 0x5390;
/// MAC_CSR0's chip id for the RT5372/RT5392 (two streams).
pub const RT5392: u16 = 0x5392;
/// First RT5390 revision of the "F" parts (REV_RT5390F): other RF values.
const REV_RT5390F: u16 = 0x0502;
/// First RT5390 revision with hardware antenna diversity (REV_RT5390R).
const REV_RT5390R: u16 = 0x1502;

/// The chip, from MAC_CSR0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chip {
    /// RT5390 or RT5392.
    pub rt: u16,
    /// Revision.
    pub rev: u16,
}

impl Chip {
    /// An RT5390F or later (REV_RT5390F): its RF wants other values.
    pub fn rev_f(&self) -> bool {
        self.rt == RT5390 && self.rev >= REV_RT5390F
    }
}

/// Waits for MAC_CSR0 to read as something other than 0 or all ones (the
/// chip is up) and checks that it is an RT5390/RT5392.
pub fn probe<B: Rt2800Bus>(csr: &mut Csr<B>) -> Result<Chip, Error> {
    let reg = csr.wait("MAC_CSR0", regs::MAC_CSR0, 1000, |reg| reg != 0 && reg != !0)?;
    let chip = Chip { rt: (reg >> 16) as u16, rev: reg as u16 };
    match chip.rt {
        RT5390 | RT5392 => Ok(chip),
        _ => Err(Error::UnknownChip(reg)),
    }
}

/// One step of a MAC register table.
enum Step {
    /// Writes the whole register.
    Write(u16, u32),
    /// Sets these fields, keeping the other bits.
    Modify(u16, &'static [(Field, u32)]),
    /// Reads a clear-on-read counter.
    Clear(u16),
}

/// The RX filter of an access point (RX_FILTER_CFG): drop CRC and PHY
/// errors, unicast to others, version errors, duplicates, CF-End, ACK, CTS,
/// RTS, BAR and other control frames; keep broadcast, multicast and PS-Poll.
const RX_FILTER_AP: u32 = 0x1 | 0x2 | 0x4 | 0x10 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x1000 | 0x8000 | 0x1_0000;

/// Hardware retries: 7 short, 4 long (802.11's dot11ShortRetryLimit and
/// dot11LongRetryLimit), long above 2000 bytes, with rate fallback.
const TX_RTY_CFG_VALUE: u32 = 7 | 4 << 8 | 2000 << 16 | 1 << 30;

/// rt2800_init_registers for the RT5390/RT5392 over USB, after the USB reset.
const MAC_INIT: &[Step] = &[
    Step::Write(regs::LEGACY_BASIC_RATE, 0x0000_013f),
    Step::Write(regs::HT_BASIC_RATE, 0x0000_8003),
    Step::Write(regs::MAC_SYS_CTRL, 0),
    // BEACON_INTERVAL 1600 (100 TU), TSF, TBTT and beacons off until the first template.
    Step::Modify(
        regs::BCN_TIME_CFG,
        &[
            (regs::BCN_BEACON_INTERVAL, 1600),
            (regs::BCN_TSF_TICKING, 0),
            (regs::BCN_TSF_SYNC, 0),
            (regs::BCN_TBTT_ENABLE, 0),
            (regs::BCN_BEACON_GEN, 0),
            (Field(0xf000_0000), 0),
        ],
    ),
    Step::Write(regs::RX_FILTER_CFG, RX_FILTER_AP),
    // SLOT_TIME 9 µs (short slot, as the beacons say), CC_DELAY_TIME 2.
    Step::Modify(regs::BKOFF_SLOT_CFG, &[(Field(0x0000_00ff), 9), (Field(0x0000_0f00), 2)]),
    Step::Write(regs::TX_SW_CFG0, 0x0000_0404),
    Step::Write(regs::TX_SW_CFG1, 0x0008_0606),
    Step::Write(regs::TX_SW_CFG2, 0),
    // REMOTE_MFB_LIFETIME 32, TX_CF_ACK_EN; feedback and RDG off.
    Step::Write(regs::TX_LINK_CFG, 0x0000_1020),
    // MPDU_LIFETIME 9, RX_ACK_TIMEOUT 32 µs, TX_OP_TIMEOUT 10.
    Step::Modify(regs::TX_TIMEOUT_CFG, &[(Field(0x0000_00f0), 9), (Field(0x0000_ff00), 32), (Field(0x00ff_0000), 10)]),
    // MAX_MPDU 3840 (AGGREGATION_SIZE), MAX_PSDU 1, MIN_PSDU 0, MIN_MPDU 0.
    Step::Write(regs::MAX_LEN_CFG, 0x0000_1f00),
    Step::Write(regs::PBF_MAX_PCNT, 0x1f3f_bf9f),
    Step::Write(regs::TX_RTY_CFG, TX_RTY_CFG_VALUE),
    // AUTORESPONDER (the hardware ACKs), BAC_ACK_POLICY, CTS_40_MMODE; long preamble.
    Step::Modify(
        regs::AUTO_RSP_CFG,
        &[
            (Field(0x01), 1),
            (Field(0x02), 1),
            (Field(0x04), 1),
            (Field(0x08), 0),
            (Field(0x10), 0),
            (Field(0x40), 0),
            (Field(0x80), 0),
        ],
    ),
    // CCK and OFDM protection: rate 3, no protection, NAV short, TXOP for
    // CCK/OFDM/MM20/GF20, RTS threshold on.
    Step::Write(regs::CCK_PROT_CFG, 0x0574_0003),
    Step::Write(regs::CCK_PROT_CFG + 4, 0x0574_0003),
    // MM20/GF20: OFDM 24M (0x4004) RTS/CTS; MM40/GF40: duplicate 24M (0x4084).
    Step::Write(regs::CCK_PROT_CFG + 8, 0x0165_4004),
    Step::Write(regs::CCK_PROT_CFG + 12, 0x03f5_4084),
    Step::Write(regs::CCK_PROT_CFG + 16, 0x0165_4004),
    Step::Write(regs::CCK_PROT_CFG + 20, 0x03f5_4084),
    Step::Write(regs::PBF_CFG, 0x00f4_0006),
    // DMA stopped, WP_DMA_BURST_SIZE 3, little endian, no header scatter.
    Step::Modify(
        regs::WPDMA_GLO_CFG,
        &[
            (regs::WPDMA_ENABLE_TX_DMA, 0),
            (regs::WPDMA_TX_DMA_BUSY, 0),
            (regs::WPDMA_ENABLE_RX_DMA, 0),
            (regs::WPDMA_RX_DMA_BUSY, 0),
            (regs::WPDMA_BURST_SIZE, 3),
            (regs::WPDMA_TX_WRITEBACK_DONE, 0),
            (Field(0x0000_0080), 0),
            (Field(0x0000_ff00), 0),
            (Field(0xffff_0000), 0),
        ],
    ),
    // TXOP truncation on (timeout, AC, rate group, user mode, MIMO PS,
    // reserved as the vendor driver), EXT_CCA_DLY 88.
    Step::Modify(
        regs::TXOP_CTRL_CFG,
        &[(Field(0x0000_007f), 0x3f), (Field(0x0000_0080), 0), (Field(0x0000_ff00), 88), (Field(0x000f_0000), 0)],
    ),
    Step::Write(regs::TXOP_HLDR_ET, 0x0000_0002),
    // AUTO_RTS_RETRY_LIMIT 32, RTS_THRES 2347 (off), no RTS fallback.
    Step::Modify(regs::TX_RTS_CFG, &[(Field(0x0000_00ff), 32), (Field(0x00ff_ff00), 2347), (Field(0x0100_0000), 0)]),
    Step::Write(regs::EXP_ACK_TIME, 0x0024_00ca),
    // SIFS 16 µs for CCK and OFDM (as the Ralink driver), XIFS 4, EIFS 314, BB_RXEND_ENABLE.
    Step::Modify(
        regs::XIFS_TIME_CFG,
        &[
            (Field(0x0000_00ff), 16),
            (Field(0x0000_ff00), 16),
            (Field(0x000f_0000), 4),
            (Field(0x1ff0_0000), 314),
            (Field(0x2000_0000), 1),
        ],
    ),
    Step::Write(regs::PWR_PIN_CFG, 0x0000_0003),
    Step::Write(regs::SHARED_KEY_MODE_BASE, 0),
    Step::Write(regs::SHARED_KEY_MODE_BASE + 4, 0),
    Step::Write(regs::SHARED_KEY_MODE_BASE + 8, 0),
    Step::Write(regs::SHARED_KEY_MODE_BASE + 12, 0),
    // 30 MAC clock cycles per µs over USB.
    Step::Modify(regs::US_CYC_CNT, &[(regs::US_CYC_CNT_CLOCK_CYCLE, 30)]),
    // Rate fallback: each HT MCS and OFDM rate falls back to the next lower,
    // OFDM 6M to CCK (8 and up in this table's numbering), CCK 11 → 5.5 → 2 → 1.
    Step::Write(regs::HT_FBK_CFG0, 0x6543_2100),
    Step::Write(regs::HT_FBK_CFG1, 0xedcb_a988),
    Step::Write(regs::LG_FBK_CFG0, 0xedcb_a988),
    Step::Write(regs::LG_FBK_CFG1, 0x0000_2100),
    Step::Clear(regs::RX_STA_CNT0),
    Step::Clear(regs::RX_STA_CNT0 + 4),
    Step::Clear(regs::RX_STA_CNT0 + 8),
    Step::Clear(regs::TX_STA_CNT0),
    Step::Clear(regs::TX_STA_CNT0 + 4),
    Step::Clear(regs::TX_STA_CNT0 + 8),
    // PRE_TBTT_TIMER 6 ms.
    Step::Modify(regs::INT_TIMER_CFG, &[(Field(0x0000_ffff), 6 << 4)]),
    // Channel statistics: EIFS, NAV, RX, TX busy and the timer.
    Step::Modify(regs::CH_TIME_CFG, &[(Field(0x0000_001f), 0x1f)]),
];

/// The beacon slots Linux clears (HW_BEACON_BASE0-7): a zero TXWI invalidates a slot.
const BEACON_SLOTS: [u16; 8] = [0x7800, 0x7a00, 0x7c00, 0x7e00, 0x7200, 0x7400, 0x5dc0, 0x5bc0];
/// Entries of the WCID, IV/EIV and attribute tables.
const WCID_ENTRIES: usize = 256;

fn run<B: Rt2800Bus>(csr: &mut Csr<B>, steps: &[Step]) -> Result<(), Error> {
    for step in steps {
        match *step {
            Step::Write(offset, value) => csr.write(offset, value)?,
            Step::Modify(offset, fields) => {
                csr.modify(offset, fields)?;
            }
            Step::Clear(offset) => {
                csr.read(offset)?;
            }
        }
    }
    Ok(())
}

/// Waits for the packet DMA to go idle (rt2800_wait_wpdma_ready: up to a second).
fn wait_wpdma_ready<B: Rt2800Bus>(csr: &mut Csr<B>) -> Result<(), Error> {
    csr.wait("WPDMA idle", regs::WPDMA_GLO_CFG, 10_000, |reg| {
        regs::WPDMA_TX_DMA_BUSY.get(reg) == 0 && regs::WPDMA_RX_DMA_BUSY.get(reg) == 0
    })?;
    Ok(())
}

/// Resets the MAC over USB (rt2800usb_init_registers) and writes `MAC_INIT`,
/// then empties the key, station and beacon tables the chip keeps garbage in.
fn init_registers<B: Rt2800Bus>(csr: &mut Csr<B>) -> Result<(), Error> {
    super::firmware::disable_wpdma(csr)?;
    csr.wait("MAC_CSR0", regs::MAC_CSR0, 1000, |reg| reg != 0 && reg != !0)?;
    let pbf = csr.read(regs::PBF_SYS_CTRL)?;
    csr.write(regs::PBF_SYS_CTRL, pbf & !0x0000_2000)?;
    csr.write(regs::MAC_SYS_CTRL, regs::MAC_SYS_RESET_CSR.0 | regs::MAC_SYS_RESET_BBP.0)?;
    csr.bus().vendor_out(request::DEVICE_MODE, mode::RESET, 0, &[])?;
    csr.write(regs::MAC_SYS_CTRL, 0)?;
    run(csr, MAC_INIT)?;
    // One block each instead of Linux's 768 single writes: no station
    // entries (all ones), no IV/EIV, no cipher attributes.
    csr.write_block(regs::MAC_WCID_BASE, &[0xff; WCID_ENTRIES * 8])?;
    csr.write_block(regs::MAC_IVEIV_TABLE_BASE, &[0; WCID_ENTRIES * 8])?;
    csr.write_block(regs::MAC_WCID_ATTRIBUTE_BASE, &[0; WCID_ENTRIES * 4])?;
    for slot in BEACON_SLOTS {
        csr.write_block(slot, &[0; super::wire::TXWI_LEN])?;
    }
    Ok(())
}

/// BBP values of rt2800_init_bbp_53xx, in its order.
fn bbp_table(chip: Chip) -> alloc::vec::Vec<(u8, u8)> {
    let five392 = chip.rt == RT5392;
    let mut table = alloc::vec![
        (31, 0x08),
        (65, 0x2c),
        (66, 0x38),
        (68, 0x0b),
        (69, 0x12),
        (73, 0x13),
        (75, 0x46),
        (76, 0x28),
        (77, 0x59),
        (70, 0x0a),
        (79, 0x13),
        (80, 0x05),
        (81, 0x33),
        (82, 0x62),
        (83, 0x7a),
        (84, 0x9a),
        (86, 0x38),
    ];
    if five392 {
        table.push((88, 0x90));
    }
    table.extend([(91, 0x04), (92, 0x02)]);
    if five392 {
        table.extend([(95, 0x9a), (98, 0x12)]);
    }
    table.extend([(103, 0xc0), (104, 0x92), (105, 0x3c), (106, if five392 { 0x12 } else { 0x03 }), (128, 0x12)]);
    if five392 {
        table.extend([(134, 0xd0), (135, 0xf6)]);
    }
    table
}

/// BBP4_MAC_IF_CTRL.
const BBP4_MAC_IF_CTRL: u8 = 0x40;
/// BBP138_TX_DAC1 (set: DAC1 off) and BBP138_RX_ADC1 (clear: ADC1 off).
const BBP138_TX_DAC1: u8 = 0x20;
const BBP138_RX_ADC1: u8 = 0x02;
/// BBP152_RX_DEFAULT_ANT: the main antenna.
const BBP152_RX_DEFAULT_ANT: u8 = 0x80;

/// Turns off the DAC/ADC of an unused second chain (BBP 138).
fn unused_dac_adc<B: Rt2800Bus>(csr: &mut Csr<B>, eeprom: &Eeprom) -> Result<(), Error> {
    let set = if eeprom.tx_chains == 1 { BBP138_TX_DAC1 } else { 0 };
    let clear = if eeprom.rx_chains == 1 { BBP138_RX_ADC1 } else { 0 };
    csr.bbp_modify(138, set, clear)
}

fn init_bbp<B: Rt2800Bus>(csr: &mut Csr<B>, chip: Chip, eeprom: &Eeprom) -> Result<(), Error> {
    csr.bbp_modify(4, BBP4_MAC_IF_CTRL, 0)?;
    for (reg, value) in bbp_table(chip) {
        csr.bbp_write(reg, value)?;
    }
    unused_dac_adc(csr, eeprom)?;
    if eeprom.bt_coexist {
        log::warn!("rt2800: Bluetooth combo antenna switching is not supported; using the main antenna");
    }
    if chip.rt == RT5390 && chip.rev >= REV_RT5390R {
        // Hardware antenna diversity: software selection off, none chosen yet.
        csr.bbp_write(150, 0)?;
        csr.bbp_write(151, 0)?;
        csr.bbp_write(154, 0)?;
    }
    if eeprom.antenna_diversity == 3 {
        csr.bbp_modify(152, 0, BBP152_RX_DEFAULT_ANT)?;
    } else {
        csr.bbp_modify(152, BBP152_RX_DEFAULT_ANT, 0)?;
    }
    // rt2800_init_freq_calibration.
    csr.bbp_write(142, 1)?;
    csr.bbp_write(143, 57)?;
    for &(reg, value) in &eeprom.bbp {
        csr.bbp_write(reg, value)?;
    }
    Ok(())
}

/// RFCSR values of rt2800_init_rfcsr_5390 over USB: (register, value
/// before revision F, value from revision F).
#[rustfmt::skip]
const RFCSR_5390: &[(u8, u8, u8)] = &[
    (1, 0x0f, 0x0f), (2, 0x80, 0x80), (3, 0x88, 0x88), (5, 0x10, 0x10), (6, 0xa0, 0xe0), (7, 0x00, 0x00),
    (10, 0x53, 0x53), (11, 0x4a, 0x4a), (12, 0x46, 0x46), (13, 0x9f, 0x9f), (14, 0x00, 0x00), (15, 0x00, 0x00),
    (16, 0x00, 0x00), (18, 0x03, 0x03), (19, 0x00, 0x00), (20, 0x00, 0x00), (21, 0x00, 0x00), (22, 0x20, 0x20),
    (23, 0x00, 0x00), (24, 0x00, 0x00), (25, 0xc0, 0x80), (26, 0x00, 0x00), (27, 0x09, 0x09), (28, 0x00, 0x00),
    (29, 0x10, 0x10), (30, 0x10, 0x10), (31, 0x80, 0x80), (32, 0x80, 0x80), (33, 0x00, 0x00), (34, 0x07, 0x07),
    (35, 0x12, 0x12), (36, 0x00, 0x00), (37, 0x08, 0x08), (38, 0x85, 0x85), (39, 0x1b, 0x1b), (40, 0x0b, 0x0b),
    (41, 0xbb, 0xbb), (42, 0xd2, 0xd2), (43, 0x9a, 0x9a), (44, 0x0e, 0x0e), (45, 0xa2, 0xa2), (46, 0x7b, 0x73),
    (47, 0x00, 0x00), (48, 0x10, 0x10), (49, 0x94, 0x94), (52, 0x38, 0x38), (53, 0x84, 0x00), (54, 0x78, 0x78),
    (55, 0x44, 0x44), (56, 0x22, 0x42), (57, 0x80, 0x80), (58, 0x7f, 0x7f), (59, 0x8f, 0x8f), (60, 0x45, 0x45),
    (61, 0xdd, 0xd1), (62, 0x00, 0x00), (63, 0x00, 0x00),
];

/// RFCSR values of rt2800_init_rfcsr_5392.
#[rustfmt::skip]
const RFCSR_5392: &[(u8, u8)] = &[
    (1, 0x17), (3, 0x88), (5, 0x10), (6, 0xe0), (7, 0x00), (10, 0x53), (11, 0x4a), (12, 0x46), (13, 0x9f),
    (14, 0x00), (15, 0x00), (16, 0x00), (18, 0x03), (19, 0x4d), (20, 0x00), (21, 0x8d), (22, 0x20), (23, 0x0b),
    (24, 0x44), (25, 0x80), (26, 0x82), (27, 0x09), (28, 0x00), (29, 0x10), (30, 0x10), (31, 0x80), (32, 0x20),
    (33, 0xc0), (34, 0x07), (35, 0x12), (36, 0x00), (37, 0x08), (38, 0x89), (39, 0x1b), (40, 0x0f), (41, 0xbb),
    (42, 0xd5), (43, 0x9b), (44, 0x0e), (45, 0xa2), (46, 0x73), (47, 0x0c), (48, 0x10), (49, 0x94), (50, 0x94),
    (51, 0x3a), (52, 0x48), (53, 0x44), (54, 0x38), (55, 0x43), (56, 0xa1), (57, 0x00), (58, 0x39), (59, 0x07),
    (60, 0x45), (61, 0x91), (62, 0x39), (63, 0x07),
];

/// RFCSR38_RX_LO1_EN, RFCSR39_RX_LO2_EN, RFCSR30_RX_VCM.
const RFCSR38_RX_LO1_EN: u8 = 0x20;
const RFCSR39_RX_LO2_EN: u8 = 0x80;
const RFCSR30_RX_VCM: u8 = 0x18;
/// OPT_14_CSR, bit 0: LED pins open drain.
const OPT_14_CSR: u16 = 0x0114;

fn init_rfcsr<B: Rt2800Bus>(csr: &mut Csr<B>, chip: Chip, eeprom: &Eeprom) -> Result<(), Error> {
    // rt2800_rf_init_calibration on RFCSR 2: pulse bit 7 for a millisecond.
    let r2 = csr.rfcsr_modify(2, 0x80, 0)?;
    csr.bus().delay_us(1000);
    csr.rfcsr_write(2, r2 & !0x80)?;
    if chip.rt == RT5390 {
        for &(reg, before_f, from_f) in RFCSR_5390 {
            csr.rfcsr_write(reg, if chip.rev_f() { from_f } else { before_f })?;
        }
    } else {
        for &(reg, value) in RFCSR_5392 {
            csr.rfcsr_write(reg, value)?;
        }
    }
    // rt2800_normal_mode_setup_5xxx.
    unused_dac_adc(csr, eeprom)?;
    csr.rfcsr_modify(38, 0, RFCSR38_RX_LO1_EN)?;
    csr.rfcsr_modify(39, 0, RFCSR39_RX_LO2_EN)?;
    csr.bbp_modify(4, BBP4_MAC_IF_CTRL, 0)?;
    csr.rfcsr_modify(30, 0x10, RFCSR30_RX_VCM)?;
    // rt2800_led_open_drain_enable.
    csr.modify(OPT_14_CSR, &[(Field(1), 1)])?;
    Ok(())
}

/// Brings the radio up with the firmware running: wake-up, USB DMA, MAC,
/// BBP and RF registers, then TX and RX on (rt2800usb_set_device_state
/// STATE_RADIO_ON). The LEDs are left as the firmware has them.
pub fn enable_radio<B: Rt2800Bus>(csr: &mut Csr<B>, chip: Chip, eeprom: &Eeprom) -> Result<(), Error> {
    csr.mcu_request(mcu::WAKEUP, 0xff, 0, 2)?;
    csr.bus().delay_us(1000);
    wait_wpdma_ready(csr)?;
    // RX_BULK_AGG_TIMEOUT 128; one frame per bulk IN transfer (no aggregation).
    let usb = regs::USB_RX_BULK_AGG_TIMEOUT.set(0, 128) | regs::USB_RX_BULK_EN.0 | regs::USB_TX_BULK_EN.0;
    csr.write(regs::USB_DMA_CFG, usb)?;
    wait_wpdma_ready(csr)?;
    init_registers(csr)?;
    csr.wait("BBP/RF idle", regs::MAC_STATUS_CFG, 100, |reg| regs::MAC_STATUS_BBP_RF_BUSY.get(reg) == 0)?;
    csr.write(regs::H2M_BBP_AGENT, 0)?;
    csr.write(regs::H2M_MAILBOX_CSR, 0)?;
    csr.write(regs::H2M_INT_SRC, 0)?;
    csr.mcu_request(mcu::BOOT_SIGNAL, 0, 0, 0)?;
    csr.bus().delay_us(1000);
    // rt2800_wait_bbp_ready: the BBP answers with its version.
    csr.write(regs::H2M_BBP_AGENT, 0)?;
    csr.write(regs::H2M_MAILBOX_CSR, 0)?;
    csr.bus().delay_us(1000);
    let mut ready = false;
    for _ in 0..super::csr::BUSY_POLLS {
        let version = csr.bbp_read(0)?;
        if version != 0 && version != 0xff {
            ready = true;
            break;
        }
        csr.bus().delay_us(100);
    }
    if !ready {
        return Err(Error::Timeout("BBP version"));
    }
    init_bbp(csr, chip, eeprom)?;
    init_rfcsr(csr, chip, eeprom)?;
    csr.modify(regs::MAC_SYS_CTRL, &[(regs::MAC_SYS_ENABLE_TX, 1), (regs::MAC_SYS_ENABLE_RX, 0)])?;
    csr.bus().delay_us(50);
    csr.modify(
        regs::WPDMA_GLO_CFG,
        &[(regs::WPDMA_ENABLE_TX_DMA, 1), (regs::WPDMA_ENABLE_RX_DMA, 1), (regs::WPDMA_TX_WRITEBACK_DONE, 1)],
    )?;
    csr.modify(regs::MAC_SYS_CTRL, &[(regs::MAC_SYS_ENABLE_TX, 1), (regs::MAC_SYS_ENABLE_RX, 1)])?;
    Ok(())
}

/// Makes the chip an access point with address `mac` (rt2800_config_intf,
/// TSF_SYNC_AP_NONE): our address and BSSID, AP beacon contention, one
/// beacon slot at HW_BEACON_BASE0.
pub fn config_ap<B: Rt2800Bus>(csr: &mut Csr<B>, mac: [u8; 6]) -> Result<(), Error> {
    csr.modify(regs::BCN_TIME_CFG, &[(regs::BCN_TSF_SYNC, 3)])?;
    // BCN_CWMIN 0, BCN_AIFSN 1, BCN_EXP_WIN 32, TBTT_ADJUST 0.
    csr.write(regs::TBTT_SYNC_CFG, 0x0001_2000)?;
    let low = u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]);
    let high = u32::from(u16::from_le_bytes([mac[4], mac[5]]));
    csr.write(regs::MAC_ADDR_DW0, low)?;
    csr.write(regs::MAC_ADDR_DW1, regs::MAC_ADDR_UNICAST_TO_ME_MASK.set(high, 0xff))?;
    csr.write(regs::MAC_BSSID_DW0, low)?;
    let bssid = regs::MAC_BSSID_ID_MASK.set(high, 3);
    csr.write(regs::MAC_BSSID_DW1, regs::MAC_BSSID_BCN_NUM.set(bssid, 0))?;
    // Slot 0 at 0x7800: (0x7800 - 0x4000) / 64 = 0xe0; the others unused.
    csr.write(regs::BCN_OFFSET0, 0x0000_00e0)?;
    csr.write(regs::BCN_OFFSET1, 0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbp_tables_differ_only_where_linux_does() {
        let rt5370 = bbp_table(Chip { rt: RT5390, rev: 0x0502 });
        let rt5372 = bbp_table(Chip { rt: RT5392, rev: 0x0222 });
        assert_eq!(rt5370.len(), 24);
        assert_eq!(rt5372.len(), 29);
        assert!(rt5370.contains(&(106, 0x03)) && rt5372.contains(&(106, 0x12)));
        assert!(!rt5370.iter().any(|&(reg, _)| reg == 88 || reg == 134));
    }

    #[test]
    fn rf_tables_cover_each_register_once() {
        let mut regs5390: alloc::vec::Vec<u8> = RFCSR_5390.iter().map(|e| e.0).collect();
        regs5390.dedup();
        assert_eq!(regs5390.len(), RFCSR_5390.len());
        assert_eq!(RFCSR_5392.len(), 58);
    }

    #[test]
    fn retry_and_filter_words_hold_their_fields() {
        assert_eq!(TX_RTY_CFG_VALUE, 0x47d0_0407);
        assert_eq!(RX_FILTER_AP & 0x2000, 0, "PS-Poll reaches the access point");
        assert_eq!(RX_FILTER_AP & 0x60, 0, "broadcast and multicast reach it");
    }
}
