//! The event-loop thread: accepts, connects, reads, writes, and runs commands from other threads.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use super::connection::{Connection, Context, Flushed, Outcome, Role, Tls};
use super::frame::encode_frame;
use super::tls::TlsSession;
use super::ConnectionGeneration;
use super::{Envelope, PeerMap, Shared, TransportHandler};
use crate::http::{RequestParser, Response};
use crate::upid::Upid;

/// The listening socket's token.
pub(crate) const LISTENER: Token = Token(0);
/// The waker's token: senders and responders use it to interrupt `poll`.
pub(crate) const WAKER: Token = Token(1);
/// Connection `i` in the slab has token `FIRST_CONNECTION + i`.
const FIRST_CONNECTION: usize = 2;
/// One read takes up to this much: many frames per syscall.
const READ_BUFFER_BYTES: usize = 256 << 10;
/// Reads per connection per readiness event before other connections get a turn.
const READ_BUDGET: usize = 64;

/// Work other threads hand to the loop.
pub(crate) enum Command {
    /// The queue for this peer went from empty to non-empty.
    Flush(SocketAddr),
    /// Make sure a connection to this peer exists.
    Connect(SocketAddr),
    /// Open a new connection to this peer with this generation, retiring the existing one.
    Reconnect(SocketAddr, ConnectionGeneration),
    /// The answer to the request in flight on connection `token` (if it is still generation `generation`).
    Respond {
        token: usize,
        generation: u64,
        response: Response,
    },
    /// The streaming response on connection `token` has bytes queued (or ended, or overflowed).
    StreamReady { token: usize, generation: u64 },
}

pub(crate) struct EventLoop {
    poll: Poll,
    listener: TcpListener,
    shared: Arc<Shared>,
    handler: Arc<dyn TransportHandler>,
    commands: Receiver<Command>,
    /// A slab: the index is the token minus [`FIRST_CONNECTION`]; `free` holds empty slots.
    connections: Vec<Option<Connection>>,
    free: Vec<usize>,
    /// Peer listen address to its live outgoing connection.
    outgoing: PeerMap<usize>,
    /// Runtimes that reached this TLS runtime in plaintext (LIBPROCESS_SSL_SUPPORT_DOWNGRADE):
    /// messages to them go in plaintext too, as they cannot accept TLS.
    plaintext_peers: PeerMap<()>,
    read_buffer: Vec<u8>,
    /// Connections that used up their read or write budget: served again before the next blocking poll.
    again: Vec<(usize, u64)>,
}

impl EventLoop {
    pub(crate) fn new(
        poll: Poll,
        listener: TcpListener,
        shared: Arc<Shared>,
        handler: Arc<dyn TransportHandler>,
        commands: Receiver<Command>,
    ) -> EventLoop {
        EventLoop {
            poll,
            listener,
            shared,
            handler,
            commands,
            connections: Vec::new(),
            free: Vec::new(),
            outgoing: PeerMap::default(),
            plaintext_peers: PeerMap::default(),
            read_buffer: vec![0; READ_BUFFER_BYTES],
            again: Vec::new(),
        }
    }

    pub(crate) fn run(self) {
        crate::runtime::workers::run_as_delivery_thread(|| self.run_loop());
    }

