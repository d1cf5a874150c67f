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

use crate::cell::{AnyCell, Cell, Letter};
use crate::clock::Quiescence;
use crate::mailbox::{Mailbox, NodeCache};
use crate::process::Process;

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
}

/// Sends a worker's handler makes to one process in a row, not yet published: one mailbox node
/// holding a `Letter::Batch`, published (one `swap`, one wake-up check, one allocation per batch) when
/// the handler returns, when another destination comes up, or every [`OUTBOX_BATCH`] letters.
struct Outbox {
    cell: Task,
    node: *mut u8,
    len: usize,
}

/// The most letters an outbox holds before publishing them.
const OUTBOX_BATCH: usize = 64;

impl Outbox {
    fn flush(self) {
        // SAFETY: `node` is an unpublished node of this cell's mailbox type (see `buffer`).
        unsafe { self.cell.push_chain(self.node, self.node) };
    }
}

/// The calling thread's worker, if it is one.
struct WorkerLocal {
    scheduler: *const Scheduler,
    lifo: StdCell<Option<Task>>,
    /// The task that ran last, kept so that rescheduling it (the other half of a request/response
    /// pair) reuses this reference instead of taking a new one and dropping the old: two atomic
    /// reference-count updates fewer per message. Emptied before the worker parks.
    recent: StdCell<Option<Task>>,
    outbox: StdCell<Option<Outbox>>,
    /// Freed mailbox nodes for reuse.
    node_cache: RefCell<NodeCache>,
    /// The cell the current handler last sent to directly: a second send to it in a row starts a
    /// batch. Single sends (request/response) so skip the outbox.
    last_direct: StdCell<*const ()>,
}

/// Buffers `letter` for `cell` in the calling worker's outbox; gives it back if this thread is not a
/// worker.
pub(crate) fn buffer<P: Process>(cell: &Cell<P>, letter: Letter<P>) -> Option<Letter<P>> {
    WORKER.with(|worker| {
        // SAFETY: see `Scheduler::schedule`.
        let Some(local) = (unsafe { worker.get().as_ref() }) else {
            return Some(letter);
        };
        let this = (cell as *const Cell<P>).cast::<()>();
        let pending = local.outbox.take();
        if pending.is_none() && local.last_direct.get() != this {
            local.last_direct.set(this);
            return Some(letter);
        }
        match pending {
            Some(mut outbox) if ptr::addr_eq(Arc::as_ptr(&outbox.cell), cell as *const Cell<P>) => {
                // SAFETY: the outbox node belongs to this very cell, so it is an unpublished
                // `Node<Letter<P>>`, and the outbox (taken out of the slot) is its only user.
                let value = unsafe { Mailbox::<Letter<P>>::value_mut(outbox.node) };
                // Appended in place: letters are large enough that moving the batch out and back
                // per send shows up in fan-in profiles.
                match value {
                    Some(Letter::Batch(batch)) => batch.push(letter),
                    _ => {
                        let mut batch = Vec::with_capacity(OUTBOX_BATCH);
                        batch.extend(value.take());
                        batch.push(letter);
                        *value = Some(Letter::Batch(batch));
                    }
                }
                outbox.len += 1;
                if outbox.len >= OUTBOX_BATCH {
                    outbox.flush();
                } else {
                    local.outbox.set(Some(outbox));
                }
            }
            Some(other) => {
                // Another destination: publish the batch, send this one directly.
                other.flush();
                local.last_direct.set(this);
                return Some(letter);
            }
            None => {
                let fresh = Outbox {
                    cell: cell.arc(),
                    node: Mailbox::new_node(letter),
                    len: 1,
                };
                if let Some(stale) = local.outbox.replace(Some(fresh)) {
                    stale.flush();
                }
            }
        }
        None
    })
}

/// Runs `f` on the calling worker's node cache; `None` on other threads (they do not cache).
#[inline]
pub(crate) fn with_node_cache<R>(f: impl FnOnce(&mut NodeCache) -> R) -> Option<R> {
    WORKER.with(|worker| {
        // SAFETY: see `Scheduler::schedule`.
        let local = unsafe { worker.get().as_ref() }?;
        let mut cache = local.node_cache.try_borrow_mut().ok()?;
        Some(f(&mut cache))
    })
}

/// Publishes the calling worker's buffered sends (no-op elsewhere).
#[inline]
pub(crate) fn flush_outbox() {
    WORKER.with(|worker| {
        // SAFETY: see `Scheduler::schedule`.
        if let Some(local) = unsafe { worker.get().as_ref() } {
            local.last_direct.set(ptr::null());
            if let Some(outbox) = local.outbox.take() {
                outbox.flush();
            }
        }
    });
}

/// Runs `f` (a transport event loop) with the calling thread set up to buffer deliveries like a
/// worker does: consecutive messages it decodes for one process travel as one batch (one mailbox node,
/// one wake-up check) when [`flush_outbox`] runs after each read, and its mailbox nodes come from a
/// cache. It has no LIFO slot: processes it makes runnable go to their runtime's shared queue.
pub(crate) fn run_as_delivery_thread<R>(f: impl FnOnce() -> R) -> R {
    let local = WorkerLocal {
        scheduler: ptr::null(),
        lifo: StdCell::new(None),
        recent: StdCell::new(None),
        outbox: StdCell::new(None),
        last_direct: StdCell::new(ptr::null()),
        node_cache: RefCell::new(NodeCache::new()),
    };
    WORKER.with(|worker| worker.set(&local));
    // Clears the pointer even if `f` panics, before `local` goes away.
    struct Reset<'a>(&'a WorkerLocal);
    impl Drop for Reset<'_> {
        fn drop(&mut self) {
            if let Some(outbox) = self.0.outbox.take() {
                outbox.flush();
            }
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
        }
    }

    /// Queues a process that just became runnable: into the LIFO slot when called on one of this
    /// scheduler's workers (the displaced occupant goes to the shared queue), else the shared queue.
    #[inline]
    pub(crate) fn schedule(&self, task: Task) {
        let task = WORKER.with(|worker| {
            let local = worker.get();
            // SAFETY: the pointer is set by `run_worker` for the lifetime of its stack frame, on this
            // thread only, and cleared before that frame ends.
            match unsafe { local.as_ref() } {
                Some(local) if ptr::eq(local.scheduler, self) => local.lifo.replace(Some(task)),
                _ => Some(task),
            }
        });
        if let Some(task) = task {
            self.push(task);
        }
    }

    /// [`Scheduler::schedule`] for a cell that just became runnable, reusing the worker's reference
    /// to the task that ran last when it is this cell.
    #[inline]
    pub(crate) fn schedule_cell<P: Process>(&self, cell: &Cell<P>) {
        let task = WORKER.with(|worker| {
            // SAFETY: as in `schedule`.
            match unsafe { worker.get().as_ref() } {
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
            }
        });
        if let Some(task) = task {
            self.push(task);
        }
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
        let local = WorkerLocal {
            scheduler: self,
            lifo: StdCell::new(None),
            recent: StdCell::new(None),
            outbox: StdCell::new(None),
            last_direct: StdCell::new(ptr::null()),
            node_cache: RefCell::new(NodeCache::new()),
        };
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
                    local.last_direct.set(ptr::null());
                    if let Some(outbox) = local.outbox.take() {
                        outbox.flush();
                    }
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
        if let Some(outbox) = local.outbox.take() {
            outbox.flush();
        }
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
