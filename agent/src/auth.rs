//! The agent's authentication with its master (`--credential`, issue 14): registrations wait
//! for a completed exchange ([`mesos::auth::Authenticatee`]); a master that refuses it stops the
//! agent, as Mesos's agent exits ("Master refused authentication"), leaving its executors
//! running for a restarted agent.

use std::sync::PoisonError;

use mesos::auth::{
    fresh_nonce, Authenticatee, AuthenticationChallengeMessage, AuthenticationCompletedMessage,
    AuthenticationFailedMessage, Credential, Gate, Peer,
};
use process::{Context, Upid};

use crate::core::ToMaster;
use crate::process::AgentProcess;

/// The agent's side of the exchange, when it has a credential.
pub(crate) type AgentAuth = Option<Authenticatee<ToMaster>>;

/// The authenticatee for `credential`, if any.
pub(crate) fn agent_auth(credential: Option<&Credential>) -> AgentAuth {
    credential.map(|c| Authenticatee::new(c.clone(), Peer::Agent))
}

/// Which HTTP authentication setting covers a request to the agent's runtime (Mesos's realms):
/// the executor API and health are open, `/api/v1` operator calls are read-write, the rest
/// read-only.
pub(crate) fn agent_realm(request: &process::http::Request) -> mesos::auth::http::Realm {
    use mesos::auth::http::Realm;
    let path = request.path.trim_end_matches('/');
    let local = path.strip_prefix("/slave(1)").unwrap_or(path);
    match local {
        "/health" | "/version" | "/api/v1/executor" => Realm::Open,
        _ if local.starts_with("/api/v1") => Realm::ReadWrite,
        _ => Realm::ReadOnly,
    }
}

impl AgentProcess {
    /// Sends `message` to the master at `to`; a (re)registration first needs authentication
    /// with it, when the agent has a credential.
    pub(crate) fn send_to_master(&mut self, ctx: &mut Context<Self>, to: &Upid, message: ToMaster) {
        let registration = matches!(
            message,
            ToMaster::RegisterSlave(_) | ToMaster::ReregisterSlave(_)
        );
        let Some(auth) = self.auth.as_mut().filter(|_| registration) else {
            return message.send_from(ctx, to);
        };
        match auth.gate(ctx.now(), to, message, fresh_nonce()) {
            Gate::Pass(message) => message.send_from(ctx, to),
            Gate::Hold(Some(start)) => {
                tracing::info!(master = %to, principal = auth.principal(), "authenticating");
                ctx.send(to, start);
            }
            Gate::Hold(None) => {}
        }
    }

    pub(crate) fn authentication_challenge(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: AuthenticationChallengeMessage,
    ) {
        let me = ctx.pid().upid().clone();
        if let Some(response) = self
            .auth
            .as_mut()
            .and_then(|a| a.on_challenge(from, &me, m))
        {
            ctx.send(from, response);
        }
    }

    pub(crate) fn authentication_completed(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: AuthenticationCompletedMessage,
    ) {
        let me = ctx.pid().upid().clone();
        let Some(auth) = self.auth.as_mut() else {
            return;
        };
        match auth.on_completed(from, &me, m) {
            Ok(Some(registration)) => {
                tracing::info!(master = %from, "authenticated");
                registration.send_from(ctx, from);
            }
            Ok(None) => {}
            Err(error) => self.refused(ctx, from, &error),
        }
    }

    /// The master refused the exchange, or a registration for want of one.
    pub(crate) fn authentication_failed(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: AuthenticationFailedMessage,
    ) {
        if self.core.master() != from {
            tracing::warn!(%from, "ignoring an authentication failure from a process that is not the master");
            return;
        }
        match self.auth.as_mut() {
            None => self.refused(ctx, from, &m.reason),
            Some(auth) => match auth.on_failed(from, m) {
                Some(reason) => self.refused(ctx, from, &reason),
                // Not in an exchange: the master forgot an earlier one (its connection broke);
                // the next registration attempt authenticates again.
                None => auth.reset(from),
            },
        }
    }

    fn refused(&mut self, ctx: &mut Context<Self>, from: &Upid, reason: &str) {
        let error = format!("master {from} refused authentication: {reason}");
        tracing::error!(%error, "stopping the agent (its executors keep running)");
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
        ctx.terminate();
    }
}
