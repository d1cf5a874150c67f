//! A process's cell: its state, mailboxes and the scheduling state machine that makes it run on at
//! most one worker at a time.
//!
//! States (one atomic byte, as libprocess's BLOCKED/READY/RUNNING/TERMINATING):
//! - `IDLE`: nothing queued, not on any run queue.
//! - `BUSY`: on a run queue or running. Whoever moves a cell from `IDLE` to `BUSY` (a sender, a
//!   control event, or the worker itself) schedules it, so it is queued exactly once.
//! - `TERMINATED`: finalized; letters that still arrive are dropped by their sender.
//!
//! The race this prevents: a worker finds the mailbox empty and goes idle while a sender pushes. The
//! sender pushes then reads the state; the worker stores `IDLE` then re-reads the mailbox; both with a
//! `SeqCst` fence in between, so at least one of them sees the other and the letter is never stranded.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use crate::context::Context;
use crate::mailbox::Mailbox;
use crate::payload::Payload;
use crate::process::{Handlers, Process};
use crate::router::HttpLetter;
use crate::runtime::{workers, Handle};
use crate::upid::Upid;

const IDLE: u8 = 0;
const BUSY: u8 = 1;
const TERMINATED: u8 = 2;

/// Letters handled per turn before a busy process lets queued processes run.
const BUDGET: usize = 256;

/// Who sent a message: a local process (whose mailbox a reply can use directly) or just an address.
pub(crate) enum Sender {
    Process(Arc<dyn AnyCell>),
    Upid(Upid),
}

impl Sender {
    pub(crate) fn upid(&self) -> &Upid {
        match self {
            Sender::Process(cell) => cell.upid(),
            Sender::Upid(upid) => upid,
        }
    }
}

/// A closure run on the process (dispatch, timers).
pub(crate) type DispatchFn<P> = Box<dyn FnOnce(&mut P, &mut Context<'_, P>) + Send>;

/// A data-lane entry.
pub(crate) enum Letter<P: Process> {
    /// A typed local message.
    Message {
        from: Sender,
        body: Payload,
    },
    /// A remote message, decoded on the process by its handler's type (boxed, like `Http`, to keep
    /// every letter small: letters are moved a few times on the hot path).
    Encoded(Box<Encoded>),
    Dispatch(DispatchFn<P>),
    Http(Box<HttpLetter>),
    /// Letters a worker buffered for this process during one handler (see `workers::buffer`).
    Batch(Vec<Letter<P>>),
}

/// A message from another runtime, still encoded.
pub(crate) struct Encoded {
    from: Upid,
    name: String,
    body: Vec<u8>,
}

/// A control-lane entry; these overtake queued letters.
pub(crate) enum Control {
    Terminate,
    Exited(Upid),
}

/// The type-erased view of a cell that the registry, run queues and senders use.
pub(crate) trait AnyCell: Send + Sync + 'static {
    fn upid(&self) -> &Upid;
    /// The runtime the cell belongs to (for identity checks).
    fn runtime(&self) -> &Handle;
    /// Runs one turn on the calling worker.
    fn run(&self);
    fn deliver_message(&self, from: Sender, body: Payload);
    fn deliver_encoded(&self, from: Upid, name: String, body: Vec<u8>);
    fn deliver_http(&self, letter: HttpLetter);
    fn deliver_control(&self, control: Control);
    /// Publishes a chain of this cell's mailbox nodes and makes sure the process runs.
    ///
    /// # Safety
    /// The chain was built with this cell's `Mailbox::new_node`/`link` and is unpublished.
    unsafe fn push_chain(&self, first: *mut u8, last: *mut u8);
    /// Records a linker; false if the process already terminated.
    fn add_linker(&self, linker: Upid) -> bool;
    /// Whether termination is complete (finalized, unregistered, linkers notified).
    fn is_terminated(&self) -> bool;
    fn arc_dyn(&self) -> Arc<dyn AnyCell>;
}

struct Slot<P: Process> {
    process: Option<P>,
    initialized: bool,
    /// The rest of a batch letter (kept here when the turn ends mid-batch).
    batch: Option<std::vec::IntoIter<Letter<P>>>,
}

