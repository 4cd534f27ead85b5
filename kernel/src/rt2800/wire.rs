//! Wire format of the rt2800usb bulk pipes and the TX status FIFO, with
//! bounds-checked encoding and decoding only (no device access).
//!
//! Bulk OUT: TXINFO (4 bytes) | TXWI (16) | 802.11 header | L2 pad | body |
//! pad to 4 | 4 zero bytes. Bulk IN: RXINFO (4) | RXWI (16) | header | L2
//! pad | body | pad | RXD (4). TX_STA_FIFO: one 32-bit word per frame sent.
//! Field layouts follow Linux's rt2800.h (TXWI_W0_*, RXWI_W0_*, RXD_W0_*,
//! TX_STA_FIFO_*); a frame from the device that does not add up is refused.

use super::regs::Field;

/// Bytes of TXINFO (USB only: the bulk transfer's own header).
pub const TXINFO_LEN: usize = 4;
/// Bytes of TXWI on the RT5390/RT5370 (4 words).
pub const TXWI_LEN: usize = 16;
/// Bytes of RXINFO.
pub const RXINFO_LEN: usize = 4;
/// Bytes of RXWI on the RT5390/RT5370 (4 words).
pub const RXWI_LEN: usize = 16;
/// Bytes of RXD, after the frame.
pub const RXD_LEN: usize = 4;
/// Zero bytes the chip wants after every bulk OUT transfer.
pub const USB_END_PAD: usize = 4;
/// Largest MPDU the TXWI/RXWI byte count holds (12 bits).
pub const MAX_MPDU: usize = 0x0fff;

const TXINFO_PKT_LEN: Field = Field(0x0000_ffff);
const TXINFO_WIV: Field = Field(0x0100_0000);
const TXINFO_QSEL: Field = Field(0x0600_0000);
/// QSEL 2: the EDCA queue.
const QSEL_EDCA: u32 = 2;

const TXWI_TS: Field = Field(0x0000_0008);
const TXWI_MCS: Field = Field(0x007f_0000);
const TXWI_PHYMODE: Field = Field(0xc000_0000);
const TXWI_ACK: Field = Field(0x0000_0001);
const TXWI_NSEQ: Field = Field(0x0000_0002);
const TXWI_WCID: Field = Field(0x0000_ff00);
const TXWI_BYTE_COUNT: Field = Field(0x0fff_0000);
const TXWI_PACKETID: Field = Field(0xf000_0000);

const RXINFO_PKT_LEN: Field = Field(0x0000_ffff);
const RXWI_BYTE_COUNT: Field = Field(0x0fff_0000);
const RXWI_RSSI0: Field = Field(0x0000_00ff);
const RXD_CRC_ERROR: Field = Field(0x0000_0100);
const RXD_L2PAD: Field = Field(0x0000_4000);

const STA_VALID: Field = Field(0x0000_0001);
const STA_PID: Field = Field(0x0000_001e);
const STA_SUCCESS: Field = Field(0x0000_0020);
const STA_ACK_REQUIRED: Field = Field(0x0000_0080);
const STA_WCID: Field = Field(0x0000_ff00);

/// WCID of frames to no station entry: the driver keeps the WCID table empty.
pub const NO_WCID: u8 = 0xff;

/// How the PHY sends a frame (TXWI_W0_PHYMODE and TXWI_W0_MCS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rate {
    /// CCK 1 Mbit/s, long preamble: beacons and management, heard by every station.
    Cck1,
    /// OFDM 24 Mbit/s: unicast data, with the hardware's fallback table below it.
    Ofdm24,
}

impl Rate {
    fn phymode_mcs(self) -> (u32, u32) {
        match self {
            Rate::Cck1 => (0, 0),
            Rate::Ofdm24 => (1, 4),
        }
    }
}

/// What TXWI says about one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxDescriptor {
    /// The rate.
    pub rate: Rate,
    /// The frame wants an ACK: the hardware waits for it and retries.
    pub ack: bool,
    /// The hardware writes the TSF into the frame's timestamp (beacons).
    pub timestamp: bool,
    /// The hardware numbers the frame (beacons: the host's number would freeze).
    pub hardware_sequence: bool,
    /// Packet id reported back in TX_STA_FIFO (1-15; 0: no report wanted).
    pub packet_id: u8,
}

