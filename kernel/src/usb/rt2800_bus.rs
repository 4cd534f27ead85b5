//! The RT5370 dongle on the USB stack: `rt2800::Rt2800Bus` over a device
//! handle of the shared bus; `start_radio`, which a board calls after the
//! bus's first poll to bring the first such dongle up as its radio; and
//! `DongleRadio`, that radio as the access point keeps it: a dongle pulled
//! out and plugged back in is taken up again.
//!
//! It sits on the USB side because only the USB core knows descriptors,
//! endpoints and `UsbError`: `rt2800` sees nothing but the trait (and is
//! host-tested against its own fake bus), while this file is tested
//! against the fake controller of `bus::tests`, down to the setup packets.

use alloc::vec::Vec;
use core::fmt;

use super::bus::{DeviceId, DeviceInfo, Event};
use super::descriptor::{Configuration, TransferType};
use super::shared::{DeviceHandle, SharedBus};
use super::{request, Delimiting, UsbError};
use crate::net::device::{MacDisplay, Received};
use crate::net::radio::{Radio, RadioCapabilities};
use crate::rt2800::{self, BusError, Rt2800Bus, Rt5370};

/// How often a radio whose dongle is away looks for it on the bus.
const LOOK_FOR_DONGLE_US: u64 = 500_000;

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
/// first poll found (`is_dongle`) with `firmware` (the whole rt2870.bin;
/// `None`: this image has none, said once on the log). A dongle that fails
/// is logged and let go (the next one is tried); `None`: no radio, and the
/// appliance goes on without Wi-Fi.
pub fn start_radio(bus: &SharedBus, events: &[Event], firmware: Option<&[u8]>, clock: fn() -> u64) -> Option<Rt5370<Rt2800Usb>> {
    let dongles = events.iter().filter_map(|event| match *event {
        Event::Attached(id) if bus.with_info(id, is_dongle) == Some(true) => Some(id),
        _ => None,
    });
    for id in dongles {
        let Some(device) = bus.claim(id) else { continue };
        let Some(firmware) = firmware else {
            log::warn!("USB {}: RT5370 dongle, but this image was built without rt2870.bin (tools/firmware.sh): no Wi-Fi radio", device.name());
            return None;
        };
        if let Some(radio) = bring_up(device, firmware, clock) {
            return Some(radio);
        }
    }
    None
}

/// True for a device the `rt2800` driver drives, by its USB ids.
pub fn is_dongle(info: &DeviceInfo) -> bool {
    rt2800::drives(info.device.vendor, info.device.product)
}

/// The driver up on `device`; a failure is logged (and the device let go).
fn bring_up(device: DeviceHandle, firmware: &[u8], clock: fn() -> u64) -> Option<Rt5370<Rt2800Usb>> {
    let name = device.name();
    let radio = Rt2800Usb::new(device, clock).and_then(|bus| {
        let (out, input) = bus.pipes();
        log::info!("USB {name}: RT5370 dongle, bulk OUT {out:#04x} IN {input:#04x}");
        Rt5370::new(bus, firmware).map_err(DongleError::Driver)
    });
    radio.map_err(|error| log::warn!("USB {name}: RT5370 bring-up failed: {error}")).ok()
}

/// The access point's radio on a USB dongle that may go away: while it is
/// plugged in, the dongle's `Rt5370`; once it is gone (its transfers fail
/// with `BusError::Gone`), every half second a look at the bus for an RT5370
/// no driver holds, brought up (the network pauses for its firmware load)
/// and tuned to the channel. Only the dongle with the access point's BSSID
/// (its MAC address) is taken: the stations and the beacons name that
/// address. Another is logged and left alone until it is plugged in again.
pub struct DongleRadio {
    bus: SharedBus,
    firmware: &'static [u8],
    clock: fn() -> u64,
    /// The radio polls the bus itself: no other driver does (see `shared`).
    polls_bus: bool,
    bssid: [u8; 6],
    capabilities: RadioCapabilities,
    frequency: Option<u16>,
    /// The dongle, until it is gone and its frames' statuses are handed on.
    radio: Option<Rt5370<Rt2800Usb>>,
    next_look_us: u64,
    /// Dongles looked at and not taken, while they stay plugged in.
    passed_over: Vec<DeviceId>,
}

