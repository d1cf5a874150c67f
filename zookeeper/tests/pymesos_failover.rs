//! A real outside client surviving a leader kill: a pymesos 0.3.15 scheduler (installed by
//! `scripts/test.sh`) follows the leader through ZooKeeper as its own detector reads it. Two
//! `mesos-master` children and a `mesos-agent` child; the leader is SIGKILLed while the
//! framework's tasks run; pymesos re-subscribes to the new leader with the same FrameworkID, and
//! the tasks survive and finish.

mod util;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use mesos_zookeeper::testing::ZooKeeperServer;
use mesos_zookeeper::ZooKeeperDetector;
use process::testing::{BoundedChild, ChildGuard, Lines};
use util::cluster::*;
use util::*;

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

/// The first line of the scheduler's output that starts with `prefix`, among those read already
/// or the next ones: updates of different tasks arrive in any order.
fn line_starting(lines: &Lines, prefix: &str, seen: &mut Vec<String>) -> String {
    if let Some(line) = seen.iter().find(|line| line.starts_with(prefix)) {
        return line.clone();
    }
    loop {
        let line = lines
            .next_within(&format!("'{prefix}' from pymesos"), Duration::from_secs(60))
            .unwrap_or_else(|| panic!("pymesos ended before '{prefix}': {seen:#?}"));
        seen.push(line.clone());
        if line.starts_with(prefix) {
            return line;
        }
    }
}

#[test]
fn a_pymesos_framework_survives_a_leader_kill() {
    let zk = server();
    let zk_url = ZooKeeperServer::url(&[&zk], "/mesos");
    let url = zk_url.parse().expect("url");
    let detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");
    let mut a = MasterChild::start(&zk_url);
    let first = detector.wait_for_leader(WAIT).expect("a leader");
    assert_eq!(first.to_string(), a.pid());
    let b = MasterChild::start(&zk_url);
    eventually(
        "b's view of the leader",
        || try_get_json(b.addr, "/master/state"),
        |s| s.as_ref().is_some_and(|s| s["leader"] == a.pid()),
    );
    let work_dir = std::env::temp_dir().join(format!("mesos-pymesos-ha-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir).expect("work dir");
    let _agent = AgentChild::start(&zk_url, &work_dir);
    let release = work_dir.join("release");

    // pymesos' detector takes `host:port/path` after `zk://`.
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../local/tests/pymesos/scheduler.py");
    let command = format!("until [ -f {} ]; do sleep 0.1; done", release.display());
    let mut child = ChildGuard::new(
        Command::new(pymesos_python())
            .arg(&script)
            .args(["--master", &zk_url, "--tasks", "2", "--command", &command])
            .args(["--failover_timeout", "300", "--timeout", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("pymesos scheduler starts"),
    );
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    let registered = line_starting(&lines, "REGISTERED", &mut seen);
    let framework_id = registered
        .split_whitespace()
        .nth(1)
        .expect("an id")
        .to_string();
    line_starting(&lines, "UPDATE task-0 TASK_RUNNING", &mut seen);
    line_starting(&lines, "UPDATE task-1 TASK_RUNNING", &mut seen);

    // Kill the leader: b is elected once a's session expires; pymesos follows it.
    a.kill();
    let second = detector
        .wait_for_change(Some(&first), WAIT)
        .expect("a new leader");
    assert_eq!(second.to_string(), b.pid());
    let reregistered = line_starting(&lines, "REREGISTERED", &mut seen);
    assert_eq!(
        reregistered,
        format!("REREGISTERED {framework_id}"),
        "the same FrameworkID"
    );
    // The tasks survived on the agent; released now, they finish through the new leader.
    std::fs::write(&release, b"go").expect("release file");
    line_starting(&lines, "ALL FINISHED 2", &mut seen);
    let status = child.wait_within("the pymesos scheduler", WAIT);
    assert!(status.success(), "{status:?}: {seen:#?}");
    let state = get_json(b.addr, "/master/state");
    let completed = &state["completed_frameworks"][0];
    assert_eq!(completed["id"], framework_id.as_str(), "{state}");
    let _ = std::fs::remove_dir_all(&work_dir);
}
