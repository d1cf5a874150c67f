//! What a mailbox holds: letters (data lane) and control events, and who sent them.

use std::sync::Arc;

use crate::cell::AnyCell;
use crate::context::Context;
use crate::payload::Payload;
use crate::process::Process;
use crate::router::HttpLetter;
use crate::upid::Upid;

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

/// A sender, borrowed for the length of one send. The owned [`Sender`] (a reference count) is only
/// made for a letter that starts a mailbox entry: the messages appended to a batch share the
/// batch's, so a burst costs no reference-count traffic between the sending and receiving cores.
#[derive(Clone, Copy)]
pub(crate) enum SenderRef<'a> {
    Process(&'a dyn AnyCell),
    Upid(&'a Upid),
}

impl<'a> SenderRef<'a> {
    pub(crate) fn upid(self) -> &'a Upid {
        match self {
            SenderRef::Process(cell) => cell.upid(),
            SenderRef::Upid(upid) => upid,
        }
    }

    pub(crate) fn to_owned(self) -> Sender {
        match self {
            SenderRef::Process(cell) => Sender::Process(cell.arc_dyn()),
            SenderRef::Upid(upid) => Sender::Upid(upid.clone()),
        }
    }

    /// Whether `sender` is this sender (the same local process, or the same address).
    #[inline]
    pub(crate) fn is(self, sender: &Sender) -> bool {
        match (self, sender) {
            (SenderRef::Process(cell), Sender::Process(other)) => {
                std::ptr::addr_eq(cell as *const dyn AnyCell, Arc::as_ptr(other))
            }
            (SenderRef::Upid(upid), Sender::Upid(other)) => upid == other,
            _ => false,
        }
    }
}

/// Messages from one sender.
pub(crate) struct Batch {
    pub(crate) from: Sender,
    pub(crate) bodies: Bodies,
    /// Remote messages still in their wire form, decoded by the worker that takes the batch (see
    /// [`Encoded`]); `None` for batches of local sends.
    pub(crate) encoded: Option<Encoded>,
}

impl Batch {
    /// Decodes the batch's remote messages into `bodies`, in order, on the calling thread (the
    /// worker about to handle them); an undecodable one is dropped with a warning.
    pub(crate) fn decode(&mut self, process: &Upid) {
        let Some(encoded) = self.encoded.take() else {
            return;
        };
        self.bodies.bodies.reserve(encoded.items.len());
        let mut start = 0;
        for item in &encoded.items {
            let end = item.end as usize;
            match encoded.bytes.get(start..end).map(item.decode) {
                Some(Ok(body)) => self.bodies.push(body),
                Some(Err(error)) => tracing::warn!(%process, from = %self.from.upid(),
                    message = %item.name, %error, "undecodable remote message: dropped"),
                None => {}
            }
            start = end;
        }
    }
}

/// Decodes one message body into its payload (a handler entry's decoder).
pub(crate) type DecodeFn = fn(&[u8]) -> Result<Payload, String>;

/// Remote messages as they came off the wire: their bodies copied back to back into one buffer,
/// with the decoder of each. The delivery (transport) thread only copies bytes; the worker that runs
/// the receiver decodes them, so each message's memory is allocated and freed on that one thread
/// (no cross-thread free per message), and the event loop's work per message is a copy.
pub(crate) struct Encoded {
    bytes: Vec<u8>,
    items: Vec<EncodedItem>,
}

struct EncodedItem {
    decode: DecodeFn,
    name: &'static str,
    /// Where the body ends in `bytes` (it starts where the previous one ended).
    end: u32,
}

impl Encoded {
    /// Bytes a buffer starts with (grown as needed).
    const INITIAL_BYTES: usize = 4096;

    pub(crate) fn new() -> Encoded {
        Encoded {
            bytes: Vec::with_capacity(Self::INITIAL_BYTES),
            items: Vec::with_capacity(crate::runtime::outbox::OUTBOX_BATCH),
        }
    }

    /// Appends a body; false (and nothing appended) if the buffer would pass 4 GiB.
    pub(crate) fn push(&mut self, decode: DecodeFn, name: &'static str, body: &[u8]) -> bool {
        let Ok(end) = u32::try_from(self.bytes.len() + body.len()) else {
            return false;
        };
        self.bytes.extend_from_slice(body);
        self.items.push(EncodedItem { decode, name, end });
        true
    }

    /// How many messages it holds.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// How many body bytes it holds.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.len()
    }
}

/// Messages taken from the front, one at a time.
pub(crate) struct Bodies {
    bodies: Vec<Payload>,
    /// How many messages from the front were taken (those slots are moved-out memory).
    taken: usize,
}

impl Bodies {
    pub(crate) fn with_capacity(capacity: usize) -> Bodies {
        Bodies {
            bodies: Vec::with_capacity(capacity),
            taken: 0,
        }
    }

    /// Appends a message (only before any was taken).
    #[inline]
    pub(crate) fn push(&mut self, body: Payload) {
        debug_assert_eq!(self.taken, 0);
        self.bodies.push(body);
    }

    /// How many messages it holds in all (taken or not).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.bodies.len()
    }

    /// The next message, without taking it.
    #[inline]
    pub(crate) fn peek(&self) -> Option<&Payload> {
        self.bodies.get(self.taken)
    }

    /// Takes the next message.
    #[inline]
    pub(crate) fn take(&mut self) -> Option<Payload> {
        let index = self.taken;
        if index >= self.bodies.len() {
            return None;
        }
        self.taken += 1;
        // SAFETY: `index` is in bounds and not taken yet; `taken` now marks it moved out, so it is
        // neither read nor dropped again.
        Some(unsafe { std::ptr::read(self.bodies.as_ptr().add(index)) })
    }
}

impl Drop for Bodies {
    fn drop(&mut self) {
        let len = self.bodies.len();
        let taken = self.taken.min(len);
        // SAFETY: the first `taken` slots were moved out; the rest are live and dropped here once,
        // after the length is cut so that the `Vec` only frees its buffer.
        unsafe {
            self.bodies.set_len(0);
            let rest = std::ptr::slice_from_raw_parts_mut(
                self.bodies.as_mut_ptr().add(taken),
                len - taken,
            );
            std::ptr::drop_in_place(rest);
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
    /// Messages from one sender that a thread buffered while one handler ran (or while it delivered
    /// one socket read), handed over as one mailbox entry: see `runtime::outbox`. Boxed: a process
    /// keeps the one it is working through, and an idle one should not pay for the space.
    Batch(Box<Batch>),
    Dispatch(DispatchFn<P>),
    Http(Box<HttpLetter>),
}

/// A control-lane entry; these overtake queued letters.
pub(crate) enum Control {
    Terminate,
    Exited(Upid),
}
