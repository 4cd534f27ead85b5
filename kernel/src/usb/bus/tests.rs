//! Enumeration and hot-plug against a fake controller that answers with
//! descriptors captured from QEMU's devices (`descriptor::tests`).

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::RefCell;

use super::*;
use crate::rt2800::{BusError, Rt2800Bus};
use crate::usb::descriptor::tests::*;
use crate::usb::{Delimiting, PortStatus};

/// `usb-net`'s string descriptors as it sent them: languages, manufacturer,
/// product, MAC address.
pub const USB_NET_STRINGS: [(u8, &[u8]); 4] = [
    (0, &[0x04, 0x03, 0x09, 0x04]),
    (1, &[0x0a, 0x03, 0x51, 0x00, 0x45, 0x00, 0x4d, 0x00, 0x55, 0x00]),
    (
        2,
        &[
            0x3c, 0x03, 0x52, 0x00, 0x4e, 0x00, 0x44, 0x00, 0x49, 0x00, 0x53, 0x00, 0x2f, 0x00, 0x51, 0x00, 0x45, 0x00, 0x4d, 0x00, 0x55, 0x00,
            0x20, 0x00, 0x55, 0x00, 0x53, 0x00, 0x42, 0x00, 0x20, 0x00, 0x4e, 0x00, 0x65, 0x00, 0x74, 0x00, 0x77, 0x00, 0x6f, 0x00, 0x72, 0x00,
            0x6b, 0x00, 0x20, 0x00, 0x44, 0x00, 0x65, 0x00, 0x76, 0x00, 0x69, 0x00, 0x63, 0x00, 0x65, 0x00,
        ],
    ),
    (
        3,
        &[0x1a, 0x03, 0x35, 0x00, 0x32, 0x00, 0x35, 0x00, 0x34, 0x00, 0x30, 0x00, 0x30, 0x00, 0x31, 0x00, 0x32, 0x00, 0x33, 0x00, 0x34, 0x00, 0x35, 0x00, 0x37, 0x00],
    ),
];

/// A device on a fake port: its descriptors and what the host did to it.
#[derive(Clone, Default)]
pub struct FakeDevice {
    pub device: Vec<u8>,
    pub configurations: Vec<Vec<u8>>,
    pub strings: Vec<(u8, Vec<u8>)>,
    pub address: u8,
    pub configuration: Option<u8>,
    pub interfaces: Vec<(u8, u8)>,
    /// Frames the device will send on bulk IN, oldest first.
    pub rx: VecDeque<Vec<u8>>,
    /// What the host sent on bulk OUT.
    pub tx: Vec<Vec<u8>>,
    /// The next bulk OUT transfer stalls.
    pub stall_next_out: bool,
    /// Vendor control requests as they came: the SETUP packet's 8 bytes
    /// and the data stage of an OUT request.
    pub vendor_setups: Vec<([u8; 8], Vec<u8>)>,
    /// Answers to vendor IN requests, oldest first (none left: STALL).
    pub vendor_answers: VecDeque<Vec<u8>>,
    /// A chip behind the vendor requests and bulk pipes instead (an
    /// `rt2800` fake): they are decoded back into its calls.
    pub chip: Option<Rc<RefCell<dyn Rt2800Bus>>>,
    /// The next vendor or bulk transfer fails with this.
    pub fail_next: Option<UsbError>,
    /// Bulk endpoints used, in order: OUT transfers and IN polls.
    pub bulk_endpoints: Vec<u8>,
    /// A function behind the bulk pipes and the class and endpoint requests
    /// instead (a fake USB stick): they are handed to it as they come.
    pub function: Option<Rc<RefCell<dyn BulkFunction>>>,
}

/// A device's function as a fake stands it in: its bulk pipes, its class
/// requests to the interface and CLEAR_FEATURE on its endpoints.
pub trait BulkFunction {
    /// A bulk OUT transfer, as the controller was asked to send it.
    fn bulk_out(&mut self, endpoint: u8, data: &[u8], delimiting: Delimiting) -> Result<(), UsbError>;
    /// A poll of a bulk IN endpoint.
    fn bulk_in(&mut self, endpoint: u8, buf: &mut [u8], delimiting: Delimiting) -> Result<Option<usize>, UsbError>;
    /// A class request to an interface, without data stage.
    fn class_out(&mut self, request: u8, value: u16, index: u16) -> Result<(), UsbError>;
    /// CLEAR_FEATURE(ENDPOINT_HALT) on `endpoint`.
    fn clear_halt(&mut self, endpoint: u8) -> Result<(), UsbError>;
}

