//! The authentication exchange's messages (see the [module docs](super)).

use serde::{Deserialize, Serialize};

/// Who is authenticating: the master counts failures per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Peer {
    /// A scheduler (driver).
    Framework,
    /// An agent.
    Agent,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Peer::Framework => "framework",
            Peer::Agent => "agent",
        })
    }
}

/// Client → master: start authenticating as `principal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticateMessage {
    /// The principal claimed.
    pub principal: String,
    /// The client's fresh nonce ([`NONCE_LEN`](super::NONCE_LEN) bytes).
    pub nonce: Vec<u8>,
    /// A framework or an agent.
    pub peer: Peer,
}

/// Master → client: the master's fresh nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationChallengeMessage {
    /// The master's nonce ([`NONCE_LEN`](super::NONCE_LEN) bytes).
    pub nonce: Vec<u8>,
}

/// Client → master: proof of the secret over both nonces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationResponseMessage {
    /// HMAC-SHA-256 of the exchange with the client's label.
    pub proof: Vec<u8>,
}

/// Master → client: authenticated; the master's own proof, which the client checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationCompletedMessage {
    /// HMAC-SHA-256 of the exchange with the master's label.
    pub proof: Vec<u8>,
}

/// Master → client: refused (a wrong secret, an unknown principal, a malformed or stale exchange).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationFailedMessage {
    /// Why, without saying whether the principal exists.
    pub reason: String,
}

process::message!(
    AuthenticateMessage = "mesos.internal.AuthenticateMessage",
    AuthenticationChallengeMessage = "mesos.internal.AuthenticationChallengeMessage",
    AuthenticationResponseMessage = "mesos.internal.AuthenticationResponseMessage",
    AuthenticationCompletedMessage = "mesos.internal.AuthenticationCompletedMessage",
    AuthenticationFailedMessage = "mesos.internal.AuthenticationFailedMessage",
);
