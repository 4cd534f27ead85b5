//! The USB host stack above the controller: what a host-controller driver
//! offers (`HostController`), how a device is enumerated and watched
//! (`bus`), how class drivers share the bus, each holding its own device
//! (`shared`), what a class driver talks to (`UsbDevice`), and the class
//! drivers themselves (`ecm`, CDC Ethernet as the board's NIC;
//! `rt2800_bus`, an RT5370 Wi-Fi dongle as the access point's radio;
//! `storage`, a USB stick as the leaderboard's block store).
//!
//! Nothing here touches registers, so it all compiles and is tested on the
//! host against a fake controller; `drivers::ohci` (full and low speed)
//! and `drivers::ehci` (high speed) are the real controllers. The host side is hand-written: the well-kept `no_std`
//! crates (`usb-device`, `embassy-usb`) are device-side stacks.

#![deny(unsafe_code)]

use core::fmt;

pub mod bus;
pub mod descriptor;
pub mod ecm;
pub mod rt2800_bus;
pub mod shared;
pub mod storage;

/// A device's signalling rate, which decides packet sizes and, on OHCI,
/// whether an endpoint is low speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speed {
    /// 1.5 Mbit/s (keyboards, mice).
    Low,
    /// 12 Mbit/s.
    Full,
    /// 480 Mbit/s (EHCI only).
    High,
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Speed::Low => "low speed",
            Speed::Full => "full speed",
            Speed::High => "high speed",
        })
    }
}

/// Why a transfer or an enumeration step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsbError {
    /// The device answered STALL: it refuses the request (or the endpoint is halted).
    Stall,
    /// No answer before the deadline.
    Timeout,
    /// The device is gone (unplugged, or its port disabled).
    NoDevice,
    /// The controller reported another error (its own completion code).
    Transfer(u8),
    /// A descriptor the device sent is malformed.
    Descriptor(descriptor::DescriptorError),
    /// The controller has no room for another endpoint or transfer.
    NoResources,
    /// An argument the controller cannot carry (too long a buffer).
    Invalid,
    /// A USB 2.0 controller's port found a full- or low-speed device and
    /// handed it to its companion controller, which enumerates it instead.
    Companion,
}

impl From<descriptor::DescriptorError> for UsbError {
    fn from(error: descriptor::DescriptorError) -> Self {
        UsbError::Descriptor(error)
    }
}

/// The 8-byte SETUP packet of a control transfer (USB 2.0 table 9-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// bmRequestType: bit 7 set for device-to-host, bits 5-6 standard /
    /// class / vendor, bits 0-4 device / interface / endpoint.
    pub request_type: u8,
    /// bRequest.
    pub request: u8,
    /// wValue.
    pub value: u16,
    /// wIndex.
    pub index: u16,
    /// wLength: bytes in the data stage.
    pub length: u16,
}

/// Standard requests (USB 2.0 table 9-4).
pub mod request {
    /// GET_DESCRIPTOR.
    pub const GET_DESCRIPTOR: u8 = 6;
    /// SET_ADDRESS.
    pub const SET_ADDRESS: u8 = 5;
    /// SET_CONFIGURATION.
    pub const SET_CONFIGURATION: u8 = 9;
    /// SET_INTERFACE.
    pub const SET_INTERFACE: u8 = 11;
    /// CLEAR_FEATURE.
    pub const CLEAR_FEATURE: u8 = 1;
    /// The feature selector of CLEAR_FEATURE for an endpoint's halt.
    pub const ENDPOINT_HALT: u16 = 0;
    /// bmRequestType: standard, device, host-to-device.
    pub const OUT_DEVICE: u8 = 0x00;
    /// bmRequestType: standard, device, device-to-host.
    pub const IN_DEVICE: u8 = 0x80;
    /// bmRequestType: standard, interface, host-to-device.
    pub const OUT_INTERFACE: u8 = 0x01;
    /// bmRequestType: standard, endpoint, host-to-device.
    pub const OUT_ENDPOINT: u8 = 0x02;
    /// bmRequestType: class, interface, host-to-device.
    pub const OUT_CLASS_INTERFACE: u8 = 0x21;
    /// bmRequestType: vendor, device, host-to-device.
    pub const OUT_VENDOR_DEVICE: u8 = 0x40;
    /// bmRequestType: vendor, device, device-to-host.
    pub const IN_VENDOR_DEVICE: u8 = 0xc0;
}

