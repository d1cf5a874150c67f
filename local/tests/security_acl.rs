//! Authorization by `--acls` (issue 14), end to end over real TCP with the `mesos-master`,
//! `mesos-agent` and `mesos-execute` binaries and an ACL file in Mesos's JSON form: a
//! registration with a role the principal may not use is refused naming the role, a task as a
//! user the principal may not run as gets TASK_ERROR (REASON_TASK_UNAUTHORIZED), a teardown by
//! a principal that may not gets `403`, and an ACL file that does not parse stops the master.

mod util;

use std::process::Command;

use process::testing::{wait_until, BoundedCommand};
use util::bins::*;
use util::WAIT;

const CREDENTIALS: &str = r#"{"credentials":[
    {"principal":"fw","secret":"fw-secret"},
    {"principal":"other","secret":"other-secret"},
    {"principal":"ops","secret":"ops-secret"},
    {"principal":"dev","secret":"dev-secret"}]}"#;

/// `fw` may register with role `dev` only and run tasks as `nobody` only; `other` may register
/// with any role; only `ops` may tear down frameworks; everything else is refused.
const ACLS: &str = r#"{
  "permissive": false,
  "register_frameworks": [
    {"principals": {"values": ["fw"]}, "roles": {"values": ["dev"]}},
    {"principals": {"values": ["other"]}, "roles": {"type": "ANY"}}
  ],
  "run_tasks": [
    {"principals": {"values": ["fw", "other"]}, "users": {"values": ["nobody"]}}
  ],
  "teardown_frameworks": [
    {"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}
  ],
  "view_frameworks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}],
  "view_tasks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}],
  "view_executors": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}],
  "get_endpoints": [{"principals": {"type": "ANY"}, "paths": {"type": "ANY"}}]
}"#;

fn metric(addr: &str, name: &str) -> f64 {
    get_json(addr, "/metrics/snapshot", None)[name]
        .as_f64()
        .unwrap_or(-1.0)
}

