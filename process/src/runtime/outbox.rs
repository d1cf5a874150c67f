//! A thread's outbox: the sends one handler makes to one process in a row, handed over as one mailbox
//! entry (one node, one `swap`, one wake-up check) when the handler returns, when another destination
//! or sender comes up, or every [`OUTBOX_BATCH`] messages.
//!
//! The first send to a process in a row goes out at once (request/response stays unbatched); the
//! second opens a batch: a `Letter::Batch` in an unpublished mailbox node, holding the sender once and
//! the messages as bare [`Payload`]s. Later sends append to it through [`append`], which is generic
//! over the message type only and inlined into the sending handler: a comparison of the destination,
//! runtime and sender, and a `Vec` push of the message built in place. That is what makes a burst
//! cheap for the producer; the consumer then takes 64 messages per mailbox entry with no reference
//! counting per message.

use std::cell::{Cell as StdCell, UnsafeCell};
use std::ptr;
use std::sync::Arc;

use crate::cell::{AnyCell, Batch, Cell, Letter, SenderRef};
use crate::letter::{Bodies, DecodeFn, Encoded};
use crate::mailbox::Mailbox;
use crate::message::Message;
use crate::payload::Payload;
use crate::process::Process;
use crate::runtime::workers::{current, Task};
use crate::runtime::Shared;
use crate::upid::Upid;

/// The most messages a batch holds before it is published.
pub(crate) const OUTBOX_BATCH: usize = 64;

/// One thread's buffered sends (owned by its `WorkerLocal`; only that thread touches it).
pub(crate) struct Outbox {
    open: UnsafeCell<Option<OpenBatch>>,
    /// The cell the current handler last sent to directly: a second send to it in a row opens a
    /// batch.
    last_direct: StdCell<*const ()>,
}

/// An unpublished batch and where its parts live.
struct OpenBatch {
    /// The destination (kept alive until published).
    cell: Task,
    /// Its address, for the comparison on the fast path.
    cell_id: *const (),
    /// The runtime whose send found the destination local.
    shared: *const Shared,
    /// The unpublished mailbox node holding the `Letter::Batch`.
    node: *mut u8,
    /// The batch in that letter (boxed: it stays put until the consumer drops it).
    batch: *mut Batch,
}

impl OpenBatch {
    fn publish(self) {
        // SAFETY: `node` is an unpublished node of this cell's mailbox type (see `buffer`).
        unsafe { self.cell.push_chain(self.node, self.node) };
    }
}

impl Outbox {
    pub(crate) const fn new() -> Outbox {
        Outbox {
            open: UnsafeCell::new(None),
            last_direct: StdCell::new(ptr::null()),
        }
    }

    /// Publishes the open batch, if any, and the buffered remote sends, and forgets the last direct
    /// destination.
    pub(crate) fn flush(&self) {
        crate::transport::flush_buffered_sends();
        self.last_direct.set(ptr::null());
        // SAFETY: only this thread touches its outbox, and nothing below re-enters it (publishing
        // pushes a node and schedules a process; it runs no user code).
        if let Some(open) = unsafe { (*self.open.get()).take() } {
            open.publish();
        }
    }
}

/// The fast path of a local send: appends `message` to the calling thread's open batch if that batch
/// goes to `cell` on runtime `shared` from `from`; otherwise gives the message back.
#[inline]
pub(crate) fn append<M: Message>(
    shared: &Shared,
    cell: &dyn AnyCell,
    from: SenderRef<'_>,
    message: M,
) -> Option<M> {
    // SAFETY: the pointer is set by a worker (or delivery thread) for its own lifetime, on this
    // thread only.
    let Some(local) = (unsafe { current().as_ref() }) else {
        return Some(message);
    };
    // SAFETY: only this thread touches its outbox; nothing below re-enters it before the borrow
    // ends (building the payload runs no user code; publishing runs none either).
    let open = unsafe { &mut *local.outbox.open.get() };
    match open {
        Some(open_batch)
            if ptr::addr_eq(open_batch.cell_id, cell as *const dyn AnyCell)
                && ptr::eq(open_batch.shared, shared as *const Shared)
                // SAFETY: the batch belongs to the unpublished node the outbox owns.
                && from.is(unsafe { &(*open_batch.batch).from })
                // SAFETY: as above. (Typed messages never join remote ones still encoded.)
                && unsafe { (*open_batch.batch).encoded.is_none() } =>
        {
            // SAFETY: as above.
            let bodies = unsafe { &mut (*open_batch.batch).bodies };
            bodies.push(Payload::new(message));
            if bodies.len() >= OUTBOX_BATCH {
                if let Some(full) = open.take() {
                    full.publish();
                }
            }
            None
        }
        _ => Some(message),
    }
}

