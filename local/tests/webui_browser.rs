//! The web UI in a real browser: headless Chromium driven by Selenium (`tests/webui/browser.py`,
//! installed by `scripts/browser-env.sh`, which `scripts/test.sh` runs) against a running
//! cluster. The dashboard shows the agents and a running task; a task launched while the page is
//! open appears without a reload within 2 s of its launch, and moves to the completed tasks within
//! 2 s of its kill; the task's sandbox, reached by clicking through
//! the master (its agent proxy), shows the task's real stdout; the agent's page lists its
//! executor with live usage; the master's log opens in the log viewer; the other pages render; the
//! console has no errors; no request leaves loopback; the page works behind a path-prefix proxy;
//! on a standby master it follows the leader, and with no leader it says so. One browser session for all of it.
//!
//! `WEBUI_SCREENSHOT=docs/webui.png` keeps a screenshot of the dashboard.

mod util;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use mesos::{Filters, TaskId, TaskState};
use process::testing::{ChildGuard, Lines};
use util::*;

/// The venv's python with selenium: `SELENIUM_PYTHON`, else `scripts/browser-env.sh`'s default.
fn selenium_python() -> PathBuf {
    if let Some(python) = std::env::var_os("SELENIUM_PYTHON") {
        return python.into();
    }
    let default =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/selenium-venv/bin/python");
    assert!(
        default.exists(),
        "selenium is not installed: run scripts/test.sh (or scripts/browser-env.sh) first"
    );
    default
}

const STEP: Duration = Duration::from_secs(60);

#[test]
fn the_dashboard_follows_the_cluster_and_shows_a_tasks_stdout() {
    // The master's log, as --log_dir leaves it, for the dashboard's log viewer.
    let log_dir =
        std::env::temp_dir().join(format!("webui-browser-logs-{}", mesos::Uuid::random()));
    std::fs::create_dir_all(&log_dir).expect("log dir");
    std::fs::write(
        log_dir.join(master::MASTER_LOG_FILE),
        "a line of the master's log\n",
    )
    .expect("log file");
    let mut config = fast_config(2, "cpus:2;mem:1024");
    config.master.log_dir = Some(log_dir.clone());
    let cluster = mesos_local::LocalCluster::start(config).expect("cluster");
    let (driver, mut events) = driver(&cluster, framework("webui"), options());
    events.registered();
    // Offers not used now (the other agent's) are kept for the second task.
    let mut offers = events.offers();
    let offer = offers.remove(0);
    let first = command_task(
        "first-task",
        &offer,
        "echo hello-from-the-sandbox-$((6*7)); sleep 120",
        "cpus:0.5;mem:64",
    );
    driver.launch_tasks(vec![offer.id], vec![first], no_filter());
    // Offers arriving meanwhile are kept too.
    loop {
        let event = events.wait("first-task running, or offers", |e| match e {
            Event::Offers(_) => Some(e.clone()),
            Event::Update(s) if s.task_id.as_str() == "first-task" => Some(e.clone()),
            _ => None,
        });
        match event {
            Event::Offers(more) => offers.extend(more),
            Event::Update(s) if s.state == TaskState::Running => break,
            Event::Update(s) if s.state.is_terminal() => panic!("first-task: {s:?}"),
            _ => {}
        }
    }

    // Two more masters: a standby that knows the leader, and one that knows of none.
    let leader_info = cluster.master().expect("master").info().clone();
    let standby_runtime = process::Runtime::new(process::Config::default()).expect("runtime");
    let standby = master::Master::spawn(
        &standby_runtime,
        master::MasterConfig {
            standby: true,
            ..master::MasterConfig::default()
        },
    )
    .expect("standby");
    standby.set_leadership(false, Some(leader_info));
    let leaderless_runtime = process::Runtime::new(process::Config::default()).expect("runtime");
    let _leaderless = master::Master::spawn(
        &leaderless_runtime,
        master::MasterConfig {
            standby: true,
            ..master::MasterConfig::default()
        },
    )
    .expect("leaderless master");

    let stderr_path =
        std::env::temp_dir().join(format!("webui-browser-{}.err", mesos::Uuid::random()));
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut command = Command::new(selenium_python());
    command
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/webui/browser.py"))
        .args(["--url", &format!("http://{}/", cluster.master_address())])
        .args(["--agents", "2", "--task", "first-task"])
        .args(["--stdout", "hello-from-the-sandbox-42"])
        .args(["--standby", &format!("http://{}/", standby_runtime.addr())])
        .args([
            "--leaderless",
            &format!("http://{}/", leaderless_runtime.addr()),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr);
    if let Some(path) = std::env::var_os("WEBUI_SCREENSHOT") {
        command.arg("--screenshot").arg(path);
    }
    let mut child = command.spawn().expect("python starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    let guard = ChildGuard::new(child);
    let fail = |why: String| -> ! {
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        panic!("{why}\nbrowser.py stderr:\n{err}");
    };
    let mut seen = Vec::new();
    let mut next = |what: &str| -> String {
        match lines.next_within(what, STEP) {
            Some(line) => {
                eprintln!("browser: {line}");
                seen.push(line.clone());
                line
            }
            None => fail(format!(
                "browser.py ended before {what}; it said: {seen:#?}"
            )),
        }
    };
    while next("READY") != "READY" {}

    // A second task, launched while the page is open.
    let offer = match offers.pop() {
        Some(offer) => offer,
        None => events.offers().remove(0),
    };
    let second = command_task("second-task", &offer, "sleep 120", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![second], Filters::default());
    writeln!(stdin, "NEWTASK second-task").expect("tell the browser");
    stdin.flush().expect("flush");
    events.state("second-task", TaskState::Running);
    // ... and killed: it moves to the completed tasks, again without a reload.
    while next("KILL") != "KILL" {}
    driver.kill_task(TaskId::new("second-task"));
    writeln!(stdin, "KILLED second-task").expect("tell the browser");
    stdin.flush().expect("flush");
    events.state("second-task", TaskState::Killed);

    let pass = loop {
        let line = next("PASS");
        if line.starts_with("PASS") {
            break line;
        }
    };
    let latency: u64 = pass
        .split_whitespace()
        .find_map(|w| w.strip_prefix("latency_ms="))
        .and_then(|v| v.parse().ok())
        .expect("a latency");
    assert!(
        latency <= 2000,
        "the new task took {latency} ms to show: {pass}"
    );
    drop(guard);
    let _ = std::fs::remove_file(&stderr_path);
    let _ = std::fs::remove_dir_all(&log_dir);
    driver.stop(false);
}
