//! Authentication of frameworks and agents on the binary protocol (issue 14).
//!
//! Mesos's flags and files carry over: the master's `--credentials` file (JSON
//! `{"credentials":[{"principal":..,"secret":..}]}` or text, one `principal secret` per line), the
//! agent's `--credential` file, a scheduler's principal and secret. The exchange is stronger than
//! Mesos's CRAM-MD5: a mutual challenge–response over fresh 32-byte nonces with HMAC-SHA-256
//! (the `hmac` and `sha2` crates), so the secret never travels and a recorded exchange cannot be
//! replayed:
//!
//! 1. client → master: [`AuthenticateMessage`] (principal, client nonce, framework or agent);
//! 2. master → client: [`AuthenticationChallengeMessage`] (a fresh server nonce);
//! 3. client → master: [`AuthenticationResponseMessage`]: `HMAC(secret, client proof input)`;
//! 4. master → client: [`AuthenticationCompletedMessage`] with its own proof (the client checks
//!    it: a fake master cannot complete the exchange), or [`AuthenticationFailedMessage`].
//!
//! Both proofs bind the principal, both pids and both nonces. The master side is
//! [`Authenticator`], the client side [`Authenticatee`]; both are pure (the caller supplies `now`
//! and the nonces).
//!
//! ```
//! use std::time::Instant;
//! use mesos::auth::*;
//! use process::Upid;
//!
//! let credentials: Credentials = "alice s3cret\n".parse().unwrap();
//! let master: Upid = "master@127.0.0.1:5050".parse().unwrap();
//! let me: Upid = "scheduler-1@127.0.0.1:40000".parse().unwrap();
//! let now = Instant::now();
//! let mut server = Authenticator::new(credentials);
//! let mut client = Authenticatee::new(Credential::new("alice", "s3cret"), Peer::Framework);
//!
//! let Gate::Hold(Some(start)) = client.gate(now, &master, "register", [1; 32]) else { panic!() };
//! let challenge = server.start(now, &me, &master, start, [2; 32]).unwrap();
//! let response = client.on_challenge(&master, &me, challenge).unwrap();
//! let (completed, principal) = server.step(now, &me, &master, response).unwrap();
//! assert_eq!(principal.principal, "alice");
//! assert_eq!(client.on_completed(&master, &me, completed), Ok(Some("register")));
//! assert!(client.is_authenticated_with(&master));
//! ```

mod authenticatee;
mod authenticator;
mod credentials;
pub mod http;
mod messages;

pub use authenticatee::{Authenticatee, Gate, AUTHENTICATION_RETRY};
pub use authenticator::{Authenticated, Authenticator, Refusal, PENDING_TIMEOUT};
pub use credentials::{Credential, Credentials, CredentialsError};
pub use messages::*;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Length of every nonce, in bytes.
pub const NONCE_LEN: usize = 32;
/// Longest principal accepted (longer ones are refused before any lookup).
pub const MAX_PRINCIPAL_LEN: usize = 256;

/// A fresh random nonce from the operating system.
///
/// # Panics
/// If the operating system has no randomness to give (no `getrandom`, no `/dev/urandom`): without
/// it no authentication can be safe.
pub fn fresh_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut nonce).expect("the operating system gave no randomness");
    nonce
}

/// Which side of the exchange a proof is for.
#[derive(Clone, Copy)]
enum Side {
    Client,
    Server,
}

/// The proof input: every field length-prefixed, so no two exchanges share an input.
fn proof(
    secret: &str,
    side: Side,
    principal: &str,
    client: &str,
    master: &str,
    client_nonce: &[u8],
    server_nonce: &[u8],
) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    let label: &[u8] = match side {
        Side::Client => b"mesos-rs auth v1 client",
        Side::Server => b"mesos-rs auth v1 server",
    };
    for part in [
        label,
        principal.as_bytes(),
        client.as_bytes(),
        master.as_bytes(),
        client_nonce,
        server_nonce,
    ] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac
}

/// The inputs both proofs bind.
struct Exchange<'a> {
    principal: &'a str,
    client: &'a str,
    master: &'a str,
    client_nonce: &'a [u8],
    server_nonce: &'a [u8],
}

impl Exchange<'_> {
    fn mac(&self, secret: &str, side: Side) -> Hmac<Sha256> {
        proof(
            secret,
            side,
            self.principal,
            self.client,
            self.master,
            self.client_nonce,
            self.server_nonce,
        )
    }

    fn sign(&self, secret: &str, side: Side) -> Vec<u8> {
        self.mac(secret, side).finalize().into_bytes().to_vec()
    }

    /// Checks `tag` in constant time.
    fn verify(&self, secret: &str, side: Side, tag: &[u8]) -> bool {
        self.mac(secret, side).verify_slice(tag).is_ok()
    }
}

#[cfg(test)]
mod tests;
