//! The [`Runtime`]: worker pool, registry, clock, filters and (remote) routing of one node.

mod links;
pub(crate) mod outbox;
mod registry;
pub(crate) mod workers;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::cell::{AnyCell, Cell, Control, Letter, SenderRef};
use crate::clock::{Clock, Timer};
use crate::context::Context;
use crate::error::Error;
use crate::filters::{Filters, Verdict};
use crate::message::{self, Message};
use crate::payload::Payload;
use crate::pid::{Destination, Pid, Target};
use crate::process::{Handlers, Process};
use crate::reply::{self, Reply};
use crate::transport::ConnectionGeneration;
use crate::upid::Upid;

use links::RemoteLinks;
pub(crate) use registry::Registry;
pub(crate) use workers::Scheduler;

/// How long [`Runtime::shutdown`] waits for processes to finalize before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Settings for [`Runtime::new`].
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the runtime listens for TCP messages and HTTP (one port for both). Port 0 picks a free
    /// port; [`Handle::addr`] tells which. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Worker threads running processes (at least 1). Default: the number of CPUs.
    pub workers: usize,
    /// The largest accepted frame; longer ones close the connection. Default 16 MiB.
    pub max_frame_bytes: usize,
    /// TLS on every connection. Default [`TlsMode::FromEnv`]: libprocess's `LIBPROCESS_SSL_*`
    /// environment variables decide, so every binary built on the runtime honours them.
    pub tls: TlsMode,
}

/// Whether a runtime's connections are TLS (see [`crate::transport::tls`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// As the `LIBPROCESS_SSL_*` environment variables of this process say (read by
    /// [`Runtime::new`]).
    #[default]
    FromEnv,
    /// Plaintext, whatever the environment says.
    Off,
    /// TLS with these settings.
    On(crate::transport::tls::TlsConfig),
}

impl TlsMode {
    /// The settings this mode stands for: `None` for plaintext.
    ///
    /// # Errors
    /// A malformed `LIBPROCESS_SSL_*` variable (for [`TlsMode::FromEnv`]).
    pub fn resolve(&self) -> Result<Option<crate::transport::tls::TlsConfig>, Error> {
        match self {
            TlsMode::FromEnv => Ok(crate::transport::tls::TlsConfig::from_env()?),
            TlsMode::Off => Ok(None),
            TlsMode::On(config) => Ok(Some(config.clone())),
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_frame_bytes: 16 * 1024 * 1024,
            tls: TlsMode::FromEnv,
        }
    }
}

/// Sends encoded messages to other runtimes: the seam to the TCP transport.
pub(crate) trait Outbound: Send + Sync {
    fn send(&self, from: &Upid, to: &Upid, name: &str, body: &[u8]);
    /// Makes sure a connection to `peer` exists, so its loss is noticed (for links).
    fn connect(&self, peer: SocketAddr);
    /// Opens a fresh connection to `peer`, replacing the existing one (for relinks): returns its
    /// generation (every older connection's loss is no longer news).
    fn reconnect(&self, peer: SocketAddr) -> ConnectionGeneration;
    fn shutdown(&self);
    /// Whether every connection is TLS.
    fn tls_enabled(&self) -> bool;
}

/// Message names the runtimes use between themselves for remote links.
pub(crate) const LINK_MESSAGE: &str = "__process__.link";
/// Sent to a remote linker when the linked process terminated.
pub(crate) const EXITED_MESSAGE: &str = "__process__.exited";

/// Everything one runtime shares between its threads and handles.
pub(crate) struct Shared {
    pub(crate) addr: SocketAddr,
    pub(crate) scheduler: Arc<Scheduler>,
    pub(crate) registry: Registry,
    pub(crate) clock: Clock,
    pub(crate) filters: Filters,
    links: RemoteLinks,
    tables: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    terminations: Mutex<()>,
    terminated: Condvar,
    anonymous: Upid,
    next_unique: AtomicU64,
    shutting_down: AtomicBool,
    outbound: Option<Box<dyn Outbound>>,
    /// The process that answers HTTP paths naming no process (see [`Handle::set_http_delegate`]).
    pub(crate) http_delegate: parking_lot::RwLock<Option<String>>,
    /// Checks every HTTP request before routing (see [`Handle::set_http_guard`]).
    pub(crate) http_guard: parking_lot::RwLock<Option<crate::http::HttpGuard>>,
}

