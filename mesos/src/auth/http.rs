//! HTTP Basic authentication of a node's endpoints (Mesos's default HTTP authenticator):
//! `--authenticate_http_readonly`, `--authenticate_http_readwrite`,
//! `--authenticate_http_frameworks` with `--http_credentials`. A request to a guarded realm
//! without valid credentials gets `401` with `WWW-Authenticate: Basic realm="..."`.
//!
//! [`HttpAuth::guard`] makes a [`process::http::HttpGuard`], which the runtime runs before
//! routing any request, so every endpoint of the node is covered.

use std::sync::Arc;

use process::http::{HttpGuard, Request, Response};

use super::Credentials;

/// Which authentication setting covers an endpoint (Mesos's realms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    /// Endpoints that change nothing (`/master/state`, `/metrics/snapshot`, `/files/read`).
    ReadOnly,
    /// Endpoints that change the cluster (`/api/v1` operator calls, `/master/teardown`).
    ReadWrite,
    /// The v1 scheduler API (`/api/v1/scheduler`).
    Frameworks,
    /// Never authenticated (`/health`, `/version`, the web UI's page, the executor API).
    Open,
}

/// The HTTP authentication settings of a node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpAuth {
    /// `--http_credentials`: who may authenticate.
    pub credentials: Option<Credentials>,
    /// `--authenticate_http_readonly`.
    pub readonly: bool,
    /// `--authenticate_http_readwrite`.
    pub readwrite: bool,
    /// `--authenticate_http_frameworks` (master only).
    pub frameworks: bool,
}

/// What a request's credentials say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpPrincipal {
    /// No `Authorization` header.
    Anonymous,
    /// Valid Basic credentials of this principal.
    Authenticated(String),
    /// A header that does not parse, or a wrong principal or secret.
    Invalid(String),
}

impl HttpAuth {
    /// Whether `realm` needs authentication.
    pub fn requires(&self, realm: Realm) -> bool {
        match realm {
            Realm::ReadOnly => self.readonly,
            Realm::ReadWrite => self.readwrite,
            Realm::Frameworks => self.frameworks,
            Realm::Open => false,
        }
    }

    /// Whether any realm is guarded.
    pub fn enabled(&self) -> bool {
        self.readonly || self.readwrite || self.frameworks
    }

    /// Who `request` authenticates as.
    pub fn principal(&self, request: &Request) -> HttpPrincipal {
        let Some(header) = request.header("authorization") else {
            return HttpPrincipal::Anonymous;
        };
        match parse_basic(header) {
            Err(error) => HttpPrincipal::Invalid(error),
            Ok((principal, secret)) => match &self.credentials {
                Some(c) if c.check(&principal, &secret) => HttpPrincipal::Authenticated(principal),
                _ => HttpPrincipal::Invalid("wrong principal or secret".to_string()),
            },
        }
    }

    /// The runtime guard: `classify` says which realm a request is in (with `realm_prefix`,
    /// e.g. `mesos-master`, naming the realms in `WWW-Authenticate`).
    pub fn guard(self, realm_prefix: &'static str, classify: fn(&Request) -> Realm) -> HttpGuard {
        Arc::new(move |request: &Request| {
            let realm = classify(request);
            if !self.requires(realm) {
                return None;
            }
            let why = match self.principal(request) {
                HttpPrincipal::Authenticated(_) => return None,
                HttpPrincipal::Anonymous => "authentication required".to_string(),
                HttpPrincipal::Invalid(why) => why,
            };
            let name = match realm {
                Realm::ReadOnly => "readonly",
                Realm::ReadWrite => "readwrite",
                Realm::Frameworks => "scheduler",
                Realm::Open => "open",
            };
            tracing::info!(path = %request.path, %why, "HTTP request refused: 401");
            Some(
                Response::text(401, format!("401 Unauthorized: {why}\n")).with_header(
                    "WWW-Authenticate",
                    format!("Basic realm=\"{realm_prefix}-{name}\""),
                ),
            )
        })
    }
}

/// `Basic base64(principal:secret)`.
///
/// # Errors
/// What is malformed.
pub fn parse_basic(header: &str) -> Result<(String, String), String> {
    let mut parts = header.trim().splitn(2, ' ');
    let scheme = parts.next().unwrap_or_default();
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(format!("unsupported authentication scheme '{scheme}'"));
    }
    let encoded = parts.next().unwrap_or_default().trim();
    let decoded =
        crate::base64_decode(encoded).map_err(|e| format!("bad Basic credentials: {e}"))?;
    let text = String::from_utf8(decoded).map_err(|_| "bad Basic credentials: not UTF-8")?;
    let (principal, secret) = text
        .split_once(':')
        .ok_or("bad Basic credentials: expected principal:secret")?;
    Ok((principal.to_string(), secret.to_string()))
}

/// The `Authorization` header value for `principal` and `secret`.
pub fn basic_header(principal: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        crate::base64_encode(format!("{principal}:{secret}").as_bytes())
    )
}
