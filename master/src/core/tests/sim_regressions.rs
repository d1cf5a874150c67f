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

/// The agent re-registers reporting no task at all.
fn reregister_empty(h: &mut Harness, fw: &FrameworkId, agent: &AgentId, mut info: FrameworkInfo) {
    info.id = Some(fw.clone());
    let mut agent_info = AgentInfo::new("node").with_resources("cpus:4;mem:1024".parse().unwrap());
    agent_info.id = Some(agent.clone());
    h.core.reregister_agent(
        h.now,
        &upid(AGENT),
        ReregisterSlaveMessage {
            agent: agent_info,
            executors: vec![],
            tasks: vec![],
            frameworks: vec![info],
            version: "1".into(),
        },
    );
}

fn kills_t1_as_lost(out: &[Output], fw: &FrameworkId) -> bool {
    sends(out, AGENT).contains(&Outgoing::KillTasksOnReregistration(
        KillTasksOnReregistrationMessage {
            tasks: vec![(fw.clone(), TaskId::new("t1"))],
        },
    ))
}

fn reregister_scheduler(h: &mut Harness, fw: &FrameworkId, mut info: FrameworkInfo) {
    info.id = Some(fw.clone());
    h.core.reregister_framework(
        h.now,
        &upid(SCHED),
        ReregisterFrameworkMessage {
            framework: info,
            failover: false,
            suppressed_roles: vec![],
        },
    );
    h.out();
}

/// Seed 165: a re-registration report that left the agent before the launch arrived there
/// (and its retry, as stale) made `t1` DROPPED and then freed its zombie as "no longer on the
/// agent"; the launch then ran `t1` and its RUNNING reached the scheduler after DROPPED. A
/// launching zombie now stays until the agent reports its end, and is killed at each report.
#[test]
fn a_stale_report_does_not_free_a_launching_zombie() {
    let (mut h, fw, agent) = launched(partition_aware());
    h.out();
    reregister_empty(&mut h, &fw, &agent, partition_aware());
    let out = h.out();
    assert_eq!(updates(&out, SCHED)[0].state, TaskState::Dropped);
    assert!(kills_t1_as_lost(&out, &fw), "{out:?}");
    reregister_empty(&mut h, &fw, &agent, partition_aware());
    let out = h.out();
    assert!(kills_t1_as_lost(&out, &fw), "{out:?}");
    let key = (fw.clone(), TaskId::new("t1"));
    assert!(h.core.agents()[&agent].zombies.contains_key(&key));
    // The launch arrived after all: its RUNNING is absorbed, and the kill goes out again.
    let out = h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 1);
    assert!(updates(&out, SCHED).is_empty());
    assert!(kills_t1_as_lost(&out, &fw), "{out:?}");
    let out = h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Killed, 2);
    assert!(updates(&out, SCHED).is_empty());
    assert!(!h.core.agents()[&agent].zombies.contains_key(&key));
}

/// Seeds 58 and 194: the tasks an agent's zombies stand for (reported LOST, here when its
/// removed agent came back) were known to the leader alone: after a failover the next leader
/// took the agent's report (and its retried RUNNING update) at face value and the scheduler
/// heard RUNNING after LOST. The registry now carries them.
#[test]
fn a_new_leader_keeps_the_zombies_of_a_readmitted_agent_lost() {
    let (mut h, fw, agent, _) = agent_removed(fw_info("f"));
    let out = reregister_reporting(&mut h, &fw, &agent, fw_info("f"), TaskState::Running);
    assert!(kills_t1_as_lost(&out, &fw), "{out:?}");
    let (_, registry) = h.core.registry();
    let entry = registry.iter().find(|a| a.id == agent).unwrap();
    assert!(!entry.unreachable && !entry.disconnected);
    assert!(entry.lost_tasks.contains(&(fw.clone(), TaskId::new("t1"))));
    let mut next = new_leader(registry);
    reregister_scheduler(&mut next, &fw, fw_info("f"));
    assert_t1_killed_on_return(&mut next, &fw, &agent);
    let out = next.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 1);
    assert!(updates(&out, SCHED).is_empty(), "{out:?}");
}

