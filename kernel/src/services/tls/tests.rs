//! Host tests for the TLS server: real clients (rustls with ring, and
//! embedded-tls through `self_test`) against `TlsServer` over the in-memory
//! pipe, serving the real `HttpService`; and hostile input, which must end
//! in an alert or a close and never a panic.
//!
//! `run` is a tiny deterministic executor for two futures with a virtual
//! clock: time only moves when both sides are stuck, so timeouts fire
//! exactly when a peer stalls, and a real deadlock fails the test.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::sync::atomic::{AtomicBool, Ordering};
use alloc::task::Wake;
use core::task::{Context, Poll, Waker};
use std::io::{Read as _, Write as _};

use embedded_io_async::{Read, Write};
use picoserve::time::Duration;
use picoserve::Router;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::*;
use crate::services::http::{HttpService, Identity};
use crate::services::site;
use crate::services::stats::TestSources;

// ---- a two-future executor with virtual time -------------------------------

std::thread_local! {
    static NOW_MS: Cell<u64> = const { Cell::new(0) };
    static SLEEPERS: RefCell<Vec<(u64, Waker)>> = const { RefCell::new(Vec::new()) };
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls `a` and `b` to completion; advances the virtual clock to the next
/// timer only when neither can progress. Panics on a deadlock.
pub(crate) fn run<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let flag = Arc::new(Flag(AtomicBool::new(true)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    loop {
        flag.0.store(false, Ordering::SeqCst);
        if out_a.is_none() {
            if let Poll::Ready(value) = a.as_mut().poll(&mut cx) {
                out_a = Some(value);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(value) = b.as_mut().poll(&mut cx) {
                out_b = Some(value);
            }
        }
        match (out_a.take(), out_b.take()) {
            (Some(a), Some(b)) => return (a, b),
            (a, b) => (out_a, out_b) = (a, b),
        }
        if !flag.0.load(Ordering::SeqCst) {
            let next = SLEEPERS.with(|sleepers| sleepers.borrow().iter().map(|(at, _)| *at).min());
            let Some(next) = next else { panic!("deadlock: both sides wait and no timer is pending") };
            NOW_MS.with(|now| now.set(now.get().max(next)));
            let due: Vec<Waker> = SLEEPERS.with(|sleepers| {
                let mut sleepers = sleepers.borrow_mut();
                let (due, later): (Vec<_>, Vec<_>) = sleepers.drain(..).partition(|(at, _)| *at <= next);
                *sleepers = later;
                due.into_iter().map(|(_, waker)| waker).collect()
            });
            due.into_iter().for_each(Waker::wake);
        }
    }
}

pub(crate) struct TestRuntime;

#[derive(Clone, Copy)]
pub(crate) struct TestTimer;

impl picoserve::Timer<TestRuntime> for TestTimer {
    fn delay(&self, duration: Duration) -> impl Future<Output = ()> {
        let until = NOW_MS.with(Cell::get) + duration.as_millis();
        poll_fn(move |cx| {
            if NOW_MS.with(Cell::get) >= until {
                Poll::Ready(())
            } else {
                SLEEPERS.with(|sleepers| sleepers.borrow_mut().push((until, cx.waker().clone())));
                Poll::Pending
            }
        })
    }
}

fn virtual_uptime_us() -> u64 {
    NOW_MS.with(Cell::get) * 1000
}

// ---- the server side ---------------------------------------------------------

fn os_entropy(buffer: &mut [u8]) -> bool {
    getrandom::getrandom(buffer).is_ok()
}

/// A handle to the generator, seeded from the OS (for pool unit tests).
pub(crate) fn seeded_rng() -> TlsRng {
    set_entropy_source(os_entropy).expect("the OS has entropy");
    TlsRng::new().expect("seeded")
}

fn tls_server() -> TlsServer {
    set_entropy_source(os_entropy).expect("the OS has entropy");
    set_uptime_source(virtual_uptime_us);
    TlsServer::new().expect("the embedded identity loads")
}

const HTTP_CONFIG: picoserve::Config = picoserve::Config::new(picoserve::Timeouts {
    start_read_request: Duration::from_secs(5),
    persistent_start_read_request: Duration::from_secs(5),
    read_request: Duration::from_secs(5),
    write: Duration::from_secs(5),
})
.keep_connection_alive();

/// What the server side of a test did.
#[derive(Debug)]
enum Served {
    /// Handshake done, HTTP served until the client left.
    Served,
    /// The handshake failed (and the connection was closed).
    Refused(String),
}

/// Accepts on `end` and serves the appliance's real router over TLS.
async fn serve_https(server: &TlsServer, end: Pipe) -> Served {
    let socket = match server.accept(end, &TestTimer).await {
        Ok(socket) => socket,
        Err(error) => return Served::Refused(error.to_string()),
    };
    let sources = TestSources::new();
    let identity = Identity { canonical_name: "2048.home.arpa", address: core::net::Ipv4Addr::new(10, 42, 0, 1) };
    let app = Router::from_service(HttpService { stats: sources.sources(), identity, booth: &sources.booth });
    let mut buffer = vec![0u8; 2048];
    let _ = picoserve::Server::custom(&app, TestTimer, &HTTP_CONFIG, &mut buffer).serve(socket).await;
    Served::Served
}

fn index_html() -> &'static [u8] {
    site::ASSETS.iter().find(|asset| asset.path == "/index.html").expect("the site has index.html").body
}

// ---- a rustls client (std, ring) driven over the pipe -------------------------

fn ca_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(CA_CERT_DER)).expect("the demo CA parses");
    roots
}

