//! The snapshot renderers write, byte for byte, what the tree-building views write, on a core
//! holding every kind of record: running, unreachable and completed tasks with rich statuses
//! (non-ASCII and escaped text, data, health, reasons), custom executors, outstanding offers,
//! reservations, attributes, port ranges, a disconnected agent, a completed framework.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use mesos::protocol::*;
use mesos::*;
use serde_json::json;

use super::writer::{to_json, Prune};
use super::*;
use crate::core::CoreConfig;
use crate::leadership::Leadership;

fn config() -> CoreConfig {
    CoreConfig {
        master_info: MasterInfo::new("m1", Ipv4Addr::LOCALHOST, 5050, Some("h".into())),
        allocation_interval: Duration::from_secs(1),
        agent_ping_timeout: Duration::from_secs(15),
        max_agent_ping_timeouts: 5,
        offer_timeout: None,
        agent_reregister_timeout: Duration::from_secs(600),
        agent_reregistration_window: Duration::from_secs(5),
        start_wall_secs: 1_000.0,
        seed: 7,
    }
}

fn upid(text: &str) -> process::Upid {
    text.parse().expect("a valid pid")
}

fn task(id: &str, framework: &str, agent: &str, state: TaskState) -> Task {
    let mut running = TaskStatus::new(TaskId::new(id), state)
        .with_message("naïve ✓ \"quoted\"\n\ttab \u{1} \u{1F600}")
        .with_source(Source::Executor);
    running.timestamp = 1_234.5;
    running.healthy = Some(true);
    running.data = b"some data".to_vec();
    running.agent_id = Some(AgentId::new(agent));
    let mut staging = TaskStatus::new(TaskId::new(id), TaskState::Staging);
    staging.timestamp = 1_200.25;
    staging.reason = Some(Reason::CommandExecutorFailed);
    Task {
        name: format!("name of {id} — ünïcode"),
        task_id: TaskId::new(id),
        framework_id: FrameworkId::new(framework),
        executor_id: id
            .len()
            .is_multiple_of(2)
            .then(|| ExecutorId::new(format!("e-{id}"))),
        agent_id: AgentId::new(agent),
        state,
        resources: "cpus:0.5;mem:32;ports:[31000-31002]"
            .parse()
            .expect("resources"),
        statuses: vec![staging, running],
        status_update_state: Some(state),
        status_update_uuid: None,
    }
}

fn framework(id: &str, partition_aware: bool) -> FrameworkInfo {
    let mut info = FrameworkInfo::new("user", format!("framework {id}"))
        .with_role("role1")
        .with_checkpoint(true)
        .with_failover_timeout(Duration::from_secs(3600));
    if partition_aware {
        info = info.with_capability(FrameworkCapability::PartitionAware);
    }
    info.id = Some(FrameworkId::new(id));
    info
}

fn agent_message(n: u32, tasks: Vec<Task>, executors: Vec<ExecutorInfo>) -> ReregisterSlaveMessage {
    let mut info = AgentInfo::new(format!("host-{n}")).with_resources(
        "cpus:8;cpus(role1):2;mem:16384;disk:1000;ports:[31000-32000]"
            .parse()
            .expect("resources"),
    );
    info.attributes = "rack:r1;zone:a;rack:r2".parse().expect("attributes");
    info.id = Some(AgentId::new(format!("agent-{n}")));
    ReregisterSlaveMessage {
        agent: info,
        executors,
        tasks,
        frameworks: vec![framework("f-aware", true), framework("f-plain", false)],
        version: "1.11.0".into(),
    }
}