/// Seed 152: an agent of the previous leader rebooted without its state and registered anew
/// at its old address while the new leader still expected it: its tasks reconciled
/// UNREACHABLE forever. It is gone now.
#[test]
fn an_expected_agent_replaced_at_its_address_is_gone() {
    let (h, fw, agent) = running(partition_aware());
    let (_, registry) = h.core.registry();
    // Another master id: its agents get other ids.
    let mut next = Harness::with(CoreConfig {
        master_info: MasterInfo::new("m2", Ipv4Addr::LOCALHOST, 5050, Some("h".into())),
        ..config()
    });
    next.core.begin_recovery(next.now);
    next.core.recover_agents(next.now, Some(registry));
    reregister_scheduler(&mut next, &fw, partition_aware());
    assert_eq!(next.core.agents_expected(), 1);
    let new_id = next.agent(AGENT, "cpus:4;mem:1024");
    assert_ne!(new_id, agent);
    assert_eq!(next.core.agents_expected(), 0);
    next.core.reconcile_tasks(
        next.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![
                TaskStatus::new(TaskId::new("t1"), TaskState::Running).with_agent_id(agent.clone())
            ],
        },
    );
    let statuses = updates(&next.out(), SCHED);
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].state, TaskState::Gone);
}

/// An executor's exit reached the master only after the master had launched a new task on it
/// (same executor id; the exit was held back on the agent's connection): the agent ran that task
/// in a new instance of the executor, which holds the executor's resources. The master freed them
/// and offered them again, over-committing the agent (sim seeds 52 and 170, once resources a
/// finished task frees were offered 5 ms later).
#[test]
fn an_executor_exit_that_crosses_a_launch_on_it_keeps_the_new_instance_s_resources() {
    let (mut h, fw, agent, offer) = offered();
    let executor = ExecutorInfo::new("e1", CommandInfo::shell("exec"))
        .with_resources("cpus:1;mem:32".parse().unwrap());
    let task = |id: &str| {
        TaskInfo::new(id, id, agent.clone(), "cpus:1;mem:32".parse().unwrap())
            .with_executor(executor.clone())
    };
    let revive = |h: &mut Harness| {
        h.core.revive_offers(
            h.now,
            &ep(SCHED),
            ReviveOffersMessage {
                framework_id: fw.clone(),
                roles: vec![],
            },
        );
        h.allocate(SCHED)
    };
    h.launch(SCHED, &fw, &[&offer], vec![task("t1")]);
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 1);
    // The executor dies: its task's end arrives; its exit is still on the way.
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Lost, 2);
    let offers = revive(&mut h);
    assert_eq!(offers[0].resources, "cpus:3;mem:992".parse().unwrap());
    // The scheduler launches t2 on the same executor; then the (old) exit arrives.
    h.launch(SCHED, &fw, &[&offers[0]], vec![task("t2")]);
    let exited = ExitedExecutorMessage {
        agent_id: agent.clone(),
        framework_id: fw.clone(),
        executor_id: ExecutorId::new("e1"),
        status: 9,
    };
    h.core.exited_executor(h.now, &upid(AGENT), exited.clone());
    assert_eq!(
        sends(&h.out(), SCHED),
        vec![Outgoing::ExitedExecutor(exited.clone())]
    );
    // The new instance and t2 hold cpus:2;mem:64.
    h.agent_update(AGENT, &fw, &agent, "t2", TaskState::Running, 3);
    let offers = revive(&mut h);
    assert_eq!(offers[0].resources, "cpus:2;mem:960".parse().unwrap());
    // When the new instance ends (its task first), everything comes back.
    h.agent_update(AGENT, &fw, &agent, "t2", TaskState::Finished, 4);
    h.core.exited_executor(h.now, &upid(AGENT), exited);
    h.launch(SCHED, &fw, &[&offers[0]], vec![]);
    let offers = revive(&mut h);
    assert_eq!(offers[0].resources, "cpus:4;mem:1024".parse().unwrap());
}

/// Seed 1201: an agent rebooted without its state and registered anew at its old address with
/// one leader; the next leader recovered the old agent as removed (unreachable) and the new one
/// as admitted, at the same pid. When the new one re-registered, the old one's tasks still
/// reconciled UNREACHABLE forever. Another agent re-registering at its address makes it gone.
#[test]
fn a_removed_agent_whose_address_another_agent_reregisters_from_is_gone() {
    let (h, fw, agent) = running(partition_aware());
    let (_, mut registry) = h.core.registry();
    registry[0].unreachable = true;
    let new_id = AgentId::new("m9-S0");
    registry.push(RegisteredAgent {
        id: new_id.clone(),
        hostname: "node".into(),
        pid: Some(upid(AGENT)),
        disconnected: false,
        unreachable: false,
        lost_tasks: Default::default(),
    });
    let mut next = new_leader(registry);
    reregister_scheduler(&mut next, &fw, partition_aware());
    let mut agent_info = AgentInfo::new("node").with_resources("cpus:4;mem:1024".parse().unwrap());
    agent_info.id = Some(new_id);
    next.core.reregister_agent(
        next.now,
        &upid(AGENT),
        ReregisterSlaveMessage {
            agent: agent_info,
            executors: vec![],
            tasks: vec![],
            frameworks: vec![],
            version: "1".into(),
        },
    );
    next.out();
    next.core.reconcile_tasks(
        next.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![
                TaskStatus::new(TaskId::new("t1"), TaskState::Running).with_agent_id(agent.clone())
            ],
        },
    );
    let statuses = updates(&next.out(), SCHED);
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].state, TaskState::Gone);
}

