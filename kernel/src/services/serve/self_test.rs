//! The boot self-test as a task: once TLS is up, the appliance talks to
//! itself over an in-memory pipe, embedded-tls as the client and the HTTPS
//! service (TLS server and HTTP routes) on the other end; the result goes
//! to the log and `TlsStatus`.

#![deny(unsafe_code)]

use core::future::Future as _;

use picoserve::routing::PathRouter;
use picoserve::Router;

use super::{tls_ready, KernelTimer, SelfTest, TlsStatus, HTTP_BUFFER_BYTES, HTTP_CONFIG};
use crate::net::executor::Sleep;
use crate::net::tcp::Shared;
use crate::services::tls;

/// The self-test starts this long after TLS is set up: its handshake is one
/// uninterrupted burst of CPU (about 200 ms on qemu-virt-armv7, cold), which
/// would otherwise hold the first page a phone asks for.
const SELF_TEST_DELAY_US: u64 = 1_000_000;

/// How long the self-test may take before it counts as failed.
const SELF_TEST_TIMEOUT: picoserve::time::Duration = picoserve::time::Duration::from_secs(10);

/// Runs the self-test once, when TLS is up (never, if it stays off).
pub async fn run<P: PathRouter>(shared: &Shared<'_, '_>, app: &Router<P>, status: &TlsStatus) {
    let server = tls_ready(status).await;
    Sleep::until((shared.now_us)() + SELF_TEST_DELAY_US, shared.now_us, &shared.deadlines).await;
    let expired = core::cell::Cell::new(false);
    let timer = KernelTimer { deadlines: &shared.deadlines, now_us: shared.now_us, expired: &expired };
    let (server_end, client_end) = tls::duplex(tls::INCOMING_BYTES);
    let serving = async {
        let mut http_buffer = alloc::vec![0u8; HTTP_BUFFER_BYTES];
        if let Ok(socket) = server.accept(server_end, &timer).await {
            let _ = picoserve::Server::custom(app, timer, &HTTP_CONFIG, &mut http_buffer).serve(socket).await;
        }
    };
    let client = picoserve::Timer::run_with_timeout(&timer, SELF_TEST_TIMEOUT, tls::self_test(client_end));
    let (mut client, mut serving) = (core::pin::pin!(client), core::pin::pin!(serving));
    let mut serving_done = false;
    // Both ends run together; the client's report decides (a failed server closes the pipe).
    let outcome = core::future::poll_fn(|cx| {
        if !serving_done {
            serving_done = serving.as_mut().poll(cx).is_ready();
        }
        client.as_mut().poll(cx)
    })
    .await;
    let Ok(report) = outcome else {
        log::error!("TLS self-test: no answer within {} s", SELF_TEST_TIMEOUT.as_secs());
        status.set_self_test(SelfTest::Failed);
        return;
    };
    status.self_test_handshake_us.set(report.handshake_us as u32);
    if report.ok {
        status.set_self_test(SelfTest::Passed);
        log::info!(
            "TLS self-test passed: embedded-tls fetched / ({} bytes) over TLS 1.3, handshake {} µs, total {} µs",
            report.body_bytes, report.handshake_us, report.total_us
        );
    } else {
        status.set_self_test(SelfTest::Failed);
        log::error!("TLS self-test failed: {}", report.error.as_deref().unwrap_or("unknown error"));
    }
}
