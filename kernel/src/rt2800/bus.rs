//! The bus the RT2800 driver runs on: what it needs from a USB host stack
//! once the dongle is enumerated, and nothing more.
//!
//! The chip is driven entirely through vendor control requests (registers,
//! EEPROM, device mode) and two bulk pipes (frames out, frames in). The USB
//! core implements `Rt2800Bus` for a configured device; the driver never sees
//! descriptors, addresses or transfers. Bulk IN is polled: the appliance's
//! network loop must never wait for a received frame.

/// Why a transfer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusError {
    /// The device is gone (unplugged, or the host controller dropped it):
    /// nothing more will work, and the driver stops.
    Gone,
    /// The transfer did not complete within the bus's own time limit.
    Timeout,
    /// The device answered with a stall or a protocol error; the bus stays usable.
    Stall,
}

/// Vendor requests of the rt2800usb family (bRequest of a vendor control
/// transfer to the device), as Linux's rt2x00usb.h names them.
pub mod request {
    /// Device mode: reset, firmware load, autorun query (wValue says which).
    pub const DEVICE_MODE: u8 = 1;
    /// Writes consecutive registers from the data stage (wIndex the offset).
    pub const MULTI_WRITE: u8 = 6;
    /// Reads consecutive registers into the data stage (wIndex the offset).
    pub const MULTI_READ: u8 = 7;
    /// Reads the EEPROM into the data stage (wIndex the byte offset).
    pub const EEPROM_READ: u8 = 9;
}

/// Values of wValue for `request::DEVICE_MODE`.
pub mod mode {
    /// Resets the MAC (the firmware stays loaded).
    pub const RESET: u16 = 1;
    /// Starts the firmware just written at FIRMWARE_IMAGE_BASE.
    pub const FIRMWARE: u16 = 8;
    /// Asks (IN, 4 bytes) whether the dongle runs firmware from its own
    /// flash ("autorun"); then no firmware is loaded.
    pub const AUTORUN: u16 = 17;
}

/// What the RT2800 driver needs from the USB stack for one configured
/// dongle (configuration 1, interface 0 set up by the USB core).
pub trait Rt2800Bus {
    /// A vendor control transfer to the device, host to device
    /// (bmRequestType 0x40), with `data` as its data stage (may be empty).
    /// Its time limit must allow a second: the firmware start request
    /// (`mode::FIRMWARE`) takes that long, as Linux's REGISTER_TIMEOUT_FIRMWARE allows.
    fn vendor_out(&mut self, request: u8, value: u16, index: u16, data: &[u8]) -> Result<(), BusError>;
    /// A vendor control transfer from the device (bmRequestType 0xc0) that
    /// fills all of `data`; a short answer is `BusError::Stall`.
    fn vendor_in(&mut self, request: u8, value: u16, index: u16, data: &mut [u8]) -> Result<(), BusError>;
    /// Queues one bulk OUT transfer on the first bulk OUT endpoint (0x01 on
    /// the RT5370); Ok once the host controller owns a copy of the bytes
    /// (the driver reuses its buffer at once).
    fn bulk_out(&mut self, data: &[u8]) -> Result<(), BusError>;
    /// The next completed bulk IN transfer from the first bulk IN endpoint
    /// (0x81), copied into `buf` (its length); `None` when nothing has
    /// arrived. Never waits: the USB stack keeps a transfer queued on the
    /// endpoint in the background.
    fn poll_bulk_in(&mut self, buf: &mut [u8]) -> Option<Result<usize, BusError>>;
    /// Busy-waits `us` microseconds (50 µs to 10 ms): the chip's settle
    /// times and the pauses between polls of a busy bit, each wait bounded.
    fn delay_us(&mut self, us: u32);
}
