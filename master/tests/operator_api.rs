//! The v1 operator API (`POST /api/v1`, `/api/v1/operator`) and the legacy endpoints tools read,
//! over real sockets.

mod util;

use ::master::MasterConfig;
use mesos::protocol::*;
use mesos::v1::client::Client;
use mesos::*;
use serde_json::{json, Value as Json};
use util::*;

fn call(client: &mut Client, path: &str, kind: &str) -> Json {
    let reply = client.post(path, &[], &json!({ "type": kind })).unwrap();
    assert_eq!(reply.status, 200, "{kind}: {}", reply.text());
    let answer = reply.json().unwrap();
    assert_eq!(answer["type"], kind);
    answer[kind.to_ascii_lowercase()].clone()
}

/// A master with one agent running one task of one framework.
fn busy_master() -> (
    process::Runtime,
    ::master::MasterHandle,
    [Peer; 2],
    FrameworkId,
) {
    let (rt, master) = start_master(MasterConfig::default());
    let (mut agent, agent_id) = register_agent(
        &master,
        "slave(1)",
        AgentInfo::new("node-1").with_resources("cpus:4;mem:1024".parse().unwrap()),
    );
    let (mut scheduler, framework_id) = register_framework(
        &master,
        "scheduler-1",
        FrameworkInfo::new("u", "fw").with_role("web"),
    );
    let executor = ExecutorInfo::new(ExecutorId::new("e1"), CommandInfo::shell("./exec"))
        .with_resources("cpus:0.1;mem:32".parse().unwrap());
    launch_on_next_offer(
        &mut scheduler,
        &master,
        &framework_id,
        vec![
            TaskInfo::new("t1", "one", agent_id, "cpus:1;mem:128".parse().unwrap())
                .with_executor(executor),
        ],
    );
    agent.expect::<RunTaskMessage>();
    // Both peers stay up: a closed scheduler connection would end the framework.
    (rt, master, [agent, scheduler], framework_id)
}

