//! The one shape both framework drivers have: [`SchedulerDriver`](crate::scheduler::SchedulerDriver)
//! and [`ExecutorDriver`](crate::executor::ExecutorDriver) are each built from the same four parts.
//!
//! | part | scheduler | executor | what it does |
//! |---|---|---|---|
//! | core | [`scheduler::DriverCore`](crate::scheduler::DriverCore) | [`executor::DriverCore`](crate::executor::DriverCore) | pure bookkeeping: fed messages, timers and calls, returns a list of [`Output`]s (what to send, link, time and call back); no I/O, no clock (the simulator runs these) |
//! | actor | `SchedulerProcess` | `ExecutorProcess` | a `process` actor: turns messages, timers and handle calls into core calls and performs the outputs (one function for both); never runs framework code |
//! | callback thread | `scheduler-driver` | `executor-driver` | runs the framework's callbacks, one at a time, in the order the actor produced them |
//! | handle | [`DriverHandle`](crate::scheduler::DriverHandle) | [`ExecutorDriver`](crate::executor::ExecutorDriver) | cheap to clone, callable from any thread including a callback; a call is a message to the actor |
//!
//! What a framework author can rely on, for both drivers:
//! - callbacks never run on the actor, so a callback may call the driver, block on the driver
//!   (`stop`, `abort`, the executor's `wait_for_acknowledgements`), or take its time: the actor
//!   keeps answering the master or agent meanwhile (only later callbacks wait);
//! - after `stop` or `abort`, callbacks still queued are dropped (a scheduler's `error` callback,
//!   which comes with the abort, is still made);
//! - `join` returns once the driver is stopped or aborted *and* no callback is running, so state
//!   a callback wrote before returning is visible to the code after `run()`; never call `join`
//!   from a callback.
//!
//! Both cores answer every input with the same kind of list, [`Output`]: messages to send, links
//! to make, timers to set and callbacks to make, performed in order. One function performs them
//! for both actors; the simulator performs them for both nodes the same way. The outputs after a
//! callback in one list wait until the callback returned (the scheduler's implicit acknowledgement
//! of a status update is sent only after `status_update` returned, as Mesos's driver does).
//!
//! | output | scheduler | executor |
//! |---|---|---|
//! | `Send(to, m)` | `m`: [`scheduler::ToMaster`](crate::scheduler::ToMaster) | `m`: [`executor::ToAgent`](crate::executor::ToAgent) |
//! | `Callback(c)` | `c`: [`scheduler::Callback`](crate::scheduler::Callback) | `c`: [`executor::Callback`](crate::executor::Callback) |
//! | `Link(pid)` | the master | the agent |
//! | `Timer { after, timer }` | retry the registration ([`scheduler::Timer`](crate::scheduler::Timer)) | knock on a restarting agent, give up on it ([`executor::Timer`](crate::executor::Timer)) |

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use process::{Context, Process, Upid};

/// What a driver core asks its actor (or the simulator) to do; a core returns a list of them, to
/// be performed in order. `M` is a message for the master or agent, `C` a callback, `T` a timer.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<M, C, T> {
    /// Send `M` to this process.
    Send(Upid, M),
    /// Make this callback; the outputs after it in the same list wait until it returned.
    Callback(C),
    /// Link to this process, so its loss (or the connection's) comes back as `exited`.
    Link(Upid),
    /// Hand `timer` back to the core (its `timer_fired`) after `after`.
    Timer {
        /// How long to wait.
        after: Duration,
        /// What the core is told when it fires.
        timer: T,
    },
}

/// One callback for the callback thread, and the outputs that followed it (the thread hands them
/// back to the actor once the callback returned).
pub(crate) struct CallbackJob<C, O> {
    pub(crate) callback: C,
    pub(crate) then: Vec<O>,
}

/// The outputs of a driver actor's core.
pub(crate) type OutputOf<A> =
    Output<<A as DriverActor>::Message, <A as DriverActor>::Callback, <A as DriverActor>::Timer>;

