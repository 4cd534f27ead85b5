//! `Rt2800Usb` against the fake controller of `bus::tests`: the setup
//! packets it sends, the pipes it picks, its errors, a dongle vanishing; the
//! driver brought up through it on the `rt2800` fake chip; and an ECM
//! adapter beside the dongle on one shared bus.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::net::device::{NetDevice, Received};
use crate::net::radio::Radio;
use crate::rt2800::bus::{mode, request as rt};
use crate::rt2800::device::MAX_IN_FLIGHT;
use crate::rt2800::tests::{firmware, FakeBus, FakeDongle};
use crate::usb::bus::tests::{attached, fake_bus, frame, FakeDevice, FakeState};
use crate::usb::bus::DeviceId;
use crate::usb::ecm::EcmNic;

/// bmAttributes of a bulk and an interrupt endpoint.
const BULK: u8 = 2;
const INTERRUPT: u8 = 3;

/// Endpoints as lsusb lists them for a 148f:5370 (one bulk IN, six bulk
/// OUT); written from such listings, not captured from a dongle here.
const RT5370_ENDPOINTS: [(u8, u8); 7] = [(0x81, BULK), (0x01, BULK), (0x02, BULK), (0x03, BULK), (0x04, BULK), (0x05, BULK), (0x06, BULK)];

fn rt5370() -> FakeDevice {
    FakeDevice::vendor(0x148f, 0x5370, &RT5370_ENDPOINTS)
}

/// A clock that moves 1 µs each time it is read.
fn ticking_clock() -> u64 {
    static NOW: AtomicU64 = AtomicU64::new(0);
    NOW.fetch_add(1, Ordering::Relaxed)
}

/// A shared bus with `device` on port 1 of 2, enumerated; its id.
fn bus_with(device: FakeDevice) -> (SharedBus, Rc<RefCell<FakeState>>, DeviceId) {
    let (bus, state) = fake_bus(2);
    state.borrow_mut().plug(0, device);
    let bus = SharedBus::new(bus);
    let id = attached(&bus.poll())[0];
    (bus, state, id)
}

fn dongle_on(bus: &SharedBus, id: DeviceId) -> Rt2800Usb {
    Rt2800Usb::new(bus.claim(id).unwrap(), ticking_clock).unwrap()
}

fn port0<T>(state: &Rc<RefCell<FakeState>>, f: impl FnOnce(&mut FakeDevice) -> T) -> T {
    f(state.borrow_mut().ports[0].as_mut().unwrap())
}

#[test]
fn vendor_out_is_a_vendor_device_request_with_its_data_stage() {
    let (bus, state, id) = bus_with(rt5370());
    let mut usb = dongle_on(&bus, id);
    usb.vendor_out(rt::MULTI_WRITE, 0, 0x1004, &[0x11, 0x22, 0x33, 0x44]).unwrap();
    usb.vendor_out(rt::DEVICE_MODE, mode::RESET, 0, &[]).unwrap();
    let setups = port0(&state, |d| d.vendor_setups.clone());
    assert_eq!(
        setups,
        [
            ([0x40, 0x06, 0x00, 0x00, 0x04, 0x10, 0x04, 0x00], alloc::vec![0x11, 0x22, 0x33, 0x44]),
            ([0x40, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00], Vec::new()),
        ]
    );
}

#[test]
fn vendor_in_needs_the_whole_length_and_a_short_answer_is_a_stall() {
    let (bus, state, id) = bus_with(rt5370());
    let mut usb = dongle_on(&bus, id);
    port0(&state, |d| d.vendor_answers.extend([alloc::vec![0x02, 0x05, 0x90, 0x53], alloc::vec![0xaa, 0xbb]]));
    let mut word = [0u8; 4];
    usb.vendor_in(rt::MULTI_READ, 0, 0x1000, &mut word).unwrap();
    assert_eq!(word, [0x02, 0x05, 0x90, 0x53]);
    let mut eeprom = [0u8; 16];
    assert_eq!(usb.vendor_in(rt::EEPROM_READ, 0, 0x0020, &mut eeprom), Err(BusError::Stall));
    let setups: Vec<[u8; 8]> = port0(&state, |d| d.vendor_setups.iter().map(|(s, _)| *s).collect());
    assert_eq!(setups, [[0xc0, 0x07, 0x00, 0x00, 0x00, 0x10, 0x04, 0x00], [0xc0, 0x09, 0x00, 0x00, 0x20, 0x00, 0x10, 0x00]]);
}

