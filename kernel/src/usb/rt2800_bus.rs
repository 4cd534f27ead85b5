//! The RT5370 dongle on the USB stack: `rt2800::Rt2800Bus` over a device
//! handle of the shared bus, and `start_radio`, which a board calls after
//! the bus's first poll to bring the first such dongle up as its radio.
//!
//! It sits on the USB side because only the USB core knows descriptors,
//! endpoints and `UsbError`: `rt2800` sees nothing but the trait (and is
//! host-tested against its own fake bus), while this file is tested
//! against the fake controller of `bus::tests`, down to the setup packets.

use core::fmt;

use super::bus::Event;
use super::descriptor::{Configuration, TransferType};
use super::shared::{DeviceHandle, SharedBus};
use super::{request, Delimiting, UsbError};
use crate::rt2800::{self, BusError, Rt2800Bus, Rt5370};

/// Why a dongle did not become the radio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DongleError {
    /// Its first configuration has no bulk OUT and bulk IN endpoint pair.
    NoBulkPipes,
    /// Setting its configuration failed.
    Usb(UsbError),
    /// The driver refused the chip or failed to bring it up.
    Driver(rt2800::Error),
}

impl fmt::Display for DongleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DongleError::NoBulkPipes => f.write_str("no bulk IN and OUT endpoints in its first configuration"),
            DongleError::Usb(error) => write!(f, "SET_CONFIGURATION failed ({error:?})"),
            DongleError::Driver(error) => write!(f, "{error}"),
        }
    }
}

/// An RT2800-family dongle's vendor requests and bulk pipes, as the driver
/// asks for them, on the device its handle names.
pub struct Rt2800Usb {
    device: DeviceHandle,
    bulk_out: u8,
    bulk_in: u8,
    /// The kernel's clock in microseconds (`time::micros_since_power_on`),
    /// which `delay_us` spins on.
    clock: fn() -> u64,
}

/// The first bulk OUT and the first bulk IN endpoint of the configuration's
/// default settings (alternate 0), in descriptor order: Linux's rt2x00usb
/// takes the same pair for frames out and in.
fn bulk_pipes(config: &Configuration) -> Option<(u8, u8)> {
    let mut bulk = config.interfaces.iter().filter(|i| i.alternate == 0).flat_map(|i| &i.endpoints).filter(|e| e.transfer == TransferType::Bulk);
    let out = bulk.clone().find(|e| !e.is_in())?.address;
    let input = bulk.find(|e| e.is_in())?.address;
    Some((out, input))
}

impl Rt2800Usb {
    /// Selects the dongle's first configuration and takes its bulk pipes
    /// from its descriptors. `clock` is the kernel's microsecond clock.
    pub fn new(device: DeviceHandle, clock: fn() -> u64) -> Result<Self, DongleError> {
        let found = device.with_info(|info| info.configurations.first().and_then(|c| Some((c.value, bulk_pipes(c)?)))).flatten();
        let (configuration, (bulk_out, bulk_in)) = found.ok_or(DongleError::NoBulkPipes)?;
        device.with_device(|d| d.set_configuration(configuration)).map_err(DongleError::Usb)?;
        Ok(Self { device, bulk_out, bulk_in, clock })
    }

    /// The bulk OUT and bulk IN endpoint addresses in use.
    pub fn pipes(&self) -> (u8, u8) {
        (self.bulk_out, self.bulk_in)
    }
}

/// What a failed USB transfer means to the driver: the device gone, too
/// slow, or refusing (a stall or protocol error, after which the bus is
/// still usable).
fn bus_error(error: UsbError) -> BusError {
    match error {
        // A companion hand-over means this controller no longer reaches it.
        UsbError::NoDevice | UsbError::Companion => BusError::Gone,
        UsbError::Timeout => BusError::Timeout,
        UsbError::Stall | UsbError::Transfer(_) | UsbError::Descriptor(_) | UsbError::NoResources | UsbError::Invalid => BusError::Stall,
    }
}

impl Rt2800Bus for Rt2800Usb {
    fn vendor_out(&mut self, request: u8, value: u16, index: u16, data: &[u8]) -> Result<(), BusError> {
        self.device.with_device(|d| d.control_out(request::OUT_VENDOR_DEVICE, request, value, index, data)).map_err(bus_error)
    }

    fn vendor_in(&mut self, request: u8, value: u16, index: u16, data: &mut [u8]) -> Result<(), BusError> {
        let wanted = data.len();
        let got = self.device.with_device(|d| d.control_in(request::IN_VENDOR_DEVICE, request, value, index, data)).map_err(bus_error)?;
        if got == wanted {
            Ok(())
        } else {
            Err(BusError::Stall)
        }
    }

    fn bulk_out(&mut self, data: &[u8]) -> Result<(), BusError> {
        let endpoint = self.bulk_out;
        self.device.with_device(|d| d.bulk_out(endpoint, data, Delimiting::ShortPacket)).map_err(bus_error)
    }

    fn poll_bulk_in(&mut self, buf: &mut [u8]) -> Option<Result<usize, BusError>> {
        let endpoint = self.bulk_in;
        self.device.with_device(|d| d.bulk_in(endpoint, buf, Delimiting::ShortPacket)).map_err(bus_error).transpose()
    }

    fn delay_us(&mut self, us: u32) {
        let end = (self.clock)().saturating_add(u64::from(us));
        while (self.clock)() < end {
            core::hint::spin_loop();
        }
    }
}

/// Brings up the first RT5370/RT5372 dongle among the devices the bus's
/// first poll found (`rt2800::drives`) with `firmware` (the whole
/// rt2870.bin; `None`: this image has none, said once on the log). A dongle
/// that fails is logged and let go (the next one is tried); `None`: no radio,
/// and the appliance goes on without Wi-Fi.
pub fn start_radio(bus: &SharedBus, events: &[Event], firmware: Option<&[u8]>, clock: fn() -> u64) -> Option<Rt5370<Rt2800Usb>> {
    let is_dongle = |info: &super::bus::DeviceInfo| rt2800::drives(info.device.vendor, info.device.product);
    let dongles = events.iter().filter_map(|event| match *event {
        Event::Attached(id) if bus.with_info(id, is_dongle) == Some(true) => Some(id),
        _ => None,
    });
    for id in dongles {
        let Some(device) = bus.claim(id) else { continue };
        let name = device.name();
        let Some(firmware) = firmware else {
            log::warn!("USB {name}: RT5370 dongle, but this image was built without rt2870.bin (tools/firmware.sh): no Wi-Fi radio");
            return None;
        };
        match bring_up(device, firmware, clock, &name) {
            Ok(radio) => return Some(radio),
            Err(error) => log::warn!("USB {name}: RT5370 bring-up failed: {error}"),
        }
    }
    None
}

fn bring_up(device: DeviceHandle, firmware: &[u8], clock: fn() -> u64, name: &str) -> Result<Rt5370<Rt2800Usb>, DongleError> {
    let bus = Rt2800Usb::new(device, clock)?;
    let (out, input) = bus.pipes();
    log::info!("USB {name}: RT5370 dongle, bulk OUT {out:#04x} IN {input:#04x}");
    Rt5370::new(bus, firmware).map_err(DongleError::Driver)
}

#[cfg(test)]
#[path = "rt2800_bus/tests.rs"]
mod tests;
