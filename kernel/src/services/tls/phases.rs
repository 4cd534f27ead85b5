//! Where a TLS handshake's server time goes, by phase, on the kernel's own
//! clock (`uptime_us`): built only with the Cargo feature `tls-phases`
//! (`bench/tls.sh` does); without it `timed` is a plain call.
//!
//! Times are exclusive: a phase entered inside another (the key agreement
//! inside rustls' key schedule, the transcript hash inside rustls) pauses the
//! outer one, so the phases add up to the server's CPU in the handshake.
//! Every `REPORT_EVERY` handshakes the means go to the serial log as one
//! `TLS phases:` line of `name=µs` pairs, and the sums start again.

/// A part of the handshake's server work.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(not(feature = "tls-phases"), allow(dead_code))]
pub(super) enum Phase {
    /// rustls' connection state and this module's buffers (allocation).
    Setup,
    /// The ephemeral key pair for the key share (X25519 or P-256).
    KeyShare,
    /// The shared secret from the client's key share.
    KeyAgreement,
    /// ECDSA P-256 over the transcript (CertificateVerify).
    Signature,
    /// SHA-256 of the transcript.
    Transcript,
    /// HKDF/HMAC: the TLS 1.3 key schedule and the Finished MACs.
    KeySchedule,
    /// AEAD sealing and opening of the encrypted handshake records.
    Records,
    /// Everything else inside rustls: parsing the ClientHello, encoding
    /// ServerHello, the certificate chain, extensions; its allocations.
    Rustls,
}

#[cfg(feature = "tls-phases")]
pub(super) use imp::{handshake_done, suite, timed, timing};

#[cfg(not(feature = "tls-phases"))]
#[inline(always)]
pub(super) fn timed<T>(_phase: Phase, f: impl FnOnce() -> T) -> T {
    f()
}

/// Whether the calls in `f` count as handshake work (no-op without the feature).
#[cfg(not(feature = "tls-phases"))]
#[inline(always)]
pub(super) fn timing<T>(_on: bool, f: impl FnOnce() -> T) -> T {
    f()
}

#[cfg(not(feature = "tls-phases"))]
#[inline(always)]
pub(super) fn handshake_done(_wall_us: u64) {}

#[cfg(not(feature = "tls-phases"))]
#[inline(always)]
pub(super) fn suite(suite: rustls::SupportedCipherSuite) -> rustls::SupportedCipherSuite {
    suite
}

#[cfg(feature = "tls-phases")]
mod imp {
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    use rustls::crypto::cipher::{
        AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv, MessageDecrypter, MessageEncrypter, OutboundOpaqueMessage,
        OutboundPlainMessage, Tls13AeadAlgorithm, UnsupportedOperationError,
    };
    use rustls::crypto::tls13::{Hkdf, HkdfExpander, OkmBlock, OutputLengthError};
    use rustls::crypto::{hash, hmac, ActiveKeyExchange, CipherSuiteCommon};
    use rustls::{ConnectionTrafficSecrets, Error, SupportedCipherSuite, Tls13CipherSuite};
    use spin::Mutex;

    use super::Phase;
    use crate::services::tls::crypto::uptime_us;

    /// Handshakes per log line.
    const REPORT_EVERY: u32 = 100;
    const PHASES: [(Phase, &str); 8] = [
        (Phase::Setup, "setup"),
        (Phase::KeyShare, "key_share"),
        (Phase::KeyAgreement, "key_agreement"),
        (Phase::Signature, "signature"),
        (Phase::Transcript, "transcript"),
        (Phase::KeySchedule, "key_schedule"),
        (Phase::Records, "records"),
        (Phase::Rustls, "rustls_other"),
    ];

    struct Books {
        /// Whether calls now belong to a handshake (not to application data).
        on: bool,
        /// Open phases, innermost last, each with the time it last resumed.
        stack: Vec<(Phase, u64)>,
        sums: [u64; PHASES.len()],
        wall: u64,
        handshakes: u32,
    }

