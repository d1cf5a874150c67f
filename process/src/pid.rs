//! [`Pid`]: a typed handle to a local process, and [`Destination`]: anything a message can go to.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::cell::{AnyCell, Cell};
use crate::process::Process;
use crate::upid::Upid;

/// A typed handle to a process spawned on a runtime: its [`Upid`] plus a direct line to its mailbox,
/// so sends skip the registry lookup, and `dispatch`/`delay` know the process type.
///
/// Cheap to clone. Holding one after the process terminated is harmless: sends are dropped.
pub struct Pid<P: Process> {
    cell: Arc<Cell<P>>,
}

impl<P: Process> Pid<P> {
    pub(crate) fn from_cell(cell: Arc<Cell<P>>) -> Pid<P> {
        Pid { cell }
    }

    pub(crate) fn cell(&self) -> &Cell<P> {
        &self.cell
    }

    /// The process's address.
    pub fn upid(&self) -> &Upid {
        self.cell.upid()
    }

    /// The process id (the part before `@`).
    pub fn id(&self) -> &str {
        self.cell.upid().id()
    }

    /// Whether the process has terminated.
    pub fn is_terminated(&self) -> bool {
        AnyCell::is_terminated(&*self.cell)
    }
}

impl<P: Process> Clone for Pid<P> {
    fn clone(&self) -> Self {
        Pid {
            cell: self.cell.clone(),
        }
    }
}

impl<P: Process> fmt::Debug for Pid<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pid({})", self.upid())
    }
}

impl<P: Process> fmt::Display for Pid<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.upid(), f)
    }
}

impl<P: Process> PartialEq for Pid<P> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.cell, &other.cell)
    }
}

impl<P: Process> Eq for Pid<P> {}

impl<P: Process> Hash for Pid<P> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.upid().hash(state);
    }
}

impl<P: Process> From<Pid<P>> for Upid {
    fn from(pid: Pid<P>) -> Upid {
        pid.upid().clone()
    }
}

impl<P: Process> From<&Pid<P>> for Upid {
    fn from(pid: &Pid<P>) -> Upid {
        pid.upid().clone()
    }
}

impl<P: Process> AsRef<Upid> for Pid<P> {
    fn as_ref(&self) -> &Upid {
        self.upid()
    }
}

/// Where a message goes: an address, and for typed local pids the mailbox itself. Made by
/// [`Destination::target`]; only the runtime looks inside.
pub struct Target<'a> {
    pub(crate) upid: &'a Upid,
    pub(crate) cell: Option<&'a dyn AnyCell>,
}

/// Anything `send`, `link`, `terminate` and `wait` accept: a [`Upid`] (local or remote) or a [`Pid`].
pub trait Destination {
    /// The address and, if known, the local mailbox.
    fn target(&self) -> Target<'_>;
}

impl Destination for Upid {
    fn target(&self) -> Target<'_> {
        Target {
            upid: self,
            cell: None,
        }
    }
}

impl<P: Process> Destination for Pid<P> {
    fn target(&self) -> Target<'_> {
        Target {
            upid: self.cell.upid(),
            cell: Some(&*self.cell),
        }
    }
}
