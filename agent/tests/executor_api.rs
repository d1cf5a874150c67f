//! The v1 executor API (`POST /api/v1/executor`) over real sockets: the test plays an HTTP
//! executor (the executor process the agent starts only sleeps), a fake master plays the
//! master. Every call and event, and every status code of Mesos's contract.

mod util;

use std::time::Duration;

use mesos::protocol::*;
use mesos::v1::client::{subscribe, Client, Subscription};
use mesos::*;
use serde_json::{json, Value as Json};
use util::*;

const API: &str = "/api/v1/executor";

/// A task for an executor `executor` whose process never subscribes by itself.
fn http_task(id: &str, executor: &str) -> TaskInfo {
    let mut task = command_task(id, "unused").with_data(format!("data-{id}").into_bytes());
    task.command = None;
    task.executor = Some(
        ExecutorInfo::new(executor, CommandInfo::shell("sleep 1000"))
            .with_resources("cpus:0.1;mem:32".parse().unwrap()),
    );
    task
}

fn ids(executor: &str) -> Json {
    json!({"framework_id": {"value": "fw-1"}, "executor_id": {"value": executor}})
}

fn call(kind: &str, executor: &str, payload: Option<Json>) -> Json {
    let mut call = ids(executor);
    call["type"] = json!(kind);
    if let Some(payload) = payload {
        call[kind.to_ascii_lowercase()] = payload;
    }
    call
}

fn open(cluster: &Cluster, executor: &str, tasks: Json) -> Subscription {
    let subscribe_call = call(
        "SUBSCRIBE",
        executor,
        Some(json!({"unacknowledged_tasks": tasks, "unacknowledged_updates": []})),
    );
    subscribe(
        cluster.agent_runtime.addr(),
        API,
        &[("Connection", "close")],
        &subscribe_call,
        PATIENCE,
    )
    .expect("subscribe request")
    .unwrap_or_else(|reply| panic!("subscribe refused: {} {}", reply.status, reply.text()))
}

/// The next event that is not a HEARTBEAT.
fn next(stream: &mut Subscription) -> Json {
    loop {
        let event = stream.next_event().expect("reads").expect("stream open");
        if event["type"] != "HEARTBEAT" {
            return event;
        }
    }
}

fn running(task: &str, executor: &str) -> Json {
    json!({"status": {"task_id": {"value": task}, "state": "TASK_RUNNING",
        "source": "SOURCE_EXECUTOR", "uuid": base64_encode(Uuid::random().as_bytes()),
        "executor_id": {"value": executor}, "timestamp": 1.5, "data": "aGk="}})
}

