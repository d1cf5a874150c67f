//! The executor side: launches, registration, updates and acknowledgements, kills, shutdowns,
//! limitations.

use isolation::Limitation;

use super::*;

fn oom() -> Limitation {
    Limitation {
        resource: "mem",
        message: "Memory limit exceeded".into(),
    }
}

#[test]
fn a_command_task_launches_its_executor_which_gets_the_task_on_registration() {
    let mut h = Harness::new();
    let outputs = h.run(command_task("t1"));
    let spec = launch_of(&outputs).unwrap();
    assert_eq!(outputs.len(), 1);
    assert!(spec.command_executor);
    assert_eq!(spec.agent_id, AgentId::new("agent-1"));
    assert_eq!(spec.resources, "cpus:1;mem:64".parse().unwrap());
    assert_eq!(
        spec.executor.command.value.as_deref(),
        Some("/opt/mesos/mesos-executor")
    );
    assert!(spec
        .directory
        .starts_with("/work/slaves/agent-1/frameworks/fw-1/executors/t1/runs"));
    h.core.executor_launched(h.now, &spec.container_id, 4242);
    assert_eq!(h.core.containers()[&spec.container_id].os_pid, Some(4242));
    let outputs = h.register(&spec);
    assert_eq!(
        to_executors(&outputs),
        vec![
            "mesos.internal.ExecutorRegisteredMessage",
            "mesos.internal.RunTaskMessage"
        ]
    );
    // The container already held the task; sending it does not change its size.
    assert_eq!(resized(&outputs), vec!["cpus:1;mem:64".parse().unwrap()]);
}

#[test]
fn container_ids_and_update_uuids_never_repeat() {
    let mut h = Harness::new();
    let mut containers = std::collections::BTreeSet::new();
    for i in 0..300 {
        let spec = launch_of(&h.run(command_task(&format!("t{i}")))).unwrap();
        assert!(containers.insert(spec.container_id));
    }
    // Agent-made updates (here: LOST for unknown tasks) have distinct uuids too.
    let mut uuids = std::collections::BTreeSet::new();
    for i in 0..300 {
        for update in forwarded(&h.kill(&format!("unknown-{i}"))) {
            assert!(uuids.insert(update.uuid), "uuid {} repeats", update.uuid);
        }
    }
    assert_eq!(uuids.len(), 300);
    // Another agent start has another seed.
    let other = Harness::with_config(CoreConfig {
        seed: 2,
        ..Harness::config()
    });
    let mut other = other;
    let spec = launch_of(&other.run(command_task("t0"))).unwrap();
    assert!(!containers.contains(&spec.container_id));
}

#[test]
fn tasks_for_a_starting_executor_queue_and_grow_its_container_once_it_runs() {
    let mut h = Harness::new();
    let spec = h.launch(executor_task("t1", "e1"), 100);
    // Queued while the executor registers: the running container grows at once.
    let outputs = h.run(executor_task("t2", "e1"));
    assert_eq!(resized(&outputs), vec!["cpus:2.5".parse().unwrap()]);
    assert!(to_executors(&outputs).is_empty());
    let outputs = h.register(&spec);
    assert_eq!(
        to_executors(&outputs),
        vec![
            "mesos.internal.ExecutorRegisteredMessage",
            "mesos.internal.RunTaskMessage",
            "mesos.internal.RunTaskMessage"
        ]
    );
    // Registered: the next task goes straight to it.
    let outputs = h.run(executor_task("t3", "e1"));
    assert_eq!(resized(&outputs), vec!["cpus:3.5".parse().unwrap()]);
    assert!(matches!(
        &outputs[1],
        Output::Executor { to, message: ToExecutor::RunTask(m) } if to == &executor_pid() && m.task.task_id == TaskId::new("t3")
    ));
    // A task ends: the container shrinks.
    let (_, outputs) = h.executor_update("e1", "t1", TaskState::Finished, 1);
    assert_eq!(resized(&outputs), vec!["cpus:2.5".parse().unwrap()]);
}

#[test]
fn an_executor_update_is_acknowledged_to_it_forwarded_and_its_ack_relayed() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    h.register(&spec);
    let (update, outputs) = h.executor_update("t1", "t1", TaskState::Running, 1);
    assert!(
        matches!(&outputs[0], Output::Master { to, message: ToMaster::StatusUpdate(m) }
        if to == &h.master && m.update == update && m.pid.as_deref() == Some("slave(1)@127.0.0.1:5051"))
    );
    assert_eq!(
        outputs[1],
        Output::Executor {
            to: executor_pid(),
            message: ToExecutor::StatusUpdateAcknowledgement(StatusUpdateAcknowledgementMessage {
                agent_id: AgentId::new("agent-1"),
                framework_id: framework_id(),
                task_id: TaskId::new("t1"),
                uuid: update.uuid,
            })
        }
    );
    // The master's acknowledgement is relayed to the executor (second acknowledgement).
    let outputs = h.ack(&update);
    assert_eq!(
        to_executors(&outputs),
        vec!["mesos.internal.StatusUpdateAcknowledgementMessage"]
    );
    // From an unknown pid: dropped, not acknowledged.
    let stray = executor_status("t1", "t1", TaskState::Finished, 9);
    h.core.status_update(
        h.now,
        &ExecutorEndpoint::Pid(upid("executor@127.0.0.1:1")),
        stray,
        None,
    );
    assert!(h.drain().is_empty());
}