enum Flow {
    Continue,
    Terminate,
}

/// One process: everything the runtime keeps for it.
pub(crate) struct Cell<P: Process> {
    upid: Upid,
    runtime: Handle,
    handlers: Arc<Handlers<P>>,
    state: AtomicU8,
    has_control: AtomicBool,
    /// Set once termination is complete (finalized, unregistered, linkers told): what `wait` waits for.
    finished: AtomicBool,
    mailbox: Mailbox<Letter<P>>,
    control: Mutex<Vec<Control>>,
    linkers: Mutex<Vec<Upid>>,
    /// The process state; locked by the one worker running the cell (never contended in steady state:
    /// the state machine admits one runner), which also makes that worker the mailbox's only consumer.
    slot: Mutex<Slot<P>>,
}

impl<P: Process> Cell<P> {
    /// A new cell, already `BUSY` so that its first turn (running `initialize`) is scheduled by the
    /// spawner.
    pub(crate) fn new(
        upid: Upid,
        runtime: Handle,
        handlers: Arc<Handlers<P>>,
        process: P,
    ) -> Arc<Cell<P>> {
        Arc::new(Cell {
            upid,
            runtime,
            handlers,
            state: AtomicU8::new(BUSY),
            has_control: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            mailbox: Mailbox::new(),
            control: Mutex::new(Vec::new()),
            linkers: Mutex::new(Vec::new()),
            slot: Mutex::new(Slot {
                process: Some(process),
                initialized: false,
                batch: None,
            }),
        })
    }

    /// Another strong reference to this cell.
    pub(crate) fn arc(&self) -> Arc<Cell<P>> {
        // SAFETY: cells are only ever created inside an `Arc` (`Cell::new`), and `&self` proves a strong
        // reference is alive, so bumping the count and rebuilding an `Arc` from the pointer is sound.
        unsafe {
            Arc::increment_strong_count(self as *const Cell<P>);
            Arc::from_raw(self as *const Cell<P>)
        }
    }

    pub(crate) fn upid(&self) -> &Upid {
        &self.upid
    }

    pub(crate) fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// Queues a letter and makes sure the process will run. Publishes the worker's buffered sends
    /// first, so letters from one thread to one process stay in order.
    #[inline]
    pub(crate) fn deliver(&self, letter: Letter<P>) {
        workers::flush_outbox();
        self.mailbox.push(letter);
        self.notify();
    }

    /// As [`Cell::deliver`], but on a worker the letter waits in the worker's outbox until the
    /// current handler returns (see `workers::buffer`): bursts of sends cost one publish.
    #[inline]
    fn deliver_buffered(&self, letter: Letter<P>) {
        if let Some(letter) = workers::buffer(self, letter) {
            self.mailbox.push(letter);
            self.notify();
        }
    }

    /// The next letter: from the batch being worked through, else from the mailbox.
    fn next_letter(&self, slot: &mut Slot<P>) -> Option<Letter<P>> {
        loop {
            if let Some(batch) = slot.batch.as_mut() {
                if let Some(letter) = batch.next() {
                    return Some(letter);
                }
                slot.batch = None;
            }
            // SAFETY: callers hold the slot lock, which makes them the mailbox's only consumer.
            match unsafe { self.mailbox.pop() } {
                Some(Letter::Batch(batch)) => slot.batch = Some(batch.into_iter()),
                other => return other,
            }
        }
    }

    #[inline]
    fn notify(&self) {
        fence(Ordering::SeqCst);
        match self.state.load(Ordering::Relaxed) {
            IDLE if self
                .state
                .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok() =>
            {
                self.runtime.shared().scheduler.schedule(self.arc());
            }
            TERMINATED => self.discard_mail(),
            _ => {}
        }
    }

    /// Drops letters that reached a terminated process (resolving dispatch replies as abandoned).
    fn discard_mail(&self) {
        let slot = self.slot.lock();
        let letters = self.drain_letters(&slot);
        let controls = std::mem::take(&mut *self.control.lock());
        drop(slot);
        drop(letters);
        drop(controls);
    }