#[test]
fn an_http_executor_lives_its_whole_life_through_every_call_and_event() {
    let mut cluster = Cluster::start("http-executor", true, false, |_| {});
    cluster.expect_register();
    let mut client = Client::new(cluster.agent_runtime.addr(), PATIENCE);
    // Not launched yet: unknown executor.
    let unknown = client
        .post(API, &[], &call("HEARTBEAT", "e1", None))
        .unwrap();
    assert_eq!(unknown.status, 400, "{}", unknown.text());
    cluster.run_task(http_task("t1", "e1"));
    // Launched, not subscribed: 403 for anything but SUBSCRIBE.
    process::testing::wait_until("the executor launched", PATIENCE, || {
        let reply = client
            .post(API, &[], &call("HEARTBEAT", "e1", None))
            .unwrap();
        reply.status == 403
    });

    let mut stream = open(&cluster, "e1", json!([]));
    assert_eq!(stream.head.header("content-type"), Some("application/json"));
    assert!(stream.stream_id().is_none(), "no stream id for executors");
    let subscribed = next(&mut stream);
    assert_eq!(subscribed["type"], "SUBSCRIBED", "{subscribed}");
    let s = &subscribed["subscribed"];
    assert_eq!(s["executor_info"]["executor_id"], json!({"value": "e1"}));
    assert_eq!(s["executor_info"]["framework_id"], json!({"value": "fw-1"}));
    assert_eq!(s["framework_info"]["id"], json!({"value": "fw-1"}));
    assert_eq!(s["agent_info"]["id"], json!({"value": "agent-1"}));
    assert!(s["container_id"]["value"].is_string(), "{s}");
    let launch = next(&mut stream);
    assert_eq!(launch["type"], "LAUNCH");
    assert_eq!(launch["launch"]["task"]["task_id"]["value"], "t1");
    assert_eq!(
        launch["launch"]["task"]["data"],
        base64_encode(b"data-t1"),
        "{launch}"
    );

    // UPDATE: 202 at once; the update reaches the master with agent and executor filled in;
    // ACKNOWLEDGED follows.
    let update = running("t1", "e1");
    let reply = client
        .post(API, &[], &call("UPDATE", "e1", Some(update.clone())))
        .unwrap();
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert!(reply.body.is_empty());
    let forwarded = cluster.next_update("t1");
    assert_eq!(forwarded.status.state, TaskState::Running);
    assert_eq!(forwarded.status.data, b"hi");
    assert_eq!(forwarded.executor_id, Some(ExecutorId::new("e1")));
    assert_eq!(forwarded.status.agent_id, Some(AgentId::new("agent-1")));
    let acked = next(&mut stream);
    assert_eq!(acked["type"], "ACKNOWLEDGED");
    assert_eq!(acked["acknowledged"]["task_id"]["value"], "t1");
    assert_eq!(acked["acknowledged"]["uuid"], update["status"]["uuid"]);

    // MESSAGE both ways; HEARTBEAT call.
    let reply = client
        .post(
            API,
            &[],
            &call("MESSAGE", "e1", Some(json!({"data": "aGVsbG8="}))),
        )
        .unwrap();
    assert_eq!(reply.status, 202);
    let message = cluster.wait_for("the executor's message", |g| match g {
        Got::FromExecutor(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(message.data, b"hello");
    assert_eq!(message.executor_id, ExecutorId::new("e1"));
    cluster.to_agent(FrameworkToExecutorMessage {
        agent_id: AgentId::new("agent-1"),
        framework_id: FrameworkId::new("fw-1"),
        executor_id: ExecutorId::new("e1"),
        data: b"to you".to_vec(),
    });
    let message = next(&mut stream);
    assert_eq!(
        message,
        json!({"type": "MESSAGE", "message": {"data": base64_encode(b"to you")}})
    );
    let reply = client
        .post(API, &[], &call("HEARTBEAT", "e1", None))
        .unwrap();
    assert_eq!(reply.status, 202);

    // A second task goes straight to the subscribed executor; KILL reaches it.
    cluster.run_task(http_task("t2", "e1"));
    let launch = next(&mut stream);
    assert_eq!(launch["launch"]["task"]["task_id"]["value"], "t2");
    cluster.to_agent(KillTaskMessage {
        framework_id: FrameworkId::new("fw-1"),
        task_id: TaskId::new("t2"),
    });
    let kill = next(&mut stream);
    assert_eq!(
        kill,
        json!({"type": "KILL", "kill": {"task_id": {"value": "t2"}}})
    );

    // A re-SUBSCRIBE (the executor's connection broke) replaces the stream; events go to the
    // new one, and an update it still holds goes through again, once.
    let held = running("t2", "e1");
    let mut again = open(&cluster, "e1", json!([launch["launch"]["task"].clone()]));
    assert!(
        matches!(stream.next_event(), Ok(None) | Err(_)),
        "the old stream ends"
    );
    let resubscribed = next(&mut again);
    assert_eq!(resubscribed["type"], "SUBSCRIBED");
    assert_eq!(
        resubscribed["subscribed"]["executor_info"]["executor_id"]["value"],
        "e1"
    );
    drop(again);
    let mut again = subscribe(
        cluster.agent_runtime.addr(),
        API,
        &[],
        &call(
            "SUBSCRIBE",
            "e1",
            Some(json!({"unacknowledged_tasks": [], "unacknowledged_updates": [held.clone()]})),
        ),
        PATIENCE,
    )
    .unwrap()
    .unwrap();
    assert_eq!(next(&mut again)["type"], "SUBSCRIBED");
    assert_eq!(cluster.next_update("t2").status.state, TaskState::Running);
    let acked = next(&mut again);
    assert_eq!(acked["acknowledged"]["uuid"], held["status"]["uuid"]);

    // Framework shutdown: SHUTDOWN, then the stream ends.
    cluster.to_agent(ShutdownFrameworkMessage {
        framework_id: FrameworkId::new("fw-1"),
    });
    assert_eq!(next(&mut again), json!({"type": "SHUTDOWN"}));
    assert!(matches!(again.next_event(), Ok(None)), "the stream ends");
}

#[test]
fn executor_calls_follow_the_contract() {
    let mut cluster = Cluster::start("http-executor-contract", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task(http_task("t1", "e1"));
    let mut client = Client::new(cluster.agent_runtime.addr(), PATIENCE);
    let post = |client: &mut Client, headers: &[(&str, &str)], body: &[u8]| {
        client.request("POST", API, headers, body).unwrap()
    };
    let json_type = [("Content-Type", "application/json")];
    // The task reaches the agent through the master's connection, these calls on their own: wait
    // until the agent knows the executor (403 until it subscribes).
    process::testing::wait_until("the executor launched", PATIENCE, || {
        let heartbeat = call("HEARTBEAT", "e1", None).to_string();
        post(&mut client, &json_type, heartbeat.as_bytes()).status == 403
    });
    assert_eq!(client.request("GET", API, &[], b"").unwrap().status, 405);
    let heartbeat = call("HEARTBEAT", "e1", None).to_string();
    assert_eq!(post(&mut client, &[], heartbeat.as_bytes()).status, 400);
    assert_eq!(
        post(
            &mut client,
            &[("Content-Type", "application/x-protobuf")],
            heartbeat.as_bytes()
        )
        .status,
        415
    );
    assert_eq!(
        post(
            &mut client,
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/x-protobuf")
            ],
            heartbeat.as_bytes()
        )
        .status,
        406
    );
    assert_eq!(post(&mut client, &json_type, b"{not json").status, 400);
    // Subscribe, then every invalid update is 400 with Mesos's reason.
    let mut stream = open(&cluster, "e1", json!([]));
    assert_eq!(next(&mut stream)["type"], "SUBSCRIBED");
    let uuid = base64_encode(Uuid::random().as_bytes());
    for (status, says) in [
        (
            json!({"task_id": {"value": "t1"}, "state": "TASK_RUNNING", "source": "SOURCE_EXECUTOR"}),
            "uuid",
        ),
        (
            json!({"task_id": {"value": "t1"}, "state": "TASK_RUNNING", "source": "SOURCE_MASTER", "uuid": uuid}),
            "source",
        ),
        (
            json!({"task_id": {"value": "t1"}, "state": "TASK_STAGING", "source": "SOURCE_EXECUTOR", "uuid": uuid}),
            "TASK_STAGING",
        ),
        (
            json!({"task_id": {"value": "t1"}, "state": "TASK_RUNNING", "source": "SOURCE_EXECUTOR", "uuid": uuid,
                   "executor_id": {"value": "other"}}),
            "does not match",
        ),
    ] {
        let reply = client
            .post(
                API,
                &[],
                &call("UPDATE", "e1", Some(json!({"status": status}))),
            )
            .unwrap();
        assert_eq!(reply.status, 400);
        assert!(reply.text().contains(says), "{says}: {}", reply.text());
    }
    // Another executor's id, or another framework's: 400.
    let reply = client
        .post(API, &[], &call("HEARTBEAT", "nope", None))
        .unwrap();
    assert_eq!(reply.status, 400);
    // The agent goes on serving.
    let reply = client
        .post(API, &[], &call("UPDATE", "e1", Some(running("t1", "e1"))))
        .unwrap();
    assert_eq!(reply.status, 202);
    assert_eq!(cluster.next_update("t1").status.state, TaskState::Running);
}

#[test]
fn an_http_executor_that_never_subscribes_fails_its_tasks_with_registration_timeout() {
    let mut cluster = Cluster::start("http-executor-timeout", true, false, |config| {
        config.executor_registration_timeout = Duration::from_millis(300);
    });
    cluster.expect_register();
    cluster.run_task(http_task("t1", "e1"));
    let failed = cluster.next_update("t1");
    assert_eq!(failed.status.state, TaskState::Failed);
    assert_eq!(
        failed.status.reason,
        Some(Reason::ExecutorRegistrationTimeout)
    );
}
