//! A minimal single-core async executor: boxed tasks polled in turn.
//!
//! Hand-written rather than embassy-executor because the kernel has one
//! core, no interrupt handlers and a fixed set of tasks (one per connection
//! slot): any wake-up simply means "poll every task again", which at 16-64
//! tasks costs less than bookkeeping which one woke. Timers register their
//! deadline so the idle loop knows how long it may sleep.

#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};

/// Set by any waker; cleared when the executor starts a pass over its tasks.
struct WakeFlag(AtomicBool);

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// The earliest deadline (µs since power-on) that a sleeping task waits for.
pub struct Deadlines(AtomicU64);

impl Deadlines {
    /// No deadline yet.
    pub const fn new() -> Self {
        Self(AtomicU64::new(u64::MAX))
    }
    /// Asks for a wake-up no later than `deadline_us`.
    pub fn register(&self, deadline_us: u64) {
        self.0.fetch_min(deadline_us, Ordering::Relaxed);
    }
    fn clear(&self) {
        self.0.store(u64::MAX, Ordering::Relaxed);
    }
    /// The earliest registered deadline.
    pub fn earliest(&self) -> Option<u64> {
        let deadline = self.0.load(Ordering::Relaxed);
        (deadline != u64::MAX).then_some(deadline)
    }
}

impl Default for Deadlines {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs a fixed set of tasks; a task that finishes is dropped.
pub struct Executor<'a> {
    tasks: Vec<Option<Pin<Box<dyn Future<Output = ()> + 'a>>>>,
    flag: Arc<WakeFlag>,
    waker: Waker,
    deadlines: &'a Deadlines,
}

impl<'a> Executor<'a> {
    /// An executor whose sleeping tasks register in `deadlines`.
    pub fn new(deadlines: &'a Deadlines) -> Self {
        let flag = Arc::new(WakeFlag(AtomicBool::new(true)));
        let waker = Waker::from(flag.clone());
        Self { tasks: Vec::new(), flag, waker, deadlines }
    }

    /// Adds a task; it is first polled on the next pass.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + 'a) {
        self.tasks.push(Some(Box::pin(task)));
        self.flag.0.store(true, Ordering::Release);
    }

    /// Polls every task once if anything woke since the last pass. Returns
    /// true if a task asked to run again straight away.
    pub fn run_pass(&mut self) -> bool {
        if !self.flag.0.swap(false, Ordering::AcqRel) {
            return false;
        }
        self.deadlines.clear();
        let mut context = Context::from_waker(&self.waker);
        for slot in &mut self.tasks {
            if let Some(task) = slot {
                if task.as_mut().poll(&mut context).is_ready() {
                    *slot = None;
                }
            }
        }
        self.flag.0.load(Ordering::Acquire)
    }

    /// Wakes every task on the next pass (after the network stack did work).
    pub fn wake_all(&self) {
        self.flag.0.store(true, Ordering::Release);
    }

}

/// A future that completes at `deadline_us` (µs since power-on, per `now_us`).
pub struct Sleep<'d> {
    deadline_us: u64,
    now_us: fn() -> u64,
    deadlines: &'d Deadlines,
}

impl<'d> Sleep<'d> {
    /// Sleeps until `deadline_us` as measured by `now_us`.
    pub fn until(deadline_us: u64, now_us: fn() -> u64, deadlines: &'d Deadlines) -> Self {
        Self { deadline_us, now_us, deadlines }
    }
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if (self.now_us)() >= self.deadline_us {
            Poll::Ready(())
        } else {
            self.deadlines.register(self.deadline_us);
            Poll::Pending
        }
    }
}

/// Gives the other tasks and the network stack one turn.
pub async fn yield_now() {
    let mut yielded = false;
    core::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    #[test]
    fn tasks_run_until_they_wait_and_again_when_woken() {
        let steps = Cell::new(0);
        let deadlines = Deadlines::new();
        let mut executor = Executor::new(&deadlines);
        executor.spawn(async {
            steps.set(steps.get() + 1);
            yield_now().await;
            steps.set(steps.get() + 1);
            core::future::pending::<()>().await;
        });
        assert!(executor.run_pass(), "a yield asks for another pass");
        assert_eq!(steps.get(), 1);
        assert!(!executor.run_pass());
        assert_eq!(steps.get(), 2);
        assert!(!executor.run_pass(), "nothing woke: no pass");
    }

    #[test]
    fn a_finished_task_is_not_polled_again() {
        let deadlines = Deadlines::new();
        let mut executor = Executor::new(&deadlines);
        executor.spawn(async {});
        executor.run_pass();
        executor.wake_all();
        executor.run_pass(); // an `async` block polled after completion would panic here
    }

    #[test]
    fn sleeping_tasks_register_their_deadline() {
        fn fixed_now() -> u64 {
            1_000
        }
        let deadlines = Deadlines::new();
        let mut executor = Executor::new(&deadlines);
        executor.spawn(Sleep::until(5_000, fixed_now, &deadlines));
        executor.spawn(Sleep::until(3_000, fixed_now, &deadlines));
        executor.run_pass();
        assert_eq!(deadlines.earliest(), Some(3_000));
    }
}
