//! Status updates, reconciliation, kills and framework messages.

use std::time::Duration;

use mesos::protocol::*;
use mesos::*;

use super::*;
use crate::outputs::Outgoing;

#[test]
fn status_updates_flow_and_terminal_ones_free_resources() {
    let (mut h, fw, agent, offer) = offered();
    h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![command_task("t1", &agent, "cpus:4;mem:1024")],
    );
    let out = h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 1);
    let forwarded = sends(&out, SCHED);
    match &forwarded[..] {
        [Outgoing::StatusUpdate(m)] => {
            assert_eq!(m.update.status.state, TaskState::Running);
            assert_eq!(m.pid.as_deref(), Some(AGENT));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        h.core.frameworks()[&fw].tasks[&TaskId::new("t1")]
            .task
            .state,
        TaskState::Running
    );
    // The scheduler's acknowledgement goes to the agent.
    let ack = StatusUpdateAcknowledgementMessage {
        agent_id: agent.clone(),
        framework_id: fw.clone(),
        task_id: TaskId::new("t1"),
        uuid: Uuid::from_bytes([1; 16]),
    };
    h.core.acknowledge(h.now, &ep(SCHED), ack.clone());
    assert_eq!(
        sends(&h.out(), AGENT),
        vec![Outgoing::StatusUpdateAcknowledgement(ack)]
    );
    // Nothing is free while it runs.
    assert!(offers_in(&h.advance(Duration::from_secs(1)), SCHED).is_empty());
    let out = h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Finished, 2);
    assert_eq!(updates(&out, SCHED)[0].state, TaskState::Finished);
    assert!(h.core.frameworks()[&fw].tasks.is_empty());
    assert_eq!(h.core.frameworks()[&fw].completed_tasks.len(), 1);
    assert_eq!(h.core.counters().tasks_terminal["TASK_FINISHED"], 1);
    // A retry of the terminal update is forwarded (to be acknowledged) but changes nothing.
    let out = h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Finished, 2);
    assert_eq!(updates(&out, SCHED).len(), 1);
    assert_eq!(h.core.counters().tasks_terminal["TASK_FINISHED"], 1);
    // An update from a pid that is not a registered agent is dropped.
    let out = h.agent_update(AGENT2, &fw, &agent, "t1", TaskState::Running, 3);
    assert!(out.is_empty());
    // The resources came back.
    assert_eq!(
        offers_in(&h.advance(Duration::from_secs(1)), SCHED).len(),
        1
    );
}

#[test]
fn reconciliation_explicit_and_implicit() {
    let (mut h, fw, agent, offer) = offered();
    h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![
            command_task("t1", &agent, "cpus:1"),
            command_task("t2", &agent, "cpus:1"),
        ],
    );
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 1);
    h.agent_update(AGENT, &fw, &agent, "t2", TaskState::Failed, 2);
    h.core.reconcile_tasks(
        h.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![],
        },
    );
    let implicit = updates(&h.out(), SCHED);
    assert_eq!(implicit.len(), 1);
    assert_eq!(
        (
            implicit[0].task_id.as_str(),
            implicit[0].state,
            implicit[0].reason
        ),
        ("t1", TaskState::Running, Some(Reason::Reconciliation))
    );
    let ask = |id: &str, agent: Option<&str>| {
        let mut s = TaskStatus::new(TaskId::new(id), TaskState::Running);
        s.agent_id = agent.map(AgentId::new);
        s
    };
    h.core.reconcile_tasks(
        h.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![
                ask("t1", None),
                ask("t2", None),
                ask("ghost", None),
                ask("ghost", Some("m1-S0")),
                ask("ghost", Some("nowhere")),
            ],
        },
    );
    let explicit: Vec<_> = updates(&h.out(), SCHED)
        .iter()
        .map(|s| (s.task_id.to_string(), s.state, s.reason))
        .collect();
    let r = Some(Reason::Reconciliation);
    assert_eq!(
        explicit,
        vec![
            ("t1".into(), TaskState::Running, r),
            ("t2".into(), TaskState::Failed, r),
            ("ghost".into(), TaskState::Lost, r),
            ("ghost".into(), TaskState::Lost, r),
            // The unknown agent may still re-register: no answer during the window.
        ]
    );
    h.now += Duration::from_secs(601);
    h.core.reconcile_tasks(
        h.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![ask("ghost", Some("nowhere"))],
        },
    );
    assert_eq!(updates(&h.out(), SCHED)[0].state, TaskState::Lost);
}

#[test]
fn partition_aware_reconciliation_of_unknown_tasks() {
    let mut h = Harness::new();
    let fw = h.framework(SCHED, partition_aware());
    h.agent(AGENT, "cpus:1;mem:64");
    let ask = |id: &str, agent: Option<&str>| {
        let mut s = TaskStatus::new(TaskId::new(id), TaskState::Running);
        s.agent_id = agent.map(AgentId::new);
        s
    };
    h.core.reconcile_tasks(
        h.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw,
            statuses: vec![ask("x", None), ask("x", Some("m1-S0"))],
        },
    );
    let states: Vec<_> = updates(&h.out(), SCHED).iter().map(|s| s.state).collect();
    assert_eq!(states, vec![TaskState::Unknown, TaskState::Gone]);
}

