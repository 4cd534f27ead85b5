//! CDC Ethernet (ECM, USB CDC 1.2 ECM120): a USB Ethernet adapter as the
//! board's NIC.
//!
//! ECM has no framing of its own: one Ethernet frame is one bulk transfer,
//! ended by a short (or zero-length) packet. What this module adds is
//! finding the function in a device's descriptors (the control interface,
//! its union with the data interface, the MAC address string) and the
//! `NetDevice` that holds its adapter's handle on the shared bus, keeps a
//! bulk-IN transfer queued, survives the adapter being unplugged and plugged
//! back, and is the bus's port poller (see `shared`).

use alloc::vec::Vec;

use super::bus::{DeviceId, DeviceInfo, Event};
use super::descriptor::{Configuration, TransferType, CS_INTERFACE};
use super::shared::{DeviceHandle, SharedBus};
use super::{request, Delimiting, UsbError};
use crate::net::device::{MacDisplay, NetDevice, Received, MAX_FRAME};

/// CDC communications interface class, and its Ethernet subclass.
const CLASS_CDC: u8 = 0x02;
const SUBCLASS_ECM: u8 = 0x06;
/// CDC data interface class.
const CLASS_CDC_DATA: u8 = 0x0a;
/// Functional descriptor subtypes (CDC 1.2 table 13): union, Ethernet networking.
const UNION: u8 = 0x06;
const ETHERNET: u8 = 0x0f;
/// SET_ETHERNET_PACKET_FILTER (ECM120 6.2.4), and the filter the appliance
/// wants: directed, broadcast and all-multicast frames.
const SET_ETHERNET_PACKET_FILTER: u8 = 0x43;
const FILTER: u16 = 0b0_1110;
/// Bytes of the bulk-IN transfer kept queued: one whole frame, with room.
const RX_TRANSFER: usize = 2048;
/// Smallest Ethernet frame worth handing on (a header).
const MIN_FRAME: usize = 14;
/// How often the ports are looked at when no interrupt says so.
const PORT_POLL_US: u64 = 500_000;

/// Where an ECM function sits in a device's descriptors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EcmFunction {
    /// bConfigurationValue of the configuration holding it.
    pub configuration: u8,
    /// The communications (control) interface.
    pub control_interface: u8,
    /// The data interface, and the alternate setting with its bulk endpoints.
    pub data_interface: u8,
    /// That alternate setting.
    pub data_alternate: u8,
    /// Bulk IN endpoint address.
    pub bulk_in: u8,
    /// Bulk OUT endpoint address.
    pub bulk_out: u8,
    /// String index of the MAC address (iMACAddress).
    pub mac_string: u8,
}

impl EcmFunction {
    /// Finds an ECM function in any of the device's configurations.
    pub fn find(info: &DeviceInfo) -> Option<Self> {
        info.configurations.iter().find_map(Self::in_configuration)
    }

    /// Finds an ECM function in one configuration: a CDC Ethernet control
    /// interface with union and Ethernet functional descriptors, and the
    /// data interface the union names, with a bulk IN and a bulk OUT endpoint.
    pub fn in_configuration(config: &Configuration) -> Option<Self> {
        config.interfaces.iter().filter(|i| i.class == CLASS_CDC && i.subclass == SUBCLASS_ECM).find_map(|control| {
            let functional = |subtype| control.class_specific.iter().find(|d| d.get(1) == Some(&CS_INTERFACE) && d.get(2) == Some(&subtype));
            let data_interface = *functional(UNION)?.get(4)?;
            let mac_string = *functional(ETHERNET)?.get(3)?;
            let data = config.interfaces.iter().find(|i| {
                i.number == data_interface && i.class == CLASS_CDC_DATA && i.endpoints.iter().filter(|e| e.transfer == TransferType::Bulk).count() >= 2
            })?;
            let bulk = |is_in: bool| data.endpoints.iter().find(|e| e.transfer == TransferType::Bulk && e.is_in() == is_in).map(|e| e.address);
            Some(Self {
                configuration: config.value,
                control_interface: control.number,
                data_interface,
                data_alternate: data.alternate,
                bulk_in: bulk(true)?,
                bulk_out: bulk(false)?,
                mac_string,
            })
        })
    }
}

