//! The rustls crypto provider, trimmed to what the appliance uses, plus the
//! embedded key material and the clock.
//!
//! Cipher suites (AEAD, hash, HKDF glue) come from `rustls-rustcrypto`. Key
//! exchange and signing are written here against the RustCrypto curves so
//! that they draw from our seeded generator (`entropy::TlsRng`) and so that
//! the image carries only X25519, P-256 and ECDSA P-256: the provider's own
//! tables would also link RSA, P-384 and Ed25519 code that no handshake here
//! can use.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use p256::pkcs8::DecodePrivateKey;
use rustls::crypto::{
    ActiveKeyExchange, CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, SharedSecret, SupportedKxGroup,
    WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{PrivateKeyDer, UnixTime};
use rustls::sign::{Signer, SigningKey};
use rustls::time_provider::TimeProvider;
use rustls::{Error, NamedGroup, PeerMisbehaved, SignatureAlgorithm, SignatureScheme};
use spin::Mutex;

use super::entropy::{self, TlsRng};
use super::phases::{self, timed, Phase};
use super::pool::{self, Pool, X25519Pair};

mod material {
    include!(concat!(env!("OUT_DIR"), "/tls_material.rs"));
}

/// The demo CA certificate (DER) the appliance certificate was issued by:
/// public, the self-test's trust anchor, and what phones must trust.
pub static CA_CERT_DER: &[u8] = material::CA_CERT_DER;
/// The appliance certificate (DER) for `2048.home.arpa`, `10.42.0.1`,
/// `127.0.0.1` and `localhost`.
pub static SERVER_CERT_DER: &[u8] = material::SERVER_CERT_DER;
/// The appliance key (PKCS#8 DER). Private to this module: it is handed to
/// rustls once and never logged, printed or served.
static SERVER_KEY_DER: &[u8] = material::SERVER_KEY_DER;
/// SHA-256 fingerprint of the CA certificate, for the boot log.
pub const CA_FINGERPRINT: &str = material::CA_FINGERPRINT;
/// Wall-clock time (seconds since 1970) when the image was built: the
/// appliance has no real-time clock, so "now" is this plus uptime.
pub const BUILD_EPOCH_SECS: u64 = material::BUILD_EPOCH_SECS;

/// The appliance's key, for building the rustls configuration.
pub(super) fn server_key() -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(SERVER_KEY_DER.into())
}

/// Microseconds since power-on, as the kernel provides it.
pub type UptimeSource = fn() -> u64;

static UPTIME: Mutex<Option<UptimeSource>> = Mutex::new(None);

/// Installs the kernel's monotonic clock. Until then "now" is the build time.
pub fn set_uptime_source(uptime_us: UptimeSource) {
    *UPTIME.lock() = Some(uptime_us);
}

/// Microseconds since power-on (0 before `set_uptime_source`).
pub fn uptime_us() -> u64 {
    let source = *UPTIME.lock();
    source.map_or(0, |uptime| uptime())
}

/// Best guess at wall-clock time: build time plus uptime.
pub fn unix_time_secs() -> u64 {
    BUILD_EPOCH_SECS + uptime_us() / 1_000_000
}

/// rustls' clock. A server only needs it for ticket ages (no tickets here).
#[derive(Debug)]
pub(super) struct BuildEpochClock;

impl TimeProvider for BuildEpochClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(Duration::from_secs(unix_time_secs())))
    }
}

/// The provider: ChaCha20-Poly1305 first (fast in software on CPUs without
/// AES instructions, and the server picks), AES-128-GCM for everyone else
/// (every TLS 1.3 client has it; embedded-tls has only AES-GCM); X25519 and
/// P-256 key exchange; ECDSA P-256 keys. X25519 key pairs and ECDSA nonces
/// come from `pool`. One provider per `TlsServer`, which lives for ever: its
/// two pool-holding parts are leaked to get the `'static` rustls wants.
pub(super) fn provider(pool: &Arc<Pool>) -> CryptoProvider {
    let x25519: &'static X25519 = Box::leak(Box::new(X25519 { pool: pool.clone() }));
    let keys: &'static Keys = Box::leak(Box::new(Keys { pool: pool.clone() }));
    CryptoProvider {
        cipher_suites: vec![
            phases::suite(rustls_rustcrypto::TLS13_CHACHA20_POLY1305_SHA256),
            phases::suite(rustls_rustcrypto::TLS13_AES_128_GCM_SHA256),
        ],
        kx_groups: vec![x25519, &P256],
        // Only used to verify client certificates, which this server never asks for.
        signature_verification_algorithms: WebPkiSupportedAlgorithms { all: &[], mapping: &[] },
        secure_random: &Random,
        key_provider: keys,
    }
}

