//! The ACLs on a node's HTTP endpoints: `get_endpoints` (which principal may read `/flags`,
//! `/metrics/snapshot`, ...) and a node's own checks (the agent's `access_sandboxes`), run in
//! the runtime's HTTP guard after authentication, before routing: `403` when refused.

use std::sync::Arc;

use process::http::{HttpGuard, Request, Response};

use super::{Acls, Action};
use crate::auth::http::{HttpAuth, HttpPrincipal};

/// The endpoints `get_endpoints` covers, named without their process (`/master/flags` and
/// `/slave(1)/flags` are both `/flags`).
pub const AUTHORIZABLE_ENDPOINTS: &[&str] = &[
    "/flags",
    "/metrics/snapshot",
    "/logging/toggle",
    "/files/debug",
    "/files/debug.json",
    "/monitor/statistics",
    "/monitor/statistics.json",
    "/containers",
];

/// The `get_endpoints` object of a request path: the authorizable endpoint it names, if any.
pub fn endpoint_of(path: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    AUTHORIZABLE_ENDPOINTS.iter().copied().find(|endpoint| {
        path == *endpoint
            || path
                .strip_suffix(endpoint)
                .is_some_and(|prefix| prefix.starts_with('/') && !prefix[1..].contains('/'))
    })
}

/// A node's further check of an authenticated request: `Some(403 body)` refuses it.
pub type Check = Arc<dyn Fn(&Request, Option<&str>) -> Option<String> + Send + Sync>;

/// The runtime's guard: `authentication` first (if any), then `get_endpoints`, then `check`.
/// `None` when there is nothing to guard.
pub fn guard(
    authentication: Option<HttpGuard>,
    http: HttpAuth,
    acls: Arc<Acls>,
    check: Option<Check>,
) -> Option<HttpGuard> {
    let endpoints = acls.restricts(Action::GetEndpoints);
    if !endpoints && check.is_none() {
        return authentication;
    }
    Some(Arc::new(move |request: &Request| {
        if let Some(refused) = authentication.as_ref().and_then(|guard| guard(request)) {
            return Some(refused);
        }
        let principal = match http.principal(request) {
            HttpPrincipal::Authenticated(principal) => Some(principal),
            _ => None,
        };
        let refusal = endpoint_refusal(&acls, request, principal.as_deref()).or_else(|| {
            check
                .as_ref()
                .and_then(|c| c(request, principal.as_deref()))
        })?;
        tracing::info!(path = %request.path, %refusal, "HTTP request refused: 403");
        Some(Response::text(403, format!("403 Forbidden: {refusal}\n")))
    }))
}

fn endpoint_refusal(acls: &Acls, request: &Request, principal: Option<&str>) -> Option<String> {
    let endpoint = endpoint_of(&request.path)?;
    if acls.allows(Action::GetEndpoints, principal, Some(endpoint)) {
        return None;
    }
    Some(format!(
        "principal {} may not access endpoint '{endpoint}' (--acls get_endpoints)",
        principal.map_or("(none)".to_string(), |p| format!("'{p}'"))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_named_without_their_process() {
        assert_eq!(endpoint_of("/flags"), Some("/flags"));
        assert_eq!(endpoint_of("/master/flags"), Some("/flags"));
        assert_eq!(endpoint_of("/slave(1)/flags/"), Some("/flags"));
        assert_eq!(endpoint_of("/metrics/snapshot"), Some("/metrics/snapshot"));
        assert_eq!(endpoint_of("/master/state"), None);
        assert_eq!(endpoint_of("/a/b/flags"), None);
        assert_eq!(endpoint_of("/masterflags"), None);
    }
}
