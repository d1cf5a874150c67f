//! A process's cell: its state, mailboxes and the scheduling state machine that makes it run on at
//! most one worker at a time.
//!
//! States (one atomic byte, as libprocess's BLOCKED/READY/RUNNING/TERMINATING):
//! - `IDLE`: nothing queued, not on any run queue.
//! - `BUSY`: on a run queue or running. Whoever moves a cell from `IDLE` to `BUSY` (a sender, a
//!   control event, or the worker itself) schedules it, so it is queued exactly once; until then it
//!   owns the cell, which lets a sender hand its message over past the queue (`deliver_now`).
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
pub(crate) use crate::letter::{Batch, Control, Letter, Sender, SenderRef};
use crate::mailbox::Mailbox;
use crate::payload::Payload;
use crate::process::{Handlers, MessageEntry, MessageRun, Process};
use crate::router::HttpLetter;
use crate::runtime::{outbox, workers, Handle};
use crate::upid::Upid;

const IDLE: u8 = 0;
const BUSY: u8 = 1;
const TERMINATED: u8 = 2;

/// Letters handled per turn before a busy process lets queued processes run.
const BUDGET: usize = 256;

/// The type-erased view of a cell that the registry, run queues and senders use.
pub(crate) trait AnyCell: Send + Sync + 'static {
    fn upid(&self) -> &Upid;
    /// The runtime the cell belongs to (for identity checks).
    fn runtime(&self) -> &Handle;
    /// Runs one turn on the calling worker.
    fn run(&self);
    fn deliver_message(&self, from: SenderRef<'_>, body: Payload);
    fn deliver_encoded(&self, from: &Upid, name: &str, body: &[u8]);
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
    /// The batch letter being worked through (kept here when a turn ends in the middle of it).
    batch: Option<Box<Batch>>,
}

enum Flow {
    Continue,
    Terminate,
}

