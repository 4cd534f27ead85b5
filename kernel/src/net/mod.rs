//! The network: smoltcp on the board's NIC, the executor that runs the
//! connection tasks, and the loop that sleeps until there is work.
//!
//! This layer knows sockets and time, not HTTP: it hands accepted
//! connections to the HTTP service in `services`.

pub mod device;
pub mod executor;
pub mod tcp;

use core::cell::OnceCell;
use core::net::Ipv4Addr;

use picoserve::routing::PathRouter;
use picoserve::Router;
use smoltcp::iface::{Config as IfaceConfig, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint};

use self::device::{NetDevice, SmoltcpDevice};
use self::executor::Executor;
use self::tcp::{Connection, KernelTimer, Shared};
use crate::services::tls::TlsServer;
use crate::services::stats::{SELF_TEST_FAILED, SELF_TEST_PASSED, STATS};
use core::future::Future as _;
use core::sync::atomic::Ordering;

/// How long after HTTP listens TLS is set up. Setting it up (the key, the
/// generator's self-checks, the HTTPS slots' buffers) holds the CPU for
/// about 20 ms on qemu-virt-armv7 (5 ms on aarch64); first the appliance
/// answers the plain-HTTP requests phones send as soon as it is back (the
/// captive-portal probes), then it sets up HTTPS, which nobody needs in
/// the first tenth of a second.
const TLS_SETUP_DELAY_US: u64 = 100_000;

/// TCP receive buffer per HTTP slot: requests are small.
const SLOT_RX_BYTES: usize = 4096;
/// TCP send buffer per HTTP slot: room for a whole asset in flight.
const SLOT_TX_BYTES: usize = 32 * 1024;
/// picoserve's request buffer per slot; a larger request head gets 431.
const HTTP_BUFFER_BYTES: usize = 2048;

/// How long a client may take, so idle or trickling clients cannot hold a
/// slot: 5 s to start a request, 5 s to finish sending it (10 s at most).
const HTTP_CONFIG: picoserve::Config = picoserve::Config::new(picoserve::Timeouts {
    start_read_request: picoserve::time::Duration::from_secs(5),
    persistent_start_read_request: picoserve::time::Duration::from_secs(5),
    read_request: picoserve::time::Duration::from_secs(5),
    write: picoserve::time::Duration::from_secs(5),
})
.keep_connection_alive();

/// Largest datagram a UDP service receives or sends.
const DATAGRAM_BYTES: usize = 1500;

/// A request-reply service on a UDP port (DHCP, DNS): one datagram in, at
/// most one out.
pub trait DatagramService {
    /// The port it listens on.
    fn port(&self) -> u16;
    /// Answers `request` from `from`: writes the reply into `reply` and
    /// returns its length and destination, or `None` to stay silent.
    fn handle(&mut self, request: &[u8], from: (Ipv4Addr, u16), now_us: u64, reply: &mut [u8]) -> Option<(usize, Ipv4Addr, u16)>;
    /// Called on every pass of the network loop, before the HTTP tasks run,
    /// so that figures that change with time alone (expiring leases) are
    /// current when a page asks for them.
    fn refresh(&mut self, _now_us: u64) {}
}

/// What the idle loop needs from the platform: sleeping until a deadline or
/// an interrupt, and acknowledging what woke it.
pub trait Sleeper<D: NetDevice> {
    /// Sleeps until `deadline_us` (µs since power-on) or an interrupt.
    fn sleep(&mut self, deadline_us: Option<u64>, nic: &mut D);
}

/// The interface and its device.
pub struct Network<D: NetDevice> {
    iface: Interface,
    device: SmoltcpDevice<D>,
}

impl<D: NetDevice> Network<D> {
    /// Brings the interface up with the appliance's address.
    pub fn new(driver: D, address: Ipv4Addr, prefix_len: u8, random_seed: u64, now_us: fn() -> u64) -> Self {
        let mut device = SmoltcpDevice::new(driver);
        let mac = EthernetAddress(device.driver.mac_address());
        let mut config = IfaceConfig::new(HardwareAddress::Ethernet(mac));
        config.random_seed = random_seed;
        let mut iface = Interface::new(config, &mut device, instant(now_us()));
        iface.update_ip_addrs(|addrs| {
            let _ = addrs.push(IpCidr::new(address.into(), prefix_len));
        });
        Self { iface, device }
    }

    /// The NIC's MAC address.
    pub fn mac_address(&self) -> [u8; 6] {
        self.device.driver.mac_address()
    }