/// The binaries with `--acls=<file>`: registrations, tasks and teardowns each allowed or
/// refused as the rules say, with the refusal's reason on the caller's side.
#[test]
fn acls_authorize_registrations_tasks_and_teardowns() {
    let files = Scratch::new("acl-bin");
    let credentials = files.write("credentials.json", CREDENTIALS);
    let acls = files.write("acls.json", ACLS);
    let (_master, addr) = start_master(&[
        format!("--credentials={}", credentials.display()),
        format!("--http_credentials={}", credentials.display()),
        format!("--acls={}", acls.display()),
    ]);
    let _agent = start_agent(&addr, &files.path("agent"), &[]);
    wait_until("the agent registers", WAIT, || {
        metric(&addr, "master/slaves_active") == 1.0
    });
    let run = |principal: &str, role: &str, user: &str| {
        let secret = format!("{principal}-secret");
        let out = execute(
            &addr,
            &[
                "--name=acl-task",
                "--command=echo authorized",
                &format!("--principal={principal}"),
                &format!("--secret={secret}"),
                &format!("--role={role}"),
                &format!("--user={user}"),
            ],
        );
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };

    // Allowed: fw, role dev, user nobody.
    let (code, stdout, stderr) = run("fw", "dev", "nobody");
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("TASK_FINISHED"), "{stdout}");

    // A role fw may not register with: refused, naming the role.
    let (code, stdout, stderr) = run("fw", "web", "nobody");
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("not authorized to register with role 'web'"),
        "{stderr}"
    );
    // `other` may register with any role ...
    let (code, stdout, stderr) = run("other", "web", "nobody");
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");

    // ... but no one may run tasks as root: TASK_ERROR saying why.
    let (code, stdout, _) = run("other", "web", "root");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("TASK_ERROR"), "{stdout}");
    assert!(stdout.contains("REASON_TASK_UNAUTHORIZED"), "{stdout}");
    assert!(
        stdout.contains("may not run tasks as user 'root'"),
        "{stdout}"
    );

    // Teardown: a long task's framework; dev is refused (403), ops is allowed.
    let (_long, lines) = execute_in_background(
        &addr,
        &[
            "--name=long",
            "--command=sleep 60",
            "--principal=fw",
            "--secret=fw-secret",
            "--role=dev",
            "--user=nobody",
        ],
    );
    let id = lines.expect_within("the framework id", WAIT);
    let id = id
        .strip_prefix("Subscribed with ID ")
        .unwrap_or_else(|| panic!("{id}"))
        .trim()
        .to_string();
    let form = format!("frameworkId={id}");
    let dev = Some(("dev", "dev-secret"));
    let (status, body) = http(&addr, "POST", "/master/teardown", dev, &form);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("'dev'") && body.contains("'fw'"), "{body}");
    let (status, body) = http(&addr, "POST", "/master/teardown", None, &form);
    assert_eq!(status, 403, "{body}");
    let call = format!(r#"{{"type":"TEARDOWN","teardown":{{"framework_id":{{"value":"{id}"}}}}}}"#);
    let (status, body) = http(&addr, "POST", "/api/v1", dev, &call);
    assert_eq!(status, 403, "{body}");
    let state = get_json(&addr, "/master/state", None);
    assert!(state["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == id.as_str()));
    let (status, body) = http(
        &addr,
        "POST",
        "/master/teardown",
        Some(("ops", "ops-secret")),
        &form,
    );
    assert_eq!(status, 200, "{body}");
    wait_until("the framework is gone", WAIT, || {
        let state = get_json(&addr, "/master/state", None);
        !state["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == id.as_str())
    });
}

/// An ACL file that does not parse stops the master at once, exit code non-zero, naming the
/// flag and the error; so does a missing file.
#[test]
fn master_refuses_to_start_with_a_bad_acl_file() {
    let files = Scratch::new("acl-bad");
    let bin = process::testing::ensure_binary("master", "mesos-master");
    for (content, expected) in [
        (
            r#"{"run_tasks": [{"principals": {"type": "ALL"}, "users": {"type": "ANY"}}]}"#,
            "run_tasks[0]: 'principals': unknown type",
        ),
        (r#"{"run_taks": []}"#, "unknown ACL 'run_taks'"),
        ("{not json", "bad JSON"),
    ] {
        let path = files.write("acls.json", content);
        let out = Command::new(&bin)
            .args(["--port=0"])
            .arg(format!("--acls={}", path.display()))
            .output_within("mesos-master with a bad ACL file", WAIT);
        assert_ne!(out.status.code(), Some(0));
        assert!(out.status.code().is_some(), "killed, not exited");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("--acls") && stderr.contains(expected),
            "{stderr}"
        );
    }
    let out = Command::new(&bin)
        .args(["--port=0", "--acls=/nonexistent/acls.json"])
        .output_within("mesos-master with a missing ACL file", WAIT);
    assert_ne!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--acls") && stderr.contains("/nonexistent/acls.json"),
        "{stderr}"
    );
}

/// `fw` sees what runs as `nobody`, `ops` sees everything, anyone else nothing.
const VIEW_ACLS: &str = r#"{
  "view_frameworks": [
    {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
    {"principals": {"values": ["fw"]}, "users": {"values": ["nobody"]}},
    {"principals": {"type": "NONE"}, "users": {"type": "ANY"}}
  ],
  "view_tasks": [
    {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
    {"principals": {"values": ["fw"]}, "users": {"values": ["nobody"]}},
    {"principals": {"type": "NONE"}, "users": {"type": "ANY"}}
  ],
  "view_executors": [
    {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
    {"principals": {"type": "NONE"}, "users": {"type": "ANY"}}
  ],
  "get_endpoints": [
    {"principals": {"values": ["ops"]}, "paths": {"values": ["/flags"]}},
    {"principals": {"type": "NONE"}, "paths": {"values": ["/flags"]}}
  ],
  "access_sandboxes": [
    {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
    {"principals": {"type": "NONE"}, "users": {"type": "ANY"}}
  ]
}"#;

fn framework_ids(state: &serde_json::Value, key: &str) -> Vec<String> {
    state[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {state}"))
        .iter()
        .map(|f| f["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// State endpoints show each principal the frameworks and tasks of the users it may view;
/// `get_endpoints` guards `/flags`; `access_sandboxes` guards the agent's files API.
#[test]
fn acls_filter_state_and_guard_endpoints_and_sandboxes() {
    let files = Scratch::new("acl-view");
    let credentials = files.write("credentials.json", CREDENTIALS);
    let acls = files.write("acls.json", VIEW_ACLS);
    let (_master, addr) = start_master(&[
        format!("--credentials={}", credentials.display()),
        format!("--http_credentials={}", credentials.display()),
        format!("--acls={}", acls.display()),
    ]);
    let agent = start_agent(
        &addr,
        &files.path("agent"),
        &[
            format!("--http_credentials={}", credentials.display()),
            format!("--acls={}", acls.display()),
        ],
    );
    wait_until("the agent registers", WAIT, || {
        metric(&addr, "master/slaves_active") == 1.0
    });
    let long = |name: &str, principal: &str, user: &str| {
        running_task_as(
            &addr,
            name,
            "echo sandbox-content; sleep 60",
            principal,
            user,
        )
    };
    let (_nobody, nobody_id) = long("as-nobody", "fw", "nobody");
    let (_root, root_id) = long("as-root", "other", "root");

    let ops = Some(("ops", "ops-secret"));
    let fw = Some(("fw", "fw-secret"));
    let dev = Some(("dev", "dev-secret"));
    let mut everyone = vec![nobody_id.clone(), root_id.clone()];
    everyone.sort();

    // /master/state and /state.
    for path in ["/master/state", "/state"] {
        let mut all = framework_ids(&get_json(&addr, path, ops), "frameworks");
        all.sort();
        assert_eq!(all, everyone, "{path}");
        let state = get_json(&addr, path, fw);
        assert_eq!(
            framework_ids(&state, "frameworks"),
            vec![nobody_id.clone()],
            "{path}"
        );
        assert_eq!(state["frameworks"][0]["tasks"].as_array().unwrap().len(), 1);
        // fw may not view executors.
        assert!(state["frameworks"][0]["executors"]
            .as_array()
            .unwrap()
            .is_empty());
        assert!(framework_ids(&get_json(&addr, path, None), "frameworks").is_empty());
        assert!(framework_ids(&get_json(&addr, path, dev), "frameworks").is_empty());
        // Agents are not filtered.
        assert_eq!(
            get_json(&addr, path, dev)["slaves"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // As in Mesos (its SlaveWriter), an agent's resource totals are not filtered: every
        // principal sees the resources used by every task, its own or not (offered resources
        // likewise; they change with each allocation, so they are not compared here).
        let used = |who| get_json(&addr, path, who)["slaves"][0]["used_resources"].clone();
        let all = used(ops);
        assert!(
            all["cpus"].as_f64().unwrap_or(0.0) >= 0.2 - 1e-9,
            "two tasks of 0.1 cpus: {all}"
        );
        for who in [fw, dev, None] {
            assert_eq!(used(who), all, "{path} {who:?}");
        }
    }
    // The same on /master/slaves.
    let slaves =
        |who| get_json(&addr, "/master/slaves", who)["slaves"][0]["used_resources"].clone();
    assert_eq!(slaves(fw), slaves(ops));
    // /master/frameworks, /master/tasks, /master/state-summary.
    let frameworks = get_json(&addr, "/master/frameworks", fw);
    assert_eq!(
        framework_ids(&frameworks, "frameworks"),
        vec![nobody_id.clone()]
    );
    let tasks = get_json(&addr, "/master/tasks", fw);
    let tasks = tasks["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["framework_id"], nobody_id.as_str());
    assert_eq!(
        get_json(&addr, "/master/tasks", ops)["tasks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let summary = get_json(&addr, "/master/state-summary", fw);
    assert_eq!(
        framework_ids(&summary, "frameworks"),
        vec![nobody_id.clone()]
    );
    // The operator API.
    let call = |kind: &str, who| {
        let (status, body) = http(
            &addr,
            "POST",
            "/api/v1",
            who,
            &format!(r#"{{"type":"{kind}"}}"#),
        );
        assert_eq!(status, 200, "{kind}: {body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let state = call("GET_STATE", fw);
    let tasks = state
        .pointer("/get_state/get_tasks/tasks")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(tasks.len(), 1, "{state}");
    assert_eq!(tasks[0]["framework_id"]["value"], nobody_id.as_str());
    let frameworks = call("GET_FRAMEWORKS", fw);
    let frameworks = frameworks
        .pointer("/get_frameworks/frameworks")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(frameworks.len(), 1);
    let tasks = call("GET_TASKS", ops);
    assert_eq!(
        tasks
            .pointer("/get_tasks/tasks")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let executors = call("GET_EXECUTORS", fw);
    assert!(executors
        .pointer("/get_executors/executors")
        .unwrap()
        .as_array()
        .unwrap()
        .is_empty());

    // get_endpoints: /master/flags for ops only; other endpoints are not covered.
    assert_eq!(http(&addr, "GET", "/master/flags", ops, "").0, 200);
    let (status, body) = http(&addr, "GET", "/master/flags", dev, "");
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("'/flags'") && body.contains("'dev'"),
        "{body}"
    );
    assert_eq!(http(&addr, "GET", "/master/flags", None, "").0, 403);
    assert_eq!(http(&addr, "GET", "/metrics/snapshot", dev, "").0, 200);

    // access_sandboxes on the agent's files API: ops only.
    let state = get_json(&addr, "/master/state", ops);
    let agent_addr = state["slaves"][0]["pid"]
        .as_str()
        .unwrap()
        .split('@')
        .nth(1)
        .unwrap()
        .to_string();
    let sandbox = format!("/frameworks/{nobody_id}/executors/as-nobody/runs/latest/stdout");
    let read = format!("/files/read?path={sandbox}&offset=0");
    let (status, body) = http(&agent_addr, "GET", &read, ops, "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("sandbox-content"), "{body}");
    let (status, body) = http(&agent_addr, "GET", &read, fw, "");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("user 'nobody'"), "{body}");
    assert_eq!(http(&agent_addr, "GET", &read, None, "").0, 403);
    let download = format!("/files/download?path={sandbox}");
    assert_eq!(http(&agent_addr, "GET", &download, dev, "").0, 403);
    assert_eq!(http(&agent_addr, "GET", "/flags", fw, "").0, 403);
    drop(agent);
}
