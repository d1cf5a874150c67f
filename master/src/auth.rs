//! [`MasterAuth`]: authentication of frameworks and agents on the binary protocol (issue 14):
//! the master's side of the exchange ([`mesos::auth`]), the principals authenticated per pid,
//! and the checks on (re)registrations (`--authenticate_frameworks`, `--authenticate_agents`,
//! a framework's principal matching the one it authenticated as).
//!
//! It lives beside the core, in the actor: it decides only whether a registration reaches the
//! core at all, and holds no bookkeeping the core needs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use mesos::auth::{
    AuthenticateMessage, Authenticated, AuthenticationChallengeMessage,
    AuthenticationCompletedMessage, AuthenticationFailedMessage, AuthenticationResponseMessage,
    Authenticator, Credentials, Peer, NONCE_LEN,
};
use mesos::FrameworkInfo;
use process::Upid;
use serde_json::Value as Json;

/// The authentication settings (flags `--credentials`, `--authenticate_frameworks`,
/// `--authenticate_agents`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthConfig {
    /// The principals and secrets accepted; `None`: every authentication attempt is refused.
    pub credentials: Option<Credentials>,
    /// Only authenticated frameworks may register.
    pub authenticate_frameworks: bool,
    /// Only authenticated agents may register.
    pub authenticate_agents: bool,
    /// HTTP Basic authentication of the endpoints (`--authenticate_http_*`,
    /// `--http_credentials`).
    pub http: mesos::auth::http::HttpAuth,
    /// `--acls`: authorization of registrations, tasks, teardowns and views (see [`crate::acl`]).
    pub acls: Arc<mesos::acl::Acls>,
}

/// Counters shown by `/metrics/snapshot`.
#[derive(Debug, Default)]
pub struct AuthMetrics {
    successes: AtomicU64,
    framework_failures: AtomicU64,
    agent_failures: AtomicU64,
    malformed: AtomicU64,
    frameworks_refused: AtomicU64,
    agents_refused: AtomicU64,
}

impl AuthMetrics {
    /// Adds the counters to a metrics snapshot.
    pub fn apply_to(&self, metrics: &mut Json) {
        let Some(map) = metrics.as_object_mut() else {
            return;
        };
        let framework = self.framework_failures.load(Relaxed);
        let agent = self.agent_failures.load(Relaxed);
        let malformed = self.malformed.load(Relaxed);
        for (name, value) in [
            ("authentication_successes", self.successes.load(Relaxed)),
            ("authentication_failures", framework + agent + malformed),
            ("frameworks_authentication_failures", framework),
            ("agents_authentication_failures", agent),
            (
                "frameworks_unauthenticated_refused",
                self.frameworks_refused.load(Relaxed),
            ),
            (
                "agents_unauthenticated_refused",
                self.agents_refused.load(Relaxed),
            ),
        ] {
            map.insert(format!("master/{name}"), Json::from(value as f64));
        }
    }
}

/// What the actor sends for an authentication message.
#[derive(Debug)]
pub(crate) enum AuthReply {
    Challenge(AuthenticationChallengeMessage),
    Completed(AuthenticationCompletedMessage),
    Failed(AuthenticationFailedMessage),
}

/// Why a registration does not reach the core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RegistrationRefusal {
    #[error("framework at {0} is not authenticated: this master requires authentication (--authenticate_frameworks); give the scheduler a principal and secret")]
    FrameworkNotAuthenticated(Upid),
    #[error("framework principal '{declared}' does not match the authenticated principal '{authenticated}'")]
    PrincipalMismatch {
        declared: String,
        authenticated: String,
    },
    #[error("{0}")]
    RoleNotAuthorized(String),
    #[error("agent at {0} is not authenticated: this master requires authentication (--authenticate_agents); start the agent with --credential")]
    AgentNotAuthenticated(Upid),
}

/// The master's authentication state.
#[derive(Debug)]
pub(crate) struct MasterAuth {
    config: AuthConfig,
    authenticator: Option<Authenticator>,
    authenticated: HashMap<Upid, Authenticated>,
    pub(crate) metrics: Arc<AuthMetrics>,
}

impl MasterAuth {
    pub(crate) fn new(config: AuthConfig, metrics: Arc<AuthMetrics>) -> MasterAuth {
        MasterAuth {
            authenticator: config.credentials.clone().map(Authenticator::new),
            config,
            authenticated: HashMap::new(),
            metrics,
        }
    }

    fn fail(&self, peer: Option<Peer>, reason: String) -> AuthReply {
        match peer {
            Some(Peer::Framework) => &self.metrics.framework_failures,
            Some(Peer::Agent) => &self.metrics.agent_failures,
            None => &self.metrics.malformed,
        }
        .fetch_add(1, Relaxed);
        AuthReply::Failed(AuthenticationFailedMessage { reason })
    }

    /// `AuthenticateMessage` from `from`: a challenge, or a refusal.
    pub(crate) fn start(
        &mut self,
        now: Instant,
        from: &Upid,
        master: &Upid,
        message: AuthenticateMessage,
        nonce: [u8; NONCE_LEN],
    ) -> AuthReply {
        // A new exchange voids what this pid had proved before.
        self.authenticated.remove(from);
        let peer = message.peer;
        let Some(authenticator) = &mut self.authenticator else {
            tracing::warn!(%from, %peer, "authentication refused: this master has no --credentials");
            return self.fail(
                Some(peer),
                "this master has no credentials (--credentials): it authenticates no one".into(),
            );
        };
        match authenticator.start(now, from, master, message, nonce) {
            Ok(challenge) => AuthReply::Challenge(challenge),
            Err(refusal) => {
                tracing::warn!(%from, %refusal, "authentication refused");
                self.fail(refusal.peer().or(Some(peer)), refusal.client_reason())
            }
        }
    }

