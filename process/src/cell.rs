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
//! sender swaps itself into the mailbox's head then reads the state; the worker stores `IDLE` then
//! reads the head; all four are `SeqCst` (store-buffering is forbidden between them), so at least one
//! sees the other and the letter is never stranded. No fence is needed: on x86 the sender's `swap` is
//! already a full barrier and the `SeqCst` loads are plain loads.
//!
//! The state machine is also the only lock on the process: the one worker that holds a `BUSY` cell
//! owns its slot (the process value) and is the mailbox's only consumer, so a turn takes no lock.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

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
    Dispatch(DispatchFn<P>),
    Http(Box<HttpLetter>),
    /// Letters a worker buffered for this process during one handler (see `workers::buffer`).
    Batch(Vec<Letter<P>>),
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
    fn deliver_encoded(&self, from: Upid, name: &str, body: &[u8]);
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
    /// A set: a busy process (a master) can have tens of thousands of linkers.
    linkers: Mutex<std::collections::BTreeSet<Upid>>,
    /// The process state: owned by the one worker that runs the `BUSY` cell (the state machine admits
    /// one runner), which also makes that worker the mailbox's only consumer.
    slot: UnsafeCell<Slot<P>>,
    /// Serialises the mailbox's consumers once the process terminated: the finalizing worker and
    /// senders discarding letters that arrived late.
    discard: Mutex<()>,
}

