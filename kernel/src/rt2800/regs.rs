//! RT2800 register map: addresses and fields of the MAC (CSR) registers
//! the driver touches, named as Linux's rt2800.h and the RT5390/RT5370
//! datasheets name them, so a reader can look each one up.
//!
//! Only addresses and field masks live here; what is written when is in
//! `init` (bring-up tables), `channel`, `firmware` and `device`.

/// A bit field of a 32-bit register, by its mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field(pub u32);

impl Field {
    /// `value` placed into the field of `reg` (excess bits cut off).
    pub const fn set(self, reg: u32, value: u32) -> u32 {
        let shift = self.0.trailing_zeros();
        (reg & !self.0) | ((value << shift) & self.0)
    }

    /// The field's value in `reg`.
    pub const fn get(self, reg: u32) -> u32 {
        (reg & self.0) >> self.0.trailing_zeros()
    }
}

/// PBF_SYS_CTRL: packet buffer control; bit 7 says the MCU runs the firmware.
pub const PBF_SYS_CTRL: u16 = 0x0400;
/// PBF_SYS_CTRL_READY.
pub const PBF_SYS_CTRL_READY: Field = Field(0x0000_0080);
/// HOST_CMD_CSR: command number for the MCU (after H2M_MAILBOX_CSR).
pub const HOST_CMD_CSR: u16 = 0x0404;
/// PBF_CFG: packet buffer queue configuration.
pub const PBF_CFG: u16 = 0x0408;
/// PBF_MAX_PCNT: packet buffer page counts.
pub const PBF_MAX_PCNT: u16 = 0x040c;
/// BCN_OFFSET0: where beacons 0-3 sit in beacon SRAM, in 64-byte units from 0x4000.
pub const BCN_OFFSET0: u16 = 0x042c;
/// BCN_OFFSET1: beacons 4-7.
pub const BCN_OFFSET1: u16 = 0x0430;

/// WPDMA_GLO_CFG: the DMA engine between USB and the packet buffer.
pub const WPDMA_GLO_CFG: u16 = 0x0208;
/// WPDMA_GLO_CFG_ENABLE_TX_DMA.
pub const WPDMA_ENABLE_TX_DMA: Field = Field(0x0000_0001);
/// WPDMA_GLO_CFG_TX_DMA_BUSY.
pub const WPDMA_TX_DMA_BUSY: Field = Field(0x0000_0002);
/// WPDMA_GLO_CFG_ENABLE_RX_DMA.
pub const WPDMA_ENABLE_RX_DMA: Field = Field(0x0000_0004);
/// WPDMA_GLO_CFG_RX_DMA_BUSY.
pub const WPDMA_RX_DMA_BUSY: Field = Field(0x0000_0008);
/// WPDMA_GLO_CFG_WP_DMA_BURST_SIZE.
pub const WPDMA_BURST_SIZE: Field = Field(0x0000_0030);
/// WPDMA_GLO_CFG_TX_WRITEBACK_DONE.
pub const WPDMA_TX_WRITEBACK_DONE: Field = Field(0x0000_0040);

/// USB_DMA_CFG: bulk endpoints and RX aggregation.
pub const USB_DMA_CFG: u16 = 0x02a0;
/// USB_DMA_CFG_RX_BULK_AGG_TIMEOUT.
pub const USB_RX_BULK_AGG_TIMEOUT: Field = Field(0x0000_00ff);
/// USB_DMA_CFG_RX_BULK_EN.
pub const USB_RX_BULK_EN: Field = Field(0x0040_0000);
/// USB_DMA_CFG_TX_BULK_EN.
pub const USB_TX_BULK_EN: Field = Field(0x0080_0000);
/// US_CYC_CNT: clock cycles per microsecond of the MAC's timers.
pub const US_CYC_CNT: u16 = 0x02a4;
/// US_CYC_CNT_CLOCK_CYCLE.
pub const US_CYC_CNT_CLOCK_CYCLE: Field = Field(0x0000_00ff);

/// RF_CSR_CFG: indirect access to the RF chip's RFCSR registers.
pub const RF_CSR_CFG: u16 = 0x0500;
/// RF_CSR_CFG_DATA.
pub const RF_CSR_DATA: Field = Field(0x0000_00ff);
/// RF_CSR_CFG_REGNUM.
pub const RF_CSR_REGNUM: Field = Field(0x0000_3f00);
/// RF_CSR_CFG_WRITE.
pub const RF_CSR_WRITE: Field = Field(0x0001_0000);
/// RF_CSR_CFG_BUSY.
pub const RF_CSR_BUSY: Field = Field(0x0002_0000);

