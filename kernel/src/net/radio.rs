//! The radio boundary: a device that sends and receives raw 802.11 frames
//! (no FCS) on one channel, beside the NIC boundary of `device`.
//!
//! The access point (crate `wifi`) builds every frame; a radio only moves
//! them, reports per frame whether it was acknowledged where the hardware
//! knows, and says what it does by itself (`RadioCapabilities`). The first
//! radio is the virtual one of QEMU (`drivers::virtual_radio`), whose link
//! carries one 802.11 frame per Ethernet frame in the wrapper `link_frame`
//! encodes and decodes.

#![deny(unsafe_code)]

use super::device::Received;

/// Largest 802.11 frame handled (no FCS): a 1500-byte payload encrypted
/// with CCMP and carried in a QoS data frame with four addresses fits.
pub const MAX_RADIO_FRAME: usize = 2304;

/// What a radio does in hardware, so the access point does not have to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RadioCapabilities {
    /// It retries unacknowledged unicast frames itself: its transmit status is final.
    pub hardware_retry: bool,
}

/// What the access point needs from a radio.
pub trait Radio {
    /// The radio's own address: the access point's BSSID.
    fn mac_address(&self) -> [u8; 6];
    /// What the hardware does by itself.
    fn capabilities(&self) -> RadioCapabilities;
    /// Tunes to the channel at `mhz`.
    fn set_frequency(&mut self, mhz: u16);
    /// Copies the next received 802.11 frame into `frame` (at least
    /// `MAX_RADIO_FRAME` bytes).
    fn receive(&mut self, frame: &mut [u8]) -> Received;
    /// Sends one frame; with `ack_token`, its fate is reported later by
    /// `tx_status`. False if the radio refused it (queue full).
    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>, now_us: u64) -> bool;
    /// The fate of a frame sent with a token: (token, acknowledged).
    fn tx_status(&mut self, now_us: u64) -> Option<(u32, bool)>;
    /// When the radio next needs `tx_status` asked (an acknowledgement's
    /// timeout), if ever.
    fn deadline(&self) -> Option<u64>;
    /// The interrupt that signals received frames, if it has one.
    fn interrupt_id(&self) -> Option<u32>;
    /// Clears the radio's interrupt condition after a wake-up.
    fn acknowledge_interrupt(&mut self);
}

/// A chip's radio, boxed like its NIC.
impl Radio for alloc::boxed::Box<dyn Radio> {
    fn mac_address(&self) -> [u8; 6] {
        (**self).mac_address()
    }
    fn capabilities(&self) -> RadioCapabilities {
        (**self).capabilities()
    }
    fn set_frequency(&mut self, mhz: u16) {
        (**self).set_frequency(mhz)
    }
    fn receive(&mut self, frame: &mut [u8]) -> Received {
        (**self).receive(frame)
    }
    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>, now_us: u64) -> bool {
        (**self).transmit(frame, ack_token, now_us)
    }
    fn tx_status(&mut self, now_us: u64) -> Option<(u32, bool)> {
        (**self).tx_status(now_us)
    }
    fn deadline(&self) -> Option<u64> {
        (**self).deadline()
    }
    fn interrupt_id(&self) -> Option<u32> {
        (**self).interrupt_id()
    }
    fn acknowledge_interrupt(&mut self) {
        (**self).acknowledge_interrupt()
    }
}

/// The wrapper that carries one 802.11 frame per Ethernet frame on the
/// virtual radio's link (see docs/wifi.md): broadcast destination,
/// ethertype 0x88B5, then `'W'`, version 1, frequency (MHz, big-endian),
/// length (big-endian) and the frame. The length makes Ethernet padding
/// harmless.
pub mod link_frame {
    /// The IEEE "local experimental" ethertype the link uses.
    pub const ETHERTYPE: u16 = 0x88b5;
    /// Ethernet header plus the wrapper's own six bytes.
    pub const OVERHEAD: usize = 14 + 6;
    const MAGIC: u8 = b'W';
    const VERSION: u8 = 1;

