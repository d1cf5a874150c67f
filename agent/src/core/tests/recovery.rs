//! Recovery, without processes: a checkpointed state in, what the restarted agent does out.

use crate::checkpoint::{
    ForkedPid, RecoveredAgent, RecoveredExecutor, RecoveredFramework, RecoveredRun, RecoveredState,
    RecoveredTask,
};
use crate::config::{ReconfigurationPolicy, RecoverMode};
use crate::core::{RecoveryError, RecoveryOptions};

use super::*;

const BOOT: &str = "boot-1";

fn agent_info() -> AgentInfo {
    AgentInfo {
        port: 5051,
        id: Some(AgentId::new("agent-1")),
        ..AgentInfo::new("node-1").with_resources("cpus:8;mem:4096".parse().unwrap())
    }
}

fn update(task: &str, state: TaskState, n: u8) -> StatusUpdate {
    executor_status(task, task, state, n)
}

/// A checkpointed command task `task` (its executor has the same id) in container `c-<task>`.
fn executor(
    task: &str,
    records: Vec<UpdateRecord>,
    pid: Option<u32>,
    driver: bool,
) -> RecoveredExecutor {
    let info = ExecutorInfo::new(task, CommandInfo::shell("mesos-executor"));
    let task_info = command_task(task);
    RecoveredExecutor {
        info,
        command_executor: true,
        run: RecoveredRun {
            container_id: ContainerId::new(format!("c-{task}")),
            forked_pid: pid.map(|pid| ForkedPid {
                pid,
                start_ticks: 77,
            }),
            libprocess_pid: driver
                .then(|| upid(&format!("executor@127.0.0.1:{}", 7000 + pid.unwrap_or(0)))),
            http: false,
            completed: false,
            tasks: vec![RecoveredTask {
                task: task_info,
                records,
                damaged: false,
            }],
        },
        old_runs: vec![],
    }
}

fn state(executors: Vec<RecoveredExecutor>) -> RecoveredState {
    RecoveredState {
        boot_id: Some(BOOT.into()),
        agent: Some(RecoveredAgent {
            info: agent_info(),
            frameworks: vec![RecoveredFramework {
                info: checkpointing(),
                pid: "scheduler@127.0.0.1:9000".into(),
                executors,
            }],
        }),
        errors: vec![],
    }
}

fn options() -> RecoveryOptions {
    RecoveryOptions {
        mode: RecoverMode::Reconnect,
        policy: ReconfigurationPolicy::Equal,
        boot_id: Some(BOOT.into()),
    }
}

/// A restarted (unregistered) core with `info`.
fn restarted_with(info: AgentInfo) -> Harness {
    let now = Instant::now();
    let master = upid("master@127.0.0.1:5050");
    let core = AgentCore::new(
        Harness::config(),
        AgentInfo { id: None, ..info },
        upid("slave(1)@127.0.0.1:5051"),
        master.clone(),
        now,
    );
    Harness { core, now, master }
}

fn restarted() -> Harness {
    restarted_with(agent_info())
}

fn reregister(
    h: &mut Harness,
    task: &str,
    tasks: Vec<TaskInfo>,
    updates: Vec<StatusUpdate>,
) -> Vec<Output> {
    h.core.reregister_executor(
        h.now,
        ExecutorEndpoint::Pid(upid("executor@127.0.0.1:7100")),
        ReregisterExecutorMessage {
            framework_id: framework_id(),
            executor_id: ExecutorId::new(task),
            tasks,
            updates,
        },
    );
    h.drain()
}

fn reregistration(outputs: &[Output]) -> Option<ReregisterSlaveMessage> {
    outputs.iter().find_map(|o| match o {
        Output::Master {
            message: ToMaster::ReregisterSlave(m),
            ..
        } => Some(m.clone()),
        _ => None,
    })
}

/// The master re-registers the agent; returns the outputs.
fn master_reregisters(h: &mut Harness) -> Vec<Output> {
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
    h.drain()
}

#[test]
fn a_fresh_agent_recovers_nothing_records_the_boot_and_registers_as_new() {
    let mut h = restarted();
    let summary = h
        .core
        .recover(h.now, RecoveredState::default(), &options())
        .unwrap();
    assert_eq!(summary.agent_id, None);
    assert_eq!(
        kinds(&h.drain()),
        vec!["recover:0", "ckpt:boot_id"],
        "orphans are cleaned up even on a first start"
    );
    assert!(!h.core.is_recovering());
    let outputs = h.advance(Duration::ZERO);
    assert!(kinds(&outputs).contains(&"master:RegisterSlave".to_string()));
}

