//! The `mesos-agent` binary's flag handling: bad flags exit 1 naming the flag; `--help` exits 0.

use process::testing::BoundedCommand;
use std::process::Command;

/// The bound on every run of mesos-agent.
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

fn agent(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
        .args(args)
        .env_remove("MESOS_MASTER")
        .output_within("mesos-agent", WAIT)
}

#[test]
fn bad_flags_exit_1_naming_the_flag() {
    for (args, flag) in [
        (vec!["--master=nonsense"], "--master"),
        (vec!["--master=127.0.0.1:5050", "--port=eighty"], "--port"),
        (
            vec!["--master=127.0.0.1:5050", "--resources=cpus:many"],
            "--resources",
        ),
        (
            vec![
                "--master=127.0.0.1:5050",
                "--executor_registration_timeout=later",
            ],
            "--executor_registration_timeout",
        ),
        (
            vec!["--master=127.0.0.1:5050", "--no_such_flag=1"],
            "--no_such_flag",
        ),
        (vec![], "--master"),
    ] {
        let out = agent(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

#[test]
fn help_exits_0_and_lists_mesos_flag_names() {
    let out = agent(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for flag in ["--master", "--work_dir", "--resources", "--launcher_dir"] {
        assert!(stdout.contains(flag), "{stdout}");
    }
}

#[test]
fn the_master_can_come_from_the_environment() {
    // With MESOS_MASTER set but a bad port flag, the error is about the port, not the master.
    let out = Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
        .arg("--port=x")
        .env("MESOS_MASTER", "127.0.0.1:5050")
        .output_within("mesos-agent", WAIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("--port") && !stderr.contains("--master"),
        "{stderr}"
    );
}