impl Setup {
    /// The packet as it goes on the wire.
    pub fn to_bytes(&self) -> [u8; 8] {
        let [v0, v1] = self.value.to_le_bytes();
        let [i0, i1] = self.index.to_le_bytes();
        let [l0, l1] = self.length.to_le_bytes();
        [self.request_type, self.request, v0, v1, i0, i1, l0, l1]
    }

    /// True when the data stage runs device-to-host.
    pub fn is_in(&self) -> bool {
        self.request_type & 0x80 != 0
    }
}

/// The data stage of a control transfer.
pub enum Data<'a> {
    /// No data stage.
    None,
    /// Device to host, into this buffer (its length is wLength).
    In(&'a mut [u8]),
    /// Host to device, these bytes.
    Out(&'a [u8]),
}

/// Where a transfer goes: a device address and one of its endpoints, with
/// what the controller needs to talk to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pipe {
    /// The device's address (0 before SET_ADDRESS).
    pub device: u8,
    /// bEndpointAddress: number in bits 0-3, bit 7 set for IN (0 for control).
    pub endpoint: u8,
    /// The endpoint's largest packet.
    pub max_packet: u16,
    /// The device's speed.
    pub speed: Speed,
}

impl Pipe {
    /// Which of a host controller's bulk slots (the pipe each serves, `None`
    /// while free) carries this pipe: `(index, false)` the one already set up
    /// for its endpoint, `(index, true)` a free one the driver must set up.
    /// One slot policy for the OHCI and EHCI drivers.
    pub fn bulk_slot(&self, slots: impl Iterator<Item = Option<Pipe>> + Clone) -> Result<(usize, bool), UsbError> {
        let same = |p: &Option<Pipe>| p.is_some_and(|p| p.device == self.device && p.endpoint == self.endpoint);
        if let Some(index) = slots.clone().position(|p| same(&p)) {
            return Ok((index, false));
        }
        slots.into_iter().position(|p| p.is_none()).map(|index| (index, true)).ok_or(UsbError::NoResources)
    }
}

/// How a class protocol delimits its bulk transfers, which decides two
/// things the controller does on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delimiting {
    /// By short packets (Ethernet frames over ECM, RT2800 frames): an OUT
    /// transfer of whole packets ends with a zero-length packet, and a new
    /// IN transfer is queued as soon as one completes, so no frame waits.
    ShortPacket,
    /// By lengths the protocol announces (mass storage's Bulk-Only
    /// Transport): no zero-length packet (BOT has none, and a stick may take
    /// one for a bad command; QEMU's usb-storage lets it pass), and an IN
    /// transfer is queued only while the driver polls for one (QEMU's
    /// usb-storage stalls an IN token between a status and the next
    /// command, so the stick never started while IN was re-queued).
    Announced,
}

/// What a root-hub port reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortStatus {
    /// A device is attached.
    pub connected: bool,
    /// The attachment changed since the last read (the read clears it): a
    /// device came or went, maybe both.
    pub changed: bool,
}