/// The slow path: buffers a message for `cell` in the calling thread's outbox, or gives it back to
/// be sent directly (on threads without an outbox, or when it is the first send to `cell` in a row).
pub(crate) fn buffer<P: Process>(
    cell: &Cell<P>,
    from: SenderRef<'_>,
    body: Payload,
) -> Option<Payload> {
    // SAFETY: as in `append`.
    let Some(local) = (unsafe { current().as_ref() }) else {
        return Some(body);
    };
    let outbox = &local.outbox;
    let this = (cell as *const Cell<P>).cast::<()>();
    // SAFETY: as in `append`.
    let open = unsafe { &mut *outbox.open.get() };
    if let Some(open_batch) = open {
        // SAFETY: the batch belongs to the unpublished node the outbox owns.
        if ptr::eq(open_batch.cell_id, this)
            && from.is(unsafe { &(*open_batch.batch).from })
            && unsafe { (*open_batch.batch).encoded.is_none() }
        {
            // SAFETY: as above.
            let bodies = unsafe { &mut (*open_batch.batch).bodies };
            bodies.push(body);
            if bodies.len() >= OUTBOX_BATCH {
                if let Some(full) = open.take() {
                    full.publish();
                }
            }
            return None;
        }
        // Another destination or sender: publish the batch, send this one directly.
        if let Some(other) = open.take() {
            other.publish();
        }
        outbox.last_direct.set(this);
        return Some(body);
    }
    if outbox.last_direct.get() != this {
        outbox.last_direct.set(this);
        return Some(body);
    }
    let mut bodies = Bodies::with_capacity(OUTBOX_BATCH);
    bodies.push(body);
    let node = Mailbox::new_node(Letter::<P>::Batch(Box::new(Batch {
        from: from.to_owned(),
        bodies,
        encoded: None,
    })));
    // SAFETY: the node was just made by this cell's mailbox type and is not published; the pointer
    // is taken from the box where it now stays.
    match unsafe { Mailbox::<Letter<P>>::value_mut(node) } {
        Some(Letter::Batch(batch)) => {
            *open = Some(OpenBatch {
                cell: cell.arc(),
                cell_id: this,
                shared: Arc::as_ptr(&cell.runtime().shared),
                node,
                batch: &mut **batch,
            });
        }
        // SAFETY: as above (the node holds what was just put in: this arm is never taken).
        _ => unsafe { cell.push_chain(node, node) },
    }
    None
}

/// Bytes of encoded bodies after which a batch of remote messages is published.
const ENCODED_BATCH_BYTES: usize = 64 * 1024;

/// Buffers a remote message for `cell` still encoded (see [`Encoded`]): appended to the calling
/// thread's open batch when that one holds encoded messages from `from` to `cell`, else in a new
/// one (publishing the one open). False on threads without an outbox: the caller decodes it and
/// delivers it itself.
pub(crate) fn buffer_encoded<P: Process>(
    cell: &Cell<P>,
    from: &Upid,
    decode: DecodeFn,
    name: &'static str,
    body: &[u8],
) -> bool {
    // SAFETY: as in `append`.
    let Some(local) = (unsafe { current().as_ref() }) else {
        return false;
    };
    let this = (cell as *const Cell<P>).cast::<()>();
    // SAFETY: as in `append`.
    let open = unsafe { &mut *local.outbox.open.get() };
    if let Some(open_batch) = open {
        // SAFETY: the batch belongs to the unpublished node the outbox owns.
        let batch = unsafe { &mut *open_batch.batch };
        if ptr::eq(open_batch.cell_id, this) && SenderRef::Upid(from).is(&batch.from) {
            if let Some(encoded) = batch.encoded.as_mut() {
                if encoded.push(decode, name, body) {
                    if encoded.len() >= OUTBOX_BATCH || encoded.bytes() >= ENCODED_BATCH_BYTES {
                        if let Some(full) = open.take() {
                            full.publish();
                        }
                    }
                    return true;
                }
            }
        }
        if let Some(other) = open.take() {
            other.publish();
        }
    }
    local.outbox.last_direct.set(ptr::null());
    let mut encoded = Encoded::new();
    if !encoded.push(decode, name, body) {
        return false;
    }
    let node = Mailbox::new_node(Letter::<P>::Batch(Box::new(Batch {
        from: SenderRef::Upid(from).to_owned(),
        bodies: Bodies::with_capacity(0),
        encoded: Some(encoded),
    })));
    // SAFETY: as in `buffer`.
    match unsafe { Mailbox::<Letter<P>>::value_mut(node) } {
        Some(Letter::Batch(batch)) => {
            *open = Some(OpenBatch {
                cell: cell.arc(),
                cell_id: this,
                shared: Arc::as_ptr(&cell.runtime().shared),
                node,
                batch: &mut **batch,
            });
        }
        // SAFETY: as in `buffer`.
        _ => unsafe { cell.push_chain(node, node) },
    }
    true
}

/// Publishes the calling thread's buffered sends (no-op on threads without an outbox).
#[inline]
pub(crate) fn flush() {
    // SAFETY: as in `append`.
    if let Some(local) = unsafe { current().as_ref() } {
        local.outbox.flush();
    }
}