/// Sim seed 3033 (no_overcommit): an agent's registration retries, held back on the network,
/// reached the master after it had answered the first one and launched tasks there. The master took
/// them for a new agent at that address: it removed the agent (its tasks LOST/GONE, resources
/// offered again under a new agent id) while the agent, which ignores an answer with another id,
/// kept running them. As Mesos's `registerSlave`, a registration from a connected agent's address
/// is a retry: answered with the same id, nothing removed.
#[test]
fn a_late_registration_retry_from_a_connected_agent_keeps_its_tasks_and_resources() {
    let (mut h, fw, agent) = running(fw_info("f"));
    h.core.register_agent(
        h.now,
        &upid(AGENT),
        RegisterSlaveMessage {
            agent: AgentInfo::new("node").with_resources("cpus:4;mem:1024".parse().unwrap()),
            version: "1".into(),
        },
    );
    let out = h.out();
    assert!(
        matches!(&sends(&out, AGENT)[..], [Outgoing::SlaveRegistered(m)] if m.agent_id == agent),
        "{out:?}"
    );
    assert!(updates(&out, SCHED).is_empty(), "{out:?}");
    assert!(!sends(&out, SCHED)
        .iter()
        .any(|m| matches!(m, Outgoing::LostSlave(_))));
    assert_eq!(h.core.agents().len(), 1);
    assert_eq!(
        h.core.frameworks()[&fw].tasks[&TaskId::new("t1")]
            .task
            .state,
        TaskState::Running
    );
    // The task's resources stay taken: the next offer is the rest of the agent only.
    let offers = offers_in(&h.advance(Duration::from_secs(6)), SCHED);
    assert_eq!(offers[0].agent_id, agent);
    assert_eq!(offers[0].resources, "cpus:3;mem:960".parse().unwrap());
}

/// Sim seed 5099 (no_overcommit): as above, but the task launched on the executor was no longer
/// STAGING when the old instance's exit arrived: the agent had re-registered with a report sent
/// before the launch reached it, so the master declared the task LOST and kept it as a launching
/// zombie. The master then freed the executor's resources on the exit and offered them, while the
/// launch reached the agent and started a new instance, which stayed after its task was killed.
/// A launching zombie on the executor is a launch crossing the exit too: the executor stays.
#[test]
fn an_executor_exit_that_crosses_a_launch_declared_lost_keeps_the_new_instance_s_resources() {
    let (mut h, fw, agent, offer) = offered();
    let executor = ExecutorInfo::new("e1", CommandInfo::shell("exec"))
        .with_resources("cpus:1;mem:32".parse().unwrap());
    let task = |id: &str| {
        TaskInfo::new(id, id, agent.clone(), "cpus:1;mem:32".parse().unwrap())
            .with_executor(executor.clone())
    };
    h.launch(SCHED, &fw, &[&offer], vec![task("t1")]);
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 1);
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Lost, 2);
    h.core.revive_offers(
        h.now,
        &ep(SCHED),
        ReviveOffersMessage {
            framework_id: fw.clone(),
            roles: vec![],
        },
    );
    let offers = h.allocate(SCHED);
    h.launch(SCHED, &fw, &[&offers[0]], vec![task("t2")]);
    // The agent re-registers with a report that left it before t2's launch arrived: t2 is not in
    // it (the old instance still is), so t2 is declared LOST and killed.
    let mut info = fw_info("f");
    info.id = Some(fw.clone());
    let mut agent_info = AgentInfo::new("node").with_resources("cpus:4;mem:1024".parse().unwrap());
    agent_info.id = Some(agent.clone());
    let mut reported = executor.clone();
    reported.framework_id = Some(fw.clone());
    h.core.reregister_agent(
        h.now,
        &upid(AGENT),
        ReregisterSlaveMessage {
            agent: agent_info,
            executors: vec![reported],
            tasks: vec![],
            frameworks: vec![info],
            version: "1".into(),
        },
    );
    assert_eq!(updates(&h.out(), SCHED)[0].state, TaskState::Lost);
    // The old instance's exit arrives; t2's launch reaches the agent, which starts a new instance
    // for it; the kill ends t2.
    h.core.exited_executor(
        h.now,
        &upid(AGENT),
        ExitedExecutorMessage {
            agent_id: agent.clone(),
            framework_id: fw.clone(),
            executor_id: ExecutorId::new("e1"),
            status: 9,
        },
    );
    h.agent_update(AGENT, &fw, &agent, "t2", TaskState::Killed, 3);
    // The new instance still holds cpus:1;mem:32: no offer hands them out.
    let offers = offers_in(&h.advance(Duration::from_secs(6)), SCHED);
    assert_eq!(offers.len(), 1, "{offers:?}");
    assert_eq!(offers[0].resources, "cpus:3;mem:992".parse().unwrap());
}