    /// A decoded link frame.
    #[derive(Debug, PartialEq, Eq)]
    pub struct LinkFrame<'a> {
        /// The channel's frequency in MHz.
        pub frequency_mhz: u16,
        /// The 802.11 frame, without FCS.
        pub frame: &'a [u8],
    }

    /// Why a link frame was dropped.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum LinkError {
        /// Not the link's ethertype, magic or version: not ours.
        Foreign,
        /// The length field runs past the Ethernet frame.
        Truncated,
    }

    /// Reads the 802.11 frame out of an Ethernet frame from the link.
    pub fn decode(ethernet: &[u8]) -> Result<LinkFrame<'_>, LinkError> {
        let header = ethernet.get(..OVERHEAD).ok_or(LinkError::Truncated)?;
        if u16::from_be_bytes([header[12], header[13]]) != ETHERTYPE || header[14] != MAGIC || header[15] != VERSION {
            return Err(LinkError::Foreign);
        }
        let frequency_mhz = u16::from_be_bytes([header[16], header[17]]);
        let len = usize::from(u16::from_be_bytes([header[18], header[19]]));
        let frame = ethernet.get(OVERHEAD..OVERHEAD + len).ok_or(LinkError::Truncated)?;
        Ok(LinkFrame { frequency_mhz, frame })
    }

    /// Writes `frame` wrapped for the link into `out`, from `source`;
    /// returns the Ethernet frame's length, or `None` if `out` is too small.
    pub fn encode(source: [u8; 6], frequency_mhz: u16, frame: &[u8], out: &mut [u8]) -> Option<usize> {
        let len = u16::try_from(frame.len()).ok()?;
        let total = OVERHEAD + frame.len();
        let out = out.get_mut(..total)?;
        out[..6].fill(0xff);
        out[6..12].copy_from_slice(&source);
        out[12..14].copy_from_slice(&ETHERTYPE.to_be_bytes());
        out[14] = MAGIC;
        out[15] = VERSION;
        out[16..18].copy_from_slice(&frequency_mhz.to_be_bytes());
        out[18..20].copy_from_slice(&len.to_be_bytes());
        out[OVERHEAD..].copy_from_slice(frame);
        Some(total)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// An ACK for 02:00:00:00:00:00 on channel 6, as the phone's forwarder sends it.
        const ACK_ON_THE_LINK: [u8; 30] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 0x88, 0xb5, b'W', 1, 0x09, 0x85, 0x00, 0x0a,
            0xd4, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];

        #[test]
        fn decodes_an_ack_byte_for_byte() {
            let decoded = decode(&ACK_ON_THE_LINK).unwrap();
            assert_eq!(decoded.frequency_mhz, 2437);
            assert_eq!(decoded.frame, &ACK_ON_THE_LINK[20..]);
        }

        #[test]
        fn encode_is_decode_reversed() {
            let mut out = [0u8; 64];
            let len = encode([0x52, 0x54, 0x00, 0x12, 0x34, 0x57], 2437, &ACK_ON_THE_LINK[20..], &mut out).unwrap();
            assert_eq!(&out[..len], &ACK_ON_THE_LINK);
        }

        #[test]
        fn ethernet_padding_after_the_frame_is_ignored() {
            let mut padded = ACK_ON_THE_LINK.to_vec();
            padded.resize(60, 0);
            assert_eq!(decode(&padded).unwrap().frame.len(), 10);
        }

        #[test]
        fn bad_link_frames_are_refused() {
            assert_eq!(decode(&ACK_ON_THE_LINK[..19]), Err(LinkError::Truncated));
            assert_eq!(decode(&ACK_ON_THE_LINK[..25]), Err(LinkError::Truncated));
            let mut other = ACK_ON_THE_LINK;
            other[12] = 0x08;
            assert_eq!(decode(&other), Err(LinkError::Foreign));
            let mut version = ACK_ON_THE_LINK;
            version[15] = 2;
            assert_eq!(decode(&version), Err(LinkError::Foreign));
            assert_eq!(encode([0; 6], 2437, &[0; 10], &mut [0u8; 29]), None);
        }
    }
}
