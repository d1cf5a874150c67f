//! The TCP transport: one listening port and one mio event-loop thread per runtime, carrying framed
//! [`Envelope`]s between runtimes and HTTP/1.1 requests from anyone, on the same port.
//!
//! # How a message travels
//! 1. [`Transport::send`] encodes the envelope on the *caller's* thread into the byte queue of the
//!    destination peer ([`frame`] codec); on a runtime worker, a handler's frames for one peer are
//!    first collected in a per-thread buffer and pushed in one go when the handler returns
//!    (`send_buffer`). Only when that queue goes from empty to non-empty does the caller wake the
//!    event loop, so a burst of sends costs one lock and one wake-up.
//! 2. The event loop swaps the whole queue out and writes it with as few `write` calls as the socket
//!    allows; meanwhile senders fill a fresh queue. Outgoing connections are opened on demand, one per peer
//!    listen address, reused, and re-opened by the next send after a failure.
//! 3. The receiving loop reads up to 256 KiB per `read`, decodes every whole frame in place and calls
//!    [`TransportHandler::deliver`] for each with a [`BorrowedEnvelope`] (name and body still in the
//!    read buffer). The runtime copies each body into a batch for its process, still encoded, and
//!    the worker that runs the process decodes it, so a message's memory stays on one thread.
//!
//! # Frames or HTTP?
//! A connection is classified by its first byte. A frame starts with the top byte of its big-endian
//! length, and `max_frame_bytes` is capped at [`MAX_FRAME_LIMIT`] (just under 1 GiB) so that byte is always
//! below `b'A'`; every HTTP request starts with an upper-case method letter (`b'A'..=b'Z'`). Anything else
//! is treated as frames, and garbage then fails frame decoding and closes that one connection.
//!
//! # Peers and failures
//! Every outgoing connection first sends a *hello* (an envelope with an empty `name`, never delivered) whose
//! `from` carries the sender's listen address, so the accepting side knows which runtime is on the other
//! end. When any connection to or from a known runtime breaks, [`TransportHandler::peer_lost`] is called
//! with that runtime's listen address, on both sides. Queued bytes for a lost peer are dropped; the next
//! send reconnects.
//!
//! # Bad input
//! A frame longer than `max_frame_bytes` (checked before buffering it), an undecodable envelope or garbage
//! closes that connection with a `tracing` warning; malformed HTTP gets a 400 (or 411/413/431) and the
//! connection is closed. Nothing else is affected.

mod connection;
mod error;
mod event_loop;
pub mod frame;
mod queue;
mod send_buffer;
pub mod tls;

#[cfg(test)]
mod tests;

pub use error::{FrameError, TransportError};
pub use frame::{decode_payload, encode_frame, FrameDecoder, FrameEncoder, MAX_FRAME_LIMIT};
pub(crate) use send_buffer::flush as flush_buffered_sends;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::Sender;
use mio::net::TcpListener;
use mio::{Interest, Poll, Waker};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use crate::upid::Upid;
use event_loop::{Command, EventLoop, LISTENER, WAKER};
use queue::{PeerQueue, Pushed};

/// One message on the wire: who sent it, to whom, its type name and its serialised body.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Envelope {
    /// The sending process.
    pub from: Upid,
    /// The receiving process.
    pub to: Upid,
    /// The message type name. Empty names are reserved for transport control frames and never delivered.
    pub name: String,
    /// The message, serialised by the sender.
    #[serde(with = "body_bytes")]
    pub body: Vec<u8>,
}

/// An envelope's fields, borrowed: what the send path encodes without building an [`Envelope`].
#[derive(Clone, Copy)]
pub(crate) struct Parts<'a> {
    pub(crate) from: &'a Upid,
    pub(crate) to: &'a Upid,
    pub(crate) name: &'a str,
    pub(crate) body: &'a [u8],
}

/// A received envelope whose name and body are borrowed from the read buffer: what
/// [`TransportHandler::deliver`] gets, so a message decoded straight into its type never needs
/// an owned copy of its bytes. The pids are borrowed from the decoder's cache of the last ones seen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BorrowedEnvelope<'a> {
    /// The sending process.
    pub from: &'a Upid,
    /// The receiving process.
    pub to: &'a Upid,
    /// The message type name (empty for transport control frames).
    pub name: &'a str,
    /// The message, serialised by the sender.
    pub body: &'a [u8],
}

impl BorrowedEnvelope<'_> {
    /// An owned copy.
    pub fn to_owned(&self) -> Envelope {
        Envelope {
            from: self.from.clone(),
            to: self.to.clone(),
            name: self.name.to_owned(),
            body: self.body.to_vec(),
        }
    }
}