#[test]
fn a_terminal_update_holds_resources_until_acknowledged() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    h.register(&spec);
    let (finished, _) = h.executor_update("t1", "t1", TaskState::Finished, 1);
    assert_eq!(
        h.core.book().used_resources(),
        "cpus:1;mem:64".parse().unwrap()
    );
    h.ack(&finished);
    assert!(h.core.book().used_resources().is_empty());
    let framework = h.core.book().framework(&framework_id()).unwrap();
    assert_eq!(framework.completed.len(), 1);
}

#[test]
fn a_terminal_update_of_a_limited_container_fails_with_the_limitation() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    h.register(&spec);
    let finished = executor_status("t1", "t1", TaskState::Finished, 1);
    assert_eq!(
        h.core.limitation_container(&finished),
        Some(spec.container_id.clone())
    );
    assert_eq!(
        h.core
            .limitation_container(&executor_status("t1", "t1", TaskState::Running, 2)),
        None
    );
    h.core
        .status_update(h.now, &executor_pid(), finished, Some(oom()));
    let sent = forwarded(&h.drain());
    assert_eq!(sent[0].status.state, TaskState::Failed);
    assert_eq!(
        sent[0].status.reason,
        Some(Reason::ContainerLimitationMemory)
    );
}

#[test]
fn a_limited_container_is_destroyed_and_its_tasks_failed_once() {
    let mut h = Harness::with_config(CoreConfig {
        watch_limitations: true,
        ..Harness::config()
    });
    let spec = h.launch(executor_task("t1", "e1"), 100);
    h.register(&spec);
    // Live containers are polled every 100 ms.
    let outputs = h.advance(LIMITATION_POLL_INTERVAL);
    assert_eq!(
        outputs,
        vec![Output::CheckLimitations(vec![spec.container_id.clone()])]
    );
    h.core.container_limited(h.now, &spec.container_id, oom());
    let outputs = h.drain();
    assert_eq!(destroyed(&outputs), vec![spec.container_id.clone()]);
    let sent = forwarded(&outputs);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status.state, TaskState::Failed);
    assert_eq!(sent[0].status.source, Some(Source::Agent));
    // What the executor still says about the task is dropped; a second report changes nothing.
    let (_, outputs) = h.executor_update("e1", "t1", TaskState::Finished, 2);
    assert!(forwarded(&outputs).is_empty());
    h.core.container_limited(h.now, &spec.container_id, oom());
    assert!(h.drain().is_empty());
    // A limited container is not polled again.
    assert!(h.advance(LIMITATION_POLL_INTERVAL).is_empty());
    // Its exit reports nothing more for the task, but tells the master.
    h.core
        .executor_exited(h.now, &spec.container_id, exit("killed"), Some(oom()));
    let outputs = h.drain();
    assert!(forwarded(&outputs).is_empty());
    assert!(matches!(
        outputs[..],
        [Output::Master {
            message: ToMaster::ExitedExecutor(_),
            ..
        }]
    ));
}

#[test]
fn an_executor_exit_fails_its_live_tasks_and_tells_the_master() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    h.register(&spec);
    h.core.executor_exited(
        h.now,
        &spec.container_id,
        exit("terminated by signal SIGKILL"),
        None,
    );
    let outputs = h.drain();
    let sent = forwarded(&outputs);
    assert_eq!(sent[0].status.state, TaskState::Failed);
    assert_eq!(sent[0].status.reason, Some(Reason::CommandExecutorFailed));
    assert_eq!(sent[0].executor_id, Some(ExecutorId::new("t1")));
    assert!(outputs.iter().any(|o| matches!(o, Output::Master { message: ToMaster::ExitedExecutor(m), .. } if m.status == 9)));
    assert!(h.core.containers().is_empty());
    // A second report of the same exit is ignored.
    h.core
        .executor_exited(h.now, &spec.container_id, exit("x"), None);
    assert!(h.drain().is_empty());
}