fn client_config(versions: &[&'static rustls::SupportedProtocolVersion]) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("ring has these versions")
        .with_root_certificates(ca_roots())
        .with_no_client_auth();
    Arc::new(config)
}

/// What the rustls client saw.
struct ClientOutcome {
    result: Result<(), rustls::Error>,
    plaintext: Vec<u8>,
    version: Option<rustls::ProtocolVersion>,
    suite: Option<rustls::CipherSuite>,
    group: Option<rustls::NamedGroup>,
}

/// What the rustls client does once its handshake is over.
enum After {
    Nothing,
    /// Writes these bytes straight to the transport (a forged record).
    Raw(Vec<u8>),
    /// Sends a KeyUpdate asking the server to update too, then `request`.
    KeyUpdateThenRequest,
}

/// Runs a rustls client on `pipe`: handshake, `request`, then reads until
/// `done(plaintext)` says so, the peer closes, or an error.
async fn rustls_client(
    mut pipe: Pipe,
    config: Arc<rustls::ClientConfig>,
    host: &str,
    request: &[u8],
    after: After,
    done: impl Fn(&[u8]) -> bool,
) -> ClientOutcome {
    let name = ServerName::try_from(host.to_string()).expect("valid name");
    let mut conn = rustls::ClientConnection::new(config, name).expect("client starts");
    let mut after = Some(after);
    if !matches!(after, Some(After::KeyUpdateThenRequest)) {
        conn.writer().write_all(request).expect("buffered");
    }
    let mut plaintext = Vec::new();
    let mut result = Ok(());
    loop {
        while conn.wants_write() {
            let mut out = Vec::new();
            conn.write_tls(&mut out).expect("writing to a Vec");
            if pipe.write_all(&out).await.is_err() {
                break;
            }
        }
        if !conn.is_handshaking() {
            match after.take() {
                Some(After::Raw(raw)) => {
                    let _ = pipe.write_all(&raw).await;
                }
                Some(After::KeyUpdateThenRequest) => {
                    conn.refresh_traffic_keys().expect("key update queued");
                    conn.writer().write_all(request).expect("buffered");
                    continue;
                }
                _ => {}
            }
        }
        if done(&plaintext) {
            break;
        }
        let mut buffer = vec![0u8; 8192];
        let n = pipe.read(&mut buffer).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        let mut slice = &buffer[..n];
        while !slice.is_empty() {
            if conn.read_tls(&mut slice).is_err() {
                break;
            }
            if let Err(error) = conn.process_new_packets() {
                result = Err(error);
                break;
            }
        }
        if result.is_err() {
            // Send the client's own alert, as a real client would.
            let mut out = Vec::new();
            let _ = conn.write_tls(&mut out);
            let _ = pipe.write_all(&out).await;
            break;
        }
        let mut chunk = [0u8; 8192];
        loop {
            match conn.reader().read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => plaintext.extend_from_slice(&chunk[..n]),
            }
        }
    }
    ClientOutcome {
        result,
        plaintext,
        version: conn.protocol_version(),
        suite: conn.negotiated_cipher_suite().map(|suite| suite.suite()),
        group: conn.negotiated_key_exchange_group().map(|group| group.name()),
    }
}

/// Splits an HTTP/1.1 response into (head, body), once complete.
fn split_response(bytes: &[u8]) -> Option<(String, &[u8])> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().ok()))??;
    let body = &bytes[end + 4..];
    (body.len() >= length).then(|| (head, &body[..length]))
}