/// The links `out` asks for, with their connection choice.
fn links(out: &[Output]) -> Vec<(process::Upid, process::RemoteConnection)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Link { pid, connection } => Some((pid.clone(), *connection)),
            _ => None,
        })
        .collect()
}

/// Seeds 1347 and 1655 (the class of the former 832): a fault broke the master's connections; the
/// scheduler heard it first, re-registered over a new connection, and only then did the master's
/// `exited` for the old one arrive: the framework was deactivated for good while its driver
/// thought itself registered (no offers ever again). As Mesos's master, a re-registration
/// (framework or agent) now relinks over a fresh connection (`RemoteConnection::Reconnect`), and
/// the runtime and the sim no longer report the replaced connection's breakage (their tests:
/// process/tests/remote_links.rs, the seeds). First registrations link as before.
#[test]
fn a_reregistering_framework_or_agent_is_relinked_over_a_fresh_connection() {
    use process::RemoteConnection::{Reconnect, Reuse};
    let mut h = Harness::new();
    h.core.register_framework(
        h.now,
        &upid(SCHED),
        RegisterFrameworkMessage {
            framework: fw_info("f"),
            suppressed_roles: Vec::new(),
        },
    );
    let out = h.out();
    assert_eq!(links(&out), vec![(upid(SCHED), Reuse)]);
    let fw = match sends(&out, SCHED).first() {
        Some(Outgoing::FrameworkRegistered(m)) => m.framework_id.clone(),
        other => panic!("expected FrameworkRegistered, got {other:?}"),
    };
    h.core.register_agent(
        h.now,
        &upid(AGENT),
        RegisterSlaveMessage {
            agent: AgentInfo::new("node").with_resources("cpus:4;mem:1024".parse().unwrap()),
            version: "1".into(),
        },
    );
    let out = h.out();
    assert_eq!(links(&out), vec![(upid(AGENT), Reuse)]);
    let agent = match sends(&out, AGENT).first() {
        Some(Outgoing::SlaveRegistered(m)) => m.agent_id.clone(),
        other => panic!("expected SlaveRegistered, got {other:?}"),
    };
    // The connections break; both come back.
    h.core.exited(h.now, &upid(SCHED));
    h.core.exited(h.now, &upid(AGENT));
    h.out();
    let mut info = fw_info("f");
    info.id = Some(fw.clone());
    let reregister = |failover| ReregisterFrameworkMessage {
        framework: info.clone(),
        failover,
        suppressed_roles: vec![],
    };
    h.core
        .reregister_framework(h.now, &upid(SCHED), reregister(false));
    assert_eq!(links(&h.out()), vec![(upid(SCHED), Reconnect)]);
    reregister_empty(&mut h, &fw, &agent, fw_info("f"));
    assert_eq!(links(&h.out()), vec![(upid(AGENT), Reconnect)]);
    // A scheduler failover (a new pid) is relinked too.
    h.core
        .reregister_framework(h.now, &upid(SCHED2), reregister(true));
    assert_eq!(links(&h.out()), vec![(upid(SCHED2), Reconnect)]);
    // The framework is offered the agent: it is active and connected.
    assert_eq!(h.allocate(SCHED2).len(), 1);
}

