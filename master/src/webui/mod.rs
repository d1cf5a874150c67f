//! The web UI: a single page of plain JavaScript, embedded in the binary and served by the
//! master at `/` (the page) and `/webui/...` (its script and style sheet). No build step, no
//! CDN: every URL the page uses is relative, so it also works behind a proxy that puts the
//! master under a path prefix. It reads `/master/state` once, then follows the operator event
//! stream (`SUBSCRIBE` on `/api/v1`) when the master offers it, falling back to polling; task
//! sandboxes and logs come through the master's agent proxy ([`proxy`]) and `/files`.

pub mod proxy;
pub mod summary;

use std::sync::Arc;

use parking_lot::Mutex;
use process::http::{Request, Responder, Response};
use process::{Handlers, Process};
use serde_json::Value as Json;

use crate::core::MasterCore;
use crate::leadership::Leadership;
use crate::snapshot::{answer_off_actor, json_response, Snapshot};

/// The page.
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// Its script.
pub const APP_JS: &str = include_str!("assets/app.js");
/// Its style sheet.
pub const APP_CSS: &str = include_str!("assets/app.css");

/// The process id serving the assets (`/webui/app.js`, `/webui/app.css`).
pub const WEBUI_PROCESS_ID: &str = "webui";

/// Only same-origin requests, no inline script: the page cannot load or send anything
/// elsewhere, whatever an attacker writes into a task name or a log.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'self'";

fn asset(content_type: &str, body: &str) -> Response {
    Response::new(
        200,
        vec![
            ("Content-Type".into(), content_type.into()),
            ("Cache-Control".into(), "no-cache".into()),
            (
                "Content-Security-Policy".into(),
                CONTENT_SECURITY_POLICY.into(),
            ),
            ("X-Content-Type-Options".into(), "nosniff".into()),
        ],
        body.as_bytes().to_vec(),
    )
}

/// `/`: the page. Any other path that reaches the master's root route is not one of its
/// endpoints (answered as the router answers unknown endpoints).
pub(crate) fn root(request: &Request) -> Response {
    if request.path == "/" || request.path == "/index.html" {
        return asset("text/html; charset=utf-8", INDEX_HTML);
    }
    Response::json(
        404,
        &serde_json::json!({
            "error": format!("process 'master' has no endpoint '{}'", request.path)
        }),
    )
}

/// Serves the page's script and style sheet, and what the page reads on a big cluster
/// (`/webui/summary`, `/webui/tasks`, see [`summary`]).
pub(crate) struct WebUiAssets {
    pub(crate) core: Arc<Mutex<MasterCore>>,
    pub(crate) flags: Arc<Json>,
    pub(crate) leadership: Arc<Leadership>,
    /// The last summary: when, for which limit, and its body. On a big cluster a summary holds
    /// the core for tens of milliseconds, so however many pages poll, it is made at most once
    /// per [`SUMMARY_REUSE`].
    pub(crate) last_summary: Option<(std::time::Instant, usize, Arc<[u8]>)>,
}

/// How long a summary is reused.
pub const SUMMARY_REUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// A non-negative integer query parameter, `default` when absent.
fn count(request: &Request, key: &str, default: usize) -> Result<usize, Response> {
    match request.query_param(key) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            Response::bad_request(&format!("'{key}={v}' is not a non-negative integer"))
        }),
    }
}

impl Process for WebUiAssets {
    fn handlers(h: &mut Handlers<Self>) {
        h.route("/app.js", |_: &mut WebUiAssets, _, _: &Request| {
            asset("text/javascript; charset=utf-8", APP_JS)
        });
        h.route("/app.css", |_: &mut WebUiAssets, _, _: &Request| {
            asset("text/css; charset=utf-8", APP_CSS)
        });
        h.route_deferred(
            "/summary",
            |this: &mut WebUiAssets, ctx, request: Request, responder: Responder| {
                let limit = match count(&request, "limit", 50) {
                    Ok(limit) => limit,
                    Err(response) => return responder.respond(response),
                };
                let now = ctx.now();
                let fresh = this.last_summary.as_ref().filter(|(at, cached, _)| {
                    *cached == limit && now.saturating_duration_since(*at) < SUMMARY_REUSE
                });
                if let Some((_, _, body)) = fresh {
                    return responder.respond(json_response(body.to_vec()));
                }
                // Rendered off the master actor from a snapshot; the body comes back here to
                // be reused.
                let snapshot = Snapshot::take(&this.core.lock());
                let (flags, leadership) = (this.flags.clone(), this.leadership.clone());
                let (runtime, pid) = (ctx.runtime().clone(), ctx.pid());
                answer_off_actor(responder, move || {
                    let mut json = summary::summary(&snapshot, &flags, limit);
                    leadership.apply_to_state(&mut json);
                    let body: Arc<[u8]> = serde_json::to_vec(&json).unwrap_or_default().into();
                    let kept = body.clone();
                    drop(runtime.dispatch(&pid, move |this: &mut WebUiAssets, _| {
                        this.last_summary = Some((now, limit, kept));
                    }));
                    json_response(body.to_vec())
                });
            },
        );
        h.route_deferred(
            "/tasks",
            |this: &mut WebUiAssets, _, request: Request, responder: Responder| {
                let (offset, limit) =
                    match (count(&request, "offset", 0), count(&request, "limit", 50)) {
                        (Ok(offset), Ok(limit)) => (offset, limit),
                        (Err(response), _) | (_, Err(response)) => {
                            return responder.respond(response)
                        }
                    };
                let query = summary::TaskQuery {
                    state: request.query_param("state").filter(|s| !s.is_empty()),
                    text: request.query_param("q").filter(|s| !s.is_empty()),
                    offset,
                    limit,
                };
                let snapshot = Snapshot::take(&this.core.lock());
                answer_off_actor(responder, move || {
                    Response::ok_json(&summary::tasks(&snapshot, &query))
                });
            },
        );
    }
}