#[test]
fn a_failed_launch_fails_the_task() {
    let mut h = Harness::new();
    let spec = launch_of(&h.run(command_task("t1"))).unwrap();
    h.core.executor_exited(
        h.now,
        &spec.container_id,
        ExitInfo {
            wait_status: -1,
            description: "failed to launch: no such file".into(),
        },
        None,
    );
    let sent = forwarded(&h.drain());
    assert_eq!(sent[0].status.state, TaskState::Failed);
    assert!(sent[0]
        .status
        .message
        .as_deref()
        .unwrap()
        .contains("failed to launch"));
}

#[test]
fn a_container_that_cannot_be_launched_fails_its_task_with_container_launch_failed() {
    let mut h = Harness::new();
    let spec = launch_of(&h.run(command_task("t1"))).unwrap();
    h.core.executor_launch_failed(
        h.now,
        &spec.container_id,
        "cannot fetch URI 'http://x/y.tgz': HTTP status 404",
    );
    let sent = forwarded(&h.drain());
    assert_eq!(sent[0].status.state, TaskState::Failed);
    assert_eq!(
        sent[0].status.reason,
        Some(mesos::Reason::ContainerLaunchFailed)
    );
    assert_eq!(
        sent[0].status.message.as_deref(),
        Some("Failed to launch container: cannot fetch URI 'http://x/y.tgz': HTTP status 404")
    );
}

#[test]
fn killing_a_queued_task_reports_killed_and_destroys_the_idle_unregistered_executor() {
    let mut h = Harness::new();
    let spec = h.launch(executor_task("t1", "e1"), 100);
    let outputs = h.kill("t1");
    let sent = forwarded(&outputs);
    assert_eq!(sent[0].status.state, TaskState::Killed);
    assert_eq!(sent[0].status.reason, Some(Reason::TaskKilledDuringLaunch));
    // Not registered: no one to ask, so its container goes at once.
    assert_eq!(destroyed(&outputs), vec![spec.container_id.clone()]);
}

#[test]
fn a_kill_for_a_running_task_goes_to_its_executor_and_unknown_tasks_are_lost() {
    let mut h = Harness::new();
    let spec = h.launch(executor_task("t1", "e1"), 100);
    h.register(&spec);
    assert_eq!(
        h.kill("t1"),
        vec![Output::Executor {
            to: executor_pid(),
            message: ToExecutor::KillTask(KillTaskMessage {
                framework_id: framework_id(),
                task_id: TaskId::new("t1"),
            })
        }]
    );
    let sent = forwarded(&h.kill("nope"));
    assert_eq!(sent[0].status.state, TaskState::Lost);
}

#[test]
fn framework_shutdown_asks_executors_kills_after_the_grace_period_and_drops_updates() {
    let mut h = Harness::new();
    let spec = h.launch(executor_task("t1", "e1"), 100);
    h.register(&spec);
    let master = h.master.clone();
    h.core.shutdown_framework(
        h.now,
        &master,
        ShutdownFrameworkMessage {
            framework_id: framework_id(),
        },
    );
    assert_eq!(
        to_executors(&h.drain()),
        vec!["mesos.internal.ShutdownExecutorMessage"]
    );
    // The executor's last words are acknowledged to it but not forwarded: nobody would ack them.
    let (_, outputs) = h.executor_update("e1", "t1", TaskState::Killed, 1);
    assert_eq!(
        to_executors(&outputs),
        vec!["mesos.internal.StatusUpdateAcknowledgementMessage"]
    );
    assert!(forwarded(&outputs).is_empty());
    // Still running when the grace period (5 s) ends: killed.
    assert!(destroyed(&h.advance(4 * SECS)).is_empty());
    assert_eq!(destroyed(&h.advance(SECS)), vec![spec.container_id.clone()]);
    h.core
        .executor_exited(h.now, &spec.container_id, exit("killed"), None);
    let outputs = h.drain();
    assert!(outputs.is_empty(), "{outputs:?}");
    assert!(h.core.book().framework(&framework_id()).is_none());
}

#[test]
fn an_executor_that_exits_within_the_grace_period_is_not_killed() {
    let mut h = Harness::new();
    let spec = h.launch(executor_task("t1", "e1"), 100);
    h.register(&spec);
    let master = h.master.clone();
    h.core.shutdown_executor_message(
        h.now,
        &master,
        ShutdownExecutorMessage {
            framework_id: framework_id(),
            executor_id: ExecutorId::new("e1"),
        },
    );
    h.drain();
    h.core.executor_exited(
        h.now,
        &spec.container_id,
        exit("exited with status 0"),
        None,
    );
    h.drain();
    assert!(destroyed(&h.advance(10 * SECS)).is_empty());
}