const GET_INDEX: &[u8] = b"GET / HTTP/1.1\r\nHost: 2048.home.arpa\r\nConnection: close\r\n\r\n";

// ---- the happy paths -----------------------------------------------------------

#[test]
fn rustls_client_gets_index_html_over_tls13_byte_for_byte() {
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    let config = client_config(&[&rustls::version::TLS13]);
    let (served, client) = run(
        serve_https(&server, server_end),
        rustls_client(client_end, config, "2048.home.arpa", GET_INDEX, After::Nothing, |bytes| split_response(bytes).is_some()),
    );
    assert!(matches!(served, Served::Served), "{served:?}");
    client.result.expect("the client is happy");
    assert_eq!(client.version, Some(rustls::ProtocolVersion::TLSv1_3));
    assert_eq!(client.suite, Some(rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256));
    assert_eq!(client.group, Some(rustls::NamedGroup::X25519));
    let (head, body) = split_response(&client.plaintext).expect("a whole response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, index_html());
    assert_eq!(server.counters.handshakes.load(Ordering::Relaxed), 1);
}

#[test]
fn certificate_verifies_for_every_appliance_name_and_not_others() {
    for host in ["2048.home.arpa", "localhost", "10.42.0.1", "127.0.0.1"] {
        let server = tls_server();
        let (client_end, server_end) = duplex(4096);
        let config = client_config(&[&rustls::version::TLS13]);
        let (_, client) = run(
            serve_https(&server, server_end),
            rustls_client(client_end, config, host, GET_INDEX, After::Nothing, |bytes| split_response(bytes).is_some()),
        );
        assert!(client.result.is_ok(), "{host}: {:?}", client.result);
    }
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    let config = client_config(&[&rustls::version::TLS13]);
    let (served, client) = run(
        serve_https(&server, server_end),
        rustls_client(client_end, config, "example.com", GET_INDEX, After::Nothing, |bytes| split_response(bytes).is_some()),
    );
    assert!(matches!(client.result, Err(rustls::Error::InvalidCertificate(_))), "{:?}", client.result);
    assert!(matches!(served, Served::Refused(_)));
}

#[test]
fn aes_only_client_gets_aes_128_gcm_and_p256() {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.retain(|suite| suite.suite() == rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
    provider.kx_groups.retain(|group| group.name() == rustls::NamedGroup::secp256r1);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(ca_roots())
        .with_no_client_auth();
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    let (_, client) = run(
        serve_https(&server, server_end),
        rustls_client(client_end, Arc::new(config), "2048.home.arpa", GET_INDEX, After::Nothing, |bytes| split_response(bytes).is_some()),
    );
    client.result.expect("handshake");
    assert_eq!(client.suite, Some(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256));
    assert_eq!(client.group, Some(rustls::NamedGroup::secp256r1));
    assert_eq!(split_response(&client.plaintext).map(|(_, body)| body.to_vec()), Some(index_html().to_vec()));
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = tls_server();
    let (client_end, server_end) = duplex(1024);
    let request = b"GET /index.html HTTP/1.1\r\nHost: 2048.home.arpa\r\n\r\nGET /nope HTTP/1.1\r\nHost: 2048.home.arpa\r\n\r\nGET / HTTP/1.1\r\nHost: 2048.home.arpa\r\nConnection: close\r\n\r\n";
    let config = client_config(&[&rustls::version::TLS13]);
    let (_, client) = run(serve_https(&server, server_end), rustls_client(client_end, config, "2048.home.arpa", request, After::Nothing, |_| false));
    client.result.expect("handshake");
    let mut rest = &client.plaintext[..];
    let mut statuses = Vec::new();
    while let Some((head, body)) = split_response(rest) {
        statuses.push(head.lines().next().unwrap_or_default().to_string());
        let consumed = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4 + body.len();
        if head.starts_with("HTTP/1.1 200") {
            assert_eq!(body, index_html());
        }
        rest = &rest[consumed..];
    }
    assert_eq!(statuses.len(), 3, "{statuses:?}");
    assert!(statuses[1].starts_with("HTTP/1.1 404"));
}

#[test]
fn large_bodies_cross_as_many_records() {
    let body: &'static [u8] = Vec::leak((0..100_000u32).map(|i| (i * 7 % 251) as u8).collect());
    let server = tls_server();
    let (client_end, server_end) = duplex(3000);
    let serve = async {
        let socket = server.accept(server_end, &TestTimer).await.expect("handshake");
        let app = Router::new().route("/big", picoserve::routing::get(move || async move { body }));
        let mut buffer = vec![0u8; 2048];
        let _ = picoserve::Server::custom(&app, TestTimer, &HTTP_CONFIG, &mut buffer).serve(socket).await;
    };
    let request = b"GET /big HTTP/1.1\r\nHost: 2048.home.arpa\r\nConnection: close\r\n\r\n";
    let config = client_config(&[&rustls::version::TLS13]);
    let (_, client) = run(serve, rustls_client(client_end, config, "2048.home.arpa", request, After::Nothing, |b| split_response(b).is_some()));
    client.result.expect("handshake");
    assert_eq!(split_response(&client.plaintext).map(|(_, b)| b.to_vec()), Some(body.to_vec()));
}

#[test]
fn client_key_update_gets_the_server_to_update_too() {
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    let config = client_config(&[&rustls::version::TLS13]);
    let (_, client) = run(
        serve_https(&server, server_end),
        rustls_client(client_end, config, "2048.home.arpa", GET_INDEX, After::KeyUpdateThenRequest, |b| split_response(b).is_some()),
    );
    client.result.expect("the client accepts the server's records under the new keys");
    assert_eq!(split_response(&client.plaintext).map(|(_, body)| body.to_vec()), Some(index_html().to_vec()));
}

#[test]
fn embedded_tls_self_test_passes_against_the_server() {
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    let (served, report) = run(serve_https(&server, server_end), self_test(client_end));
    assert!(report.ok, "{report:?} / {served:?}");
    assert_eq!(report.error, None);
    assert_eq!(report.body_bytes, index_html().len());
    assert!(matches!(served, Served::Served));
}

#[test]
fn self_test_fails_against_a_certificate_from_another_ca() {
    let stranger = rcgen::generate_simple_self_signed(vec!["2048.home.arpa".to_string()]).expect("rcgen");
    let cert: &'static [u8] = Vec::leak(stranger.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(stranger.signing_key.serialize_der().into());
    set_entropy_source(os_entropy).unwrap();
    let server = TlsServer::with_identity(cert, key).expect("a P-256 identity");
    let (client_end, server_end) = duplex(4096);
    let (_, report) = run(serve_https(&server, server_end), self_test(client_end));
    assert!(!report.ok);
    let error = report.error.unwrap_or_default();
    assert!(error.contains("InvalidCertificate"), "{error}");
}

// ---- the pool of one-time secrets ------------------------------------------------------

/// Sends a ClientHello, reads the first bytes of the server's answer, then hangs up.
async fn hello_then_hang_up(mut pipe: Pipe) -> usize {
    let _ = pipe.write_all(&client_hello()).await;
    let mut buffer = [0u8; 1024];
    pipe.read(&mut buffer).await.unwrap_or(0)
}

#[test]
fn handshakes_use_pooled_secrets_once_and_a_cut_handshake_leaves_the_pool_consistent() {
    let server = tls_server();
    while server.refill(1) > 0 {}
    assert_eq!(server.pool_ready(), (POOL_SIZE, POOL_SIZE));
    // A fault mid-handshake: the client leaves after the server's flight
    // (key share sent, CertificateVerify signed).
    let (client_end, server_end) = duplex(4096);
    let (served, answered) = run(serve_https(&server, server_end), hello_then_hang_up(client_end));
    assert!(answered > 0);
    assert!(matches!(served, Served::Refused(_)), "{served:?}");
    // Its key pair and nonce are gone (used once, dropped), nothing else moved.
    assert_eq!(server.pool_ready(), (POOL_SIZE - 1, POOL_SIZE - 1));
    // Whole handshakes go on, each taking the next pair and nonce.
    for used in 2..=3 {
        let (client_end, server_end) = duplex(4096);
        let config = client_config(&[&rustls::version::TLS13]);
        let (_, client) = run(
            serve_https(&server, server_end),
            rustls_client(client_end, config, "2048.home.arpa", GET_INDEX, After::Nothing, |b| split_response(b).is_some()),
        );
        client.result.expect("handshake after the cut one");
        assert_eq!(server.pool_ready(), (POOL_SIZE - used, POOL_SIZE - used));
    }
    assert_eq!(server.refill(usize::MAX), 6);
    assert_eq!(server.pool_ready(), (POOL_SIZE, POOL_SIZE));
}

#[test]
fn an_empty_pool_still_serves_handshakes() {
    let server = tls_server();
    assert_eq!(server.pool_ready(), (0, 0));
    let (client_end, server_end) = duplex(4096);
    let config = client_config(&[&rustls::version::TLS13]);
    let (_, client) = run(
        serve_https(&server, server_end),
        rustls_client(client_end, config, "2048.home.arpa", GET_INDEX, After::Nothing, |b| split_response(b).is_some()),
    );
    client.result.expect("handshake with secrets made on the spot");
    assert_eq!(server.pool_ready(), (0, 0));
}

// ---- hostile and broken clients ---------------------------------------------------

#[test]
fn tls12_only_client_is_refused_with_protocol_version() {
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    let config = client_config(&[&rustls::version::TLS12]);
    let (served, client) = run(
        serve_https(&server, server_end),
        rustls_client(client_end, config, "2048.home.arpa", GET_INDEX, After::Nothing, |_| false),
    );
    assert_eq!(client.result, Err(rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)));
    assert!(matches!(served, Served::Refused(_)));
    assert_eq!(server.counters.refused_version.load(Ordering::Relaxed), 1);
}

/// Sends `bytes`, then reads what the server answers until it closes.
async fn send_raw(mut pipe: Pipe, bytes: &[u8], close_after: bool) -> Vec<u8> {
    let _ = pipe.write_all(bytes).await;
    if close_after {
        return Vec::new();
    }
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => return answer,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
    }
}