    fn drain_letters(&self, _slot: &MutexGuard<'_, Slot<P>>) -> Vec<Letter<P>> {
        let mut letters = Vec::new();
        // SAFETY: the caller holds the slot lock, which makes it the mailbox's only consumer.
        while let Some(letter) = unsafe { self.mailbox.pop() } {
            letters.push(letter);
        }
        letters
    }

    /// One turn: initialize if needed, then control events and up to [`BUDGET`] letters, repeated
    /// while letters keep coming and nothing else waits.
    fn turn(&self) {
        let shared = self.runtime.shared();
        let mut slot = self.slot.lock();
        if slot.process.is_none() {
            return;
        }
        if !slot.initialized {
            slot.initialized = true;
            if let Flow::Terminate = self.invoke(&mut slot, None, |p, ctx| p.initialize(ctx)) {
                return self.terminate_now(slot);
            }
        }
        let mut handled = 0;
        loop {
            if self.has_control.load(Ordering::Acquire) {
                let controls = {
                    let mut control = self.control.lock();
                    self.has_control.store(false, Ordering::Release);
                    std::mem::take(&mut *control)
                };
                for control in controls {
                    let flow = match control {
                        Control::Terminate => Flow::Terminate,
                        Control::Exited(pid) => {
                            self.invoke(&mut slot, None, |p, ctx| p.exited(ctx, &pid))
                        }
                    };
                    if let Flow::Terminate = flow {
                        return self.terminate_now(slot);
                    }
                }
            }
            if handled >= BUDGET {
                handled = 0;
                if shared.scheduler.has_queued() {
                    // Stay BUSY and go to the back of the queue: fairness for the waiting processes.
                    drop(slot);
                    shared.scheduler.requeue(self.arc());
                    return;
                }
            }
            match self.next_letter(&mut slot) {
                Some(letter) => {
                    handled += 1;
                    if let Flow::Terminate = self.handle(&mut slot, letter) {
                        return self.terminate_now(slot);
                    }
                }
                None => {
                    // A SeqCst store, then SeqCst loads in `has_pending`: pairs with the sender's
                    // push + SeqCst fence + state load (store-buffering is forbidden for SeqCst).
                    self.state.store(IDLE, Ordering::SeqCst);
                    // SAFETY: still holding the slot lock.
                    let pending = unsafe { self.mailbox.has_pending() }
                        || self.has_control.load(Ordering::SeqCst);
                    if pending
                        && self
                            .state
                            .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Relaxed)
                            .is_ok()
                    {
                        // A letter raced in and we took the cell back: keep going.
                        continue;
                    }
                    return;
                }
            }
        }
    }

    fn handle(&self, slot: &mut Slot<P>, letter: Letter<P>) -> Flow {
        match letter {
            Letter::Message { from, body } => match self.handlers.by_type(body.type_id()) {
                Some(entry) => self.invoke(slot, Some(&from), |p, ctx| {
                    (entry.call)(p, ctx, from.upid(), body)
                }),
                None => {
                    tracing::warn!(process = %self.upid, from = %from.upid(), message = body.name(),
                            "no handler installed for this message: dropped");
                    Flow::Continue
                }
            },
            Letter::Encoded(encoded) => {
                let Encoded { from, name, body } = *encoded;
                match self.handlers.by_name(&name) {
                    Some(entry) => match (entry.decode)(&body) {
                        Ok(message) => {
                            let sender = Sender::Upid(from);
                            self.invoke(slot, Some(&sender), |p, ctx| {
                                (entry.call)(p, ctx, sender.upid(), message)
                            })
                        }
                        Err(error) => {
                            tracing::warn!(process = %self.upid, %from, message = %name, %error,
                            "undecodable remote message: dropped");
                            Flow::Continue
                        }
                    },
                    None => {
                        tracing::warn!(process = %self.upid, %from, message = %name,
                        "no handler installed for this remote message: dropped");
                        Flow::Continue
                    }
                }
            }
            Letter::Dispatch(f) => self.invoke(slot, None, f),
            Letter::Http(letter) => {
                let handlers = self.handlers.clone();
                self.invoke(slot, None, |p, ctx| handlers.routes.serve(p, ctx, *letter))
            }
            Letter::Batch(batch) => {
                // Batches are unpacked by `next_letter`; handle one that got here anyway in order.
                for letter in batch {
                    if let Flow::Terminate = self.handle(slot, letter) {
                        return Flow::Terminate;
                    }
                }
                Flow::Continue
            }
        }
    }

    /// Runs `f` on the process; a panic terminates the process (after logging) instead of the worker.
    fn invoke(
        &self,
        slot: &mut Slot<P>,
        sender: Option<&Sender>,
        f: impl FnOnce(&mut P, &mut Context<'_, P>),
    ) -> Flow {
        let Some(process) = slot.process.as_mut() else {
            return Flow::Terminate;
        };
        let mut ctx = Context::new(self, sender);
        let outcome = catch_unwind(AssertUnwindSafe(|| f(process, &mut ctx)));
        // What the handler sent is published when it returns.
        workers::flush_outbox();
        match outcome {
            Ok(()) if ctx.terminate => Flow::Terminate,
            Ok(()) => Flow::Continue,
            Err(_) => {
                tracing::error!(process = %self.upid, "handler panicked: terminating the process");
                Flow::Terminate
            }
        }
    }

    /// Finalizes and drops the process, then tells linkers and waiters.
    fn terminate_now(&self, mut slot: MutexGuard<'_, Slot<P>>) {
        let shared = self.runtime.shared();
        let _ = self.invoke(&mut slot, None, |p, ctx| p.finalize(ctx));
        let process = slot.process.take();
        let batch = slot.batch.take();
        self.state.store(TERMINATED, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        // Senders that still see BUSY left their letters for us; later ones drop their own.
        let letters = self.drain_letters(&slot);
        let controls = std::mem::take(&mut *self.control.lock());
        drop(slot);
        // User `Drop` code must not cut termination short (linkers and waiters still need to hear).
        let dropped = catch_unwind(AssertUnwindSafe(move || {
            drop(process);
            drop(batch);
            drop(letters);
            drop(controls);
        }));
        if dropped.is_err() {
            tracing::error!(process = %self.upid, "panic while dropping the process");
        }
        shared.registry.remove(self);
        let linkers = std::mem::take(&mut *self.linkers.lock());
        for linker in linkers {
            shared.notify_exited(&linker, &self.upid);
        }
        self.finished.store(true, Ordering::Release);
        shared.notify_terminated();
    }
}

impl<P: Process> AnyCell for Cell<P> {
    fn upid(&self) -> &Upid {
        &self.upid
    }

    fn runtime(&self) -> &Handle {
        &self.runtime
    }

    fn run(&self) {
        self.turn();
    }

    fn deliver_message(&self, from: Sender, body: Payload) {
        self.deliver_buffered(Letter::Message { from, body });
    }

    unsafe fn push_chain(&self, first: *mut u8, last: *mut u8) {
        self.mailbox.push_chain(first, last);
        self.notify();
    }

    fn deliver_encoded(&self, from: Upid, name: String, body: Vec<u8>) {
        self.deliver(Letter::Encoded(Box::new(Encoded { from, name, body })));
    }

    fn deliver_http(&self, letter: HttpLetter) {
        self.deliver(Letter::Http(Box::new(letter)));
    }

    fn deliver_control(&self, control: Control) {
        workers::flush_outbox();
        {
            let mut queue = self.control.lock();
            queue.push(control);
            self.has_control.store(true, Ordering::Release);
        }
        self.notify();
    }

    fn add_linker(&self, linker: Upid) -> bool {
        let mut linkers = self.linkers.lock();
        // Checked under the lock that `terminate_now` takes after storing TERMINATED.
        if self.state.load(Ordering::SeqCst) == TERMINATED {
            return false;
        }
        if !linkers.contains(&linker) {
            linkers.push(linker);
        }
        true
    }

    fn is_terminated(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    fn arc_dyn(&self) -> Arc<dyn AnyCell> {
        self.arc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;
    impl Process for Nothing {}

    #[test]
    fn letters_stay_small() {
        // Letters are moved several times per message; big variants are boxed.
        assert!(std::mem::size_of::<Letter<Nothing>>() <= 80);
    }
}
