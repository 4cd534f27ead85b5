//! Randomness for TLS: a ChaCha20 generator seeded from the board's entropy
//! source, so a handshake never waits on (or fails with) the device.
//!
//! The kernel hands over its source once (`set_entropy_source`, e.g. a
//! function reading QEMU's virtio-rng); the generator takes a 256-bit seed
//! from it after a basic health check, then mixes in fresh bytes before every
//! handshake when the source has them. Output uses "fast key erasure"
//! (Bernstein): each request runs ChaCha20 under the current key and the first
//! 32 bytes of keystream replace the key, so an attacker reading memory later
//! cannot recover earlier output. Without a seed nothing random is ever
//! produced: `TlsServer::new` and the self-test refuse to start.

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use sha2::{Digest, Sha256};
use spin::Mutex;

/// A board's entropy source: fills the buffer and returns true, or returns
/// false when it has nothing (then the buffer's contents are ignored).
pub type EntropySource = fn(&mut [u8]) -> bool;

struct Generator {
    key: [u8; 32],
    seeded: bool,
    source: Option<EntropySource>,
}

static GENERATOR: Mutex<Generator> = Mutex::new(Generator { key: [0; 32], seeded: false, source: None });

/// Why the generator could not be seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntropyError {
    /// No source was installed.
    NoSource,
    /// The source reported failure.
    SourceFailed,
    /// The source answered with bytes that cannot be random (all one value,
    /// or the same block twice): a broken device or a stub.
    FailedHealthCheck,
}

impl core::fmt::Display for EntropyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NoSource => "no entropy source installed",
            Self::SourceFailed => "the entropy source delivered nothing",
            Self::FailedHealthCheck => "the entropy source failed its health check (constant output)",
        })
    }
}

/// Installs the board's entropy source and seeds the generator from it.
/// On error the source is not installed and TLS stays off (fails closed);
/// HTTP is unaffected. Calling it again with a working source mixes in new
/// entropy.
pub fn set_entropy_source(source: EntropySource) -> Result<(), EntropyError> {
    let seed = healthy_seed(source)?;
    let mut generator = GENERATOR.lock();
    generator.source = Some(source);
    generator.mix(&seed);
    generator.seeded = true;
    Ok(())
}

/// True once a seed has been taken from a healthy source.
pub fn is_seeded() -> bool {
    GENERATOR.lock().seeded
}

/// Mixes 32 fresh bytes from the source into the key, if it has them.
/// Returns whether it did; the generator stays usable either way.
pub(crate) fn reseed() -> bool {
    let mut generator = GENERATOR.lock();
    let Some(source) = generator.source else { return false };
    let mut fresh = [0u8; 32];
    if !source(&mut fresh) {
        return false;
    }
    generator.mix(&fresh);
    true
}

/// Reads two blocks and rejects output that a working source cannot give.
fn healthy_seed(source: EntropySource) -> Result<[u8; 32], EntropyError> {
    let (mut first, mut second) = ([0u8; 32], [0u8; 32]);
    if !source(&mut first) || !source(&mut second) {
        return Err(EntropyError::SourceFailed);
    }
    let constant = |block: &[u8; 32]| block.iter().all(|&b| b == block[0]);
    if first == second || constant(&first) || constant(&second) {
        return Err(EntropyError::FailedHealthCheck);
    }
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&Sha256::new().chain_update(first).chain_update(second).finalize());
    Ok(seed)
}

impl Generator {
    fn mix(&mut self, fresh: &[u8]) {
        let digest = Sha256::new().chain_update(b"2048-appliance tls reseed").chain_update(self.key).chain_update(fresh).finalize();
        self.key.copy_from_slice(&digest);
    }

    fn fill(&mut self, dest: &mut [u8]) {
        // Seeding is checked before any handle to the generator exists
        // (`TlsRng::new`), and a seeded generator never becomes unseeded.
        assert!(self.seeded, "TLS randomness requested before the generator was seeded");
        let mut cipher = ChaCha20::new(&self.key.into(), &[0u8; 12].into());
        let mut next_key = [0u8; 32];
        cipher.apply_keystream(&mut next_key);
        dest.fill(0);
        cipher.apply_keystream(dest);
        self.key = next_key;
    }
}

/// A handle to the seeded generator, as `rand_core` wants it (ECDH and
/// ECDSA nonces on the server, the self-test client's randomness).
#[derive(Debug, Clone, Copy)]
pub struct TlsRng(());

impl TlsRng {
    /// A handle, or `None` while the generator has no seed.
    pub fn new() -> Option<Self> {
        is_seeded().then_some(Self(()))
    }
}

impl rand_core::RngCore for TlsRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        GENERATOR.lock().fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for TlsRng {}

/// `getrandom` for crates that ask for "OS" randomness on bare metal
/// (rustls-rustcrypto and the RustCrypto curves reach for it through
/// `rand_core::OsRng`). The host build keeps the operating system's.
#[cfg(target_os = "none")]
fn getrandom_from_generator(dest: &mut [u8]) -> Result<(), getrandom::Error> {
    let mut generator = GENERATOR.lock();
    if !generator.seeded {
        return Err(getrandom::Error::UNSUPPORTED);
    }
    generator.fill(dest);
    Ok(())
}

#[cfg(target_os = "none")]
getrandom::register_custom_getrandom!(getrandom_from_generator);

#[cfg(test)]
mod tests {
    use super::*;

    fn zeros(buffer: &mut [u8]) -> bool {
        buffer.fill(0);
        true
    }

    fn counter(buffer: &mut [u8]) -> bool {
        use core::sync::atomic::{AtomicU8, Ordering};
        static NEXT: AtomicU8 = AtomicU8::new(1);
        let start = NEXT.fetch_add(1, Ordering::Relaxed);
        buffer.iter_mut().enumerate().for_each(|(i, b)| *b = start.wrapping_add(i as u8));
        true
    }

    #[test]
    fn a_constant_source_is_refused() {
        assert_eq!(healthy_seed(zeros), Err(EntropyError::FailedHealthCheck));
        assert_eq!(healthy_seed(|_| false), Err(EntropyError::SourceFailed));
        assert!(healthy_seed(counter).is_ok());
    }

    #[test]
    fn output_never_repeats_and_erases_its_key() {
        let mut generator = Generator { key: [7; 32], seeded: true, source: None };
        let key_before = generator.key;
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        generator.fill(&mut a);
        assert_ne!(generator.key, key_before);
        generator.fill(&mut b);
        assert_ne!(a, b);
        assert!(!a.iter().all(|&x| x == 0));
    }
}
