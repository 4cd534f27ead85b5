//! Per-client token buckets, so that one phone cannot flood the
//! leaderboard with seeds or posts.
//!
//! Clients are keyed by their IPv4 address (the appliance hands them out by
//! DHCP); the table is small and fixed, the client least recently seen is
//! forgotten first. Time comes in as milliseconds from the caller.

#![deny(unsafe_code)]

/// Requests a client may make in a burst.
pub const BURST: u32 = 20;
/// One more request allowed every this many milliseconds.
pub const REFILL_MS: u64 = 2_000;
/// Clients remembered at once.
const CLIENTS: usize = 32;

#[derive(Clone, Copy)]
struct Bucket {
    client: u32,
    tokens: u32,
    /// When `tokens` was last brought up to date.
    at_ms: u64,
}

/// The buckets of the clients seen lately.
pub struct RateLimiter {
    buckets: [Option<Bucket>; CLIENTS],
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimiter {
    /// Nobody seen yet.
    pub const fn new() -> Self {
        Self { buckets: [None; CLIENTS] }
    }

    /// Takes one token from `client`'s bucket; false when it is empty.
    pub fn allow(&mut self, client: u32, now_ms: u64) -> bool {
        let index = match self.buckets.iter().position(|b| b.is_some_and(|b| b.client == client)) {
            Some(index) => index,
            None => {
                // A free entry, else the one refilled longest ago.
                let index = self
                    .buckets
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, b)| b.map_or(0, |b| b.at_ms + 1))
                    .map_or(0, |(index, _)| index);
                self.buckets[index] = Some(Bucket { client, tokens: BURST, at_ms: now_ms });
                index
            }
        };
        let Some(bucket) = self.buckets[index].as_mut() else { return false };
        let earned = now_ms.saturating_sub(bucket.at_ms) / REFILL_MS;
        if earned > 0 {
            bucket.tokens = (u64::from(bucket.tokens) + earned).min(u64::from(BURST)) as u32;
            bucket.at_ms += earned * REFILL_MS;
        }
        if bucket.tokens == 0 {
            return false;
        }
        bucket.tokens -= 1;
        if bucket.tokens == BURST - 1 {
            // A full bucket earns nothing while it waits.
            bucket.at_ms = now_ms;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_request_per_refill() {
        let mut limiter = RateLimiter::new();
        for _ in 0..BURST {
            assert!(limiter.allow(7, 1_000));
        }
        assert!(!limiter.allow(7, 1_000));
        assert!(!limiter.allow(7, 1_000 + REFILL_MS - 1));
        assert!(limiter.allow(7, 1_000 + REFILL_MS));
        assert!(!limiter.allow(7, 1_000 + REFILL_MS));
    }

    #[test]
    fn clients_have_their_own_buckets() {
        let mut limiter = RateLimiter::new();
        for _ in 0..BURST {
            assert!(limiter.allow(1, 0));
        }
        assert!(!limiter.allow(1, 0));
        assert!(limiter.allow(2, 0));
    }

    #[test]
    fn a_quiet_client_is_forgotten_when_the_table_is_full() {
        let mut limiter = RateLimiter::new();
        for _ in 0..BURST {
            limiter.allow(1, 0);
        }
        for client in 2..=CLIENTS as u32 + 1 {
            assert!(limiter.allow(client, 10));
        }
        // Client 1 was the oldest: it starts again with a full bucket.
        assert!(limiter.allow(1, 20));
    }
}
