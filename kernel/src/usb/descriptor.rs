//! USB descriptors as a host reads them: the device descriptor, a
//! configuration with its interfaces, endpoints and class-specific
//! descriptors, and string descriptors.
//!
//! A device's descriptors are input like a network packet: every length is
//! checked against the bytes actually received, and a malformed descriptor
//! is an error, never a panic. `usb-device` and friends describe the device
//! side (they emit descriptors); nothing well kept parses them on a `no_std`
//! host, so this is written here, with byte fixtures captured from devices.

use alloc::string::String;
use alloc::vec::Vec;

/// Descriptor types (USB 2.0 table 9-5, CDC 1.2 table 12).
pub const DEVICE: u8 = 1;
/// A configuration descriptor.
pub const CONFIGURATION: u8 = 2;
/// A string descriptor.
pub const STRING: u8 = 3;
/// An interface descriptor.
pub const INTERFACE: u8 = 4;
/// An endpoint descriptor.
pub const ENDPOINT: u8 = 5;

/// Most bytes of one configuration this host reads (a full-speed
/// device's whole set rarely passes 200; the cap bounds what a lying
/// `wTotalLength` can make us allocate).
pub const MAX_CONFIGURATION: usize = 1024;
/// Most interfaces (alternate settings included) kept from a configuration.
const MAX_INTERFACES: usize = 32;

/// Why a descriptor was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptorError {
    /// Fewer bytes than the descriptor's fixed part or its own length says.
    Truncated,
    /// The type byte is not the one asked for.
    WrongType(u8),
    /// A length field is impossible (below 2, or below its type's minimum).
    BadLength(u8),
    /// An endpoint descriptor before any interface descriptor.
    EndpointOutsideInterface,
    /// More interfaces than this host keeps.
    TooManyInterfaces,
    /// A field holds a value it cannot have (an iMACAddress string that is
    /// not 12 hex digits).
    BadValue,
}

/// The device descriptor (USB 2.0 table 9-8): who the device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceDescriptor {
    /// bcdUSB: the USB release the device claims.
    pub usb_release: u16,
    /// Class code (0: each interface says its own).
    pub class: u8,
    /// Subclass code.
    pub subclass: u8,
    /// Protocol code.
    pub protocol: u8,
    /// Largest packet on endpoint 0 (8, 16, 32 or 64).
    pub max_packet0: u8,
    /// idVendor.
    pub vendor: u16,
    /// idProduct.
    pub product: u16,
    /// String index of the manufacturer's name (0: none).
    pub manufacturer_string: u8,
    /// String index of the product's name (0: none).
    pub product_string: u8,
    /// String index of the serial number (0: none).
    pub serial_string: u8,
    /// How many configurations the device offers.
    pub configurations: u8,
}

/// Bytes in a device descriptor.
pub const DEVICE_LEN: usize = 18;

fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

/// Checks one descriptor's header at the start of `bytes`: its length
/// (at least `min`, inside `bytes`) and type. Returns the descriptor's bytes.
fn header(bytes: &[u8], kind: u8, min: usize) -> Result<&[u8], DescriptorError> {
    let (&len, &found) = match bytes {
        [len, found, ..] => (len, found),
        _ => return Err(DescriptorError::Truncated),
    };
    if found != kind {
        return Err(DescriptorError::WrongType(found));
    }
    if usize::from(len) < min {
        return Err(DescriptorError::BadLength(len));
    }
    bytes.get(..usize::from(len)).ok_or(DescriptorError::Truncated)
}

impl DeviceDescriptor {
    /// Parses a device descriptor. The first 8 bytes (what a host reads
    /// before it knows endpoint 0's packet size) are enough for
    /// `max_packet0`: see `max_packet0_from_prefix`.
    pub fn parse(bytes: &[u8]) -> Result<Self, DescriptorError> {
        let d = header(bytes, DEVICE, DEVICE_LEN)?;
        let u16_at = |at| le16(d, at).ok_or(DescriptorError::Truncated);
        Ok(Self {
            usb_release: u16_at(2)?,
            class: d[4],
            subclass: d[5],
            protocol: d[6],
            max_packet0: d[7],
            vendor: u16_at(8)?,
            product: u16_at(10)?,
            manufacturer_string: d[14],
            product_string: d[15],
            serial_string: d[16],
            configurations: d[17],
        })
    }

