//! The bus: every root-hub port of every controller, watched for devices
//! coming and going, and the enumeration that turns an attached device
//! into a `DeviceInfo` (port reset, device descriptor, SET_ADDRESS, its
//! configurations, its names).
//!
//! Enumeration leaves the device unconfigured: the class driver that claims
//! it picks a configuration (`UsbDevice::set_configuration`). A device that
//! fails enumeration is logged and left alone until it is plugged in again.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::descriptor::{self, Configuration, DeviceDescriptor, EndpointDescriptor};
use super::{request, Data, HostController, Pipe, Setup, Speed, UsbDevice, UsbError};

/// Most configurations read from one device (they rarely have more than two).
const MAX_CONFIGURATIONS: u8 = 4;
/// Lowest and highest device address (0 is the default address).
const ADDRESSES: core::ops::RangeInclusive<u8> = 1..=127;

/// What enumeration learnt about a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The name logs use, `bus-port` counted from 1 (`1-1`), as Linux does.
    pub name: String,
    /// Its address on its controller's bus.
    pub address: u8,
    /// Its speed.
    pub speed: Speed,
    /// The device descriptor.
    pub device: DeviceDescriptor,
    /// Its configurations, in index order.
    pub configurations: Vec<Configuration>,
    /// The manufacturer's name (empty if it has none or did not answer).
    pub manufacturer: String,
    /// The product's name (likewise).
    pub product: String,
}

impl DeviceInfo {
    /// The endpoint descriptor for `address` in any of its configurations.
    pub fn endpoint(&self, address: u8) -> Option<&EndpointDescriptor> {
        self.configurations.iter().flat_map(|c| &c.interfaces).flat_map(|i| &i.endpoints).find(|e| e.address == address)
    }

    /// True for the (vendor, product) pair.
    pub fn is(&self, vendor: u16, product: u16) -> bool {
        self.device.vendor == vendor && self.device.product == product
    }

    /// What the device is, by the classes its first configuration's
    /// interfaces declare ("HID", "mass storage"), for the log line of a
    /// device nobody drives.
    pub fn classes(&self) -> String {
        let mut names: Vec<&str> = Vec::new();
        let interfaces = self.configurations.first().map(|c| c.interfaces.as_slice()).unwrap_or(&[]);
        let classes = interfaces.iter().map(|i| i.class).chain((self.device.class != 0).then_some(self.device.class));
        for class in classes {
            let name = match class {
                1 => "audio",
                2 | 0x0a => "CDC",
                3 => "HID",
                7 => "printer",
                8 => "mass storage",
                9 => "hub",
                0x0e => "video",
                0xe0 => "wireless",
                0xff => "vendor-specific",
                _ => "other",
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.is_empty() {
            String::from("no interfaces")
        } else {
            names.join(", ")
        }
    }
}

/// A device on the bus, named for as long as it stays plugged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeviceId(u32);

/// What changed on the bus since the last `poll`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A device was plugged in and enumerated; `UsbBus::info` describes it.
    Attached(DeviceId),
    /// A device went away; its transfers fail from now on.
    Detached(DeviceId),
}

/// One root-hub port.
enum Port {
    /// Nothing attached.
    Empty,
    /// Something is attached but did not enumerate.
    Failed,
    /// An enumerated device.
    Device(DeviceId, Box<DeviceInfo>),
}

struct Host {
    controller: Box<dyn HostController>,
    ports: Vec<Port>,
    next_address: u8,
}

/// Every controller's ports and the devices on them.
pub struct UsbBus {
    hosts: Vec<Host>,
    next_id: u32,
}

impl UsbBus {
    /// Takes the controllers; bus numbers in names follow their order (from 1).
    pub fn new(controllers: Vec<Box<dyn HostController>>) -> Self {
        let hosts = controllers
            .into_iter()
            .map(|controller| {
                let ports = (0..controller.port_count()).map(|_| Port::Empty).collect();
                Host { controller, ports, next_address: 1 }
            })
            .collect();
        Self { hosts, next_id: 0 }
    }

