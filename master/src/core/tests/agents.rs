//! Agent lifecycle: health checks, removal, LOST stays lost, re-registration, executors.

use std::time::Duration;

use mesos::protocol::*;
use mesos::*;

use super::*;
use crate::outputs::Outgoing;

#[test]
fn ping_timeouts_remove_the_agent_and_lose_its_tasks() {
    let (h, fw, agent, out) = agent_removed(fw_info("f"));
    let to_sched = sends(&out, SCHED);
    assert_eq!(to_sched.len(), 3, "{to_sched:?}");
    assert!(
        matches!(to_sched[0], Outgoing::RescindResourceOffer(_)),
        "the agent's offer"
    );
    let status = updates(&out, SCHED).remove(0);
    assert_eq!(status.state, TaskState::Lost);
    assert_eq!(status.reason, Some(Reason::AgentRemoved));
    assert_eq!(status.source, Some(Source::Master));
    assert_eq!(
        status.message.as_deref(),
        Some("Agent m1-S0 removed: health check timed out")
    );
    assert_eq!(
        to_sched[2],
        Outgoing::LostSlave(LostSlaveMessage {
            agent_id: agent.clone()
        })
    );
    assert_eq!(h.core.counters().tasks_terminal["TASK_LOST"], 1);
    assert_eq!(
        h.core.frameworks()[&fw].completed_tasks[0].state,
        TaskState::Lost
    );
}

#[test]
fn partition_aware_tasks_become_unreachable_and_come_back_running() {
    let (mut h, fw, agent, out) = agent_removed(partition_aware());
    let status = updates(&out, SCHED).remove(0);
    assert_eq!(
        (status.state, status.reason),
        (TaskState::Unreachable, Some(Reason::AgentRemoved))
    );
    assert!(h.core.frameworks()[&fw]
        .unreachable_tasks
        .contains_key(&TaskId::new("t1")));
    let out = reregister_with_running_task(&mut h, &fw, &agent, partition_aware());
    let back = updates(&out, SCHED);
    assert_eq!(back.len(), 1);
    assert_eq!(
        (back[0].state, back[0].reason),
        (TaskState::Running, Some(Reason::AgentReregistered))
    );
    assert!(!sends(&out, AGENT)
        .iter()
        .any(|m| matches!(m, Outgoing::KillTask(_))));
    assert_eq!(
        h.core.frameworks()[&fw].tasks[&TaskId::new("t1")]
            .task
            .state,
        TaskState::Running
    );
}

#[test]
fn lost_stays_lost_when_the_agent_comes_back() {
    let (mut h, fw, agent, _) = agent_removed(fw_info("f"));
    let out = reregister_with_running_task(&mut h, &fw, &agent, fw_info("f"));
    assert!(
        updates(&out, SCHED).is_empty(),
        "never reported RUNNING again"
    );
    let to_agent = sends(&out, AGENT);
    let kill = KillTaskMessage {
        framework_id: fw.clone(),
        task_id: TaskId::new("t1"),
    };
    // One kill, not two: no KillTaskMessage besides the re-registration's batch.
    assert!(!to_agent.iter().any(|m| matches!(m, Outgoing::KillTask(_))));
    assert!(to_agent.contains(&Outgoing::KillTasksOnReregistration(
        KillTasksOnReregistrationMessage {
            tasks: vec![(fw.clone(), TaskId::new("t1"))]
        }
    )));
    assert!(h.core.frameworks()[&fw].tasks.is_empty());
    // A RUNNING update from the agent is not forwarded; the master acknowledges it and re-kills.
    let out = h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 9);
    assert!(sends(&out, SCHED).is_empty());
    assert!(
        sends(&out, AGENT).contains(&Outgoing::KillTasksOnReregistration(
            KillTasksOnReregistrationMessage {
                tasks: vec![(kill.framework_id.clone(), kill.task_id.clone())]
            }
        ))
    );
    // The KILLED update frees the resources without reaching the scheduler.
    let out = h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Killed, 10);
    assert!(sends(&out, SCHED).is_empty());
    let offers = offers_in(&h.advance(Duration::from_secs(1)), SCHED);
    assert_eq!(offers[0].resources, "cpus:4;mem:1024".parse().unwrap());
}

#[test]
fn a_broken_agent_link_rescinds_offers_until_it_reregisters() {
    let (mut h, fw, agent, offer) = offered();
    h.core.exited(h.now, &upid(AGENT));
    assert_eq!(
        sends(&h.out(), SCHED),
        vec![Outgoing::RescindResourceOffer(
            RescindResourceOfferMessage {
                offer_id: offer.id.clone()
            }
        )]
    );
    assert!(offers_in(&h.advance(Duration::from_secs(1)), SCHED).is_empty());
    // Pings continue, flagged as disconnected.
    let out = h.advance(Duration::from_secs(14));
    assert_eq!(
        sends(&out, AGENT),
        vec![Outgoing::PingSlave(PingSlaveMessage { connected: false })]
    );
    let out = reregister_with_running_task(&mut h, &fw, &agent, fw_info("f"));
    assert!(matches!(
        sends(&out, AGENT)[0],
        Outgoing::SlaveReregistered(_)
    ));
    assert_eq!(
        offers_in(&h.advance(Duration::from_secs(1)), SCHED).len(),
        1
    );
}