#[test]
fn a_live_executor_is_reconnected_and_the_agent_reregisters_under_its_id_with_its_task() {
    let mut h = restarted();
    let running = update("t1", TaskState::Running, 1);
    let records = vec![
        UpdateRecord::Update(running.clone()),
        UpdateRecord::Ack(running.uuid),
    ];
    let summary = h
        .core
        .recover(
            h.now,
            state(vec![executor("t1", records, Some(100), true)]),
            &options(),
        )
        .unwrap();
    assert_eq!(summary.agent_id, Some(AgentId::new("agent-1")));
    assert_eq!((summary.executors, summary.tasks), (1, 1));
    let outputs = h.drain();
    assert_eq!(
        kinds(&outputs),
        vec!["executor:ReconnectExecutor", "recover:1"]
    );
    assert!(
        matches!(&outputs[0], Output::Executor { to: ExecutorEndpoint::Pid(pid), message: ToExecutor::ReconnectExecutor(m) }
        if pid.port() == 7100 && m.agent_id == AgentId::new("agent-1"))
    );
    let Output::RecoverContainers(kept) = &outputs[1] else {
        unreachable!()
    };
    assert_eq!(kept[0].pid, 100);
    assert_eq!(kept[0].start_ticks, 77);
    assert!(h.core.is_recovering());
    // No registration while recovering (pings are still answered).
    assert!(h.advance(SECS).is_empty());
    let master = h.master.clone();
    h.core
        .ping(h.now, &master, PingSlaveMessage { connected: false });
    assert_eq!(kinds(&h.drain()), vec!["master:PongSlave"]);
    // The executor re-registers (under the pid on disk, so nothing is rewritten): recovery is
    // over at once; the agent re-registers as agent-1 with its RUNNING task, and nothing is
    // re-sent (RUNNING was acknowledged).
    let outputs = reregister(&mut h, "t1", vec![], vec![]);
    assert_eq!(
        kinds(&outputs),
        vec!["executor:ExecutorReregistered", "ckpt:boot_id"]
    );
    assert!(!h.core.is_recovering());
    let outputs = h.advance(Duration::ZERO);
    let message = reregistration(&outputs).expect("a re-registration");
    assert_eq!(message.agent.id, Some(AgentId::new("agent-1")));
    assert_eq!(message.tasks.len(), 1);
    assert_eq!(message.tasks[0].state, TaskState::Running);
    assert_eq!(message.frameworks[0].id, Some(framework_id()));
    assert!(forwarded(&master_reregisters(&mut h)).is_empty());
}

#[test]
fn pending_updates_are_replayed_in_order_after_reregistration_and_each_reaches_the_master_once() {
    let mut h = restarted();
    let starting = update("t1", TaskState::Starting, 1);
    let running = update("t1", TaskState::Running, 2);
    let finished = update("t1", TaskState::Finished, 3);
    let records = vec![
        UpdateRecord::Update(starting.clone()),
        UpdateRecord::Ack(starting.uuid),
        UpdateRecord::Update(running.clone()),
        UpdateRecord::Update(finished.clone()),
    ];
    h.core
        .recover(
            h.now,
            state(vec![executor("t1", records, Some(100), true)]),
            &options(),
        )
        .unwrap();
    h.drain();
    // The executor re-registers with what it had not seen acknowledged: FINISHED (a copy).
    let outputs = reregister(&mut h, "t1", vec![], vec![finished.clone()]);
    assert!(forwarded(&outputs).is_empty(), "held until re-registered");
    assert!(
        checkpoints(&outputs)
            .iter()
            .all(|c| !matches!(c, Checkpoint::Update { .. })),
        "a copy is not logged again"
    );
    let message = reregistration(&h.advance(Duration::ZERO)).unwrap();
    // The master learns the task's latest state.
    assert_eq!(message.tasks[0].state, TaskState::Finished);
    assert_eq!(
        forwarded(&master_reregisters(&mut h)),
        vec![running.clone()]
    );
    let outputs = h.ack(&running);
    assert_eq!(forwarded(&outputs), vec![finished.clone()]);
    assert_eq!(
        kinds(&h.ack(&finished)),
        vec!["ckpt:ack", "executor:StatusUpdateAcknowledgement"]
    );
    assert!(forwarded(&h.advance(3600 * SECS)).is_empty());
}

