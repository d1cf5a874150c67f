//! One socket and its protocol state: frames (peer runtimes) or HTTP (anyone), decided by the first byte.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use mio::net::TcpStream;

use super::frame::FrameDecoder;
use super::queue::PeerQueue;
use super::tls::{TlsContext, TlsSession, HANDSHAKE_RECORD};
use super::{event_loop::Command, Shared, TransportHandler};
use crate::http::{ParseOutcome, RequestParser, Responder, StreamShared, Taken};

/// Which side opened the connection.
pub(crate) enum Role {
    /// We connected to the runtime listening at `peer`; we write `queue` to it.
    Outgoing {
        peer: SocketAddr,
        queue: Arc<PeerQueue>,
        connecting: bool,
        /// Replaced by a reconnect: writes what it took from `queue`, takes nothing more.
        retired: bool,
    },
    /// Someone connected to us; `peer` is their listen address once their first envelope told us.
    Incoming { peer: Option<SocketAddr> },
}

/// What the bytes on this connection are.
pub(crate) enum Protocol {
    /// Nothing read yet.
    Undecided,
    Frames(FrameDecoder),
    Http(HttpState),
}

/// Whether this connection is TLS.
pub(crate) enum Tls {
    /// Plaintext.
    Off,
    /// An accepted connection on a TLS port: its first byte decides.
    Pending,
    On(Box<TlsSession>),
}

/// An HTTP connection between requests.
#[derive(Default)]
pub(crate) struct HttpState {
    /// Bytes received and not yet parsed into a request.
    input: Vec<u8>,
    /// A request was handed to the handler and its response has not been written yet.
    in_flight: bool,
    /// The in-flight request's connection stays open after its response.
    keep_alive: bool,
    /// The in-flight request is a HEAD: write headers only.
    head: bool,
    /// `100 Continue` was sent for the request being received.
    sent_continue: bool,
    /// Reading stopped because `input` is full while a request is in flight.
    pub(crate) read_paused: bool,
    /// The streaming response being written: the connection carries nothing else until it ends.
    pub(crate) stream: Option<Arc<StreamShared>>,
    /// Bytes received (and discarded) while streaming.
    stream_input: usize,
}

/// How an orderly close is progressing.
#[derive(PartialEq, Eq, Clone, Copy)]
pub(crate) enum Closing {
    Open,
    /// Close once `out` is written (HTTP `Connection: close`, or after an error response).
    AfterFlush,
    /// Our side is shut down for writing; read and discard until the client closes, so the kernel does
    /// not reset the connection (and lose the response) because of unread input.
    Draining {
        discarded: usize,
    },
}

/// Bytes a draining connection may still swallow before we give up and close it.
const MAX_DRAIN_BYTES: usize = 1 << 20;
/// Writes per flush before yielding to other connections.
const WRITE_BUDGET: usize = 64;

pub(crate) struct Connection {
    pub(crate) stream: TcpStream,
    pub(crate) generation: u64,
    pub(crate) role: Role,
    pub(crate) protocol: Protocol,
    pub(crate) closing: Closing,
    pub(crate) tls: Tls,
    out: Vec<u8>,
    written: usize,
}

/// Everything [`Connection`] needs from its event loop to handle input.
pub(crate) struct Context<'a> {
    pub(crate) handler: &'a dyn TransportHandler,
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) token: usize,
    pub(crate) max_frame_bytes: usize,
    pub(crate) parser: RequestParser,
    pub(crate) tls: Option<&'a TlsContext>,
}

/// Result of handing bytes or a response to a connection.
pub(crate) enum Outcome {
    Keep,
    /// Close now; `reason` is logged as a warning.
    Close {
        reason: String,
    },
}

/// Result of a flush.
pub(crate) enum Flushed {
    /// Everything written (or nothing to write).
    Done,
    /// The socket is full; a writable event will follow.
    Blocked,
    /// The write budget ran out with more to write; flush again soon.
    Yielded,
    /// The connection finished an orderly close and can be dropped.
    Finished,
    Failed(io::Error),
}

impl Connection {
    pub(crate) fn new(stream: TcpStream, generation: u64, role: Role, tls: Tls) -> Connection {
        Connection {
            stream,
            generation,
            role,
            protocol: Protocol::Undecided,
            closing: Closing::Open,
            tls,
            out: Vec::new(),
            written: 0,
        }
    }