    fn run_loop(mut self) {
        // Before any event: senders on this thread must never block on a full queue.
        self.shared.mark_loop_thread();
        let mut events = Events::with_capacity(1024);
        while !self.shared.shut_down.load(Ordering::Acquire) {
            let timeout = (!self.again.is_empty()).then_some(Duration::ZERO);
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!("transport poll failed, stopping the event loop: {e}");
                break;
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(),
                    WAKER => {}
                    Token(token) => self.on_ready(
                        token - FIRST_CONNECTION,
                        event.is_readable() || event.is_read_closed() || event.is_error(),
                    ),
                }
            }
            for (index, generation) in std::mem::take(&mut self.again) {
                if self.is_live(index, generation) {
                    self.on_ready(index, true);
                }
            }
            self.run_commands();
        }
        self.stop();
    }

    fn run_commands(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Flush(peer) => {
                    if let Some(index) = self.ensure_connected(peer) {
                        self.flush(index);
                    }
                }
                Command::Connect(peer) => {
                    self.ensure_connected(peer);
                }
                Command::Reconnect(peer, generation) => {
                    if let Some(index) = self.outgoing.remove(&peer) {
                        if let Some(Some(connection)) = self.connections.get_mut(index) {
                            connection.retire();
                        }
                    }
                    if let Some(index) = self.open(peer, Some(generation)) {
                        self.flush(index);
                    }
                }
                Command::Respond {
                    token,
                    generation,
                    response,
                } => self.respond(token, generation, response),
                Command::StreamReady { token, generation } => {
                    if self.is_live(token, generation) {
                        self.flush(token);
                    }
                }
            }
        }
    }

    fn is_live(&self, index: usize, generation: u64) -> bool {
        matches!(self.connections.get(index), Some(Some(c)) if c.generation == generation)
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, from)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%from, "cannot set TCP_NODELAY: {e}");
                    }
                    let tls = if self.shared.tls.is_some() {
                        Tls::Pending
                    } else {
                        Tls::Off
                    };
                    if let Err(e) = self.insert(stream, Role::Incoming { peer: None }, tls, None) {
                        tracing::warn!(%from, "cannot register accepted connection: {e}");
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // E.g. out of file descriptors: keep the loop alive, retry on the next event.
                    tracing::warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    /// Registers a connection; `generation` is a reserved one (a reconnect) or a fresh one.
    /// Generations also keep a late command for a closed connection off its slot's successor.
    fn insert(
        &mut self,
        mut stream: TcpStream,
        role: Role,
        tls: Tls,
        generation: Option<ConnectionGeneration>,
    ) -> io::Result<usize> {
        let index = self.free.pop().unwrap_or(self.connections.len());
        self.poll.registry().register(
            &mut stream,
            Token(FIRST_CONNECTION + index),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let generation = generation.unwrap_or_else(|| self.shared.next_generation());
        let connection = Connection::new(stream, generation.0, role, tls);
        if index == self.connections.len() {
            self.connections.push(Some(connection));
        } else {
            self.connections[index] = Some(connection);
        }
        Ok(index)
    }

    /// The live outgoing connection to `peer`, opening one (hello first) if there is none.
    fn ensure_connected(&mut self, peer: SocketAddr) -> Option<usize> {
        if let Some(&index) = self.outgoing.get(&peer) {
            return Some(index);
        }
        self.open(peer, None)
    }

    /// Opens the outgoing connection to `peer` (hello first) and makes it the live one.
    fn open(
        &mut self,
        peer: SocketAddr,
        generation: Option<ConnectionGeneration>,
    ) -> Option<usize> {
        let queue = self.shared.queue_for(peer);
        let tls = match &self.shared.tls {
            None => Ok(Tls::Off),
            Some(_) if self.plaintext_peers.contains_key(&peer) => Ok(Tls::Off),
            Some(context) => context
                .connect(peer)
                .map(|session| Tls::On(Box::new(TlsSession::new(session))))
                .map_err(io::Error::other),
        };
        let opened = tls.and_then(|tls| {
            let stream = TcpStream::connect(peer)?;
            let role = Role::Outgoing {
                peer,
                queue: Arc::clone(&queue),
                connecting: true,
                retired: false,
            };
            self.insert(stream, role, tls, generation)
        });
        match opened {
            Ok(index) => {
                let hello = self.hello(peer);
                if let Some(Some(connection)) = self.connections.get_mut(index) {
                    connection.push_out(&hello);
                }
                self.outgoing.insert(peer, index);
                Some(index)
            }
            Err(e) => {
                tracing::info!(%peer, "cannot connect: {e}");
                queue.clear();
                let generation = generation.unwrap_or_else(|| self.shared.next_generation());
                self.handler.connection_lost(peer, generation);
                None
            }
        }
    }

    /// The first frame on every outgoing connection: tells the acceptor our listen address.
    fn hello(&self, peer: SocketAddr) -> Vec<u8> {
        let mut out = Vec::new();
        let pids = Upid::new("transport", self.shared.local_addr)
            .and_then(|from| Upid::new("transport", peer).map(|to| (from, to)));
        if let Ok((from, to)) = pids {
            let hello = Envelope {
                from,
                to,
                name: String::new(),
                body: Vec::new(),
            };
            if let Err(e) = encode_frame(&hello, self.shared.config.max_frame_bytes, &mut out) {
                tracing::warn!("cannot encode the hello frame: {e}");
            }
        }
        out
    }

    fn on_ready(&mut self, index: usize, readable: bool) {
        let Some(Some(connection)) = self.connections.get_mut(index) else {
            return;
        };
        if connection.is_connecting() {
            match connection.check_connected() {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    self.close(index, &format!("cannot connect: {e}"), false);
                    return;
                }
            }
        }
        if readable {
            self.read(index);
        }
        self.flush(index);
    }

    fn read(&mut self, index: usize) {
        let mut reads = 0;
        loop {
            let Some(Some(connection)) = self.connections.get_mut(index) else {
                return;
            };
            if !connection.wants_read() {
                return;
            }
            if reads == READ_BUDGET {
                self.again.push((index, connection.generation));
                return;
            }
            reads += 1;
            match connection.stream.read(&mut self.read_buffer) {
                Ok(0) => {
                    self.close(index, "closed by the other side", false);
                    return;
                }
                Ok(n) => {
                    let cx = Context {
                        handler: &*self.handler,
                        shared: &self.shared,
                        token: index,
                        max_frame_bytes: self.shared.config.max_frame_bytes,
                        parser: parser(&self.shared),
                        tls: self.shared.tls.as_ref(),
                    };
                    if let Outcome::Close { reason } =
                        connection.on_read(&self.read_buffer[..n], &cx)
                    {
                        self.close(index, &reason, true);
                        return;
                    }
                    if self.shared.tls.is_some() {
                        if let (Tls::Off, Role::Incoming { peer: Some(peer) }) =
                            (&connection.tls, &connection.role)
                        {
                            self.plaintext_peers.insert(*peer, ());
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.close(index, &format!("read failed: {e}"), false);
                    return;
                }
            }
        }
    }

    fn flush(&mut self, index: usize) {
        let Some(Some(connection)) = self.connections.get_mut(index) else {
            return;
        };
        match connection.flush() {
            Flushed::Done | Flushed::Blocked => {}
            Flushed::Yielded => self.again.push((index, connection.generation)),
            Flushed::Finished => self.close(index, "closed after the response", false),
            Flushed::Failed(e) => self.close(index, &format!("write failed: {e}"), false),
        }
    }

    fn respond(&mut self, index: usize, generation: u64, response: Response) {
        if !self.is_live(index, generation) {
            tracing::debug!("http response for a closed connection dropped");
            return;
        }
        if let Some(Some(connection)) = self.connections.get_mut(index) {
            let cx = Context {
                handler: &*self.handler,
                shared: &self.shared,
                token: index,
                max_frame_bytes: self.shared.config.max_frame_bytes,
                parser: parser(&self.shared),
                tls: self.shared.tls.as_ref(),
            };
            if let Outcome::Close { reason } = connection.on_response(response, &cx) {
                self.close(index, &reason, true);
                return;
            }
        }
        // Input may have arrived while reading was paused; edge-triggered readiness will not repeat it.
        self.read(index);
        self.flush(index);
    }

    /// Drops connection `index`; reports the loss of a runtime peer. `bad_input` logs a warning.
    fn close(&mut self, index: usize, why: &str, bad_input: bool) {
        let Some(connection) = self.connections.get_mut(index).and_then(Option::take) else {
            return;
        };
        self.free.push(index);
        if let Some(events) = connection.stream() {
            events.reader_gone();
        }
        let Connection {
            mut stream,
            role,
            generation,
            ..
        } = connection;
        let peer = match &role {
            Role::Outgoing { peer, .. } => Some(*peer),
            Role::Incoming { peer } => *peer,
        };
        // A retired connection was replaced (a reconnect): its loss is no news.
        let runtime_link = match &role {
            Role::Outgoing { retired, .. } => !retired,
            Role::Incoming { peer } => peer.is_some(),
        };
        if let Err(e) = self.poll.registry().deregister(&mut stream) {
            tracing::debug!("deregister failed: {e}");
        }
        let remote = stream.peer_addr().ok();
        drop(stream);
        if bad_input {
            tracing::warn!(?remote, ?peer, "closing connection: {why}");
        } else {
            tracing::debug!(?remote, ?peer, "connection closed: {why}");
        }
        if let Role::Outgoing {
            peer,
            queue,
            retired: false,
            ..
        } = &role
        {
            if self.outgoing.get(peer) == Some(&index) {
                self.outgoing.remove(peer);
            }
            queue.clear();
        }
        if let (true, Some(peer)) = (runtime_link, peer) {
            self.handler
                .connection_lost(peer, ConnectionGeneration(generation));
        }
    }

    /// Shutdown: one non-blocking attempt to write what is queued, then refuse further sends.
    fn stop(&mut self) {
        for connection in self.connections.iter_mut().flatten() {
            if matches!(connection.role, Role::Outgoing { .. }) && !connection.is_connecting() {
                let _ = connection.flush();
            }
            if let Some(events) = connection.stream() {
                events.reader_gone();
            }
        }
        for queue in self.shared.queues.read().values() {
            queue.close();
        }
        self.connections.clear();
        tracing::debug!(local_addr = %self.shared.local_addr, "transport stopped");
    }
}

fn parser(shared: &Shared) -> RequestParser {
    RequestParser {
        max_header_bytes: shared.config.max_http_header_bytes,
        max_body_bytes: shared.config.max_http_body_bytes,
    }
}