impl FakeDevice {
    pub fn usb_net() -> Self {
        Self {
            device: USB_NET_DEVICE.to_vec(),
            configurations: vec![USB_NET_RNDIS_CONFIG.to_vec(), USB_NET_ECM_CONFIG.to_vec()],
            strings: USB_NET_STRINGS.iter().map(|(i, s)| (*i, s.to_vec())).collect(),
            ..Self::default()
        }
    }

    pub fn keyboard() -> Self {
        Self { device: USB_KBD_DEVICE.to_vec(), configurations: vec![USB_KBD_CONFIG.to_vec()], ..Self::default() }
    }

    /// A device with these ids, one configuration (value 1) of one vendor
    /// interface with `endpoints` (address, bmAttributes), 512-byte packets.
    pub fn vendor(vendor: u16, product: u16, endpoints: &[(u8, u8)]) -> Self {
        let [v0, v1] = vendor.to_le_bytes();
        let [p0, p1] = product.to_le_bytes();
        let device = vec![0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, v0, v1, p0, p1, 0x01, 0x01, 0, 0, 0, 0x01];
        let total = 9 + 9 + 7 * endpoints.len();
        let mut config = vec![0x09, 0x02, total as u8, 0x00, 0x01, 0x01, 0x00, 0x80, 0xe1];
        config.extend([0x09, 0x04, 0x00, 0x00, endpoints.len() as u8, 0xff, 0xff, 0xff, 0x00]);
        for &(address, attributes) in endpoints {
            config.extend([0x07, 0x05, address, attributes, 0x00, 0x02, 0x00]);
        }
        Self { device, configurations: vec![config], ..Self::default() }
    }

    fn take_failure(&mut self) -> Result<(), UsbError> {
        self.fail_next.take().map_or(Ok(()), Err)
    }
}

/// What the fake controller reports for a chip's error.
fn usb_error(error: BusError) -> UsbError {
    match error {
        BusError::Gone => UsbError::NoDevice,
        BusError::Timeout => UsbError::Timeout,
        BusError::Stall => UsbError::Stall,
    }
}

/// The fake controller's ports, shared with the test that drives it.
#[derive(Default)]
pub struct FakeState {
    pub ports: Vec<Option<FakeDevice>>,
    pub changed: Vec<bool>,
    pub released: Vec<u8>,
    pub waited_ms: u32,
}

impl FakeState {
    pub fn plug(&mut self, port: usize, device: FakeDevice) {
        self.ports[port] = Some(device);
        self.changed[port] = true;
    }

    pub fn unplug(&mut self, port: usize) -> Option<FakeDevice> {
        self.changed[port] = true;
        self.ports[port].take()
    }

    fn device_at(&mut self, address: u8) -> Result<&mut FakeDevice, UsbError> {
        self.ports.iter_mut().flatten().find(|d| d.address == address).ok_or(UsbError::NoDevice)
    }
}

/// A `HostController` over a `FakeState`.
pub struct FakeHost(pub Rc<RefCell<FakeState>>);

impl FakeHost {
    pub fn new(ports: usize) -> (Self, Rc<RefCell<FakeState>>) {
        let state = Rc::new(RefCell::new(FakeState { ports: vec![None; ports], changed: vec![false; ports], ..FakeState::default() }));
        (Self(state.clone()), state)
    }
}

fn answer(buf: &mut [u8], bytes: &[u8]) -> usize {
    let len = buf.len().min(bytes.len());
    buf[..len].copy_from_slice(&bytes[..len]);
    len
}

