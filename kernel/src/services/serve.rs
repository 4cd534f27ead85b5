//! Serving: one task per TCP slot speaking HTTP on port 80 and, once TLS is
//! up, HTTPS on port 443; the TLS set-up delay; the boot self-test.
//!
//! Both ports run the same slot loop: accept, (TLS handshake), serve with
//! picoserve until the client is done, count the outcome, repeat. Only the
//! transport differs, so both count bad requests and timeouts alike. The
//! network loop itself (`net::Network::run`) knows nothing of this: it runs
//! whatever tasks are spawned on its executor.

#![deny(unsafe_code)]

mod connection;
mod self_test;

use core::cell::OnceCell;

use picoserve::routing::PathRouter;
use picoserve::Router;

pub use self::connection::{Connection, ConnectionError, KernelRuntime, KernelTimer};
use super::leaderboard::task;
use super::tls::TlsServer;
use crate::counters::Counter;
use crate::net::datagram::DatagramService;
use crate::net::device::NetDevice;
use crate::net::executor::{Executor, Sleep};
use crate::net::tcp::{Shared, SlotCounters};
use crate::net::{Network, Sleeper};

/// How long after HTTP listens TLS is set up. Setting it up (the key, the
/// generator's self-checks, the HTTPS slots' buffers) holds the CPU for
/// about 20 ms on qemu-virt-armv7 (5 ms on aarch64); first the appliance
/// answers the plain-HTTP requests phones send as soon as it is back (the
/// captive-portal probes), then it sets up HTTPS, which nobody needs in
/// the first tenth of a second.
const TLS_SETUP_DELAY_US: u64 = 100_000;

/// HTTP slots opened before the first pass. The rest (hundreds, sized from
/// RAM) open with TLS, after the boot is reported: clearing their buffers
/// takes tens of milliseconds that the first phones should not wait for.
const EARLY_HTTP_SLOTS: usize = 16;

/// TCP receive buffer per slot: requests are small.
const SLOT_RX_BYTES: usize = 4096;
/// TCP send buffer per slot: room for the largest asset (app.js, 15 KB
/// before gzip) in flight; twice that bought no request rate and cost a
/// thousand connections 16 MiB.
const SLOT_TX_BYTES: usize = 16 * 1024;
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

/// What HTTP serving counts, on both ports.
#[derive(Debug, Default)]
pub struct HttpCounters {
    /// HTTP requests answered.
    pub requests: Counter,
    /// Requests refused as malformed (400, 431).
    pub bad_requests: Counter,
    /// Connections closed for being idle or too slow.
    pub timed_out: Counter,
}

/// The state of the boot self-test, as `/stats.json` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfTest {
    /// TLS is off (no entropy or no certificate).
    Off,
    /// Not finished yet.
    Pending,
    /// Passed.
    Passed,
    /// Failed.
    Failed,
}

/// HTTPS as the rest of the appliance sees it: the server once it is set
/// up, and the self-test's result.
#[derive(Default)]
pub struct TlsStatus {
    /// The TLS server, set once TLS is up.
    pub server: OnceCell<TlsServer>,
    self_test: Counter,
    /// The self-test's handshake time in µs.
    pub self_test_handshake_us: Counter,
}

impl TlsStatus {
    /// Where the self-test stands.
    pub fn self_test(&self) -> SelfTest {
        match self.self_test.get() {
            1 => SelfTest::Pending,
            2 => SelfTest::Passed,
            3 => SelfTest::Failed,
            _ => SelfTest::Off,
        }
    }

    fn set_self_test(&self, state: SelfTest) {
        self.self_test.set(state as u32);
    }
}

/// What to serve and where the figures go.
pub struct Serving<'a, P: PathRouter, T: FnOnce() -> Option<TlsServer>> {
    /// The HTTP routes, for both ports.
    pub app: &'a Router<P>,
    /// Slots on port 80.
    pub http_slots: usize,
    /// Slots on port 443, added once TLS is up.
    pub https_slots: usize,
    /// Sets up TLS, `TLS_SETUP_DELAY_US` after HTTP listens; `None` leaves it off.
    pub start_tls: T,
    /// HTTPS state, filled in when TLS is up.
    pub tls: &'a TlsStatus,
    /// HTTP figures.
    pub http: &'a HttpCounters,
    /// Slot-layer figures.
    pub slots: &'a SlotCounters,
    /// Microseconds since power-on.
    pub now_us: fn() -> u64,
    /// A deliberate crash and when (µs), to test a reset under load (`crash_after`).
    pub crash_at: Option<(u64, fn())>,
}