#[test]
fn the_dongle_is_configured_and_its_bulk_pipes_are_the_first_of_each_direction() {
    let (bus, state, id) = bus_with(rt5370());
    let mut usb = dongle_on(&bus, id);
    assert_eq!(usb.pipes(), (0x01, 0x81));
    assert_eq!(port0(&state, |d| d.configuration), Some(1));
    port0(&state, |d| d.rx.push_back(alloc::vec![7; 24]));
    assert!(usb.bulk_out(&[1, 2, 3]).is_ok());
    let mut buf = [0u8; 64];
    assert_eq!(usb.poll_bulk_in(&mut buf), Some(Ok(24)));
    assert_eq!(usb.poll_bulk_in(&mut buf), None, "nothing more arrived: no wait, no error");
    assert_eq!(port0(&state, |d| (d.tx.clone(), d.bulk_endpoints.clone())), (alloc::vec![alloc::vec![1, 2, 3]], alloc::vec![0x01, 0x81, 0x81]));
}

#[test]
fn bulk_pipes_follow_the_descriptors_not_the_usual_addresses() {
    let endpoints = [(0x83, INTERRUPT), (0x04, BULK), (0x82, BULK), (0x05, BULK), (0x81, BULK)];
    let (bus, state, id) = bus_with(FakeDevice::vendor(0x148f, 0x5370, &endpoints));
    let mut usb = dongle_on(&bus, id);
    assert_eq!(usb.pipes(), (0x04, 0x82));
    usb.bulk_out(&[0; 8]).unwrap();
    usb.poll_bulk_in(&mut [0u8; 64]);
    assert_eq!(port0(&state, |d| d.bulk_endpoints.clone()), [0x04, 0x82]);
}

#[test]
fn a_device_without_a_bulk_pair_is_refused() {
    let (bus, _state, id) = bus_with(FakeDevice::vendor(0x148f, 0x5370, &[(0x81, BULK), (0x82, INTERRUPT)]));
    assert_eq!(Rt2800Usb::new(bus.claim(id).unwrap(), ticking_clock).err(), Some(DongleError::NoBulkPipes));
    assert!(bus.claim(id).is_some(), "a refused dongle is let go");
}

#[test]
fn usb_errors_become_the_drivers_bus_errors() {
    let (bus, state, id) = bus_with(rt5370());
    let mut usb = dongle_on(&bus, id);
    let cases = [
        (UsbError::NoDevice, BusError::Gone),
        (UsbError::Timeout, BusError::Timeout),
        (UsbError::Stall, BusError::Stall),
        (UsbError::Transfer(3), BusError::Stall),
        (UsbError::Invalid, BusError::Stall),
    ];
    for (usb_error, bus_error) in cases {
        port0(&state, |d| d.fail_next = Some(usb_error));
        assert_eq!(usb.vendor_out(rt::MULTI_WRITE, 0, 0x1004, &[0; 4]), Err(bus_error), "{usb_error:?} on vendor_out");
        port0(&state, |d| d.fail_next = Some(usb_error));
        assert_eq!(usb.vendor_in(rt::MULTI_READ, 0, 0x1000, &mut [0; 4]), Err(bus_error), "{usb_error:?} on vendor_in");
        port0(&state, |d| d.fail_next = Some(usb_error));
        assert_eq!(usb.bulk_out(&[0; 4]), Err(bus_error), "{usb_error:?} on bulk_out");
        port0(&state, |d| d.fail_next = Some(usb_error));
        assert_eq!(usb.poll_bulk_in(&mut [0; 64]), Some(Err(bus_error)), "{usb_error:?} on poll_bulk_in");
    }
    // The bus stays usable after a stall.
    assert_eq!(usb.vendor_out(rt::MULTI_WRITE, 0, 0x1004, &[0; 4]), Ok(()));
}

