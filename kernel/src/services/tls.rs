//! HTTPS for the appliance: a TLS 1.3 server that wraps a TCP connection
//! into another picoserve socket, so the same HTTP router serves port 443.
//!
//! rustls 0.23 (no_std, unbuffered API) runs the protocol; cipher suites come
//! from rustls-rustcrypto (pure Rust). The key and certificate are issued at
//! build time by the local demo CA (`tools/demo-ca`, kept in `build/tls/`)
//! and embedded. A boot self-test connects to the appliance with a second
//! TLS implementation, embedded-tls, and checks the page it gets.
//!
//! # Why rustls-rustcrypto (figures, November 2026)
//! - `ring` 0.17.14 cannot be used as is: with clang and `-ffreestanding`
//!   plus libc headers it compiles for `armv7a-none-eabihf` and
//!   `aarch64-unknown-none`, but linking fails (armv7:
//!   `bn_mul_mont_nohw`; aarch64: `p256_point_double`, `ecp_nistz256_*`
//!   undefined) because its build script assembles its perlasm only for
//!   Linux, Apple and Windows targets while its C code needs it. It would
//!   take a fork, and a C cross toolchain on every build machine.
//! - embedded-tls (the self-test) already links RustCrypto's P-256,
//!   AES-GCM, SHA-256 and HKDF; rustls-rustcrypto shares that code.
//! - From the provider only the cipher-suite glue is used; key exchange and
//!   ECDSA are `crypto.rs` over the RustCrypto crates (x25519-dalek 2;
//!   P-256 0.14 for the server's signature, 0.13 for the P-256 key share
//!   and embedded-tls), so RSA, P-384 and Ed25519 stay out of the image.
//!
//! Measured under QEMU 7.2 (TCG on an x86-64 host, so only relative: real
//! Cortex-A7/A53 boards differ), release build, per operation:
//!
//! | operation                         | qemu-virt-armv7 | qemu-virt-aarch64 |
//! |-----------------------------------|-----------------|-------------------|
//! | X25519 key pair + shared secret   | 3.7 ms          | 1.5–2.2 ms        |
//! | P-256 key pair + shared secret    | 20 ms           | 2.0–3.4 ms        |
//! | ECDSA P-256 sign (our certificate)| 11 ms           | 1.8–1.9 ms        |
//! | ECDSA P-256 verify (client side)  | 20 ms           | 2.3–3.0 ms        |
//! | ChaCha20-Poly1305, 16 KiB record  | 0.72 ms         | 0.54–0.68 ms      |
//! | AES-128-GCM (software), 16 KiB    | 2.3 ms          | 1.1–1.3 ms        |
//! | server CPU, handshake + `GET /` from embedded-tls (P-256, AES) | 35 ms | 5.4–8.9 ms |
//! | curl's TLS connect time, wall (X25519, ChaCha20)                | 29–37 ms | 7–11 ms |
//!
//! Ranges: other QEMU guests shared the host. Hence X25519 before P-256
//! and ChaCha20 before AES-GCM (the server's order wins). On the x86-64
//! host (`tls_handshake_benchmark`, release, AES-NI) the server spends
//! 0.40 ms per handshake + `GET /` with X25519/ChaCha20, 0.65 ms with
//! P-256/AES-GCM.
//!
//! Image size (`.bin`): the HTTPS server adds ~383 KB (armv7 253 → 637 KB,
//! aarch64 246 → 633 KB; rustls itself is ~130 KB of it); the embedded-tls
//! self-test over a `Pipe` ~176 KB more (812 KB / 807 KB). Nothing is
//! linked until the kernel calls in. Heap per connection when its
//! handshake completes: ~40 KB (armv7) / ~41 KB (aarch64), picoserve's
//! 2 KiB HTTP buffer included; 24 KiB of it are this module's fixed buffers
//! (an 18 KiB record buffer, 4 KiB plaintext staging, 2 KiB read scratch),
//! the rest is rustls' state.
//!
//! # Handshake speed (bench/RESULTS.md, "TLS handshakes")
//! Per phase on the kernel clock (`phases.rs`, feature `tls-phases`), the
//! ECDSA signature was 82% of the ARMv7 server's handshake CPU: P-256 0.13
//! does 32-bit arithmetic through 64-bit limbs. Now the signature uses
//! P-256 0.14 (32-bit limbs) and, like the X25519 key share, a one-time
//! secret made ahead in idle time (`pool.rs`: random k, k·G and k⁻¹ before
//! the message is known; why that is safe is argued there), so the handshake
//! does only the key agreement, s = k⁻¹(z + r·d), the key schedule and the
//! records. Fresh device entropy is mixed in at each refill instead of
//! before each handshake (a 1-3 ms wait for virtio-rng). The pools hang off
//! the `TlsServer`, in the heap: a crash-reset zeroes `.bss` and starts a new
//! heap and a new, empty server, so no secret made before it is ever used;
//! each item is erased (zeroize) when its handshake drops it.
//!
//! # Wiring
//! - At boot: `set_uptime_source(time::micros_since_power_on)`, then
//!   `set_entropy_source(read_virtio_rng)` (boards without an RNG device:
//!   a source built on `jitter::gather`); if it errs, log it and leave TLS
//!   off (HTTP keeps working). Then `TlsServer::new()` once.
//! - When the network loop is idle (nothing to poll, no task ready):
//!   `server.refill(1)`; if it made an item, poll the network again before
//!   sleeping. A handshake never waits for it.
//! - Per connection on port 443: `server.accept(connection, &timer).await`
//!   gives a `TlsSocket` (or closes the connection, after an alert where
//!   rustls has one, and says why); serve it with picoserve as usual.
//! - Self-test: `duplex(…)` for a pipe, `accept` + serve one end,
//!   `self_test(other_end)` on the other (or give `self_test` any
//!   `Read + Write` connected to port 443); bound it with a timeout.

