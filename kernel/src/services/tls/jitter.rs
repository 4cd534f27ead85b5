//! Entropy from timer jitter, for boards with no random-number device.
//!
//! # What the Allwinner SoCs offer (A10, A20, H3, H5, A64)
//! - No true random-number generator. Their "Security System" has a PRNG
//!   (Linux: `sun4i-ss-prng`) that software seeds: it stretches entropy but
//!   does not make any. A TRNG arrives only with the H6's crypto engine.
//! - The SID eFuses hold a per-chip ID, unique but printed in logs and
//!   readable by anyone with the board: an identifier, not a secret, so it
//!   adds nothing against an attacker and is not mixed in.
//! - Timer jitter: the CPU runs from a PLL while the counters run from the
//!   24 MHz crystal, and a walk over memory that misses the caches waits on
//!   DRAM refresh and bus arbitration. How many counter ticks the same walk
//!   takes therefore varies, as in Linux's jitterentropy. That is the source.
//!
//! # How
//! A sample is the counter delta across a walk of `WALK` accesses over a
//! 64 KiB scratch buffer. Samples are gathered until the most-common-value
//! estimate (NIST SP 800-90B §6.3.1, with a 3σ upper bound on the
//! probability) credits them with twice the bits asked for; then SHA-256
//! conditions them into the output. A stopped counter, or a walk that always
//! takes the same time (QEMU with `-icount`, a broken clock), never reaches
//! the estimate: the call fails, and TLS stays off (fails closed).
//!
//! Written by hand because the crates that do this (`rand_jitter`) need
//! `std` or a platform timer they know; here the board's counter is passed in.

use alloc::vec;
use alloc::vec::Vec;

use sha2::{Digest, Sha256};

/// Memory accesses per sample: a few microseconds on a Cortex-A7.
const WALK: usize = 64;
/// Scratch bytes walked: larger than the L1 data cache of the A7, A8 and A53.
const SCRATCH: usize = 64 * 1024;
/// Odd stride of a bit over a cache line, so consecutive accesses miss.
const STRIDE: usize = 64 * 7 + 4;
/// Samples taken between two estimates.
const BATCH: usize = 128;
/// Give up after this many samples without enough estimated entropy.
const MAX_SAMPLES: usize = 16 * 1024;
/// Estimated bits demanded per output bit.
const SAFETY_FACTOR: u64 = 2;

/// Why jitter gave no entropy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JitterError {
    /// The counter never moved across a walk.
    CounterStopped,
    /// The walk's timing varied too little: `bits` estimated in
    /// `samples` samples, short of what was asked.
    TooLittleJitter {
        /// Estimated min-entropy of everything gathered, in bits.
        bits: u64,
        /// Samples gathered.
        samples: usize,
    },
}

impl core::fmt::Display for JitterError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::CounterStopped => f.write_str("the counter does not advance"),
            Self::TooLittleJitter { bits, samples } => {
                write!(f, "too little timing jitter ({bits} bits estimated in {samples} samples)")
            }
        }
    }
}

/// What one successful call gathered, for the boot log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterReport {
    /// Samples taken.
    pub samples: usize,
    /// Their estimated min-entropy, in bits.
    pub bits: u64,
}

/// Fills `out` with conditioned entropy from the timing of memory walks
/// measured by `counter` (any free-running counter: the finer, the better).
pub fn gather(mut counter: impl FnMut() -> u64, out: &mut [u8]) -> Result<JitterReport, JitterError> {
    let mut scratch = vec![0u8; SCRATCH];
    let mut report = JitterReport { samples: 0, bits: 0 };
    for (index, block) in out.chunks_mut(32).enumerate() {
        let needed = block.len() as u64 * 8 * SAFETY_FACTOR;
        let mut samples = Vec::with_capacity(BATCH * 4);
        let mut position = index * STRIDE;
        let bits = loop {
            for _ in 0..BATCH {
                samples.push(timed_walk(&mut counter, &mut scratch, &mut position));
            }
            if samples.iter().all(|&delta| delta == 0) {
                return Err(JitterError::CounterStopped);
            }
            let bits = min_entropy_bits(&samples);
            if bits >= needed {
                break bits;
            }
            if samples.len() >= MAX_SAMPLES {
                return Err(JitterError::TooLittleJitter { bits, samples: samples.len() });
            }
        };
        let mut hash = Sha256::new().chain_update(b"2048-appliance timer jitter").chain_update((index as u64).to_le_bytes());
        for sample in &samples {
            hash.update(sample.to_le_bytes());
        }
        block.copy_from_slice(&hash.finalize()[..block.len()]);
        report.samples += samples.len();
        report.bits += bits;
    }
    Ok(report)
}