    /// Queues bytes that must go out before anything else (the hello frame).
    pub(crate) fn push_out(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Whether the loop should read from the socket now. A closing connection always reads: it must see
    /// the client's end of stream to be dropped.
    pub(crate) fn wants_read(&self) -> bool {
        self.closing != Closing::Open
            || !matches!(&self.protocol, Protocol::Http(h) if h.read_paused)
    }

    /// Handles bytes just read from the socket: decrypted first if this connection is TLS.
    #[inline]
    pub(crate) fn on_read(&mut self, data: &[u8], cx: &Context<'_>) -> Outcome {
        match &mut self.tls {
            Tls::Off => self.on_input(data, cx),
            Tls::Pending => self.start_tls(data, cx),
            Tls::On(_) => self.on_ciphertext(data, cx),
        }
    }

    /// The first bytes of an accepted connection on a TLS port: a handshake, or (if downgrade is
    /// allowed) plaintext.
    #[cold]
    fn start_tls(&mut self, data: &[u8], cx: &Context<'_>) -> Outcome {
        let Some(context) = cx.tls else {
            self.tls = Tls::Off;
            return self.on_input(data, cx);
        };
        if data.first() == Some(&HANDSHAKE_RECORD) {
            match context.accept() {
                Ok(session) => self.tls = Tls::On(Box::new(TlsSession::new(session))),
                Err(e) => {
                    return Outcome::Close {
                        reason: format!("tls: cannot start a session: {e}"),
                    }
                }
            }
            self.on_ciphertext(data, cx)
        } else if context.downgrade {
            tracing::debug!(peer = ?self.stream.peer_addr().ok(), "plaintext connection accepted (LIBPROCESS_SSL_SUPPORT_DOWNGRADE)");
            self.tls = Tls::Off;
            self.on_input(data, cx)
        } else {
            Outcome::Close {
                reason: "plaintext connection refused: this runtime requires TLS                          (LIBPROCESS_SSL_SUPPORT_DOWNGRADE is off)"
                    .into(),
            }
        }
    }

    fn on_ciphertext(&mut self, data: &[u8], cx: &Context<'_>) -> Outcome {
        let Tls::On(session) = &mut self.tls else {
            return Outcome::Keep;
        };
        let received = match session.receive(data) {
            Ok(received) => received,
            Err(reason) => {
                // Best effort: tell the peer why (rustls queued an alert).
                let _ = session.send(&mut self.stream);
                return Outcome::Close { reason };
            }
        };
        let plain = std::mem::take(&mut session.plain);
        let outcome = if plain.is_empty() {
            Outcome::Keep
        } else {
            self.on_input(&plain, cx)
        };
        if let Tls::On(session) = &mut self.tls {
            // The buffer is reused by the next read.
            session.plain = plain;
            session.plain.clear();
        }
        match outcome {
            Outcome::Keep if received.peer_closed => Outcome::Close {
                reason: "tls: closed by the other side".into(),
            },
            outcome => outcome,
        }
    }

    /// Handles plaintext bytes just read.
    pub(crate) fn on_input(&mut self, data: &[u8], cx: &Context<'_>) -> Outcome {
        if let Closing::Draining { discarded } = &mut self.closing {
            *discarded += data.len();
            return if *discarded > MAX_DRAIN_BYTES {
                Outcome::Close {
                    reason: "client kept sending after the connection was closing".into(),
                }
            } else {
                Outcome::Keep
            };
        }
        if matches!(self.protocol, Protocol::Undecided) {
            // Caller never passes an empty slice (a zero-byte read is end of stream). Our own outgoing
            // connections only ever carry frames.
            let incoming = matches!(self.role, Role::Incoming { .. });
            if incoming && looks_like_tls(data, cx.max_frame_bytes) && matches!(self.tls, Tls::Off)
            {
                return Outcome::Close {
                    reason:
                        "a TLS handshake on a plaintext port (LIBPROCESS_SSL_ENABLED is off here)"
                            .into(),
                };
            }
            self.protocol = if incoming && data.first().is_some_and(u8::is_ascii_uppercase) {
                Protocol::Http(HttpState::default())
            } else {
                Protocol::Frames(FrameDecoder::new(cx.max_frame_bytes))
            };
        }
        match &mut self.protocol {
            Protocol::Frames(decoder) => {
                let role = &mut self.role;
                let handler = cx.handler;
                let mut result = Ok(());
                handler.deliver_read(&mut |deliver| {
                    result = decoder.feed_borrowed(data, |envelope| {
                        if let Role::Incoming { peer: peer @ None } = role {
                            *peer = Some(envelope.from.addr());
                        }
                        // Empty names are transport control frames (the hello).
                        if !envelope.name.is_empty() {
                            deliver(envelope);
                        }
                    });
                });
                // Publishes what this read delivered (batched per process, see `run_as_delivery_thread`).
                crate::runtime::workers::flush_outbox();
                match result {
                    Ok(()) => Outcome::Keep,
                    Err(e) => Outcome::Close {
                        reason: e.to_string(),
                    },
                }
            }
            Protocol::Http(http) if http.stream.is_some() => {
                // Nothing is read from a client that receives a stream; keep reading to see it
                // leave, but do not let it make us buffer.
                http.stream_input += data.len();
                if http.stream_input > MAX_DRAIN_BYTES {
                    Outcome::Close {
                        reason: "client kept sending on its event stream".into(),
                    }
                } else {
                    Outcome::Keep
                }
            }
            Protocol::Http(http) => {
                http.input.extend_from_slice(data);
                self.advance_http(cx)
            }
            Protocol::Undecided => Outcome::Keep,
        }
    }

    /// Parses the next request if none is in flight, and hands it to the handler.
    pub(crate) fn advance_http(&mut self, cx: &Context<'_>) -> Outcome {
        let Protocol::Http(http) = &mut self.protocol else {
            return Outcome::Keep;
        };
        if self.closing != Closing::Open {
            return Outcome::Keep;
        }
        if http.in_flight {
            // Pipelined input waits; stop reading once a whole further request could be buffered.
            http.read_paused =
                http.input.len() > cx.parser.max_header_bytes + cx.parser.max_body_bytes;
            return Outcome::Keep;
        }
        http.read_paused = false;
        match cx.parser.parse(&http.input) {
            Ok(ParseOutcome::Partial { expects_continue }) => {
                if expects_continue && !http.sent_continue {
                    http.sent_continue = true;
                    self.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                Outcome::Keep
            }
            Ok(ParseOutcome::Complete {
                request,
                consumed,
                keep_alive,
                ..
            }) => {
                http.input.drain(..consumed);
                http.in_flight = true;
                http.sent_continue = false;
                http.keep_alive = keep_alive;
                http.head = request.method == "HEAD";
                let shared = Arc::clone(cx.shared);
                let (token, generation) = (cx.token, self.generation);
                let responder = Responder::new(move |response| {
                    shared.command(Command::Respond {
                        token,
                        generation,
                        response,
                    })
                });
                cx.handler.http(request, responder);
                Outcome::Keep
            }
            Err(e) => {
                tracing::warn!(peer = ?self.stream.peer_addr().ok(), "bad http request: {e}");
                e.response().write_to(&mut self.out, false, true);
                http.input = Vec::new();
                self.closing = Closing::AfterFlush;
                Outcome::Keep
            }
        }
    }

    /// Writes the response to the in-flight request; then the next pipelined request may start.
    pub(crate) fn on_response(
        &mut self,
        mut response: crate::http::Response,
        cx: &Context<'_>,
    ) -> Outcome {
        let Protocol::Http(http) = &mut self.protocol else {
            return Outcome::Keep;
        };
        if !http.in_flight || self.closing != Closing::Open {
            return Outcome::Keep;
        }
        http.in_flight = false;
        if response.is_chunked() && !http.head {
            // The stream owns the connection from now on (even after `Connection: close`): the
            // writer's chunks follow the head until it closes or the client leaves.
            response.write_to(&mut self.out, true, true);
            let stream = response.take_stream().and_then(|body| body.into_shared());
            if let Some(stream) = stream {
                let shared = Arc::clone(cx.shared);
                let (token, generation) = (cx.token, self.generation);
                stream.attach(Box::new(move || {
                    shared.command(Command::StreamReady { token, generation })
                }));
                http.input = Vec::new();
                http.read_paused = false;
                http.stream = Some(stream);
            }
            return Outcome::Keep;
        }
        // A HEAD of a stream gets the head only; dropping the body closes its stream.
        drop(response.take_stream());
        let keep_alive = http.keep_alive && !response.closes_connection();
        response.write_to(&mut self.out, keep_alive, !http.head);
        if !keep_alive {
            http.input = Vec::new();
            self.closing = Closing::AfterFlush;
            return Outcome::Keep;
        }
        self.advance_http(cx)
    }

    /// Writes `out`, refilling it from the peer queue for outgoing connections, until the socket is full,
    /// everything is written, or the write budget is spent.
    pub(crate) fn flush(&mut self) -> Flushed {
        if let Role::Outgoing {
            connecting: true, ..
        } = self.role
        {
            return Flushed::Blocked;
        }
        if !matches!(self.tls, Tls::Off) {
            return self.flush_tls();
        }
        for _ in 0..WRITE_BUDGET {
            if self.written == self.out.len() {
                if let Some(flushed) = self.refill() {
                    return flushed;
                }
            }
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Flushed::Failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Flushed::Blocked,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Flushed::Failed(e),
            }
        }
        Flushed::Yielded
    }

    /// [`Connection::flush`] through TLS: plaintext is encrypted into the session, whose records
    /// are written to the socket.
    fn flush_tls(&mut self) -> Flushed {
        for _ in 0..WRITE_BUDGET {
            let Tls::On(session) = &mut self.tls else {
                // Pending: nothing is written before the first bytes are read.
                return Flushed::Done;
            };
            match session.send(&mut self.stream) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Flushed::Blocked,
                Err(e) => return Flushed::Failed(e),
            }
            if self.written == self.out.len() {
                if let Some(flushed) = self.refill() {
                    return flushed;
                }
            }
            let Tls::On(session) = &mut self.tls else {
                return Flushed::Done;
            };
            match session.encrypt(&self.out[self.written..]) {
                // The handshake is not done and its buffer is full: reading will make progress.
                Ok(0) => return Flushed::Blocked,
                Ok(n) => self.written += n,
                Err(e) => return Flushed::Failed(e),
            }
        }
        Flushed::Yielded
    }

