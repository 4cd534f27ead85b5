//! The network: smoltcp on the board's NIC, the executor that runs the
//! connection tasks, and the loop that sleeps until there is work.
//!
//! This layer knows frames, sockets and time, not HTTP or TLS: the services
//! spawn their connection tasks on the `Executor` over the `Shared` slots,
//! and hand their datagram services to `Network::run`, which polls the stack,
//! answers datagrams, runs the tasks and sleeps through the `Sleeper`.

#![deny(unsafe_code)]

pub mod bridge;
pub mod datagram;
pub mod device;
pub mod executor;
pub mod radio;
pub mod syn_gate;
pub mod tcp;

use core::net::Ipv4Addr;

use smoltcp::iface::{Config as IfaceConfig, Interface, PollResult, SocketHandle};
use smoltcp::socket::udp;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr};

use self::datagram::{DatagramService, DATAGRAM_BYTES};
use self::device::{NetDevice, NicCounters, SmoltcpDevice};
use self::executor::Executor;
use self::tcp::Shared;

/// What the idle loop needs from the platform: sleeping until a deadline or
/// an interrupt, and acknowledging what woke it.
pub trait Sleeper<D: NetDevice> {
    /// Sleeps until `deadline_us` (µs since power-on) or an interrupt.
    fn sleep(&mut self, deadline_us: Option<u64>, nic: &mut D);
}

/// The interface and its device.
pub struct Network<'c, D: NetDevice> {
    iface: Interface,
    device: SmoltcpDevice<'c, D>,
}

impl<'c, D: NetDevice> Network<'c, D> {
    /// Brings the interface up with the appliance's address; frames are
    /// counted in `counters`.
    pub fn new(driver: D, counters: &'c NicCounters, address: Ipv4Addr, prefix_len: u8, random_seed: u64, now_us: u64) -> Self {
        let mut device = SmoltcpDevice::new(driver, counters);
        let mac = EthernetAddress(device.driver.mac_address());
        let mut config = IfaceConfig::new(HardwareAddress::Ethernet(mac));
        config.random_seed = random_seed;
        let mut iface = Interface::new(config, &mut device, instant(now_us));
        iface.update_ip_addrs(|addrs| {
            let _ = addrs.push(IpCidr::new(address.into(), prefix_len));
        });
        Self { iface, device }
    }

    /// The NIC's MAC address.
    pub fn mac_address(&self) -> [u8; 6] {
        self.device.driver.mac_address()
    }

    /// Runs the network forever: the tasks already spawned on `executor`
    /// over `shared`'s slots, and `datagram_services` on their UDP ports.
    /// `on_listening` runs once, after the first pass has put every slot's
    /// socket in the listening state; `idle_work` whenever nothing else is to
    /// do, before sleeping (true: it did some, look at the network again).
    pub fn run(
        mut self,
        shared: &Shared<'_, '_>,
        mut executor: Executor<'_>,
        datagram_services: &[&dyn DatagramService],
        sleeper: &mut impl Sleeper<D>,
        mut idle_work: impl FnMut() -> bool,
        on_listening: impl FnOnce(),
    ) -> ! {
        let udp_handles: alloc::vec::Vec<SocketHandle> = {
            let mut sockets = shared.sockets.borrow_mut();
            datagram_services.iter().map(|service| sockets.add(datagram::udp_socket(service.port()))).collect()
        };
        self.device.datagram_gate.open(self.iface.ipv4_addr(), datagram_services.iter().map(|service| service.port()));
        let mut buffers = alloc::boxed::Box::new([0u8; 2 * DATAGRAM_BYTES]);
        let now_us = shared.now_us;
        executor.run_pass();
        on_listening();
        // Slot states change only when the stack polls a change in, a task
        // runs or a deadline passes: the per-slot scans wait for one of those.
        let mut slots_dirty = true;
        loop {
            let device_deadline = self.device.driver.service(now_us());
            if slots_dirty {
                shared.count_listeners(&mut self.device.syn_gate);
            }
            self.device.datagram_gate.refill();
            let now = instant(now_us());
            let changed = {
                let mut sockets = shared.sockets.borrow_mut();
                self.iface.poll(now, &mut self.device, &mut sockets) == PollResult::SocketStateChanged
            };
            // The sockets that changed woke their own tasks (smoltcp's wakers);
            // a deadline that passed wakes every task.
            let due = shared.deadlines.earliest().is_some_and(|deadline| now_us() >= deadline);
            if due {
                executor.wake_all();
            }
            // Every queue is drained each pass, so the gate's next pass starts with room.
            {
                let mut sockets = shared.sockets.borrow_mut();
                for (service, &handle) in datagram_services.iter().zip(&udp_handles) {
                    let socket = sockets.get_mut::<udp::Socket>(handle);
                    datagram::answer_all(socket, *service, &mut buffers, now_us(), self.device.counters);
                    service.queue_full().add(self.device.datagram_gate.take_dropped(service.port()));
                }
            }
            let again = executor.run_pass();
            slots_dirty = changed || due || executor.polled_any();
            if again {
                continue;
            }
            if slots_dirty {
                shared.keep_one_listening();
            }
            if shared.any_evicting() {
                executor.wake_all();
                continue;
            }
            // Idle: one piece of the services' work made ahead (a TLS secret, a
            // few ms at most), then the network again.
            if idle_work() {
                continue;
            }
            let stack_delay = self.iface.poll_delay(instant(now_us()), &shared.sockets.borrow());
            if stack_delay.is_some_and(|d| d.total_micros() == 0) {
                continue;
            }
            let stack_deadline = stack_delay.map(|d| now_us() + d.total_micros());
            let deadline = [stack_deadline, shared.deadlines.earliest(), device_deadline].into_iter().flatten().min();
            sleeper.sleep(deadline, &mut self.device.driver);
        }
    }
}

fn instant(micros: u64) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros(micros as i64)
}
