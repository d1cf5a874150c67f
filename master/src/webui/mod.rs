//! The web UI: a single page of plain JavaScript, embedded in the binary and served by the
//! master at `/` (the page) and `/webui/...` (its script and style sheet). No build step, no
//! CDN: every URL the page uses is relative, so it also works behind a proxy that puts the
//! master under a path prefix. It reads `/master/state` once, then follows the operator event
//! stream (`SUBSCRIBE` on `/api/v1`) when the master offers it, falling back to polling; task
//! sandboxes and logs come through the master's agent proxy ([`proxy`]) and `/files`.

pub mod proxy;

use process::http::{Request, Response};
use process::{Handlers, Process};

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

/// Serves the page's script and style sheet.
pub(crate) struct WebUiAssets;

impl Process for WebUiAssets {
    fn handlers(h: &mut Handlers<Self>) {
        h.route("/app.js", |_: &mut WebUiAssets, _, _: &Request| {
            asset("text/javascript; charset=utf-8", APP_JS)
        });
        h.route("/app.css", |_: &mut WebUiAssets, _, _: &Request| {
            asset("text/css; charset=utf-8", APP_CSS)
        });
    }
}