/// Seeds 1045, 1086, 1515, 1776 (lost_never_runs_again, RUNNING from the executor): an agent
/// came back to a new leader with a task that had ended while its RUNNING update was still
/// unacknowledged. The leader dropped the task (reported terminal), answered a reconciliation
/// LOST ("unknown on a registered agent"), then forwarded the RUNNING the agent still had to
/// send. As Mesos, the task is known at its status update state until its terminal update.
#[test]
fn a_task_that_ended_before_its_scheduler_heard_it_run_is_not_lost_to_a_new_leader() {
    let (h, fw, agent) = running(fw_info("f"));
    let (_, registry) = h.core.registry();
    let mut next = new_leader(registry);
    let mut info = fw_info("f");
    info.id = Some(fw.clone());
    let mut task = Task::staging(&command_task("t1", &agent, "cpus:1;mem:64"), &fw, None);
    task.state = TaskState::Finished;
    task.status_update_state = Some(TaskState::Running);
    task.status_update_uuid = Some(Uuid::from_bytes([7; 16]));
    reregister_tasks(&mut next, &agent, info, "cpus:4;mem:1024", vec![task]);
    reregister_scheduler(&mut next, &fw, fw_info("f"));
    next.core.reconcile_tasks(
        next.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![
                TaskStatus::new(TaskId::new("t1"), TaskState::Running).with_agent_id(agent.clone())
            ],
        },
    );
    let states: Vec<TaskState> = updates(&next.out(), SCHED)
        .iter()
        .map(|s| s.state)
        .collect();
    assert_eq!(states, vec![TaskState::Running]);
    // Its updates follow: RUNNING, then FINISHED, which completes it.
    let out = next.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 7);
    assert_eq!(updates(&out, SCHED)[0].state, TaskState::Running);
    let out = next.agent_update(AGENT, &fw, &agent, "t1", TaskState::Finished, 8);
    assert_eq!(updates(&out, SCHED)[0].state, TaskState::Finished);
    assert!(!next.core.frameworks()[&fw]
        .tasks
        .contains_key(&TaskId::new("t1")));
}

/// Seed 1677 (lost_never_runs_again, RUNNING from the master): an agent's connection broke, the
/// leader told the scheduler its non-checkpointing task was LOST and crashed before publishing
/// the registry that said so; the next leader took the task back as running. A leader with a
/// registry now holds status updates until the registry that implies them is published.
#[test]
fn a_lost_task_is_not_reported_before_the_registry_that_keeps_it_lost_is_published() {
    let (mut h, fw, agent) = running(fw_info("f"));
    h.core.hold_updates_until_published();
    let (generation, _) = h.core.registry();
    h.core.registry_published(h.now, generation);
    h.out();
    h.core.exited(h.now, &upid(AGENT));
    assert!(updates(&h.out(), SCHED).is_empty());
    assert_eq!(h.core.held_updates(), 1);
    // An older generation written releases nothing.
    h.core.registry_published(h.now, generation);
    assert!(updates(&h.out(), SCHED).is_empty());
    let (generation, registry) = h.core.registry();
    assert!(registry.iter().any(|a| a.id == agent
        && a.disconnected
        && a.lost_tasks.contains(&(fw.clone(), TaskId::new("t1")))));
    h.core.registry_published(h.now, generation);
    let lost = updates(&h.out(), SCHED);
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].state, TaskState::Lost);
    assert_eq!(h.core.held_updates(), 0);
}

/// Without a registry (no `hold_updates_until_published`), nothing waits.
#[test]
fn a_master_without_a_registry_holds_no_update() {
    let (mut h, _, _) = running(fw_info("f"));
    h.core.exited(h.now, &upid(AGENT));
    assert_eq!(updates(&h.out(), SCHED)[0].state, TaskState::Lost);
}

/// Seed 1772 (lost_never_runs_again): an agent's registration answer was lost, a task was
/// launched on it, and its retried registration made the master take it for a new agent at the
/// same address: the old id removed, the task LOST, a new id given. The agent still ran the task
/// and reported it when it re-registered under the new id; the master let it run (and the next
/// leader reported it RUNNING). A task its scheduler heard end is now killed when an agent
/// reports it running, and its updates are absorbed.
#[test]
fn a_task_lost_under_an_agent_s_old_id_is_killed_when_reported_under_its_new_one() {
    let mut checkpointing = fw_info("f");
    checkpointing.checkpoint = true;
    let (mut h, fw, old) = running(checkpointing);
    // The lost answer broke the connection; the retried registration, with a task launched
    // under the old id, is taken for a new agent there.
    h.core.exited(h.now, &upid(AGENT));
    h.out();
    let new = h.agent(AGENT, "cpus:4;mem:1024");
    assert_ne!(new, old);
    let mut info = fw_info("f");
    info.checkpoint = true;
    info.id = Some(fw.clone());
    let mut task = Task::staging(&command_task("t1", &old, "cpus:1;mem:64"), &fw, None);
    task.state = TaskState::Running;
    let out = reregister_tasks(&mut h, &new, info, "cpus:4;mem:1024", vec![task]);
    assert!(kills_t1_as_lost(&out, &fw), "{out:?}");
    assert!(updates(&out, SCHED).is_empty());
    let out = h.agent_update(AGENT, &fw, &new, "t1", TaskState::Running, 9);
    assert!(updates(&out, SCHED).is_empty());
}
