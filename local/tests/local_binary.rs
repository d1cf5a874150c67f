//! The `mesos-local` binary: prints where the master and its state are, runs until SIGTERM, and
//! rejects bad flags with exit 1.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn starts_prints_the_master_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
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
        .expect("mesos-local runs");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    assert!(first.starts_with("Master running at 127.0.0.1:"), "{first}");
    let second = lines.next().expect("a line").expect("utf-8");
    assert!(second.contains("/master/state"), "{second}");
    let agents: Vec<String> = lines.by_ref().take(2).map(|l| l.expect("utf-8")).collect();
    assert!(agents.iter().all(|l| l.starts_with("Agent ")), "{agents:?}");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal");
    let status = child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_flags_exit_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
        .args(["--num_agents", "lots"])
        .output()
        .expect("mesos-local runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--num_agents"));
}