/// A driver actor: the few things [`perform`] needs that differ between the two drivers.
pub(crate) trait DriverActor: Process {
    /// A message its core sends.
    type Message;
    /// A callback its core makes.
    type Callback: Send + 'static;
    /// A timer its core sets.
    type Timer: Send + 'static;
    /// Sends `message` to `to` (the scheduler may hold a registration for authentication).
    fn send_message(&mut self, ctx: &mut Context<'_, Self>, to: &Upid, message: Self::Message);
    /// The core's answer to a timer that fired.
    fn timer_fired(&mut self, timer: Self::Timer) -> Vec<OutputOf<Self>>;
    /// Where callbacks go to the callback thread.
    fn callbacks(&self) -> &CallbackQueue<CallbackJob<Self::Callback, OutputOf<Self>>>;
    /// Called after each list was performed (the scheduler publishes its core's status).
    fn performed(&mut self) {}
}

/// Performs a core's `outputs` in order on `actor`: sends, links, timers (whose firing goes back
/// to the core and is performed the same way); a callback goes to the callback thread with the
/// outputs after it, which come back here once it returned.
pub(crate) fn perform<A: DriverActor>(
    actor: &mut A,
    ctx: &mut Context<'_, A>,
    outputs: Vec<OutputOf<A>>,
) {
    let mut outputs = outputs.into_iter();
    while let Some(output) = outputs.next() {
        match output {
            Output::Send(to, message) => actor.send_message(ctx, &to, message),
            Output::Link(to) => ctx.link(&to),
            Output::Timer { after, timer } => {
                ctx.delay(after, move |actor: &mut A, ctx| {
                    let out = actor.timer_fired(timer);
                    perform(actor, ctx, out);
                });
            }
            Output::Callback(callback) => {
                let then = outputs.by_ref().collect();
                actor.callbacks().push(CallbackJob { callback, then });
            }
        }
    }
    actor.performed();
}

/// A driver's life cycle, as Mesos's `Status` (`DRIVER_RUNNING`, ...); the same for both drivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriverStatus {
    /// Created, `start` not called yet.
    NotStarted,
    /// Started (registered or trying to).
    Running,
    /// Aborted by `abort`, a master error, or (executor) losing the agent.
    Aborted,
    /// Stopped by `stop` (or, for an executor, after its shutdown).
    Stopped,
}

impl std::fmt::Display for DriverStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DriverStatus::NotStarted => "DRIVER_NOT_STARTED",
            DriverStatus::Running => "DRIVER_RUNNING",
            DriverStatus::Aborted => "DRIVER_ABORTED",
            DriverStatus::Stopped => "DRIVER_STOPPED",
        })
    }
}

/// The status shared by a driver's actor, callback thread and handles; `join` waits on it.
pub(crate) struct Lifecycle {
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    status: DriverStatus,
    /// A framework callback is running right now.
    in_callback: bool,
}

