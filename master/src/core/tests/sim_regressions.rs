//! Bugs the cluster simulation (`sim/`) found, each reduced to the few inputs that show it.

use super::*;

/// A new leader that recovered the previous one's `registry`.
fn new_leader(registry: Vec<RegisteredAgent>) -> Harness {
    let mut next = Harness::new();
    next.core.begin_recovery(next.now);
    next.core.recover_agents(next.now, Some(registry));
    next
}

/// The agent comes back reporting `t1` RUNNING; the master kills it.
fn assert_t1_killed_on_return(h: &mut Harness, fw: &FrameworkId, agent: &AgentId) {
    let out = reregister_reporting(h, fw, agent, fw_info("f"), TaskState::Running);
    assert!(
        sends(&out, AGENT).contains(&Outgoing::KillTasksOnReregistration(
            KillTasksOnReregistrationMessage {
                tasks: vec![(fw.clone(), TaskId::new("t1"))]
            }
        ))
    );
}

/// A task reported LOST when its agent's connection broke may still run there: its resources are
/// not offered again until the agent reports its end (they were offered at once, over-committing
/// the agent).
#[test]
fn a_task_lost_with_the_connection_holds_its_resources_until_it_ends() {
    let (mut h, fw, agent) = running(fw_info("f"));
    h.core.exited(h.now, &upid(AGENT));
    assert_eq!(updates(&h.out(), SCHED)[0].state, TaskState::Lost);
    reregister_reporting(&mut h, &fw, &agent, fw_info("f"), TaskState::Running);
    // (past the 5 s refusal of the launch's unused resources)
    let offers = offers_in(&h.advance(Duration::from_secs(6)), SCHED);
    assert_eq!(offers[0].resources, "cpus:3;mem:960".parse().unwrap());
    // Killed: its end is absorbed (the scheduler heard LOST) and its resources come back.
    h.core.launch_tasks(
        h.now,
        &ep(SCHED),
        LaunchTasksMessage {
            framework_id: fw.clone(),
            tasks: vec![],
            filters: Filters {
                refuse_seconds: 0.0,
            },
            offer_ids: vec![offers[0].id.clone()],
        },
    );
    let out = h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Killed, 2);
    assert!(updates(&out, SCHED).is_empty());
    let offers = offers_in(&h.advance(Duration::from_secs(1)), SCHED);
    assert_eq!(offers[0].resources, "cpus:4;mem:1024".parse().unwrap());
}

/// A new leader learns from the registry that an agent was disconnected (its non-checkpointing
/// tasks were reported LOST): when the agent comes back with such a task, it is killed, not
/// reported running (it was).
#[test]
fn a_new_leader_keeps_the_tasks_lost_on_disconnect_lost() {
    let (mut h, fw, agent) = running(fw_info("f"));
    h.core.exited(h.now, &upid(AGENT));
    h.out();
    let (_, registry) = h.core.registry();
    assert!(registry.iter().any(|a| a.id == agent && a.disconnected));
    let mut next = new_leader(registry);
    assert_t1_killed_on_return(&mut next, &fw, &agent);
    assert!(!next.core.frameworks()[&fw]
        .tasks
        .contains_key(&TaskId::new("t1")));
}

/// The same for an agent the previous leader removed as unreachable: the registry keeps it.
#[test]
fn a_new_leader_keeps_the_tasks_of_a_removed_agent_lost() {
    let (h, fw, agent, _) = agent_removed(fw_info("f"));
    let (_, registry) = h.core.registry();
    assert!(registry.iter().any(|a| a.id == agent && a.unreachable));
    let mut next = new_leader(registry);
    assert_t1_killed_on_return(&mut next, &fw, &agent);
}

/// A partition-aware framework's task that ended while its agent was unreachable is no longer
/// reported UNREACHABLE once the agent is back (it was, forever, by reconciliation).
#[test]
fn an_unreachable_task_that_ended_is_not_unreachable_any_more() {
    let (mut h, fw, agent, _) = agent_removed(partition_aware());
    assert!(h.core.frameworks()[&fw]
        .unreachable_tasks
        .contains_key(&TaskId::new("t1")));
    reregister_reporting(&mut h, &fw, &agent, partition_aware(), TaskState::Finished);
    assert!(h.core.frameworks()[&fw].unreachable_tasks.is_empty());
    h.core.reconcile_tasks(
        h.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![],
        },
    );
    assert!(updates(&h.out(), SCHED)
        .iter()
        .all(|s| s.state != TaskState::Unreachable));
}

/// While the previous leader's agents may still re-register, a task the new leader does not
/// know (named without its agent, as a kill names it) gets no answer: it may be on one of them.
#[test]
fn a_new_leader_does_not_declare_unknown_tasks_lost_while_agents_may_return() {
    let (h, fw, _) = running(fw_info("f"));
    let (_, registry) = h.core.registry();
    let mut next = new_leader(registry);
    let mut info = fw_info("f");
    info.id = Some(fw.clone());
    next.core.reregister_framework(
        next.now,
        &upid(SCHED),
        ReregisterFrameworkMessage {
            framework: info,
            failover: false,
            suppressed_roles: vec![],
        },
    );
    next.out();
    next.core.kill_task(
        next.now,
        &ep(SCHED),
        KillTaskMessage {
            framework_id: fw.clone(),
            task_id: TaskId::new("t1"),
        },
    );
    assert!(updates(&next.out(), SCHED).is_empty());
}
