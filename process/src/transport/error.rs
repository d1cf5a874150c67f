//! Errors at the transport boundary.

use std::io;
use std::net::SocketAddr;

/// Why the transport could not start, or why a frame was rejected.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The listening socket could not be bound (port in use, no permission, bad address).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address we tried to bind.
        addr: SocketAddr,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The poller, waker or event-loop thread could not be created.
    #[error("cannot start the event loop: {0}")]
    EventLoop(#[source] io::Error),
    /// A [`TransportConfig`](super::TransportConfig) value is out of range.
    #[error("invalid transport config: {0}")]
    InvalidConfig(String),
    /// TLS is on and its settings or files are unusable.
    #[error("tls: {0}")]
    Tls(#[from] super::tls::TlsError),
    /// A frame was rejected by the codec.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// Why a frame could not be encoded or decoded. A decoding error closes the connection it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The length prefix (or the encoded envelope) exceeds the configured maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    TooLong {
        /// The announced (or encoded) frame length.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The frame bytes are not a valid envelope.
    #[error("undecodable envelope: {0}")]
    Undecodable(String),
}
