//! The worker pool: a shared run queue, one LIFO slot per worker, and parking.
//!
//! A process that a worker's current process sends to goes into that worker's LIFO slot and runs
//! there next (like tokio's LIFO slot): a request/response pair then ping-pongs on one warm core
//! without waking anyone. Only work on the shared queue wakes a parked worker, and only when one is
//! parked.

use std::cell::{Cell as StdCell, RefCell};
use std::collections::VecDeque;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::cell::{AnyCell, Cell};
use crate::clock::Quiescence;
use crate::mailbox::NodeCache;
use crate::process::Process;
use crate::runtime::outbox::Outbox;

/// A runnable process.
pub(crate) type Task = Arc<dyn AnyCell>;

/// Consecutive LIFO-slot turns after which a worker serves the shared queue first, so a ping-pong
/// pair cannot starve queued processes.
const LIFO_STREAK_MAX: u32 = 64;

struct Sleep {
    /// Workers waiting for a token.
    sleeping: usize,
    /// Wake-ups handed out and not yet consumed.
    tokens: usize,
    stopped: bool,
}

/// The run queues of one runtime.
pub(crate) struct Scheduler {
    queue: Mutex<VecDeque<Task>>,
    queued: AtomicUsize,
    /// Mirrors `Sleep::sleeping` so the push path checks it without locking.
    sleepers: AtomicUsize,
    sleep: Mutex<Sleep>,
    wake: Condvar,
    stopped: AtomicBool,
    /// How many workers run this scheduler (all parked = nothing runs).
    workers: usize,
    /// Turns running past their budget while others wait on the queue (see [`Scheduler::extend`]).
    extended: AtomicUsize,
}

/// Permission for one turn to run past its budget; given back when dropped (the turn ends).
pub(crate) struct Extension<'a> {
    extended: &'a AtomicUsize,
}

impl Drop for Extension<'_> {
    fn drop(&mut self) {
        self.extended.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The calling thread's worker, if it is one.
pub(crate) struct WorkerLocal {
    scheduler: *const Scheduler,
    lifo: StdCell<Option<Task>>,
    /// The task that ran last, kept so that rescheduling it (the other half of a request/response
    /// pair) reuses this reference instead of taking a new one and dropping the old: two atomic
    /// reference-count updates fewer per message. Emptied before the worker parks.
    recent: StdCell<Option<Task>>,
    pub(crate) outbox: Outbox,
    /// Freed mailbox nodes for reuse.
    node_cache: RefCell<NodeCache>,
}

impl WorkerLocal {
    fn new(scheduler: *const Scheduler) -> WorkerLocal {
        WorkerLocal {
            scheduler,
            lifo: StdCell::new(None),
            recent: StdCell::new(None),
            outbox: Outbox::new(),
            node_cache: RefCell::new(NodeCache::new()),
        }
    }
}

/// The calling thread's worker state (null on other threads). Not inlined on purpose: generic code
/// instantiated in another crate would reach the thread-local through the `LocalKey`'s function
/// pointer; one direct call is cheaper and keeps the access in one place.
#[inline(never)]
pub(crate) fn current() -> *const WorkerLocal {
    WORKER.with(StdCell::get)
}

/// Runs `f` on the calling worker's node cache; `None` on other threads (they do not cache).
#[inline]
pub(crate) fn with_node_cache<R>(f: impl FnOnce(&mut NodeCache) -> R) -> Option<R> {
    // SAFETY: see `Scheduler::schedule`.
    let local = unsafe { current().as_ref() }?;
    let mut cache = local.node_cache.try_borrow_mut().ok()?;
    Some(f(&mut cache))
}

/// Publishes the calling thread's buffered sends (see [`outbox`](crate::runtime::outbox)); no-op on
/// threads that buffer nothing.
#[inline]
pub(crate) fn flush_outbox() {
    crate::runtime::outbox::flush();
}

/// Runs `f` (a transport event loop) with the calling thread set up to buffer deliveries like a
/// worker does: consecutive messages it decodes for one process travel as one batch (one mailbox node,
/// one wake-up check) when [`flush_outbox`] runs after each read, and its mailbox nodes come from a
/// cache. It has no LIFO slot: processes it makes runnable go to their runtime's shared queue.
pub(crate) fn run_as_delivery_thread<R>(f: impl FnOnce() -> R) -> R {
    let local = WorkerLocal::new(ptr::null());
    WORKER.with(|worker| worker.set(&local));
    // Clears the pointer even if `f` panics, before `local` goes away.
    struct Reset<'a>(&'a WorkerLocal);
    impl Drop for Reset<'_> {
        fn drop(&mut self) {
            self.0.outbox.flush();
            WORKER.with(|worker| worker.set(ptr::null()));
        }
    }
    let _reset = Reset(&local);
    f()
}