/// A fatal alert record: content type 21, level 2, then `description`.
fn is_fatal_alert(answer: &[u8], description: u8) -> bool {
    answer.len() == 7 && answer[0] == 21 && answer[3..5] == [0, 2] && answer[5] == 2 && answer[6] == description
}

#[test]
fn plain_http_on_the_tls_port_gets_an_alert_and_a_close() {
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    let (served, answer) = run(serve_https(&server, server_end), send_raw(client_end, GET_INDEX, false));
    assert!(matches!(served, Served::Refused(_)));
    assert!(is_fatal_alert(&answer, 50), "decode_error alert expected, got {answer:?}");
    assert_eq!(server.counters.malformed.load(Ordering::Relaxed), 1);
}

#[test]
fn random_bytes_end_in_an_alert_or_a_close() {
    let server = tls_server();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..300 {
        let len = (next() % 3000) as usize + 1;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Every third round looks like a handshake record, to get past the header check.
        if round % 3 == 0 && bytes.len() > 5 {
            bytes[..3].copy_from_slice(&[22, 3, 1]);
        }
        let (client_end, server_end) = duplex(4096);
        let (served, answer) = run(serve_https(&server, server_end), send_raw(client_end, &bytes, false));
        assert!(matches!(served, Served::Refused(_)), "round {round}: {served:?}");
        assert!(answer.is_empty() || (answer[0] == 21 && answer.len() == 7), "round {round}: {answer:?}");
    }
}