/// The handler of the last message type a turn handled, by the payloads' type table: consecutive
/// messages of one type (a batch, most often) skip the lookup.
type LastHandler<'h, P> = Option<(*const (), &'h MessageEntry<P>)>;

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

    /// Delivers a message; on a worker (or a delivery thread) it may wait in the thread's outbox
    /// until the current handler returns (see `outbox::buffer`): bursts of sends cost one publish.
    #[inline]
    fn deliver_buffered(&self, from: SenderRef<'_>, body: Payload) {
        if let Some(body) = outbox::buffer(self, from, body) {
            self.deliver_now(from, body);
        }
    }

    /// Delivers a message at once. A process that is idle with an empty mailbox gets it past the
    /// mailbox: the sender takes the cell (`IDLE` -> `BUSY`), which makes it the cell's owner until
    /// it schedules it, puts the message in the slot and schedules the process, which handles it
    /// first. That saves a mailbox node, its publication and its consumption per message in
    /// request/response traffic. Order holds: the mailbox was empty, so every earlier message from
    /// this sender has been handled, and later ones queue behind it in the mailbox.
    #[inline]
    fn deliver_now(&self, from: SenderRef<'_>, body: Payload) {
        let from = from.to_owned();
        if self.state.load(Ordering::Relaxed) == IDLE
            && self
                .state
                .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            // SAFETY: moving the cell out of IDLE made us its owner: no worker runs it and nobody
            // else schedules it, so we may act as the mailbox's consumer (the previous owner's
            // writes are visible through the state's release/acquire).
            unsafe {
                if self.mailbox.has_pending() {
                    // A push raced in: this message goes behind it.
                    self.mailbox.push(Letter::Message { from, body });
                } else {
                    self.mailbox.put_first(Letter::Message { from, body });
                }
            }
            self.runtime.shared().scheduler.schedule_cell(self);
            return;
        }
        self.mailbox.push(Letter::Message { from, body });
        self.notify();
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
            if let Flow::Terminate =
                self.invoke(&mut slot.process, None, |p, ctx| p.initialize(ctx))
            {
                return self.terminate_now(slot);
            }
        }
        let mut handled = 0;
        let mut retakes = 0u32;
        let mut last: LastHandler<'_, P> = None;
        // Held while this turn runs past its budget with others waiting (see `Scheduler::extend`).
        let mut extension = None;
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
                            self.invoke(&mut slot.process, None, |p, ctx| p.exited(ctx, &pid))
                        }
                    };
                    if let Flow::Terminate = flow {
                        return self.terminate_now(slot);
                    }
                }
            }
            if handled >= BUDGET {
                handled = 0;
                if shared.scheduler.has_queued() && extension.is_none() {
                    extension = shared.scheduler.extend();
                    if extension.is_none() {
                        // Stay BUSY and go to the back of the queue: fairness for the waiting
                        // processes. Nothing touches `slot` after this: another worker may run the
                        // cell at once.
                        shared.scheduler.requeue(self.arc());
                        return;
                    }
                }
            }
            // The rest of the batch being worked through first.
            if let Some(Batch { from, bodies, .. }) = slot.batch.as_deref_mut() {
                if bodies.peek().is_some() {
                    let run = MessageRun::batch(bodies, BUDGET - handled, &self.has_control);
                    let (flow, taken) = self.handle_run(&mut slot.process, from, run, &mut last);
                    handled += taken;
                    if let Flow::Terminate = flow {
                        return self.terminate_now(slot);
                    }
                    continue;
                }
                slot.batch = None;
            }
            // SAFETY: we run the cell, which makes us the mailbox's only consumer.
            match unsafe { self.mailbox.pop() } {
                Some(Letter::Batch(mut batch)) => {
                    retakes = 0;
                    batch.decode(&self.upid);
                    slot.batch = Some(batch);
                }
                Some(letter) => {
                    handled += 1;
                    retakes = 0;
                    if let Flow::Terminate = self.handle(&mut slot.process, letter, &mut last) {
                        return self.terminate_now(slot);
                    }
                }
                None => {
                    if !self.release() {
                        return;
                    }
                    // A letter raced in and we took the cell back: keep going. If its sender is
                    // still linking its node (`pop` saw nothing), give it a moment.
                    retakes += 1;
                    if retakes > 1 {
                        backoff(retakes);
                    }
                }
            }
        }
    }

    /// Lets go of a cell whose mailbox the running worker found empty: `IDLE`, unless a letter or
    /// control event raced in, in which case the caller took the cell back (true) and must run it.
    fn release(&self) -> bool {
        // A SeqCst store, then SeqCst loads in `has_pending`: pairs with the sender's SeqCst swap +
        // SeqCst state load (store-buffering is forbidden for SeqCst).
        self.state.store(IDLE, Ordering::SeqCst);
        // SAFETY: we still own the cell until another party moves it to BUSY.
        let pending =
            unsafe { self.mailbox.has_pending() } || self.has_control.load(Ordering::SeqCst);
        pending
            && self
                .state
                .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    fn handle<'h>(
        &'h self,
        process: &mut Option<P>,
        letter: Letter<P>,
        last: &mut LastHandler<'h, P>,
    ) -> Flow {
        match letter {
            Letter::Message { from, body } => {
                self.handle_run(process, &from, MessageRun::one(body), last)
                    .0
            }
            Letter::Batch(mut batch) => {
                // Batches are unpacked by `turn`; handle one that got here anyway in order.
                let no_control = AtomicBool::new(false);
                batch.decode(&self.upid);
                let Batch { from, bodies, .. } = &mut *batch;
                while bodies.peek().is_some() {
                    let run = MessageRun::batch(bodies, usize::MAX, &no_control);
                    if let (Flow::Terminate, _) = self.handle_run(process, from, run, last) {
                        return Flow::Terminate;
                    }
                }
                Flow::Continue
            }
            Letter::Dispatch(f) => self.invoke(process, None, f),
            Letter::Http(letter) => {
                let handlers = self.handlers.clone();
                self.invoke(process, None, |p, ctx| {
                    handlers.routes.serve(p, ctx, *letter)
                })
            }
        }
    }

    /// Hands a run of messages of one type to their handler in one call; returns how many it took.
    #[inline]
    fn handle_run<'h>(
        &'h self,
        process: &mut Option<P>,
        from: &Sender,
        mut run: MessageRun<'_>,
        last: &mut LastHandler<'h, P>,
    ) -> (Flow, usize) {
        let Some((table, type_id)) = run.peek() else {
            return (Flow::Continue, 0);
        };
        let entry = match *last {
            Some((cached, entry)) if cached == table => Some(entry),
            _ => {
                let entry = self.handlers.by_type(type_id);
                *last = entry.map(|entry| (table, entry));
                entry
            }
        };
        let Some(entry) = entry else {
            if let Some(body) = run.next() {
                tracing::warn!(process = %self.upid, from = %from.upid(), message = body.name(),
                        "no handler installed for this message: dropped");
            }
            return (Flow::Continue, 1);
        };
        let upid = from.upid();
        let flow = self.invoke(process, Some(from), |p, ctx| {
            // SAFETY: the entry was found by the type of the run's first message, and a run only
            // yields messages of that message's type.
            unsafe { entry.call(p, ctx, upid, &mut run) }
        });
        (flow, run.taken())
    }

    /// Runs `f` on the process; a panic terminates the process (after logging) instead of the worker.
    fn invoke(
        &self,
        process: &mut Option<P>,
        sender: Option<&Sender>,
        f: impl FnOnce(&mut P, &mut Context<'_, P>),
    ) -> Flow {
        let Some(process) = process.as_mut() else {
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
        let _ = self.invoke(&mut slot.process, None, |p, ctx| p.finalize(ctx));
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

    fn deliver_message(&self, from: SenderRef<'_>, body: Payload) {
        self.deliver_buffered(from, body);
    }

    unsafe fn push_chain(&self, first: *mut u8, last: *mut u8) {
        self.mailbox.push_chain(first, last);
        self.notify();
    }

    fn deliver_encoded(&self, from: &Upid, name: &str, body: &[u8]) {
        // On a delivery (transport) thread the body is only copied into the thread's open batch
        // for this process and decoded by the worker that handles it (`Batch::decode`): the
        // message's memory then lives and dies on that worker, and the event loop, which every
        // message of the connection goes through, does the least per message. Elsewhere it is
        // decoded here.
        match self.handlers.by_name(name) {
            Some(entry) if outbox::buffer_encoded(self, from, entry.decode, entry.name, body) => {}
            Some(entry) => match (entry.decode)(body) {
                Ok(message) => self.deliver_buffered(SenderRef::Upid(from), message),
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
    struct Counter(#[allow(dead_code)] u64);
    impl Process for Counter {}

    #[test]
    fn letters_and_cells_stay_small() {
        // Letters are moved several times per message; big variants are boxed.
        assert!(std::mem::size_of::<Letter<Nothing>>() <= 48);
        // Every idle process pays for its cell: a batch in progress is boxed, a message handed to
        // an idle process lives in the mailbox's stub node.
        assert!(std::mem::size_of::<Cell<Counter>>() <= 144);
    }
}
