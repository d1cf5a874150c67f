//! The `mesos-local` binary: prints where the master and its state are, runs until SIGTERM, and
//! rejects bad flags with exit 1.

use std::process::{Command, Stdio};
use std::time::Duration;

use process::testing::{BoundedChild, BoundedCommand, ChildGuard, Lines};

/// The bound on every wait for mesos-local.
const WAIT: Duration = Duration::from_secs(60);

#[test]
fn starts_prints_the_master_and_stops_on_sigterm() {
    let mut child = ChildGuard::new(
        Command::new(env!("CARGO_BIN_EXE_mesos-local"))
            .args([
                "--num_agents",
                "2",
                "--port",
                "0",
                "--resources",
                "cpus:1;mem:256",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("mesos-local starts"),
    );
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    let first = lines.expect_within("the master's line", WAIT);
    assert!(first.starts_with("Master running at 127.0.0.1:"), "{first}");
    let second = lines.expect_within("the state line", WAIT);
    assert!(second.contains("/master/state"), "{second}");
    let ui = lines.expect_within("the web UI's line", WAIT);
    assert!(
        ui.trim_start().starts_with("web UI: http://127.0.0.1:"),
        "{ui}"
    );
    let agents: Vec<String> = (0..2)
        .map(|_| lines.expect_within("an agent's line", WAIT))
        .collect();
    assert!(agents.iter().all(|l| l.starts_with("Agent ")), "{agents:?}");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal");
    let status = child.wait_within("mesos-local after SIGTERM", WAIT);
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_flags_exit_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
        .args(["--num_agents", "lots"])
        .output_within("mesos-local", WAIT);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--num_agents"));
}
