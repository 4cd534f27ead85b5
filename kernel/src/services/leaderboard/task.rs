//! What the network layer tells the leaderboard about the task it runs:
//! the client's address (for the per-client rate limit) and when a live
//! stream next needs to run (so that the idle loop wakes it).
//!
//! picoserve hands a service no peer address and no clock, and tasks run
//! one at a time on one core: the slot task sets its client around every
//! poll (`for_client`), like a task-local, and a live stream's deadline is
//! left in `ALARM`, which the idle loop adds to its own deadlines.

#![deny(unsafe_code)]

use core::future::Future;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use core::task::Poll;

/// IPv4 address of the client whose task is being polled (0: none known).
static CLIENT: AtomicU32 = AtomicU32::new(0);

/// Runs `inner` with `client` (an IPv4 address as a number) as the
/// current client while it is polled.
pub async fn for_client<F: Future>(client: u32, inner: F) -> F::Output {
    let mut inner = core::pin::pin!(inner);
    core::future::poll_fn(|cx| {
        CLIENT.store(client, Ordering::Relaxed);
        let result = inner.as_mut().poll(cx);
        CLIENT.store(0, Ordering::Relaxed);
        result
    })
    .await
}

/// The client of the task being polled; 0 (one shared bucket) when the
/// network layer did not say.
pub fn current_client() -> u32 {
    CLIENT.load(Ordering::Relaxed)
}

/// The earliest time (ms since power-on) a live stream wants to run.
pub struct Alarm(AtomicU64);

/// The live streams' alarm; the network loop reads it with `take`.
pub static ALARM: Alarm = Alarm(AtomicU64::new(u64::MAX));

impl Alarm {
    /// Asks to be polled again no later than `deadline_ms`.
    pub fn register(&self, deadline_ms: u64) {
        self.0.fetch_min(deadline_ms, Ordering::Relaxed);
    }

    /// The earliest deadline asked for since the last call, and forgets it
    /// (waiting tasks ask again each time they are polled).
    pub fn take(&self) -> Option<u64> {
        let deadline = self.0.swap(u64::MAX, Ordering::Relaxed);
        (deadline != u64::MAX).then_some(deadline)
    }
}

/// Resolves once `now_ms()` reaches `deadline_ms`. The network loop polls
/// every task after it wakes, so registering the deadline is enough.
pub fn sleep_until(deadline_ms: u64, now_ms: impl Fn() -> u64) -> impl Future<Output = ()> {
    core::future::poll_fn(move |_| {
        if now_ms() >= deadline_ms {
            Poll::Ready(())
        } else {
            ALARM.register(deadline_ms);
            Poll::Pending
        }
    })
}

/// Waits for whichever of two futures finishes first; true if it was `a`.
pub async fn first<A: Future<Output = ()>, B: Future<Output = ()>>(a: A, b: B) -> bool {
    let (mut a, mut b) = (core::pin::pin!(a), core::pin::pin!(b));
    core::future::poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() {
            return Poll::Ready(true);
        }
        if b.as_mut().poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alarm_keeps_the_earliest_deadline_until_taken() {
        let alarm = Alarm(AtomicU64::new(u64::MAX));
        alarm.register(500);
        alarm.register(200);
        alarm.register(900);
        assert_eq!(alarm.take(), Some(200));
        assert_eq!(alarm.take(), None);
    }
}
