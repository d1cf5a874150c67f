//! The master side: registration, pings, update retries, masters changing.

use super::*;

fn registrations(outputs: &[Output]) -> Vec<&'static str> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Master { message, .. }
                if matches!(
                    message,
                    ToMaster::RegisterSlave(_) | ToMaster::ReregisterSlave(_)
                ) =>
            {
                Some(message.name())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn registration_is_linked_sent_at_once_and_retried_with_backoff() {
    let now = Instant::now();
    let master = upid("master@127.0.0.1:5050");
    let mut core = AgentCore::new(
        Harness::config(),
        AgentInfo::new("h"),
        upid("slave(1)@127.0.0.1:5099"),
        master.clone(),
        now,
    );
    assert_eq!(core.info().port, 5099);
    assert_eq!(core.next_deadline(), now);
    core.tick(now);
    let outputs = core.drain_outputs();
    assert_eq!(outputs[0], Output::Link(master.clone()));
    assert_eq!(
        registrations(&outputs),
        vec!["mesos.internal.RegisterSlaveMessage"]
    );
    // Unanswered: again after the backoff factor (1 s), then 2 s later.
    assert_eq!(core.next_deadline(), now + SECS);
    core.tick(now + SECS);
    assert_eq!(registrations(&core.drain_outputs()).len(), 1);
    assert_eq!(core.next_deadline(), now + 3 * SECS);
    // A registration from a pid that is not our master is ignored.
    core.registered(
        now,
        &upid("master@127.0.0.1:6060"),
        SlaveRegisteredMessage {
            agent_id: AgentId::new("x"),
            master_info: MasterInfo::default(),
            ping_timeout_secs: 15.0,
        },
    );
    assert_eq!(core.agent_id(), None);
    // A master on a wildcard address is ours.
    core.registered(
        now,
        &upid("master@0.0.0.0:5050"),
        SlaveRegisteredMessage {
            agent_id: AgentId::new("a1"),
            master_info: MasterInfo::default(),
            ping_timeout_secs: 15.0,
        },
    );
    assert_eq!(core.agent_id(), Some(&AgentId::new("a1")));
    assert_eq!(core.info().id, Some(AgentId::new("a1")));
    // Registered: the next deadline is the master's ping timeout (15 s × 5).
    assert_eq!(core.next_deadline(), now + 75 * SECS);
}

#[test]
fn pings_are_answered_and_a_master_that_forgot_us_gets_a_reregistration() {
    let mut h = Harness::new();
    let master = h.master.clone();
    h.core
        .ping(h.now, &master, PingSlaveMessage { connected: true });
    let outputs = h.drain();
    assert_eq!(
        outputs,
        vec![Output::Master {
            to: master.clone(),
            message: ToMaster::PongSlave(PongSlaveMessage {})
        }]
    );
    h.core
        .ping(h.now, &master, PingSlaveMessage { connected: false });
    let outputs = h.drain();
    assert_eq!(
        registrations(&outputs),
        vec!["mesos.internal.ReregisterSlaveMessage"]
    );
    assert!(matches!(
        outputs.last(),
        Some(Output::Master {
            message: ToMaster::PongSlave(_),
            ..
        })
    ));
    // Pings from elsewhere are not answered.
    h.core.ping(
        h.now,
        &upid("master@127.0.0.1:1"),
        PingSlaveMessage { connected: true },
    );
    assert!(h.drain().is_empty());
}

#[test]
fn a_silent_master_is_given_up_and_updates_wait_until_reregistered() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    h.register(&spec);
    let (running, outputs) = h.executor_update("t1", "t1", TaskState::Running, 1);
    assert_eq!(forwarded(&outputs), vec![running.clone()]);
    // No ping for 75 s: re-register, and hold updates meanwhile.
    let outputs = h.advance(75 * SECS);
    assert_eq!(
        registrations(&outputs),
        vec!["mesos.internal.ReregisterSlaveMessage"]
    );
    assert!(forwarded(&outputs).is_empty());
    let (finished, outputs) = h.executor_update("t1", "t1", TaskState::Finished, 2);
    assert!(forwarded(&outputs).is_empty());
    let outputs = h.advance(600 * SECS);
    assert!(
        forwarded(&outputs).is_empty(),
        "nothing is retried while away"
    );
    // Re-registered: the stream's head (RUNNING) goes out again, then FINISHED after its ack.
    let master = h.master.clone();
    h.core.reregistered(
        h.now,
        &master,
        SlaveReregisteredMessage {
            agent_id: AgentId::new("agent-1"),
            master_info: MasterInfo::default(),
            ping_timeout_secs: 15.0,
        },
    );
    assert_eq!(forwarded(&h.drain()), vec![running.clone()]);
    assert_eq!(forwarded(&h.ack(&running)), vec![finished]);
}

