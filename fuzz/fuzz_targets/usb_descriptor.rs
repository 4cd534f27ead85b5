//! The USB host's descriptor parsers and enumeration against a hostile
//! device: the input is parsed directly as each descriptor kind, then
//! served, in pieces, as the answers to every control request enumeration
//! makes. Nothing may panic, and an accepted configuration's ECM function,
//! if any, must name endpoints the configuration has.
#![no_main]

use kernel::usb::bus::enumerate;
use kernel::usb::descriptor::{self, Configuration, DeviceDescriptor};
use kernel::usb::ecm::EcmFunction;
use kernel::usb::{Data, Delimiting, HostController, Pipe, PortStatus, Setup, Speed, UsbError};
use libfuzzer_sys::fuzz_target;

/// A device whose every IN answer is the next slice of the fuzzer's bytes
/// (its length byte first), and which stalls when they run out.
struct HostileDevice<'a> {
    input: &'a [u8],
}

impl HostController for HostileDevice<'_> {
    fn port_count(&self) -> usize {
        1
    }
    fn port_status(&mut self, _port: usize) -> PortStatus {
        PortStatus { connected: true, changed: true }
    }
    fn reset_port(&mut self, _port: usize) -> Result<Speed, UsbError> {
        Ok(Speed::Full)
    }
    fn control(&mut self, _pipe: Pipe, _setup: &Setup, data: Data<'_>) -> Result<usize, UsbError> {
        let Data::In(buf) = data else { return Ok(0) };
        let (&len, rest) = self.input.split_first().ok_or(UsbError::Stall)?;
        let (answer, rest) = rest.split_at(usize::from(len).min(rest.len()).min(buf.len()));
        self.input = rest;
        buf[..answer.len()].copy_from_slice(answer);
        Ok(answer.len())
    }
    fn bulk_out(&mut self, _pipe: Pipe, _data: &[u8], _delimiting: Delimiting) -> Result<(), UsbError> {
        Err(UsbError::Stall)
    }
    fn bulk_in(&mut self, _pipe: Pipe, _buf: &mut [u8], _delimiting: Delimiting) -> Result<Option<usize>, UsbError> {
        Err(UsbError::Stall)
    }
    fn release(&mut self, _device: u8) {}
    fn delay_ms(&mut self, _ms: u32) {}
    fn irq(&self) -> Option<u32> {
        None
    }
    fn acknowledge_interrupt(&mut self) {}
}

fuzz_target!(|input: &[u8]| {
    let _ = DeviceDescriptor::parse(input);
    let _ = DeviceDescriptor::max_packet0_from_prefix(input);
    let _ = descriptor::parse_string(input);
    let _ = descriptor::first_language(input);
    if let Ok(config) = Configuration::parse(input) {
        check_ecm(&config);
    }
    if let Ok(info) = enumerate(&mut HostileDevice { input }, 0, 1, String::from("1-1")) {
        assert!(info.configurations.len() <= 4);
        info.configurations.iter().for_each(check_ecm);
        let _ = info.classes();
    }
});

fn check_ecm(config: &Configuration) {
    if let Some(function) = EcmFunction::in_configuration(config) {
        let endpoints: Vec<u8> = config.interfaces.iter().flat_map(|i| &i.endpoints).map(|e| e.address).collect();
        assert!(endpoints.contains(&function.bulk_in) && endpoints.contains(&function.bulk_out));
        assert!(function.bulk_in & 0x80 != 0 && function.bulk_out & 0x80 == 0);
    }
}
