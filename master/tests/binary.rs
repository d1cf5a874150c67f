//! The `mesos-master` binary: bad flags exit 1 naming the flag; `--help` exits 0; a real run
//! serves `/master/state` and stops on SIGTERM.

mod util;

use std::process::{Command, Stdio};
use std::time::Duration;

use process::testing::{BoundedChild, BoundedCommand, ChildGuard, Lines};

/// The bound on every wait for mesos-master.
const WAIT: Duration = Duration::from_secs(30);

fn master_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mesos-master"))
}

#[test]
fn bad_flags_exit_1_naming_the_flag() {
    /// Arguments, environment, and what the error must say.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (&["--agent_ping_timeout=0secs"], &[], "--agent_ping_timeout"),
        (
            &["--max_agent_ping_timeouts", "0"],
            &[],
            "--max_agent_ping_timeouts",
        ),
        (
            &["--allocation_interval=fast"],
            &[],
            "expected a number and a unit",
        ),
        (&["--no_such_flag"], &[], "--no_such_flag"),
        (
            &[],
            &[("MESOS_AGENT_PING_TIMEOUT", "1hrs")],
            "between 1secs and 15mins",
        ),
    ];
    for (args, env, expected) in cases {
        let out = master_bin()
            .args(args)
            .envs(env.iter().copied())
            .output_within("mesos-master", WAIT);
        assert_eq!(out.status.code(), Some(1), "{args:?} {env:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let help = master_bin()
        .arg("--help")
        .output_within("mesos-master", WAIT);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--agent_ping_timeout"));
}

#[test]
fn runs_serves_state_and_stops_on_sigterm() {
    // Port 0: the runtime picks a free port and the banner says which.
    let mut child = ChildGuard::new(
        master_bin()
            .args(["--ip=127.0.0.1", "--port=0", "--hostname=bin-test"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("starts"),
    );
    let lines = Lines::new(child.stdout.take().expect("stdout piped"));
    let banner = lines.expect_within("the banner", WAIT);
    let url = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("banner names the state url: {banner}"));
    let addr: std::net::SocketAddr = url.parse().expect("address in the banner");
    let (status, state) = util::http_get(addr, "/master/state");
    assert_eq!(status, 200);
    assert_eq!(state["hostname"], "bin-test");
    assert_eq!(state["pid"], format!("master@{addr}"));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid fits"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal sent");
    let status = child.wait_within("mesos-master after SIGTERM", WAIT);
    assert_eq!(status.code(), Some(0));
    let rest = lines.expect_within("the goodbye", WAIT);
    assert_eq!(rest.trim(), "mesos-master: stopping");
}