/// A core with every kind of record (see the module docs).
fn busy_core() -> MasterCore {
    // Any instant: the core reads no clock.
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mut core = MasterCore::new(config(), start);
    let (a1, a2, a3) = (
        upid("slave(1)@127.0.0.1:5051"),
        upid("slave(1)@127.0.0.1:5052"),
        upid("slave(1)@127.0.0.1:5053"),
    );
    let executor = ExecutorInfo::new("custom", CommandInfo::shell("run"))
        .with_resources("cpus:0.1;mem:16".parse().expect("resources"));
    let executor = ExecutorInfo {
        framework_id: Some(FrameworkId::new("f-plain")),
        name: Some("custom exécuteur".into()),
        ..executor
    };
    core.reregister_agent(
        start,
        &a1,
        agent_message(
            1,
            vec![
                task("t1", "f-aware", "agent-1", TaskState::Running),
                task("t22", "f-plain", "agent-1", TaskState::Running),
                task("t3", "f-plain", "agent-1", TaskState::Staging),
            ],
            vec![executor],
        ),
    );
    core.reregister_agent(
        start,
        &a2,
        agent_message(
            2,
            vec![
                task("t4", "f-aware", "agent-2", TaskState::Running),
                task("t55", "f-aware", "agent-2", TaskState::Starting),
            ],
            Vec::new(),
        ),
    );
    core.reregister_agent(start, &a3, agent_message(3, Vec::new(), Vec::new()));
    // A terminal update: t3 completes.
    let mut finished = TaskStatus::new(TaskId::new("t3"), TaskState::Finished);
    finished.timestamp = 1_300.0;
    finished.agent_id = Some(AgentId::new("agent-1"));
    core.status_update(
        start,
        &a1,
        StatusUpdateMessage {
            update: StatusUpdate {
                framework_id: FrameworkId::new("f-plain"),
                executor_id: None,
                agent_id: Some(AgentId::new("agent-1")),
                status: finished,
                timestamp: 1_300.0,
                uuid: Uuid::from_bytes([7; 16]),
            },
            pid: Some(a1.to_string()),
        },
    );
    // A scheduler that registers and is offered what is left.
    core.register_framework(
        start,
        &upid("scheduler-1@127.0.0.1:6000"),
        RegisterFrameworkMessage {
            framework: FrameworkInfo::new("user", "offered").with_role("*"),
            suppressed_roles: Vec::new(),
        },
    );
    // Agent 2 stops answering pings: removed as unreachable (its tasks too); 1 and 3 answer.
    let mut now = start;
    for _ in 0..8 {
        now += Duration::from_secs(16);
        core.pong(now, &a1);
        core.pong(now, &a3);
        core.tick(now);
    }
    core.exited(now, &a3);
    core.tick(now + Duration::from_secs(2));
    // The plain framework is torn down: it completes with its tasks.
    core.teardown(now, &FrameworkId::new("f-plain"));
    core.drain_outputs();
    core
}

#[test]
fn the_core_under_test_has_every_kind_of_record() {
    let core = busy_core();
    let snapshot = Snapshot::take(&core);
    assert!(snapshot.agents.len() >= 2);
    assert!(!snapshot.offers.is_empty(), "offers");
    assert!(
        snapshot.agents.iter().any(|a| !a.connected),
        "a disconnected agent"
    );
    assert!(
        !snapshot.completed_frameworks.is_empty(),
        "completed framework"
    );
    assert!(
        snapshot
            .frameworks
            .iter()
            .any(|f| !f.unreachable_tasks.is_empty()),
        "unreachable tasks"
    );
    assert!(
        snapshot
            .frameworks
            .iter()
            .any(|f| !f.tasks.is_empty() && !f.meta.offers.is_empty())
            || snapshot.frameworks.iter().any(|f| !f.tasks.is_empty()),
        "running tasks"
    );
    assert!(
        snapshot
            .completed_frameworks
            .iter()
            .chain(&snapshot.frameworks)
            .any(|f| !f.meta.completed_tasks.is_empty()),
        "completed tasks"
    );
}

fn flags() -> serde_json::Value {
    json!({"port": "5050", "missing": null, "nested": {"a": null, "b": [null, 1]}})
}

#[test]
fn master_state_is_written_as_the_tree_view_writes_it() {
    let core = busy_core();
    for elected in [true, false] {
        let leadership = Leadership::new(elected, core.info());
        let tree = crate::process::state_with_leader(&core, &flags(), &leadership);
        let bytes = legacy::state(&Snapshot::take(&core), &flags(), &leadership);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
    }
}