impl Shared {
    fn new(
        addr: SocketAddr,
        workers: usize,
        outbound: Option<Box<dyn Outbound>>,
    ) -> Result<Shared, Error> {
        let scheduler = Arc::new(Scheduler::new(workers));
        Ok(Shared {
            addr,
            clock: Clock::new(scheduler.clone()),
            scheduler,
            registry: Registry::new(),
            filters: Filters::default(),
            links: RemoteLinks::default(),
            tables: Mutex::new(HashMap::new()),
            terminations: Mutex::new(()),
            terminated: Condvar::new(),
            anonymous: Upid::new("__runtime__", addr)?,
            next_unique: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            outbound,
            http_delegate: parking_lot::RwLock::new(None),
            http_guard: parking_lot::RwLock::new(None),
        })
    }

    /// The handler table of `P`, built on first use and shared by every instance.
    fn handlers_for<P: Process>(&self) -> Arc<Handlers<P>> {
        let mut tables = self.tables.lock();
        let table = tables
            .entry(TypeId::of::<P>())
            .or_insert_with(|| Arc::new(Handlers::<P>::build()) as Arc<dyn Any + Send + Sync>)
            .clone();
        drop(tables);
        match table.downcast::<Handlers<P>>() {
            Ok(table) => table,
            // The map is keyed by the TypeId of exactly this type.
            Err(_) => unreachable!("handler table keyed by the wrong type"),
        }
    }

    pub(crate) fn is_local_cell(&self, cell: &dyn AnyCell) -> bool {
        std::ptr::eq(Arc::as_ptr(&cell.runtime().shared), self)
    }

    /// The send path shared by handles and contexts.
    #[inline]
    pub(crate) fn send<M: Message, D: Destination + ?Sized>(
        &self,
        from: SenderRef<'_>,
        to: &D,
        message: M,
    ) {
        let target = to.target();
        let mut observed = None;
        if self.filters.is_active() {
            match self
                .filters
                .intercept_local(from.upid(), target.upid, &message)
            {
                Verdict::Drop => return,
                Verdict::Deliver(observer) => observed = observer,
            }
        }
        // A burst to one local process: appended to the batch this thread has open for it.
        let message = match target.cell {
            Some(cell) => outbox::append(self, cell, from, message),
            None => Some(message),
        };
        if let Some(message) = message {
            if target.upid.addr() != self.addr {
                self.send_remote(from.upid(), target.upid, &message);
            } else {
                self.send_local(from, target, message);
            }
        }
        if let Some(observed) = observed {
            observed.complete();
        }
    }

    #[inline]
    fn send_local<M: Message>(&self, from: SenderRef<'_>, target: Target<'_>, message: M) {
        match target.cell {
            Some(cell) if self.is_local_cell(cell) => {
                cell.deliver_message(from, Payload::new(message))
            }
            _ => match self.registry.get(target.upid.id()) {
                Some(cell) => cell.deliver_message(from, Payload::new(message)),
                None => tracing::warn!(to = %target.upid, from = %from.upid(), message = M::NAME,
                    "message for an unknown process: dropped"),
            },
        }
    }

    /// Sends straight into a known local mailbox (replies).
    #[inline]
    pub(crate) fn send_to_cell<M: Message>(
        &self,
        from: SenderRef<'_>,
        to: &dyn AnyCell,
        message: M,
    ) {
        let mut observed = None;
        if self.filters.is_active() {
            match self
                .filters
                .intercept_local(from.upid(), to.upid(), &message)
            {
                Verdict::Drop => return,
                Verdict::Deliver(observer) => observed = observer,
            }
        }
        if let Some(message) = outbox::append(self, to, from, message) {
            to.deliver_message(from, Payload::new(message));
        }
        if let Some(observed) = observed {
            observed.complete();
        }
    }

