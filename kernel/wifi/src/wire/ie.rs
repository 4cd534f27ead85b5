//! Information elements: the checked iterator over a frame's element list and
//! the elements the access point writes (rates, TIM, country, ERP, HT, WMM;
//! the RSN element and its check live in `rsn`).
//!
//! Element formats follow IEEE 802.11-2020 §9.4.2; the WMM parameter element
//! follows the Wi-Fi Alliance WMM specification (OUI 00:50:F2, type 2), with
//! the access-category values hostapd uses by default.

use super::Error;
use alloc::vec::Vec;

/// Element IDs the access point reads or writes.
pub mod id {
    /// SSID.
    pub const SSID: u8 = 0;
    /// Supported rates.
    pub const RATES: u8 = 1;
    /// DSSS parameter set (the channel).
    pub const DS_PARAMS: u8 = 3;
    /// Traffic indication map.
    pub const TIM: u8 = 5;
    /// Country.
    pub const COUNTRY: u8 = 7;
    /// ERP information.
    pub const ERP: u8 = 42;
    /// HT capabilities.
    pub const HT_CAPABILITIES: u8 = 45;
    /// RSN (WPA2).
    pub const RSN: u8 = 48;
    /// Extended supported rates.
    pub const EXTENDED_RATES: u8 = 50;
    /// HT operation.
    pub const HT_OPERATION: u8 = 61;
    /// Vendor specific (WMM among them).
    pub const VENDOR: u8 = 221;
}

/// One element: its ID, its contents, and its raw bytes (ID and length included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element<'a> {
    /// Element ID.
    pub id: u8,
    /// Contents, without ID and length.
    pub data: &'a [u8],
    /// The whole element, as received.
    pub raw: &'a [u8],
}

/// An element list whose every length was checked against the buffer at
/// construction, so iterating it cannot fail.
#[derive(Clone, Copy, Debug)]
pub struct Elements<'a> {
    rest: &'a [u8],
}

impl<'a> Elements<'a> {
    /// Checks that every element fits in `data` (a length running past the end
    /// is `BadElement`, as is a lone trailing byte).
    pub fn new(data: &'a [u8]) -> Result<Self, Error> {
        let mut at = 0usize;
        while at < data.len() {
            let len = *data.get(at + 1).ok_or(Error::BadElement)? as usize;
            at = at + 2 + len;
            if at > data.len() {
                return Err(Error::BadElement);
            }
        }
        Ok(Elements { rest: data })
    }

    /// The first element with this ID.
    pub fn find(self, element_id: u8) -> Option<Element<'a>> {
        Iterator::find(&mut { self }, |e| e.id == element_id)
    }

    /// The first vendor element starting with `prefix` (OUI, type, ...).
    pub fn vendor(self, prefix: &[u8]) -> Option<Element<'a>> {
        Iterator::find(&mut { self }, |e| {
            e.id == id::VENDOR && e.data.starts_with(prefix)
        })
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        let (&element_id, tail) = self.rest.split_first()?;
        let (&len, tail) = tail.split_first()?;
        let data = tail.get(..len as usize)?;
        let raw = self.rest.get(..2 + len as usize)?;
        self.rest = tail.get(len as usize..)?;
        Some(Element {
            id: element_id,
            data,
            raw,
        })
    }
}

/// Rates in 500 kb/s units with the "basic" bit (0x80): 802.11b's four
/// mandatory rates are basic, OFDM 6-54 Mb/s optional (hostapd's 11g default).
pub const SUPPORTED_RATES: [u8; 8] = [0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24];
/// The rates that do not fit the 8-rate supported-rates element.
pub const EXTENDED_RATES: [u8; 4] = [0x30, 0x48, 0x60, 0x6c];

/// WMM information/parameter element prefix: OUI 00:50:F2, type 2.
pub const WMM_OUI_TYPE: [u8; 4] = [0x00, 0x50, 0xf2, 0x02];

/// Appends an element; `data` must hold at most 255 bytes (true of every caller).
pub fn push(out: &mut Vec<u8>, element_id: u8, data: &[u8]) {
    let len = data.len().min(255);
    out.push(element_id);
    out.push(len as u8);
    out.extend_from_slice(&data[..len]);
}

/// Appends the SSID, both rate elements' first part and the DS parameter set:
/// the head every beacon and probe response starts with.
pub fn push_head(out: &mut Vec<u8>, ssid: &[u8], channel: u8) {
    push(out, id::SSID, ssid);
    push(out, id::RATES, &SUPPORTED_RATES);
    push(out, id::DS_PARAMS, &[channel]);
}

/// Appends the country element: one triplet for channels 1..=13 (1..=11 in
/// North America), 20 dBm, all environments.
pub fn push_country(out: &mut Vec<u8>, country: [u8; 2]) {
    let channels = if matches!(&country, b"US" | b"CA") {
        11
    } else {
        13
    };
    push(
        out,
        id::COUNTRY,
        &[country[0], country[1], b' ', 1, channels, 20],
    );
}

/// Appends the ERP element: no non-ERP stations, no protection, short preamble.
pub fn push_erp(out: &mut Vec<u8>) {
    push(out, id::ERP, &[0]);
}

/// Appends HT capabilities for a 20 MHz-only, single-stream AP: SM power save
/// disabled, MCS 0-7, no A-MPDU promises beyond the minimum.
pub fn push_ht_capabilities(out: &mut Vec<u8>) {
    let mut data = [0u8; 26];
    data[0] = 0x0c; // HT capability info: SM power save disabled
    data[3] = 0xff; // Rx MCS bitmask: MCS 0-7
    data[15] = 0x01; // Tx MCS set defined (= Rx set)
    push(out, id::HT_CAPABILITIES, &data);
}