    /// Serves HTTP on port 80 with one task per slot and the datagram
    /// services on their ports; then, `TLS_SETUP_DELAY_US` after HTTP
    /// listens, calls `start_tls` and, if it gives a TLS server, serves HTTPS
    /// on port 443 with `https_slots` tasks and runs the TLS self-test once.
    /// Forever.
    #[allow(clippy::too_many_arguments)]
    pub fn serve<P: PathRouter>(
        mut self,
        app: &Router<P>,
        slots: usize,
        https_slots: usize,
        start_tls: impl FnOnce() -> Option<TlsServer>,
        datagram_services: &mut [&mut dyn DatagramService],
        now_us: fn() -> u64,
        sleeper: &mut impl Sleeper<D>,
        on_listening: impl FnOnce(),
    ) -> ! {
        let mut sockets = SocketSet::new(alloc::vec::Vec::new());
        let udp_handles: alloc::vec::Vec<SocketHandle> =
            datagram_services.iter().map(|service| sockets.add(udp_socket(service.port()))).collect();
        let mut datagram = alloc::vec![0u8; DATAGRAM_BYTES];
        let mut reply = alloc::vec![0u8; DATAGRAM_BYTES];
        let shared = Shared::new(sockets, SLOT_RX_BYTES, SLOT_TX_BYTES, now_us);
        // Declared before the executor so that the HTTPS tasks can borrow it.
        let tls = OnceCell::new();
        let mut executor = Executor::new(&shared.deadlines);
        for slot in shared.add_slots(80, slots) {
            executor.spawn(http_slot(&shared, slot, app));
        }
        executor.run_pass();
        on_listening();
        let mut start_tls = Some(start_tls);
        let tls_due_us = now_us() + TLS_SETUP_DELAY_US;
        loop {
            if start_tls.is_some() && now_us() >= tls_due_us {
                if let Some(server) = start_tls.take().and_then(|start| start()) {
                    let tls = tls.get_or_init(|| server);
                    for slot in shared.add_slots(443, https_slots) {
                        executor.spawn(https_slot(&shared, slot, app, tls));
                    }
                    executor.spawn(tls_self_test(&shared, app, tls));
                }
            }
            let now = instant(now_us());
            let changed = {
                let mut sockets = shared.sockets.borrow_mut();
                self.iface.poll(now, &mut self.device, &mut sockets) == PollResult::SocketStateChanged
            };
            if changed {
                executor.wake_all();
                let mut sockets = shared.sockets.borrow_mut();
                for (service, &handle) in datagram_services.iter_mut().zip(&udp_handles) {
                    let socket = sockets.get_mut::<udp::Socket>(handle);
                    answer_datagrams(socket, &mut **service, &mut datagram, &mut reply, now_us());
                }
            }
            for service in datagram_services.iter_mut() {
                service.refresh(now_us());
            }
            if executor.run_pass() {
                continue;
            }
            shared.keep_one_listening();
            if shared.any_evicting() {
                executor.wake_all();
                continue;
            }
            // Idle: one TLS secret made ahead (a few ms at most), then the network again.
            if tls.get().is_some_and(|tls: &TlsServer| tls.refill(1) > 0) {
                continue;
            }
            let stack_delay = self.iface.poll_delay(instant(now_us()), &shared.sockets.borrow());
            if stack_delay.is_some_and(|d| d.total_micros() == 0) {
                continue;
            }
            let stack_deadline = stack_delay.map(|d| now_us() + d.total_micros());
            let tls_deadline = start_tls.is_some().then_some(tls_due_us);
            let deadline = [stack_deadline, shared.deadlines.earliest(), tls_deadline].into_iter().flatten().min();
            sleeper.sleep(deadline, &mut self.device.driver);
            executor.wake_all();
        }
    }
}

fn udp_socket(port: u16) -> udp::Socket<'static> {
    // 64 datagrams deep: a burst of DNS queries is answered, not dropped.
    let buffer = || udp::PacketBuffer::new(alloc::vec![udp::PacketMetadata::EMPTY; 64], alloc::vec![0; 64 * 600]);
    let mut socket = udp::Socket::new(buffer(), buffer());
    if socket.bind(port).is_err() {
        log::error!("cannot bind UDP port {port}");
    }
    socket
}

/// Answers every datagram waiting on `socket`.
fn answer_datagrams(socket: &mut udp::Socket, service: &mut dyn DatagramService, datagram: &mut [u8], reply: &mut [u8], now_us: u64) {
    while let Ok((len, meta)) = socket.recv_slice(datagram) {
        let IpAddress::Ipv4(from) = meta.endpoint.addr;
        let Some((reply_len, to, port)) = service.handle(&datagram[..len], (from, meta.endpoint.port), now_us, reply) else {
            continue;
        };
        let destination = IpEndpoint::new(IpAddress::Ipv4(to), port);
        if socket.send_slice(&reply[..reply_len], destination).is_err() {
            STATS.tx_dropped.increment();
        }
    }
}

fn instant(micros: u64) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros(micros as i64)
}

