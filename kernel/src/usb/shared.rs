//! One USB bus, several class drivers: the `UsbBus` behind `Rc<RefCell<…>>`
//! (`SharedBus`), and `DeviceHandle`, a class driver's claim on the one
//! device it drives. A board with a USB Ethernet adapter and an RT5370 dongle
//! runs `ecm::EcmNic` on one and `rt2800_bus::Rt2800Usb` on the other.
//!
//! `Rc<RefCell>` suffices: the kernel is single-threaded and no interrupt
//! handler touches the bus (interrupts only end WFI). A borrow lasts one
//! call on the bus; nothing borrows it twice. A device has at most one
//! driver: `claim` refuses a device another handle holds, until that
//! handle is dropped.
//!
//! Who polls the ports: the board's NIC when it is an ECM adapter (it looks
//! twice a second and on each port-change interrupt), else the radio while
//! its dongle is away (`rt2800_bus::DongleRadio`): one poller, so no
//! driver's events go to another. A driver that does not poll finds a
//! device plugged in since among the `unclaimed` ones. Detaching reaches
//! every driver without events: the poll forgets a device that went away,
//! and every transfer through a handle on a forgotten device fails with
//! `UsbError::NoDevice` (as a transfer to an unplugged device already fails
//! on the controller, before any poll): a dongle's unplugging is seen by
//! its transfers.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use super::bus::{DeviceId, DeviceInfo, Event, UsbBus};
use super::{UsbDevice, UsbError};

struct Shared {
    bus: UsbBus,
    /// Devices a `DeviceHandle` holds.
    claimed: Vec<DeviceId>,
}

/// The bus, shared by the class drivers that each drive one of its devices.
/// Clones name the same bus.
#[derive(Clone)]
pub struct SharedBus(Rc<RefCell<Shared>>);

impl SharedBus {
    /// Shares `bus` (before its first `poll`, or after).
    pub fn new(bus: UsbBus) -> Self {
        Self(Rc::new(RefCell::new(Shared { bus, claimed: Vec::new() })))
    }

    /// Looks at every port (`UsbBus::poll`); the events are for the caller,
    /// the one driver that polls (see the module's doc).
    pub fn poll(&self) -> Vec<Event> {
        self.0.borrow_mut().bus.poll()
    }

    /// The device `id` for one driver: `None` if it is not attached or
    /// another driver holds it.
    pub fn claim(&self, id: DeviceId) -> Option<DeviceHandle> {
        let mut shared = self.0.borrow_mut();
        if shared.claimed.contains(&id) || shared.bus.info(id).is_none() {
            return None;
        }
        shared.claimed.push(id);
        Some(DeviceHandle { bus: self.clone(), id })
    }

    /// The attached devices no driver holds: where a driver that does not
    /// poll finds a device plugged in since (whoever polled saw it attach).
    pub fn unclaimed(&self) -> Vec<DeviceId> {
        let shared = self.0.borrow();
        shared.bus.attached().into_iter().filter(|id| !shared.claimed.contains(id)).collect()
    }

    /// `f` of what enumeration learnt about `id`, while it is attached.
    pub fn with_info<T>(&self, id: DeviceId, f: impl FnOnce(&DeviceInfo) -> T) -> Option<T> {
        self.0.borrow().bus.info(id).map(f)
    }

    /// The controllers' interrupts.
    pub fn irqs(&self) -> Vec<u32> {
        self.0.borrow().bus.irqs()
    }

    /// Clears every controller's interrupt condition.
    pub fn acknowledge_interrupts(&self) {
        self.0.borrow_mut().bus.acknowledge_interrupts();
    }
}

/// One attached device, held by the class driver that drives it. Once the
/// device is gone (and the bus has noticed), every call fails with
/// `UsbError::NoDevice`; dropping the handle lets another driver claim
/// the device.
pub struct DeviceHandle {
    bus: SharedBus,
    id: DeviceId,
}

impl DeviceHandle {
    /// The device's id on the bus, as events name it.
    pub fn id(&self) -> DeviceId {
        self.id
    }

    /// True until the bus has seen the device go.
    pub fn is_attached(&self) -> bool {
        self.with_info(|_| ()).is_some()
    }

    /// `f` of the device's descriptors and names, while it is attached.
    pub fn with_info<T>(&self, f: impl FnOnce(&DeviceInfo) -> T) -> Option<T> {
        self.bus.with_info(self.id, f)
    }

    /// Its log name (`1-1`), empty once it is gone.
    pub fn name(&self) -> alloc::string::String {
        self.with_info(|info| info.name.clone()).unwrap_or_default()
    }

    /// Runs `f` (transfers) on the device; `UsbError::NoDevice` if it is gone.
    pub fn with_device<T>(&self, f: impl FnOnce(&mut UsbDevice<'_>) -> Result<T, UsbError>) -> Result<T, UsbError> {
        let mut shared = self.bus.0.borrow_mut();
        let mut device = shared.bus.device(self.id).ok_or(UsbError::NoDevice)?;
        f(&mut device)
    }
}

impl Drop for DeviceHandle {
    fn drop(&mut self) {
        self.bus.0.borrow_mut().claimed.retain(|&id| id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usb::bus::tests::{attached, fake_bus, FakeDevice};

    #[test]
    fn a_device_has_one_driver_until_its_handle_is_dropped() {
        let (bus, state) = fake_bus(1);
        state.borrow_mut().plug(0, FakeDevice::keyboard());
        let bus = SharedBus::new(bus);
        let id = attached(&bus.poll())[0];
        let handle = bus.claim(id).expect("first claim");
        assert_eq!((handle.id(), handle.name().as_str()), (id, "1-1"));
        assert!(bus.claim(id).is_none(), "a second driver is refused");
        drop(handle);
        assert!(bus.claim(id).is_some());
    }

    #[test]
    fn a_handle_on_a_device_the_bus_forgot_fails_with_no_device() {
        let (bus, state) = fake_bus(2);
        state.borrow_mut().plug(0, FakeDevice::keyboard());
        state.borrow_mut().plug(1, FakeDevice::keyboard());
        let bus = SharedBus::new(bus);
        let ids = attached(&bus.poll());
        let (gone, stays) = (bus.claim(ids[0]).unwrap(), bus.claim(ids[1]).unwrap());
        state.borrow_mut().unplug(0);
        assert_eq!(bus.poll(), [Event::Detached(ids[0])]);
        assert!(!gone.is_attached());
        assert_eq!(gone.name(), "");
        assert_eq!(gone.with_device(|d| d.set_configuration(1)), Err(UsbError::NoDevice));
        assert!(stays.is_attached());
        assert_eq!(stays.with_device(|d| d.set_configuration(1)), Ok(()));
        assert_eq!(state.borrow().ports[1].as_ref().unwrap().configuration, Some(1));
    }

    #[test]
    fn a_device_not_attached_cannot_be_claimed() {
        let (bus, state) = fake_bus(1);
        state.borrow_mut().plug(0, FakeDevice::keyboard());
        let bus = SharedBus::new(bus);
        let id = attached(&bus.poll())[0];
        state.borrow_mut().unplug(0);
        bus.poll();
        assert!(bus.claim(id).is_none());
    }
}
