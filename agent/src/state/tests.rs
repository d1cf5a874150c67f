use std::path::Path;

use super::*;
use mesos::{ExecutorInfo, Uuid};

fn book() -> AgentBook {
    let mut book = AgentBook::new(Path::new("/work"), Path::new("/bin/mesos-executor"));
    book.set_agent_id(AgentId::new("a1"));
    book
}

fn fw() -> FrameworkId {
    FrameworkId::new("f1")
}

fn command_task(id: &str) -> TaskInfo {
    TaskInfo::new(id, id, AgentId::new("a1"), "cpus:1;mem:64".parse().unwrap())
        .with_command(CommandInfo::shell("echo hi"))
}

fn executor_task(id: &str, executor: &str) -> TaskInfo {
    TaskInfo::new(id, id, AgentId::new("a1"), "cpus:1".parse().unwrap()).with_executor(
        ExecutorInfo::new(executor, CommandInfo::shell("./exec"))
            .with_resources("cpus:0.5".parse().unwrap()),
    )
}

fn upid(id: &str) -> ExecutorEndpoint {
    ExecutorEndpoint::Pid(format!("{id}@127.0.0.1:9").parse().unwrap())
}

fn run(book: &mut AgentBook, task: TaskInfo) -> RunOutcome {
    book.run_task(
        Instant::now(),
        &FrameworkInfo::new("u", "n"),
        &fw(),
        "scheduler@127.0.0.1:1",
        task,
        ContainerId::new("c1"),
    )
}

fn update(task: &str, state: TaskState) -> StatusUpdate {
    StatusUpdate {
        framework_id: fw(),
        executor_id: None,
        agent_id: None,
        status: TaskStatus::new(TaskId::new(task), state),
        timestamp: 0.0,
        uuid: Uuid::random(),
    }
}

#[test]
fn command_task_launches_its_own_executor_in_a_sandbox() {
    let mut book = book();
    let RunOutcome::Launch(spec) = run(&mut book, command_task("t1")) else {
        panic!("expected a launch");
    };
    assert!(spec.command_executor);
    assert_eq!(spec.executor.executor_id, ExecutorId::new("t1"));
    assert_eq!(
        spec.directory,
        Path::new("/work/slaves/a1/frameworks/f1/executors/t1/runs/c1")
    );
    assert_eq!(
        spec.executor.command.value.as_deref(),
        Some("/bin/mesos-executor")
    );
    assert_eq!(book.used_resources(), "cpus:1;mem:64".parse().unwrap());
}

#[test]
fn tasks_queue_until_the_executor_registers_then_go_straight_to_it() {
    let mut book = book();
    assert!(matches!(
        run(&mut book, executor_task("t1", "e")),
        RunOutcome::Launch(_)
    ));
    assert_eq!(run(&mut book, executor_task("t2", "e")), RunOutcome::Queued);
    let (_, queued) = book
        .executor_registered(&fw(), &ExecutorId::new("e"), upid("executor"))
        .unwrap();
    assert_eq!(queued.len(), 2);
    assert_eq!(
        run(&mut book, executor_task("t3", "e")),
        RunOutcome::Send(upid("executor"))
    );
    // A second registration is not expected.
    assert!(book
        .executor_registered(&fw(), &ExecutorId::new("e"), upid("x"))
        .is_none());
    assert_eq!(book.used_resources(), "cpus:3.5".parse().unwrap());
    // Duplicate task ids are refused.
    assert!(
        matches!(run(&mut book, executor_task("t3", "e")), RunOutcome::Rejected(s) if s.state == TaskState::Error)
    );
}

#[test]
fn terminal_tasks_hold_resources_until_acknowledged() {
    let mut book = book();
    run(&mut book, executor_task("t1", "e"));
    book.executor_registered(&fw(), &ExecutorId::new("e"), upid("executor"));
    book.update_task(&update("t1", TaskState::Running));
    assert_eq!(
        book.executor(&fw(), &ExecutorId::new("e")).unwrap().tasks[&TaskId::new("t1")].state,
        TaskState::Running
    );
    book.update_task(&update("t1", TaskState::Finished));
    assert!(book
        .executor(&fw(), &ExecutorId::new("e"))
        .unwrap()
        .tasks
        .is_empty());
    assert_eq!(book.used_resources(), "cpus:1.5".parse().unwrap());
    book.terminal_acknowledged(&fw(), &TaskId::new("t1"));
    assert_eq!(book.used_resources(), "cpus:0.5".parse().unwrap());
    assert_eq!(book.framework(&fw()).unwrap().completed.len(), 1);
}