/// Appends HT operation: primary channel, no secondary, 20 MHz, no protection.
pub fn push_ht_operation(out: &mut Vec<u8>, channel: u8) {
    let mut data = [0u8; 22];
    data[0] = channel;
    push(out, id::HT_OPERATION, &data);
}

/// Appends the WMM parameter element with hostapd's default EDCA values and no
/// U-APSD: HT stations need WMM to use HT at all.
pub fn push_wmm_parameters(out: &mut Vec<u8>) {
    let mut data = Vec::with_capacity(24);
    data.extend_from_slice(&WMM_OUI_TYPE);
    data.extend_from_slice(&[0x01, 0x01, 0x00, 0x00]); // subtype param, version 1, QoS info, reserved
    data.extend_from_slice(&[0x03, 0xa4, 0x00, 0x00]); // AC_BE: AIFSN 3, CW 15-1023
    data.extend_from_slice(&[0x27, 0xa4, 0x00, 0x00]); // AC_BK: AIFSN 7, CW 15-1023
    data.extend_from_slice(&[0x42, 0x43, 0x5e, 0x00]); // AC_VI: AIFSN 2, CW 7-15, TXOP 3 ms
    data.extend_from_slice(&[0x62, 0x32, 0x2f, 0x00]); // AC_VO: AIFSN 2, CW 3-7, TXOP 1.5 ms
    push(out, id::VENDOR, &data);
}

/// Appends a TIM: DTIM count and period, the group-traffic bit, and the
/// partial virtual bitmap of `bitmap` (bit n = AID n has frames buffered),
/// trimmed to the bytes that have bits set, as §9.4.2.5 describes.
pub fn push_tim(
    out: &mut Vec<u8>,
    dtim_count: u8,
    dtim_period: u8,
    group: bool,
    bitmap: &[u8; 251],
) {
    let first = bitmap.iter().position(|&b| b != 0);
    let last = bitmap.iter().rposition(|&b| b != 0);
    let mut data = Vec::with_capacity(8);
    data.extend_from_slice(&[dtim_count, dtim_period]);
    match (first, last) {
        (Some(first), Some(last)) => {
            let n1 = first & !1;
            data.push(n1 as u8 | u8::from(group));
            data.extend_from_slice(&bitmap[n1..=last]);
        }
        _ => data.extend_from_slice(&[u8::from(group), 0]),
    }
    push(out, id::TIM, &data);
}

/// Rate values (500 kb/s units, basic bit stripped) of a station's rate elements.
pub fn rates<'a>(elements: Elements<'a>) -> impl Iterator<Item = u8> + 'a {
    elements
        .into_iter()
        .filter(|e| e.id == id::RATES || e.id == id::EXTENDED_RATES)
        .flat_map(|e| e.data.iter().map(|r| r & 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The elements of a probe request from wpa_supplicant over mac80211
    // (wildcard SSID, 11g rates, HT capabilities shortened to its first bytes).
    const PROBE_ELEMENTS: [u8; 22] = [
        0x00, 0x00, // SSID: wildcard
        0x01, 0x08, 0x02, 0x04, 0x0b, 0x16, 0x0c, 0x12, 0x18, 0x24, // rates
        0x32, 0x04, 0x30, 0x48, 0x60, 0x6c, // extended rates
        0x2d, 0x02, 0x2c, 0x01, // HT capabilities (shortened)
    ];

    #[test]
    fn elements_iterate_in_order_with_raw_bytes() {
        let e = Elements::new(&PROBE_ELEMENTS).unwrap();
        let ids: Vec<u8> = e.into_iter().map(|e| e.id).collect();
        assert_eq!(ids, [0, 1, 50, 45]);
        assert_eq!(e.find(id::SSID).unwrap().data, b"");
        assert_eq!(
            e.find(id::HT_CAPABILITIES).unwrap().raw,
            &[0x2d, 0x02, 0x2c, 0x01]
        );
        assert_eq!(
            rates(e).collect::<Vec<_>>(),
            [2, 4, 11, 22, 12, 18, 24, 36, 48, 72, 96, 108]
        );
    }

    #[test]
    fn element_length_past_the_end_is_refused() {
        assert_eq!(
            Elements::new(&PROBE_ELEMENTS[..21]).unwrap_err(),
            Error::BadElement
        );
        assert_eq!(Elements::new(&[0x00]).unwrap_err(), Error::BadElement);
        assert_eq!(Elements::new(&[0x00, 0x01]).unwrap_err(), Error::BadElement);
        assert!(Elements::new(&[]).unwrap().next().is_none());
    }

    #[test]
    fn tim_without_buffered_frames_is_the_short_form() {
        let mut v = Vec::new();
        push_tim(&mut v, 1, 2, false, &[0; 251]);
        assert_eq!(v, [5, 4, 1, 2, 0, 0]);
    }

    #[test]
    fn tim_bitmap_starts_at_an_even_byte_and_carries_the_group_bit() {
        let mut bitmap = [0u8; 251];
        bitmap[3] = 0x01; // AID 24
        bitmap[4] = 0x80; // AID 39
        let mut v = Vec::new();
        push_tim(&mut v, 0, 2, true, &bitmap);
        // offset N1 = 2 (bitmap control 0x02 | group bit), bytes 2..=4
        assert_eq!(v, [5, 6, 0, 2, 0x03, 0x00, 0x01, 0x80]);
    }

    #[test]
    fn wmm_parameter_element_is_hostapds_default() {
        let mut v = Vec::new();
        push_wmm_parameters(&mut v);
        assert_eq!(
            &v[..10],
            &[0xdd, 0x18, 0x00, 0x50, 0xf2, 0x02, 0x01, 0x01, 0x00, 0x00]
        );
        assert_eq!(v.len(), 26);
    }
}