#[test]
fn every_implemented_call_answers_in_v1_json_and_the_rest_is_501() {
    let (rt, master, _peers, framework_id) = busy_master();
    let mut client = Client::new(rt.addr(), PATIENCE);
    for path in ["/api/v1", "/api/v1/operator", "/master/api/v1"] {
        assert_eq!(
            call(&mut client, path, "GET_HEALTH"),
            json!({"healthy": true})
        );
    }
    let flags = call(&mut client, "/api/v1", "GET_FLAGS");
    assert!(flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "allocation_interval"));
    let version = call(&mut client, "/api/v1", "GET_VERSION");
    assert_eq!(version["version_info"]["version"], mesos::VERSION);
    let metrics = call(&mut client, "/api/v1", "GET_METRICS");
    assert!(metrics["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["name"] == "master/elected" && m["value"] == 1.0));
    assert_eq!(
        call(&mut client, "/api/v1", "GET_LOGGING_LEVEL")["level"],
        0
    );
    let info = call(&mut client, "/api/v1", "GET_MASTER");
    assert_eq!(info["master_info"]["id"], master.info().id.as_str());
    let agents = call(&mut client, "/api/v1", "GET_AGENTS");
    let agent = &agents["agents"][0];
    assert_eq!(agent["agent_info"]["hostname"], "node-1");
    assert_eq!(agent["active"], true);
    assert!(agent["registered_time"]["nanoseconds"].as_i64().unwrap() > 0);
    assert_eq!(agent["allocated_resources"][0]["name"], "cpus");
    let frameworks = call(&mut client, "/api/v1", "GET_FRAMEWORKS");
    assert_eq!(
        frameworks["frameworks"][0]["framework_info"]["id"]["value"],
        framework_id.as_str()
    );
    assert_eq!(frameworks["frameworks"][0]["framework_info"]["role"], "web");
    let executors = call(&mut client, "/api/v1", "GET_EXECUTORS");
    assert_eq!(
        executors["executors"][0]["executor_info"]["executor_id"]["value"],
        "e1"
    );
    let tasks = call(&mut client, "/api/v1", "GET_TASKS");
    let task = &tasks["tasks"][0];
    assert_eq!(
        (task["task_id"]["value"].clone(), task["state"].clone()),
        (json!("t1"), json!("TASK_STAGING"))
    );
    assert_eq!(task["framework_id"]["value"], framework_id.as_str());
    let state = call(&mut client, "/api/v1", "GET_STATE");
    assert_eq!(state["get_tasks"], tasks);
    assert_eq!(state["get_agents"], agents);
    let roles = call(&mut client, "/api/v1", "GET_ROLES");
    assert_eq!(roles["roles"][0]["name"], "web");
    assert_eq!(
        roles["roles"][0]["frameworks"][0]["value"],
        framework_id.as_str()
    );

    let unimplemented = client
        .post("/api/v1", &[], &json!({"type": "GET_QUOTA"}))
        .unwrap();
    assert_eq!(unimplemented.status, 501);
    assert!(
        unimplemented.text().contains("GET_QUOTA"),
        "{}",
        unimplemented.text()
    );
    assert_eq!(
        client.request("GET", "/api/v1", &[], b"").unwrap().status,
        405
    );
    let protobuf = client
        .post(
            "/api/v1",
            &[("Accept", "application/x-protobuf")],
            &json!({"type": "GET_HEALTH"}),
        )
        .unwrap();
    assert_eq!(protobuf.status, 406);
    assert_eq!(client.post("/api/v1", &[], &json!({})).unwrap().status, 400);

    // TEARDOWN: 200, then the framework is completed; an unknown one is 400.
    let teardown =
        |id: &str| json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": id}}});
    assert_eq!(
        client
            .post("/api/v1", &[], &teardown("nope"))
            .unwrap()
            .status,
        400
    );
    assert_eq!(
        client
            .post("/api/v1", &[], &teardown(framework_id.as_str()))
            .unwrap()
            .status,
        200
    );
    assert_eq!(
        master.state()["completed_frameworks"][0]["id"],
        framework_id.as_str()
    );
}

#[test]
fn legacy_endpoints_tools_read() {
    let (rt, master, _peers, framework_id) = busy_master();
    let addr = rt.addr();
    for path in [
        "/master/tasks",
        "/tasks",
        "/tasks/",
        "/master/tasks?limit=-1&order=desc",
    ] {
        let (status, tasks) = http_get(addr, path);
        assert_eq!(status, 200, "{path}");
        assert_eq!(tasks["tasks"][0]["id"], "t1", "{path}: {tasks}");
    }
    let (_, none) = http_get(addr, "/master/tasks?offset=1");
    assert_eq!(none["tasks"], json!([]));
    let (_, none) = http_get(addr, "/master/tasks?task_id=other");
    assert_eq!(none["tasks"], json!([]));
    let (_, one) = http_get(
        addr,
        &format!("/master/tasks?framework_id={framework_id}&limit=1"),
    );
    assert_eq!(one["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(http_get(addr, "/master/tasks?limit=x").0, 400);
    for path in [
        "/slaves",
        "/master/slaves",
        "/frameworks",
        "/master/frameworks/",
    ] {
        assert_eq!(http_get(addr, path).0, 200, "{path}");
    }
    let (_, summary) = http_get(addr, "/master/state-summary");
    assert_eq!(summary["slaves"][0]["TASK_STAGING"], 1, "{summary}");
    assert_eq!(summary["frameworks"][0]["id"], framework_id.as_str());
    let (_, roles) = http_get(addr, "/master/roles");
    assert_eq!(roles["roles"][0]["frameworks"][0], framework_id.as_str());
    let (_, flags) = http_get(addr, "/master/flags");
    assert!(flags["flags"]["allocation_interval"].is_string(), "{flags}");
    // JSONP wraps any JSON answer.
    let (status, body) = http_get_raw(addr, "/master/flags?jsonp=show");
    assert_eq!(status, 200);
    assert!(body.starts_with(b"show({") && body.ends_with(b");"));
    // /redirect points at the leader (this master) with no path.
    let mut client = Client::new(addr, PATIENCE);
    for path in ["/redirect", "/master/redirect"] {
        for method in ["GET", "HEAD"] {
            let reply = client.request(method, path, &[], b"").unwrap();
            assert_eq!(reply.status, 307, "{method} {path}");
            assert_eq!(
                reply.header("location"),
                Some(format!("//127.0.0.1:{}", addr.port()).as_str())
            );
        }
    }
    // POST /master/teardown with a form body.
    let reply = client
        .request(
            "POST",
            "/master/teardown",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            format!("frameworkId={framework_id}").as_bytes(),
        )
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(master.state()["frameworks"], json!([]));
    assert_eq!(
        client
            .request("GET", "/master/teardown", &[], b"")
            .unwrap()
            .status,
        405
    );
}