#[derive(Debug)]
struct Random;

impl SecureRandom for Random {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), GetRandomFailed> {
        let mut rng = TlsRng::new().ok_or(GetRandomFailed)?;
        rand_core::RngCore::fill_bytes(&mut rng, bytes);
        Ok(())
    }
}

fn rng() -> Result<TlsRng, Error> {
    TlsRng::new().ok_or(Error::FailedToGetRandomBytes)
}

struct X25519 {
    pool: Arc<Pool>,
}

impl core::fmt::Debug for X25519 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("X25519")
    }
}

impl SupportedKxGroup for X25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let rng = rng()?;
        timed(Phase::KeyShare, || Ok(Box::new(X25519Exchange(self.pool.x25519(rng))) as Box<dyn ActiveKeyExchange>))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

/// One key share: its secret is used by `complete` alone, then erased.
struct X25519Exchange(X25519Pair);

impl ActiveKeyExchange for X25519Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        let peer: [u8; 32] = peer.try_into().map_err(|_| Error::from(PeerMisbehaved::InvalidKeyShare))?;
        let shared = timed(Phase::KeyAgreement, || self.0.secret.diffie_hellman(&peer.into()));
        // RFC 8446 §7.4.2: an all-zero X25519 result must be refused.
        if !shared.was_contributory() {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        self.0.public.as_bytes()
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

#[derive(Debug)]
struct P256;

impl SupportedKxGroup for P256 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        timed(Phase::KeyShare, || {
            let secret = p256::ecdh::EphemeralSecret::random(&mut rng()?);
            let public = p256::EncodedPoint::from(secret.public_key());
            Ok(Box::new(P256Exchange { secret, public: public.as_bytes().to_vec() }) as Box<dyn ActiveKeyExchange>)
        })
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

struct P256Exchange {
    secret: p256::ecdh::EphemeralSecret,
    public: Vec<u8>,
}

impl ActiveKeyExchange for P256Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        // `from_sec1_bytes` rejects points off the curve and the identity.
        let shared = timed(Phase::KeyAgreement, || {
            p256::PublicKey::from_sec1_bytes(peer).map(|peer| self.secret.diffie_hellman(&peer))
        })
        .map_err(|_| Error::from(PeerMisbehaved::InvalidKeyShare))?;
        Ok(SharedSecret::from(&shared.raw_secret_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

struct Keys {
    pool: Arc<Pool>,
}

impl core::fmt::Debug for Keys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Keys")
    }
}

impl KeyProvider for Keys {
    fn load_private_key(&self, key: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, Error> {
        let signing_key = match &key {
            PrivateKeyDer::Pkcs8(der) => p256::ecdsa::SigningKey::from_pkcs8_der(der.secret_pkcs8_der()).ok(),
            _ => None,
        };
        let scalar = signing_key.and_then(|key| pool::signing_scalar(&key.to_bytes().into()));
        let scalar = scalar.ok_or_else(|| Error::General("the appliance key must be an ECDSA P-256 PKCS#8 key".into()))?;
        Ok(Arc::new(EcdsaP256 { key: Arc::new(scalar), pool: self.pool.clone() }))
    }
}

/// The appliance's ECDSA P-256 key (the scalar d). `Debug` shows nothing of it.
struct EcdsaP256 {
    key: Arc<p256_arith::Scalar>,
    pool: Arc<Pool>,
}

impl core::fmt::Debug for EcdsaP256 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EcdsaP256 { .. }")
    }
}

impl SigningKey for EcdsaP256 {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| Box::new(EcdsaP256 { key: self.key.clone(), pool: self.pool.clone() }) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl Signer for EcdsaP256 {
    /// ECDSA with a pooled nonce (`pool::Nonce`: random k, k·G made ahead),
    /// DER-encoded as TLS wants it.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use sha2::{Digest, Sha256};
        let rng = rng()?;
        timed(Phase::Signature, || {
            let z: [u8; 32] = Sha256::digest(message).into();
            // s = 0 has probability about 2⁻²⁵⁶ per nonce: then the next one.
            let (r, s) = loop {
                if let Some(signature) = self.pool.nonce(rng).sign(&self.key, &z) {
                    break signature;
                }
            };
            let signature = p256::ecdsa::Signature::from_scalars(r, s).map_err(|_| Error::General("ECDSA signing failed".into()))?;
            Ok(signature.to_der().as_bytes().to_vec())
        })
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}

/// Checks that the generator is seeded (for callers that want a clear
/// error before building anything).
pub(super) fn ensure_seeded() -> Result<(), entropy::EntropyError> {
    if entropy::is_seeded() {
        Ok(())
    } else {
        Err(entropy::EntropyError::NoSource)
    }
}