/// Writes the 16-byte TXWI for an MPDU of `mpdu_len` bytes into `out`.
/// None if `out` is short or the frame too long for the byte count.
pub fn encode_txwi(desc: &TxDescriptor, mpdu_len: usize, out: &mut [u8]) -> Option<()> {
    if mpdu_len > MAX_MPDU {
        return None;
    }
    let out = out.get_mut(..TXWI_LEN)?;
    let (phymode, mcs) = desc.rate.phymode_mcs();
    let mut w0 = TXWI_MCS.set(0, mcs);
    w0 = TXWI_PHYMODE.set(w0, phymode);
    w0 = TXWI_TS.set(w0, u32::from(desc.timestamp));
    let mut w1 = TXWI_ACK.set(0, u32::from(desc.ack));
    w1 = TXWI_NSEQ.set(w1, u32::from(desc.hardware_sequence));
    w1 = TXWI_WCID.set(w1, u32::from(NO_WCID));
    w1 = TXWI_BYTE_COUNT.set(w1, mpdu_len as u32);
    w1 = TXWI_PACKETID.set(w1, u32::from(desc.packet_id));
    out.fill(0);
    out[0..4].copy_from_slice(&w0.to_le_bytes());
    out[4..8].copy_from_slice(&w1.to_le_bytes());
    Some(())
}

/// Length of the 802.11 header of `frame` (management, data, control), or
/// None if the frame is shorter than its header.
pub fn header_len(frame: &[u8]) -> Option<usize> {
    let fc0 = *frame.first()?;
    let fc1 = *frame.get(1)?;
    let len = match (fc0 >> 2) & 3 {
        0 => 24,
        2 => {
            let four_address = fc1 & 3 == 3;
            let qos = fc0 & 0x80 != 0;
            let htc = qos && fc1 & 0x80 != 0;
            24 + if four_address { 6 } else { 0 } + if qos { 2 } else { 0 } + if htc { 4 } else { 0 }
        }
        1 => match fc0 >> 4 {
            // CTS, ACK
            12 | 13 => 10,
            _ => 16,
        },
        _ => return None,
    };
    (frame.len() >= len).then_some(len)
}

/// Bytes of padding the chip puts (and wants) after a header of `len`
/// bytes, so that the body starts on a 4-byte boundary ("L2 pad").
fn l2_pad(header: usize) -> usize {
    (4 - header % 4) % 4
}

/// Builds the bulk OUT transfer for `frame` (no FCS) into `out`: TXINFO,
/// TXWI, the frame with its L2 pad, padding to 4 and the 4-byte end pad.
/// Returns its length; None if the frame is malformed or `out` too small.
pub fn encode_tx(desc: &TxDescriptor, frame: &[u8], out: &mut [u8]) -> Option<usize> {
    let header = header_len(frame)?;
    let pad = l2_pad(header);
    let padded = TXWI_LEN + frame.len() + pad;
    let body_end = TXINFO_LEN + padded.next_multiple_of(4);
    let total = body_end + USB_END_PAD;
    let out = out.get_mut(..total)?;
    out.fill(0);
    let mut info = TXINFO_PKT_LEN.set(0, (body_end - TXINFO_LEN) as u32);
    info = TXINFO_WIV.set(info, 1);
    info = TXINFO_QSEL.set(info, QSEL_EDCA);
    out[..TXINFO_LEN].copy_from_slice(&info.to_le_bytes());
    encode_txwi(desc, frame.len(), &mut out[TXINFO_LEN..])?;
    let start = TXINFO_LEN + TXWI_LEN;
    out[start..start + header].copy_from_slice(&frame[..header]);
    out[start + header + pad..start + pad + frame.len()].copy_from_slice(&frame[header..]);
    Some(total)
}

/// Builds a beacon slot's contents (TXWI, then the frame, padded to 4) into
/// `out`; returns its length. None if it does not fit.
pub fn encode_beacon(desc: &TxDescriptor, frame: &[u8], out: &mut [u8]) -> Option<usize> {
    let total = (TXWI_LEN + frame.len()).next_multiple_of(4);
    let out = out.get_mut(..total)?;
    out.fill(0);
    encode_txwi(desc, frame.len(), out)?;
    out[TXWI_LEN..TXWI_LEN + frame.len()].copy_from_slice(frame);
    Some(total)
}