#[test]
fn an_executor_that_died_while_the_agent_was_down_loses_its_tasks_once_registered() {
    let mut h = restarted();
    h.core
        .recover(
            h.now,
            state(vec![executor("t1", vec![], Some(100), true)]),
            &options(),
        )
        .unwrap();
    let outputs = h.drain();
    let Output::RecoverContainers(kept) = outputs.last().unwrap() else {
        panic!("{outputs:?}")
    };
    // The driver finds its process gone.
    h.core.executor_exited(
        h.now,
        &kept[0].container_id,
        ExitInfo {
            wait_status: -1,
            description: "terminated while the agent was down".into(),
        },
        None,
    );
    let outputs = h.drain();
    assert!(forwarded(&outputs).is_empty(), "held until re-registered");
    assert!(
        kinds(&outputs).contains(&"ckpt:boot_id".to_string()),
        "nothing left to wait for"
    );
    let message = reregistration(&h.advance(Duration::ZERO)).unwrap();
    assert_eq!(message.tasks[0].state, TaskState::Lost);
    let sent = forwarded(&master_reregisters(&mut h));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status.state, TaskState::Lost);
    assert_eq!(sent[0].status.source, Some(Source::Agent));
    assert_eq!(
        sent[0].status.reason,
        Some(Reason::ExecutorReregistrationTimeout)
    );
    assert!(sent[0]
        .status
        .message
        .as_deref()
        .unwrap()
        .contains("while the agent was down"));
}

#[test]
fn an_executor_that_was_never_started_fails_its_task() {
    let mut h = restarted();
    h.core
        .recover(
            h.now,
            state(vec![executor("t1", vec![], None, false)]),
            &options(),
        )
        .unwrap();
    let outputs = h.drain();
    assert!(kinds(&outputs).contains(&"recover:0".to_string()));
    assert!(!h.core.is_recovering());
    h.advance(Duration::ZERO);
    let sent = forwarded(&master_reregisters(&mut h));
    assert_eq!(sent[0].status.state, TaskState::Failed);
    assert_eq!(sent[0].status.reason, Some(Reason::ExecutorTerminated));
}

#[test]
fn an_executor_that_does_not_reregister_in_time_is_killed_and_its_task_lost() {
    let mut h = restarted();
    h.core
        .recover(
            h.now,
            state(vec![executor("t1", vec![], Some(100), true)]),
            &options(),
        )
        .unwrap();
    h.drain();
    assert_eq!(h.core.next_deadline(), h.now + 2 * SECS);
    assert!(destroyed(&h.advance(SECS)).is_empty());
    let outputs = h.advance(SECS);
    assert_eq!(destroyed(&outputs), vec![ContainerId::new("c-t1")]);
    assert!(!h.core.is_recovering());
    h.core
        .executor_exited(h.now, &ContainerId::new("c-t1"), exit("killed"), None);
    h.drain();
    h.advance(Duration::ZERO);
    let sent = forwarded(&master_reregisters(&mut h));
    assert_eq!(sent[0].status.state, TaskState::Lost);
    assert_eq!(
        sent[0].status.message.as_deref(),
        Some("Executor did not re-register within 2secs")
    );
}

#[test]
fn a_task_the_reregistering_executor_never_received_is_delivered_not_lost() {
    let mut h = restarted();
    // t1's executor got RUNNING acknowledged; t2 was still STAGING (perhaps never delivered).
    let running = update("t1", TaskState::Running, 1);
    let mut executor = executor(
        "t1",
        vec![
            UpdateRecord::Update(running.clone()),
            UpdateRecord::Ack(running.uuid),
        ],
        Some(100),
        true,
    );
    for task in ["t2", "t3"] {
        executor.run.tasks.push(RecoveredTask {
            task: command_task(task),
            records: vec![],
            damaged: false,
        });
    }
    h.core
        .recover(h.now, state(vec![executor]), &options())
        .unwrap();
    h.drain();
    // The executor has t3 (it lists it) but not t2: t2 is delivered, t3 is not sent twice.
    let outputs = reregister(&mut h, "t1", vec![command_task("t3")], vec![]);
    let delivered: Vec<TaskId> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Executor {
                message: ToExecutor::RunTask(m),
                ..
            } => Some(m.task.task_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, vec![TaskId::new("t2")]);
    h.advance(Duration::ZERO);
    assert!(forwarded(&master_reregisters(&mut h)).is_empty());
}

