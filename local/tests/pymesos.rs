//! A real outside client: pymesos 0.3.15 (from PyPI, installed by `scripts/test.sh` into a
//! cached venv with `scripts/pymesos-venv.sh`) drives our cluster through the v1 HTTP APIs,
//! unmodified.

mod util;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use process::testing::BoundedCommand;
use util::*;

/// The venv's python: `PYMESOS_PYTHON`, or the default venv of `scripts/pymesos-venv.sh`.
fn pymesos_python() -> PathBuf {
    if let Some(python) = std::env::var_os("PYMESOS_PYTHON") {
        return python.into();
    }
    let default =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/pymesos-venv/bin/python");
    assert!(
        default.exists(),
        "pymesos is not installed: run scripts/test.sh (or scripts/pymesos-venv.sh) first"
    );
    default
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/pymesos")
        .join(name)
}

#[test]
fn a_pymesos_scheduler_launches_command_tasks_that_finish() {
    ensure_command_executor();
    let mut config = fast_config(2, "cpus:1;mem:512");
    config.master.scheduler_heartbeat_interval = Duration::from_secs(1);
    let cluster = mesos_local::LocalCluster::start(config).expect("cluster starts");
    let output = Command::new(pymesos_python())
        .arg(script("scheduler.py"))
        .args(["--master", &cluster.master_address(), "--tasks", "6"])
        .args(["--command", "echo hello from pymesos && sleep 0.2"])
        .args(["--timeout", "60"])
        .stdin(Stdio::null())
        .output_within("the pymesos scheduler", Duration::from_secs(90));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "pymesos scheduler failed ({:?}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("REGISTERED"), "{stdout}");
    for task in 0..6 {
        let finished = format!("UPDATE task-{task} TASK_FINISHED");
        assert!(stdout.contains(&finished), "{finished} missing:\n{stdout}");
    }
    assert!(stdout.contains("TASK_RUNNING"), "{stdout}");
    // Its tasks are in the master's state like any framework's, and the framework is gone
    // after pymesos' TEARDOWN on stop.
    let state = cluster.master().expect("master").state();
    let completed = &state["completed_frameworks"][0];
    assert_eq!(completed["name"], "pymesos-launcher", "{state}");
    assert_eq!(
        completed["completed_tasks"].as_array().map(Vec::len),
        Some(6),
        "{completed}"
    );
}