impl Envelope {
    pub(crate) fn parts(&self) -> Parts<'_> {
        Parts {
            from: &self.from,
            to: &self.to,
            name: &self.name,
            body: &self.body,
        }
    }
}

/// Serialises the body as a byte string (one length, then the bytes) rather than a sequence of numbers:
/// the same bincode bytes, but decoded with one copy instead of one call per byte.
mod body_bytes {
    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(body: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(body)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a byte string")
        }

        fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        // Self-describing formats (JSON) hand bytes over as a sequence of numbers.
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}

/// Limits of one transport. Every field has a sensible [`Default`].
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Largest frame payload accepted or sent (default 16 MiB, at most [`MAX_FRAME_LIMIT`]). A longer
    /// incoming frame closes its connection; a longer outgoing envelope is dropped with a warning.
    pub max_frame_bytes: usize,
    /// Bytes that may wait in one peer's send queue before [`Transport::send`] blocks the caller until the
    /// event loop has taken the queue (default 4 MiB: large enough for big write batches, small enough
    /// that the two buffers of a busy peer are reused rather than regrown). Calls made on the event-loop
    /// thread never block.
    pub max_pending_bytes: usize,
    /// Limit on an HTTP request's line plus headers (default 64 KiB).
    pub max_http_header_bytes: usize,
    /// Limit on an HTTP request body (default 16 MiB).
    pub max_http_body_bytes: usize,
    /// TLS on every connection (default `None`: plaintext). See [`tls`].
    pub tls: Option<tls::TlsConfig>,
}

impl Default for TransportConfig {
    fn default() -> TransportConfig {
        TransportConfig {
            max_frame_bytes: 16 << 20,
            max_pending_bytes: 4 << 20,
            max_http_header_bytes: 64 << 10,
            max_http_body_bytes: 16 << 20,
            tls: None,
        }
    }
}

/// One socket read's envelopes: called once with the function to hand each envelope to.
pub type ReadEnvelopes<'a> = dyn FnMut(&mut dyn FnMut(BorrowedEnvelope<'_>)) + 'a;

/// What the transport calls into. All methods run on the event-loop thread and must not block: hand work
/// to other threads.
pub trait TransportHandler: Send + Sync + 'static {
    /// A decoded envelope arrived (borrowed from the read buffer: copy what must outlive the call).
    fn deliver(&self, envelope: BorrowedEnvelope<'_>);
    /// Delivers what one socket read decoded: `read` calls its argument once per envelope, in
    /// order. The default passes each to [`deliver`](TransportHandler::deliver); a handler can
    /// override it to do per-read work (look-ups, publishing) once per read instead of per message.
    fn deliver_read(&self, read: &mut ReadEnvelopes<'_>) {
        read(&mut |envelope| self.deliver(envelope));
    }
    /// An HTTP request arrived; answer it through `responder`, from any thread. Requests on one connection
    /// are handed over one at a time: the next comes after this one is answered.
    fn http(&self, request: crate::http::Request, responder: crate::http::Responder);
    /// A connection to or from the runtime listening at `peer` broke (or could not be opened).
    fn peer_lost(&self, peer: SocketAddr);
    /// [`peer_lost`](TransportHandler::peer_lost), saying which connection: a handler that
    /// [reconnected](Transport::reconnect) can ignore the loss of a connection older than its
    /// new one. The default forgets the generation.
    fn connection_lost(&self, peer: SocketAddr, generation: ConnectionGeneration) {
        let _ = generation;
        self.peer_lost(peer);
    }
}

/// When a connection was opened or accepted, relative to the transport's other connections:
/// generations grow with every connection and are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ConnectionGeneration(pub u64);

/// A map keyed by peer address with a cheap hash (FNV-1a): looked up on every send, keys are not
/// attacker-chosen (they are addresses we send to).
pub(crate) type PeerMap<V> = HashMap<SocketAddr, V, BuildHasherDefault<FnvHasher>>;

/// FNV-1a, 64 bit.
pub(crate) struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Gives each transport a distinct id for the thread-local loop marker below (an id, not a runtime
/// global: nothing else is shared between transports).
static NEXT_TRANSPORT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The id of the transport whose event loop runs on this thread (0: none). Cheaper to check on every
    /// send than comparing `thread::current()` ids, which clones an `Arc`.
    static LOOP_OF_THIS_THREAD: Cell<u64> = const { Cell::new(0) };

    /// The queue this thread sent to last, with its transport id and peer: a stream of sends to one peer
    /// skips the shared map (its lock, hash and reference count) entirely. Ids are never reused, so a stale
    /// entry can only miss, never hit a queue of another transport.
    static LAST_QUEUE: RefCell<Option<(u64, SocketAddr, Arc<PeerQueue>)>> = const { RefCell::new(None) };
}