    /// Endpoint 0's packet size from the first 8 bytes of the device
    /// descriptor; only 8, 16, 32 and 64 are valid (USB 2.0 9.6.1).
    pub fn max_packet0_from_prefix(bytes: &[u8]) -> Result<u8, DescriptorError> {
        match bytes {
            [_, DEVICE, _, _, _, _, _, size @ (8 | 16 | 32 | 64), ..] => Ok(*size),
            [_, DEVICE, _, _, _, _, _, size, ..] => Err(DescriptorError::BadLength(*size)),
            [_, kind, ..] if *kind != DEVICE => Err(DescriptorError::WrongType(*kind)),
            _ => Err(DescriptorError::Truncated),
        }
    }
}

/// How an endpoint moves data (bmAttributes bits 0-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferType {
    /// Control.
    Control,
    /// Isochronous.
    Isochronous,
    /// Bulk.
    Bulk,
    /// Interrupt.
    Interrupt,
}

/// An endpoint descriptor (USB 2.0 table 9-13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointDescriptor {
    /// bEndpointAddress: number in bits 0-3, bit 7 set for IN.
    pub address: u8,
    /// How it moves data.
    pub transfer: TransferType,
    /// Largest packet (wMaxPacketSize bits 0-10).
    pub max_packet: u16,
    /// Polling interval (frames or microframes).
    pub interval: u8,
}

impl EndpointDescriptor {
    /// True for an IN (device to host) endpoint.
    pub fn is_in(&self) -> bool {
        self.address & 0x80 != 0
    }
}

/// One interface descriptor (one alternate setting) and what follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// bInterfaceNumber.
    pub number: u8,
    /// bAlternateSetting.
    pub alternate: u8,
    /// Class code (2: CDC control, 0x0a: CDC data, 3: HID, 8: mass storage, 9: hub, 0xff: vendor).
    pub class: u8,
    /// Subclass code (CDC 6: Ethernet networking control model).
    pub subclass: u8,
    /// Protocol code.
    pub protocol: u8,
    /// Its endpoints, in descriptor order.
    pub endpoints: Vec<EndpointDescriptor>,
    /// Class-specific descriptors (type 0x24, CDC functional ones),
    /// whole, in descriptor order.
    pub class_specific: Vec<Vec<u8>>,
}

/// A configuration descriptor with everything below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    /// bConfigurationValue: what SET_CONFIGURATION takes.
    pub value: u8,
    /// String index of its name (0: none).
    pub name_string: u8,
    /// Every interface descriptor (each alternate setting is one).
    pub interfaces: Vec<Interface>,
}

/// Class-specific interface descriptor type (CDC 1.2 table 12).
pub const CS_INTERFACE: u8 = 0x24;

impl Configuration {
    /// wTotalLength from the 9-byte configuration header: how many bytes
    /// to read for the whole set (capped by the caller).
    pub fn total_length(header_bytes: &[u8]) -> Result<u16, DescriptorError> {
        let d = header(header_bytes, CONFIGURATION, 9)?;
        le16(d, 2).ok_or(DescriptorError::Truncated)
    }

    /// Parses a configuration and its interface, endpoint and
    /// class-specific descriptors; other descriptors (HID, vendor) are
    /// skipped. Bytes past wTotalLength are ignored; fewer than it says
    /// is an error.
    pub fn parse(bytes: &[u8]) -> Result<Self, DescriptorError> {
        let head = header(bytes, CONFIGURATION, 9)?;
        let total = usize::from(le16(head, 2).ok_or(DescriptorError::Truncated)?);
        let all = bytes.get(..total).ok_or(DescriptorError::Truncated)?;
        let mut config = Self { value: head[5], name_string: head[6], interfaces: Vec::new() };
        let mut rest = all.get(head.len()..).ok_or(DescriptorError::Truncated)?;
        while !rest.is_empty() {
            let (len, kind) = match rest {
                [len, kind, ..] => (usize::from(*len), *kind),
                _ => return Err(DescriptorError::Truncated),
            };
            if len < 2 {
                return Err(DescriptorError::BadLength(len as u8));
            }
            let d = rest.get(..len).ok_or(DescriptorError::Truncated)?;
            match kind {
                INTERFACE => config.push_interface(d)?,
                ENDPOINT => {
                    let endpoint = parse_endpoint(d)?;
                    config.interfaces.last_mut().ok_or(DescriptorError::EndpointOutsideInterface)?.endpoints.push(endpoint);
                }
                CS_INTERFACE => {
                    if let Some(interface) = config.interfaces.last_mut() {
                        interface.class_specific.push(d.to_vec());
                    }
                }
                _ => {}
            }
            rest = &rest[len..];
        }
        Ok(config)
    }