/// Counter ticks taken by one walk over the scratch buffer.
fn timed_walk(counter: &mut impl FnMut() -> u64, scratch: &mut [u8], position: &mut usize) -> u64 {
    let start = counter();
    for _ in 0..WALK {
        *position = (*position + STRIDE) % scratch.len();
        let byte = &mut scratch[*position];
        *byte = core::hint::black_box(byte.wrapping_add(start as u8 | 1));
    }
    counter().wrapping_sub(start)
}

/// Min-entropy of `samples` by the most-common-value estimate: each sample
/// is credited -log2(p), with p the share of the most common value raised by
/// three standard deviations. Integer arithmetic (no floating point here).
fn min_entropy_bits(samples: &[u64]) -> u64 {
    let n = samples.len() as u64;
    if n < 2 {
        return 0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let most_common = sorted.chunk_by(|a, b| a == b).map(|run| run.len() as u64).max().unwrap_or(0);
    let upper = (most_common + 3 * isqrt(most_common) + 1).min(n);
    let per_sample_q16 = log2_q16(n).saturating_sub(log2_q16(upper));
    (n * per_sample_q16) >> 16
}

/// Integer square root, rounded down.
fn isqrt(x: u64) -> u64 {
    if x < 2 {
        return x;
    }
    let mut root = 1u64 << ((64 - x.leading_zeros()).div_ceil(2));
    loop {
        let next = (root + x / root) / 2;
        if next >= root {
            return root;
        }
        root = next;
    }
}

/// log2(x) in 16.16 fixed point, for x ≥ 1 (0 for x = 0).
fn log2_q16(x: u64) -> u64 {
    if x == 0 {
        return 0;
    }
    let whole = u64::from(63 - x.leading_zeros());
    // The mantissa x / 2^whole, in [1, 2), as a 1.31 fixed-point number.
    let mut mantissa = (u128::from(x) << 31) >> whole;
    let mut fraction = 0u64;
    for bit in (0..16).rev() {
        mantissa = (mantissa * mantissa) >> 31;
        if mantissa >= 2 << 31 {
            mantissa >>= 1;
            fraction |= 1 << bit;
        }
    }
    (whole << 16) | fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter that advances by a pseudo-random 0..=spread ticks per read,
    /// as a jittery clock does.
    fn jittery_counter(seed: u64, spread: u64) -> impl FnMut() -> u64 {
        let (mut state, mut now) = (seed | 1, 0u64);
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            now += 40 + state % (spread + 1);
            now
        }
    }

    #[test]
    fn log2_and_isqrt_are_right() {
        assert_eq!(log2_q16(1), 0);
        assert_eq!(log2_q16(2), 1 << 16);
        assert_eq!(log2_q16(1024), 10 << 16);
        let three = log2_q16(3) as f64 / 65536.0;
        assert!((three - 3f64.log2()).abs() < 0.001, "{three}");
        assert_eq!((isqrt(0), isqrt(1), isqrt(15), isqrt(16), isqrt(1 << 40)), (0, 1, 3, 4, 1 << 20));
    }

    #[test]
    fn a_constant_sample_has_no_entropy_and_a_spread_one_has() {
        assert_eq!(min_entropy_bits(&[7; 1000]), 0);
        let spread: Vec<u64> = (0..1024).map(|i| i % 16).collect();
        let bits = min_entropy_bits(&spread);
        assert!((2000..4096).contains(&bits), "{bits}");
    }

    #[test]
    fn a_stopped_counter_fails_closed() {
        let mut out = [0u8; 32];
        assert_eq!(gather(|| 5, &mut out), Err(JitterError::CounterStopped));
        assert_eq!(out, [0; 32]);
    }

    #[test]
    fn a_counter_without_jitter_fails_closed() {
        let mut now = 0;
        let mut out = [0u8; 32];
        let steady = || {
            now += 3;
            now
        };
        assert!(matches!(gather(steady, &mut out), Err(JitterError::TooLittleJitter { samples: MAX_SAMPLES, .. })));
    }

    #[test]
    fn a_jittery_counter_gives_distinct_conditioned_output() {
        let (mut a, mut b) = ([0u8; 48], [0u8; 48]);
        let report = gather(jittery_counter(1, 255), &mut a).unwrap();
        assert!(report.bits >= 48 * 8 * SAFETY_FACTOR, "{report:?}");
        gather(jittery_counter(2, 255), &mut b).unwrap();
        assert_ne!(a, b);
        assert_ne!(a[..32], a[32..48].repeat(2)[..32]);
    }

    #[test]
    fn little_jitter_takes_more_samples_but_still_gets_there() {
        let mut out = [0u8; 32];
        let wide = gather(jittery_counter(3, 255), &mut out).unwrap();
        let narrow = gather(jittery_counter(3, 3), &mut out).unwrap();
        assert!(narrow.samples > wide.samples, "{narrow:?} vs {wide:?}");
    }
}