#[test]
fn a_recovered_executor_that_registers_for_the_first_time_gets_its_tasks() {
    let mut h = restarted();
    // The agent died between starting the executor and its registration.
    h.core
        .recover(
            h.now,
            state(vec![executor("t1", vec![], Some(100), false)]),
            &options(),
        )
        .unwrap();
    h.drain();
    h.core.register_executor(
        h.now,
        ExecutorEndpoint::Pid(upid("executor@127.0.0.1:7100")),
        RegisterExecutorMessage {
            framework_id: framework_id(),
            executor_id: ExecutorId::new("t1"),
        },
    );
    let outputs = h.drain();
    assert_eq!(
        kinds(&outputs),
        vec![
            "ckpt:libprocess.pid",
            "executor:ExecutorRegistered",
            "executor:RunTask",
            "resize",
            "ckpt:boot_id"
        ]
    );
}

#[test]
fn an_acknowledged_terminal_task_is_complete_and_not_reported() {
    let mut h = restarted();
    let finished = update("t1", TaskState::Finished, 1);
    let mut executor = executor(
        "t1",
        vec![
            UpdateRecord::Update(finished.clone()),
            UpdateRecord::Ack(finished.uuid),
        ],
        Some(100),
        true,
    );
    executor.run.completed = true;
    let summary = h
        .core
        .recover(h.now, state(vec![executor]), &options())
        .unwrap();
    assert_eq!(summary.executors, 0);
    let outputs = h.drain();
    assert_eq!(kinds(&outputs), vec!["recover:0", "ckpt:boot_id"]);
    let message = reregistration(&h.advance(Duration::ZERO)).unwrap();
    assert!(message.tasks.is_empty());
    // Its sandbox and checkpoints go after --gc_delay.
    let outputs = h.advance(crate::config::DEFAULT_GC_DELAY);
    assert_eq!(kinds(&outputs).iter().filter(|k| *k == "gc").count(), 2);
}

#[test]
fn cleanup_shuts_every_old_executor_down_never_registers_and_exits() {
    let mut h = restarted();
    let options = RecoveryOptions {
        mode: RecoverMode::Cleanup,
        ..options()
    };
    h.core
        .recover(
            h.now,
            state(vec![
                executor("t1", vec![], Some(100), true),
                executor("t2", vec![], Some(101), false),
            ]),
            &options,
        )
        .unwrap();
    let outputs = h.drain();
    // t1 is asked (then killed after the grace period); t2 cannot be asked: killed at once.
    assert_eq!(
        to_executors(&outputs),
        vec!["mesos.internal.ShutdownExecutorMessage"]
    );
    assert_eq!(destroyed(&outputs), vec![ContainerId::new("c-t2")]);
    assert_eq!(
        destroyed(&h.advance(5 * SECS)),
        vec![ContainerId::new("c-t1")]
    );
    h.core
        .executor_exited(h.now, &ContainerId::new("c-t1"), exit("killed"), None);
    assert!(!kinds(&h.drain()).contains(&"terminate".to_string()));
    h.core
        .executor_exited(h.now, &ContainerId::new("c-t2"), exit("killed"), None);
    let outputs = h.drain();
    assert!(
        kinds(&outputs).contains(&"terminate".to_string()),
        "{:?}",
        kinds(&outputs)
    );
    let outputs = h.advance(3600 * SECS);
    assert!(
        kinds(&outputs).iter().all(|k| !k.starts_with("master:")),
        "{:?}",
        kinds(&outputs)
    );
}

#[test]
fn after_a_reboot_the_id_is_kept_and_every_task_is_lost() {
    let mut h = restarted();
    let options = RecoveryOptions {
        boot_id: Some("boot-2".into()),
        ..options()
    };
    let summary = h
        .core
        .recover(
            h.now,
            state(vec![executor("t1", vec![], Some(100), true)]),
            &options,
        )
        .unwrap();
    assert!(summary.rebooted);
    assert_eq!(summary.agent_id, Some(AgentId::new("agent-1")));
    let outputs = h.drain();
    assert!(
        kinds(&outputs).contains(&"recover:0".to_string()),
        "no process survives a reboot"
    );
    assert!(checkpoints(&outputs).contains(&Checkpoint::BootId("boot-2".into())));
    h.advance(Duration::ZERO);
    let sent = forwarded(&master_reregisters(&mut h));
    assert_eq!(sent[0].status.state, TaskState::Lost);
    assert_eq!(sent[0].status.reason, Some(Reason::AgentRestarted));
}

