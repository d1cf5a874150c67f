//! What is checkpointed, for whom, and before what.

use super::*;
use crate::checkpoint::RunRef;

#[test]
fn registration_checkpoints_the_agent_info_with_its_id() {
    let now = Instant::now();
    let master = upid("master@127.0.0.1:5050");
    let mut core = AgentCore::new(
        Harness::config(),
        AgentInfo::new("h"),
        upid("slave(1)@127.0.0.1:5051"),
        master.clone(),
        now,
    );
    core.registered(
        now,
        &master,
        SlaveRegisteredMessage {
            agent_id: AgentId::new("a7"),
            master_info: MasterInfo::default(),
            ping_timeout_secs: 15.0,
        },
    );
    let written = checkpoints(&core.drain_outputs());
    assert!(
        matches!(&written[..], [Checkpoint::Agent(info)] if info.id == Some(AgentId::new("a7")) && info.port == 5051)
    );
}

#[test]
fn nothing_is_written_for_a_framework_that_does_not_checkpoint() {
    let mut h = Harness::new();
    let mut outputs = h.run(command_task("t1"));
    let spec = launch_of(&outputs).unwrap();
    h.core.executor_launched(h.now, &spec.container_id, 100);
    outputs.extend(h.drain());
    outputs.extend(h.register(&spec));
    outputs.extend(h.executor_update("t1", "t1", TaskState::Running, 1).1);
    let (finished, more) = h.executor_update("t1", "t1", TaskState::Finished, 2);
    outputs.extend(more);
    let running = executor_status("t1", "t1", TaskState::Running, 1);
    outputs.extend(h.ack(&running));
    outputs.extend(h.ack(&finished));
    h.core
        .executor_exited(h.now, &spec.container_id, exit("exited"), None);
    outputs.extend(h.drain());
    assert!(checkpoints(&outputs).is_empty(), "{:?}", kinds(&outputs));
}

#[test]
fn a_checkpointing_task_is_on_disk_before_its_executor_starts_or_gets_it() {
    let mut h = Harness::new();
    let outputs = h.run_for(checkpointing(), executor_task("t1", "e1"));
    assert_eq!(
        kinds(&outputs),
        vec!["ckpt:framework", "ckpt:executor", "ckpt:task", "launch"]
    );
    let spec = launch_of(&outputs).unwrap();
    let run = RunRef {
        agent_id: AgentId::new("agent-1"),
        framework_id: framework_id(),
        executor_id: ExecutorId::new("e1"),
        container_id: spec.container_id.clone(),
    };
    let written = checkpoints(&outputs);
    assert!(
        matches!(&written[0], Checkpoint::Framework { info, pid, .. }
        if info.id == Some(framework_id()) && info.checkpoint && pid == "scheduler@127.0.0.1:9000")
    );
    assert_eq!(
        written[1],
        Checkpoint::Executor {
            run: run.clone(),
            info: spec.executor.clone(),
            command_executor: false
        }
    );
    assert!(
        matches!(&written[2], Checkpoint::Task { run: r, task } if r == &run && task.task_id == TaskId::new("t1"))
    );
    h.core.executor_launched(h.now, &spec.container_id, 4321);
    assert_eq!(
        checkpoints(&h.drain()),
        vec![Checkpoint::ForkedPid {
            run: run.clone(),
            pid: 4321
        }]
    );
    // A second task queued for the starting executor: written before it is queued.
    let outputs = h.run_for(checkpointing(), executor_task("t2", "e1"));
    assert_eq!(kinds(&outputs), vec!["ckpt:task", "resize"]);
    // Registration: the driver's pid before anything goes to it.
    let outputs = h.register(&spec);
    assert_eq!(
        kinds(&outputs),
        vec![
            "ckpt:libprocess.pid",
            "executor:ExecutorRegistered",
            "executor:RunTask",
            "executor:RunTask",
            "resize"
        ]
    );
    // A task for the registered executor: written before it is sent.
    let outputs = h.run_for(checkpointing(), executor_task("t3", "e1"));
    assert_eq!(
        kinds(&outputs),
        vec!["ckpt:task", "resize", "executor:RunTask"]
    );
}

