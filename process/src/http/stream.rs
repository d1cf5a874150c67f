//! Streaming responses: `Transfer-Encoding: chunked` bodies that stay open while a process pushes
//! records into them (Mesos's RecordIO event streams), with a bound on the bytes a slow reader
//! may leave queued.
//!
//! A handler builds the response with [`Response::chunked`](super::Response::chunked), keeps the
//! [`HttpStream`] writer and returns the response. The connection writes the head and then
//! whatever the writer queues, one chunk per [`HttpStream::send`]. When the client goes away
//! (or reads so slowly that more than the cap is queued, or the response never reaches a live
//! connection), the stream closes and every [`HttpStream::on_close`] callback runs once: that is
//! how the owner learns the reader is gone.

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use parking_lot::Mutex;

/// Why [`HttpStream::send`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The stream is closed (the reader went away, or the writer closed it).
    #[error("the stream is closed")]
    Closed,
    /// The reader is too slow: more than the cap would be queued; the stream is now closed.
    #[error("the reader is too slow: more than {0} bytes would be queued; stream closed")]
    Overflowed(usize),
}

type Callback = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    /// Chunk-encoded bytes the connection has not taken yet.
    bytes: Vec<u8>,
    /// The writer called `close`: the last chunk is queued, no more sends.
    finished: bool,
    /// The reader is gone (disconnected, overflowed, or never attached): no more sends.
    gone: bool,
    /// The cap was exceeded: the connection must close without writing more.
    overflowed: bool,
    /// Wakes the connection when bytes are queued (set once the head is written).
    notify: Option<Box<dyn Fn() + Send + Sync>>,
    /// Run once when the reader is gone.
    on_close: Vec<Callback>,
}

pub(crate) struct StreamShared {
    state: Mutex<State>,
    max_queued_bytes: usize,
}

/// What the connection should do after taking a stream's bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Nothing queued; wait for the writer.
    Idle,
    /// Bytes were appended to the output.
    Bytes,
    /// The writer finished and everything is taken: close after flushing.
    Finished,
    /// The reader fell too far behind: close now.
    Overflowed,
}

impl StreamShared {
    /// Hands the connection's wake-up to the stream and returns whether bytes are already queued.
    pub(crate) fn attach(&self, notify: Box<dyn Fn() + Send + Sync>) -> bool {
        let mut state = self.state.lock();
        state.notify = Some(notify);
        !state.bytes.is_empty() || state.finished
    }

    /// Moves the queued bytes to the end of `out` (which the connection has written).
    pub(crate) fn take_into(&self, out: &mut Vec<u8>) -> Taken {
        let mut state = self.state.lock();
        if state.overflowed {
            return Taken::Overflowed;
        }
        if state.bytes.is_empty() {
            return if state.finished {
                Taken::Finished
            } else {
                Taken::Idle
            };
        }
        if out.is_empty() {
            std::mem::swap(out, &mut state.bytes);
        } else {
            out.append(&mut state.bytes);
        }
        Taken::Bytes
    }

    /// The reader is gone (connection closed, or the response never reached one): later sends
    /// fail and the close callbacks run, once.
    pub(crate) fn reader_gone(&self) {
        let callbacks = {
            let mut state = self.state.lock();
            if state.gone {
                return;
            }
            state.gone = true;
            state.bytes = Vec::new();
            state.notify = None;
            let callbacks = std::mem::take(&mut state.on_close);
            if state.finished {
                // The writer ended the stream itself: nobody needs telling.
                Vec::new()
            } else {
                callbacks
            }
        };
        for callback in callbacks {
            callback();
        }
    }
}

/// The writer of a streaming response. Cheap to clone; `Send + Sync`: keep it in a process and
/// push from its handlers.
#[derive(Clone)]
pub struct HttpStream {
    shared: Arc<StreamShared>,
}

impl fmt::Debug for HttpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpStream")
            .field("closed", &self.is_closed())
            .field("queued_bytes", &self.queued_bytes())
            .finish()
    }
}

impl HttpStream {
    /// A writer and the body that goes into the response. Queued bytes beyond
    /// `max_queued_bytes` close the stream.
    pub(crate) fn new(max_queued_bytes: usize) -> (HttpStream, StreamBody) {
        let shared = Arc::new(StreamShared {
            state: Mutex::new(State::default()),
            max_queued_bytes,
        });
        (
            HttpStream {
                shared: shared.clone(),
            },
            StreamBody {
                shared: Some(shared),
            },
        )
    }