#![deny(unsafe_code)]

mod crypto;
mod entropy;
pub mod jitter;
mod phases;
mod pipe;
mod pool;
mod self_test;
mod socket;
#[cfg(test)]
pub(crate) mod tests;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use picoserve::time::Duration;
use rustls::ServerConfig;

pub use crypto::{set_uptime_source, unix_time_secs, uptime_us, UptimeSource, BUILD_EPOCH_SECS, CA_CERT_DER, CA_FINGERPRINT, SERVER_CERT_DER};
pub use entropy::{is_seeded, set_entropy_source, EntropyError, EntropySource, TlsRng};
pub use pipe::{duplex, Pipe, PipeClosed, PipeReader, PipeWriter};
pub use self_test::{self_test, SelfTestReport, SELF_TEST_HOST};
pub use pool::POOL_SIZE;
pub use socket::{TlsError, TlsReader, TlsSocket, TlsWriter, INCOMING_BYTES, MAX_PLAINTEXT_RECORD, SCRATCH_BYTES, STAGING_BYTES};

/// How long a client may take to finish its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why TLS could not be switched on.
#[derive(Debug, Clone, PartialEq)]
pub enum SetupError {
    /// No seeded randomness (`set_entropy_source` failed or was not called).
    NoEntropy,
    /// rustls refused the configuration (a key/certificate problem).
    Config(rustls::Error),
}

impl core::fmt::Display for SetupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoEntropy => f.write_str("no entropy source: TLS stays off"),
            Self::Config(error) => write!(f, "TLS configuration refused: {error}"),
        }
    }
}

/// How handshakes ended, for `/stats.json`.
#[derive(Debug, Default)]
pub struct TlsCounters {
    /// Handshakes completed.
    pub handshakes: AtomicU32,
    /// Clients that offered only TLS 1.2 or older (refused with protocol_version).
    pub refused_version: AtomicU32,
    /// Not TLS at all (plain HTTP, random bytes) or malformed records.
    pub malformed: AtomicU32,
    /// Clients that left or reset mid-handshake.
    pub closed_early: AtomicU32,
    /// Clients that stalled past `HANDSHAKE_TIMEOUT`.
    pub timed_out: AtomicU32,
    /// Any other failure (no common cipher suite, bad Finished, …).
    pub other_failures: AtomicU32,
    /// Duration of the last completed handshake, microseconds.
    pub last_handshake_us: AtomicU64,
}

impl TlsCounters {
    /// Connections that did not complete a handshake, for any reason.
    pub fn failures(&self) -> u32 {
        [&self.refused_version, &self.malformed, &self.closed_early, &self.timed_out, &self.other_failures]
            .iter()
            .map(|counter| counter.load(Ordering::Relaxed))
            .sum()
    }
}

/// The TLS server's shared state: the rustls configuration (certificate,
/// key, versions, suites) and the counters. Built once at boot.
pub struct TlsServer {
    config: Arc<ServerConfig>,
    /// Handshake deadline per connection (default `HANDSHAKE_TIMEOUT`).
    pub handshake_timeout: Duration,
    /// Outcome counters.
    pub counters: TlsCounters,
    /// X25519 key pairs and ECDSA nonces made ahead (`refill`).
    pool: Arc<pool::Pool>,
}

impl TlsServer {
    /// The server with the embedded appliance certificate. Fails closed
    /// without seeded entropy.
    pub fn new() -> Result<Self, SetupError> {
        Self::with_identity(SERVER_CERT_DER, crypto::server_key())
    }