#[test]
fn state_summary_is_written_as_the_tree_view_writes_it() {
    let core = busy_core();
    let tree = crate::api::legacy::state_summary(&core);
    assert_eq!(
        String::from_utf8(legacy::state_summary(&Snapshot::take(&core))).unwrap(),
        serde_json::to_string(&tree).unwrap()
    );
}

#[test]
fn get_state_get_tasks_and_subscribed_are_written_as_the_tree_views_write_them() {
    let core = busy_core();
    let snapshot = Snapshot::take(&core);
    let get_state =
        mesos::v1::operator::envelope("GET_STATE", Some(crate::api::operator::get_state(&core)));
    assert_eq!(
        String::from_utf8(super::v1::get_state(&snapshot)).unwrap(),
        serde_json::to_string(&get_state).unwrap()
    );
    let get_tasks =
        mesos::v1::operator::envelope("GET_TASKS", Some(crate::api::operator::get_tasks(&core)));
    assert_eq!(
        String::from_utf8(super::v1::get_tasks(&snapshot)).unwrap(),
        serde_json::to_string(&get_tasks).unwrap()
    );
    let subscribed = crate::api::record(&mesos::v1::operator::envelope(
        "SUBSCRIBED",
        Some(json!({
            "get_state": crate::api::operator::get_state(&core),
            "heartbeat_interval_seconds": 15.0,
        })),
    ));
    let written = super::v1::subscribed(&snapshot, 15.0);
    assert!(written.is_ascii());
    assert_eq!(
        String::from_utf8(written).unwrap(),
        String::from_utf8(subscribed).unwrap()
    );
}

#[test]
fn a_snapshot_keeps_what_it_saw_while_the_core_goes_on() {
    let mut core = busy_core();
    let snapshot = Snapshot::take(&core);
    let before = super::v1::get_tasks(&snapshot);
    let aware = FrameworkId::new("f-aware");
    let later = core.start() + Duration::from_secs(600);
    core.teardown(later, &aware);
    assert!(core.frameworks().get(&aware).is_none());
    assert_eq!(super::v1::get_tasks(&snapshot), before);
    assert_ne!(super::v1::get_tasks(&Snapshot::take(&core)), before);
}

#[test]
fn the_writer_prunes_and_escapes_as_the_tree_passes_do() {
    let value = json!({
        "a": null, "b": [], "c": {"d": null, "e": [null], "f": {}}, "g": "é\u{7f}\u{1f}\"\\/",
        "h": 1.0, "i": -3, "j": u64::MAX, "k": 0.1, "l": [[], {"m": null}],
    });
    for (prune, ascii) in [
        (Prune::Keep, false),
        (Prune::Nulls, false),
        (Prune::Unset, false),
        (Prune::Unset, true),
    ] {
        let mut tree = value.clone();
        match prune {
            Prune::Keep => {}
            Prune::Nulls => mesos::json::strip_nulls(&mut tree),
            Prune::Unset => mesos::v1::omit_unset(&mut tree),
        }
        let expected = if ascii {
            mesos::v1::to_ascii_json(&tree)
        } else {
            serde_json::to_vec(&tree).unwrap()
        };
        assert_eq!(
            String::from_utf8(to_json(&value, prune, ascii).unwrap()).unwrap(),
            String::from_utf8(expected).unwrap(),
            "{prune:?} ascii={ascii}"
        );
    }
    // A non-finite float is null in a tree, and pruned as one.
    #[derive(serde::Serialize)]
    struct Floats {
        nan: f64,
        one: f32,
    }
    let floats = Floats {
        nan: f64::NAN,
        one: 0.1,
    };
    let mut tree = serde_json::to_value(&floats).unwrap();
    mesos::json::strip_nulls(&mut tree);
    assert_eq!(
        to_json(&floats, Prune::Nulls, false).unwrap(),
        serde_json::to_vec(&tree).unwrap()
    );
}