impl HostController for FakeHost {
    fn port_count(&self) -> usize {
        self.0.borrow().ports.len()
    }
    fn port_status(&mut self, port: usize) -> PortStatus {
        let mut state = self.0.borrow_mut();
        let changed = core::mem::take(&mut state.changed[port]);
        PortStatus { connected: state.ports[port].is_some(), changed }
    }
    fn reset_port(&mut self, port: usize) -> Result<Speed, UsbError> {
        let mut state = self.0.borrow_mut();
        let device = state.ports[port].as_mut().ok_or(UsbError::NoDevice)?;
        device.address = 0;
        Ok(Speed::Full)
    }
    fn control(&mut self, pipe: Pipe, setup: &Setup, data: Data<'_>) -> Result<usize, UsbError> {
        let mut state = self.0.borrow_mut();
        let device = state.device_at(pipe.device)?;
        let [index, kind] = setup.value.to_le_bytes();
        match (setup.request_type, setup.request, data) {
            (request::IN_DEVICE, request::GET_DESCRIPTOR, Data::In(buf)) => {
                let bytes = match kind {
                    descriptor::DEVICE => Some(device.device.clone()),
                    descriptor::CONFIGURATION => device.configurations.get(usize::from(index)).cloned(),
                    descriptor::STRING => device.strings.iter().find(|(i, _)| *i == index).map(|(_, s)| s.clone()),
                    _ => None,
                };
                bytes.map(|b| answer(buf, &b)).ok_or(UsbError::Stall)
            }
            (request::OUT_DEVICE, request::SET_ADDRESS, Data::None) => {
                device.address = setup.value as u8;
                Ok(0)
            }
            (request::OUT_DEVICE, request::SET_CONFIGURATION, Data::None) => {
                device.configuration = Some(setup.value as u8);
                Ok(0)
            }
            (request::OUT_INTERFACE, request::SET_INTERFACE, Data::None) => {
                device.interfaces.push((setup.index as u8, setup.value as u8));
                Ok(0)
            }
            (request::OUT_CLASS_INTERFACE, _, Data::None) => match device.function.clone() {
                Some(function) => function.borrow_mut().class_out(setup.request, setup.value, setup.index).map(|()| 0),
                None => Ok(0),
            },
            (request::OUT_ENDPOINT, request::CLEAR_FEATURE, Data::None) if setup.value == request::ENDPOINT_HALT => match device.function.clone() {
                Some(function) => function.borrow_mut().clear_halt(setup.index as u8).map(|()| 0),
                None => Err(UsbError::Stall),
            },
            (request::OUT_VENDOR_DEVICE | request::IN_VENDOR_DEVICE, _, data) => {
                device.take_failure()?;
                let out = if let Data::Out(bytes) = &data { bytes.to_vec() } else { Vec::new() };
                device.vendor_setups.push((setup.to_bytes(), out));
                match (device.chip.clone(), data) {
                    (Some(chip), Data::In(buf)) => chip.borrow_mut().vendor_in(setup.request, setup.value, setup.index, buf).map(|()| buf.len()).map_err(usb_error),
                    (Some(chip), Data::Out(bytes)) => chip.borrow_mut().vendor_out(setup.request, setup.value, setup.index, bytes).map(|()| 0).map_err(usb_error),
                    (Some(chip), Data::None) => chip.borrow_mut().vendor_out(setup.request, setup.value, setup.index, &[]).map(|()| 0).map_err(usb_error),
                    (None, Data::In(buf)) => device.vendor_answers.pop_front().map(|b| answer(buf, &b)).ok_or(UsbError::Stall),
                    (None, _) => Ok(0),
                }
            }
            _ => Err(UsbError::Stall),
        }
    }
    fn bulk_out(&mut self, pipe: Pipe, data: &[u8], delimiting: Delimiting) -> Result<(), UsbError> {
        let mut state = self.0.borrow_mut();
        let device = state.device_at(pipe.device)?;
        if device.configuration.is_none() || core::mem::take(&mut device.stall_next_out) {
            return Err(UsbError::Stall);
        }
        device.take_failure()?;
        device.bulk_endpoints.push(pipe.endpoint);
        if let Some(function) = device.function.clone() {
            return function.borrow_mut().bulk_out(pipe.endpoint, data, delimiting);
        }
        if let Some(chip) = device.chip.clone() {
            return chip.borrow_mut().bulk_out(data).map_err(usb_error);
        }
        device.tx.push(data.to_vec());
        Ok(())
    }
    fn bulk_in(&mut self, pipe: Pipe, buf: &mut [u8], delimiting: Delimiting) -> Result<Option<usize>, UsbError> {
        let mut state = self.0.borrow_mut();
        let device = state.device_at(pipe.device)?;
        device.take_failure()?;
        device.bulk_endpoints.push(pipe.endpoint);
        if let Some(function) = device.function.clone() {
            return function.borrow_mut().bulk_in(pipe.endpoint, buf, delimiting);
        }
        if let Some(chip) = device.chip.clone() {
            return chip.borrow_mut().poll_bulk_in(buf).transpose().map_err(usb_error);
        }
        Ok(device.rx.pop_front().map(|frame| answer(buf, &frame)))
    }
    fn release(&mut self, device: u8) {
        self.0.borrow_mut().released.push(device);
    }
    fn delay_ms(&mut self, ms: u32) {
        self.0.borrow_mut().waited_ms += ms;
    }
    fn irq(&self) -> Option<u32> {
        Some(105)
    }
    fn acknowledge_interrupt(&mut self) {}
}

/// A bus of one fake controller with `ports` ports.
pub fn fake_bus(ports: usize) -> (UsbBus, Rc<RefCell<FakeState>>) {
    let (host, state) = FakeHost::new(ports);
    (UsbBus::new(vec![Box::new(host) as Box<dyn HostController>]), state)
}

/// The devices a poll's events say were attached, in order.
pub(crate) fn attached(events: &[Event]) -> Vec<DeviceId> {
    events.iter().filter_map(|e| if let Event::Attached(id) = e { Some(*id) } else { None }).collect()
}