thread_local! {
    static WORKER: StdCell<*const WorkerLocal> = const { StdCell::new(ptr::null()) };
}

impl Scheduler {
    pub(crate) fn new(workers: usize) -> Scheduler {
        Scheduler {
            queue: Mutex::new(VecDeque::new()),
            queued: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(Sleep {
                sleeping: 0,
                tokens: 0,
                stopped: false,
            }),
            wake: Condvar::new(),
            stopped: AtomicBool::new(false),
            workers,
            extended: AtomicUsize::new(0),
        }
    }

    /// Queues a process that just became runnable: into the LIFO slot when called on one of this
    /// scheduler's workers (the displaced occupant goes to the shared queue), else the shared queue.
    #[inline]
    pub(crate) fn schedule(&self, task: Task) {
        // SAFETY: the pointer is set by `run_worker` for the lifetime of its stack frame, on this
        // thread only, and cleared before that frame ends.
        let task = match unsafe { current().as_ref() } {
            Some(local) if ptr::eq(local.scheduler, self) => local.lifo.replace(Some(task)),
            _ => Some(task),
        };
        if let Some(task) = task {
            self.push(task);
        }
    }

    /// [`Scheduler::schedule`] for a cell that just became runnable, reusing the worker's reference
    /// to the task that ran last when it is this cell.
    #[inline]
    pub(crate) fn schedule_cell<P: Process>(&self, cell: &Cell<P>) {
        // SAFETY: as in `schedule`.
        let task = match unsafe { current().as_ref() } {
            Some(local) if ptr::eq(local.scheduler, self) => {
                let task = match local.recent.take() {
                    Some(recent) if ptr::addr_eq(Arc::as_ptr(&recent), cell) => recent,
                    other => {
                        local.recent.set(other);
                        cell.arc()
                    }
                };
                local.lifo.replace(Some(task))
            }
            _ => Some(cell.arc() as Task),
        };
        if let Some(task) = task {
            self.push(task);
        }
    }