/// One HTTP slot: accept, serve until the client is done, repeat.
async fn http_slot<P: PathRouter>(shared: &Shared<'_>, slot: usize, app: &Router<P>) {
    let mut http_buffer = alloc::vec![0u8; HTTP_BUFFER_BYTES];
    let timer = KernelTimer { deadlines: &shared.deadlines, now_us: shared.now_us };
    loop {
        shared.accept(slot).await;
        STATS.connections.up();
        let server = picoserve::Server::custom(app, timer, &HTTP_CONFIG, &mut http_buffer);
        match server.serve(Connection { shared, slot }).await {
            Ok(_) => {}
            Err(picoserve::Error::BadRequest) => STATS.bad_requests.increment(),
            Err(picoserve::Error::ReadTimeout(_) | picoserve::Error::WriteTimeout(_)) => {
                STATS.timed_out.increment();
                shared.abort(slot).await;
            }
            Err(error) => {
                log::debug!("slot {slot}: {error:?}");
                shared.abort(slot).await;
            }
        }
        STATS.connections.down();
    }
}

/// One HTTPS slot: accept, TLS handshake, then the same HTTP service.
async fn https_slot<P: PathRouter>(shared: &Shared<'_>, slot: usize, app: &Router<P>, tls: &TlsServer) {
    let mut http_buffer = alloc::vec![0u8; HTTP_BUFFER_BYTES];
    let timer = KernelTimer { deadlines: &shared.deadlines, now_us: shared.now_us };
    loop {
        shared.accept(slot).await;
        STATS.connections.up();
        match tls.accept(Connection { shared, slot }, &timer).await {
            Ok(socket) => {
                let server = picoserve::Server::custom(app, timer, &HTTP_CONFIG, &mut http_buffer);
                if let Err(error) = server.serve(socket).await {
                    log::debug!("https slot {slot}: {error:?}");
                    shared.abort(slot).await;
                }
            }
            Err(error) => log::debug!("https slot {slot}: handshake failed: {error}"),
        }
        STATS.tls_handshakes.set(tls.counters.handshakes.load(Ordering::Relaxed));
        STATS.tls_failures.set(tls.counters.failures());
        STATS.connections.down();
    }
}

/// The self-test starts this long after TLS is set up: its handshake is one
/// uninterrupted burst of CPU (about 200 ms on qemu-virt-armv7, cold), which
/// would otherwise hold the first page a phone asks for.
const SELF_TEST_DELAY_US: u64 = 1_000_000;

/// How long the self-test may take before it counts as failed.
const SELF_TEST_TIMEOUT: picoserve::time::Duration = picoserve::time::Duration::from_secs(10);

/// The appliance talks to itself: embedded-tls as the client, on one end of
/// an in-memory pipe, and the HTTPS service (TLS server and HTTP routes) on
/// the other; the result goes to the log and `/stats.json`.
async fn tls_self_test<P: PathRouter>(shared: &Shared<'_>, app: &Router<P>, tls: &TlsServer) {
    use crate::services::tls;
    executor::Sleep::until((shared.now_us)() + SELF_TEST_DELAY_US, shared.now_us, &shared.deadlines).await;
    let timer = KernelTimer { deadlines: &shared.deadlines, now_us: shared.now_us };
    let (server_end, client_end) = tls::duplex(tls::INCOMING_BYTES);
    let server = async {
        let mut http_buffer = alloc::vec![0u8; HTTP_BUFFER_BYTES];
        if let Ok(socket) = tls.accept(server_end, &timer).await {
            let _ = picoserve::Server::custom(app, timer, &HTTP_CONFIG, &mut http_buffer).serve(socket).await;
        }
    };
    let client = picoserve::Timer::run_with_timeout(&timer, SELF_TEST_TIMEOUT, tls::self_test(client_end));
    let (mut client, mut server) = (core::pin::pin!(client), core::pin::pin!(server));
    let mut server_done = false;
    // Both ends run together; the client's report decides (a failed server closes the pipe).
    let outcome = core::future::poll_fn(|cx| {
        if !server_done {
            server_done = server.as_mut().poll(cx).is_ready();
        }
        client.as_mut().poll(cx)
    })
    .await;
    let Ok(report) = outcome else {
        log::error!("TLS self-test: no answer within {} s", SELF_TEST_TIMEOUT.as_secs());
        STATS.tls_self_test.set(SELF_TEST_FAILED);
        return;
    };
    STATS.tls_self_test_handshake_us.set(report.handshake_us as u32);
    if report.ok {
        STATS.tls_self_test.set(SELF_TEST_PASSED);
        log::info!(
            "TLS self-test passed: embedded-tls fetched / ({} bytes) over TLS 1.3, handshake {} µs, total {} µs",
            report.body_bytes, report.handshake_us, report.total_us
        );
    } else {
        STATS.tls_self_test.set(SELF_TEST_FAILED);
        log::error!("TLS self-test failed: {}", report.error.as_deref().unwrap_or("unknown error"));
    }
}