#[test]
fn the_reregistration_reports_executors_and_tasks() {
    let mut h = Harness::new();
    let spec = h.launch(executor_task("t1", "e1"), 100);
    h.register(&spec);
    h.executor_update("e1", "t1", TaskState::Running, 1);
    h.launch(command_task("c1"), 101);
    let master = h.master.clone();
    h.core.exited(h.now, &master);
    let outputs = h.drain();
    let message = outputs
        .iter()
        .find_map(|o| match o {
            Output::Master {
                message: ToMaster::ReregisterSlave(m),
                ..
            } => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(message.agent.id, Some(AgentId::new("agent-1")));
    assert_eq!(
        message.executors.len(),
        1,
        "command executors are not reported"
    );
    let mut tasks: Vec<(String, TaskState)> = message
        .tasks
        .iter()
        .map(|t| (t.task_id.to_string(), t.state))
        .collect();
    tasks.sort();
    assert_eq!(
        tasks,
        vec![
            ("c1".into(), TaskState::Staging),
            ("t1".into(), TaskState::Running)
        ]
    );
    assert_eq!(message.frameworks[0].id, Some(framework_id()));
}

#[test]
fn unacknowledged_updates_are_retried_with_backoff() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    h.register(&spec);
    let (running, _) = h.executor_update("t1", "t1", TaskState::Running, 1);
    assert_eq!(h.core.next_deadline(), h.now + 10 * SECS);
    assert_eq!(forwarded(&h.advance(10 * SECS)), vec![running.clone()]);
    assert_eq!(h.core.next_deadline(), h.now + 20 * SECS);
    assert!(forwarded(&h.advance(19 * SECS)).is_empty());
    assert_eq!(forwarded(&h.advance(SECS)), vec![running.clone()]);
    h.ack(&running);
    assert!(forwarded(&h.advance(3600 * SECS)).is_empty());
}

/// Found by the simulation (seed 58): a task the master declared LOST is killed with
/// `KillTasksOnReregistrationMessage`; its RUNNING update, still waiting for an
/// acknowledgement, is retired then, so a later master (which does not know the task was
/// declared lost) never forwards it. Its end still goes out.
#[test]
fn a_task_killed_as_lost_retires_its_updates_that_say_it_runs() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    h.register(&spec);
    let (running, out) = h.executor_update("t1", "t1", TaskState::Running, 1);
    assert_eq!(forwarded(&out), vec![running.clone()]);
    let master = h.master.clone();
    h.core.kill_tasks_on_reregistration(
        h.now,
        &master,
        KillTasksOnReregistrationMessage {
            tasks: vec![(framework_id(), TaskId::new("t1"))],
        },
    );
    let out = h.drain();
    assert_eq!(
        to_executors(&out),
        vec!["mesos.internal.KillTaskMessage"],
        "{out:?}"
    );
    assert!(forwarded(&out).is_empty());
    // Retried no more; the executor's KILLED goes out at once and is retried.
    let (killed, out) = h.executor_update("t1", "t1", TaskState::Killed, 2);
    assert_eq!(forwarded(&out), vec![killed.clone()]);
    assert_eq!(forwarded(&h.advance(10 * SECS)), vec![killed.clone()]);
    // A stale acknowledgement of the retired update changes nothing.
    assert!(forwarded(&h.ack(&running)).is_empty());
    h.ack(&killed);
    assert!(forwarded(&h.advance(3600 * SECS)).is_empty());
}

