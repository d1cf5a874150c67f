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
use process::http::{Request, Response};
use process::{Handlers, Process};
use serde_json::Value as Json;

use crate::core::MasterCore;
use crate::leadership::Leadership;

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
    pub(crate) last_summary: Option<(std::time::Instant, usize, Vec<u8>)>,
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
        h.route(
            "/summary",
            |this: &mut WebUiAssets, ctx, request: &Request| {
                let limit = match count(request, "limit", 50) {
                    Ok(limit) => limit,
                    Err(response) => return response,
                };
                let now = ctx.now();
                let fresh = this.last_summary.as_ref().is_some_and(|(at, cached, _)| {
                    *cached == limit && now.saturating_duration_since(*at) < SUMMARY_REUSE
                });
                if !fresh {
                    let mut json = summary::summary(&this.core.lock(), &this.flags, limit);
                    this.leadership.apply_to_state(&mut json);
                    let body = serde_json::to_vec(&json).unwrap_or_default();
                    this.last_summary = Some((now, limit, body));
                }
                let body = this
                    .last_summary
                    .as_ref()
                    .map(|(_, _, body)| body.clone())
                    .unwrap_or_default();
                Response::new(
                    200,
                    vec![("Content-Type".into(), "application/json".into())],
                    body,
                )
            },
        );
        h.route("/tasks", |this: &mut WebUiAssets, _, request: &Request| {
            let (offset, limit) = match (count(request, "offset", 0), count(request, "limit", 50)) {
                (Ok(offset), Ok(limit)) => (offset, limit),
                (Err(response), _) | (_, Err(response)) => return response,
            };
            let query = summary::TaskQuery {
                state: request.query_param("state").filter(|s| !s.is_empty()),
                text: request.query_param("q").filter(|s| !s.is_empty()),
                offset,
                limit,
            };
            Response::ok_json(&summary::tasks(&this.core.lock(), &query))
        });
    }
}