#[test]
fn an_update_is_durable_before_it_is_forwarded_or_acknowledged_to_the_executor() {
    let mut h = Harness::new();
    let spec = h.launch_for(checkpointing(), command_task("t1"), 100);
    h.register(&spec);
    let (running, outputs) = h.executor_update("t1", "t1", TaskState::Running, 1);
    assert_eq!(
        kinds(&outputs),
        vec![
            "ckpt:update:TASK_RUNNING",
            "master:StatusUpdate",
            "executor:StatusUpdateAcknowledgement"
        ]
    );
    // While RUNNING is in flight, FINISHED is logged and acknowledged but waits its turn.
    let (finished, outputs) = h.executor_update("t1", "t1", TaskState::Finished, 2);
    assert_eq!(
        kinds(&outputs),
        vec![
            "ckpt:update:TASK_FINISHED",
            "resize",
            "executor:StatusUpdateAcknowledgement"
        ]
    );
    // The master's acknowledgement is logged before the next update goes out.
    assert_eq!(
        kinds(&h.ack(&running)),
        vec![
            "ckpt:ack",
            "master:StatusUpdate",
            "executor:StatusUpdateAcknowledgement"
        ]
    );
    // The same update sent again (the executor did not see our ack): acknowledged, not logged
    // or forwarded again.
    let (_, outputs) = h.executor_update("t1", "t1", TaskState::Running, 1);
    assert_eq!(
        kinds(&outputs),
        vec!["executor:StatusUpdateAcknowledgement"]
    );
    // The executor exits; the run completes when FINISHED is acknowledged.
    h.core.executor_exited(
        h.now,
        &spec.container_id,
        exit("exited with status 0"),
        None,
    );
    assert_eq!(kinds(&h.drain()), vec!["master:ExitedExecutor"]);
    // (The executor is gone: no second acknowledgement to relay.)
    assert_eq!(kinds(&h.ack(&finished)), vec!["ckpt:ack", "ckpt:completed"]);
    // After its terminal acknowledgement, a copy of an update of the task is stale.
    let (_, outputs) = h.executor_update("t1", "t1", TaskState::Finished, 2);
    assert!(checkpoints(&outputs).is_empty());
    assert!(forwarded(&outputs).is_empty());
}

#[test]
fn an_executor_that_dies_logs_its_tasks_terminal_updates_and_completes_on_their_ack() {
    let mut h = Harness::new();
    let spec = h.launch_for(checkpointing(), command_task("t1"), 100);
    h.register(&spec);
    h.core
        .executor_exited(h.now, &spec.container_id, exit("killed"), None);
    let outputs = h.drain();
    assert_eq!(
        kinds(&outputs),
        vec![
            "ckpt:update:TASK_FAILED",
            "master:StatusUpdate",
            "master:ExitedExecutor"
        ]
    );
    let failed = forwarded(&outputs).remove(0);
    assert_eq!(kinds(&h.ack(&failed)), vec!["ckpt:ack", "ckpt:completed"]);
}

#[test]
fn a_shut_down_framework_s_run_completes_when_its_executor_exits() {
    let mut h = Harness::new();
    let spec = h.launch_for(checkpointing(), executor_task("t1", "e1"), 100);
    h.register(&spec);
    h.executor_update("e1", "t1", TaskState::Running, 1);
    let master = h.master.clone();
    h.core.shutdown_framework(
        h.now,
        &master,
        ShutdownFrameworkMessage {
            framework_id: framework_id(),
        },
    );
    h.drain();
    h.core
        .executor_exited(h.now, &spec.container_id, exit("exited"), None);
    assert_eq!(kinds(&h.drain()), vec!["ckpt:completed"]);
}

#[test]
fn a_moved_scheduler_is_recorded_and_a_removed_agent_forgets_its_id() {
    let mut h = Harness::new();
    h.launch_for(checkpointing(), command_task("t1"), 100);
    let master = h.master.clone();
    h.core.update_framework(
        h.now,
        &master,
        UpdateFrameworkMessage {
            framework_id: framework_id(),
            pid: "scheduler@127.0.0.1:9001".into(),
        },
    );
    assert!(
        matches!(&checkpoints(&h.drain())[..], [Checkpoint::FrameworkPid { pid, .. }] if pid == "scheduler@127.0.0.1:9001")
    );
    h.core.shutdown(
        h.now,
        &master,
        ShutdownMessage {
            message: "bye".into(),
        },
    );
    assert!(checkpoints(&h.drain()).contains(&Checkpoint::ForgetAgent));
}