/// What a host controller driver does for the stack: root-hub ports,
/// control transfers, and bulk transfers (OUT waited for, IN polled so a
/// NIC never blocks on a frame that is not coming). Every call that waits
/// on the hardware has a deadline.
pub trait HostController {
    /// Root-hub ports (numbered from 0 here; logs count from 1).
    fn port_count(&self) -> usize;
    /// Reads a port's attachment, clearing its change flag.
    fn port_status(&mut self, port: usize) -> PortStatus;
    /// Resets and enables the port after an attachment; the attached device's speed.
    fn reset_port(&mut self, port: usize) -> Result<Speed, UsbError>;
    /// A control transfer on endpoint 0 of `pipe.device`; the bytes moved in the data stage.
    fn control(&mut self, pipe: Pipe, setup: &Setup, data: Data<'_>) -> Result<usize, UsbError>;
    /// Sends `data` on a bulk OUT endpoint, waiting (bounded) until it is sent;
    /// with `Delimiting::ShortPacket` a transfer whose length is a multiple
    /// of the packet size ends with a zero-length packet, so the device sees
    /// where it ends.
    fn bulk_out(&mut self, pipe: Pipe, data: &[u8], delimiting: Delimiting) -> Result<(), UsbError>;
    /// Polls a bulk IN endpoint: queues a transfer of `buf.len()` bytes on
    /// it if none is, and when one has completed copies it into `buf` and
    /// returns its length (`None`: nothing yet); with
    /// `Delimiting::ShortPacket` the next transfer is queued at once. Never waits.
    fn bulk_in(&mut self, pipe: Pipe, buf: &mut [u8], delimiting: Delimiting) -> Result<Option<usize>, UsbError>;
    /// Forgets every endpoint of a device that went away, cancelling its transfers.
    fn release(&mut self, device: u8);
    /// Waits about `ms` milliseconds (USB's settle and recovery times).
    fn delay_ms(&mut self, ms: u32);
    /// Its interrupt at the interrupt controller, if it raises one.
    fn irq(&self) -> Option<u32>;
    /// Clears its interrupt condition after a wake-up.
    fn acknowledge_interrupt(&mut self);
}

/// A configured device as a class driver sees it: its identity and
/// descriptors, and transfers on its endpoints. Borrowed from the bus for
/// one call; the driver keeps only the endpoint addresses it chose.
pub struct UsbDevice<'a> {
    host: &'a mut dyn HostController,
    info: &'a bus::DeviceInfo,
}

impl<'a> UsbDevice<'a> {
    /// Lends `host` for transfers to the enumerated device `info`.
    pub fn new(host: &'a mut dyn HostController, info: &'a bus::DeviceInfo) -> Self {
        Self { host, info }
    }

    /// Who the device is and what it offers.
    pub fn info(&self) -> &bus::DeviceInfo {
        self.info
    }

    fn control_pipe(&self) -> Pipe {
        Pipe { device: self.info.address, endpoint: 0, max_packet: u16::from(self.info.device.max_packet0), speed: self.info.speed }
    }

    fn pipe(&self, endpoint: u8) -> Result<Pipe, UsbError> {
        self.info.endpoint(endpoint).map(|e| Pipe { device: self.info.address, endpoint, max_packet: e.max_packet, speed: self.info.speed }).ok_or(UsbError::Invalid)
    }

    /// A device-to-host control request (vendor register reads, descriptors);
    /// the bytes received.
    pub fn control_in(&mut self, request_type: u8, request: u8, value: u16, index: u16, buf: &mut [u8]) -> Result<usize, UsbError> {
        let length = u16::try_from(buf.len()).map_err(|_| UsbError::Invalid)?;
        let setup = Setup { request_type: request_type | 0x80, request, value, index, length };
        let pipe = self.control_pipe();
        self.host.control(pipe, &setup, Data::In(buf))
    }

    /// A host-to-device control request (vendor register writes, SET_INTERFACE).
    pub fn control_out(&mut self, request_type: u8, request: u8, value: u16, index: u16, data: &[u8]) -> Result<(), UsbError> {
        let length = u16::try_from(data.len()).map_err(|_| UsbError::Invalid)?;
        let setup = Setup { request_type: request_type & 0x7f, request, value, index, length };
        let pipe = self.control_pipe();
        let stage = if data.is_empty() { Data::None } else { Data::Out(data) };
        self.host.control(pipe, &setup, stage).map(|_| ())
    }