    /// Looks at every port: devices that went away are forgotten, new ones
    /// enumerated (which waits on the device, a few tens of ms per device).
    /// A full- or low-speed device first seen on an EHCI is handed to the
    /// OHCI beside it; since the OHCIs are looked at first, the ports are
    /// looked at once more after a hand-over, so the device is in these events.
    pub fn poll(&mut self) -> Vec<Event> {
        let (mut events, handed_over) = self.look_at_ports();
        if handed_over {
            events.extend(self.look_at_ports().0);
        }
        events
    }

    /// One look at every port: its events, and whether a device was handed
    /// to a companion controller.
    fn look_at_ports(&mut self) -> (Vec<Event>, bool) {
        let (mut events, mut handed_over) = (Vec::new(), false);
        for (bus, host) in self.hosts.iter_mut().enumerate() {
            for port in 0..host.ports.len() {
                let status = host.controller.port_status(port);
                let attached = !matches!(host.ports[port], Port::Empty);
                if !status.changed && status.connected == attached {
                    continue;
                }
                let name = format!("{}-{}", bus + 1, port + 1);
                if let Port::Device(id, info) = core::mem::replace(&mut host.ports[port], Port::Empty) {
                    log::info!("USB {name}: {:04x}:{:04x} unplugged", info.device.vendor, info.device.product);
                    host.controller.release(info.address);
                    events.push(Event::Detached(id));
                }
                if !status.connected {
                    continue;
                }
                let Some(address) = free_address(host) else {
                    log::warn!("USB {name}: no free address on bus {}: ignored", bus + 1);
                    host.ports[port] = Port::Failed;
                    continue;
                };
                match enumerate(host.controller.as_mut(), port, address, name.clone()) {
                    Ok(info) => {
                        log::info!("USB {name}: {:04x}:{:04x} {}, {}", info.device.vendor, info.device.product, display_name(&info), info.speed);
                        let id = DeviceId(self.next_id);
                        self.next_id = self.next_id.wrapping_add(1);
                        host.next_address = if address >= *ADDRESSES.end() { *ADDRESSES.start() } else { address + 1 };
                        host.ports[port] = Port::Device(id, Box::new(info));
                        events.push(Event::Attached(id));
                    }
                    Err(UsbError::Companion) => {
                        log::debug!("USB {name}: not high speed, handed to the companion controller");
                        handed_over = true;
                        host.ports[port] = Port::Empty;
                    }
                    Err(error) => {
                        log::warn!("USB {name}: enumeration failed ({error:?}): ignored until plugged in again");
                        host.controller.release(address);
                        host.ports[port] = Port::Failed;
                    }
                }
            }
        }
        (events, handed_over)
    }

    /// Every device attached, as of the last poll.
    pub fn attached(&self) -> Vec<DeviceId> {
        self.hosts.iter().flat_map(|h| &h.ports).filter_map(|port| if let Port::Device(id, _) = port { Some(*id) } else { None }).collect()
    }

    /// What enumeration learnt about a device still attached.
    pub fn info(&self, id: DeviceId) -> Option<&DeviceInfo> {
        self.hosts.iter().flat_map(|h| &h.ports).find_map(|port| match port {
            Port::Device(found, info) if *found == id => Some(info.as_ref()),
            _ => None,
        })
    }

    /// The device for a class driver's transfers, while it is attached.
    pub fn device(&mut self, id: DeviceId) -> Option<UsbDevice<'_>> {
        self.hosts.iter_mut().find_map(|host| {
            let info = host.ports.iter().find_map(|port| match port {
                Port::Device(found, info) if *found == id => Some(info.as_ref()),
                _ => None,
            })?;
            Some(UsbDevice::new(host.controller.as_mut(), info))
        })
    }

    /// The controllers' interrupts.
    pub fn irqs(&self) -> Vec<u32> {
        self.hosts.iter().filter_map(|h| h.controller.irq()).collect()
    }

    /// Clears every controller's interrupt condition.
    pub fn acknowledge_interrupts(&mut self) {
        self.hosts.iter_mut().for_each(|h| h.controller.acknowledge_interrupt());
    }
}

fn free_address(host: &Host) -> Option<u8> {
    let used = |address: u8| host.ports.iter().any(|p| matches!(p, Port::Device(_, info) if info.address == address));
    let span = *ADDRESSES.end() - *ADDRESSES.start() + 1;
    (0..span).map(|step| (host.next_address - 1 + step) % span + 1).find(|&a| !used(a))
}