#[test]
fn changed_resources_refuse_to_start_under_the_equal_policy_naming_the_change() {
    let mut h = restarted_with(AgentInfo {
        resources: "cpus:4;mem:4096".parse().unwrap(),
        ..agent_info()
    });
    let err = h
        .core
        .recover(
            h.now,
            state(vec![executor("t1", vec![], Some(100), true)]),
            &options(),
        )
        .unwrap_err();
    let RecoveryError::Reconfigured { change, .. } = &err;
    assert!(
        change.contains("resources changed from cpus:8;mem:4096 to cpus:4;mem:4096"),
        "{err}"
    );
    assert!(err.to_string().contains("meta/slaves/latest"), "{err}");
    // Additive accepts growth, not shrinking, and keeps the id with the new resources.
    let additive = RecoveryOptions {
        policy: ReconfigurationPolicy::Additive,
        ..options()
    };
    assert!(h.core.recover(h.now, state(vec![]), &additive).is_err());
    let mut h = restarted_with(AgentInfo {
        resources: "cpus:16;mem:4096;disk:100".parse().unwrap(),
        attributes: mesos::Attributes::parse("rack:r1").unwrap(),
        ..agent_info()
    });
    h.core.recover(h.now, state(vec![]), &additive).unwrap();
    h.drain();
    let message = reregistration(&h.advance(Duration::ZERO)).unwrap();
    assert_eq!(message.agent.id, Some(AgentId::new("agent-1")));
    assert_eq!(
        message.agent.resources,
        "cpus:16;mem:4096;disk:100".parse().unwrap()
    );
}

#[test]
fn a_rebooted_and_changed_agent_starts_over_as_a_new_agent() {
    let mut h = restarted_with(AgentInfo {
        resources: "cpus:4".parse().unwrap(),
        ..agent_info()
    });
    let options = RecoveryOptions {
        boot_id: Some("boot-2".into()),
        ..options()
    };
    let summary = h
        .core
        .recover(
            h.now,
            state(vec![executor("t1", vec![], Some(100), true)]),
            &options,
        )
        .unwrap();
    assert_eq!(summary.agent_id, None);
    let outputs = h.drain();
    assert!(checkpoints(&outputs).contains(&Checkpoint::ForgetAgent));
    assert!(kinds(&outputs).contains(&"recover:0".to_string()));
    let outputs = h.advance(Duration::ZERO);
    assert!(kinds(&outputs).contains(&"master:RegisterSlave".to_string()));
}

#[test]
fn unreadable_checkpoints_are_counted() {
    let mut h = restarted();
    let mut state = state(vec![]);
    state.errors = vec!["a".into(), "b".into()];
    let summary = h.core.recover(h.now, state, &options()).unwrap();
    assert_eq!(summary.errors, 2);
    assert_eq!(h.core.recovery_errors(), 2);
}

#[test]
fn kills_and_framework_shutdowns_reach_recovered_executors() {
    let mut h = restarted();
    h.core
        .recover(
            h.now,
            state(vec![
                executor("t1", vec![], Some(100), true),
                executor("t2", vec![], Some(101), true),
            ]),
            &options(),
        )
        .unwrap();
    h.drain();
    reregister(&mut h, "t1", vec![command_task("t1")], vec![]);
    h.core.reregister_executor(
        h.now,
        ExecutorEndpoint::Pid(upid("executor@127.0.0.1:7101")),
        ReregisterExecutorMessage {
            framework_id: framework_id(),
            executor_id: ExecutorId::new("t2"),
            tasks: vec![command_task("t2")],
            updates: vec![],
        },
    );
    h.drain();
    h.advance(Duration::ZERO);
    master_reregisters(&mut h);
    // The master re-applies a kill issued while the agent was down.
    let outputs = h.kill("t1");
    assert_eq!(
        to_executors(&outputs),
        vec!["mesos.internal.KillTaskMessage"]
    );
    // And shuts down a framework torn down meanwhile: both recovered executors are asked to go.
    let master = h.master.clone();
    h.core.shutdown_framework(
        h.now,
        &master,
        ShutdownFrameworkMessage {
            framework_id: framework_id(),
        },
    );
    let outputs = h.drain();
    assert_eq!(
        to_executors(&outputs),
        vec![
            "mesos.internal.ShutdownExecutorMessage",
            "mesos.internal.ShutdownExecutorMessage"
        ]
    );
    // Executors that do not go in the grace period are destroyed.
    let outputs = h.advance(Harness::config().executor_shutdown_grace_period);
    assert_eq!(destroyed(&outputs).len(), 2, "{:?}", kinds(&outputs));
}

