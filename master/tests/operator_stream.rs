//! The v1 operator API's SUBSCRIBE over real sockets: SUBSCRIBED with the whole state, then
//! every change in the order the master made it, heartbeats, and the per-stream cap on unread
//! bytes. Agents and schedulers are emulated by [`Peer`]s.

mod util;

use std::time::Duration;

use ::master::MasterConfig;
use mesos::protocol::*;
use mesos::v1::client::{subscribe, Client, Subscription};
use mesos::*;
use process::Runtime;
use serde_json::{json, Value as Json};
use util::*;

fn config() -> MasterConfig {
    MasterConfig {
        scheduler_heartbeat_interval: Duration::from_millis(300),
        allocation_interval: Duration::from_millis(50),
        ..MasterConfig::default()
    }
}

fn open(rt: &Runtime, path: &str) -> Subscription {
    subscribe(
        rt.addr(),
        path,
        &[],
        &json!({"type": "SUBSCRIBE"}),
        PATIENCE,
    )
    .expect("subscribe request")
    .unwrap_or_else(|reply| panic!("subscribe refused: {} {}", reply.status, reply.text()))
}

/// The next `n` events that are not HEARTBEATs.
fn next_n(stream: &mut Subscription, n: usize) -> Vec<Json> {
    (0..n).map(|_| next(stream)).collect()
}

/// A command task `id` named `name` (cpus:1;mem:128) running `command` on `agent_id`.
fn sleep_task(id: &str, name: &str, agent_id: &AgentId, command: &str) -> TaskInfo {
    TaskInfo::new(
        id,
        name,
        agent_id.clone(),
        "cpus:1;mem:128".parse().unwrap(),
    )
    .with_command(CommandInfo::shell(command))
}