/// State shared by the [`Transport`] handle, the event loop and HTTP responders.
pub(crate) struct Shared {
    config: TransportConfig,
    local_addr: SocketAddr,
    waker: Waker,
    commands: Sender<Command>,
    queues: RwLock<PeerMap<Arc<PeerQueue>>>,
    shut_down: AtomicBool,
    id: u64,
    /// Set when every connection is TLS.
    tls: Option<tls::TlsContext>,
    /// The last connection generation handed out (see [`ConnectionGeneration`]).
    generations: AtomicU64,
}

impl Shared {
    /// The send queue for `addr`, created on first use. Queues live as long as the transport.
    fn queue_for(&self, addr: SocketAddr) -> Arc<PeerQueue> {
        if let Some(queue) = self.queues.read().get(&addr) {
            return Arc::clone(queue);
        }
        let mut queues = self.queues.write();
        Arc::clone(
            queues
                .entry(addr)
                .or_insert_with(|| Arc::new(PeerQueue::new())),
        )
    }

    /// Hands `command` to the event loop and wakes it. On the loop thread itself (a handler sending) no
    /// wake-up is needed: the loop drains its commands before it polls again.
    fn command(&self, command: Command) {
        if self.commands.send(command).is_err() {
            tracing::debug!("transport event loop has stopped; command dropped");
            return;
        }
        if self.on_loop_thread() {
            return;
        }
        if let Err(e) = self.waker.wake() {
            tracing::warn!("cannot wake the transport event loop: {e}");
        }
    }