    fn push_interface(&mut self, d: &[u8]) -> Result<(), DescriptorError> {
        let d = header(d, INTERFACE, 9)?;
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(DescriptorError::TooManyInterfaces);
        }
        self.interfaces.push(Interface {
            number: d[2],
            alternate: d[3],
            class: d[5],
            subclass: d[6],
            protocol: d[7],
            endpoints: Vec::new(),
            class_specific: Vec::new(),
        });
        Ok(())
    }
}

fn parse_endpoint(d: &[u8]) -> Result<EndpointDescriptor, DescriptorError> {
    let d = header(d, ENDPOINT, 7)?;
    let transfer = match d[3] & 0b11 {
        0 => TransferType::Control,
        1 => TransferType::Isochronous,
        2 => TransferType::Bulk,
        _ => TransferType::Interrupt,
    };
    let max_packet = le16(d, 4).ok_or(DescriptorError::Truncated)? & 0x7ff;
    Ok(EndpointDescriptor { address: d[2], transfer, max_packet, interval: d[6] })
}

/// Most characters kept from a string descriptor (names go to the log).
const MAX_STRING_CHARS: usize = 64;

/// Decodes a string descriptor (UTF-16LE after the 2-byte header); an odd
/// trailing byte is ignored and unpaired surrogates become U+FFFD, so a
/// device's bad name never stops enumeration.
pub fn parse_string(bytes: &[u8]) -> Result<String, DescriptorError> {
    let d = header(bytes, STRING, 2)?;
    let units = d[2..].chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    Ok(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).filter(|c| !c.is_control()).take(MAX_STRING_CHARS).collect())
}