/// The MAC address from an iMACAddress string: 12 hex digits, most
/// significant first (ECM120 5.4).
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let digits = text.as_bytes();
    if digits.len() != 12 {
        return None;
    }
    let nibble = |digit: u8| char::from(digit).to_digit(16).map(|value| value as u8);
    let mut mac = [0u8; 6];
    for (byte, pair) in mac.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(mac)
}

/// Configures the function on a device: its configuration, the data
/// interface's bulk alternate setting, the packet filter; its MAC address.
fn start(device: &DeviceHandle, function: &EcmFunction) -> Result<[u8; 6], UsbError> {
    let text = device.with_device(|device| {
        device.set_configuration(function.configuration)?;
        device.set_interface(function.data_interface, function.data_alternate)?;
        // Optional (ECM120 6.2.4): a device that refuses it still passes frames.
        if let Err(error) = device.control_out(request::OUT_CLASS_INTERFACE, SET_ETHERNET_PACKET_FILTER, FILTER, u16::from(function.control_interface), &[]) {
            log::debug!("USB {}: packet filter refused ({error:?})", device.info().name);
        }
        device.string(function.mac_string)
    })?;
    parse_mac(&text).ok_or(UsbError::Descriptor(super::descriptor::DescriptorError::BadValue))
}

/// The adapter in use.
struct Adapter {
    device: DeviceHandle,
    function: EcmFunction,
}

/// A USB CDC Ethernet adapter as the board's NIC. It polls the shared bus's
/// ports: devices plugged in beside the adapter are enumerated, logged and
/// left alone (or kept by the driver that claimed them at boot), and the
/// adapter, if unplugged, is taken up again when it (or another ECM
/// adapter) comes back.
pub struct EcmNic {
    bus: SharedBus,
    adapter: Option<Adapter>,
    /// An adapter stopped by a transfer error while still plugged in:
    /// started again on the next port poll (once: if that fails too, it
    /// waits to be plugged in again).
    stopped: Option<DeviceHandle>,
    mac: [u8; 6],
    rx: Vec<u8>,
    next_port_poll_us: u64,
}

impl EcmNic {
    /// Looks at the bus's devices (the events of its first `poll`) and
    /// starts the first ECM adapter among them, passing over devices another
    /// driver holds; `None` without one, so the board can use another NIC.
    pub fn claim(bus: &SharedBus, events: &[Event]) -> Option<Self> {
        let mut nic = None;
        for event in events {
            let Event::Attached(id) = *event else { continue };
            let Some(device) = bus.claim(id) else { continue };
            if nic.is_none() {
                if let Some((function, mac)) = try_start(&device) {
                    nic = Some((Adapter { device, function }, mac));
                    continue;
                }
            }
            drop(device);
            ignore(bus, id);
        }
        let (adapter, mac) = nic?;
        Some(Self { bus: bus.clone(), adapter: Some(adapter), stopped: None, mac, rx: alloc::vec![0; RX_TRANSFER], next_port_poll_us: 0 })
    }

    /// True while an adapter is plugged in and started.
    pub fn is_up(&self) -> bool {
        self.adapter.is_some()
    }

    fn poll_ports(&mut self) {
        for event in self.bus.poll() {
            match event {
                Event::Detached(id) if self.adapter.as_ref().is_some_and(|a| a.device.id() == id) => {
                    log::warn!("USB Ethernet adapter unplugged: the network is down until one is plugged in");
                    self.adapter = None;
                }
                Event::Detached(_) => {}
                Event::Attached(id) => {
                    // A device just attached is nobody's yet.
                    let Some(device) = self.bus.claim(id) else { continue };
                    if self.adapter.is_some() || !self.adopt(device) {
                        ignore(&self.bus, id);
                    }
                }
            }
        }
        // A stopped adapter still plugged in (its port did not change) gets another start.
        if let Some(device) = self.stopped.take() {
            if self.adapter.is_none() && device.is_attached() {
                self.adopt(device);
            }
        }
    }