    fn send_remote<M: Message>(&self, from: &Upid, to: &Upid, message: &M) {
        let Some(outbound) = &self.outbound else {
            tracing::warn!(%to, message = M::NAME, "no transport on this runtime: remote message dropped");
            return;
        };
        // The body is encoded into a per-thread scratch buffer and copied into the peer's byte queue:
        // no allocation per message once the buffer has grown.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|scratch| {
            let mut fresh = Vec::new();
            // A `Serialize` impl that itself sends remotely gets a buffer of its own.
            let mut borrowed = scratch.try_borrow_mut();
            let body = match borrowed.as_deref_mut() {
                Ok(scratch) => scratch,
                Err(_) => &mut fresh,
            };
            body.clear();
            match message::encode_into(message, body) {
                Ok(()) => outbound.send(from, to, M::NAME, body),
                Err(error) => {
                    tracing::warn!(%to, message = M::NAME, %error, "cannot encode message: dropped")
                }
            }
            if body.capacity() > 64 * 1024 {
                *body = Vec::new();
            }
        });
    }

    /// `linker` (local) watches `target`.
    pub(crate) fn link(&self, linker: Upid, target: &Upid) {
        if target.addr() == self.addr {
            let linked = self
                .registry
                .get(target.id())
                .is_some_and(|cell| cell.add_linker(linker.clone()));
            if !linked {
                // Linking to a process that is gone fires at once, as in libprocess.
                self.notify_exited(&linker, target);
            }
            return;
        }
        let Some(outbound) = &self.outbound else {
            tracing::warn!(%target, "no transport on this runtime: remote link reported as exited");
            self.notify_exited(&linker, target);
            return;
        };
        if let Some(first_at_peer) = self.links.add(target.clone(), linker.clone()) {
            // One connect per peer, not per link: a master links to each of 40,000 agents of one
            // runtime, and every connect wakes the event loop (a syscall and a context switch).
            if first_at_peer.0 {
                outbound.connect(target.addr());
            }
            outbound.send(&linker, target, LINK_MESSAGE, &[]);
        }
    }

    /// `linker` (local) watches `target` over a fresh connection (libprocess's
    /// `link(pid, RemoteConnection::RECONNECT)`): every link to a process at `target`'s runtime
    /// moves to the new connection, and the loss of any older connection to or from that
    /// runtime is no longer reported. A local `target` is linked as usual.
    pub(crate) fn relink(&self, linker: Upid, target: &Upid) {
        let Some(outbound) = self
            .outbound
            .as_ref()
            .filter(|_| target.addr() != self.addr)
        else {
            self.link(linker, target);
            return;
        };
        // Reconnects under the links' lock: a loss reported meanwhile sees the new generation.
        let added = self.links.relink(target.clone(), linker.clone(), || {
            outbound.reconnect(target.addr())
        });
        if added {
            outbound.send(&linker, target, LINK_MESSAGE, &[]);
        }
    }

    /// Tells `linker` (local or remote) that `target` is gone.
    pub(crate) fn notify_exited(&self, linker: &Upid, target: &Upid) {
        if linker.addr() == self.addr {
            if let Some(cell) = self.registry.get(linker.id()) {
                cell.deliver_control(Control::Exited(target.clone()));
            }
        } else if let Some(outbound) = &self.outbound {
            outbound.send(target, linker, EXITED_MESSAGE, &[]);
        }
    }

    /// A connection to or from runtime `peer` broke: every local process linked to a process
    /// there hears `exited`, unless a relink replaced that connection (it is older than the
    /// relink's, see [`Shared::relink`]).
    pub(crate) fn peer_lost(&self, peer: SocketAddr, generation: ConnectionGeneration) {
        for (target, linker) in self.links.take_peer(peer, generation) {
            self.notify_exited(&linker, &target);
        }
    }

    /// A remote process `target` terminated and told us (it had been linked by `linker`).
    pub(crate) fn remote_exited(&self, target: &Upid, linker: &Upid) {
        if self.links.take_link(target, linker) {
            self.notify_exited(linker, target);
        }
    }

    pub(crate) fn notify_terminated(&self) {
        let _guard = self.terminations.lock();
        self.terminated.notify_all();
    }

    fn cell_of<D: Destination + ?Sized>(&self, to: &D) -> Option<Arc<dyn AnyCell>> {
        let target = to.target();
        match target.cell {
            Some(cell) => Some(cell.arc_dyn()),
            None if target.upid.addr() == self.addr => self.registry.get(target.upid.id()),
            None => None,
        }
    }
}

