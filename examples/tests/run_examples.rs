//! The example frameworks run to completion against an in-process LocalCluster.

use std::process::Command;
use std::time::Duration;

use mesos_local::{LocalCluster, LocalConfig};
use process::testing::BoundedCommand;

/// The bound on every run of an example framework.
const WAIT: Duration = Duration::from_secs(120);

fn cluster() -> LocalCluster {
    ensure_command_executor();
    let mut config = LocalConfig::new(2);
    config.agent_resources = Some("cpus:1;mem:512".into());
    config.master.allocation_interval = Duration::from_millis(50);
    LocalCluster::start(config).expect("cluster starts")
}

/// Command tasks need the agent's `mesos-executor` next to the test binaries.
fn ensure_command_executor() {
    process::testing::ensure_binary("agent", "mesos-executor");
}

#[test]
fn shell_framework_runs_all_tasks() {
    let cluster = cluster();
    let out = Command::new(env!("CARGO_BIN_EXE_shell-framework"))
        .args([
            "--master",
            &cluster.master_address(),
            "--num_tasks",
            "6",
            "--role",
            "e2e",
        ])
        .args(["--command", "echo hi"])
        .output_within("shell-framework", WAIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("[6/6]"), "{stdout}");
    assert!(stdout.contains("All 6 tasks finished"), "{stdout}");
}

#[test]
fn test_framework_runs_all_tasks_on_the_custom_executor() {
    let cluster = cluster();
    let out = Command::new(env!("CARGO_BIN_EXE_test-framework"))
        .args([
            "--master",
            &cluster.master_address(),
            "--num_tasks",
            "5",
            "--role",
            "e2e",
        ])
        .args(["--executor", env!("CARGO_BIN_EXE_test-executor")])
        .output_within("test-framework", WAIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("All 5 tasks finished"), "{stdout}");
}

#[test]
fn a_failing_shell_task_makes_the_framework_exit_non_zero() {
    let cluster = cluster();
    let out = Command::new(env!("CARGO_BIN_EXE_shell-framework"))
        .args([
            "--master",
            &cluster.master_address(),
            "--num_tasks",
            "1",
            "--role",
            "e2e",
        ])
        .args(["--command", "exit 2"])
        .output_within("shell-framework", WAIT);
    assert_ne!(out.status.code(), Some(0));
}