/// Why a bulk IN transfer was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxError {
    /// Shorter than RXINFO + RXWI + RXD, or RXINFO's length runs past it.
    Truncated,
    /// RXWI's byte count does not fit the packet RXINFO describes.
    BadLength,
    /// The chip saw a bad FCS (only delivered if the filter lets them through).
    Crc,
}

/// One received frame, as the chip described it.
#[derive(Debug, PartialEq, Eq)]
pub struct RxFrame<'a> {
    /// The header as received (the L2 pad follows it in the buffer).
    pub header: &'a [u8],
    /// The body after the header and its pad.
    pub body: &'a [u8],
    /// RSSI0 of RXWI (the chip's raw AGC value).
    pub rssi: u8,
}

impl RxFrame<'_> {
    /// The frame's length without the pad.
    pub fn len(&self) -> usize {
        self.header.len() + self.body.len()
    }

    /// True for a frame of no bytes (never produced by `parse_rx`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the frame, without its pad, into `out`; its length, or None if `out` is short.
    pub fn copy_to(&self, out: &mut [u8]) -> Option<usize> {
        let len = self.len();
        let out = out.get_mut(..len)?;
        out[..self.header.len()].copy_from_slice(self.header);
        out[self.header.len()..].copy_from_slice(self.body);
        Some(len)
    }
}

fn word(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at + 4)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Parses one bulk IN transfer (RXINFO | RXWI | frame | pad | RXD).
pub fn parse_rx(buf: &[u8]) -> Result<RxFrame<'_>, RxError> {
    let info = word(buf, 0).ok_or(RxError::Truncated)?;
    let pkt_len = RXINFO_PKT_LEN.get(info) as usize;
    if pkt_len < RXWI_LEN {
        return Err(RxError::Truncated);
    }
    let rxd = word(buf, RXINFO_LEN + pkt_len).ok_or(RxError::Truncated)?;
    let rxwi = buf.get(RXINFO_LEN..RXINFO_LEN + RXWI_LEN).ok_or(RxError::Truncated)?;
    let w0 = word(rxwi, 0).ok_or(RxError::Truncated)?;
    let w2 = word(rxwi, 8).ok_or(RxError::Truncated)?;
    let mpdu_len = RXWI_BYTE_COUNT.get(w0) as usize;
    let packet = &buf[RXINFO_LEN + RXWI_LEN..RXINFO_LEN + pkt_len];
    if RXD_CRC_ERROR.get(rxd) != 0 {
        return Err(RxError::Crc);
    }
    let mpdu = packet.get(..mpdu_len).ok_or(RxError::BadLength)?;
    let header = header_len(mpdu).ok_or(RxError::BadLength)?;
    let pad = if RXD_L2PAD.get(rxd) != 0 { l2_pad(header) } else { 0 };
    let body = packet.get(header + pad..mpdu_len + pad).ok_or(RxError::BadLength)?;
    Ok(RxFrame { header: &packet[..header], body, rssi: RXWI_RSSI0.get(w2) as u8 })
}

/// One TX_STA_FIFO entry: the fate of one transmitted frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxStatus {
    /// The frame's TXWI packet id.
    pub packet_id: u8,
    /// Acknowledged (or, for a frame without ACK, sent).
    pub success: bool,
    /// The frame wanted an ACK.
    pub ack_required: bool,
    /// The frame's WCID.
    pub wcid: u8,
}

impl TxStatus {
    /// Decodes a TX_STA_FIFO read; None when the FIFO was empty (VALID clear).
    pub fn decode(reg: u32) -> Option<Self> {
        (STA_VALID.get(reg) != 0).then(|| TxStatus {
            packet_id: STA_PID.get(reg) as u8,
            success: STA_SUCCESS.get(reg) != 0,
            ack_required: STA_ACK_REQUIRED.get(reg) != 0,
            wcid: STA_WCID.get(reg) as u8,
        })
    }
}

#[cfg(test)]
mod tests;