#[test]
fn a_new_master_rebuilds_state_from_reregistering_agents() {
    let mut h = Harness::new();
    let fw = FrameworkId::new("old-0000");
    let agent = AgentId::new("old-S3");
    let mut info = fw_info("f").with_failover_timeout(Duration::from_secs(3600));
    info.id = Some(fw.clone());
    let out = reregister_with_running_task(&mut h, &fw, &agent, info.clone());
    assert!(
        matches!(sends(&out, AGENT)[0], Outgoing::SlaveReregistered(_)),
        "{out:?}"
    );
    let framework = &h.core.frameworks()[&fw];
    assert!(framework.recovered && !framework.connected);
    assert_eq!(
        framework.tasks[&TaskId::new("t1")].task.state,
        TaskState::Running
    );
    // The scheduler re-registers and is offered only what the task does not use.
    h.core.reregister_framework(
        h.now,
        &upid(SCHED),
        ReregisterFrameworkMessage {
            framework: info,
            failover: false,
            suppressed_roles: vec![],
        },
    );
    let out = h.out();
    assert!(matches!(
        &sends(&out, SCHED)[0],
        Outgoing::FrameworkReregistered(_)
    ));
    assert_eq!(
        sends(&out, AGENT),
        vec![Outgoing::UpdateFramework(UpdateFrameworkMessage {
            framework_id: fw.clone(),
            pid: SCHED.into()
        })]
    );
    let offers = h.allocate(SCHED);
    assert_eq!(offers[0].resources, "cpus:3;mem:960".parse().unwrap());
}

#[test]
fn a_registration_retry_keeps_the_id_but_a_new_incarnation_replaces_the_agent() {
    let (mut h, fw, agent, offer) = offered();
    let retry = |h: &mut Harness, resources: &str| {
        h.core.register_agent(
            h.now,
            &upid(AGENT),
            RegisterSlaveMessage {
                agent: AgentInfo::new("node").with_resources(resources.parse().unwrap()),
                version: "1".into(),
            },
        );
        h.out()
    };
    let out = retry(&mut h, "cpus:4;mem:1024");
    assert!(matches!(&sends(&out, AGENT)[0], Outgoing::SlaveRegistered(m) if m.agent_id == agent));
    assert_eq!(h.core.agents().len(), 1);
    // With a task launched since, from the connected agent: still a retry (as Mesos).
    h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![command_task("t1", &agent, "cpus:1")],
    );
    let out = retry(&mut h, "cpus:4;mem:1024");
    assert!(matches!(&sends(&out, AGENT)[0], Outgoing::SlaveRegistered(m) if m.agent_id == agent));
    assert!(updates(&out, SCHED).is_empty());
    // Once its connection broke, a fresh registration from the same address is a restarted
    // agent: the old one is removed.
    h.core.exited(h.now, &upid(AGENT));
    assert_eq!(updates(&h.out(), SCHED)[0].state, TaskState::Lost);
    let out = retry(&mut h, "cpus:4;mem:1024");
    assert!(
        sends(&out, SCHED).contains(&Outgoing::LostSlave(LostSlaveMessage {
            agent_id: agent.clone()
        }))
    );
    assert!(
        matches!(&sends(&out, AGENT)[0], Outgoing::SlaveRegistered(m) if m.agent_id.as_str() == "m1-S1")
    );
    assert_eq!(
        h.core
            .agents()
            .keys()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        vec!["m1-S1"]
    );
}

#[test]
fn an_unregistering_agent_is_gone_for_partition_aware_frameworks() {
    let mut h = Harness::new();
    let fw = h.framework(SCHED, partition_aware());
    let agent = h.agent(AGENT, "cpus:4;mem:1024");
    let offers = h.allocate(SCHED);
    h.launch(
        SCHED,
        &fw,
        &[&offers[0]],
        vec![command_task("t1", &agent, "cpus:1")],
    );
    // Only the agent itself may unregister it.
    h.core.unregister_agent(
        h.now,
        &upid(AGENT2),
        UnregisterSlaveMessage {
            agent_id: agent.clone(),
        },
    );
    assert!(h.core.agents().contains_key(&agent));
    h.core.unregister_agent(
        h.now,
        &upid(AGENT),
        UnregisterSlaveMessage {
            agent_id: agent.clone(),
        },
    );
    let out = h.out();
    let status = updates(&out, SCHED).remove(0);
    assert_eq!(
        (status.state, status.reason),
        (TaskState::Gone, Some(Reason::AgentRemoved))
    );
    assert_eq!(status.message.as_deref(), Some("Agent m1-S0 unregistered"));
    // Reconciliation now says GONE for it.
    let mut ask = TaskStatus::new(TaskId::new("other"), TaskState::Running);
    ask.agent_id = Some(agent.clone());
    h.core.reconcile_tasks(
        h.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![ask],
        },
    );
    assert_eq!(updates(&h.out(), SCHED)[0].state, TaskState::Gone);
}

