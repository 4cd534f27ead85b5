//! ECM discovery from captured descriptors, and the NIC over the fake
//! controller of `bus::tests`: frames both ways, unplug and replug.

use super::*;
use crate::usb::bus::tests::{fake_bus, frame, FakeDevice};
use crate::usb::descriptor::tests::*;
use crate::usb::descriptor::Configuration;

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x57];

#[test]
fn usb_net_ecm_function_is_found_in_its_second_configuration() {
    let function = EcmFunction::in_configuration(&Configuration::parse(&USB_NET_ECM_CONFIG).unwrap()).unwrap();
    assert_eq!(
        function,
        EcmFunction { configuration: 1, control_interface: 0, data_interface: 1, data_alternate: 1, bulk_in: 0x82, bulk_out: 0x02, mac_string: 3 }
    );
}

#[test]
fn rndis_keyboard_and_storage_configurations_have_no_ecm_function() {
    for config in [&USB_NET_RNDIS_CONFIG[..], &USB_KBD_CONFIG, &USB_STORAGE_CONFIG] {
        assert_eq!(EcmFunction::in_configuration(&Configuration::parse(config).unwrap()), None);
    }
}

#[test]
fn ecm_control_interface_without_union_is_not_a_function() {
    let mut config = Configuration::parse(&USB_NET_ECM_CONFIG).unwrap();
    config.interfaces[0].class_specific.retain(|d| d[2] != UNION);
    assert_eq!(EcmFunction::in_configuration(&config), None);
}

#[test]
fn mac_string_is_twelve_hex_digits() {
    assert_eq!(parse_mac("525400123457"), Some(MAC));
    assert_eq!(parse_mac("0A0b0C0d0E0f"), Some([0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]));
    for bad in ["", "52540012345", "5254001234577", "52540012345g", "+25400123457", "ééééééé"] {
        assert_eq!(parse_mac(bad), None, "{bad}");
    }
}

#[test]
fn nic_configures_the_adapter_and_moves_frames_both_ways() {
    let (bus, state) = fake_bus(2);
    state.borrow_mut().plug(1, FakeDevice::keyboard());
    state.borrow_mut().plug(0, FakeDevice::usb_net());
    let bus = SharedBus::new(bus);
    let events = bus.poll();
    let mut nic = EcmNic::claim(&bus, &events).unwrap();
    assert_eq!(nic.mac_address(), MAC);
    {
        let state = state.borrow();
        let adapter = state.ports[0].as_ref().unwrap();
        assert_eq!((adapter.configuration, adapter.interfaces.as_slice()), (Some(1), &[(1, 1)][..]));
        // The keyboard beside it is left unconfigured.
        assert_eq!(state.ports[1].as_ref().unwrap().configuration, None);
    }
    let mut buf = [0u8; MAX_FRAME];
    assert!(matches!(nic.receive(&mut buf), Received::Nothing));
    state.borrow_mut().ports[0].as_mut().unwrap().rx.extend([frame(60), Vec::new(), frame(5), frame(1600)]);
    assert!(matches!(nic.receive(&mut buf), Received::Frame(60)));
    assert_eq!(buf[..60], frame(60)[..]);
    assert!(matches!(nic.receive(&mut buf), Received::Nothing), "a zero-length packet is no frame");
    assert!(matches!(nic.receive(&mut buf), Received::Dropped), "a runt");
    assert!(matches!(nic.receive(&mut buf), Received::Dropped), "longer than an Ethernet frame");
    assert!(nic.can_transmit());
    assert!(nic.transmit(&frame(64)));
    assert_eq!(state.borrow().ports[0].as_ref().unwrap().tx, [frame(64)]);
    assert_eq!(nic.interrupt_ids(), [105]);
}

#[test]
fn nic_goes_down_when_unplugged_and_up_when_plugged_back() {
    let (bus, state) = fake_bus(1);
    state.borrow_mut().plug(0, FakeDevice::usb_net());
    let bus = SharedBus::new(bus);
    let events = bus.poll();
    let mut nic = EcmNic::claim(&bus, &events).unwrap();
    let mut now = 1_000_000;
    nic.service(now);
    assert!(nic.is_up());
    let adapter = state.borrow_mut().unplug(0).unwrap();
    // Before the port poll sees it, the transfer error takes the adapter down.
    assert!(!nic.transmit(&frame(60)));
    assert!(!nic.is_up() && !nic.can_transmit());
    assert!(matches!(nic.receive(&mut [0u8; MAX_FRAME]), Received::Nothing));
    now += 1_000;
    nic.service(now);
    state.borrow_mut().plug(0, FakeDevice { tx: Vec::new(), ..adapter });
    // Not looked at before the poll interval unless an interrupt says so.
    now += 1_000;
    nic.service(now);
    assert!(!nic.is_up());
    nic.acknowledge_interrupt();
    nic.service(now);
    assert!(nic.is_up());
    assert!(nic.transmit(&frame(100)));
    assert_eq!(state.borrow().ports[0].as_ref().unwrap().tx, [frame(100)]);
}

#[test]
fn bus_without_an_adapter_gives_no_nic() {
    let (bus, state) = fake_bus(1);
    state.borrow_mut().plug(0, FakeDevice::keyboard());
    let bus = SharedBus::new(bus);
    let events = bus.poll();
    assert!(EcmNic::claim(&bus, &events).is_none());
}

#[test]
fn adapter_stopped_by_a_transfer_error_is_started_again_while_plugged_in() {
    let (bus, state) = fake_bus(1);
    state.borrow_mut().plug(0, FakeDevice::usb_net());
    let bus = SharedBus::new(bus);
    let events = bus.poll();
    let mut nic = EcmNic::claim(&bus, &events).unwrap();
    state.borrow_mut().ports[0].as_mut().unwrap().stall_next_out = true;
    assert!(!nic.transmit(&frame(60)));
    assert!(!nic.is_up());
    nic.service(1_000_000);
    assert!(nic.is_up());
    assert!(nic.transmit(&frame(61)));
    assert_eq!(state.borrow().ports[0].as_ref().unwrap().tx, [frame(61)]);
}