    /// Whether a process that used up its budget while others wait may keep its worker. Yes while
    /// that leaves at least one worker serving the queue, so everything queued still runs in order.
    ///
    /// Why not always requeue: a process fed by many others (fan-in: a master hearing from thousands
    /// of agents) would wait behind every producer that became runnable meanwhile, and its mailbox
    /// would grow by all they send in that time; kept on one worker, it drains while the producers
    /// run on the others, and its backlog stays small and warm in cache.
    pub(crate) fn extend(&self) -> Option<Extension<'_>> {
        self.extended
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n + 1 < self.workers).then_some(n + 1)
            })
            .ok()
            .map(|_| Extension {
                extended: &self.extended,
            })
    }

    /// Puts a process that used up its budget at the back of the shared queue.
    pub(crate) fn requeue(&self, task: Task) {
        self.push(task);
    }

    /// Whether other processes wait on the shared queue.
    #[inline]
    pub(crate) fn has_queued(&self) -> bool {
        self.queued.load(Ordering::Relaxed) > 0
    }

    fn push(&self, task: Task) {
        if self.stopped.load(Ordering::Acquire) {
            // After shutdown nothing runs again; dropping the task breaks the cell -> runtime cycle.
            return;
        }
        {
            let mut queue = self.queue.lock();
            queue.push_back(task);
            self.queued.store(queue.len(), Ordering::SeqCst);
        }
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            self.wake_one();
        }
    }

    fn pop(&self) -> Option<Task> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut queue = self.queue.lock();
        let task = queue.pop_front();
        self.queued.store(queue.len(), Ordering::SeqCst);
        task
    }

    fn wake_one(&self) {
        let mut sleep = self.sleep.lock();
        if sleep.sleeping > 0 {
            sleep.sleeping -= 1;
            sleep.tokens += 1;
            self.sleepers.store(sleep.sleeping, Ordering::SeqCst);
            self.wake.notify_one();
        }
    }

    /// Parks the worker until there is work; false once the scheduler stopped.
    fn park(&self) -> bool {
        let mut sleep = self.sleep.lock();
        if sleep.stopped {
            return false;
        }
        sleep.sleeping += 1;
        self.sleepers.store(sleep.sleeping, Ordering::SeqCst);
        // A push that missed our `sleepers` store is visible here (both sides use SeqCst).
        if self.queued.load(Ordering::SeqCst) > 0 {
            sleep.sleeping -= 1;
            self.sleepers.store(sleep.sleeping, Ordering::SeqCst);
            return true;
        }
        loop {
            self.wake.wait(&mut sleep);
            if sleep.tokens > 0 {
                sleep.tokens -= 1;
                return true;
            }
            if sleep.stopped {
                return false;
            }
        }
    }

    /// Whether nothing runs: every worker parked with no wake-up pending, nothing queued. A worker
    /// only parks with an empty LIFO slot and queue, and a process that is scheduled or running keeps
    /// its worker awake, so this means every process is idle.
    fn quiet(&self) -> bool {
        let sleep = self.sleep.lock();
        sleep.sleeping == self.workers
            && sleep.tokens == 0
            && self.queued.load(Ordering::SeqCst) == 0
    }

    /// Stops the workers (they exit at their next park) and drops queued tasks.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        {
            let mut sleep = self.sleep.lock();
            sleep.stopped = true;
        }
        self.wake.notify_all();
        let queued = std::mem::take(&mut *self.queue.lock());
        self.queued.store(0, Ordering::SeqCst);
        drop(queued);
    }

    /// The worker loop; returns after [`Scheduler::stop`].
    pub(crate) fn run_worker(&self) {
        let local = WorkerLocal::new(self);
        WORKER.with(|worker| worker.set(&local));
        let mut streak = 0u32;
        loop {
            if self.stopped.load(Ordering::Relaxed) {
                break;
            }
            let task = match local.lifo.take() {
                Some(task) if streak >= LIFO_STREAK_MAX && self.has_queued() => {
                    streak = 0;
                    self.push(task);
                    self.pop()
                }
                Some(task) => {
                    streak += 1;
                    Some(task)
                }
                None => {
                    streak = 0;
                    self.pop()
                }
            };
            match task {
                Some(task) => {
                    // Handlers are already guarded; this catches panics in user `Drop` code run at
                    // termination, so the worker survives (and `settle` keeps counting it).
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task.run()))
                        .is_err()
                    {
                        tracing::error!(process = %task.upid(), "panic outside a handler");
                    }
                    // Sends made outside a handler (e.g. by a `Drop` run at termination).
                    local.outbox.flush();
                    drop(local.recent.replace(Some(task)));
                }
                None => {
                    // An idle worker keeps no process alive.
                    drop(local.recent.take());
                    local.node_cache.borrow_mut().trim();
                    if !self.park() {
                        break;
                    }
                }
            }
        }
        local.outbox.flush();
        WORKER.with(|worker| worker.set(ptr::null()));
        drop(local.lifo.take());
        drop(local.recent.take());
    }
}

impl Quiescence for Scheduler {
    fn is_quiet(&self) -> bool {
        self.quiet()
    }
}
