//! The operator event stream (v1 `SUBSCRIBE` on `/api/v1`) filtered per principal (issue 14),
//! end to end: the `mesos-master`, `mesos-agent` and `mesos-execute` binaries, HTTP Basic
//! credentials, and `view_frameworks`/`view_tasks` ACLs. Three principals subscribe; tasks of two
//! users run; each stream carries only the frameworks and tasks its principal may view.

mod util;

use std::net::SocketAddr;

use mesos::auth::http::basic_header;
use mesos::v1::client::{subscribe, Subscription};
use process::testing::{wait_until, ChildGuard};
use serde_json::{json, Value as Json};
use util::bins::*;
use util::WAIT;

const CREDENTIALS: &str = r#"{"credentials":[
    {"principal":"fw","secret":"fw-secret"},
    {"principal":"other","secret":"other-secret"},
    {"principal":"ops","secret":"ops-secret"},
    {"principal":"dev","secret":"dev-secret"}]}"#;

/// `ops` views everything, `fw` what runs as `nobody`, anyone else nothing.
const ACLS: &str = r#"{
  "view_frameworks": [
    {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
    {"principals": {"values": ["fw"]}, "users": {"values": ["nobody"]}},
    {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}
  ],
  "view_tasks": [
    {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
    {"principals": {"values": ["fw"]}, "users": {"values": ["nobody"]}},
    {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}
  ]
}"#;

const OPS: (&str, &str) = ("ops", "ops-secret");
const FW: (&str, &str) = ("fw", "fw-secret");
const DEV: (&str, &str) = ("dev", "dev-secret");

/// `SUBSCRIBE` as `who`: the open stream, or the refusal's status and body.
fn open(addr: &str, who: Option<(&str, &str)>) -> Result<Subscription, (u16, String)> {
    let addr: SocketAddr = addr.parse().unwrap();
    let header = who.map(|(p, s)| basic_header(p, s));
    let headers: Vec<(&str, &str)> = header
        .iter()
        .map(|h| ("Authorization", h.as_str()))
        .collect();
    subscribe(
        addr,
        "/api/v1",
        &headers,
        &json!({"type": "SUBSCRIBE"}),
        WAIT,
    )
    .expect("the subscribe request")
    .map_err(|reply| (reply.status, reply.text()))
}

/// The next event that is not a HEARTBEAT (each read bounded by [`WAIT`]).
fn next(stream: &mut Subscription) -> Json {
    loop {
        let event = stream
            .next_event()
            .expect("reads an event")
            .expect("the stream stays open");
        if event["type"] != "HEARTBEAT" {
            return event;
        }
    }
}

/// The events up to (without) the first AGENT_ADDED, the sentinel every stream gets.
fn until_agent_added(stream: &mut Subscription) -> Vec<Json> {
    let mut events = Vec::new();
    loop {
        let event = next(stream);
        if event["type"] == "AGENT_ADDED" {
            return events;
        }
        events.push(event);
    }
}

/// The types of the events that mention `framework_id`, in order.
fn kinds_of(events: &[Json], framework_id: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.to_string().contains(framework_id))
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A task that runs until killed, as `user`, of a framework authenticated as `principal`;
/// returns the `mesos-execute` child and its framework id once the task runs.
fn long_task(addr: &str, principal: &str, user: &str) -> (ChildGuard, String) {
    running_task_as(addr, &format!("as-{user}"), "sleep 60", principal, user)
}

fn assert_sees_all_of(events: &[Json], framework_id: &str, who: &str) {
    let kinds = kinds_of(events, framework_id);
    for kind in ["FRAMEWORK_ADDED", "TASK_ADDED", "TASK_UPDATED"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{who} lacks {kind} of {framework_id}: {kinds:?} in {events:#?}"
        );
    }
    assert!(
        events.iter().any(|e| e["type"] == "TASK_UPDATED"
            && e.to_string().contains(framework_id)
            && e.to_string().contains("TASK_RUNNING")),
        "{who}: no TASK_RUNNING of {framework_id} in {events:#?}"
    );
}

fn state_framework_ids(subscribed: &Json) -> Vec<String> {
    let mut ids: Vec<String> = subscribed
        .pointer("/subscribed/get_state/get_frameworks/frameworks")
        .and_then(Json::as_array)
        .unwrap_or_else(|| panic!("no frameworks in {subscribed}"))
        .iter()
        .map(|f| {
            f["framework_info"]["id"]["value"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    ids
}

fn state_task_count(subscribed: &Json) -> usize {
    subscribed
        .pointer("/subscribed/get_state/get_tasks/tasks")
        .and_then(Json::as_array)
        .map_or(0, Vec::len)
}

/// Three principals subscribe over HTTP with Basic credentials (none and a wrong secret get
/// `401`); a task as `root` (principal `other`) and one as `nobody` (principal `fw`) run; a second
/// agent's AGENT_ADDED closes the window. `ops` saw both frameworks' FRAMEWORK_ADDED, TASK_ADDED
/// and TASK_UPDATED (TASK_RUNNING), `fw` only those of the `nobody` framework, `dev` none. Late
/// subscribers' SUBSCRIBED state is filtered the same way.
#[test]
fn each_operator_stream_shows_only_what_its_principal_may_view() {
    let files = Scratch::new("acl-events");
    let credentials = files.write("credentials.json", CREDENTIALS);
    let acls = files.write("acls.json", ACLS);
    let (_master, addr) = start_master(&[
        format!("--credentials={}", credentials.display()),
        format!("--http_credentials={}", credentials.display()),
        "--authenticate_http_readonly".into(),
        "--authenticate_http_readwrite".into(),
        format!("--acls={}", acls.display()),
    ]);
    let _agent = start_agent(&addr, &files.path("agent-1"), &[]);
    let agents =
        || get_json(&addr, "/metrics/snapshot", Some(OPS))["master/slaves_active"].as_f64();
    wait_until("the first agent registers", WAIT, || agents() == Some(1.0));

    // Without credentials, or with a wrong secret: 401.
    for who in [None, Some(("fw", "wrong"))] {
        let (status, body) = open(&addr, who).expect_err("refused");
        assert_eq!(status, 401, "{who:?}: {body}");
    }
    let mut streams: Vec<(&str, Subscription)> = [("ops", OPS), ("fw", FW), ("dev", DEV)]
        .into_iter()
        .map(|(name, who)| {
            let mut stream = open(&addr, Some(who)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let subscribed = next(&mut stream);
            assert_eq!(subscribed["type"], "SUBSCRIBED", "{name}: {subscribed}");
            assert!(state_framework_ids(&subscribed).is_empty(), "{subscribed}");
            (name, stream)
        })
        .collect();

    // root's task first and running before nobody's starts, so a leak would come first.
    let (_root, root_id) = long_task(&addr, "other", "root");
    let (_nobody, nobody_id) = long_task(&addr, "fw", "nobody");
    let _sentinel = start_agent(&addr, &files.path("agent-2"), &[]);

    let mut seen = std::collections::HashMap::new();
    for (name, stream) in &mut streams {
        seen.insert(*name, until_agent_added(stream));
    }
    assert_sees_all_of(&seen["ops"], &root_id, "ops");
    assert_sees_all_of(&seen["ops"], &nobody_id, "ops");
    assert_sees_all_of(&seen["fw"], &nobody_id, "fw");
    assert_eq!(
        kinds_of(&seen["fw"], &root_id),
        Vec::<String>::new(),
        "fw saw root's framework: {:#?}",
        seen["fw"]
    );
    let dev: Vec<&Json> = seen["dev"]
        .iter()
        .filter(|e| {
            let kind = e["type"].as_str().unwrap_or_default();
            kind.starts_with("FRAMEWORK_") || kind.starts_with("TASK_")
        })
        .collect();
    assert!(dev.is_empty(), "dev saw {dev:#?}");

    // Late subscribers: the state in SUBSCRIBED is filtered too.
    let mut everyone = vec![root_id.clone(), nobody_id.clone()];
    everyone.sort();
    for (who, frameworks, tasks) in [
        (OPS, everyone, 2),
        (FW, vec![nobody_id.clone()], 1),
        (DEV, vec![], 0),
    ] {
        let mut stream = open(&addr, Some(who)).unwrap();
        let subscribed = next(&mut stream);
        assert_eq!(state_framework_ids(&subscribed), frameworks, "{}", who.0);
        assert_eq!(
            state_task_count(&subscribed),
            tasks,
            "{}: {subscribed}",
            who.0
        );
    }
}