/// EFUSE_CTRL: the on-chip eFuse that holds the "EEPROM" of most RT5370 dongles.
pub const EFUSE_CTRL: u16 = 0x0580;
/// EFUSE_CTRL_ADDRESS_IN: byte address of the 16-byte block to read.
pub const EFUSE_ADDRESS_IN: Field = Field(0x03fe_0000);
/// EFUSE_CTRL_MODE (0: read).
pub const EFUSE_MODE: Field = Field(0x0000_00c0);
/// EFUSE_CTRL_KICK: starts a read; the chip clears it when done.
pub const EFUSE_KICK: Field = Field(0x4000_0000);
/// EFUSE_CTRL_PRESENT: an eFuse is fitted (else an external EEPROM).
pub const EFUSE_PRESENT: Field = Field(0x8000_0000);
/// EFUSE_DATA0: last word of the block read (the chip reads end to start).
pub const EFUSE_DATA0: u16 = 0x0590;
/// EFUSE_DATA3: first word of the block read.
pub const EFUSE_DATA3: u16 = 0x059c;

/// MAC_CSR0: ASIC version (chip id high half, revision low half).
pub const MAC_CSR0: u16 = 0x1000;
/// MAC_SYS_CTRL: MAC reset, TX and RX enables.
pub const MAC_SYS_CTRL: u16 = 0x1004;
/// MAC_SYS_CTRL_RESET_CSR.
pub const MAC_SYS_RESET_CSR: Field = Field(0x0000_0001);
/// MAC_SYS_CTRL_RESET_BBP.
pub const MAC_SYS_RESET_BBP: Field = Field(0x0000_0002);
/// MAC_SYS_CTRL_ENABLE_TX.
pub const MAC_SYS_ENABLE_TX: Field = Field(0x0000_0004);
/// MAC_SYS_CTRL_ENABLE_RX.
pub const MAC_SYS_ENABLE_RX: Field = Field(0x0000_0008);
/// MAC_ADDR_DW0: our address, bytes 0-3 (the hardware ACKs frames to it).
pub const MAC_ADDR_DW0: u16 = 0x1008;
/// MAC_ADDR_DW1: bytes 4-5 and the unicast-to-me mask.
pub const MAC_ADDR_DW1: u16 = 0x100c;
/// MAC_ADDR_DW1_UNICAST_TO_ME_MASK.
pub const MAC_ADDR_UNICAST_TO_ME_MASK: Field = Field(0x00ff_0000);
/// MAC_BSSID_DW0: the BSSID, bytes 0-3.
pub const MAC_BSSID_DW0: u16 = 0x1010;
/// MAC_BSSID_DW1: bytes 4-5, BSS id mask and beacon count.
pub const MAC_BSSID_DW1: u16 = 0x1014;
/// MAC_BSSID_DW1_BSS_ID_MASK.
pub const MAC_BSSID_ID_MASK: Field = Field(0x0003_0000);
/// MAC_BSSID_DW1_BSS_BCN_NUM: beacons sent per TBTT, minus one.
pub const MAC_BSSID_BCN_NUM: Field = Field(0x001c_0000);
/// MAX_LEN_CFG: largest MPDU and PSDU.
pub const MAX_LEN_CFG: u16 = 0x1018;
/// BBP_CSR_CFG: indirect access to the baseband processor's registers.
pub const BBP_CSR_CFG: u16 = 0x101c;
/// BBP_CSR_CFG_VALUE.
pub const BBP_CSR_VALUE: Field = Field(0x0000_00ff);
/// BBP_CSR_CFG_REGNUM.
pub const BBP_CSR_REGNUM: Field = Field(0x0000_ff00);
/// BBP_CSR_CFG_READ_CONTROL.
pub const BBP_CSR_READ_CONTROL: Field = Field(0x0001_0000);
/// BBP_CSR_CFG_BUSY.
pub const BBP_CSR_BUSY: Field = Field(0x0002_0000);
/// BBP_CSR_CFG_BBP_RW_MODE (1: parallel access).
pub const BBP_CSR_RW_MODE: Field = Field(0x0008_0000);