#[test]
fn usb_net_enumerates_with_its_address_names_and_both_configurations() {
    let (mut bus, state) = fake_bus(3);
    state.borrow_mut().plug(0, FakeDevice::usb_net());
    let ids = attached(&bus.poll());
    assert_eq!(ids.len(), 1);
    let info = bus.info(ids[0]).unwrap();
    assert_eq!((info.name.as_str(), info.address, info.speed), ("1-1", 1, Speed::Full));
    assert!(info.is(0x0525, 0xa4a2));
    assert_eq!((info.manufacturer.as_str(), info.product.as_str()), ("QEMU", "RNDIS/QEMU USB Network Device"));
    assert_eq!(info.configurations.iter().map(|c| c.value).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(info.endpoint(0x82).map(|e| e.max_packet), Some(64));
    // Enumeration leaves configuring to the class driver; it waited the settle times.
    assert_eq!(state.borrow().ports[0].as_ref().unwrap().configuration, None);
    assert_eq!(state.borrow().waited_ms, 112);
}

#[test]
fn quiet_ports_give_no_events() {
    let (mut bus, state) = fake_bus(2);
    state.borrow_mut().plug(1, FakeDevice::keyboard());
    assert_eq!(attached(&bus.poll()).len(), 1);
    assert_eq!(bus.poll(), []);
}

#[test]
fn unplugged_device_is_detached_and_its_endpoints_released() {
    let (mut bus, state) = fake_bus(3);
    state.borrow_mut().plug(2, FakeDevice::keyboard());
    let id = attached(&bus.poll())[0];
    state.borrow_mut().unplug(2);
    assert_eq!(bus.poll(), [Event::Detached(id)]);
    assert!(bus.info(id).is_none());
    assert!(bus.device(id).is_none());
    assert_eq!(state.borrow().released, [1]);
}

#[test]
fn replugged_device_is_a_new_device_at_a_new_address() {
    let (mut bus, state) = fake_bus(1);
    state.borrow_mut().plug(0, FakeDevice::usb_net());
    let first = attached(&bus.poll())[0];
    // Unplugged and plugged back between two polls: both show.
    let device = state.borrow_mut().unplug(0).unwrap();
    state.borrow_mut().plug(0, device);
    let events = bus.poll();
    assert_eq!(events[0], Event::Detached(first));
    let second = attached(&events)[0];
    assert_ne!(first, second);
    assert_eq!(bus.info(second).unwrap().address, 2);
}

#[test]
fn devices_on_two_ports_get_their_own_addresses_and_names() {
    let (mut bus, state) = fake_bus(3);
    state.borrow_mut().plug(0, FakeDevice::usb_net());
    state.borrow_mut().plug(2, FakeDevice::keyboard());
    let ids = attached(&bus.poll());
    let names: Vec<_> = ids.iter().map(|&id| (bus.info(id).unwrap().name.clone(), bus.info(id).unwrap().address)).collect();
    assert_eq!(names, [(String::from("1-1"), 1), (String::from("1-3"), 2)]);
    assert_eq!(bus.info(ids[1]).unwrap().classes(), "HID");
}

#[test]
fn malformed_configuration_fails_enumeration_until_replugged() {
    let (mut bus, state) = fake_bus(1);
    let mut broken = FakeDevice::keyboard();
    broken.configurations[0][27] = 0; // a zero-length endpoint descriptor
    state.borrow_mut().plug(0, broken);
    assert_eq!(bus.poll(), []);
    assert_eq!(state.borrow().released, [1]);
    assert_eq!(bus.poll(), []);
    state.borrow_mut().plug(0, FakeDevice::keyboard());
    assert_eq!(attached(&bus.poll()).len(), 1);
}

#[test]
fn lying_total_length_is_capped_and_refused() {
    let (mut bus, state) = fake_bus(1);
    let mut liar = FakeDevice::keyboard();
    liar.configurations[0][2..4].copy_from_slice(&0xffffu16.to_le_bytes());
    state.borrow_mut().plug(0, liar);
    assert_eq!(bus.poll(), []);
}

#[test]
fn device_without_names_is_still_enumerated() {
    let (mut bus, state) = fake_bus(1);
    let mut nameless = FakeDevice::usb_net();
    nameless.strings.clear();
    state.borrow_mut().plug(0, nameless);
    let id = attached(&bus.poll())[0];
    assert_eq!(bus.info(id).unwrap().product, "");
    assert_eq!(display_name(bus.info(id).unwrap()), "(unnamed, CDC)");
}

/// A test frame of `len` bytes counting up from 0.
pub(crate) fn frame(len: usize) -> Vec<u8> {
    (0..len).map(|i| i as u8).collect()
}
