//! Custom executors, executors that never register, and shutting executors and frameworks down.

mod util;

use std::time::Duration;

use mesos::protocol::*;
use mesos::*;
use nix::sys::signal::Signal;
use util::*;

/// A task run by a framework-provided executor (here the command executor binary under another id).
fn custom_task(id: &str, executor: &str, executor_command: CommandInfo) -> TaskInfo {
    let mut task = command_task(id, "sleep 1000");
    task.executor = Some(
        ExecutorInfo::new(executor, executor_command)
            .with_resources("cpus:0.1;mem:32".parse().unwrap()),
    );
    task
}

fn executor_binary() -> CommandInfo {
    CommandInfo::argv(
        env!("CARGO_BIN_EXE_mesos-executor"),
        ["mesos-executor".to_string()],
    )
}

fn wait_running(cluster: &mut Cluster, task: &str) {
    while cluster.next_update(task).status.state != TaskState::Running {}
}

fn session_of_executor(executor: &str) -> Option<i32> {
    procfs::process::all_processes()
        .ok()?
        .flatten()
        .find(|p| {
            p.environ().is_ok_and(|env| {
                env.get(std::ffi::OsStr::new("MESOS_EXECUTOR_ID"))
                    .is_some_and(|v| v == executor)
            }) && p.stat().is_ok_and(|s| s.session == p.pid)
        })
        .map(|p| p.pid)
}

#[test]
fn a_crashed_custom_executor_loses_its_tasks_with_executor_terminated() {
    let mut cluster = Cluster::start("custom-crash", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task(custom_task("c1", "my-executor", executor_binary()));
    wait_running(&mut cluster, "c1");
    let state = cluster.agent.state().unwrap();
    let executor = &state["frameworks"][0]["executors"][0];
    assert_eq!(executor["id"], "my-executor");
    // Executor and task resources are both accounted.
    assert_eq!(state["used_resources"]["cpus"], 0.2, "{state:#}");
    let pid = session_of_executor("my-executor").expect("executor process");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    let lost = cluster.next_update("c1");
    assert_eq!(lost.status.state, TaskState::Lost);
    assert_eq!(lost.status.reason, Some(Reason::ExecutorTerminated));
    assert_eq!(lost.executor_id, Some(ExecutorId::new("my-executor")));
    let exited = cluster.wait_for("executor exit", |g| match g {
        Got::Exited(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(exited.executor_id, ExecutorId::new("my-executor"));
}

#[test]
fn an_executor_that_never_registers_is_killed_after_the_registration_timeout() {
    let mut cluster = Cluster::start("no-register", true, true, |config| {
        config.executor_registration_timeout = Duration::from_secs(60);
    });
    cluster.expect_register();
    cluster.run_task(custom_task("t", "mute", CommandInfo::shell("sleep 1000")));
    // Wait until the process exists, then let the paused clock pass the timeout.
    process::testing::wait_until("the executor to start", PATIENCE, || {
        session_of_executor("mute").is_some()
    });
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(59));
    cluster.agent_runtime.settle();
    assert!(cluster.none_within(Duration::from_millis(200), |g| matches!(g, Got::Update(_))));
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(1));
    // As Mesos's `registerExecutorTimeout`: TASK_FAILED, whichever executor it was.
    let failed = cluster.next_update("t");
    assert_eq!(failed.status.state, TaskState::Failed);
    assert_eq!(
        failed.status.reason,
        Some(Reason::ExecutorRegistrationTimeout)
    );
}

#[test]
fn shutting_a_framework_down_kills_its_executors_quietly() {
    let mut cluster = Cluster::start("shutdown-fw", true, true, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("doomed", "sleep 1000"));
    wait_running(&mut cluster, "doomed");
    cluster.to_agent(ShutdownFrameworkMessage {
        framework_id: FrameworkId::new("fw-1"),
    });
    // The executor gets the shutdown, kills its task and exits; nothing goes to the master.
    process::testing::wait_until("the executor to exit", PATIENCE, || {
        // The agent's SIGKILL after the grace period runs on its (paused) clock.
        cluster
            .agent_runtime
            .clock()
            .advance(Duration::from_secs(1));
        session_of_executor("doomed").is_none()
    });
    assert!(
        cluster.none_within(Duration::from_millis(300), |g| matches!(
            g,
            Got::Update(_) | Got::Exited(_)
        ))
    );
    let state = cluster.agent.state().unwrap();
    assert!(
        state["frameworks"].as_array().unwrap().is_empty(),
        "{state:#}"
    );
}

#[test]
fn a_shutdown_message_kills_everything_and_the_agent_registers_anew() {
    let mut cluster = Cluster::start("shutdown-agent", true, true, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("gone", "sleep 1000"));
    wait_running(&mut cluster, "gone");
    cluster.to_agent(ShutdownMessage {
        message: "agent removed".into(),
    });
    let register = cluster.expect_register();
    assert_eq!(register.agent.id, None);
    process::testing::wait_until("the executor to exit", PATIENCE, || {
        session_of_executor("gone").is_none()
    });
}

#[test]
fn killing_a_task_queued_behind_a_registering_executor_reports_killed_at_once() {
    let mut cluster = Cluster::start("kill-queued", true, true, |_| {});
    cluster.expect_register();
    cluster.run_task(custom_task("q", "slow", CommandInfo::shell("sleep 1000")));
    cluster.to_agent(KillTaskMessage {
        framework_id: FrameworkId::new("fw-1"),
        task_id: TaskId::new("q"),
    });
    let killed = cluster.next_update("q");
    assert_eq!(killed.status.state, TaskState::Killed);
    assert_eq!(killed.status.source, Some(Source::Agent));
    assert_eq!(killed.status.reason, Some(Reason::TaskKilledDuringLaunch));
}
