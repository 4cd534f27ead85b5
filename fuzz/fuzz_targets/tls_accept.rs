//! `TlsServer::accept` gets every byte a client sends to port 443 before the
//! handshake is done: rustls parses the records, our adapter buffers and
//! frames them and writes the answers. Whatever arrives, once the client has
//! closed, accept must end (an alert, a close or an error): no panic, no spin.
#![no_main]

use core::future::Future;
use core::pin::pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Waker};
use std::sync::OnceLock;

use embedded_io_async::{Read, Write};
use kernel::services::tls::{duplex, set_entropy_source, set_uptime_source, TlsServer, INCOMING_BYTES};
use libfuzzer_sys::fuzz_target;

/// Polls after which `accept` counts as hung (a handshake takes a few dozen).
const MAX_POLLS: u32 = 10_000;

struct FuzzRuntime;

/// Timeouts never fire: only the client closing may end a handshake here.
struct NeverTimer;

impl picoserve::Timer<FuzzRuntime> for NeverTimer {
    fn delay(&self, _duration: picoserve::time::Duration) -> impl Future<Output = ()> {
        core::future::pending()
    }
}

/// Deterministic "entropy", so that a crash replays exactly.
fn xorshift_entropy(buffer: &mut [u8]) -> bool {
    static STATE: AtomicU64 = AtomicU64::new(0x2048_2048_2048_2049);
    for byte in buffer {
        let mut x = STATE.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        STATE.store(x, Ordering::Relaxed);
        *byte = x as u8;
    }
    true
}

fn no_time() -> u64 {
    0
}

fn server() -> &'static TlsServer {
    static SERVER: OnceLock<TlsServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        set_entropy_source(xorshift_entropy).expect("the fuzz entropy passes the health check");
        set_uptime_source(no_time);
        TlsServer::new().expect("the embedded identity loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let server = server();
    let (server_end, mut client_end) = duplex(INCOMING_BYTES);
    let client = async move {
        let _ = client_end.write_all(data).await;
        client_end.close();
        let mut answer = [0u8; 4096];
        while let Ok(n) = client_end.read(&mut answer).await {
            if n == 0 {
                break;
            }
        }
    };
    let accept = async move {
        // A handshake cannot complete (the client never answers the server's
        // flight), so the socket it would give back is dropped right away.
        let _ = server.accept(server_end, &NeverTimer).await;
    };
    let (mut client, mut accept) = (pin!(client), pin!(accept));
    let mut cx = Context::from_waker(Waker::noop());
    let mut client_done = false;
    for _ in 0..MAX_POLLS {
        if !client_done {
            client_done = client.as_mut().poll(&mut cx).is_ready();
        }
        if accept.as_mut().poll(&mut cx).is_ready() {
            return;
        }
    }
    panic!("accept did not end within {MAX_POLLS} polls (client done: {client_done})");
});
