//! Real command tasks through the real agent and the built-in command executor, over loopback TCP.

mod util;

use mesos::protocol::*;
use mesos::*;
use nix::sys::signal::Signal;
use util::*;

#[test]
fn echo_runs_and_reports_starting_running_finished_with_output_in_the_sandbox() {
    let mut cluster = Cluster::start("echo", true, false, |_| {});
    let register = cluster.expect_register();
    assert_eq!(register.agent.resources.cpus(), Some(4.0));
    cluster.run_task(command_task("echo-1", "echo hi; echo oops >&2"));
    let updates = cluster.states_until_terminal("echo-1");
    assert_eq!(
        states(&updates),
        vec![TaskState::Starting, TaskState::Running, TaskState::Finished]
    );
    let last = &updates[2];
    assert_eq!(last.executor_id, Some(ExecutorId::new("echo-1")));
    assert_eq!(last.status.source, Some(Source::Executor));
    assert_eq!(last.agent_id, Some(AgentId::new("agent-1")));
    // The executor exits after its terminal update is acknowledged: no failure, the master hears.
    let exited = cluster.wait_for("executor exit", |g| match g {
        Got::Exited(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(exited.executor_id, ExecutorId::new("echo-1"));
    assert_eq!(exited.status, 0);
    // The sandbox has the task's output (the command runs in it).
    let state = cluster.agent.state().unwrap();
    let completed = &state["frameworks"][0]["completed_tasks"];
    assert_eq!(completed[0]["state"], "TASK_FINISHED", "{state:#}");
    let sandbox = std::fs::read_dir(
        cluster
            .work_dir
            .join("slaves/agent-1/frameworks/fw-1/executors/echo-1/runs"),
    )
    .unwrap()
    .next()
    .unwrap()
    .unwrap()
    .path();
    assert!(sandbox.join("stdout").exists());
    assert!(sandbox.join("stderr").exists());
}

#[test]
fn a_failing_command_reports_task_failed_with_its_exit_code() {
    let mut cluster = Cluster::start("exit3", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("fail-1", "exit 3"));
    let updates = cluster.states_until_terminal("fail-1");
    let last = updates.last().unwrap();
    assert_eq!(last.status.state, TaskState::Failed);
    assert_eq!(
        last.status.message.as_deref(),
        Some("Command exited with status 3")
    );
    assert_eq!(last.status.reason, Some(Reason::CommandExecutorFailed));
}

#[test]
fn kill_task_terminates_the_command_and_reports_task_killed() {
    let mut cluster = Cluster::start("kill", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("sleep-1", "sleep 1000"));
    loop {
        if cluster.next_update("sleep-1").status.state == TaskState::Running {
            break;
        }
    }
    cluster.to_agent(KillTaskMessage {
        framework_id: FrameworkId::new("fw-1"),
        task_id: TaskId::new("sleep-1"),
    });
    let killed = cluster.next_update("sleep-1");
    assert_eq!(killed.status.state, TaskState::Killed);
    let exited = cluster.wait_for("executor exit", |g| match g {
        Got::Exited(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(exited.executor_id, ExecutorId::new("sleep-1"));
}

#[test]
fn a_killed_executor_fails_its_task_and_the_master_hears_of_the_exit() {
    let mut cluster = Cluster::start("crash", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("victim", "sleep 1000"));
    loop {
        if cluster.next_update("victim").status.state == TaskState::Running {
            break;
        }
    }
    let stats = cluster.agent.statistics();
    assert_eq!(stats[0]["executor_id"], "victim", "{stats:#}");
    assert!(stats[0]["statistics"]["mem_rss_bytes"].as_u64().unwrap() > 0);
    assert_eq!(stats[0]["statistics"]["cpus_limit"], 0.1);
    // Kill the executor process itself (not the task).
    let pid = executor_pid(&cluster, "victim");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    let failed = cluster.next_update("victim");
    assert_eq!(failed.status.state, TaskState::Failed);
    assert_eq!(failed.status.reason, Some(Reason::CommandExecutorFailed));
    assert_eq!(failed.status.source, Some(Source::Agent));
    assert!(
        failed
            .status
            .message
            .as_deref()
            .unwrap()
            .contains("SIGKILL"),
        "{:?}",
        failed.status.message
    );
    let exited = cluster.wait_for("executor exit", |g| match g {
        Got::Exited(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(exited.status, 9);
    // Once acknowledged (auto), the task's resources are free again.
    process::testing::wait_until("the task's resources freed", PATIENCE, || {
        let state = cluster.agent.state().unwrap();
        state["used_resources"]["cpus"] == 0.0 && state["used_resources"]["mem"] == 0.0
    });
    // The container is gone: no more statistics for it.
    assert!(cluster.agent.statistics().as_array().unwrap().is_empty());
}

/// The OS pid of a command executor, from the agent's sandbox layout: the executor's session leader.
fn executor_pid(cluster: &Cluster, executor: &str) -> i32 {
    for process in procfs::process::all_processes().unwrap().flatten() {
        let Ok(cmdline) = process.cmdline() else {
            continue;
        };
        let Ok(environ) = process.environ() else {
            continue;
        };
        let id = environ.get(std::ffi::OsStr::new("MESOS_EXECUTOR_ID"));
        let agent = environ.get(std::ffi::OsStr::new("MESOS_AGENT_PID"));
        if cmdline
            .first()
            .is_some_and(|c| c.contains("mesos-executor"))
            && id.is_some_and(|v| v == executor)
            && agent.is_some_and(|v| v.to_str() == Some(&cluster.agent.pid().to_string()))
        {
            return process.pid;
        }
    }
    panic!("no executor process for {executor}");
}

#[test]
fn a_task_ignoring_sigterm_is_killed_after_its_grace_period_and_is_really_gone() {
    let mut cluster = Cluster::start("kill-stubborn", true, false, |_| {});
    cluster.expect_register();
    let grace = std::time::Duration::from_millis(500);
    let task = command_task(
        "stubborn",
        "echo $$ > pid; trap '' TERM; while true; do sleep 0.1; done",
    )
    .with_kill_grace_period(grace);
    cluster.run_task(task);
    loop {
        if cluster.next_update("stubborn").status.state == TaskState::Running {
            break;
        }
    }
    let runs = cluster
        .work_dir
        .join("slaves/agent-1/frameworks/fw-1/executors/stubborn/runs");
    let deadline = std::time::Instant::now() + PATIENCE;
    let shell: i32 = loop {
        let pid = std::fs::read_dir(&runs)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
            .and_then(|e| std::fs::read_to_string(e.path().join("pid")).ok())
            .and_then(|text| text.trim().parse().ok());
        if let Some(pid) = pid {
            break pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the task never wrote its pid"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| !stat.contains(") Z"))
            .unwrap_or(false)
    };
    assert!(alive(shell));
    let killed_at = std::time::Instant::now();
    cluster.to_agent(KillTaskMessage {
        framework_id: FrameworkId::new("fw-1"),
        task_id: TaskId::new("stubborn"),
    });
    let killed = cluster.next_update("stubborn");
    assert_eq!(
        killed.status.state,
        TaskState::Killed,
        "{:?}",
        killed.status
    );
    // SIGTERM was ignored: only the SIGKILL after the grace period ended it.
    let took = killed_at.elapsed();
    assert!(
        took >= grace,
        "killed after {took:?}, before the grace period"
    );
    assert!(
        !alive(shell),
        "the task's shell {shell} survived TASK_KILLED"
    );
    let exited = cluster.wait_for("executor exit", |g| match g {
        Got::Exited(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(exited.executor_id, ExecutorId::new("stubborn"));
}
