//! The agent's v1 operator API (`POST /api/v1`, `/api/v1/operator`) and its legacy `/flags` and
//! `/state-summary`, over real sockets.

mod util;

use mesos::v1::client::Client;
use serde_json::{json, Value as Json};
use util::*;

fn get(cluster: &Cluster, path: &str) -> (u16, Json) {
    let mut client = Client::new(cluster.agent_runtime.addr(), PATIENCE);
    let reply = client.request("GET", path, &[], b"").unwrap();
    (reply.status, reply.json().unwrap_or(Json::Null))
}

#[test]
fn every_agent_call_answers_in_v1_json_and_the_rest_is_501() {
    let mut cluster = Cluster::start("agent-operator", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("t1", "sleep 100"));
    while cluster.next_update("t1").status.state != mesos::TaskState::Running {}
    let mut client = Client::new(cluster.agent_runtime.addr(), PATIENCE);
    let mut call = |path: &str, kind: &str| {
        let reply = client.post(path, &[], &json!({ "type": kind })).unwrap();
        assert_eq!(reply.status, 200, "{kind}: {}", reply.text());
        let answer = reply.json().unwrap();
        assert_eq!(answer["type"], kind);
        answer[kind.to_ascii_lowercase()].clone()
    };
    for path in ["/api/v1", "/api/v1/operator", "/slave(1)/api/v1"] {
        assert_eq!(call(path, "GET_HEALTH"), json!({"healthy": true}));
    }
    let flags = call("/api/v1", "GET_FLAGS");
    assert!(flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "executor_registration_timeout" && f["value"] == "1mins"));
    assert_eq!(
        call("/api/v1", "GET_VERSION")["version_info"]["version"],
        mesos::VERSION
    );
    let metrics = call("/api/v1", "GET_METRICS");
    assert!(metrics["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["name"] == "slave/tasks_running" && m["value"] == 1));
    let tasks = call("/api/v1", "GET_TASKS");
    assert_eq!(tasks["launched_tasks"][0]["task_id"]["value"], "t1");
    assert_eq!(tasks["launched_tasks"][0]["state"], "TASK_RUNNING");
    assert_eq!(tasks["launched_tasks"][0]["framework_id"]["value"], "fw-1");
    let executors = call("/api/v1", "GET_EXECUTORS");
    assert_eq!(
        executors["executors"][0]["executor_info"]["executor_id"]["value"],
        "t1"
    );
    let frameworks = call("/api/v1", "GET_FRAMEWORKS");
    assert_eq!(
        frameworks["frameworks"][0]["framework_info"]["id"]["value"],
        "fw-1"
    );
    let state = call("/api/v1", "GET_STATE");
    assert_eq!(state["get_tasks"], tasks);
    assert_eq!(state["get_executors"], executors);
    assert_eq!(state["get_frameworks"], frameworks);
    let containers = call("/api/v1", "GET_CONTAINERS");
    let container = &containers["containers"][0];
    assert_eq!(container["executor_id"]["value"], "t1");
    assert!(container["container_status"]["executor_pid"]
        .as_u64()
        .is_some());

    let reply = client
        .post("/api/v1", &[], &json!({"type": "LAUNCH_NESTED_CONTAINER"}))
        .unwrap();
    assert_eq!(reply.status, 501);
    assert!(reply.text().contains("LAUNCH_NESTED_CONTAINER"));
    assert_eq!(
        client.request("GET", "/api/v1", &[], b"").unwrap().status,
        405
    );
    let reply = client
        .request(
            "POST",
            "/api/v1",
            &[("Content-Type", "application/x-protobuf")],
            b"x",
        )
        .unwrap();
    assert_eq!(reply.status, 415);
    let reply = client
        .post(
            "/api/v1",
            &[("Accept", "application/x-protobuf")],
            &json!({"type": "GET_HEALTH"}),
        )
        .unwrap();
    assert_eq!(reply.status, 406);
    let reply = client
        .request(
            "POST",
            "/api/v1",
            &[("Content-Type", "application/json")],
            b"{oops",
        )
        .unwrap();
    assert_eq!(reply.status, 400);

    // Legacy endpoints, at the top level and under the agent's id.
    for path in ["/flags", "/slave(1)/flags"] {
        let (status, flags) = get(&cluster, path);
        assert_eq!(status, 200, "{path}");
        assert_eq!(flags["flags"]["executor_registration_timeout"], "1mins");
    }
    for path in ["/state-summary", "/slave(1)/state-summary"] {
        let (status, summary) = get(&cluster, path);
        assert_eq!(status, 200, "{path}");
        assert_eq!(summary["id"], "agent-1");
        assert_eq!(summary["frameworks"][0]["id"], "fw-1", "{summary}");
        assert_eq!(summary["frameworks"][0]["tasks"], 1);
    }
}