#[test]
fn an_executor_that_does_not_register_in_time_is_killed_and_its_tasks_say_why() {
    let mut h = Harness::new();
    let spec = h.launch(command_task("t1"), 100);
    assert_eq!(h.core.next_deadline(), h.now + 60 * SECS);
    assert_eq!(
        destroyed(&h.advance(60 * SECS)),
        vec![spec.container_id.clone()]
    );
    h.core
        .executor_exited(h.now, &spec.container_id, exit("killed"), None);
    let sent = forwarded(&h.drain());
    assert_eq!(sent[0].status.state, TaskState::Failed);
    assert_eq!(
        sent[0].status.reason,
        Some(Reason::ExecutorRegistrationTimeout)
    );
}

#[test]
fn unknown_executors_are_told_to_shut_down() {
    let mut h = Harness::new();
    let stranger = ExecutorEndpoint::Pid(upid("executor@127.0.0.1:7777"));
    h.core.register_executor(
        h.now,
        stranger.clone(),
        RegisterExecutorMessage {
            framework_id: framework_id(),
            executor_id: ExecutorId::new("nobody"),
        },
    );
    assert_eq!(
        h.drain(),
        vec![Output::Executor {
            to: stranger.clone(),
            message: ToExecutor::ShutdownExecutor(ShutdownExecutorMessage {
                framework_id: framework_id(),
                executor_id: ExecutorId::new("nobody"),
            })
        }]
    );
    h.core.reregister_executor(
        h.now,
        stranger,
        ReregisterExecutorMessage {
            framework_id: framework_id(),
            executor_id: ExecutorId::new("nobody"),
            tasks: vec![],
            updates: vec![],
        },
    );
    assert_eq!(
        to_executors(&h.drain()),
        vec!["mesos.internal.ShutdownExecutorMessage"]
    );
}

#[test]
fn framework_messages_are_relayed_both_ways_only_for_known_executors() {
    let mut h = Harness::new();
    let spec = h.launch(executor_task("t1", "e1"), 100);
    h.register(&spec);
    let message = ExecutorToFrameworkMessage {
        agent_id: AgentId::new("agent-1"),
        framework_id: framework_id(),
        executor_id: ExecutorId::new("e1"),
        data: b"hi".to_vec(),
    };
    h.core
        .executor_to_framework(h.now, &executor_pid(), message.clone());
    assert!(matches!(
        &h.drain()[..],
        [Output::Master {
            message: ToMaster::ExecutorToFramework(_),
            ..
        }]
    ));
    h.core.executor_to_framework(
        h.now,
        &ExecutorEndpoint::Pid(upid("executor@127.0.0.1:1")),
        message,
    );
    assert!(h.drain().is_empty());
    let master = h.master.clone();
    h.core.framework_to_executor(
        h.now,
        &master,
        FrameworkToExecutorMessage {
            agent_id: AgentId::new("agent-1"),
            framework_id: framework_id(),
            executor_id: ExecutorId::new("e1"),
            data: b"yo".to_vec(),
        },
    );
    assert_eq!(
        to_executors(&h.drain()),
        vec!["mesos.internal.FrameworkToExecutorMessage"]
    );
}

#[test]
fn an_http_executor_endpoint_fits_beside_a_pid() {
    let mut h = Harness::new();
    let spec = h.launch(executor_task("t1", "e1"), 100);
    let stream = ExecutorEndpoint::Http(7);
    h.core.register_executor(
        h.now,
        stream.clone(),
        RegisterExecutorMessage {
            framework_id: framework_id(),
            executor_id: spec.executor.executor_id.clone(),
        },
    );
    let outputs = h.drain();
    assert!(outputs
        .iter()
        .all(|o| !matches!(o, Output::Executor { to, .. } if to != &stream)));
    let update = executor_status("e1", "t1", TaskState::Running, 1);
    h.core.status_update(h.now, &stream, update.clone(), None);
    assert_eq!(forwarded(&h.drain()), vec![update]);
}

#[test]
fn a_repeated_reregistration_from_a_running_executor_is_ignored_not_shut_down() {
    let mut h = Harness::new();
    let spec = h.launch(executor_task("t1", "e1"), 100);
    h.register(&spec);
    let reregister = ReregisterExecutorMessage {
        framework_id: framework_id(),
        executor_id: ExecutorId::new("e1"),
        tasks: vec![],
        updates: vec![],
    };
    h.core
        .reregister_executor(h.now, executor_pid(), reregister.clone());
    assert!(h.drain().is_empty());
    // From another pid it is a stranger.
    h.core.reregister_executor(
        h.now,
        ExecutorEndpoint::Pid(upid("executor@127.0.0.1:9")),
        reregister,
    );
    assert_eq!(
        to_executors(&h.drain()),
        vec!["mesos.internal.ShutdownExecutorMessage"]
    );
}