/// The first language ID of string descriptor 0 (what the other strings
/// are asked for in), if it lists any.
pub fn first_language(bytes: &[u8]) -> Result<Option<u16>, DescriptorError> {
    let d = header(bytes, STRING, 2)?;
    Ok(le16(d, 2))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // Captured from QEMU 7.2's devices on the orangepi-pc machine, through
    // this stack's own OHCI driver (GET_DESCRIPTOR answers, byte for byte).

    /// `usb-net`'s device descriptor: CDC class, two configurations.
    pub const USB_NET_DEVICE: [u8; 18] = [
        0x12, 0x01, 0x00, 0x02, 0x02, 0x00, 0x00, 0x40, 0x25, 0x05, 0xa2, 0xa4, 0x00, 0x00, 0x01, 0x02, 0x0a, 0x02,
    ];

    /// `usb-net`'s first configuration (value 2): RNDIS, whose control
    /// interface is CDC class 2, subclass 2 (ACM), protocol 0xff.
    pub const USB_NET_RNDIS_CONFIG: [u8; 67] = [
        0x09, 0x02, 0x43, 0x00, 0x02, 0x02, 0x09, 0xc0, 0x32, 0x09, 0x04, 0x00, 0x00, 0x01, 0x02, 0x02, 0xff, 0x06,
        0x05, 0x24, 0x00, 0x10, 0x01, 0x05, 0x24, 0x01, 0x00, 0x01, 0x04, 0x24, 0x02, 0x00, 0x05, 0x24, 0x06, 0x00,
        0x01, 0x07, 0x05, 0x81, 0x03, 0x10, 0x00, 0x20, 0x09, 0x04, 0x01, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x04, 0x07,
        0x05, 0x82, 0x02, 0x40, 0x00, 0x00, 0x07, 0x05, 0x02, 0x02, 0x40, 0x00, 0x00,
    ];

    /// `usb-net`'s second configuration (value 1): CDC Ethernet, a control
    /// interface with header, union and Ethernet functional descriptors,
    /// and a data interface whose alternate setting 1 has the bulk endpoints.
    pub const USB_NET_ECM_CONFIG: [u8; 80] = [
        0x09, 0x02, 0x50, 0x00, 0x02, 0x01, 0x07, 0xc0, 0x32, 0x09, 0x04, 0x00, 0x00, 0x01, 0x02, 0x06, 0x00, 0x05,
        0x05, 0x24, 0x00, 0x10, 0x01, 0x05, 0x24, 0x06, 0x00, 0x01, 0x0d, 0x24, 0x0f, 0x03, 0x00, 0x00, 0x00, 0x00,
        0xea, 0x05, 0x00, 0x00, 0x00, 0x07, 0x05, 0x81, 0x03, 0x10, 0x00, 0x20, 0x09, 0x04, 0x01, 0x00, 0x00, 0x0a,
        0x00, 0x00, 0x00, 0x09, 0x04, 0x01, 0x01, 0x02, 0x0a, 0x00, 0x00, 0x04, 0x07, 0x05, 0x82, 0x02, 0x40, 0x00,
        0x00, 0x07, 0x05, 0x02, 0x02, 0x40, 0x00, 0x00,
    ];

    /// `usb-kbd`'s device descriptor: class 0, each interface says its own.
    pub const USB_KBD_DEVICE: [u8; 18] = [
        0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0x27, 0x06, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x0b, 0x01,
    ];

    /// `usb-kbd`'s configuration: one HID boot-keyboard interface, a HID
    /// class descriptor (type 0x21, skipped) and an interrupt IN endpoint.
    pub const USB_KBD_CONFIG: [u8; 34] = [
        0x09, 0x02, 0x22, 0x00, 0x01, 0x01, 0x08, 0xa0, 0x32, 0x09, 0x04, 0x00, 0x00, 0x01, 0x03, 0x01, 0x01, 0x00,
        0x09, 0x21, 0x11, 0x01, 0x00, 0x01, 0x22, 0x3f, 0x00, 0x07, 0x05, 0x81, 0x03, 0x08, 0x00, 0x0a,
    ];

    /// `usb-storage`'s device descriptor.
    pub const USB_STORAGE_DEVICE: [u8; 18] = [
        0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0xf4, 0x46, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x01,
    ];

    /// `usb-storage`'s configuration: mass storage, SCSI, bulk-only, two bulk endpoints.
    pub const USB_STORAGE_CONFIG: [u8; 32] = [
        0x09, 0x02, 0x20, 0x00, 0x01, 0x01, 0x04, 0xc0, 0x00, 0x09, 0x04, 0x00, 0x00, 0x02, 0x08, 0x06, 0x50, 0x00,
        0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00, 0x07, 0x05, 0x02, 0x02, 0x40, 0x00, 0x00,
    ];

    #[test]
    fn device_descriptor_of_usb_net_parses() {
        let d = DeviceDescriptor::parse(&USB_NET_DEVICE).unwrap();
        assert_eq!((d.vendor, d.product, d.class, d.max_packet0, d.configurations), (0x0525, 0xa4a2, 2, 64, 2));
        assert_eq!((d.manufacturer_string, d.product_string, d.serial_string), (1, 2, 10));
    }

    #[test]
    fn device_descriptor_too_short_or_wrong_type_is_refused() {
        assert_eq!(DeviceDescriptor::parse(&USB_NET_DEVICE[..17]), Err(DescriptorError::Truncated));
        let mut short_len = USB_NET_DEVICE;
        short_len[0] = 17;
        assert_eq!(DeviceDescriptor::parse(&short_len), Err(DescriptorError::BadLength(17)));
        let mut other = USB_NET_DEVICE;
        other[1] = CONFIGURATION;
        assert_eq!(DeviceDescriptor::parse(&other), Err(DescriptorError::WrongType(2)));
        assert_eq!(DeviceDescriptor::parse(&[]), Err(DescriptorError::Truncated));
    }

    #[test]
    fn max_packet0_comes_from_the_first_eight_bytes() {
        assert_eq!(DeviceDescriptor::max_packet0_from_prefix(&USB_NET_DEVICE[..8]), Ok(64));
        assert_eq!(DeviceDescriptor::max_packet0_from_prefix(&USB_KBD_DEVICE[..8]), Ok(8));
        let mut odd = USB_NET_DEVICE;
        odd[7] = 7;
        assert_eq!(DeviceDescriptor::max_packet0_from_prefix(&odd[..8]), Err(DescriptorError::BadLength(7)));
        assert_eq!(DeviceDescriptor::max_packet0_from_prefix(&odd[..7]), Err(DescriptorError::Truncated));
    }

    #[test]
    fn keyboard_configuration_has_one_hid_interface_with_its_endpoint() {
        assert_eq!(Configuration::total_length(&USB_KBD_CONFIG[..9]), Ok(34));
        let config = Configuration::parse(&USB_KBD_CONFIG).unwrap();
        assert_eq!(config.value, 1);
        assert_eq!(config.interfaces.len(), 1);
        assert_eq!(config.name_string, 8);
        let interface = &config.interfaces[0];
        assert_eq!((interface.class, interface.subclass, interface.protocol), (3, 1, 1));
        assert_eq!(
            interface.endpoints,
            [EndpointDescriptor { address: 0x81, transfer: TransferType::Interrupt, max_packet: 8, interval: 10 }]
        );
        assert!(interface.class_specific.is_empty());
    }

    #[test]
    fn usb_net_ecm_configuration_keeps_functional_descriptors_and_both_data_settings() {
        let config = Configuration::parse(&USB_NET_ECM_CONFIG).unwrap();
        assert_eq!(config.value, 1);
        let summary: Vec<_> = config.interfaces.iter().map(|i| (i.number, i.alternate, i.class, i.subclass, i.endpoints.len())).collect();
        assert_eq!(summary, [(0, 0, 2, 6, 1), (1, 0, 0x0a, 0, 0), (1, 1, 0x0a, 0, 2)]);
        let subtypes: Vec<_> = config.interfaces[0].class_specific.iter().map(|d| d[2]).collect();
        assert_eq!(subtypes, [0x00, 0x06, 0x0f]);
        let bulk = &config.interfaces[2].endpoints;
        assert_eq!(bulk.iter().map(|e| (e.address, e.transfer, e.max_packet)).collect::<Vec<_>>(), [(0x82, TransferType::Bulk, 64), (0x02, TransferType::Bulk, 64)]);
        assert!(bulk[0].is_in() && !bulk[1].is_in());
    }

    #[test]
    fn storage_configuration_has_two_bulk_endpoints() {
        let config = Configuration::parse(&USB_STORAGE_CONFIG).unwrap();
        let interface = &config.interfaces[0];
        assert_eq!((interface.class, interface.subclass, interface.protocol), (8, 6, 0x50));
        assert_eq!(interface.endpoints.len(), 2);
        assert_eq!(DeviceDescriptor::parse(&USB_STORAGE_DEVICE).unwrap().vendor, 0x46f4);
    }

    #[test]
    fn every_prefix_of_a_real_configuration_is_refused_without_panicking() {
        for fixture in [&USB_NET_ECM_CONFIG[..], &USB_NET_RNDIS_CONFIG, &USB_KBD_CONFIG, &USB_STORAGE_CONFIG] {
            for len in 0..fixture.len() {
                assert!(Configuration::parse(&fixture[..len]).is_err(), "{len} bytes of {fixture:02x?}");
            }
            assert!(Configuration::parse(fixture).is_ok());
        }
    }

    #[test]
    fn configuration_shorter_than_its_total_length_is_refused() {
        assert_eq!(Configuration::parse(&USB_KBD_CONFIG[..33]), Err(DescriptorError::Truncated));
    }

    #[test]
    fn descriptor_running_past_the_end_or_of_length_zero_is_refused() {
        let mut overrun = USB_KBD_CONFIG;
        overrun[27] = 9; // the endpoint claims 9 bytes, 7 remain
        assert_eq!(Configuration::parse(&overrun), Err(DescriptorError::Truncated));
        let mut zero = USB_KBD_CONFIG;
        zero[18] = 0; // a zero-length descriptor would loop forever
        assert_eq!(Configuration::parse(&zero), Err(DescriptorError::BadLength(0)));
    }

    #[test]
    fn endpoint_before_any_interface_is_refused() {
        let bytes = [0x09, 0x02, 0x10, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32, 0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00];
        assert_eq!(Configuration::parse(&bytes), Err(DescriptorError::EndpointOutsideInterface));
    }

    #[test]
    fn bytes_past_total_length_are_ignored() {
        let mut longer = USB_KBD_CONFIG.to_vec();
        longer.extend_from_slice(&[0xff, 0xff, 0xff]);
        assert_eq!(Configuration::parse(&longer), Configuration::parse(&USB_KBD_CONFIG));
    }

    #[test]
    fn string_descriptor_decodes_utf16_and_drops_an_odd_byte() {
        let name = [0x0a, 0x03, b'Q', 0, b'E', 0, b'M', 0, b'U', 0];
        assert_eq!(parse_string(&name).unwrap(), "QEMU");
        let odd = [0x05, 0x03, b'O', 0, b'K'];
        assert_eq!(parse_string(&odd).unwrap(), "O");
        let lone_surrogate = [0x04, 0x03, 0x00, 0xd8];
        assert_eq!(parse_string(&lone_surrogate).unwrap(), "\u{fffd}");
        assert_eq!(parse_string(&[0x08, 0x03, b'a', 0]), Err(DescriptorError::Truncated));
    }

    #[test]
    fn language_list_gives_its_first_entry() {
        assert_eq!(first_language(&[0x04, 0x03, 0x09, 0x04]), Ok(Some(0x0409)));
        assert_eq!(first_language(&[0x02, 0x03]), Ok(None));
    }
}