    /// `AuthenticationResponseMessage` from `from`: completed (and `from` is authenticated), or
    /// refused.
    pub(crate) fn step(
        &mut self,
        now: Instant,
        from: &Upid,
        master: &Upid,
        message: AuthenticationResponseMessage,
    ) -> AuthReply {
        let Some(authenticator) = &mut self.authenticator else {
            return self.fail(None, "no authentication in progress".into());
        };
        match authenticator.step(now, from, master, message) {
            Ok((completed, who)) => {
                tracing::info!(%from, principal = %who.principal, peer = %who.peer, "authenticated");
                self.metrics.successes.fetch_add(1, Relaxed);
                self.authenticated.insert(from.clone(), who);
                AuthReply::Completed(completed)
            }
            Err(refusal) => {
                tracing::warn!(%from, %refusal, "authentication failed");
                self.fail(refusal.peer(), refusal.client_reason())
            }
        }
    }

    /// The ACLs (`--acls`).
    pub(crate) fn acls(&self) -> &Arc<mesos::acl::Acls> {
        &self.config.acls
    }

    /// The principal an HTTP request authenticated as (`None`: no valid credentials).
    pub(crate) fn http_principal(&self, request: &process::http::Request) -> Option<String> {
        match self.config.http.principal(request) {
            mesos::auth::http::HttpPrincipal::Authenticated(principal) => Some(principal),
            _ => None,
        }
    }

    /// Whether a framework registration from `from` may reach the core.
    pub(crate) fn check_framework(
        &self,
        from: &Upid,
        framework: &FrameworkInfo,
    ) -> Result<(), RegistrationRefusal> {
        let refusal = match self.authenticated.get(from) {
            None if self.config.authenticate_frameworks => {
                RegistrationRefusal::FrameworkNotAuthenticated(from.clone())
            }
            None => return self.check_roles(framework),
            Some(who) if framework.principal.as_deref() == Some(who.principal.as_str()) => {
                return self.check_roles(framework)
            }
            Some(who) => RegistrationRefusal::PrincipalMismatch {
                declared: framework.principal.clone().unwrap_or_default(),
                authenticated: who.principal.clone(),
            },
        };
        self.metrics.frameworks_refused.fetch_add(1, Relaxed);
        Err(refusal)
    }

    /// `register_frameworks`: whether the framework's principal may register with its roles.
    fn check_roles(&self, framework: &FrameworkInfo) -> Result<(), RegistrationRefusal> {
        crate::acl::authorize_registration(&self.config.acls, framework)
            .map_err(RegistrationRefusal::RoleNotAuthorized)
    }

    /// Whether a v1 HTTP scheduler may subscribe `framework`: with `--authenticate_http_frameworks`
    /// its principal must be the one the request authenticated as (the guard already refused a
    /// request without valid credentials).
    pub(crate) fn check_http_framework(
        &self,
        request: &process::http::Request,
        framework: &FrameworkInfo,
    ) -> Result<(), RegistrationRefusal> {
        use mesos::auth::http::HttpPrincipal;
        if !self.config.http.frameworks {
            return self.check_roles(framework);
        }
        let HttpPrincipal::Authenticated(principal) = self.config.http.principal(request) else {
            return self.check_roles(framework);
        };
        if framework.principal.as_deref() == Some(principal.as_str()) {
            return self.check_roles(framework);
        }
        self.metrics.frameworks_refused.fetch_add(1, Relaxed);
        Err(RegistrationRefusal::PrincipalMismatch {
            declared: framework.principal.clone().unwrap_or_default(),
            authenticated: principal,
        })
    }

    /// Whether an agent registration from `from` may reach the core.
    pub(crate) fn check_agent(&self, from: &Upid) -> Result<(), RegistrationRefusal> {
        if self.config.authenticate_agents && !self.authenticated.contains_key(from) {
            self.metrics.agents_refused.fetch_add(1, Relaxed);
            return Err(RegistrationRefusal::AgentNotAuthenticated(from.clone()));
        }
        Ok(())
    }

    /// `pid`'s connection broke: what it proved is void.
    pub(crate) fn exited(&mut self, pid: &Upid) {
        self.authenticated.remove(pid);
        if let Some(authenticator) = &mut self.authenticator {
            authenticator.forget(pid);
        }
    }
}

/// Which HTTP authentication setting covers a request to the master's runtime (Mesos's realms).
pub fn master_realm(request: &process::http::Request) -> mesos::auth::http::Realm {
    use mesos::auth::http::Realm;
    let path = request.path.trim_end_matches('/');
    match path {
        // The web UI's page and assets, health and version are always open (the page asks for
        // credentials through the endpoints it reads).
        "" | "/health" | "/master/health" | "/version" | "/webui/app.js" | "/webui/app.css" => {
            Realm::Open
        }
        "/api/v1/scheduler" | "/master/api/v1/scheduler" => Realm::Frameworks,
        "/master/teardown" | "/teardown" => Realm::ReadWrite,
        _ if path.starts_with("/api/v1") || path.starts_with("/master/api/v1") => Realm::ReadWrite,
        _ => Realm::ReadOnly,
    }
}