#[test]
fn every_call_is_gone_once_the_dongle_is_unplugged() {
    let (bus, state, id) = bus_with(rt5370());
    let mut usb = dongle_on(&bus, id);
    state.borrow_mut().unplug(0);
    // Before any port poll, the controller finds nobody at the address.
    assert_eq!(usb.bulk_out(&[0; 4]), Err(BusError::Gone));
    assert_eq!(bus.poll(), [Event::Detached(id)]);
    assert_eq!(usb.vendor_out(rt::MULTI_WRITE, 0, 0x1004, &[0; 4]), Err(BusError::Gone));
    assert_eq!(usb.vendor_in(rt::MULTI_READ, 0, 0x1000, &mut [0; 4]), Err(BusError::Gone));
    assert_eq!(usb.bulk_out(&[0; 4]), Err(BusError::Gone));
    assert_eq!(usb.poll_bulk_in(&mut [0; 64]), Some(Err(BusError::Gone)));
    // Plugged back, it is a new device: the old handle does not reach it.
    state.borrow_mut().plug(0, rt5370());
    assert_eq!(attached(&bus.poll()).len(), 1);
    assert_eq!(usb.vendor_out(rt::MULTI_WRITE, 0, 0x1004, &[0; 4]), Err(BusError::Gone));
}

#[test]
fn delay_us_spins_on_the_clock_for_at_least_the_time_asked() {
    let (bus, _state, id) = bus_with(rt5370());
    let mut usb = dongle_on(&bus, id);
    let before = ticking_clock();
    usb.delay_us(250);
    assert!(ticking_clock() - before >= 250);
}

/// An RT5370 whose vendor requests and bulk pipes reach `rt2800`'s fake chip.
fn rt5370_with_chip() -> FakeDevice {
    rt5370_with(FakeDongle::rt5370())
}

fn rt5370_with(dongle: FakeDongle) -> FakeDevice {
    let chip: Rc<RefCell<dyn crate::rt2800::Rt2800Bus>> = Rc::new(RefCell::new(FakeBus::new(dongle)));
    FakeDevice { chip: Some(chip), ..rt5370() }
}

/// A shared bus of two ports holding `devices`, and the events of its first poll.
fn first_poll(devices: Vec<(usize, FakeDevice)>) -> (SharedBus, Rc<RefCell<FakeState>>, Vec<Event>) {
    let (bus, state) = fake_bus(2);
    for (port, device) in devices {
        state.borrow_mut().plug(port, device);
    }
    let bus = SharedBus::new(bus);
    let events = bus.poll();
    (bus, state, events)
}

fn port<T>(state: &Rc<RefCell<FakeState>>, n: usize, f: impl FnOnce(&mut FakeDevice) -> T) -> T {
    f(state.borrow_mut().ports[n].as_mut().unwrap())
}

/// A unicast data frame from the access point to a station.
fn data_frame() -> Vec<u8> {
    let mut frame = alloc::vec![0x08, 0x02, 0x00, 0x00];
    frame.extend([0x02, 0, 0, 0, 0, 1, 0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41, 0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41, 0x10, 0x00]);
    frame.extend([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45, 0, 0, 20]);
    frame
}

const EEPROM_MAC: [u8; 6] = [0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41];

#[test]
fn start_radio_brings_the_driver_up_through_usb_setup_packets() {
    let (bus, state, events) = first_poll(alloc::vec![(0, rt5370_with_chip())]);
    let file = firmware();
    let mut radio = start_radio(&bus, &events, Some(&file), ticking_clock).expect("radio up");
    assert_eq!(radio.mac_address(), EEPROM_MAC);
    let setups = port0(&state, |d| d.vendor_setups.clone());
    // The chip id (MAC_CSR0) is read first: a 4-byte vendor IN at 0x1000.
    assert_eq!(setups[0].0, [0xc0, 0x07, 0x00, 0x00, 0x00, 0x10, 0x04, 0x00]);
    // The firmware image went to 0x3000 in 64-byte MULTI_WRITEs.
    let image: Vec<u8> = setups.iter().filter(|(s, _)| s[..2] == [0x40, 0x06] && (0x3000..0x4000).contains(&u16::from_le_bytes([s[4], s[5]]))).flat_map(|(_, d)| d.clone()).collect();
    assert_eq!(image, file[4096..]);
    assert!(radio.transmit(&data_frame(), Some(7), 0));
    assert_eq!(port0(&state, |d| d.bulk_endpoints.clone()), [0x01]);
}

#[test]
fn without_firmware_the_dongle_is_left_alone() {
    let (bus, state, events) = first_poll(alloc::vec![(0, rt5370_with_chip())]);
    assert!(start_radio(&bus, &events, None, ticking_clock).is_none());
    assert_eq!(port0(&state, |d| (d.configuration, d.vendor_setups.len())), (None, 0));
    assert!(bus.claim(attached(&events)[0]).is_some());
}

