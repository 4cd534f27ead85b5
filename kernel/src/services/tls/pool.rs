//! One-time handshake secrets made ahead, in idle time: X25519 key pairs and
//! ECDSA P-256 nonces with their commitments, so that a handshake does only
//! the last cheap step (the shared secret; s = k⁻¹(z + r·d)).
//!
//! Each item is moved out of the pool by the handshake that uses it and
//! erased (zeroize) when dropped; an empty pool makes a fresh item on the
//! spot, so serving never waits for a refill. The curve arithmetic is
//! RustCrypto's: `x25519-dalek` 2 and `p256` 0.14, whose 32-bit limbs suit
//! ARMv7 (0.13's field carries 64-bit limbs on 32-bit targets).
//!
//! Why precomputing k·G is safe: ECDSA needs k secret, uniform in [1, n−1]
//! and never used twice. Here k comes from the seeded ChaCha20 generator
//! (the board's entropy, as every TLS secret) by rejection sampling, so it is
//! uniform and independent of the message; only (k⁻¹, r) are kept, and each
//! pair signs exactly once. RFC 6979 derives k from the message, which
//! precomputation cannot do; what it adds (no reliance on the generator) is
//! given up for the nonces alone, and the generator is what every ephemeral
//! key already relies on.

use alloc::vec::Vec;

use p256_arith::elliptic_curve::ff::PrimeField;
use p256_arith::elliptic_curve::ops::{Invert, Reduce};
use p256_arith::elliptic_curve::Field;
use p256_arith::elliptic_curve::point::AffineCoordinates;
use p256_arith::elliptic_curve::group::Group as _;
use p256_arith::{FieldBytes, NistP256, NonZeroScalar, ProjectivePoint, Scalar};
use primeorder::{LookupTable, Radix16Decomposition, Radix16Digits};
use spin::{Mutex, Once};
use zeroize::Zeroize;

use super::entropy::TlsRng;

/// Items of each kind kept ready: enough for a burst of phones joining at
/// once; an item costs a few milliseconds of idle CPU on ARMv7 to make.
pub const POOL_SIZE: usize = 16;

/// An X25519 key pair for one key share. The secret is consumed by the
/// key agreement (`diffie_hellman` takes it by value) and erased on drop.
pub(super) struct X25519Pair {
    pub(super) secret: x25519_dalek::EphemeralSecret,
    pub(super) public: x25519_dalek::PublicKey,
}

impl X25519Pair {
    fn generate(rng: TlsRng) -> Self {
        let secret = x25519_dalek::EphemeralSecret::random_from_rng(rng);
        let public = x25519_dalek::PublicKey::from(&secret);
        Self { secret, public }
    }
}

/// Multiples of G for a fixed-base k·G: table i holds 1..8 × 2⁸ⁱ·G, the
/// layout and the constant-time selection of primeorder's `BasepointTable`,
/// which needs a lazy static (`std`, or a critical-section implementation
/// this kernel does not have). Built once per server on its first refill
/// (33 × 8 points, about 25 KiB of heap; about one k·G of work); each k·G
/// then costs 65 additions instead of 256 doublings and 64 additions.
struct GeneratorTable(Vec<LookupTable<ProjectivePoint>>);

/// Tables in a `GeneratorTable`: one per byte of a scalar, plus one.
const GENERATOR_TABLES: usize = 33;

impl GeneratorTable {
    fn new() -> Self {
        let mut generator = ProjectivePoint::GENERATOR;
        let tables = (0..GENERATOR_TABLES)
            .map(|_| {
                let table = LookupTable::new(generator);
                for _ in 0..8 {
                    generator = generator.double();
                }
                table
            })
            .collect();
        Self(tables)
    }