    static BOOKS: Mutex<Books> = Mutex::new(Books { on: false, stack: Vec::new(), sums: [0; PHASES.len()], wall: 0, handshakes: 0 });

    fn index(phase: Phase) -> usize {
        PHASES.iter().position(|(p, _)| *p == phase).unwrap_or(0)
    }

    /// Runs `f` as `phase`, pausing the enclosing phase meanwhile.
    pub(in crate::services::tls) fn timed<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
        {
            let mut books = BOOKS.lock();
            if !books.on && phase != Phase::Setup {
                drop(books);
                return f();
            }
            let now = uptime_us();
            if let Some(&(outer, since)) = books.stack.last() {
                books.sums[index(outer)] += now.saturating_sub(since);
            }
            books.stack.push((phase, now));
        }
        let result = f();
        let mut books = BOOKS.lock();
        let now = uptime_us();
        if let Some((inner, since)) = books.stack.pop() {
            books.sums[index(inner)] += now.saturating_sub(since);
        }
        if let Some(top) = books.stack.last_mut() {
            top.1 = now;
        }
        result
    }

    /// Counts the crypto calls in `f` as handshake work when `on`.
    pub(in crate::services::tls) fn timing<T>(on: bool, f: impl FnOnce() -> T) -> T {
        BOOKS.lock().on = on;
        let result = f();
        BOOKS.lock().on = false;
        result
    }

    /// One handshake completed after `wall_us`; logs the means every `REPORT_EVERY`.
    pub(in crate::services::tls) fn handshake_done(wall_us: u64) {
        let mut books = BOOKS.lock();
        books.wall += wall_us;
        books.handshakes += 1;
        if books.handshakes < REPORT_EVERY {
            return;
        }
        let n = u64::from(books.handshakes);
        let mut line = alloc::format!("TLS phases: n={n}");
        let mut cpu = 0;
        for (i, (_, name)) in PHASES.iter().enumerate() {
            cpu += books.sums[i];
            line.push_str(&alloc::format!(" {name}={}", books.sums[i] / n));
        }
        line.push_str(&alloc::format!(" server_cpu={} wall={}", cpu / n, books.wall / n));
        books.sums = [0; PHASES.len()];
        books.wall = 0;
        books.handshakes = 0;
        drop(books);
        log::info!("{line}");
    }

    /// `suite` with its hash, HKDF and AEAD timed.
    pub(in crate::services::tls) fn suite(suite: SupportedCipherSuite) -> SupportedCipherSuite {
        // Irrefutable without rustls' `tls12` feature (the image), not with it (host tests).
        #[allow(irrefutable_let_patterns)]
        let SupportedCipherSuite::Tls13(inner) = suite else { return suite };
        let timed = Tls13CipherSuite {
            common: CipherSuiteCommon {
                suite: inner.common.suite,
                hash_provider: Box::leak(Box::new(TimedHash(inner.common.hash_provider))),
                confidentiality_limit: inner.common.confidentiality_limit,
            },
            hkdf_provider: Box::leak(Box::new(TimedHkdf(inner.hkdf_provider))),
            aead_alg: Box::leak(Box::new(TimedAead(inner.aead_alg))),
            quic: inner.quic,
        };
        SupportedCipherSuite::Tls13(Box::leak(Box::new(timed)))
    }

    struct TimedHash(&'static dyn hash::Hash);
    struct TimedContext(Box<dyn hash::Context>);

    impl hash::Hash for TimedHash {
        fn start(&self) -> Box<dyn hash::Context> {
            Box::new(TimedContext(timed(Phase::Transcript, || self.0.start())))
        }
        fn hash(&self, data: &[u8]) -> hash::Output {
            timed(Phase::Transcript, || self.0.hash(data))
        }
        fn output_len(&self) -> usize {
            self.0.output_len()
        }
        fn algorithm(&self) -> hash::HashAlgorithm {
            self.0.algorithm()
        }
    }

    impl hash::Context for TimedContext {
        fn fork_finish(&self) -> hash::Output {
            timed(Phase::Transcript, || self.0.fork_finish())
        }
        fn fork(&self) -> Box<dyn hash::Context> {
            Box::new(TimedContext(timed(Phase::Transcript, || self.0.fork())))
        }
        fn finish(self: Box<Self>) -> hash::Output {
            timed(Phase::Transcript, || self.0.finish())
        }
        fn update(&mut self, data: &[u8]) {
            timed(Phase::Transcript, || self.0.update(data));
        }
    }

    struct TimedHkdf(&'static dyn Hkdf);
    struct TimedExpander(Box<dyn HkdfExpander>);

    impl Hkdf for TimedHkdf {
        fn extract_from_zero_ikm(&self, salt: Option<&[u8]>) -> Box<dyn HkdfExpander> {
            Box::new(TimedExpander(timed(Phase::KeySchedule, || self.0.extract_from_zero_ikm(salt))))
        }
        fn extract_from_secret(&self, salt: Option<&[u8]>, secret: &[u8]) -> Box<dyn HkdfExpander> {
            Box::new(TimedExpander(timed(Phase::KeySchedule, || self.0.extract_from_secret(salt, secret))))
        }
        fn extract_from_kx_shared_secret(
            &self,
            salt: Option<&[u8]>,
            kx: Box<dyn ActiveKeyExchange>,
            peer: &[u8],
        ) -> Result<Box<dyn HkdfExpander>, Error> {
            // The key agreement inside times itself (crypto.rs).
            let expander = timed(Phase::KeySchedule, || self.0.extract_from_kx_shared_secret(salt, kx, peer))?;
            Ok(Box::new(TimedExpander(expander)))
        }
        fn expander_for_okm(&self, okm: &OkmBlock) -> Box<dyn HkdfExpander> {
            Box::new(TimedExpander(timed(Phase::KeySchedule, || self.0.expander_for_okm(okm))))
        }
        fn hmac_sign(&self, key: &OkmBlock, message: &[u8]) -> hmac::Tag {
            timed(Phase::KeySchedule, || self.0.hmac_sign(key, message))
        }
    }

    impl HkdfExpander for TimedExpander {
        fn expand_slice(&self, info: &[&[u8]], output: &mut [u8]) -> Result<(), OutputLengthError> {
            timed(Phase::KeySchedule, || self.0.expand_slice(info, output))
        }
        fn expand_block(&self, info: &[&[u8]]) -> OkmBlock {
            timed(Phase::KeySchedule, || self.0.expand_block(info))
        }
        fn hash_len(&self) -> usize {
            self.0.hash_len()
        }
    }

    struct TimedAead(&'static dyn Tls13AeadAlgorithm);
    struct TimedEncrypter(Box<dyn MessageEncrypter>);
    struct TimedDecrypter(Box<dyn MessageDecrypter>);

    impl Tls13AeadAlgorithm for TimedAead {
        fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
            Box::new(TimedEncrypter(timed(Phase::Records, || self.0.encrypter(key, iv))))
        }
        fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
            Box::new(TimedDecrypter(timed(Phase::Records, || self.0.decrypter(key, iv))))
        }
        fn key_len(&self) -> usize {
            self.0.key_len()
        }
        fn extract_keys(&self, key: AeadKey, iv: Iv) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
            self.0.extract_keys(key, iv)
        }
    }

    impl MessageEncrypter for TimedEncrypter {
        fn encrypt(&mut self, msg: OutboundPlainMessage<'_>, seq: u64) -> Result<OutboundOpaqueMessage, Error> {
            timed(Phase::Records, || self.0.encrypt(msg, seq))
        }
        fn encrypted_payload_len(&self, payload_len: usize) -> usize {
            self.0.encrypted_payload_len(payload_len)
        }
    }

    impl MessageDecrypter for TimedDecrypter {
        fn decrypt<'a>(&mut self, msg: InboundOpaqueMessage<'a>, seq: u64) -> Result<InboundPlainMessage<'a>, Error> {
            timed(Phase::Records, || self.0.decrypt(msg, seq))
        }
    }
}