#[test]
fn changed_attributes_refuse_to_start_under_equal_and_only_additions_pass_additive() {
    let with = |attributes: &str| AgentInfo {
        attributes: mesos::Attributes::parse(attributes).unwrap(),
        ..agent_info()
    };
    let mut checkpointed = state(vec![executor("t1", vec![], Some(100), true)]);
    if let Some(agent) = checkpointed.agent.as_mut() {
        agent.info = with("rack:r1");
    }
    let mut h = restarted_with(with("rack:r2"));
    let err = h
        .core
        .recover(h.now, checkpointed.clone(), &options())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("attributes changed from rack:r1 to rack:r2"),
        "{err}"
    );
    let additive = RecoveryOptions {
        policy: ReconfigurationPolicy::Additive,
        ..options()
    };
    let mut h = restarted_with(with("rack:r2;zone:z1"));
    let err = h
        .core
        .recover(h.now, checkpointed.clone(), &additive)
        .unwrap_err();
    assert!(
        err.to_string().contains("attribute 'rack' changed"),
        "{err}"
    );
    // (Without executors to wait for, so the re-registration follows at once.)
    let mut h = restarted_with(with("rack:r1;zone:z1"));
    checkpointed = state(vec![]);
    if let Some(agent) = checkpointed.agent.as_mut() {
        agent.info = with("rack:r1");
    }
    let summary = h.core.recover(h.now, checkpointed, &additive).unwrap();
    assert_eq!(summary.agent_id, Some(AgentId::new("agent-1")));
    h.drain();
    let message = reregistration(&h.advance(Duration::ZERO)).unwrap();
    assert_eq!(message.agent.attributes.text("zone"), Some("z1"));
}

#[test]
fn a_task_whose_log_was_damaged_is_never_delivered_twice() {
    let mut h = restarted();
    let mut executor = executor("t1", vec![], Some(100), true);
    executor.run.tasks[0].damaged = true;
    h.core
        .recover(h.now, state(vec![executor]), &options())
        .unwrap();
    h.drain();
    let outputs = reregister(&mut h, "t1", vec![], vec![]);
    assert!(to_executors(&outputs)
        .iter()
        .all(|m| *m != "mesos.internal.RunTaskMessage"));
    // It is still the agent's: its updates flow.
    let finished = update("t1", TaskState::Finished, 5);
    h.core.status_update(
        h.now,
        &ExecutorEndpoint::Pid(upid("executor@127.0.0.1:7100")),
        finished.clone(),
        None,
    );
    h.drain();
    h.advance(Duration::ZERO);
    assert_eq!(forwarded(&master_reregisters(&mut h)), vec![finished]);
}

#[test]
fn an_executor_reregistering_under_a_new_pid_has_it_checkpointed() {
    let mut h = restarted();
    h.core
        .recover(
            h.now,
            state(vec![executor("t1", vec![], Some(100), true)]),
            &options(),
        )
        .unwrap();
    h.drain();
    h.core.reregister_executor(
        h.now,
        ExecutorEndpoint::Pid(upid("executor@127.0.0.1:7999")),
        ReregisterExecutorMessage {
            framework_id: framework_id(),
            executor_id: ExecutorId::new("t1"),
            tasks: vec![command_task("t1")],
            updates: vec![],
        },
    );
    let outputs = h.drain();
    assert!(
        checkpoints(&outputs).iter().any(|c| matches!(
            c,
            Checkpoint::ExecutorPid { pid, .. } if pid.port() == 7999
        )),
        "{:?}",
        kinds(&outputs)
    );
}
