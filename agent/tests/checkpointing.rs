//! Checkpointing with a real agent and real executors: what a checkpointing framework leaves under
//! `<work_dir>/meta`, and that nothing is written for the others.

mod util;

use ::agent::checkpoint::{read::read, UpdateRecord};
use mesos::*;
use process::testing::wait_until;
use util::*;

fn checkpointing() -> FrameworkInfo {
    framework().with_checkpoint(true)
}

#[test]
fn a_checkpointing_framework_s_task_and_every_update_and_ack_are_on_disk() {
    let mut cluster = Cluster::start("ckpt-written", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task_for(checkpointing(), command_task("t1", "echo hi"));
    let updates = cluster.states_until_terminal("t1");
    assert_eq!(
        states(&updates).last(),
        Some(&TaskState::Finished),
        "{updates:?}"
    );
    // Acknowledged (auto_ack), the executor exits: the run is complete on disk.
    let work_dir = cluster.work_dir.clone();
    wait_until("the run is marked completed", PATIENCE, || {
        read(&work_dir, true)
            .ok()
            .and_then(|s| s.agent)
            .is_some_and(|a| {
                a.frameworks
                    .iter()
                    .any(|f| f.executors.iter().any(|e| e.run.completed))
            })
    });
    let state = read(&work_dir, true).unwrap();
    let agent = state.agent.unwrap();
    assert_eq!(agent.info.id, Some(AgentId::new("agent-1")));
    let framework = &agent.frameworks[0];
    assert_eq!(framework.info.id, Some(FrameworkId::new("fw-1")));
    assert_eq!(framework.pid, "scheduler@127.0.0.1:1");
    let executor = &framework.executors[0];
    assert!(executor.command_executor);
    let run = &executor.run;
    assert!(run.forked_pid.is_some());
    assert!(run.libprocess_pid.is_some());
    let task = &run.tasks[0];
    assert_eq!(task.task.task_id, TaskId::new("t1"));
    // Every update the master saw is in the log, each followed by its acknowledgement.
    let logged: Vec<(TaskState, Uuid)> = task
        .records
        .iter()
        .filter_map(|r| match r {
            UpdateRecord::Update(u) => Some((u.status.state, u.uuid)),
            UpdateRecord::Ack(_) => None,
        })
        .collect();
    let seen: Vec<(TaskState, Uuid)> = updates.iter().map(|u| (u.status.state, u.uuid)).collect();
    assert_eq!(logged, seen);
    let acks: Vec<Uuid> = task
        .records
        .iter()
        .filter_map(|r| match r {
            UpdateRecord::Ack(uuid) => Some(*uuid),
            UpdateRecord::Update(_) => None,
        })
        .collect();
    assert_eq!(acks, seen.iter().map(|(_, u)| *u).collect::<Vec<_>>());
}

#[test]
fn nothing_is_written_for_a_framework_that_does_not_checkpoint() {
    let mut cluster = Cluster::start("ckpt-none", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("t1", "echo hi"));
    let updates = cluster.states_until_terminal("t1");
    assert_eq!(states(&updates).last(), Some(&TaskState::Finished));
    let agent_dir = cluster.work_dir.join("meta/slaves/agent-1");
    assert!(agent_dir.join("slave.info").exists());
    assert!(!agent_dir.join("frameworks").exists());
}