#[test]
fn reconciling_tasks_of_an_unreachable_agent() {
    let (mut h, fw, agent, _) = agent_removed(partition_aware());
    let ask = |id: &str| {
        let mut s = TaskStatus::new(TaskId::new(id), TaskState::Running);
        s.agent_id = Some(agent.clone());
        s
    };
    h.core.reconcile_tasks(
        h.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![ask("t1"), ask("other")],
        },
    );
    let states: Vec<_> = updates(&h.out(), SCHED).iter().map(|s| s.state).collect();
    assert_eq!(states, vec![TaskState::Unreachable, TaskState::Unreachable]);
    // Implicit reconciliation includes unreachable tasks.
    h.core.reconcile_tasks(
        h.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw,
            statuses: vec![],
        },
    );
    let states: Vec<_> = updates(&h.out(), SCHED).iter().map(|s| s.state).collect();
    assert_eq!(states, vec![TaskState::Unreachable]);
}

#[test]
fn an_exited_executor_returns_its_resources_and_is_reported() {
    let (mut h, fw, agent, offer) = offered();
    let executor = ExecutorInfo::new("e1", CommandInfo::shell("exec"))
        .with_resources("cpus:1;mem:32".parse().unwrap());
    let task = TaskInfo::new("t1", "t1", agent.clone(), "cpus:1;mem:32".parse().unwrap())
        .with_executor(executor);
    h.launch(SCHED, &fw, &[&offer], vec![task]);
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Finished, 1);
    h.core.revive_offers(
        h.now,
        &ep(SCHED),
        ReviveOffersMessage {
            framework_id: fw.clone(),
            roles: vec![],
        },
    );
    assert_eq!(
        h.allocate(SCHED)[0].resources,
        "cpus:3;mem:992".parse().unwrap(),
        "the executor still holds its share"
    );
    let exited = ExitedExecutorMessage {
        agent_id: agent.clone(),
        framework_id: fw.clone(),
        executor_id: ExecutorId::new("e1"),
        status: 0,
    };
    h.core.exited_executor(h.now, &upid(AGENT), exited.clone());
    assert_eq!(
        sends(&h.out(), SCHED),
        vec![Outgoing::ExitedExecutor(exited)]
    );
    let offers = offers_in(&h.advance(Duration::from_secs(1)), SCHED);
    assert_eq!(offers[0].resources, "cpus:1;mem:32".parse().unwrap());
}

#[test]
fn tasks_a_reregistering_agent_no_longer_has_are_lost() {
    let (mut h, fw, agent, offer) = offered();
    h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![
            command_task("ran", &agent, "cpus:1"),
            command_task("staged", &agent, "cpus:1"),
        ],
    );
    h.agent_update(AGENT, &fw, &agent, "ran", TaskState::Running, 1);
    // The agent comes back reporting neither task: "ran" reached it and is gone; "staged" never
    // did (its launch was lost with the connection), or is still on its way: it is lost too, and
    // killed in case it arrives (a zombie holding its resources until the agent reports its end).
    let mut info = AgentInfo::new("node").with_resources("cpus:4;mem:1024".parse().unwrap());
    info.id = Some(agent.clone());
    h.core.reregister_agent(
        h.now,
        &upid(AGENT),
        ReregisterSlaveMessage {
            agent: info,
            executors: vec![],
            tasks: vec![],
            frameworks: vec![],
            version: "1".into(),
        },
    );
    let out = h.out();
    assert!(matches!(
        sends(&out, AGENT)[0],
        Outgoing::SlaveReregistered(_)
    ));
    // Declared lost (its scheduler hears LOST): killed as such, its updates retired.
    assert!(
        sends(&out, AGENT).contains(&Outgoing::KillTasksOnReregistration(
            KillTasksOnReregistrationMessage {
                tasks: vec![(fw.clone(), TaskId::new("staged"))],
            }
        ))
    );
    let mut lost: Vec<(String, TaskState, Option<Reason>)> = updates(&out, SCHED)
        .into_iter()
        .map(|s| (s.task_id.as_str().to_string(), s.state, s.reason))
        .collect();
    lost.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        lost,
        vec![
            (
                "ran".to_string(),
                TaskState::Lost,
                Some(Reason::AgentRestarted)
            ),
            (
                "staged".to_string(),
                TaskState::Lost,
                Some(Reason::AgentRestarted)
            ),
        ]
    );
    assert!(h.core.frameworks()[&fw].tasks.is_empty());
    assert!(h.core.agents()[&agent]
        .zombies
        .contains_key(&(fw.clone(), TaskId::new("staged"))));
}