impl Lifecycle {
    pub(crate) fn new() -> Arc<Lifecycle> {
        Arc::new(Lifecycle {
            state: Mutex::new(State {
                status: DriverStatus::NotStarted,
                in_callback: false,
            }),
            changed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn status(&self) -> DriverStatus {
        self.lock().status
    }

    /// `start`: NotStarted becomes Running. Returns the status before.
    pub(crate) fn begin(&self) -> DriverStatus {
        let mut state = self.lock();
        let before = state.status;
        if before == DriverStatus::NotStarted {
            state.status = DriverStatus::Running;
        }
        before
    }

    /// The actor publishes its core's status (a core that has not seen `start` yet does not undo
    /// it).
    pub(crate) fn publish(&self, status: DriverStatus) {
        if status == DriverStatus::NotStarted {
            return;
        }
        let mut state = self.lock();
        if state.status != status {
            state.status = status;
            self.changed.notify_all();
        }
    }

    /// Ends a running (or never started) driver with `status`; `Err` with the status it already
    /// ended with otherwise.
    pub(crate) fn end(&self, status: DriverStatus) -> Result<(), DriverStatus> {
        let mut state = self.lock();
        match state.status {
            DriverStatus::Running | DriverStatus::NotStarted => {
                state.status = status;
                self.changed.notify_all();
                Ok(())
            }
            other => Err(other),
        }
    }

    fn set_in_callback(&self, in_callback: bool) {
        self.lock().in_callback = in_callback;
        self.changed.notify_all();
    }

    /// Blocks until the driver has ended and no callback is running; returns how it ended
    /// (`NotStarted` at once for a driver never started).
    pub(crate) fn join(&self) -> DriverStatus {
        loop {
            if let Some(status) = self.join_timeout(Duration::from_secs(3600)) {
                return status;
            }
        }
    }

    /// As [`join`](Self::join), for at most `timeout`.
    pub(crate) fn join_timeout(&self, timeout: Duration) -> Option<DriverStatus> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while state.status == DriverStatus::Running
            || (state.status != DriverStatus::NotStarted && state.in_callback)
        {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Some(state.status)
    }
}

/// Where the actor queues callbacks for the callback thread. Sending never blocks the actor.
pub(crate) struct CallbackQueue<E> {
    tx: Sender<E>,
}

impl<E> CallbackQueue<E> {
    /// Queues `event`; dropped if the callback thread is gone (the driver ended).
    pub(crate) fn push(&self, event: E) {
        let _ = self.tx.send(event);
    }
}

/// The callback thread's end of the queue, until the thread is started.
pub(crate) struct CallbackReceiver<E> {
    rx: Receiver<E>,
}

/// A queue from a driver's actor to its callback thread.
pub(crate) fn callback_queue<E>() -> (CallbackQueue<E>, CallbackReceiver<E>) {
    let (tx, rx) = mpsc::channel();
    (CallbackQueue { tx }, CallbackReceiver { rx })
}

/// What the callback thread does after a callback.
pub(crate) enum Next {
    /// Wait for the next callback.
    Continue,
    /// The driver is done; the thread ends.
    Exit,
}

impl<E: Send + 'static> CallbackReceiver<E> {
    /// Starts the callback thread `name`: it takes the queued callbacks in order and hands each
    /// to `run`, while the driver runs (or, after it ended, those `after_end` accepts). It ends
    /// when `run` says so or the actor is gone (its queue dropped).
    ///
    /// # Errors
    /// When the OS refuses a thread.
    pub(crate) fn start(
        self,
        name: &str,
        lifecycle: Arc<Lifecycle>,
        after_end: fn(&E) -> bool,
        mut run: impl FnMut(E) -> Next + Send + 'static,
    ) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                while let Ok(event) = self.rx.recv() {
                    let status = lifecycle.status();
                    if status != DriverStatus::Running && !after_end(&event) {
                        continue;
                    }
                    lifecycle.set_in_callback(true);
                    let next = run(event);
                    lifecycle.set_in_callback(false);
                    if matches!(next, Next::Exit) {
                        break;
                    }
                }
            })
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_waits_for_the_running_callback_after_the_driver_ended() {
        let lifecycle = Lifecycle::new();
        assert_eq!(
            lifecycle.join_timeout(Duration::ZERO),
            Some(DriverStatus::NotStarted)
        );
        assert_eq!(lifecycle.begin(), DriverStatus::NotStarted);
        let (queue, receiver) = callback_queue::<u32>();
        let (release_tx, release) = mpsc::channel::<()>();
        let (ran_tx, ran) = mpsc::channel();
        let inside = lifecycle.clone();
        receiver
            .start(
                "test-callbacks",
                lifecycle.clone(),
                |_| false,
                move |n| {
                    // The callback ends the driver, then goes on until released.
                    assert_eq!(inside.end(DriverStatus::Stopped), Ok(()));
                    let _ = release.recv_timeout(Duration::from_secs(30));
                    let _ = ran_tx.send(n);
                    Next::Continue
                },
            )
            .unwrap();
        queue.push(1);
        queue.push(2);
        assert_eq!(ran.recv_timeout(Duration::ZERO).ok(), None);
        // Ended, but the callback still runs: join waits for it.
        process::testing::wait_until("the driver to end", Duration::from_secs(30), || {
            lifecycle.status() == DriverStatus::Stopped
        });
        assert_eq!(lifecycle.join_timeout(Duration::from_millis(50)), None);
        release_tx.send(()).unwrap();
        assert_eq!(
            lifecycle.join_timeout(Duration::from_secs(30)),
            Some(DriverStatus::Stopped)
        );
        assert_eq!(ran.recv_timeout(Duration::from_secs(30)), Ok(1));
        // The second callback was queued before the end, and is dropped after it.
        release_tx.send(()).unwrap();
        assert!(ran.recv_timeout(Duration::from_millis(200)).is_err());
        assert_eq!(
            lifecycle.end(DriverStatus::Aborted),
            Err(DriverStatus::Stopped)
        );
    }

    #[test]
    fn after_end_lets_a_closing_callback_through() {
        let lifecycle = Lifecycle::new();
        lifecycle.begin();
        lifecycle.publish(DriverStatus::Aborted);
        let (queue, receiver) = callback_queue::<&'static str>();
        let (ran_tx, ran) = mpsc::channel();
        receiver
            .start(
                "test-callbacks",
                lifecycle.clone(),
                |e| *e == "error",
                move |e| {
                    let _ = ran_tx.send(e);
                    Next::Continue
                },
            )
            .unwrap();
        queue.push("offers");
        queue.push("error");
        assert_eq!(ran.recv_timeout(Duration::from_secs(30)), Ok("error"));
        assert!(ran.recv_timeout(Duration::from_millis(100)).is_err());
    }
}