/// Serves `serving` and `datagram_services` on `network`, forever.
/// `on_listening` runs once port 80 listens.
pub fn serve<D: NetDevice, P: PathRouter, T: FnOnce() -> Option<TlsServer>>(
    network: Network<'_, D>,
    serving: Serving<'_, P, T>,
    datagram_services: &[&dyn DatagramService],
    sleeper: &mut impl Sleeper<D>,
    on_listening: impl FnOnce(),
) -> ! {
    let Serving { app, http_slots, https_slots, start_tls, tls, http, slots, now_us, crash_at } = serving;
    let shared = Shared::new(smoltcp::iface::SocketSet::new(alloc::vec::Vec::new()), SLOT_RX_BYTES, SLOT_TX_BYTES, now_us, slots);
    let mut executor = Executor::new(&shared.deadlines, http_slots + https_slots + 4);
    let early = http_slots.min(EARLY_HTTP_SLOTS);
    for slot in shared.add_slots(80, early) {
        executor.spawn(serve_slot(&shared, slot, app, None, http));
    }
    let shared = &shared;
    let later = now_us() + TLS_SETUP_DELAY_US;
    executor.spawn(async move {
        Sleep::until(later, now_us, &shared.deadlines).await;
        let Some(server) = start_tls() else { return };
        tls.set_self_test(SelfTest::Pending);
        let _ = tls.server.set(server);
    });
    for _ in early..http_slots {
        executor.spawn(async move {
            Sleep::until(later, now_us, &shared.deadlines).await;
            let slot = shared.add_slots(80, 1).start;
            serve_slot(shared, slot, app, None, http).await;
        });
    }
    for _ in 0..https_slots {
        executor.spawn(async move {
            let server = tls_ready(tls).await;
            let slot = shared.add_slots(443, 1).start;
            serve_slot(shared, slot, app, Some(server), http).await;
        });
    }
    executor.spawn(self_test::run(shared, app, tls));
    if let Some((at, crash)) = crash_at {
        executor.spawn(async move {
            Sleep::until(at, now_us, &shared.deadlines).await;
            crash();
        });
    }
    // Before the loop sleeps: the wake-up times the leaderboard's long polls
    // asked for become deadlines, and idle time makes TLS secrets ahead (key
    // pairs, ECDSA nonces), one at a time.
    let idle_work = || {
        live_page_alarms(shared);
        tls.server.get().is_some_and(|server| server.refill(1) > 0)
    };
    network.run(shared, executor, datagram_services, sleeper, idle_work, on_listening)
}

/// Turns the wake-up times the leaderboard's long polls ask for (they run
/// inside picoserve, which gives them no timer) into the executor's
/// deadlines, so that the idle loop wakes them on time.
fn live_page_alarms(shared: &Shared<'_, '_>) {
    if let Some(deadline_ms) = task::ALARM.take() {
        shared.deadlines.register(deadline_ms.saturating_mul(1000));
    }
}

async fn tls_ready(tls: &TlsStatus) -> &TlsServer {
    core::future::poll_fn(|_| match tls.server.get() {
        Some(server) => core::task::Poll::Ready(server),
        None => core::task::Poll::Pending,
    })
    .await
}

/// How one connection ended, as the counters see it.
enum Outcome {
    /// The client finished.
    Done,
    /// picoserve answered 400 and closed.
    BadRequest,
    /// The client was too slow: closed by reset.
    TimedOut,
    /// Anything else: closed by reset.
    Failed,
}

fn outcome<S, E: picoserve::io::Error>(result: Result<S, picoserve::Error<E>>, slot: usize) -> Outcome {
    match result {
        Ok(_) => Outcome::Done,
        Err(picoserve::Error::BadRequest) => Outcome::BadRequest,
        Err(picoserve::Error::ReadTimeout(_) | picoserve::Error::WriteTimeout(_)) => Outcome::TimedOut,
        Err(error) => {
            log::debug!("slot {slot}: {error:?}");
            Outcome::Failed
        }
    }
}

/// One slot: accept, TLS handshake if `tls` is given, serve until the
/// client is done, repeat.
async fn serve_slot<P: PathRouter>(shared: &Shared<'_, '_>, slot: usize, app: &Router<P>, tls: Option<&TlsServer>, counters: &HttpCounters) {
    let mut http_buffer = alloc::vec![0u8; HTTP_BUFFER_BYTES];
    let expired = core::cell::Cell::new(false);
    let timer = KernelTimer { deadlines: &shared.deadlines, now_us: shared.now_us, expired: &expired };
    loop {
        let _open = shared.accept(slot).await;
        expired.set(false);
        let connection = Connection::new(shared, slot, counters);
        let server = picoserve::Server::custom(app, timer, &HTTP_CONFIG, &mut http_buffer);
        let client = shared.client(slot);
        let ended = match tls {
            None => outcome(task::for_client(client, server.serve(connection)).await, slot),
            Some(tls) => match tls.accept(connection, &timer).await {
                Ok(socket) => outcome(task::for_client(client, server.serve(socket)).await, slot),
                Err(error) => {
                    // `accept` has closed the connection and counted why.
                    log::debug!("https slot {slot}: handshake failed: {error}");
                    continue;
                }
            },
        };
        match ended {
            // Ended by the keep-alive timeout rather than by the client.
            Outcome::Done if expired.get() => counters.timed_out.increment(),
            Outcome::Done => {}
            Outcome::BadRequest => counters.bad_requests.increment(),
            Outcome::TimedOut => {
                counters.timed_out.increment();
                shared.abort(slot).await;
            }
            Outcome::Failed => shared.abort(slot).await,
        }
    }
}
