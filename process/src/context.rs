//! [`Context`]: what a handler can do besides changing its own state.

use std::time::{Duration, Instant};

use crate::cell::{Cell, Letter, Sender, SenderRef};
use crate::clock::Timer;
use crate::message::Message;
use crate::pid::{Destination, Pid};
use crate::process::Process;
use crate::runtime::Handle;
use crate::upid::Upid;

/// Passed to every handler and hook of process `P`: its identity, the runtime, and the sender of the
/// message being handled.
pub struct Context<'a, P: Process> {
    pub(crate) cell: &'a Cell<P>,
    pub(crate) sender: Option<&'a Sender>,
    pub(crate) terminate: bool,
}

impl<'a, P: Process> Context<'a, P> {
    pub(crate) fn new(cell: &'a Cell<P>, sender: Option<&'a Sender>) -> Context<'a, P> {
        Context {
            cell,
            sender,
            terminate: false,
        }
    }

    /// This process's address.
    pub fn upid(&self) -> &Upid {
        self.cell.upid()
    }

    /// A typed handle to this process (for `dispatch`, `delay`, or handing to others).
    pub fn pid(&self) -> Pid<P> {
        Pid::from_cell(self.cell.arc())
    }

    /// The runtime this process runs on.
    pub fn runtime(&self) -> &Handle {
        self.cell.runtime()
    }

    /// The sender of the message being handled (`None` in hooks, dispatches and timers).
    pub fn sender(&self) -> Option<&Upid> {
        self.sender.map(Sender::upid)
    }

    /// Sends `message` from this process to `to`, local or remote; see
    /// [`Handle::send`](crate::Handle::send).
    ///
    /// A burst of sends to one local process is handed over in one batch when the handler returns
    /// (or every 64 messages), so do not block in a handler waiting for a process to react to what it
    /// just sent. Order is kept: messages from one process to another arrive in the order sent.
    pub fn send<M: Message, D: Destination + ?Sized>(&self, to: &D, message: M) {
        let from = SenderRef::Process(self.cell);
        self.cell.runtime().shared().send(from, to, message);
    }

    /// Sends `message` back to the sender of the message being handled: the fast way to answer, since
    /// a local sender's mailbox is already at hand. Dropped with a warning outside a message handler.
    pub fn reply<M: Message>(&self, message: M) {
        let shared = self.cell.runtime().shared();
        match self.sender {
            Some(Sender::Process(cell)) if shared.is_local_cell(&**cell) => {
                shared.send_to_cell(SenderRef::Process(self.cell), &**cell, message);
            }
            Some(sender) => {
                shared.send(SenderRef::Process(self.cell), sender.upid(), message);
            }
            None => tracing::warn!(
                process = %self.upid(),
                message = M::NAME,
                "reply outside a message handler: dropped"
            ),
        }
    }

    /// Links this process to `to`: [`Process::exited`] runs once `to` terminates (at once if it is
    /// not running), or when the connection to its runtime breaks.
    pub fn link<D: Destination + ?Sized>(&self, to: &D) {
        self.cell
            .runtime()
            .shared()
            .link(self.cell.upid().clone(), to.target().upid);
    }

    /// [`link`](Context::link), choosing what happens to an existing connection to `to`'s runtime
    /// (libprocess's `link(pid, RemoteConnection)`): [`RemoteConnection::Reconnect`] replaces it
    /// with a fresh one, and its breakage is no longer reported as [`Process::exited`]. Use it when
    /// a peer has just reconnected to us: the old connection may be stale, and its late breakage
    /// would be taken for the peer's loss. A local `to` is linked as usual.
    pub fn link_with<D: Destination + ?Sized>(&self, to: &D, connection: RemoteConnection) {
        let shared = self.cell.runtime().shared();
        let (linker, target) = (self.cell.upid().clone(), to.target().upid);
        match connection {
            RemoteConnection::Reuse => shared.link(linker, target),
            RemoteConnection::Reconnect => shared.relink(linker, target),
        }
    }

    /// Runs `f` on this process after `after` has elapsed on the runtime's [`Clock`](crate::Clock).
    pub fn delay(
        &self,
        after: Duration,
        f: impl FnOnce(&mut P, &mut Context<'_, P>) + Send + 'static,
    ) -> Timer {
        let cell = self.cell.arc();
        self.cell.runtime().clock().schedule(
            after,
            Box::new(move || cell.deliver(Letter::Dispatch(Box::new(f)))),
        )
    }

    /// Terminates this process once the current handler returns ([`Process::finalize`] runs then).
    pub fn terminate(&mut self) {
        self.terminate = true;
    }

    /// The runtime clock's current time.
    pub fn now(&self) -> Instant {
        self.cell.runtime().clock().now()
    }
}

/// What [`Context::link_with`] does with an existing connection to the target's runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RemoteConnection {
    /// Link over the existing connection (opening one if there is none): [`Context::link`].
    #[default]
    Reuse,
    /// Open a fresh connection and move every link to that runtime onto it; the loss of any older
    /// connection to or from it is no longer reported as `exited`.
    Reconnect,
}
