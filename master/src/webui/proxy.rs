//! `/agent/<agent id>/...`: the master forwards a few read-only agent endpoints (the files API,
//! the agent's state, its usage statistics and metrics), so the web UI works when the browser
//! can reach only the master — Mesos's UI talks to every agent directly and breaks then.
//!
//! The route is deferred: the request to the agent runs on a short-lived thread that completes
//! the responder, so the master process never waits on an agent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mesos::v1::client::Client;
use mesos::AgentId;
use parking_lot::Mutex;
use process::http::{Request, Responder, Response};
use process::{Handlers, Process};

use crate::core::MasterCore;

/// The agent endpoints the master forwards (the path after `/agent/<agent id>`).
pub const PROXIED_ENDPOINTS: &[&str] = &[
    "/files/browse",
    "/files/browse.json",
    "/files/read",
    "/files/read.json",
    "/files/download",
    "/slave(1)/state",
    "/slave(1)/state.json",
    "/monitor/statistics",
    "/monitor/statistics.json",
    "/metrics/snapshot",
];

/// How long the master waits for an agent's answer.
pub const PROXY_TIMEOUT: Duration = Duration::from_secs(10);

/// Headers of the agent's answer passed on to the browser.
const PASSED_HEADERS: &[&str] = &["content-type", "content-disposition"];

/// The `agent` process on the master's runtime.
pub(crate) struct AgentProxy {
    pub(crate) core: Arc<Mutex<MasterCore>>,
}

/// Where a proxied request goes, or the answer that refuses it.
fn target(core: &MasterCore, endpoint: &str) -> Result<(SocketAddr, String), Response> {
    let rest = endpoint.trim_start_matches('/');
    let (agent_id, path) = match rest.split_once('/') {
        Some((id, path)) => (id, format!("/{path}")),
        None => (rest, String::new()),
    };
    let path = process::http::percent_decode(&path);
    if !PROXIED_ENDPOINTS.contains(&path.trim_end_matches('/')) {
        return Err(Response::not_found(&format!(
            "the master forwards only these agent endpoints: /agent/<agent id>{{{}}}",
            PROXIED_ENDPOINTS.join(",")
        )));
    }
    let agent_id = process::http::percent_decode(agent_id);
    match core.agents().get(&AgentId::new(agent_id.clone())) {
        Some(agent) => Ok((agent.pid.addr(), path.trim_end_matches('/').to_string())),
        None => Err(Response::not_found(&format!(
            "No agent with ID '{agent_id}' is registered with this master"
        ))),
    }
}

/// Forwards `request` to `addr` + `path` (its query kept) and answers with what the agent said.
fn forward(addr: SocketAddr, path: String, request: Request, responder: Responder) {
    let target = if request.query.is_empty() {
        path
    } else {
        format!("{path}?{}", request.query)
    };
    let mut client = Client::new(addr, PROXY_TIMEOUT);
    let response = match client.request("GET", &target, &[], &[]) {
        Ok(reply) => {
            let headers = reply
                .headers
                .iter()
                .filter(|(name, _)| PASSED_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)))
                .cloned()
                .collect();
            Response::new(reply.status, headers, reply.body)
        }
        Err(error) => Response::text(
            502,
            format!("the master cannot reach the agent at {addr}: {error}"),
        ),
    };
    responder.respond(response);
}

impl Process for AgentProxy {
    fn handlers(h: &mut Handlers<Self>) {
        h.route_deferred(
            "/",
            |this: &mut AgentProxy, _, request: Request, responder: Responder| {
                if request.method != "GET" && request.method != "HEAD" {
                    return responder.respond(Response::method_not_allowed(
                        &["GET", "HEAD"],
                        &request.method,
                    ));
                }
                let endpoint = request
                    .path
                    .strip_prefix("/agent")
                    .unwrap_or_default()
                    .to_string();
                let (addr, path) = match target(&this.core.lock(), &endpoint) {
                    Ok(target) => target,
                    Err(refusal) => return responder.respond(refusal),
                };
                let spawned = std::thread::Builder::new()
                    .name("agent-proxy".into())
                    .spawn(move || forward(addr, path, request, responder));
                if let Err(error) = spawned {
                    // The responder went with the closure: dropped, it answers 500.
                    tracing::warn!(%error, "cannot start an agent proxy thread");
                }
            },
        );
    }
}