#[test]
fn a_dongle_that_fails_bring_up_is_let_go_and_the_next_one_is_tried() {
    // The first answers no vendor request (STALL): not a chip the driver knows.
    let (bus, state, events) = first_poll(alloc::vec![(0, rt5370()), (1, rt5370_with_chip())]);
    let file = firmware();
    let radio = start_radio(&bus, &events, Some(&file), ticking_clock).expect("the second dongle");
    assert_eq!(radio.mac_address(), EEPROM_MAC);
    assert_eq!(port(&state, 0, |d| d.vendor_setups.len()), 1, "one refused chip-id read");
    assert!(bus.claim(attached(&events)[0]).is_some(), "the failed dongle is nobody's");
    assert!(bus.claim(attached(&events)[1]).is_none(), "the radio holds the second");
}

#[test]
fn other_devices_are_not_touched() {
    let (bus, state, events) = first_poll(alloc::vec![(0, FakeDevice::usb_net()), (1, FakeDevice::keyboard())]);
    assert!(start_radio(&bus, &events, Some(&firmware()), ticking_clock).is_none());
    for n in 0..2 {
        assert_eq!(port(&state, n, |d| (d.configuration, d.vendor_setups.len())), (None, 0));
    }
}

#[test]
fn an_ecm_adapter_and_a_dongle_share_the_bus_and_outlive_each_other() {
    let (bus, state, events) = first_poll(alloc::vec![(0, FakeDevice::usb_net()), (1, rt5370_with_chip())]);
    let file = firmware();
    let mut radio = start_radio(&bus, &events, Some(&file), ticking_clock).expect("radio up");
    let mut nic = EcmNic::claim(&bus, &events).expect("ECM adapter");
    assert_eq!(nic.mac_address(), [0x52, 0x54, 0x00, 0x12, 0x34, 0x57]);
    // Each driver reached only its own device.
    assert_eq!(port(&state, 0, |d| (d.configuration, d.vendor_setups.len())), (Some(1), 0));
    assert_eq!(port(&state, 1, |d| d.configuration), Some(1));
    assert!(nic.transmit(&frame(64)));
    assert!(radio.transmit(&data_frame(), Some(1), 0));
    assert_eq!(port(&state, 0, |d| (d.tx.clone(), d.bulk_endpoints.clone())), (alloc::vec![frame(64)], alloc::vec![0x02]));
    assert_eq!(port(&state, 1, |d| d.bulk_endpoints.clone()), [0x01]);
    // The dongle pulled out: the NIC's port poll forgets it, the radio stops, the NIC goes on.
    state.borrow_mut().unplug(1);
    nic.service(1_000_000);
    assert!(!radio.transmit(&data_frame(), Some(2), 1));
    assert!(radio.is_gone());
    assert!(matches!(radio.receive(&mut [0u8; 2400]), Received::Nothing));
    assert!(nic.transmit(&frame(65)));
    assert_eq!(port(&state, 0, |d| d.tx.len()), 2);
}

#[test]
fn the_radio_goes_on_when_the_ecm_adapter_is_pulled_out() {
    let (bus, state, events) = first_poll(alloc::vec![(0, FakeDevice::usb_net()), (1, rt5370_with_chip())]);
    let file = firmware();
    let mut radio = start_radio(&bus, &events, Some(&file), ticking_clock).expect("radio up");
    let mut nic = EcmNic::claim(&bus, &events).expect("ECM adapter");
    state.borrow_mut().unplug(0);
    nic.service(1_000_000);
    assert!(!nic.is_up());
    assert!(radio.transmit(&data_frame(), Some(1), 0));
    assert!(!radio.is_gone());
    assert_eq!(port(&state, 1, |d| d.bulk_endpoints.clone()), [0x01]);
}

/// The access point's radio on the dongle of port 1 (an ECM adapter on
/// port 0 when `with_ecm`), as `sunxi::usb_devices` makes it.
fn dongle_radio(with_ecm: bool) -> (SharedBus, Rc<RefCell<FakeState>>, DongleRadio, Option<EcmNic>) {
    let mut devices = alloc::vec![(1, rt5370_with_chip())];
    if with_ecm {
        devices.push((0, FakeDevice::usb_net()));
    }
    let (bus, state, events) = first_poll(devices);
    let file: &'static [u8] = alloc::boxed::Box::leak(firmware().into_boxed_slice());
    let radio = start_radio(&bus, &events, Some(file), ticking_clock).expect("radio up");
    let nic = EcmNic::claim(&bus, &events);
    let radio = DongleRadio::new(bus.clone(), radio, file, ticking_clock, nic.is_none());
    (bus, state, radio, nic)
}