    /// Refills `out` once it is all written: `None` if there is more to write, else what `flush`
    /// returns.
    #[inline]
    fn refill(&mut self) -> Option<Flushed> {
        self.out.clear();
        self.written = 0;
        let refilled = match (&self.role, &self.protocol) {
            (
                Role::Outgoing {
                    queue,
                    retired: false,
                    ..
                },
                _,
            ) => queue.take_into(&mut self.out),
            (Role::Outgoing { retired: true, .. }, _) => false,
            (
                Role::Incoming { .. },
                Protocol::Http(HttpState {
                    stream: Some(stream),
                    ..
                }),
            ) if self.closing == Closing::Open => match stream.take_into(&mut self.out) {
                Taken::Bytes => true,
                Taken::Idle => false,
                Taken::Finished => {
                    self.closing = Closing::AfterFlush;
                    false
                }
                Taken::Overflowed => {
                    return Some(Flushed::Failed(io::Error::other(
                        "the event stream's reader is too slow",
                    )))
                }
            },
            (Role::Incoming { .. }, _) => false,
        };
        if !refilled {
            return Some(self.finish_if_closing());
        }
        None
    }

    fn finish_if_closing(&mut self) -> Flushed {
        if self.closing == Closing::AfterFlush {
            if let Tls::On(session) = &mut self.tls {
                // Best effort: the peer learns the close was deliberate.
                session.close();
                let _ = session.send(&mut self.stream);
            }
            if self.stream.shutdown(Shutdown::Write).is_err() {
                return Flushed::Finished;
            }
            self.closing = Closing::Draining { discarded: 0 };
        }
        Flushed::Done
    }

