//! HTTP routes on the runtime's port: `/{process id}/{endpoint}`.
mod util;

use process::http::Response;
use process::{Handlers, Process};
use serde::Serialize;
use util::{http_get, http_request, runtime, Ping, PATIENCE};

#[derive(Default)]
struct Master {
    pings: u64,
}

#[derive(Serialize)]
struct State {
    pings: u64,
    id: String,
}

impl Process for Master {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers
            .on(|this: &mut Self, _ctx, _from, _ping: Ping| this.pings += 1)
            .route("/state", |this: &mut Self, ctx, _request| {
                Response::ok_json(&State {
                    pings: this.pings,
                    id: ctx.upid().id().to_string(),
                })
            })
            .route("/echo", |_this: &mut Self, _ctx, request| {
                match request.query_param("word") {
                    Some(word) => Response::ok_json(&word),
                    None => Response::bad_request("missing ?word="),
                }
            })
            .route("/crash", |_this: &mut Self, _ctx, _request| {
                panic!("route crash")
            });
    }
}

#[test]
fn routes_answer_with_json_served_on_the_process() {
    let node = runtime();
    let master = node.spawn("master", Master::default()).unwrap();
    node.send(&master, Ping(1));
    node.send(&master, Ping(2));
    let (status, body) = http_get(node.addr(), "/master/state");
    assert_eq!(status, 200);
    let state: serde_json::Value = serde_json::from_str(&body).unwrap();
    // The request queued behind the two pings: handled serially with messages.
    assert_eq!(state, serde_json::json!({"pings": 2, "id": "master"}));
    let (status, body) = http_get(node.addr(), "/master/echo?word=hi%20there");
    assert_eq!((status, body.as_str()), (200, "\"hi there\""));
    assert_eq!(http_get(node.addr(), "/master/echo").0, 400);
}

#[test]
fn unknown_routes_and_processes_get_404_json() {
    let node = runtime();
    node.spawn("master", Master::default()).unwrap();
    for path in ["/master/nope", "/nobody/state", "/"] {
        let (status, body) = http_get(node.addr(), path);
        assert_eq!(status, 404, "{path}");
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(error["error"].is_string(), "{path}: {body}");
    }
    let (status, body) = http_get(node.addr(), "/__processes__");
    assert_eq!((status, body.as_str()), (200, "[\"master\"]"));
}

#[test]
fn malformed_requests_get_400_and_the_runtime_keeps_serving() {
    let node = runtime();
    node.spawn("master", Master::default()).unwrap();
    let (status, _) = http_request(
        node.addr(),
        "GET /master/state HTTP/1.1\r\nBad Header\r\n\r\n",
    );
    assert_eq!(status, 400);
    let (status, _) = http_request(node.addr(), "GARBAGE\r\n\r\n");
    assert_eq!(status, 400);
    assert_eq!(http_get(node.addr(), "/master/state").0, 200);
}

#[test]
fn a_panicking_route_answers_500_and_terminates_only_that_process() {
    let node = runtime();
    let master = node.spawn("master", Master::default()).unwrap();
    let other = node.spawn("other", Master::default()).unwrap();
    assert_eq!(http_get(node.addr(), "/master/crash").0, 500);
    assert!(node.wait_timeout(&master, PATIENCE), "master terminates");
    assert!(!other.is_terminated());
    assert_eq!(http_get(node.addr(), "/other/state").0, 200);
}