/// A cheap, cloneable handle to a runtime: everything but ownership of its threads. Processes get one
/// from [`Context::runtime`]; a [`Runtime`] dereferences to one.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Makes process `id` answer every HTTP path that names no process, with the whole path as
    /// its endpoint (libprocess's delegate: the master serves `/api/v1/scheduler` and `/tasks`
    /// this way). `None` removes it.
    pub fn set_http_delegate(&self, id: Option<&str>) {
        *self.shared.http_delegate.write() = id.map(str::to_string);
    }

    /// Installs a guard that sees every HTTP request on this runtime before it is routed: when it
    /// returns a response (a `401` for missing credentials, say), that is the answer and no
    /// process sees the request. `None` removes it. Authentication of a node's endpoints lives
    /// here, so no route can be forgotten.
    pub fn set_http_guard(&self, guard: Option<crate::http::HttpGuard>) {
        *self.shared.http_guard.write() = guard;
    }

    /// The process answering HTTP paths that name no process, if any.
    pub fn http_delegate(&self) -> Option<String> {
        self.shared.http_delegate.read().clone()
    }

    /// The address this runtime listens on; every local [`Upid`] carries it.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `"https"` when this runtime's connections are TLS, else `"http"`: how HTTP clients reach
    /// [`Handle::addr`].
    pub fn http_scheme(&self) -> &'static str {
        match &self.shared.outbound {
            Some(outbound) if outbound.tls_enabled() => "https",
            _ => "http",
        }
    }

    /// Starts `process` under `id` (`id@addr`). Its [`Process::initialize`] runs first, on a worker.
    ///
    /// # Errors
    /// [`Error::InvalidId`] for an id that is not a valid pid id, [`Error::DuplicateId`] if a live
    /// process already has it, [`Error::Shutdown`] once the runtime is shutting down.
    pub fn spawn<P: Process>(&self, id: &str, process: P) -> Result<Pid<P>, Error> {
        let shared = &self.shared;
        if shared.shutting_down.load(Ordering::Acquire) {
            return Err(Error::Shutdown);
        }
        let upid = Upid::new(id, shared.addr)?;
        let cell = Cell::new(upid, self.clone(), shared.handlers_for::<P>(), process);
        if !shared.registry.insert(cell.clone()) {
            return Err(Error::DuplicateId(id.to_string()));
        }
        // The cell starts BUSY: its first turn runs `initialize`.
        shared.scheduler.schedule(cell.clone());
        Ok(Pid::from_cell(cell))
    }

    /// A fresh id `prefix(N)`, unique within this runtime (like libprocess's `ID::generate`).
    pub fn unique_id(&self, prefix: &str) -> String {
        let n = self.shared.next_unique.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}({n})")
    }

    /// Sends `message` to `to`, from no particular process (the sender reads as
    /// `__runtime__@addr`). Local receivers get the value itself; remote ones get it bincode-encoded
    /// over TCP. Never blocks; messages for unknown local processes are dropped with a warning.
    pub fn send<M: Message, D: Destination + ?Sized>(&self, to: &D, message: M) {
        self.shared
            .send(SenderRef::Upid(&self.shared.anonymous), to, message);
    }

    /// Runs `f` on the process behind `pid` (serially with its messages) and returns its result.
    ///
    /// The reply resolves with [`Error::Abandoned`] if the process terminates before running `f`.
    pub fn dispatch<P: Process, R: Send + 'static>(
        &self,
        pid: &Pid<P>,
        f: impl FnOnce(&mut P, &mut Context<'_, P>) -> R + Send + 'static,
    ) -> Reply<R> {
        let (promise, reply) = reply::pair();
        pid.cell()
            .deliver(Letter::Dispatch(Box::new(move |process, ctx| {
                promise.fulfil(f(process, ctx))
            })));
        reply
    }

    /// Asks a local process to terminate: a control event that overtakes its queued messages; it
    /// finalizes, and its linkers hear `exited`. Remote or unknown pids are ignored (with a warning
    /// for remote ones).
    pub fn terminate<D: Destination + ?Sized>(&self, pid: &D) {
        match self.shared.cell_of(pid) {
            Some(cell) => cell.deliver_control(Control::Terminate),
            None if pid.target().upid.addr() != self.shared.addr => {
                tracing::warn!(pid = %pid.target().upid, "cannot terminate a remote process")
            }
            None => {}
        }
    }

    /// Blocks until the local process `pid` has terminated (at once if it is not running).
    pub fn wait<D: Destination + ?Sized>(&self, pid: &D) {
        if let Some(cell) = self.shared.cell_of(pid) {
            let mut guard = self.shared.terminations.lock();
            while !cell.is_terminated() {
                self.shared.terminated.wait(&mut guard);
            }
        }
    }

    /// As [`Handle::wait`], for at most `timeout` of real time; true if the process terminated.
    pub fn wait_timeout<D: Destination + ?Sized>(&self, pid: &D, timeout: Duration) -> bool {
        let Some(cell) = self.shared.cell_of(pid) else {
            return true;
        };
        let deadline = Instant::now() + timeout;
        let mut guard = self.shared.terminations.lock();
        while !cell.is_terminated() {
            if self
                .shared
                .terminated
                .wait_until(&mut guard, deadline)
                .timed_out()
            {
                return cell.is_terminated();
            }
        }
        true
    }

    /// Runs `f` on `pid` after `after` has elapsed on this runtime's [`Clock`].
    pub fn delay<P: Process>(
        &self,
        after: Duration,
        pid: &Pid<P>,
        f: impl FnOnce(&mut P, &mut Context<'_, P>) + Send + 'static,
    ) -> Timer {
        let cell = pid.cell().arc();
        self.shared.clock.schedule(
            after,
            Box::new(move || cell.deliver(Letter::Dispatch(Box::new(f)))),
        )
    }

    /// This runtime's clock (pause / advance / settle in tests).
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// Shorthand for `clock().settle()`: blocks until every process is idle and no timer is due.
    pub fn settle(&self) {
        self.shared.clock.settle();
    }

    /// This runtime's message filters (test hooks).
    pub fn filters(&self) -> &Filters {
        &self.shared.filters
    }

    /// The number of live processes.
    pub fn process_count(&self) -> usize {
        self.shared.registry.len()
    }

    /// The ids of live processes, sorted.
    pub fn process_ids(&self) -> Vec<String> {
        self.shared.registry.ids()
    }

    /// Whether a process with this address is live on this runtime.
    pub fn is_running(&self, pid: &Upid) -> bool {
        pid.addr() == self.shared.addr && self.shared.registry.get(pid.id()).is_some()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("addr", &self.shared.addr)
            .field("processes", &self.shared.registry.len())
            .finish()
    }
}