    /// A generation no connection has yet: later than every connection opened or accepted so far.
    fn next_generation(&self) -> ConnectionGeneration {
        ConnectionGeneration(self.generations.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn on_loop_thread(&self) -> bool {
        LOOP_OF_THIS_THREAD.with(|id| id.get() == self.id)
    }

    /// Called first thing on the event-loop thread.
    fn mark_loop_thread(&self) {
        LOOP_OF_THIS_THREAD.with(|id| id.set(self.id));
    }
}

/// A running transport: a listening socket plus its event-loop thread. `Send + Sync`; share it by `Arc`.
/// Dropping it shuts it down.
pub struct Transport {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Transport {
    /// Binds `listen` (port 0 picks a free port) and starts the event loop.
    ///
    /// # Errors
    /// [`TransportError::InvalidConfig`] for a `max_frame_bytes` above [`MAX_FRAME_LIMIT`] or a zero limit,
    /// [`TransportError::Bind`] if the address cannot be bound, [`TransportError::EventLoop`] if the poller
    /// or thread cannot be created.
    pub fn start(
        listen: SocketAddr,
        config: TransportConfig,
        handler: Arc<dyn TransportHandler>,
    ) -> Result<Transport, TransportError> {
        if config.max_frame_bytes > MAX_FRAME_LIMIT {
            return Err(TransportError::InvalidConfig(format!(
                "max_frame_bytes {} exceeds {MAX_FRAME_LIMIT} (larger frames could look like http)",
                config.max_frame_bytes
            )));
        }
        if config.max_frame_bytes == 0 || config.max_pending_bytes == 0 {
            return Err(TransportError::InvalidConfig(
                "max_frame_bytes and max_pending_bytes must be positive".into(),
            ));
        }
        let tls = config.tls.as_ref().map(tls::TlsContext::new).transpose()?;
        let poll = Poll::new().map_err(TransportError::EventLoop)?;
        let mut listener = TcpListener::bind(listen).map_err(|source| TransportError::Bind {
            addr: listen,
            source,
        })?;
        raise_backlog(&listener);
        let local_addr = listener
            .local_addr()
            .map_err(|source| TransportError::Bind {
                addr: listen,
                source,
            })?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .map_err(TransportError::EventLoop)?;
        let waker = Waker::new(poll.registry(), WAKER).map_err(TransportError::EventLoop)?;
        let (commands, command_rx) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared {
            config,
            local_addr,
            waker,
            commands,
            queues: RwLock::new(PeerMap::default()),
            shut_down: AtomicBool::new(false),
            id: NEXT_TRANSPORT_ID.fetch_add(1, Ordering::Relaxed),
            tls,
            generations: AtomicU64::new(0),
        });
        let event_loop = EventLoop::new(poll, listener, Arc::clone(&shared), handler, command_rx);
        let thread = thread::Builder::new()
            .name(format!("transport-{}", local_addr.port()))
            .spawn(move || event_loop.run())
            .map_err(TransportError::EventLoop)?;
        tracing::debug!(%local_addr, "transport listening");
        Ok(Transport {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The bound listening address (with the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Whether every connection is TLS (`https://` for HTTP clients).
    pub fn tls_enabled(&self) -> bool {
        self.shared.tls.is_some()
    }

    /// The limits this transport runs with.
    pub fn config(&self) -> &TransportConfig {
        &self.shared.config
    }

    /// Queues `envelope` for the runtime listening at `to`, connecting if needed. Returns at once unless
    /// the peer's queue holds more than `max_pending_bytes` (then waits for the event loop to take it).
    /// If the connection cannot be opened or breaks, [`TransportHandler::peer_lost`]`(to)` is called and
    /// the queued messages are dropped. Envelopes larger than `max_frame_bytes` are dropped with a warning.
    pub fn send(&self, to: SocketAddr, envelope: &Envelope) {
        self.send_parts(to, envelope.parts());
    }

    /// [`Transport::send`] from borrowed fields: the runtime's send path, which then needs no owned
    /// name or body per message.
    pub(crate) fn send_parts(&self, to: SocketAddr, envelope: Parts<'_>) {
        if self.shared.shut_down.load(Ordering::Acquire) {
            tracing::debug!(%to, name = %envelope.name, "transport shut down; message dropped");
            return;
        }
        // On a worker: buffered until the handler returns (see `send_buffer`).
        if send_buffer::append(&self.shared, to, envelope, || self.shared.queue_for(to)) {
            return;
        }
        let shared = &*self.shared;
        let may_block = !shared.on_loop_thread();
        let pushed = LAST_QUEUE.with(|last| {
            let mut last = last.borrow_mut();
            let hit = matches!(&*last, Some((id, peer, _)) if *id == shared.id && *peer == to);
            if !hit {
                *last = Some((shared.id, to, shared.queue_for(to)));
            }
            match &*last {
                Some((_, _, queue)) => queue.push_parts(envelope, &shared.config, may_block),
                None => shared
                    .queue_for(to)
                    .push_parts(envelope, &shared.config, may_block),
            }
        });
        if pushed == Pushed::First {
            self.shared.command(Command::Flush(to));
        }
    }

    /// Opens a connection to `to` if there is none (for links): [`TransportHandler::peer_lost`]`(to)` is
    /// called if it cannot be opened or later breaks.
    pub fn connect(&self, to: SocketAddr) {
        if !self.shared.shut_down.load(Ordering::Acquire) {
            self.shared.command(Command::Connect(to));
        }
    }

    /// Opens a fresh connection to `to` for what is sent there from now on, even if one exists
    /// (libprocess's `link(pid, RemoteConnection::RECONNECT)`: the existing one may be stale, a
    /// half-open TCP connection that loses what is written to it). The replaced connection
    /// writes what it already took from the queue and carries nothing more; it stays open until
    /// the peer closes it or it fails (closing it ourselves would tell the peer we are gone), and
    /// its loss is not reported. Returns the new connection's generation: every connection
    /// opened or accepted before this call is older; its loss is reported with
    /// [`TransportHandler::connection_lost`] as usual, and the caller decides to ignore it.
    pub fn reconnect(&self, to: SocketAddr) -> ConnectionGeneration {
        let generation = self.shared.next_generation();
        if !self.shared.shut_down.load(Ordering::Acquire) {
            self.shared.command(Command::Reconnect(to, generation));
        }
        generation
    }

    /// Stops the event loop and closes every socket, after one non-blocking attempt to write what is
    /// queued. Idempotent; also done on drop. `peer_lost` is not called for the local shutdown itself.
    pub fn shutdown(&self) {
        if !self.shared.shut_down.swap(true, Ordering::AcqRel) {
            if let Err(e) = self.shared.waker.wake() {
                tracing::warn!("cannot wake the transport event loop to stop it: {e}");
            }
        }
        // The loop thread cannot join itself; it exits after the current iteration.
        if self.shared.on_loop_thread() {
            return;
        }
        if let Some(thread) = self.thread.lock().take() {
            if thread.join().is_err() {
                tracing::error!("transport event loop panicked");
            }
        }
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("local_addr", &self.shared.local_addr)
            .finish()
    }
}

/// The accept queue's length: mio listens with std's 128, which a burst of connections
/// overflows (a restarted agent is reconnected by all its executors within milliseconds); every
/// SYN dropped then costs its client a 1 s retransmit. The kernel caps it at
/// `net.core.somaxconn`.
const LISTEN_BACKLOG: i32 = 4096;

/// Lengthens `listener`'s accept queue to [`LISTEN_BACKLOG`] (Linux lets `listen` be called again
/// on a listening socket for that). On failure the default queue stays.
fn raise_backlog(listener: &TcpListener) {
    use std::os::fd::AsRawFd;
    // SAFETY: `listen` on a socket we own and keep open; it touches no memory of ours.
    let raised = unsafe { libc::listen(listener.as_raw_fd(), LISTEN_BACKLOG) };
    if raised != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot lengthen the accept queue");
    }
}
