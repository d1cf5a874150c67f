//! An agent restarting (its connection breaks, it re-registers under the same id): what happens to
//! checkpointing and non-checkpointing frameworks' tasks, and to kills and teardowns issued while
//! it was away.

use super::*;

fn checkpointing() -> FrameworkInfo {
    fw_info("f").with_checkpoint(true)
}

#[test]
fn a_non_checkpointing_framework_s_tasks_are_lost_as_soon_as_the_agent_disconnects() {
    let (mut h, fw, agent) = running(fw_info("f"));
    h.core.exited(h.now, &upid(AGENT));
    let statuses = updates(&h.out(), SCHED);
    assert_eq!(statuses.len(), 1, "at once, not after the ping timeout");
    assert_eq!(statuses[0].state, TaskState::Lost);
    assert_eq!(statuses[0].source, Some(Source::Master));
    assert_eq!(statuses[0].reason, Some(Reason::AgentDisconnected));
    assert!(h.core.frameworks()[&fw].tasks.is_empty());
    // If the same agent process comes back with it (only its connection broke), it is killed and
    // what it says about the task never reaches the scheduler.
    let out = reregister_with_running_task(&mut h, &fw, &agent, fw_info("f"));
    assert!(
        sends(&out, AGENT).contains(&Outgoing::KillTasksOnReregistration(
            KillTasksOnReregistrationMessage {
                tasks: vec![(fw.clone(), TaskId::new("t1"))],
            }
        ))
    );
    let out = h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Killed, 2);
    assert!(updates(&out, SCHED).is_empty());
}

#[test]
fn a_checkpointing_framework_s_task_waits_and_is_back_as_if_it_never_left() {
    let (mut h, fw, agent) = running(checkpointing());
    h.core.exited(h.now, &upid(AGENT));
    assert!(updates(&h.out(), SCHED).is_empty());
    let out = h.advance(Duration::from_secs(30));
    assert!(updates(&out, SCHED).is_empty());
    let out = reregister_with_running_task(&mut h, &fw, &agent, checkpointing());
    assert!(matches!(
        sends(&out, AGENT)[0],
        Outgoing::SlaveReregistered(_)
    ));
    assert!(updates(&out, SCHED).is_empty(), "no LOST, no new RUNNING");
    assert_eq!(
        h.core.frameworks()[&fw].tasks[&TaskId::new("t1")]
            .task
            .state,
        TaskState::Running
    );
    // Its resources are still in use: only the rest is offered.
    let offers = offers_in(&h.advance(Duration::from_secs(1)), SCHED);
    assert_eq!(offers[0].resources, "cpus:3;mem:960".parse().unwrap());
}

#[test]
fn a_kill_issued_while_the_agent_was_away_is_carried_out_when_it_returns() {
    let (mut h, fw, agent) = running(checkpointing());
    h.core.exited(h.now, &upid(AGENT));
    h.out();
    h.core.kill_task(
        h.now,
        &ep(SCHED),
        KillTaskMessage {
            framework_id: fw.clone(),
            task_id: TaskId::new("t1"),
        },
    );
    assert!(sends(&h.out(), AGENT).is_empty(), "nobody to send it to");
    let out = reregister_with_running_task(&mut h, &fw, &agent, checkpointing());
    let to_agent = sends(&out, AGENT);
    assert!(matches!(to_agent[0], Outgoing::SlaveReregistered(_)));
    assert!(to_agent.contains(&Outgoing::KillTask(KillTaskMessage {
        framework_id: fw.clone(),
        task_id: TaskId::new("t1"),
    })));
    // Once only.
    h.core.exited(h.now, &upid(AGENT));
    let out = reregister_with_running_task(&mut h, &fw, &agent, checkpointing());
    assert!(!sends(&out, AGENT)
        .iter()
        .any(|m| matches!(m, Outgoing::KillTask(_))));
}

#[test]
fn a_teardown_while_the_agent_was_away_shuts_the_framework_down_when_it_returns() {
    let (mut h, fw, agent) = running(checkpointing());
    h.core.exited(h.now, &upid(AGENT));
    h.out();
    h.core.unregister_framework(
        h.now,
        &ep(SCHED),
        UnregisterFrameworkMessage {
            framework_id: fw.clone(),
        },
    );
    h.out();
    let completed = &h.core.completed_frameworks()[0];
    assert_eq!(completed.completed_tasks[0].state, TaskState::Killed);
    let out = reregister_with_running_task(&mut h, &fw, &agent, checkpointing());
    assert!(
        sends(&out, AGENT).contains(&Outgoing::ShutdownFramework(ShutdownFrameworkMessage {
            framework_id: fw.clone()
        }))
    );
}

#[test]
fn an_agent_back_with_more_resources_offers_them() {
    let (mut h, fw, agent) = running(checkpointing());
    h.core.exited(h.now, &upid(AGENT));
    h.out();
    reregister_with_resources(&mut h, &fw, &agent, checkpointing(), "cpus:8;mem:1024");
    h.out();
    assert_eq!(
        h.core.agents()[&agent].info.resources,
        "cpus:8;mem:1024".parse().unwrap()
    );
    let offers = offers_in(&h.advance(Duration::from_secs(1)), SCHED);
    assert_eq!(offers[0].resources, "cpus:7;mem:960".parse().unwrap());
}