    /// The server with another certificate and key (ECDSA P-256, PKCS#8):
    /// for tests.
    pub(crate) fn with_identity(cert_der: &'static [u8], key: rustls::pki_types::PrivateKeyDer<'static>) -> Result<Self, SetupError> {
        crypto::ensure_seeded().map_err(|_| SetupError::NoEntropy)?;
        let pool = Arc::new(pool::Pool::new());
        let provider = Arc::new(crypto::provider(&pool));
        let mut config = ServerConfig::builder_with_details(provider, Arc::new(crypto::BuildEpochClock))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(SetupError::Config)?
            .with_no_client_auth()
            .with_single_cert(alloc::vec![cert_der.into()], key)
            .map_err(SetupError::Config)?;
        // The server's suite order wins: ChaCha20 is the cheaper one here.
        config.ignore_client_order = true;
        // No resumption: no tickets to protect, no session cache to bound.
        config.send_tls13_tickets = 0;
        config.max_early_data_size = 0;
        Ok(Self { config: Arc::new(config), handshake_timeout: HANDSHAKE_TIMEOUT, counters: TlsCounters::default(), pool })
    }

    /// Makes at most `budget` one-time handshake secrets ahead (X25519 key
    /// pairs, ECDSA nonces; a few ms of CPU each on ARMv7, well under one
    /// on AArch64) and returns how many it made: 0 when the pools are full.
    /// Call it when the network has nothing to do, one at a time, so that a
    /// packet waits for at most one item. Handshakes never wait for it: an
    /// empty pool makes its item on the spot.
    /// Fresh device entropy goes into the generator first (what `accept`
    /// did before every handshake, a wait of 1-3 ms on virtio-rng under QEMU),
    /// so every item made here draws on it.
    pub fn refill(&self, budget: usize) -> usize {
        let (keys, nonces) = self.pool.ready();
        if budget == 0 || (keys >= POOL_SIZE && nonces >= POOL_SIZE) {
            return 0;
        }
        let Some(rng) = TlsRng::new() else { return 0 };
        entropy::reseed();
        self.pool.refill(rng, budget)
    }

    /// Items ready in the pools: (X25519 key pairs, ECDSA nonces).
    pub fn pool_ready(&self) -> (usize, usize) {
        self.pool.ready()
    }

    /// Runs the TLS handshake on a freshly accepted connection. On success
    /// the `TlsSocket` goes to picoserve's `serve`; on failure the connection
    /// has been closed (after rustls' alert, if it had one) and the error
    /// says why. Bounded by `handshake_timeout`.
    pub async fn accept<R, S, T>(&self, mut socket: S, timer: &T) -> Result<TlsSocket<S>, TlsError<S::Error>>
    where
        S: picoserve::io::Socket<R>,
        T: picoserve::Timer<R>,
    {
        let started = uptime_us();
        let conn = match phases::timed(phases::Phase::Setup, || rustls::server::UnbufferedServerConnection::new(self.config.clone())) {
            Ok(conn) => conn,
            Err(error) => {
                socket::close(socket, timer, true).await;
                self.counters.other_failures.fetch_add(1, Ordering::Relaxed);
                return Err(TlsError::Tls(error));
            }
        };
        let mut core = phases::timed(phases::Phase::Setup, || socket::Core::new(conn));
        let error = match timer.run_with_timeout(self.handshake_timeout, core.handshake(&mut socket)).await {
            Ok(Ok(())) => {
                let wall_us = uptime_us().saturating_sub(started);
                self.counters.handshakes.fetch_add(1, Ordering::Relaxed);
                self.counters.last_handshake_us.store(wall_us, Ordering::Relaxed);
                phases::handshake_done(wall_us);
                return Ok(TlsSocket::new(socket, core));
            }
            Ok(Err(error)) => error,
            Err(_) => TlsError::Timeout,
        };
        self.count(&error);
        log::debug!("TLS handshake failed: {error}");
        socket::deliver(&mut socket, core.pending_output(), timer).await;
        socket::close(socket, timer, !matches!(error, TlsError::Timeout)).await;
        Err(error)
    }

    fn count<E>(&self, error: &TlsError<E>) {
        use rustls::{Error, PeerIncompatible};
        let counter = match error {
            TlsError::Tls(Error::PeerIncompatible(
                PeerIncompatible::Tls12NotOffered | PeerIncompatible::Tls12NotOfferedOrEnabled | PeerIncompatible::SupportedVersionsExtensionRequired,
            )) => &self.counters.refused_version,
            TlsError::Tls(Error::InvalidMessage(_) | Error::PeerSentOversizedRecord | Error::DecryptError) => &self.counters.malformed,
            TlsError::ClosedInHandshake | TlsError::Io(_) => &self.counters.closed_early,
            TlsError::Timeout => &self.counters.timed_out,
            _ => &self.counters.other_failures,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
