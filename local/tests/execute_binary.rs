//! The `mesos-execute` binary: exit 0 when its task finishes, non-zero when it fails, 1 with a
//! message naming the flag on bad flags.

mod util;

use process::testing::BoundedCommand;
use std::process::Command;
use util::WAIT;

fn execute(cluster: &mesos_local::LocalCluster, command: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-execute"))
        .args(["--master", &cluster.master_address(), "--name", "cli-task"])
        .args([
            "--command",
            command,
            "--resources",
            "cpus:0.1;mem:32",
            "--role",
            "e2e",
        ])
        .output_within("mesos-execute", WAIT)
}

#[test]
fn exits_zero_when_the_task_finishes() {
    let cluster = util::cluster(1, "cpus:1;mem:512");
    let out = execute(&cluster, "echo from-cli");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("TASK_RUNNING"), "{stdout}");
    assert!(stdout.contains("TASK_FINISHED"), "{stdout}");
}

#[test]
fn exits_non_zero_when_the_task_fails() {
    let cluster = util::cluster(1, "cpus:1;mem:512");
    let out = execute(&cluster, "exit 7");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_ne!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("TASK_FAILED"), "{stdout}");
}

#[test]
fn bad_flags_exit_one_naming_the_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_mesos-execute"))
        .args([
            "--master",
            "127.0.0.1:1",
            "--name",
            "x",
            "--command",
            "true",
        ])
        .args(["--resources", "cpus:many"])
        .output_within("mesos-execute", WAIT);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resources"));
    let out = Command::new(env!("CARGO_BIN_EXE_mesos-execute"))
        .args(["--name", "x", "--command", "true"])
        .output_within("mesos-execute", WAIT);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--master"));
}

#[test]
fn an_unreachable_master_is_reported_and_retried_visibly() {
    // Nothing listens on port 1: the driver must say so on stderr (not hang silently) and keep
    // trying, attempt after attempt, until it is stopped.
    let mut child = process::testing::ChildGuard::new(
        Command::new(env!("CARGO_BIN_EXE_mesos-execute"))
            .args([
                "--master",
                "127.0.0.1:1",
                "--name",
                "x",
                "--command",
                "true",
            ])
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("mesos-execute starts"),
    );
    let lines = process::testing::Lines::new(child.stderr.take().expect("piped stderr"));
    let mut attempts = Vec::new();
    while attempts.len() < 2 {
        let line = lines.expect_within("a warning about the unreachable master", WAIT);
        if line.contains("cannot be reached") {
            assert!(line.contains("127.0.0.1:1"), "{line}");
            attempts.push(line);
        }
    }
    assert!(
        attempts[1].contains("(attempt 3)"),
        "each retry is reported with its number: {attempts:?}"
    );
    assert!(child.try_wait().expect("the child's status").is_none());
}