/// XIFS_TIME_CFG: SIFS and EIFS.
pub const XIFS_TIME_CFG: u16 = 0x1100;
/// BKOFF_SLOT_CFG: slot time.
pub const BKOFF_SLOT_CFG: u16 = 0x1104;
/// BCN_TIME_CFG: beacon interval, TSF, TBTT timer and beacon generation.
pub const BCN_TIME_CFG: u16 = 0x1114;
/// BCN_TIME_CFG_BEACON_INTERVAL, in 1/16 TU (64 µs).
pub const BCN_BEACON_INTERVAL: Field = Field(0x0000_ffff);
/// BCN_TIME_CFG_TSF_TICKING.
pub const BCN_TSF_TICKING: Field = Field(0x0001_0000);
/// BCN_TIME_CFG_TSF_SYNC (3: AP mode, no synchronisation to others).
pub const BCN_TSF_SYNC: Field = Field(0x0006_0000);
/// BCN_TIME_CFG_TBTT_ENABLE.
pub const BCN_TBTT_ENABLE: Field = Field(0x0008_0000);
/// BCN_TIME_CFG_BEACON_GEN: send the beacon template at each TBTT.
pub const BCN_BEACON_GEN: Field = Field(0x0010_0000);
/// TBTT_SYNC_CFG: how beacons contend for the medium.
pub const TBTT_SYNC_CFG: u16 = 0x1118;
/// INT_TIMER_CFG: pre-TBTT timer.
pub const INT_TIMER_CFG: u16 = 0x1128;
/// CH_TIME_CFG: channel busy statistics.
pub const CH_TIME_CFG: u16 = 0x110c;

/// MAC_STATUS_CFG: bit 0/1 say TX/RX (BBP and RF) busy.
pub const MAC_STATUS_CFG: u16 = 0x1200;
/// MAC_STATUS_CFG_BBP_RF_BUSY.
pub const MAC_STATUS_BBP_RF_BUSY: Field = Field(0x0000_0003);
/// PWR_PIN_CFG: power pins.
pub const PWR_PIN_CFG: u16 = 0x1204;
/// AUTOWAKEUP_CFG: the MCU's sleep timer (off for an access point).
pub const AUTOWAKEUP_CFG: u16 = 0x1208;

/// TX_PWR_CFG_0: TX power per rate (CCK 1-11, OFDM 6-18); 1-4 follow.
pub const TX_PWR_CFG_0: u16 = 0x1314;
/// TX_PIN_CFG: PA, LNA and RF switch enables per band.
pub const TX_PIN_CFG: u16 = 0x1328;
/// TX_BAND_CFG: HT40 side band and 2.4/5 GHz selection.
pub const TX_BAND_CFG: u16 = 0x132c;
/// TX_SW_CFG0: TX timing of the RF switch.
pub const TX_SW_CFG0: u16 = 0x1330;
/// TX_SW_CFG1.
pub const TX_SW_CFG1: u16 = 0x1334;
/// TX_SW_CFG2.
pub const TX_SW_CFG2: u16 = 0x1338;
/// TXOP_CTRL_CFG: TXOP truncation.
pub const TXOP_CTRL_CFG: u16 = 0x1340;
/// TX_RTS_CFG: RTS threshold and retries.
pub const TX_RTS_CFG: u16 = 0x1344;
/// TX_TIMEOUT_CFG: ACK timeout and MPDU lifetime.
pub const TX_TIMEOUT_CFG: u16 = 0x1348;
/// TX_RTY_CFG: hardware retry limits and rate fallback.
pub const TX_RTY_CFG: u16 = 0x134c;
/// TX_LINK_CFG: link feedback.
pub const TX_LINK_CFG: u16 = 0x1350;
/// HT_FBK_CFG0: HT rate fallback, MCS 0-7.
pub const HT_FBK_CFG0: u16 = 0x1354;
/// HT_FBK_CFG1: MCS 8-15.
pub const HT_FBK_CFG1: u16 = 0x1358;
/// LG_FBK_CFG0: OFDM rate fallback.
pub const LG_FBK_CFG0: u16 = 0x135c;
/// LG_FBK_CFG1: CCK rate fallback.
pub const LG_FBK_CFG1: u16 = 0x1360;
/// CCK_PROT_CFG: protection of CCK frames; OFDM, MM20, MM40, GF20, GF40 follow at +4.
pub const CCK_PROT_CFG: u16 = 0x1364;
/// EXP_ACK_TIME: expected ACK time.
pub const EXP_ACK_TIME: u16 = 0x1380;
/// TXOP_HLDR_ET.
pub const TXOP_HLDR_ET: u16 = 0x1608;