    /// k·G in constant time (as `BasepointTable::mul`).
    fn mul(&self, k: &Scalar) -> ProjectivePoint {
        let digits = Radix16Decomposition::<Radix16Digits<NistP256>>::new(k);
        let (tables, last) = (&self.0[..GENERATOR_TABLES - 1], &self.0[GENERATOR_TABLES - 1]);
        let mut even = last.select(digits[2 * (GENERATOR_TABLES - 1)]);
        let mut odd = ProjectivePoint::IDENTITY;
        for (i, table) in tables.iter().enumerate().rev() {
            odd += &table.select(digits[2 * i + 1]);
            even += &table.select(digits[2 * i]);
        }
        for _ in 0..4 {
            odd = odd.double();
        }
        even + odd
    }
}

/// An ECDSA P-256 nonce ready for one signature: k⁻¹ and r = x(k·G) mod n.
/// k itself is not kept. Erased on drop.
pub(super) struct Nonce {
    k_inv: Scalar,
    r: Scalar,
}

impl Drop for Nonce {
    fn drop(&mut self) {
        self.k_inv.zeroize();
        self.r.zeroize();
    }
}

impl Nonce {
    /// k uniform in [1, n−1] (rejection sampling over 32 random bytes, as
    /// `NonZeroScalar::random` does), then the two costly steps: k·G and k⁻¹.
    fn generate(mut rng: TlsRng, table: &GeneratorTable) -> Self {
        loop {
            let mut bytes = FieldBytes::default();
            rand_core::RngCore::fill_bytes(&mut rng, &mut bytes);
            let k = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(bytes));
            bytes.zeroize();
            let Some(mut k) = k else { continue };
            let point = table.mul(&k).to_affine();
            let r = <Scalar as Reduce<FieldBytes>>::reduce(&point.x());
            let k_inv = *Invert::invert(&k);
            k.zeroize();
            // r = 0 happens with probability about 2⁻²⁵⁶; take another k.
            if !bool::from(r.is_zero()) {
                return Self { k_inv, r };
            }
        }
    }

    /// The signature (r, s) over the SHA-256 digest `z`, big-endian scalars,
    /// consuming the nonce; `None` when s = 0 (probability about 2⁻²⁵⁶: the
    /// caller signs with a fresh nonce).
    pub(super) fn sign(self, key: &Scalar, z: &[u8; 32]) -> Option<([u8; 32], [u8; 32])> {
        let z = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*z));
        let mut s = self.k_inv * (z + self.r * key);
        let signature = (!bool::from(s.is_zero())).then(|| (self.r.to_repr().into(), s.to_repr().into()));
        s.zeroize();
        signature
    }
}

/// The signing key as a scalar for `Nonce::sign` (from the PKCS#8 key).
pub(super) fn signing_scalar(secret: &[u8; 32]) -> Option<Scalar> {
    Option::from(Scalar::from_repr(FieldBytes::from(*secret))).filter(|d: &Scalar| !bool::from(d.is_zero()))
}

/// The two pools of one TLS server. Items are only ever moved out, so none
/// can be handed out twice.
pub(super) struct Pool {
    x25519: Mutex<Vec<X25519Pair>>,
    nonces: Mutex<Vec<Nonce>>,
    generator: Once<GeneratorTable>,
}

impl Pool {
    pub(super) const fn new() -> Self {
        Self { x25519: Mutex::new(Vec::new()), nonces: Mutex::new(Vec::new()), generator: Once::new() }
    }

    fn generator(&self) -> &GeneratorTable {
        self.generator.call_once(GeneratorTable::new)
    }

    /// A key pair from the pool, or a fresh one when it is empty.
    pub(super) fn x25519(&self, rng: TlsRng) -> X25519Pair {
        let pooled = self.x25519.lock().pop();
        pooled.unwrap_or_else(|| X25519Pair::generate(rng))
    }

    /// A nonce from the pool, or a fresh one when it is empty.
    pub(super) fn nonce(&self, rng: TlsRng) -> Nonce {
        let pooled = self.nonces.lock().pop();
        pooled.unwrap_or_else(|| Nonce::generate(rng, self.generator()))
    }