/// One node: worker threads, a timer thread, the listener, and the processes on them.
///
/// The runtime is a value, never a global: create as many as you like (two runtimes on two loopback
/// ports make a two-node test). Dropping it (or [`Runtime::shutdown`]) terminates every process
/// (running `finalize`) and stops its threads. It dereferences to its [`Handle`], which has the
/// operations: `spawn`, `send`, `dispatch`, `terminate`, `wait`, `delay`, `clock`, `filters`.
pub struct Runtime {
    handle: Handle,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Runtime {
    /// Starts a runtime: `config.workers` worker threads and a timer thread.
    ///
    /// # Errors
    /// [`Error::Threads`] if a thread cannot be started; [`Error::Transport`] if the listener cannot
    /// bind `config.listen`.
    pub fn new(config: Config) -> Result<Runtime, Error> {
        let started = crate::remote::start(&config)?;
        let workers = config.workers.max(1);
        let shared = Arc::new(Shared::new(started.addr, workers, Some(started.outbound))?);
        let runtime = Runtime {
            handle: Handle {
                shared: shared.clone(),
            },
            threads: Mutex::new(Vec::new()),
        };
        for n in 0..workers {
            let shared = shared.clone();
            runtime.start_thread(format!("process-worker-{n}"), move || {
                shared.scheduler.run_worker()
            })?;
        }
        let timer_shared = shared.clone();
        runtime.start_thread("process-timers".into(), move || {
            timer_shared.clock.run_timers()
        })?;
        crate::remote::attach(&started.inbound, &shared);
        Ok(runtime)
    }

    fn start_thread(&self, name: String, f: impl FnOnce() + Send + 'static) -> Result<(), Error> {
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(f)
            .map_err(Error::Threads)?;
        self.threads.lock().push(thread);
        Ok(())
    }

    /// A cloneable handle (does not keep the threads running).
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Terminates every process (each runs `finalize`; at most a few seconds are granted), then stops
    /// the listener, timers and workers. Idempotent; also run on drop.
    pub fn shutdown(&self) {
        let shared = &self.handle.shared;
        if !shared.shutting_down.swap(true, Ordering::AcqRel) {
            let deadline = Instant::now() + SHUTDOWN_GRACE;
            loop {
                let cells = shared.registry.all();
                if cells.is_empty() {
                    break;
                }
                for cell in &cells {
                    cell.deliver_control(Control::Terminate);
                }
                drop(cells);
                let mut guard = shared.terminations.lock();
                while shared.registry.len() > 0 {
                    if shared
                        .terminated
                        .wait_until(&mut guard, deadline)
                        .timed_out()
                    {
                        break;
                    }
                }
                if Instant::now() >= deadline {
                    tracing::warn!(
                        processes = shared.registry.len(),
                        "processes did not finalize in time at shutdown"
                    );
                    break;
                }
            }
            if let Some(outbound) = &shared.outbound {
                outbound.shutdown();
            }
            shared.clock.stop();
            shared.scheduler.stop();
        }
        let current = std::thread::current().id();
        let threads = std::mem::take(&mut *self.threads.lock());
        for thread in threads {
            if thread.thread().id() != current && thread.join().is_err() {
                tracing::error!("a runtime thread panicked");
            }
        }
        drop(shared.registry.clear());
    }
}

impl Deref for Runtime {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.handle, f)
    }
}