// SAFETY: `slot` is only touched by the worker running the cell, and the state machine (`IDLE` ->
// `BUSY` by exactly one party, then one `run` at a time) admits one such worker; everything else is
// atomic or locked. `Slot<P>` is `Send` (processes and letters are).
unsafe impl<P: Process> Sync for Cell<P> {}

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
            linkers: Mutex::new(std::collections::BTreeSet::new()),
            slot: UnsafeCell::new(Slot {
                process: Some(process),
                initialized: false,
                batch: None,
            }),
            discard: Mutex::new(()),
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
            // SAFETY: callers run the cell, which makes them the mailbox's only consumer.
            match unsafe { self.mailbox.pop() } {
                Some(Letter::Batch(batch)) => slot.batch = Some(batch.into_iter()),
                other => return other,
            }
        }
    }

    #[inline]
    fn notify(&self) {
        // SeqCst: pairs with the worker's `IDLE` store and head load (see the module docs); the push
        // before this was a SeqCst swap.
        match self.state.load(Ordering::SeqCst) {
            IDLE if self
                .state
                .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok() =>
            {
                self.runtime.shared().scheduler.schedule_cell(self);
            }
            TERMINATED => self.discard_mail(),
            _ => {}
        }
    }

    /// Drops letters that reached a terminated process (resolving dispatch replies as abandoned).
    fn discard_mail(&self) {
        let guard = self.discard.lock();
        // SAFETY: terminated cells never run again; the `discard` lock makes us the only consumer.
        let letters = unsafe { self.drain_letters(false) };
        let controls = std::mem::take(&mut *self.control.lock());
        drop(guard);
        drop(letters);
        drop(controls);
    }

    /// Takes every queued letter; with `finish_pushes`, also waits for pushes that are half-way (a
    /// sender that swapped itself in before `TERMINATED` but has not linked its node yet, and so may
    /// have missed the state change).
    ///
    /// # Safety
    /// The caller is the mailbox's only consumer.
    unsafe fn drain_letters(&self, finish_pushes: bool) -> Vec<Letter<P>> {
        let mut letters = Vec::new();
        let mut spins = 0u32;
        loop {
            while let Some(letter) = self.mailbox.pop() {
                letters.push(letter);
            }
            if !finish_pushes || !self.mailbox.has_pending() {
                return letters;
            }
            spins += 1;
            backoff(spins);
        }
    }

    /// One turn: initialize if needed, then control events and up to [`BUDGET`] letters, repeated
    /// while letters keep coming and nothing else waits.
    fn turn(&self) {
        let shared = self.runtime.shared();
        // SAFETY: only the worker running this BUSY cell gets here (see the `Sync` impl).
        let slot = unsafe { &mut *self.slot.get() };
        if slot.process.is_none() {
            return;
        }
        if !slot.initialized {
            slot.initialized = true;
            if let Flow::Terminate = self.invoke(slot, None, |p, ctx| p.initialize(ctx)) {
                return self.terminate_now(slot);
            }
        }
        let mut handled = 0;
        let mut retakes = 0u32;
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
                            self.invoke(slot, None, |p, ctx| p.exited(ctx, &pid))
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
                    // Nothing touches `slot` after this: another worker may run the cell at once.
                    shared.scheduler.requeue(self.arc());
                    return;
                }
            }
            match self.next_letter(slot) {
                Some(letter) => {
                    handled += 1;
                    retakes = 0;
                    if let Flow::Terminate = self.handle(slot, letter) {
                        return self.terminate_now(slot);
                    }
                }
                None => {
                    // A SeqCst store, then SeqCst loads in `has_pending`: pairs with the sender's
                    // SeqCst swap + SeqCst state load (store-buffering is forbidden for SeqCst).
                    self.state.store(IDLE, Ordering::SeqCst);
                    // SAFETY: we still run the cell until another party moves it to BUSY.
                    let pending = unsafe { self.mailbox.has_pending() }
                        || self.has_control.load(Ordering::SeqCst);
                    if pending
                        && self
                            .state
                            .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Relaxed)
                            .is_ok()
                    {
                        // A letter raced in and we took the cell back: keep going. If its sender is
                        // still linking its node (`pop` saw nothing), give it a moment.
                        retakes += 1;
                        if retakes > 1 {
                            backoff(retakes);
                        }
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
    fn terminate_now(&self, slot: &mut Slot<P>) {
        let shared = self.runtime.shared();
        let _ = self.invoke(slot, None, |p, ctx| p.finalize(ctx));
        let process = slot.process.take();
        let batch = slot.batch.take();
        self.state.store(TERMINATED, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        // Senders that still see BUSY left their letters for us; later ones drop their own.
        let guard = self.discard.lock();
        // SAFETY: we ran the cell and it never runs again; the `discard` lock keeps out senders
        // discarding late letters.
        let letters = unsafe { self.drain_letters(true) };
        let controls = std::mem::take(&mut *self.control.lock());
        drop(guard);
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

/// Waits a little for another thread to finish a push: spins first, then yields the CPU (the pusher
/// may have been preempted).
fn backoff(attempt: u32) {
    if attempt < 16 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
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

    fn deliver_encoded(&self, from: Upid, name: &str, body: &[u8]) {
        // Decoded here, on the delivering (transport) thread: the process gets a typed letter like a
        // local one, the wire buffers are freed on the thread that allocated them, and decoding
        // overlaps with the process's handling of earlier letters.
        match self.handlers.by_name(name) {
            Some(entry) => match (entry.decode)(body) {
                Ok(message) => self.deliver_buffered(Letter::Message {
                    from: Sender::Upid(from),
                    body: message,
                }),
                Err(error) => {
                    tracing::warn!(process = %self.upid, %from, message = %name, %error,
                        "undecodable remote message: dropped")
                }
            },
            None => {
                tracing::warn!(process = %self.upid, %from, message = %name,
                    "no handler installed for this remote message: dropped")
            }
        }
    }

    fn deliver_http(&self, letter: HttpLetter) {
        self.deliver(Letter::Http(Box::new(letter)));
    }

    fn deliver_control(&self, control: Control) {
        workers::flush_outbox();
        {
            let mut queue = self.control.lock();
            queue.push(control);
            // SeqCst: pairs with the worker's `IDLE` store and `has_control` load.
            self.has_control.store(true, Ordering::SeqCst);
        }
        self.notify();
    }

    fn add_linker(&self, linker: Upid) -> bool {
        let mut linkers = self.linkers.lock();
        // Checked under the lock that `terminate_now` takes after storing TERMINATED.
        if self.state.load(Ordering::SeqCst) == TERMINATED {
            return false;
        }
        linkers.insert(linker);
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
