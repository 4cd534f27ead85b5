//! Byte fixtures for the descriptors, from the field layouts of Linux's
//! rt2800.h (TXINFO_W0_*, TXWI_W*_*, RXINFO_W0_*, RXWI_W*_*, RXD_W0_*,
//! TX_STA_FIFO_*).

use super::*;

/// A probe request from a phone (management, 24-byte header, two elements).
const PROBE_REQUEST: [u8; 30] = [
    0x40, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x10, 0x00, 0x00, 0x00, 0x01, 0x02, 0x82, 0x84,
];

/// A QoS data frame (26-byte header: the chip pads it to 28) with a 6-byte body.
const QOS_DATA: [u8; 32] = [
    0x88, 0x01, 0x2c, 0x00, 0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x55, 0x6b, 0xc8,
    0x41, 0x30, 0x00, 0x00, 0x00, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00,
];

fn unicast(packet_id: u8) -> TxDescriptor {
    TxDescriptor { rate: Rate::Ofdm24, ack: true, timestamp: false, hardware_sequence: false, packet_id }
}

#[test]
fn txwi_of_a_unicast_data_frame() {
    let mut txwi = [0xeeu8; TXWI_LEN];
    encode_txwi(&unicast(5), 32, &mut txwi).unwrap();
    // W0: MCS 4 (bits 16-22), PHYMODE OFDM (1 << 30). W1: ACK, WCID 0xff,
    // byte count 32 (bits 16-27), packet id 5 (bits 28-31). W2/W3 (IV/EIV) zero.
    assert_eq!(txwi, [0x00, 0x00, 0x04, 0x40, 0x01, 0xff, 0x20, 0x50, 0, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn txwi_of_a_beacon_asks_for_timestamp_and_sequence() {
    let desc = TxDescriptor { rate: Rate::Cck1, ack: false, timestamp: true, hardware_sequence: true, packet_id: 0 };
    let mut txwi = [0u8; TXWI_LEN];
    encode_txwi(&desc, 0x0123, &mut txwi).unwrap();
    assert_eq!(txwi[..8], [0x08, 0x00, 0x00, 0x00, 0x02, 0xff, 0x23, 0x01]);
}

#[test]
fn bulk_out_of_a_qos_frame_has_l2_pad_and_end_pad() {
    let mut out = [0xeeu8; 128];
    let len = encode_tx(&unicast(1), &QOS_DATA, &mut out).unwrap();
    // TXINFO 4 + TXWI 16 + 26 header + 2 pad + 6 body = 54 -> 56, plus 4 end pad.
    assert_eq!(len, 60);
    // TXINFO: packet length 52 (TXWI onwards, rounded to 4), WIV, QSEL 2 (EDCA).
    assert_eq!(out[..4], [52, 0x00, 0x00, 0x05]);
    assert_eq!(out[10..12], [32, 0x10], "TXWI byte count is the frame without its pad");
    assert_eq!(out[20..46], QOS_DATA[..26]);
    assert_eq!(out[46..48], [0, 0]);
    assert_eq!(out[48..54], QOS_DATA[26..]);
    assert!(out[54..60].iter().all(|&b| b == 0));
}

#[test]
fn bulk_out_of_a_management_frame_needs_no_l2_pad() {
    let mut out = [0u8; 128];
    let len = encode_tx(&unicast(1), &PROBE_REQUEST, &mut out).unwrap();
    assert_eq!(len, 4 + (16 + 30usize).next_multiple_of(4) + 4);
    assert_eq!(out[20..50], PROBE_REQUEST);
}

#[test]
fn frames_that_do_not_fit_are_refused() {
    assert_eq!(encode_tx(&unicast(1), &QOS_DATA, &mut [0u8; 59]), None);
    assert_eq!(encode_tx(&unicast(1), &QOS_DATA[..20], &mut [0u8; 128]), None, "shorter than its header");
    assert_eq!(encode_tx(&unicast(1), &[0x0c, 0x00], &mut [0u8; 128]), None, "reserved frame type");
    let huge = alloc::vec![0u8; MAX_MPDU + 1];
    assert_eq!(encode_txwi(&unicast(1), huge.len(), &mut [0u8; TXWI_LEN]), None);
}

#[test]
fn header_lengths_follow_frame_control() {
    assert_eq!(header_len(&PROBE_REQUEST), Some(24));
    assert_eq!(header_len(&QOS_DATA), Some(26));
    let mut four_address = [0u8; 40];
    four_address[0] = 0x88;
    four_address[1] = 0x03;
    assert_eq!(header_len(&four_address), Some(32));
    assert_eq!(header_len(&[0xd4, 0, 0, 0, 1, 2, 3, 4, 5, 6]), Some(10), "ACK");
    assert_eq!(header_len(&[0xa4, 0x10, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), Some(16), "PS-Poll");
    assert_eq!(header_len(&[0x40]), None);
}

/// A bulk IN transfer as the chip sends it: RXINFO, RXWI, frame (with L2
/// pad when `l2pad`), padding to 4, RXD.
fn rx_transfer(frame: &[u8], header: usize, l2pad: bool, rxd_extra: u32) -> alloc::vec::Vec<u8> {
    let pad = if l2pad { (4 - header % 4) % 4 } else { 0 };
    let packet = (RXWI_LEN + frame.len() + pad).next_multiple_of(4);
    let mut out = alloc::vec::Vec::new();
    out.extend_from_slice(&(packet as u32).to_le_bytes());
    // RXWI W0: WCID 0xff, byte count; W1: MCS/PHY; W2: RSSI0 0x2a.
    out.extend_from_slice(&(0xff | (frame.len() as u32) << 16).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0x0000_002au32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&frame[..header]);
    out.resize(out.len() + pad, 0);
    out.extend_from_slice(&frame[header..]);
    out.resize(RXINFO_LEN + packet, 0);
    // RXD: MY_BSS (0x80), L2PAD (0x4000).
    let rxd = 0x80 | if l2pad { 0x4000 } else { 0 } | rxd_extra;
    out.extend_from_slice(&rxd.to_le_bytes());
    out
}

#[test]
fn rx_of_a_probe_request() {
    let transfer = rx_transfer(&PROBE_REQUEST, 24, true, 0);
    let rx = parse_rx(&transfer).unwrap();
    assert_eq!(rx.header, &PROBE_REQUEST[..24]);
    assert_eq!(rx.body, &PROBE_REQUEST[24..]);
    assert_eq!(rx.rssi, 0x2a);
    let mut out = [0u8; 64];
    assert_eq!(rx.copy_to(&mut out), Some(30));
    assert_eq!(out[..30], PROBE_REQUEST);
}

#[test]
fn rx_drops_the_l2_pad_of_a_qos_frame() {
    let transfer = rx_transfer(&QOS_DATA, 26, true, 0);
    assert_eq!(transfer.len(), 4 + 16 + 36 + 4);
    let rx = parse_rx(&transfer).unwrap();
    let mut out = [0u8; 64];
    assert_eq!(rx.copy_to(&mut out), Some(32));
    assert_eq!(out[..32], QOS_DATA);
    assert_eq!(rx.copy_to(&mut [0u8; 31]), None);
}

#[test]
fn rx_without_l2pad_flag_reads_the_body_straight_after_the_header() {
    let transfer = rx_transfer(&QOS_DATA, 26, false, 0);
    let rx = parse_rx(&transfer).unwrap();
    assert_eq!(rx.body, &QOS_DATA[26..]);
}

#[test]
fn rx_with_crc_error_is_dropped() {
    let transfer = rx_transfer(&PROBE_REQUEST, 24, true, 0x100);
    assert_eq!(parse_rx(&transfer), Err(RxError::Crc));
}

#[test]
fn short_and_inconsistent_rx_transfers_are_refused() {
    let good = rx_transfer(&QOS_DATA, 26, true, 0);
    for cut in 0..good.len() {
        assert!(parse_rx(&good[..cut]).is_err(), "cut at {cut}");
    }
    let mut long_count = good.clone();
    long_count[6] = 0xff; // RXWI byte count 0x0fff: past the packet
    long_count[7] = 0x0f;
    assert_eq!(parse_rx(&long_count), Err(RxError::BadLength));
    let mut tiny_packet = good.clone();
    tiny_packet[..4].copy_from_slice(&8u32.to_le_bytes());
    assert_eq!(parse_rx(&tiny_packet), Err(RxError::Truncated));
    let mut no_header = good;
    no_header[6] = 4;
    no_header[7] = 0;
    assert_eq!(parse_rx(&no_header), Err(RxError::BadLength));
}

#[test]
fn tx_status_words_decode() {
    // VALID, packet id 5 (bits 1-4), TX_SUCCESS, ACK_REQUIRED, WCID 0xff, MCS 4.
    assert_eq!(TxStatus::decode(0x0004_ffab), Some(TxStatus { packet_id: 5, success: true, ack_required: true, wcid: 0xff }));
    // The same frame, never acknowledged.
    assert_eq!(TxStatus::decode(0x0004_ff8b), Some(TxStatus { packet_id: 5, success: false, ack_required: true, wcid: 0xff }));
    assert_eq!(TxStatus::decode(0x0004_ffaa), None, "VALID clear: the FIFO is empty");
    assert_eq!(TxStatus::decode(0), None);
}

#[test]
fn beacon_slot_holds_txwi_and_frame_padded_to_four() {
    let desc = TxDescriptor { rate: Rate::Cck1, ack: false, timestamp: true, hardware_sequence: true, packet_id: 0 };
    let mut slot = [0xeeu8; 512];
    let len = encode_beacon(&desc, &PROBE_REQUEST, &mut slot).unwrap();
    assert_eq!(len, 48);
    assert_eq!(slot[16..46], PROBE_REQUEST);
    assert_eq!(slot[46..48], [0, 0]);
    assert_eq!(encode_beacon(&desc, &[0u8; 500], &mut slot), None);
}
