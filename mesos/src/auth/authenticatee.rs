//! [`Authenticatee`]: a scheduler's or agent's side of the exchange. It gates the registration
//! messages: one for a master this client has not authenticated with is held, and sent when the
//! exchange completes. Pure: the caller gives `now` and the fresh client nonce.

use std::time::{Duration, Instant};

use process::Upid;

use super::{
    AuthenticateMessage, AuthenticationChallengeMessage, AuthenticationCompletedMessage,
    AuthenticationFailedMessage, AuthenticationResponseMessage, Credential, Exchange, Peer, Side,
    NONCE_LEN,
};

/// A registration attempt this long after an unanswered start begins a new exchange (the first
/// may have been lost, e.g. sent before the master was up).
pub const AUTHENTICATION_RETRY: Duration = Duration::from_secs(5);

/// What to do with a registration message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate<T> {
    /// Authenticated with this master: send it.
    Pass(T),
    /// Held until the exchange completes; send this start first, if any.
    Hold(Option<AuthenticateMessage>),
}

#[derive(Debug)]
enum State<T> {
    Idle,
    Pending {
        master: Upid,
        client_nonce: [u8; NONCE_LEN],
        server_nonce: Option<Vec<u8>>,
        started: Instant,
        held: Option<T>,
    },
    Done {
        master: Upid,
    },
}

/// A client's authentication with its master.
#[derive(Debug)]
pub struct Authenticatee<T> {
    credential: Credential,
    peer: Peer,
    state: State<T>,
}

impl<T> Authenticatee<T> {
    /// A client authenticating with `credential` as a `peer`.
    pub fn new(credential: Credential, peer: Peer) -> Authenticatee<T> {
        Authenticatee {
            credential,
            peer,
            state: State::Idle,
        }
    }

    /// The principal this client authenticates as.
    pub fn principal(&self) -> &str {
        &self.credential.principal
    }

    /// Whether the exchange with `master` has completed.
    pub fn is_authenticated_with(&self, master: &Upid) -> bool {
        matches!(&self.state, State::Done { master: m } if m == master)
    }

    /// A registration `message` for `to`: passed if authenticated with it, else held (the latest
    /// held message wins) and, unless an exchange with `to` is recent, a new one started with
    /// `nonce` (which must be fresh).
    pub fn gate(&mut self, now: Instant, to: &Upid, message: T, nonce: [u8; NONCE_LEN]) -> Gate<T> {
        match &mut self.state {
            State::Done { master } if master == to => return Gate::Pass(message),
            State::Pending {
                master,
                started,
                held,
                ..
            } if master == to && now.saturating_duration_since(*started) < AUTHENTICATION_RETRY => {
                *held = Some(message);
                return Gate::Hold(None);
            }
            _ => {}
        }
        self.state = State::Pending {
            master: to.clone(),
            client_nonce: nonce,
            server_nonce: None,
            started: now,
            held: Some(message),
        };
        Gate::Hold(Some(AuthenticateMessage {
            principal: self.credential.principal.clone(),
            nonce: nonce.to_vec(),
            peer: self.peer,
        }))
    }

    /// The master's challenge: the proof to answer with, or `None` for a challenge from another
    /// process, out of turn, or malformed.
    pub fn on_challenge(
        &mut self,
        from: &Upid,
        me: &Upid,
        message: AuthenticationChallengeMessage,
    ) -> Option<AuthenticationResponseMessage> {
        let State::Pending {
            master,
            client_nonce,
            server_nonce,
            ..
        } = &mut self.state
        else {
            return None;
        };
        if master != from || server_nonce.is_some() || message.nonce.len() != NONCE_LEN {
            return None;
        }
        let me = me.to_string();
        let master = master.to_string();
        let proof = Exchange {
            principal: &self.credential.principal,
            client: &me,
            master: &master,
            client_nonce,
            server_nonce: &message.nonce,
        }
        .sign(&self.credential.secret, Side::Client);
        *server_nonce = Some(message.nonce);
        Some(AuthenticationResponseMessage { proof })
    }

    /// The master completed the exchange: the held registration to send now (`Ok(None)` for a
    /// stray message).
    ///
    /// # Errors
    /// The master's proof is wrong: it does not know the secret (an impostor); the exchange ends.
    pub fn on_completed(
        &mut self,
        from: &Upid,
        me: &Upid,
        message: AuthenticationCompletedMessage,
    ) -> Result<Option<T>, String> {
        let State::Pending {
            master,
            client_nonce,
            server_nonce: Some(server_nonce),
            ..
        } = &self.state
        else {
            return Ok(None);
        };
        if master != from {
            return Ok(None);
        }
        let me = me.to_string();
        let master_text = master.to_string();
        let genuine = Exchange {
            principal: &self.credential.principal,
            client: &me,
            master: &master_text,
            client_nonce,
            server_nonce,
        }
        .verify(&self.credential.secret, Side::Server, &message.proof);
        if !genuine {
            self.state = State::Idle;
            return Err(format!(
                "master {from} could not prove it knows the secret of '{}'",
                self.credential.principal
            ));
        }
        let master = master.clone();
        let State::Pending { held, .. } =
            std::mem::replace(&mut self.state, State::Done { master })
        else {
            unreachable!("matched Pending above");
        };
        Ok(held)
    }

    /// The master refused: its reason, or `None` for a stray message (not from the master this
    /// client is authenticating with).
    pub fn on_failed(
        &mut self,
        from: &Upid,
        message: AuthenticationFailedMessage,
    ) -> Option<String> {
        match &self.state {
            State::Pending { master, .. } if master == from => {
                self.state = State::Idle;
                Some(message.reason)
            }
            _ => None,
        }
    }

    /// The connection to `pid` broke: an exchange or authentication with it is void (the master
    /// forgets it too).
    pub fn reset(&mut self, pid: &Upid) {
        let with = match &self.state {
            State::Pending { master, .. } | State::Done { master } => master == pid,
            State::Idle => false,
        };
        if with {
            self.state = State::Idle;
        }
    }
}
