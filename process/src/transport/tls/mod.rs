//! TLS on every connection of a transport (rustls, over the same non-blocking mio sockets).
//!
//! Configured by libprocess's environment variables ([`vars`]) or a [`TlsConfig`] in
//! [`TransportConfig::tls`](super::TransportConfig::tls). With TLS on:
//! - every connection this runtime opens is TLS; it presents its certificate when asked, and checks
//!   the server's against the trusted CAs only with `LIBPROCESS_SSL_VERIFY_CERT` (or
//!   `REQUIRE_CERT`), which then must name the peer's IP address;
//! - every accepted connection must start a TLS handshake (first byte 0x16), unless
//!   `LIBPROCESS_SSL_SUPPORT_DOWNGRADE` lets plaintext peers in too; behind TLS, frames and HTTP
//!   share the port as in plaintext;
//! - `LIBPROCESS_SSL_REQUIRE_CERT` makes it mutual: a client without a certificate that verifies is
//!   refused during the handshake.
//!
//! A failed handshake closes that one connection with a warning naming the reason.

mod config;
mod context;
mod session;

pub use config::{vars, TlsConfig, TlsError};
pub use context::AnyServerCertificate;
pub(crate) use context::TlsContext;
pub(crate) use session::TlsSession;

/// The first byte of every TLS connection: a handshake record.
pub(crate) const HANDSHAKE_RECORD: u8 = 0x16;