impl DongleRadio {
    /// Keeps `radio` (from `start_radio` on `bus`) as the access point's.
    /// `polls_bus`: no other driver polls the bus after boot.
    pub fn new(bus: SharedBus, radio: Rt5370<Rt2800Usb>, firmware: &'static [u8], clock: fn() -> u64, polls_bus: bool) -> Self {
        let (bssid, capabilities) = (radio.mac_address(), radio.capabilities());
        Self { bus, firmware, clock, polls_bus, bssid, capabilities, frequency: None, radio: Some(radio), next_look_us: 0, passed_over: Vec::new() }
    }

    /// True while a dongle is plugged in and working.
    pub fn is_up(&self) -> bool {
        self.radio.as_ref().is_some_and(|radio| !radio.is_gone())
    }

    fn look_for_dongle(&mut self, now_us: u64) {
        if self.radio.is_some() || now_us < self.next_look_us {
            return;
        }
        self.next_look_us = now_us.saturating_add(LOOK_FOR_DONGLE_US);
        if self.polls_bus {
            self.bus.poll();
        }
        let unclaimed = self.bus.unclaimed();
        self.passed_over.retain(|id| unclaimed.contains(id));
        for id in unclaimed {
            if self.passed_over.contains(&id) || self.bus.with_info(id, is_dongle) != Some(true) {
                continue;
            }
            self.passed_over.push(id);
            let Some(device) = self.bus.claim(id) else { continue };
            let name = device.name();
            match bring_up(device, self.firmware, self.clock) {
                Some(mut radio) if radio.mac_address() == self.bssid => {
                    log::info!("USB {name}: the access point's dongle is back: on the air again");
                    if let Some(mhz) = self.frequency {
                        radio.set_frequency(mhz);
                    }
                    self.radio = Some(radio);
                    return;
                }
                Some(_) => log::warn!("USB {name}: another RT5370 dongle; the access point is {}'s: plug that one back in, or restart", MacDisplay(self.bssid)),
                None => {}
            }
        }
    }
}

impl Radio for DongleRadio {
    fn mac_address(&self) -> [u8; 6] {
        self.bssid
    }

    fn capabilities(&self) -> RadioCapabilities {
        self.capabilities
    }

    fn set_frequency(&mut self, mhz: u16) {
        self.frequency = Some(mhz);
        if let Some(radio) = &mut self.radio {
            radio.set_frequency(mhz);
        }
    }

    fn receive(&mut self, frame: &mut [u8]) -> Received {
        match &mut self.radio {
            Some(radio) => radio.receive(frame),
            None => Received::Nothing,
        }
    }

    fn transmit(&mut self, frame: &[u8], ack_token: Option<u32>, now_us: u64) -> bool {
        self.radio.as_mut().is_some_and(|radio| radio.transmit(frame, ack_token, now_us))
    }

    fn tx_status(&mut self, now_us: u64) -> Option<(u32, bool)> {
        if let Some(radio) = &mut self.radio {
            let status = radio.tx_status(now_us);
            if status.is_some() || !radio.is_gone() {
                return status;
            }
            // Gone, and every frame it held reported: the handle is let go.
            self.radio = None;
        }
        self.look_for_dongle(now_us);
        None
    }

    fn deadline(&self) -> Option<u64> {
        match &self.radio {
            Some(radio) => radio.deadline(),
            None => Some(self.next_look_us),
        }
    }

    fn interrupt_id(&self) -> Option<u32> {
        None
    }

    fn acknowledge_interrupt(&mut self) {}
}

#[cfg(test)]
#[path = "rt2800_bus/tests.rs"]
mod tests;
