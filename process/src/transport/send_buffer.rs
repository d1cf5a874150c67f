//! A worker's buffered remote sends: the frames one handler sends to one peer, pushed to the peer's
//! queue in one go when the handler returns (or when another peer comes up, or every
//! [`FLUSH_BYTES`]).
//!
//! Why: the peer queue is a lock shared with the event-loop thread, which takes the queued bytes
//! while senders fill it; locking it per message moved its cache line between the two cores twice
//! per message (perf: the lock and unlock were most of a streaming sender's send path). Buffered,
//! a burst of sends costs one lock, one copy and at most one wake-up of the loop.
//!
//! Only threads that publish their buffers when a handler returns use this: the runtime's workers
//! (see `runtime::outbox`, which calls [`flush`]). Everything else sends straight to the queue. The
//! event-loop thread never buffers: its sends must not wait for a flush that only it would do.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;

use super::frame::FrameEncoder;
use super::queue::{PeerQueue, Pushed};
use super::{Parts, Shared};

/// Buffered bytes after which the frames are pushed at once, so one handler's long burst still
/// streams (and meets the queue's back-pressure) instead of piling up here.
pub(crate) const FLUSH_BYTES: usize = 64 << 10;

/// A buffer above this capacity is released after a flush.
const KEEP_CAPACITY: usize = 1 << 20;

/// The calling thread's buffer.
struct SendBuffer {
    /// The transport and peer the buffered frames go to.
    open: Option<(Arc<Shared>, SocketAddr, Arc<PeerQueue>)>,
    bytes: Vec<u8>,
    encoder: FrameEncoder,
}

thread_local! {
    static BUFFER: RefCell<SendBuffer> = RefCell::new(SendBuffer {
        open: None,
        bytes: Vec::new(),
        encoder: FrameEncoder::new(),
    });
}

impl SendBuffer {
    fn flush(&mut self) {
        let Some((shared, peer, queue)) = self.open.take() else {
            return;
        };
        if !self.bytes.is_empty() {
            if queue.push_encoded(&self.bytes, &shared.config, true) == Pushed::First {
                shared.command(super::Command::Flush(peer));
            }
            self.bytes.clear();
        }
        if self.bytes.capacity() > KEEP_CAPACITY {
            self.bytes = Vec::new();
        }
    }
}

/// Buffers `envelope` for `peer` of transport `shared` (whose queue for it is `queue`, looked up
/// by the caller only when the buffer is not already open for that peer); false if this thread
/// does not buffer (or is busy flushing) and the caller must push it itself.
pub(crate) fn append(
    shared: &Arc<Shared>,
    peer: SocketAddr,
    envelope: Parts<'_>,
    queue: impl FnOnce() -> Arc<PeerQueue>,
) -> bool {
    if crate::runtime::workers::current().is_null() || shared.on_loop_thread() {
        return false;
    }
    BUFFER
        .try_with(|buffer| {
            let Ok(mut buffer) = buffer.try_borrow_mut() else {
                return false;
            };
            let buffer = &mut *buffer;
            let same =
                matches!(&buffer.open, Some((s, p, _)) if Arc::ptr_eq(s, shared) && *p == peer);
            if !same {
                buffer.flush();
                buffer.open = Some((Arc::clone(shared), peer, queue()));
            }
            if let Err(e) = buffer.encoder.encode_parts(
                envelope,
                shared.config.max_frame_bytes,
                &mut buffer.bytes,
            ) {
                tracing::warn!(to = %envelope.to, name = %envelope.name, "message dropped: {e}");
            }
            if buffer.bytes.len() >= FLUSH_BYTES {
                buffer.flush();
            }
            true
        })
        .unwrap_or(false)
}

/// Pushes the calling thread's buffered frames to their peer queue (no-op if there are none).
#[inline]
pub(crate) fn flush() {
    let _ = BUFFER.try_with(|buffer| {
        if let Ok(mut buffer) = buffer.try_borrow_mut() {
            if buffer.open.is_some() {
                buffer.flush();
            }
        }
    });
}