/// Pulls the dongle out and lets the radio see it gone (a transmit fails,
/// the statuses of what it held are handed on); the dongle's setup packets.
fn pull_out(state: &Rc<RefCell<FakeState>>, radio: &mut DongleRadio, now_us: u64) -> usize {
    let dongle = state.borrow_mut().unplug(1).expect("a dongle on port 2");
    assert!(!radio.transmit(&data_frame(), Some(9), now_us));
    let statuses = (0..=MAX_IN_FLIGHT).take_while(|_| radio.tx_status(now_us).is_some()).count();
    assert!(statuses <= MAX_IN_FLIGHT);
    assert!(!radio.is_up());
    dongle.vendor_setups.len()
}

#[test]
fn the_dongle_plugged_back_in_is_taken_up_again_on_its_channel() {
    let (_bus, state, mut radio, _) = dongle_radio(false);
    assert!(radio.transmit(&data_frame(), Some(1), 0));
    let boot_setups = pull_out(&state, &mut radio, 10);
    assert_eq!(radio.deadline(), Some(10 + LOOK_FOR_DONGLE_US), "it asks to be woken to look again");
    radio.set_frequency(2437);
    state.borrow_mut().plug(1, rt5370_with_chip());
    assert_eq!(radio.tx_status(20), None, "not looked at before the half second");
    assert!(!radio.is_up());
    assert_eq!(radio.tx_status(10 + LOOK_FOR_DONGLE_US), None);
    assert!(radio.is_up(), "the radio polled the bus itself (no ECM adapter) and brought the dongle up");
    assert_eq!(radio.mac_address(), EEPROM_MAC);
    // The same bring-up as at boot, then the channel asked while it was away.
    assert!(port(&state, 1, |d| d.vendor_setups.len()) > boot_setups, "{boot_setups} setup packets at boot");
    assert!(radio.transmit(&data_frame(), Some(2), 0));
    assert_eq!(port(&state, 1, |d| d.bulk_endpoints.clone()), [0x01]);
}

#[test]
fn another_dongle_is_left_alone_and_not_tried_again_while_it_stays() {
    let (bus, state, mut radio, _) = dongle_radio(false);
    pull_out(&state, &mut radio, 0);
    state.borrow_mut().plug(1, rt5370_with(FakeDongle::rt5370().with_mac([0x02, 0, 0, 0, 0, 0x99])));
    radio.tx_status(LOOK_FOR_DONGLE_US);
    assert!(!radio.is_up(), "its MAC address is not the access point's BSSID");
    let tried = port(&state, 1, |d| d.vendor_setups.len());
    assert!(tried > 0);
    radio.tx_status(3 * LOOK_FOR_DONGLE_US);
    assert_eq!(port(&state, 1, |d| d.vendor_setups.len()), tried, "passed over while it stays plugged in");
    assert_eq!(bus.unclaimed().len(), 1, "and let go");
    // The right one plugged in instead is taken.
    state.borrow_mut().unplug(1);
    state.borrow_mut().plug(1, rt5370_with_chip());
    radio.tx_status(5 * LOOK_FOR_DONGLE_US);
    assert!(radio.is_up());
}

#[test]
fn beside_an_ecm_adapter_the_radio_does_not_poll_and_finds_the_dongle_after_the_adapters_poll() {
    let (_bus, state, mut radio, nic) = dongle_radio(true);
    let mut nic = nic.expect("ECM adapter");
    pull_out(&state, &mut radio, 0);
    state.borrow_mut().plug(1, rt5370_with_chip());
    radio.tx_status(LOOK_FOR_DONGLE_US);
    assert!(!radio.is_up(), "the ECM adapter is the bus's poller: nothing new yet");
    nic.service(10_000_000);
    radio.tx_status(2 * LOOK_FOR_DONGLE_US);
    assert!(radio.is_up());
    assert!(nic.transmit(&frame(64)), "the adapter went on throughout");
}