#[test]
fn kill_and_framework_messages_are_relayed() {
    let (mut h, fw, agent, offer) = offered();
    h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![command_task("t1", &agent, "cpus:1")],
    );
    let kill = KillTaskMessage {
        framework_id: fw.clone(),
        task_id: TaskId::new("t1"),
    };
    h.core.kill_task(h.now, &ep(SCHED), kill.clone());
    assert_eq!(sends(&h.out(), AGENT), vec![Outgoing::KillTask(kill)]);
    // Killing an unknown task answers with its reconciled state.
    h.core.kill_task(
        h.now,
        &ep(SCHED),
        KillTaskMessage {
            framework_id: fw.clone(),
            task_id: TaskId::new("ghost"),
        },
    );
    assert_eq!(updates(&h.out(), SCHED)[0].state, TaskState::Lost);
    let to_exec = FrameworkToExecutorMessage {
        agent_id: agent.clone(),
        framework_id: fw.clone(),
        executor_id: ExecutorId::new("e"),
        data: b"hi".to_vec(),
    };
    h.core
        .framework_to_executor(h.now, &ep(SCHED), to_exec.clone());
    assert_eq!(
        sends(&h.out(), AGENT),
        vec![Outgoing::FrameworkToExecutor(to_exec)]
    );
    let to_fw = ExecutorToFrameworkMessage {
        agent_id: agent.clone(),
        framework_id: fw.clone(),
        executor_id: ExecutorId::new("e"),
        data: b"yo".to_vec(),
    };
    h.core
        .executor_to_framework(h.now, &upid(AGENT), to_fw.clone());
    assert_eq!(
        sends(&h.out(), SCHED),
        vec![Outgoing::ExecutorToFramework(to_fw.clone())]
    );
    h.core.executor_to_framework(h.now, &upid(AGENT2), to_fw);
    assert!(h.out().is_empty());
}

/// A seeded simulation later replays the core: the same inputs must give the same outputs.
#[test]
fn the_same_inputs_give_the_same_outputs() {
    let run = || {
        let mut h = Harness::new();
        let mut all = Vec::new();
        let fw = h.framework(SCHED, fw_info("f"));
        let fw2 = h.framework(SCHED2, partition_aware());
        for (i, pid) in [
            "slave(1)@127.0.0.1:7001",
            "slave(1)@127.0.0.1:7002",
            "slave(1)@127.0.0.1:7003",
        ]
        .iter()
        .enumerate()
        {
            h.agent(pid, &format!("cpus:{};mem:1024", i + 1));
        }
        h.core.tick(h.now);
        all.extend(h.out());
        for offer in h.core.offers().values().cloned().collect::<Vec<_>>() {
            let (pid, id) = if offer.offer.framework_id == fw {
                (SCHED, &fw)
            } else {
                (SCHED2, &fw2)
            };
            let task = command_task(
                &format!("t-{}", offer.offer.id),
                &offer.offer.agent_id,
                "cpus:1;mem:64",
            );
            all.extend(h.launch(pid, id, &[&offer.offer], vec![task]));
        }
        for _ in 0..8 {
            all.extend(h.advance(Duration::from_secs(15)));
        }
        all
    };
    let first = run();
    assert!(
        first.len() > 20,
        "the scenario does something: {}",
        first.len()
    );
    assert_eq!(first, run());
}

#[test]
fn resources_a_finished_task_frees_are_offered_after_a_short_delay_not_at_the_next_batch() {
    let mut h = Harness::new();
    let fw = h.framework(SCHED, fw_info("f"));
    let agent = h.agent(AGENT, "cpus:4;mem:1024");
    let offers = h.allocate(SCHED);
    h.launch(
        SCHED,
        &fw,
        &[&offers[0]],
        vec![
            command_task("t1", &agent, "cpus:2;mem:512"),
            command_task("t2", &agent, "cpus:2;mem:512"),
        ],
    );
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 1);
    h.agent_update(AGENT, &fw, &agent, "t2", TaskState::Running, 2);
    h.advance(Duration::from_millis(100));

    // Two tasks end in a burst, 400 ms before the next batch.
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Finished, 3);
    assert_eq!(
        h.core.next_deadline(h.now),
        h.now + crate::core::FREED_RESOURCES_DELAY
    );
    h.advance(Duration::from_millis(1));
    h.agent_update(AGENT, &fw, &agent, "t2", TaskState::Finished, 4);
    // Nothing before the delay; then one offer of what both freed.
    assert!(offers_in(&h.advance(Duration::from_millis(3)), SCHED).is_empty());
    let offers = offers_in(&h.advance(Duration::from_millis(1)), SCHED);
    assert_eq!(offers.len(), 1, "{offers:?}");
    assert_eq!(offers[0].resources.to_string(), "cpus:4;mem:1024");
    // The batch clock is unchanged: nothing more until the batch.
    assert!(h.core.next_deadline(h.now) > h.now + Duration::from_millis(800));
}