/// The start of a real ClientHello from rustls (with ring).
fn client_hello() -> Vec<u8> {
    let config = client_config(&[&rustls::version::TLS13]);
    let mut conn = rustls::ClientConnection::new(config, ServerName::try_from("2048.home.arpa").unwrap()).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

#[test]
fn truncated_client_hello_then_close_is_dropped() {
    let server = tls_server();
    let hello = client_hello();
    let (client_end, server_end) = duplex(4096);
    let (served, _) = run(serve_https(&server, server_end), send_raw(client_end, &hello[..hello.len() / 2], true));
    assert!(matches!(&served, Served::Refused(reason) if reason.contains("closed")), "{served:?}");
    assert_eq!(server.counters.closed_early.load(Ordering::Relaxed), 1);
}

#[test]
fn client_stalling_mid_handshake_times_out_and_is_closed() {
    let server = tls_server();
    let hello = client_hello();
    let (client_end, server_end) = duplex(4096);
    let started = NOW_MS.with(Cell::get);
    let (served, answer) = run(serve_https(&server, server_end), send_raw(client_end, &hello[..hello.len() - 10], false));
    assert!(matches!(&served, Served::Refused(reason) if reason.contains("timed out")), "{served:?}");
    assert!(answer.is_empty());
    assert_eq!(NOW_MS.with(Cell::get) - started, HANDSHAKE_TIMEOUT.as_millis());
    assert_eq!(server.counters.timed_out.load(Ordering::Relaxed), 1);
}

#[test]
fn oversized_record_in_the_handshake_gets_an_alert() {
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    // Length 0x4801 = 18433: beyond anything TLS allows.
    let mut record = vec![22, 3, 1, 0x48, 0x01];
    record.resize(5 + 0x4801, 0);
    let (served, answer) = run(serve_https(&server, server_end), send_raw(client_end, &record, false));
    assert!(matches!(served, Served::Refused(_)));
    assert!(answer.first() == Some(&21), "alert expected, got {answer:?}");
}

#[test]
fn oversized_record_after_the_handshake_gets_an_alert() {
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    // An application-data record of 17000 bytes: over TLS 1.3's 16384 + 256.
    let mut record = vec![23, 3, 3, 0x42, 0x68];
    record.resize(5 + 0x4268, 0x55);
    let config = client_config(&[&rustls::version::TLS13]);
    let (served, client) = run(
        serve_https(&server, server_end),
        rustls_client(client_end, config, "2048.home.arpa", b"", After::Raw(record), |_| false),
    );
    assert!(matches!(served, Served::Served));
    // rustls authenticates before it measures, so a forged oversize record
    // fails as bad_record_mac; a genuine one would get record_overflow.
    assert!(
        matches!(
            client.result,
            Err(rustls::Error::AlertReceived(rustls::AlertDescription::BadRecordMac | rustls::AlertDescription::RecordOverflow))
        ),
        "{:?}",
        client.result
    );
}

#[test]
fn tampered_record_after_the_handshake_gets_bad_record_mac() {
    let server = tls_server();
    let (client_end, server_end) = duplex(4096);
    let mut record = vec![23, 3, 3, 0, 40];
    record.resize(45, 0xAA);
    let config = client_config(&[&rustls::version::TLS13]);
    let (_, client) = run(
        serve_https(&server, server_end),
        rustls_client(client_end, config, "2048.home.arpa", b"", After::Raw(record), |_| false),
    );
    assert_eq!(client.result, Err(rustls::Error::AlertReceived(rustls::AlertDescription::BadRecordMac)));
}

#[test]
fn tls_stays_off_without_entropy() {
    // A fresh generator is not reachable from here (it is global and other
    // tests seed it), so check the health check that guards it instead.
    assert_eq!(set_entropy_source(|buffer| {
        buffer.fill(0);
        true
    }), Err(EntropyError::FailedHealthCheck));
    assert_eq!(set_entropy_source(|_| false), Err(EntropyError::SourceFailed));
}

// ---- a host benchmark (a proxy for the target; run it by hand) ---------------------

/// Adds the time spent inside `poll` to `spent`.
struct Timed<'a, F> {
    inner: core::pin::Pin<&'a mut F>,
    spent: &'a Cell<std::time::Duration>,
}