/// A kill for a task of a framework the agent never heard of (its launch was lost on the way)
/// is answered LOST: the master holds the task's resources until it hears the task's end.
#[test]
fn a_kill_of_a_task_of_an_unknown_framework_is_answered_lost() {
    let mut h = Harness::new();
    let out = h.kill("t9");
    let updates = forwarded(&out);
    assert_eq!(updates.len(), 1, "{out:?}");
    assert_eq!(updates[0].status.state, TaskState::Lost);
    assert_eq!(updates[0].status.reason, Some(Reason::TaskUnknown));
}

#[test]
fn a_new_leading_master_gets_a_reregistration_and_the_old_one_is_ignored() {
    let mut h = Harness::new();
    let old = h.master.clone();
    let new = upid("master@127.0.0.1:6060");
    h.core.master_detected(h.now, old.clone());
    assert!(h.drain().is_empty(), "the same master again is a no-op");
    h.core.master_detected(h.now, new.clone());
    let outputs = h.drain();
    assert_eq!(outputs[0], Output::Link(new.clone()));
    assert!(
        matches!(&outputs[1], Output::Master { to, message: ToMaster::ReregisterSlave(_) } if to == &new)
    );
    assert_eq!(h.core.master(), &new);
    h.core.run_task(
        h.now,
        &old,
        RunTaskMessage {
            framework_id: framework_id(),
            framework: framework(),
            pid: String::new(),
            task: command_task("t1"),
        },
    );
    assert!(h.drain().is_empty());
}

#[test]
fn a_shutdown_from_the_master_kills_everything_and_registers_anew() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    h.register(&spec);
    h.executor_update("t1", "t1", TaskState::Running, 1);
    let master = h.master.clone();
    h.core.shutdown(
        h.now,
        &master,
        ShutdownMessage {
            message: "removed".into(),
        },
    );
    let outputs = h.drain();
    assert_eq!(destroyed(&outputs), vec![spec.container_id.clone()]);
    assert_eq!(h.core.agent_id(), None);
    assert_eq!(h.core.info().id, None);
    assert!(h.core.updates().pending_counts().is_empty());
    let outputs = h.advance(Duration::ZERO);
    assert_eq!(
        registrations(&outputs),
        vec!["mesos.internal.RegisterSlaveMessage"]
    );
}

/// Sim seed 182 (no_overcommit): the agent's registration answer was lost, a launch on the id the
/// master had given it arrived anyway, the agent then registered anew under another id (the master
/// removing the first one, its tasks GONE) and ran the task where no master counted it. A launch on
/// an agent id this agent does not have is ignored.
#[test]
fn a_task_launched_on_another_agent_id_is_ignored() {
    let mut h = Harness::new();
    let elsewhere = TaskInfo::new(
        "t1",
        "t1",
        AgentId::new("agent-0"),
        "cpus:1".parse().unwrap(),
    )
    .with_command(CommandInfo::shell("sleep 100"));
    let out = h.run(elsewhere);
    assert!(out.is_empty(), "{out:?}");
    assert!(h.core.book().framework(&framework_id()).is_none());
    // Addressed to this agent, it runs.
    let out = h.run(command_task("t1"));
    assert!(!out.is_empty());
    assert!(h.core.book().framework(&framework_id()).is_some());
}

/// Seeds 1045, 1086, 1515, 1776: a task that ended while its RUNNING update was unacknowledged
/// is reported to a new master at the state of that update in flight (Mesos's
/// `status_update_state`), not at its latest state, so the master keeps it until its end.
#[test]
fn a_reregistration_reports_a_task_at_the_state_of_its_update_in_flight() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    h.register(&spec);
    let (running, _) = h.executor_update("t1", "t1", TaskState::Running, 1);
    h.executor_update("t1", "t1", TaskState::Finished, 2);
    h.core.master_detected(h.now, upid("master@127.0.0.1:6060"));
    let reported = h
        .drain()
        .into_iter()
        .find_map(|o| match o {
            Output::Master {
                message: ToMaster::ReregisterSlave(m),
                ..
            } => Some(m),
            _ => None,
        })
        .expect("a re-registration");
    let task = &reported.tasks[0];
    assert_eq!(task.state, TaskState::Finished);
    assert_eq!(task.status_update_state, Some(TaskState::Running));
    assert_eq!(task.status_update_uuid, Some(running.uuid));
}