    /// Starts `device` as the adapter if it is one; false if it is not (or
    /// did not start), and the device is let go.
    fn adopt(&mut self, device: DeviceHandle) -> bool {
        let Some((function, mac)) = try_start(&device) else { return false };
        if mac != self.mac {
            log::warn!("USB Ethernet adapter has another MAC address; the appliance keeps using {}", MacDisplay(self.mac));
        }
        self.adapter = Some(Adapter { device, function });
        true
    }

    /// Takes the adapter down after a transfer error (the port poll then
    /// sees whether it is gone or only failed).
    fn fail(&mut self, what: &str, error: UsbError) {
        if let Some(adapter) = self.adapter.take() {
            log::warn!("USB {}: Ethernet {what} failed ({error:?}): adapter stopped", adapter.device.name());
            self.stopped = Some(adapter.device);
        }
        self.next_port_poll_us = 0;
    }
}

/// Starts `id` if it is an ECM adapter, saying so on the log.
fn try_start(device: &DeviceHandle) -> Option<(EcmFunction, [u8; 6])> {
    let function = device.with_info(EcmFunction::find)??;
    let name = device.name();
    match start(device, &function) {
        Ok(mac) => {
            log::info!("USB {name}: CDC Ethernet, MAC {}, bulk IN {:#04x} OUT {:#04x}", MacDisplay(mac), function.bulk_in, function.bulk_out);
            Some((function, mac))
        }
        Err(error) => {
            log::warn!("USB {name}: CDC Ethernet did not start ({error:?}): ignored");
            None
        }
    }
}

fn ignore(bus: &SharedBus, id: DeviceId) {
    bus.with_info(id, |info| {
        // An RT5370 dongle plugged in is the radio's to take (`rt2800_bus::DongleRadio`).
        if !super::rt2800_bus::is_dongle(info) {
            log::info!("USB {}: {} device, no driver here: ignored", info.name, info.classes());
        }
    });
}

impl NetDevice for EcmNic {
    fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    fn receive(&mut self, frame: &mut [u8]) -> Received {
        let Some(adapter) = &self.adapter else { return Received::Nothing };
        let (endpoint, rx) = (adapter.function.bulk_in, &mut self.rx);
        match adapter.device.with_device(|device| device.bulk_in(endpoint, rx, Delimiting::ShortPacket)) {
            Ok(None) => Received::Nothing,
            // The zero-length packet after a frame of whole packets.
            Ok(Some(0)) => Received::Nothing,
            Ok(Some(len)) if len < MIN_FRAME || len > MAX_FRAME || len > frame.len() => Received::Dropped,
            Ok(Some(len)) => {
                frame[..len].copy_from_slice(&self.rx[..len]);
                Received::Frame(len)
            }
            Err(error) => {
                self.fail("receive", error);
                Received::Nothing
            }
        }
    }

    fn can_transmit(&mut self) -> bool {
        self.adapter.is_some()
    }

    fn transmit(&mut self, frame: &[u8]) -> bool {
        let Some(adapter) = &self.adapter else { return false };
        let endpoint = adapter.function.bulk_out;
        match adapter.device.with_device(|device| device.bulk_out(endpoint, frame, Delimiting::ShortPacket)) {
            Ok(()) => true,
            Err(error) => {
                self.fail("transmit", error);
                false
            }
        }
    }

    fn interrupt_ids(&self) -> Vec<u32> {
        self.bus.irqs()
    }

    fn acknowledge_interrupt(&mut self) {
        self.bus.acknowledge_interrupts();
        // An interrupt may be a port change: look at the ports on the next pass.
        self.next_port_poll_us = 0;
    }

    fn service(&mut self, now_us: u64) -> Option<u64> {
        if now_us >= self.next_port_poll_us {
            self.poll_ports();
            self.next_port_poll_us = now_us + PORT_POLL_US;
        }
        Some(self.next_port_poll_us)
    }
}

#[cfg(test)]
#[path = "ecm/tests.rs"]
mod tests;