impl<F: Future> Future for Timed<'_, F> {
    type Output = F::Output;
    fn poll(mut self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let start = std::time::Instant::now();
        let result = self.inner.as_mut().poll(cx);
        self.spent.set(self.spent.get() + start.elapsed());
        result
    }
}

/// `cargo test -p kernel --release tls_handshake_benchmark -- --ignored --nocapture`
#[test]
#[ignore = "a benchmark: run by hand, with --release"]
fn tls_handshake_benchmark() {
    const ROUNDS: u32 = 50;
    let server = tls_server();
    let config = client_config(&[&rustls::version::TLS13]);
    for client_name in ["rustls (X25519, ChaCha20)", "embedded-tls (P-256, AES-128-GCM)"] {
        let (server_cpu, client_cpu) = (Cell::new(Default::default()), Cell::new(Default::default()));
        for _ in 0..ROUNDS {
            let (client_end, server_end) = duplex(8192);
            let mut serve = pin!(serve_https(&server, server_end));
            let serve = Timed { inner: serve.as_mut(), spent: &server_cpu };
            if client_name.starts_with("rustls") {
                let mut client = pin!(rustls_client(client_end, config.clone(), "2048.home.arpa", GET_INDEX, After::Nothing, |b| split_response(b).is_some()));
                let (_, outcome) = run(serve, Timed { inner: client.as_mut(), spent: &client_cpu });
                outcome.result.expect("handshake");
            } else {
                let mut client = pin!(self_test(client_end));
                let (_, report) = run(serve, Timed { inner: client.as_mut(), spent: &client_cpu });
                assert!(report.ok, "{report:?}");
            }
        }
        std::println!(
            "{client_name}: server {:?} per handshake + GET /, client {:?}",
            server_cpu.get() / ROUNDS,
            client_cpu.get() / ROUNDS
        );
    }
}
