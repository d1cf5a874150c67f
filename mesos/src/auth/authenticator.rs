//! [`Authenticator`]: the master's side of the exchange. Pure: the caller gives `now` and the
//! fresh server nonce.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use process::Upid;

use super::{
    AuthenticateMessage, AuthenticationChallengeMessage, AuthenticationCompletedMessage,
    AuthenticationResponseMessage, Credentials, Exchange, Peer, Side, MAX_PRINCIPAL_LEN, NONCE_LEN,
};

/// An exchange not answered within this time is forgotten (its response is then refused).
pub const PENDING_TIMEOUT: Duration = Duration::from_secs(15);
/// At most this many exchanges in flight; past it the oldest is dropped.
const MAX_PENDING: usize = 10_000;

/// Who a client proved to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The principal.
    pub principal: String,
    /// A framework or an agent.
    pub peer: Peer,
}

/// Why an exchange was refused. The client is told only [`Refusal::client_reason`]: whether
/// a principal exists is not given away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A field of the wrong size or form (a truncated or garbage handshake).
    #[error("malformed authentication message: {0}")]
    Malformed(String),
    /// A response with no exchange in progress (replayed, or too late).
    #[error("no authentication in progress (replayed or expired)")]
    NoExchange,
    /// A principal the master does not know.
    #[error("unknown principal '{principal}'")]
    UnknownPrincipal {
        /// The principal claimed.
        principal: String,
        /// Who claimed it.
        peer: Peer,
    },
    /// A proof that does not match the secret.
    #[error("wrong secret for principal '{principal}'")]
    WrongSecret {
        /// The principal claimed.
        principal: String,
        /// Who claimed it.
        peer: Peer,
    },
}

impl Refusal {
    /// A framework or an agent, when known.
    pub fn peer(&self) -> Option<Peer> {
        match self {
            Refusal::UnknownPrincipal { peer, .. } | Refusal::WrongSecret { peer, .. } => {
                Some(*peer)
            }
            Refusal::Malformed(_) | Refusal::NoExchange => None,
        }
    }

    /// What the client is told.
    pub fn client_reason(&self) -> String {
        match self {
            Refusal::UnknownPrincipal { .. } | Refusal::WrongSecret { .. } => {
                "authentication failed: wrong principal or secret".to_string()
            }
            other => other.to_string(),
        }
    }
}

struct Pending {
    principal: String,
    peer: Peer,
    client_nonce: Vec<u8>,
    server_nonce: [u8; NONCE_LEN],
    started: Instant,
}

/// The master's exchanges in progress, by client pid.
pub struct Authenticator {
    credentials: Credentials,
    pending: HashMap<Upid, Pending>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("credentials", &self.credentials)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Authenticator {
    /// An authenticator accepting `credentials`.
    pub fn new(credentials: Credentials) -> Authenticator {
        Authenticator {
            credentials,
            pending: HashMap::new(),
        }
    }

    /// The credentials accepted.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Exchanges in progress.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// `AuthenticateMessage` from `client` to `master`: a challenge over `server_nonce` (which
    /// must be fresh). A new start from the same client replaces its exchange.
    ///
    /// # Errors
    /// [`Refusal::Malformed`] for a nonce of the wrong size or a bad principal.
    pub fn start(
        &mut self,
        now: Instant,
        client: &Upid,
        _master: &Upid,
        message: AuthenticateMessage,
        server_nonce: [u8; NONCE_LEN],
    ) -> Result<AuthenticationChallengeMessage, Refusal> {
        self.pending.remove(client);
        if message.nonce.len() != NONCE_LEN {
            return Err(Refusal::Malformed(format!(
                "client nonce of {} bytes, expected {NONCE_LEN}",
                message.nonce.len()
            )));
        }
        if message.principal.is_empty() || message.principal.len() > MAX_PRINCIPAL_LEN {
            return Err(Refusal::Malformed(
                "principal empty or longer than 256 bytes".to_string(),
            ));
        }
        self.expire(now);
        if self.pending.len() >= MAX_PENDING {
            if let Some(oldest) = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(pid, _)| pid.clone())
            {
                self.pending.remove(&oldest);
            }
        }
        // An unknown principal gets a challenge too, and fails at the response: the client
        // cannot tell it from a wrong secret.
        self.pending.insert(
            client.clone(),
            Pending {
                principal: message.principal,
                peer: message.peer,
                client_nonce: message.nonce,
                server_nonce,
                started: now,
            },
        );
        Ok(AuthenticationChallengeMessage {
            nonce: server_nonce.to_vec(),
        })
    }

    /// `AuthenticationResponseMessage` from `client`: who it is, and the master's proof for it.
    /// The exchange ends either way (a replayed response finds none).
    ///
    /// # Errors
    /// [`Refusal`] naming why.
    pub fn step(
        &mut self,
        now: Instant,
        client: &Upid,
        master: &Upid,
        message: AuthenticationResponseMessage,
    ) -> Result<(AuthenticationCompletedMessage, Authenticated), Refusal> {
        let pending = self.pending.remove(client).ok_or(Refusal::NoExchange)?;
        if now.saturating_duration_since(pending.started) > PENDING_TIMEOUT {
            return Err(Refusal::NoExchange);
        }
        let client_text = client.to_string();
        let master_text = master.to_string();
        let exchange = Exchange {
            principal: &pending.principal,
            client: &client_text,
            master: &master_text,
            client_nonce: &pending.client_nonce,
            server_nonce: &pending.server_nonce,
        };
        let Some(secret) = self.credentials.secret(&pending.principal) else {
            return Err(Refusal::UnknownPrincipal {
                principal: pending.principal,
                peer: pending.peer,
            });
        };
        if !exchange.verify(secret, Side::Client, &message.proof) {
            return Err(Refusal::WrongSecret {
                principal: pending.principal,
                peer: pending.peer,
            });
        }
        let proof = exchange.sign(secret, Side::Server);
        Ok((
            AuthenticationCompletedMessage { proof },
            Authenticated {
                principal: pending.principal,
                peer: pending.peer,
            },
        ))
    }

    /// Forgets exchanges older than [`PENDING_TIMEOUT`].
    pub fn expire(&mut self, now: Instant) {
        self.pending
            .retain(|_, p| now.saturating_duration_since(p.started) <= PENDING_TIMEOUT);
    }

    /// The client is gone: forget its exchange.
    pub fn forget(&mut self, client: &Upid) {
        self.pending.remove(client);
    }
}