    /// True once a non-blocking connect has completed; an error if it failed.
    pub(crate) fn check_connected(&mut self) -> io::Result<bool> {
        if let Some(e) = self.stream.take_error()? {
            return Err(e);
        }
        match self.stream.peer_addr() {
            Ok(_) => {
                if let Role::Outgoing { connecting, .. } = &mut self.role {
                    *connecting = false;
                }
                // Latency matters more than packet count: batching is done in our buffers.
                if let Err(e) = self.stream.set_nodelay(true) {
                    tracing::debug!("cannot set TCP_NODELAY: {e}");
                }
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The stream this connection writes, if any: told when the connection goes away.
    pub(crate) fn stream(&self) -> Option<&Arc<StreamShared>> {
        match &self.protocol {
            Protocol::Http(http) => http.stream.as_ref(),
            _ => None,
        }
    }

    /// A reconnect replaced this outgoing connection: it stops taking from its peer's queue.
    pub(crate) fn retire(&mut self) {
        if let Role::Outgoing { retired, .. } = &mut self.role {
            *retired = true;
        }
    }

    pub(crate) fn is_connecting(&self) -> bool {
        matches!(
            self.role,
            Role::Outgoing {
                connecting: true,
                ..
            }
        )
    }
}

/// A TLS ClientHello (record type 0x16) on a plaintext port: unless frames that long are allowed,
/// no frame can start with that byte.
fn looks_like_tls(data: &[u8], max_frame_bytes: usize) -> bool {
    data.first() == Some(&HANDSHAKE_RECORD)
        && (usize::from(HANDSHAKE_RECORD) << 24) > max_frame_bytes
}