    /// Selects configuration `value` (bConfigurationValue); its endpoints
    /// become usable, their data toggles reset on both sides (USB 2.0 9.1.1.5).
    pub fn set_configuration(&mut self, value: u8) -> Result<(), UsbError> {
        self.host.release(self.info.address);
        self.control_out(request::OUT_DEVICE, request::SET_CONFIGURATION, u16::from(value), 0, &[])
    }

    /// Selects alternate setting `alternate` of interface `interface`
    /// (endpoint toggles reset, as for `set_configuration`).
    pub fn set_interface(&mut self, interface: u8, alternate: u8) -> Result<(), UsbError> {
        self.host.release(self.info.address);
        self.control_out(request::OUT_INTERFACE, request::SET_INTERFACE, u16::from(alternate), u16::from(interface), &[])
    }

    /// Reads string descriptor `index` in the device's first language.
    pub fn string(&mut self, index: u8) -> Result<alloc::string::String, UsbError> {
        let pipe = self.control_pipe();
        bus::read_string(self.host, pipe, index)
    }

    /// Sends `data` on bulk OUT endpoint `endpoint` (an address the
    /// configuration lists), waiting a bounded time until it is sent.
    pub fn bulk_out(&mut self, endpoint: u8, data: &[u8], delimiting: Delimiting) -> Result<(), UsbError> {
        let pipe = self.pipe(endpoint)?;
        self.host.bulk_out(pipe, data, delimiting)
    }

    /// Polls bulk IN endpoint `endpoint` without waiting: a completed
    /// transfer's length in `buf`, or `None`; a transfer of `buf.len()`
    /// bytes stays queued between calls (see `Delimiting` for after one).
    pub fn bulk_in(&mut self, endpoint: u8, buf: &mut [u8], delimiting: Delimiting) -> Result<Option<usize>, UsbError> {
        let pipe = self.pipe(endpoint)?;
        self.host.bulk_in(pipe, buf, delimiting)
    }

    /// CLEAR_FEATURE(ENDPOINT_HALT) on each of `endpoints`, which also resets
    /// their data toggles on the device; the host's side of every bulk
    /// endpoint of the device then starts over at DATA0 too (the controller
    /// forgets them, as after SET_CONFIGURATION), so a driver lists every
    /// endpoint it uses (mass storage's reset recovery clears both).
    pub fn clear_halts(&mut self, endpoints: &[u8]) -> Result<(), UsbError> {
        for &endpoint in endpoints {
            self.control_out(request::OUT_ENDPOINT, request::CLEAR_FEATURE, request::ENDPOINT_HALT, u16::from(endpoint), &[])?;
        }
        self.host.release(self.info.address);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_keeps_its_bulk_slot_and_a_new_one_takes_the_first_free() {
        let pipe = |device, endpoint| Pipe { device, endpoint, max_packet: 64, speed: Speed::Full };
        let slots = [Some(pipe(1, 0x81)), None, Some(pipe(1, 0x02)), None];
        assert_eq!(pipe(1, 0x02).bulk_slot(slots.iter().copied()), Ok((2, false)));
        assert_eq!(pipe(2, 0x02).bulk_slot(slots.iter().copied()), Ok((1, true)));
        assert_eq!(pipe(2, 0x02).bulk_slot([Some(pipe(1, 0x81))].into_iter()), Err(UsbError::NoResources));
    }

    #[test]
    fn setup_packet_is_little_endian_on_the_wire() {
        let setup = Setup { request_type: 0x80, request: 6, value: 0x0100, index: 0x0409, length: 18 };
        assert_eq!(setup.to_bytes(), [0x80, 0x06, 0x00, 0x01, 0x09, 0x04, 0x12, 0x00]);
        assert!(setup.is_in());
    }
}
