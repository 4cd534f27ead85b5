//! A minimal single-core async executor: boxed tasks, each with its own
//! waker, polled when woken.
//!
//! Hand-written rather than embassy-executor because the kernel has one
//! core, no interrupt handlers and a fixed set of tasks (one per connection
//! slot, up to a thousand and more). A waker sets its task's bit in a
//! bitmap, so a pass polls only the tasks whose socket, leaderboard or
//! yield woke them: with hundreds of idle slots, a packet costs one task's
//! poll, not hundreds. Timers are coarse: a sleeping task registers its
//! deadline, and once the earliest one passes the network loop asks for a
//! full pass (`wake_all`), which polls every task and collects the
//! deadlines again.

#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};

/// Which tasks were woken since they were last polled, a bit each, and
/// whether every task should be (a full pass).
struct ReadyTasks {
    bits: Vec<AtomicU32>,
    all: AtomicBool,
}

impl ReadyTasks {
    fn set(&self, task: usize) {
        if let Some(word) = self.bits.get(task / 32) {
            word.fetch_or(1 << (task % 32), Ordering::Release);
        } else {
            // A task spawned after the bitmap was sized: poll everyone.
            self.all.store(true, Ordering::Release);
        }
    }

    fn any(&self) -> bool {
        self.all.load(Ordering::Acquire) || self.bits.iter().any(|word| word.load(Ordering::Acquire) != 0)
    }
}

/// One task's waker: sets its bit.
struct TaskWaker {
    task: usize,
    ready: Arc<ReadyTasks>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.ready.set(self.task);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.set(self.task);
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

/// A task and the waker that marks it ready.
struct Task<'a> {
    future: Option<Pin<Box<dyn Future<Output = ()> + 'a>>>,
    waker: Waker,
}

/// Runs a fixed set of tasks; a task that finishes is dropped.
pub struct Executor<'a> {
    tasks: Vec<Task<'a>>,
    ready: Arc<ReadyTasks>,
    deadlines: &'a Deadlines,
    polled: bool,
}

impl<'a> Executor<'a> {
    /// An executor for up to about `capacity` tasks (more still run, each
    /// wake-up of those costs a full pass) whose sleeping tasks register in
    /// `deadlines`.
    pub fn new(deadlines: &'a Deadlines, capacity: usize) -> Self {
        let bits = (0..capacity.div_ceil(32)).map(|_| AtomicU32::new(0)).collect();
        let ready = Arc::new(ReadyTasks { bits, all: AtomicBool::new(true) });
        Self { tasks: Vec::with_capacity(capacity), ready, deadlines, polled: false }
    }

    /// Adds a task; it is first polled on the next pass.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + 'a) {
        let index = self.tasks.len();
        let waker = Waker::from(Arc::new(TaskWaker { task: index, ready: self.ready.clone() }));
        self.tasks.push(Task { future: Some(Box::pin(task)), waker });
        self.ready.set(index);
    }

    /// Polls the tasks woken since the last pass (every task after
    /// `wake_all`). Returns true if a task was woken again meanwhile (a
    /// yield): another pass is due straight away.
    pub fn run_pass(&mut self) -> bool {
        self.polled = false;
        if self.ready.all.swap(false, Ordering::AcqRel) {
            self.ready.bits.iter().for_each(|word| word.store(0, Ordering::Release));
            self.deadlines.clear();
            for index in 0..self.tasks.len() {
                self.poll(index);
            }
        } else {
            for word_index in 0..self.ready.bits.len() {
                let mut word = self.ready.bits[word_index].swap(0, Ordering::AcqRel);
                while word != 0 {
                    let bit = word.trailing_zeros() as usize;
                    word &= word - 1;
                    self.poll(word_index * 32 + bit);
                }
            }
        }
        self.ready.any()
    }

    /// True if the last pass polled any task.
    pub fn polled_any(&self) -> bool {
        self.polled
    }

    fn poll(&mut self, index: usize) {
        let Some(task) = self.tasks.get_mut(index) else { return };
        self.polled = true;
        if let Some(future) = &mut task.future {
            if future.as_mut().poll(&mut Context::from_waker(&task.waker)).is_ready() {
                task.future = None;
            }
        }
    }

    /// Polls every task on the next pass: a deadline passed, or something
    /// without a waker (an eviction, a device) changed what they wait for.
    pub fn wake_all(&self) {
        self.ready.all.store(true, Ordering::Release);
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
    use alloc::vec;
    use core::cell::{Cell, RefCell};

    #[test]
    fn tasks_run_until_they_wait_and_again_when_woken() {
        let steps = Cell::new(0);
        let deadlines = Deadlines::new();
        let mut executor = Executor::new(&deadlines, 4);
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
    fn only_the_woken_task_is_polled() {
        let polls = [Cell::new(0), Cell::new(0), Cell::new(0)];
        let parked: RefCell<Vec<Option<Waker>>> = RefCell::new(vec![None, None, None]);
        let deadlines = Deadlines::new();
        let mut executor = Executor::new(&deadlines, 2);
        for (n, count) in polls.iter().enumerate() {
            let parked = &parked;
            executor.spawn(core::future::poll_fn(move |cx| {
                count.set(count.get() + 1);
                parked.borrow_mut()[n] = Some(cx.waker().clone());
                Poll::<()>::Pending
            }));
        }
        assert!(!executor.run_pass());
        assert_eq!(polls.each_ref().map(Cell::get), [1, 1, 1]);
        parked.borrow()[1].as_ref().unwrap().wake_by_ref();
        assert!(!executor.run_pass());
        assert_eq!(polls.each_ref().map(Cell::get), [1, 2, 1], "one wake-up, one poll");
        executor.wake_all();
        executor.run_pass();
        assert_eq!(polls.each_ref().map(Cell::get), [2, 3, 2]);
        assert!(!executor.run_pass(), "nothing woke: nothing polled");
        assert_eq!(polls.each_ref().map(Cell::get), [2, 3, 2]);
    }

    #[test]
    fn a_task_beyond_the_capacity_still_runs_when_woken() {
        let steps = Cell::new(0);
        let deadlines = Deadlines::new();
        let mut executor = Executor::new(&deadlines, 0);
        executor.spawn(async {
            steps.set(steps.get() + 1);
            yield_now().await;
            steps.set(steps.get() + 1);
        });
        assert!(executor.run_pass(), "its yield asks for a (full) pass");
        executor.run_pass();
        assert_eq!(steps.get(), 2);
    }

    #[test]
    fn a_finished_task_is_not_polled_again() {
        let deadlines = Deadlines::new();
        let mut executor = Executor::new(&deadlines, 4);
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
        let mut executor = Executor::new(&deadlines, 4);
        executor.spawn(Sleep::until(5_000, fixed_now, &deadlines));
        executor.spawn(Sleep::until(3_000, fixed_now, &deadlines));
        executor.run_pass();
        assert_eq!(deadlines.earliest(), Some(3_000));
    }
}