fn kinds(events: &[Json]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn status(
    framework_id: &FrameworkId,
    agent_id: &AgentId,
    task: &str,
    state: TaskState,
) -> StatusUpdateMessage {
    let uuid = Uuid::random();
    StatusUpdateMessage {
        update: StatusUpdate {
            framework_id: framework_id.clone(),
            executor_id: None,
            agent_id: Some(agent_id.clone()),
            timestamp: 1.0,
            uuid,
            status: TaskStatus::new(TaskId::new(task), state)
                .with_source(Source::Executor)
                .with_uuid(uuid)
                .with_timestamp(1.0),
        },
        pid: None,
    }
}

#[test]
fn a_subscriber_sees_the_state_then_every_change_in_order() {
    let (rt, master) = start_master(config());
    let mut stream = open(&rt, "/api/v1");
    assert_eq!(stream.head.header("content-type"), Some("application/json"));
    assert!(
        stream.stream_id().is_none(),
        "operator streams have no stream id"
    );
    let subscribed = stream.next_event().unwrap().unwrap();
    assert_eq!(subscribed["type"], "SUBSCRIBED");
    assert_eq!(subscribed["subscribed"]["heartbeat_interval_seconds"], 0.3);
    let state = &subscribed["subscribed"]["get_state"];
    for part in ["get_tasks", "get_executors", "get_frameworks", "get_agents"] {
        assert!(state[part].is_object(), "{part} in {state}");
    }
    // A HEARTBEAT follows at once, so clients that deliver an event when the next one starts
    // see SUBSCRIBED without waiting an interval.
    assert_eq!(
        stream.next_event().unwrap().unwrap(),
        json!({"type": "HEARTBEAT"})
    );

    // An agent registers, a framework registers and launches a task that runs and finishes.
    let (mut agent, agent_id) = register_agent(
        &master,
        "slave(1)",
        AgentInfo::new("node-1").with_resources("cpus:4;mem:1024".parse().unwrap()),
    );
    let (mut scheduler, framework_id) = register_framework(
        &master,
        "scheduler-1",
        FrameworkInfo::new("u", "caf\u{e9}").with_role("web"),
    );
    launch_on_next_offer(
        &mut scheduler,
        &master,
        &framework_id,
        vec![sleep_task("t1", "one", &agent_id, "sleep 1")],
    );
    agent.expect::<RunTaskMessage>();
    agent.send(
        master.pid(),
        status(&framework_id, &agent_id, "t1", TaskState::Running),
    );
    // A retry of the same state changes nothing: no event.
    agent.send(
        master.pid(),
        status(&framework_id, &agent_id, "t1", TaskState::Running),
    );
    agent.send(
        master.pid(),
        status(&framework_id, &agent_id, "t1", TaskState::Finished),
    );
    let events = next_n(&mut stream, 5);
    assert_eq!(
        kinds(&events),
        [
            "AGENT_ADDED",
            "FRAMEWORK_ADDED",
            "TASK_ADDED",
            "TASK_UPDATED",
            "TASK_UPDATED"
        ]
    );
    let added = &events[0]["agent_added"]["agent"];
    assert_eq!(added["agent_info"]["hostname"], "node-1");
    assert_eq!(added["agent_info"]["id"]["value"], agent_id.as_str());
    assert_eq!(added["active"], true);
    assert_eq!(added["total_resources"][0]["name"], "cpus");
    let framework = &events[1]["framework_added"]["framework"];
    assert_eq!(
        framework["framework_info"]["id"]["value"],
        framework_id.as_str()
    );
    assert_eq!(framework["framework_info"]["name"], "caf\u{e9}");
    assert_eq!(framework["connected"], true);
    let task = &events[2]["task_added"]["task"];
    assert_eq!(task["task_id"]["value"], "t1");
    assert_eq!(task["state"], "TASK_STAGING");
    assert_eq!(task["agent_id"]["value"], agent_id.as_str());
    assert_eq!(task["framework_id"]["value"], framework_id.as_str());
    let running = &events[3]["task_updated"];
    assert_eq!(running["framework_id"]["value"], framework_id.as_str());
    assert_eq!(running["state"], "TASK_RUNNING");
    assert_eq!(running["status"]["task_id"]["value"], "t1");
    assert_eq!(running["status"]["agent_id"]["value"], agent_id.as_str());
    assert_eq!(events[4]["task_updated"]["state"], "TASK_FINISHED");

    // A second subscriber's snapshot holds all of it; the first keeps receiving.
    let mut late = open(&rt, "/api/v1/operator");
    let subscribed = late.next_event().unwrap().unwrap();
    let state = &subscribed["subscribed"]["get_state"];
    assert_eq!(
        state["get_agents"]["agents"][0]["agent_info"]["id"]["value"],
        agent_id.as_str()
    );
    assert_eq!(
        state["get_frameworks"]["frameworks"][0]["framework_info"]["id"]["value"],
        framework_id.as_str()
    );
    assert_eq!(
        state["get_tasks"]["completed_tasks"][0]["state"],
        "TASK_FINISHED"
    );

    // A second task is killed with its framework's teardown; then the agent leaves.
    launch_on_next_offer(
        &mut scheduler,
        &master,
        &framework_id,
        vec![sleep_task("t2", "two", &agent_id, "sleep 100")],
    );
    agent.expect::<RunTaskMessage>();
    let mut client = Client::new(rt.addr(), PATIENCE);
    let teardown = client
        .post(
            "/api/v1",
            &[],
            &json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": framework_id.as_str()}}}),
        )
        .unwrap();
    assert_eq!(teardown.status, 200, "{}", teardown.text());
    agent.send(
        master.pid(),
        UnregisterSlaveMessage {
            agent_id: agent_id.clone(),
        },
    );
    for stream in [&mut stream, &mut late] {
        let events = next_n(stream, 4);
        assert_eq!(
            kinds(&events),
            [
                "TASK_ADDED",
                "TASK_UPDATED",
                "FRAMEWORK_REMOVED",
                "AGENT_REMOVED"
            ]
        );
        assert_eq!(events[1]["task_updated"]["state"], "TASK_KILLED");
        assert_eq!(
            events[1]["task_updated"]["status"]["reason"],
            "REASON_FRAMEWORK_REMOVED"
        );
        assert_eq!(
            events[2]["framework_removed"]["framework_info"]["id"]["value"],
            framework_id.as_str()
        );
        assert_eq!(
            events[3]["agent_removed"]["agent_id"]["value"],
            agent_id.as_str()
        );
    }

    // A scheduler that disconnects: FRAMEWORK_UPDATED, no longer connected.
    let (other, other_id) = register_framework(
        &master,
        "scheduler-2",
        FrameworkInfo::new("u", "other").with_failover_timeout(Duration::from_secs(3600)),
    );
    drop(other);
    let events = next_n(&mut stream, 2);
    assert_eq!(kinds(&events), ["FRAMEWORK_ADDED", "FRAMEWORK_UPDATED"]);
    let updated = &events[1]["framework_updated"]["framework"];
    assert_eq!(updated["framework_info"]["id"]["value"], other_id.as_str());
    assert_eq!(updated["connected"], false);
    assert_eq!(updated["active"], false);

    // An idle stream keeps receiving heartbeats.
    for _ in 0..2 {
        assert_eq!(
            stream.next_event().unwrap().unwrap(),
            json!({"type": "HEARTBEAT"})
        );
    }
}

#[test]
fn subscribe_follows_the_contract_and_a_slow_reader_is_cut_off() {
    let (rt, master) = start_master(MasterConfig {
        max_stream_queued_bytes: 3 << 20,
        ..config()
    });
    let mut client = Client::new(rt.addr(), PATIENCE);
    // Accept without JSON: 406; GET: 405; no Content-Type: 400.
    let refused = subscribe(
        rt.addr(),
        "/api/v1",
        &[("Accept", "application/x-protobuf")],
        &json!({"type": "SUBSCRIBE"}),
        PATIENCE,
    )
    .unwrap()
    .unwrap_err();
    assert_eq!(refused.status, 406);
    assert_eq!(
        client.request("GET", "/api/v1", &[], b"").unwrap().status,
        405
    );
    assert_eq!(
        client
            .request("POST", "/api/v1", &[], br#"{"type":"SUBSCRIBE"}"#)
            .unwrap()
            .status,
        400
    );

    // One subscriber reads, one never does. Frameworks with 1 MB names make big events.
    let mut reader = open(&rt, "/api/v1");
    assert_eq!(next(&mut reader)["type"], "SUBSCRIBED");
    let silent = open(&rt, "/api/v1");
    let name = "n".repeat(1 << 20);
    let mut schedulers = Vec::new();
    for i in 0..24 {
        let mut scheduler = Peer::new(&format!("scheduler-{i}"));
        scheduler.send(
            master.pid(),
            RegisterFrameworkMessage {
                framework: FrameworkInfo::new("u", &name),
                suppressed_roles: vec![],
            },
        );
        scheduler.expect::<FrameworkRegisteredMessage>();
        schedulers.push(scheduler);
        let event = next(&mut reader);
        assert_eq!(event["type"], "FRAMEWORK_ADDED");
        assert_eq!(
            event["framework_added"]["framework"]["framework_info"]["name"]
                .as_str()
                .map(str::len),
            Some(1 << 20)
        );
    }
    // The silent reader fell more than the cap behind: its stream was closed. Draining what
    // reached its socket ends in end-of-stream or a reset, well before 24 events.
    let mut silent = silent;
    let mut seen = 0;
    loop {
        match silent.next_event() {
            Ok(Some(_)) => seen += 1,
            Ok(None) => break,
            Err(error) => {
                assert!(
                    !matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ),
                    "the silent stream should have been closed, not left idle"
                );
                break;
            }
        }
    }
    assert!(seen < 24, "the silent reader got {seen} events");
    // The master goes on serving everyone else.
    let (status, _) = http_get(rt.addr(), "/master/state");
    assert_eq!(status, 200);
    drop(schedulers);
}