/// RX_FILTER_CFG: which received frames the MAC drops.
pub const RX_FILTER_CFG: u16 = 0x1400;
/// AUTO_RSP_CFG: hardware ACK/CTS responder.
pub const AUTO_RSP_CFG: u16 = 0x1404;
/// LEGACY_BASIC_RATE: basic rates for control responses.
pub const LEGACY_BASIC_RATE: u16 = 0x1408;
/// HT_BASIC_RATE.
pub const HT_BASIC_RATE: u16 = 0x140c;

/// RX_STA_CNT0: RX error counters (clear on read); CNT1, CNT2 follow.
pub const RX_STA_CNT0: u16 = 0x1700;
/// TX_STA_CNT0: TX counters (clear on read); CNT1, CNT2 follow.
pub const TX_STA_CNT0: u16 = 0x170c;
/// TX_STA_FIFO: one word per transmitted frame (see `wire::TxStatus`).
pub const TX_STA_FIFO: u16 = 0x1718;

/// MAC_WCID_BASE: the station table (8 bytes an entry).
pub const MAC_WCID_BASE: u16 = 0x1800;
/// MAC_IVEIV_TABLE_BASE: IV/EIV per WCID (8 bytes an entry).
pub const MAC_IVEIV_TABLE_BASE: u16 = 0x6000;
/// MAC_WCID_ATTRIBUTE_BASE: cipher per WCID (4 bytes an entry).
pub const MAC_WCID_ATTRIBUTE_BASE: u16 = 0x6800;
/// SHARED_KEY_MODE_BASE: shared key ciphers (4 words).
pub const SHARED_KEY_MODE_BASE: u16 = 0x7000;
/// H2M_MAILBOX_CSR: host-to-MCU mailbox (owner, token, two arguments).
pub const H2M_MAILBOX_CSR: u16 = 0x7010;
/// H2M_MAILBOX_CSR_OWNER: set while the MCU has not taken the command.
pub const H2M_MAILBOX_OWNER: Field = Field(0xff00_0000);
/// H2M_MAILBOX_CSR_CMD_TOKEN.
pub const H2M_MAILBOX_TOKEN: Field = Field(0x00ff_0000);
/// H2M_MAILBOX_CSR_ARG1.
pub const H2M_MAILBOX_ARG1: Field = Field(0x0000_ff00);
/// H2M_MAILBOX_CSR_ARG0.
pub const H2M_MAILBOX_ARG0: Field = Field(0x0000_00ff);
/// H2M_MAILBOX_CID.
pub const H2M_MAILBOX_CID: u16 = 0x7014;
/// H2M_MAILBOX_STATUS.
pub const H2M_MAILBOX_STATUS: u16 = 0x701c;
/// H2M_INT_SRC.
pub const H2M_INT_SRC: u16 = 0x7024;
/// H2M_BBP_AGENT.
pub const H2M_BBP_AGENT: u16 = 0x7028;
/// FIRMWARE_IMAGE_BASE: where the 4 KiB firmware image is written.
pub const FIRMWARE_IMAGE_BASE: u16 = 0x3000;
/// HW_BEACON_BASE0: beacon slot 0 (TXWI, then the frame), 512 bytes.
pub const HW_BEACON_BASE0: u16 = 0x7800;
/// Bytes of a beacon slot.
pub const HW_BEACON_SIZE: usize = 512;

/// MCU commands (HOST_CMD_CSR).
pub mod mcu {
    /// MCU_WAKEUP.
    pub const WAKEUP: u8 = 0x31;
    /// MCU_BOOT_SIGNAL: the firmware's first command after loading.
    pub const BOOT_SIGNAL: u8 = 0x72;
    /// MCU_FREQ_OFFSET: moves RFCSR17 (crystal trim) in steps, as the chip wants.
    pub const FREQ_OFFSET: u8 = 0x74;
}
