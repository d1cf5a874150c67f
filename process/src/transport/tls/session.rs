//! One connection's TLS state, driven over the non-blocking socket by the event loop: ciphertext
//! read from the socket goes in through [`TlsSession::receive`], plaintext comes out in one buffer
//! per socket read; plaintext to send goes in through [`TlsSession::encrypt`] and ciphertext goes out
//! with [`TlsSession::send`].

use std::io::{self, Read, Write};

use mio::net::TcpStream;
use rustls::Connection;

/// Ciphertext rustls may hold for one connection before [`TlsSession::encrypt`] takes no more:
/// as large as the plaintext path's write batches, so TLS writes stay few and large.
const BUFFER_LIMIT: usize = 1 << 20;

/// What the bytes just received did.
pub(crate) struct Received {
    /// The peer sent close_notify: nothing more will come.
    pub(crate) peer_closed: bool,
}

pub(crate) struct TlsSession {
    conn: Connection,
    /// Plaintext decrypted from the current read, handed to the connection's protocol in one go.
    pub(crate) plain: Vec<u8>,
}

impl TlsSession {
    pub(crate) fn new(conn: impl Into<Connection>) -> TlsSession {
        let mut conn = conn.into();
        conn.set_buffer_limit(Some(BUFFER_LIMIT));
        TlsSession {
            conn,
            plain: Vec::new(),
        }
    }

    /// Decrypts `data` (as read from the socket) into [`TlsSession::plain`].
    ///
    /// # Errors
    /// Why the handshake or a record failed: the connection must be closed (after [`send`]ing the
    /// alert rustls queued).
    ///
    /// [`send`]: TlsSession::send
    pub(crate) fn receive(&mut self, mut data: &[u8]) -> Result<Received, String> {
        let mut peer_closed = false;
        while !data.is_empty() {
            if let Err(e) = self.conn.read_tls(&mut data) {
                return Err(format!("tls: {e}"));
            }
            let state = self
                .conn
                .process_new_packets()
                .map_err(|e| format!("tls: {e}"))?;
            let available = state.plaintext_bytes_to_read();
            if available > 0 {
                let start = self.plain.len();
                self.plain.resize(start + available, 0);
                self.conn
                    .reader()
                    .read_exact(&mut self.plain[start..])
                    .map_err(|e| format!("tls: {e}"))?;
            }
            peer_closed |= state.peer_has_closed();
        }
        Ok(Received { peer_closed })
    }

    /// Takes as much of `plain` as fits (0 while the handshake has not finished and the buffer is
    /// full).
    pub(crate) fn encrypt(&mut self, plain: &[u8]) -> io::Result<usize> {
        self.conn.writer().write(plain)
    }

    /// Writes queued ciphertext (handshake messages, records, alerts) to `stream` until it is all
    /// written; `WouldBlock` when the socket is full.
    pub(crate) fn send(&mut self, stream: &mut TcpStream) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(stream) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Queues close_notify (sent by the next [`TlsSession::send`]).
    pub(crate) fn close(&mut self) {
        self.conn.send_close_notify();
    }
}