    /// Queues `data` as one chunk.
    ///
    /// # Errors
    /// [`StreamError::Closed`] once the stream is closed; [`StreamError::Overflowed`] when the
    /// reader has fallen more than the cap behind (the stream closes, the close callbacks run).
    pub fn send(&self, data: &[u8]) -> Result<(), StreamError> {
        if data.is_empty() {
            // A zero-length chunk would end the body.
            return Ok(());
        }
        let mut state = self.shared.state.lock();
        if state.gone || state.finished {
            return Err(StreamError::Closed);
        }
        let frame = 16 + data.len();
        if state.bytes.len() + frame > self.shared.max_queued_bytes {
            state.overflowed = true;
            let notify = state.notify.take();
            drop(state);
            tracing::warn!(
                cap = self.shared.max_queued_bytes,
                "http stream reader too slow: closing the stream"
            );
            if let Some(notify) = notify {
                notify();
            }
            self.shared.reader_gone();
            return Err(StreamError::Overflowed(self.shared.max_queued_bytes));
        }
        let was_empty = state.bytes.is_empty();
        // Writing into a Vec cannot fail.
        let _ = write!(state.bytes, "{:x}\r\n", data.len());
        state.bytes.extend_from_slice(data);
        state.bytes.extend_from_slice(b"\r\n");
        if was_empty {
            if let Some(notify) = &state.notify {
                notify();
            }
        }
        Ok(())
    }

    /// Ends the body (the last, empty chunk) once everything queued is written; the connection
    /// then closes. Later sends fail. The close callbacks do not run: the writer knows.
    pub fn close(&self) {
        let mut state = self.shared.state.lock();
        if state.gone || state.finished {
            return;
        }
        state.finished = true;
        state.bytes.extend_from_slice(b"0\r\n\r\n");
        if let Some(notify) = &state.notify {
            notify();
        }
    }

    /// Runs `callback` once when the reader goes away (at once if it is gone already).
    pub fn on_close(&self, callback: impl FnOnce() + Send + 'static) {
        let mut state = self.shared.state.lock();
        if state.gone {
            drop(state);
            callback();
        } else {
            state.on_close.push(Box::new(callback));
        }
    }

    /// Whether sends fail now (closed by either side).
    pub fn is_closed(&self) -> bool {
        let state = self.shared.state.lock();
        state.gone || state.finished
    }

    /// Bytes queued and not yet taken by the connection.
    pub fn queued_bytes(&self) -> usize {
        self.shared.state.lock().bytes.len()
    }
}

/// The body half of a streaming response, carried by [`Response`](super::Response) to the
/// connection. Dropped before it reaches one (the client left, the response was replaced), it
/// closes the stream.
pub struct StreamBody {
    shared: Option<Arc<StreamShared>>,
}

impl StreamBody {
    /// The stream, for the connection that writes it (the body no longer closes it on drop).
    pub(crate) fn into_shared(mut self) -> Option<Arc<StreamShared>> {
        self.shared.take()
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.reader_gone();
        }
    }
}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamBody")
    }
}

impl PartialEq for StreamBody {
    fn eq(&self, other: &StreamBody) -> bool {
        match (&self.shared, &other.shared) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Eq for StreamBody {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn chunks_finish_and_callbacks() {
        let (stream, body) = HttpStream::new(1024);
        let shared = body.into_shared().unwrap();
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        assert!(!shared.attach(Box::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        })));
        stream.send(b"hello").unwrap();
        stream.send(b"").unwrap();
        stream.send(b"x").unwrap();
        assert_eq!(
            wakes.load(Ordering::SeqCst),
            1,
            "one wake per empty-to-queued"
        );
        let mut out = Vec::new();
        assert_eq!(shared.take_into(&mut out), Taken::Bytes);
        assert_eq!(out, b"5\r\nhello\r\n1\r\nx\r\n");
        assert_eq!(shared.take_into(&mut out), Taken::Idle);
        stream.close();
        assert_eq!(stream.send(b"y"), Err(StreamError::Closed));
        out.clear();
        assert_eq!(shared.take_into(&mut out), Taken::Bytes);
        assert_eq!(out, b"0\r\n\r\n");
        assert_eq!(shared.take_into(&mut out), Taken::Finished);
    }

    #[test]
    fn overflow_and_abandoned_bodies_close_the_stream() {
        let closed = Arc::new(AtomicUsize::new(0));
        let (stream, body) = HttpStream::new(64);
        let c = closed.clone();
        stream.on_close(move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        stream.send(&[b'a'; 20]).unwrap();
        assert_eq!(stream.send(&[b'a'; 40]), Err(StreamError::Overflowed(64)));
        assert!(stream.is_closed());
        assert_eq!(closed.load(Ordering::SeqCst), 1);
        let shared = body.into_shared().unwrap();
        assert_eq!(shared.take_into(&mut Vec::new()), Taken::Overflowed);

        let (stream, body) = HttpStream::new(64);
        let c = closed.clone();
        stream.on_close(move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        drop(body);
        assert_eq!(closed.load(Ordering::SeqCst), 2);
        assert_eq!(stream.send(b"x"), Err(StreamError::Closed));
        let c = closed.clone();
        stream.on_close(move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(
            closed.load(Ordering::SeqCst),
            3,
            "late callbacks run at once"
        );
    }
}