#[test]
fn executor_exit_fails_command_tasks_and_loses_custom_executor_tasks() {
    let mut book = book();
    run(&mut book, command_task("c"));
    let exit = book
        .executor_exited(&fw(), &ExecutorId::new("c"), "terminated by signal SIGKILL")
        .unwrap();
    assert_eq!(exit.statuses.len(), 1);
    assert_eq!(exit.statuses[0].state, TaskState::Failed);
    assert_eq!(exit.statuses[0].reason, Some(Reason::CommandExecutorFailed));
    assert!(exit.statuses[0]
        .message
        .as_deref()
        .unwrap()
        .contains("SIGKILL"));
    assert!(exit.notify_master);

    run(&mut book, executor_task("t1", "e"));
    run(&mut book, executor_task("t2", "e"));
    book.executor_registered(&fw(), &ExecutorId::new("e"), upid("executor"));
    book.update_task(&update("t2", TaskState::Finished));
    let exit = book
        .executor_exited(&fw(), &ExecutorId::new("e"), "exited with status 1")
        .unwrap();
    // Only the non-terminal task gets an update.
    assert_eq!(exit.statuses.len(), 1);
    assert_eq!(exit.statuses[0].task_id, TaskId::new("t1"));
    assert_eq!(exit.statuses[0].state, TaskState::Lost);
    assert_eq!(exit.statuses[0].reason, Some(Reason::ExecutorTerminated));
    assert!(book.executor(&fw(), &ExecutorId::new("e")).is_none());
    // Unknown executors exit quietly.
    assert!(book
        .executor_exited(&fw(), &ExecutorId::new("e"), "x")
        .is_none());
}

#[test]
fn kills_are_routed_by_where_the_task_is() {
    let mut book = book();
    run(&mut book, executor_task("t1", "e"));
    let KillOutcome::Dequeued {
        status,
        shutdown_executor,
    } = book.kill_task(&fw(), &TaskId::new("t1"))
    else {
        panic!("expected the queued task to be dropped");
    };
    assert_eq!(status.state, TaskState::Killed);
    assert_eq!(shutdown_executor, Some(ExecutorId::new("e")));

    run(&mut book, executor_task("t2", "e2"));
    book.executor_registered(&fw(), &ExecutorId::new("e2"), upid("executor"));
    assert_eq!(
        book.kill_task(&fw(), &TaskId::new("t2")),
        KillOutcome::Forward(upid("executor"))
    );
    assert!(
        matches!(book.kill_task(&fw(), &TaskId::new("nope")), KillOutcome::Report(s) if s.state == TaskState::Lost)
    );
    // A framework never seen here: its launch was lost on the way; LOST as well.
    assert!(
        matches!(book.kill_task(&FrameworkId::new("other"), &TaskId::new("t2")), KillOutcome::Report(s) if s.state == TaskState::Lost)
    );
}

#[test]
fn framework_shutdown_silences_exits_and_removes_the_framework() {
    let mut book = book();
    run(&mut book, executor_task("t1", "e"));
    let executors = book.shutdown_framework(&fw());
    assert_eq!(executors, vec![(ExecutorId::new("e"), None)]);
    assert!(matches!(
        run(&mut book, executor_task("t9", "e9")),
        RunOutcome::Rejected(_)
    ));
    let exit = book
        .executor_exited(&fw(), &ExecutorId::new("e"), "exited")
        .unwrap();
    assert!(exit.statuses.is_empty());
    assert!(!exit.notify_master);
    assert!(book.framework(&fw()).is_none());
}

#[test]
fn reregistration_reports_live_and_unacknowledged_tasks() {
    let mut book = book();
    run(&mut book, executor_task("t1", "e"));
    run(&mut book, executor_task("t2", "e"));
    run(&mut book, command_task("c"));
    book.executor_registered(&fw(), &ExecutorId::new("e"), upid("executor"));
    book.update_task(&update("t1", TaskState::Running));
    book.update_task(&update("t2", TaskState::Finished));
    let (executors, tasks, frameworks) = book.reregistration();
    // Command executors are the agent's business, not reported as framework executors.
    assert_eq!(executors.len(), 1);
    assert_eq!(tasks.len(), 3);
    assert_eq!(frameworks[0].id, Some(fw()));
    let t1 = tasks
        .iter()
        .find(|t| t.task_id == TaskId::new("t1"))
        .unwrap();
    assert_eq!(t1.state, TaskState::Running);
}