    /// Makes at most `budget` items for the emptier pool first. Returns how
    /// many it made (0: both are full). Each item is made outside the lock.
    pub(super) fn refill(&self, rng: TlsRng, budget: usize) -> usize {
        let mut made = 0;
        while made < budget {
            let (keys, nonces) = (self.x25519.lock().len(), self.nonces.lock().len());
            if keys >= POOL_SIZE && nonces >= POOL_SIZE {
                break;
            }
            if keys <= nonces {
                let pair = X25519Pair::generate(rng);
                push_bounded(&self.x25519, pair);
            } else {
                let nonce = Nonce::generate(rng, self.generator());
                push_bounded(&self.nonces, nonce);
            }
            made += 1;
        }
        made
    }

    /// Items ready: (key pairs, nonces).
    pub(super) fn ready(&self) -> (usize, usize) {
        (self.x25519.lock().len(), self.nonces.lock().len())
    }
}

/// Adds `item` unless the pool filled meanwhile (then it is dropped, erased).
fn push_bounded<T>(pool: &Mutex<Vec<T>>, item: T) {
    let mut pool = pool.lock();
    if pool.len() < POOL_SIZE {
        pool.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> TlsRng {
        crate::services::tls::tests::seeded_rng()
    }

    #[test]
    fn every_pooled_key_pair_and_nonce_is_handed_out_once() {
        let pool = Pool::new();
        while pool.refill(rng(), 1) > 0 {}
        assert_eq!(pool.ready(), (POOL_SIZE, POOL_SIZE));
        let mut publics = Vec::new();
        let mut commitments = Vec::new();
        for taken in 1..=POOL_SIZE {
            publics.push(*pool.x25519(rng()).public.as_bytes());
            commitments.push(pool.nonce(rng()).r.to_repr());
            assert_eq!(pool.ready(), (POOL_SIZE - taken, POOL_SIZE - taken));
        }
        // An empty pool makes fresh items: still all distinct.
        publics.push(*pool.x25519(rng()).public.as_bytes());
        commitments.push(pool.nonce(rng()).r.to_repr());
        publics.sort_unstable();
        publics.dedup();
        commitments.sort_unstable();
        commitments.dedup();
        assert_eq!((publics.len(), commitments.len()), (POOL_SIZE + 1, POOL_SIZE + 1));
        assert_eq!(pool.ready(), (0, 0));
    }

    #[test]
    fn refill_stops_when_both_pools_are_full_and_fills_the_emptier_first() {
        let pool = Pool::new();
        assert_eq!(pool.refill(rng(), 3), 3);
        assert_eq!(pool.ready(), (2, 1));
        assert_eq!(pool.refill(rng(), 4 * POOL_SIZE), 2 * POOL_SIZE - 3);
        assert_eq!(pool.refill(rng(), 1), 0);
    }

    #[test]
    fn the_generator_table_multiplies_as_the_curve_does() {
        let table = GeneratorTable::new();
        let mut bytes = FieldBytes::default();
        for round in 0..20 {
            rand_core::RngCore::fill_bytes(&mut rng(), &mut bytes);
            let k = match round {
                0 => Scalar::ZERO,
                1 => Scalar::ONE,
                2 => -Scalar::ONE,
                _ => <Scalar as Reduce<FieldBytes>>::reduce(&bytes),
            };
            assert_eq!(table.mul(&k).to_affine(), (ProjectivePoint::GENERATOR * k).to_affine(), "round {round}");
        }
    }

    #[test]
    fn a_precomputed_nonce_signs_what_p256_verifies() {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        use sha2::{Digest, Sha256};
        let pool = Pool::new();
        let key = p256::ecdsa::SigningKey::random(&mut rng());
        let d = signing_scalar(&key.to_bytes().into()).expect("a valid key");
        for message in [&b"ServerHello"[..], b"", b"another transcript"] {
            let z: [u8; 32] = Sha256::digest(message).into();
            let (r, s) = pool.nonce(rng()).sign(&d, &z).expect("s is not zero");
            let signature = p256::ecdsa::Signature::from_scalars(r, s).expect("r, s in range");
            key.verifying_key().verify_prehash(&z, &signature).expect("verifies");
        }
    }
}
