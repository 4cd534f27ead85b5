//! Driver for Ralink RT5370/RT5372 USB Wi-Fi dongles (the rt2800usb family),
//! the access point's radio on boards with a USB host.
//!
//! It runs on `bus::Rt2800Bus`, which the USB core implements for an
//! enumerated dongle (148f:5370 and the others docs/rt5370.md lists), and
//! offers `net::radio::Radio` as `device::Rt5370`. No MMIO and no unsafe: the
//! chip is reached only through USB transfers, so all of it is host-tested
//! against a fake bus. Behaviour follows Linux's rt2800lib/rt2800usb (read,
//! not copied: sequences are data tables naming the registers); wire formats
//! are in `wire`, the register map in `regs`.

#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod bus;
mod channel;
mod csr;
pub mod device;
pub mod eeprom;
pub mod firmware;
mod init;
pub mod regs;
pub mod wire;

#[cfg(test)]
pub(crate) mod tests;

pub use bus::{BusError, Rt2800Bus};
pub use device::Rt5370;

/// USB vendor and product ids of RT5370/RT5372 dongles (Linux rt2800usb's
/// RT53xx list): the USB core hands a device with one of these to
/// `Rt5370::new`. The chip itself is checked again at bring-up (MAC_CSR0).
pub const USB_IDS: &[(u16, u16)] = &[
    (0x043e, 0x7a12), // Arcadyan
    (0x043e, 0x7a32),
    (0x0b05, 0x17e8), // ASUS USB-N14
    (0x13d3, 0x3329), // AzureWave
    (0x13d3, 0x3365),
    (0x2001, 0x3c15), // D-Link
    (0x2001, 0x3c19),
    (0x2001, 0x3c1c),
    (0x2001, 0x3c1d),
    (0x2001, 0x3c1e),
    (0x2001, 0x3c20),
    (0x2001, 0x3c22),
    (0x2001, 0x3c23),
    (0x043e, 0x7a22), // LG Innotek
    (0x043e, 0x7a42),
    (0x04da, 0x1801), // Panasonic
    (0x04da, 0x1800),
    (0x04da, 0x23f6),
    (0x0471, 0x2104), // Philips
    (0x0471, 0x2126),
    (0x0471, 0x2180),
    (0x0471, 0x2181),
    (0x0471, 0x2182),
    (0x148f, 0x5370), // Ralink RT5370
    (0x148f, 0x5372), // Ralink RT5372
];

/// Whether a USB device (idVendor, idProduct) is a dongle this driver takes.
pub fn drives(vendor: u16, product: u16) -> bool {
    USB_IDS.contains(&(vendor, product))
}

/// Why the driver gave up on an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A USB transfer failed (`BusError::Gone`: the dongle vanished).
    Bus(BusError),
    /// The chip did not finish something within its bound (what it was).
    Timeout(&'static str),
    /// MAC_CSR0 names a chip this driver does not drive.
    UnknownChip(u32),
    /// The EEPROM names an RF chip this driver does not drive.
    UnknownRf(u16),
    /// The firmware file is not a good rt2870.bin.
    Firmware(firmware::FirmwareError),
    /// Not a channel 1-13.
    BadChannel(u8),
    /// A beacon that does not fit the 512-byte beacon slot.
    BeaconTooLong(usize),
}

impl From<BusError> for Error {
    fn from(error: BusError) -> Self {
        Error::Bus(error)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Bus(e) => write!(f, "USB transfer failed: {e:?}"),
            Error::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Error::UnknownChip(id) => write!(f, "not an RT5370/RT5372 (MAC_CSR0 {id:08x})"),
            Error::UnknownRf(id) => write!(f, "unknown RF chip {id:04x} in the EEPROM"),
            Error::Firmware(e) => write!(f, "bad rt2870.bin: {e:?}"),
            Error::BadChannel(ch) => write!(f, "channel {ch} is not 1-13"),
            Error::BeaconTooLong(len) => write!(f, "beacon of {len} bytes does not fit its slot"),
        }
    }
}
