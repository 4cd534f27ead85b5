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
mod tests;

pub use bus::{BusError, Rt2800Bus};
pub use device::Rt5370;

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
