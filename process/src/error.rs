//! Errors at the runtime boundary.

use crate::upid::{Upid, UpidParseError};

/// Why a runtime call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The process id given to `spawn` is not a valid pid id.
    #[error(transparent)]
    InvalidId(#[from] UpidParseError),
    /// A live process with this id already runs on this runtime.
    #[error("a process with id '{0}' already runs on this runtime")]
    DuplicateId(String),
    /// The runtime is shutting down (or has shut down) and accepts no new processes.
    #[error("the runtime is shut down")]
    Shutdown,
    /// The process terminated (or was never running) before it answered.
    #[error("the process terminated before answering")]
    Abandoned,
    /// A blocking wait gave up after its timeout.
    #[error("timed out waiting for a reply")]
    Timeout,
    /// The operation needs a process on this runtime, and `pid` lives elsewhere.
    #[error("process {0} is not local to this runtime")]
    NotLocal(Upid),
    /// The runtime could not start worker or timer threads.
    #[error("cannot start runtime threads: {0}")]
    Threads(#[source] std::io::Error),
    /// TLS is on and its settings or certificate files are unusable (the message names the
    /// variable or file).
    #[error("tls: {0}")]
    Tls(#[from] crate::transport::tls::TlsError),
    /// The transport (the TCP/HTTP listener) could not start.
    #[error("cannot start the transport: {0}")]
    Transport(String),
}