fn display_name(info: &DeviceInfo) -> String {
    match (info.manufacturer.is_empty(), info.product.is_empty()) {
        (_, false) if info.product.starts_with(info.manufacturer.as_str()) => info.product.clone(),
        (false, false) => format!("{} {}", info.manufacturer, info.product),
        (true, false) => info.product.clone(),
        (false, true) => info.manufacturer.clone(),
        (true, true) => format!("(unnamed, {})", info.classes()),
    }
}

/// GET_DESCRIPTOR of `kind`/`index` into `buf`; the bytes received.
fn get_descriptor(host: &mut dyn HostController, pipe: Pipe, kind: u8, index: u8, language: u16, buf: &mut [u8]) -> Result<usize, UsbError> {
    let length = u16::try_from(buf.len()).map_err(|_| UsbError::Invalid)?;
    let setup = Setup { request_type: request::IN_DEVICE, request: request::GET_DESCRIPTOR, value: u16::from(kind) << 8 | u16::from(index), index: language, length };
    host.control(pipe, &setup, Data::In(buf))
}

/// Reads string `index` in the device's first language (US English if it lists none).
pub(crate) fn read_string(host: &mut dyn HostController, pipe: Pipe, index: u8) -> Result<String, UsbError> {
    if index == 0 {
        return Ok(String::new());
    }
    let mut buf = [0u8; 255];
    let got = get_descriptor(host, pipe, descriptor::STRING, 0, 0, &mut buf)?;
    let language = descriptor::first_language(&buf[..got])?.unwrap_or(0x0409);
    let got = get_descriptor(host, pipe, descriptor::STRING, index, language, &mut buf)?;
    Ok(descriptor::parse_string(&buf[..got])?)
}

/// Enumerates the device just attached at `port`, giving it `address`.
pub fn enumerate(host: &mut dyn HostController, port: usize, address: u8, name: String) -> Result<DeviceInfo, UsbError> {
    // USB 2.0 7.1.7.3: 100 ms for the connection to settle, 10 ms of
    // recovery after the reset, 2 ms after SET_ADDRESS.
    host.delay_ms(100);
    let speed = host.reset_port(port)?;
    host.delay_ms(10);
    let mut pipe = Pipe { device: 0, endpoint: 0, max_packet: if speed == Speed::High { 64 } else { 8 }, speed };
    let mut prefix = [0u8; 8];
    let got = get_descriptor(host, pipe, descriptor::DEVICE, 0, 0, &mut prefix)?;
    pipe.max_packet = u16::from(DeviceDescriptor::max_packet0_from_prefix(&prefix[..got])?);
    let set_address = Setup { request_type: request::OUT_DEVICE, request: request::SET_ADDRESS, value: u16::from(address), index: 0, length: 0 };
    host.control(pipe, &set_address, Data::None)?;
    host.delay_ms(2);
    pipe.device = address;
    let mut bytes = [0u8; descriptor::DEVICE_LEN];
    let got = get_descriptor(host, pipe, descriptor::DEVICE, 0, 0, &mut bytes)?;
    let device = DeviceDescriptor::parse(&bytes[..got])?;
    let mut configurations = Vec::new();
    for index in 0..device.configurations.min(MAX_CONFIGURATIONS) {
        let mut head = [0u8; 9];
        let got = get_descriptor(host, pipe, descriptor::CONFIGURATION, index, 0, &mut head)?;
        let total = usize::from(Configuration::total_length(&head[..got])?).clamp(9, descriptor::MAX_CONFIGURATION);
        let mut all = vec![0u8; total];
        let got = get_descriptor(host, pipe, descriptor::CONFIGURATION, index, 0, &mut all)?;
        configurations.push(Configuration::parse(&all[..got])?);
    }
    // A name the device cannot give is no reason to refuse it.
    let manufacturer = read_string(host, pipe, device.manufacturer_string).unwrap_or_default();
    let product = read_string(host, pipe, device.product_string).unwrap_or_default();
    Ok(DeviceInfo { name, address, speed, device, configurations, manufacturer, product })
}

#[cfg(test)]
#[path = "bus/tests.rs"]
pub(crate) mod tests;
