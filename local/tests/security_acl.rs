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
