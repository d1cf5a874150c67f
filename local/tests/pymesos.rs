//! A real outside client: pymesos 0.3.15 (from PyPI, installed by `scripts/test.sh` into a
//! cached venv with `scripts/pymesos-venv.sh`) drives our cluster through the v1 HTTP APIs,
//! unmodified.

mod util;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use process::testing::{BoundedChild, BoundedCommand};
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

/// The stdout of a pymesos scheduler script that must have succeeded.
fn scheduler_stdout(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "pymesos scheduler failed ({:?}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout.into_owned()
}

/// Runs the operator-driver script `name` against `address`: the one JSON object it prints,
/// whose health and version answers it checks.
fn operator_answers(name: &str, address: &str, what: &str) -> serde_json::Value {
    let output = Command::new(pymesos_python())
        .arg(script(name))
        .arg(address)
        .output_within(what, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{name} failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(answers["health"]["get_health"]["healthy"], true);
    assert_eq!(
        answers["version"]["get_version"]["version_info"]["version"],
        mesos::VERSION
    );
    answers
}

/// A framework "watched" whose task "sleeper" (sleep 30) is RUNNING on `cluster`.
fn running_sleeper(cluster: &mesos_local::LocalCluster) -> mesos::scheduler::SchedulerDriver {
    let (driver, mut events) = driver(cluster, framework("watched"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("sleeper", &offer, "sleep 30", "cpus:0.5;mem:64");
    driver.launch_tasks(
        vec![offer.id.clone()],
        vec![task],
        mesos::Filters::default(),
    );
    events.state("sleeper", mesos::TaskState::Running);
    driver
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
    let stdout = scheduler_stdout(&output);
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

#[test]
fn the_pymesos_operator_driver_reads_the_cluster_state() {
    let cluster = cluster(2, "cpus:1;mem:512");
    let driver = running_sleeper(&cluster);
    let answers = operator_answers(
        "operator_state.py",
        &cluster.master_address(),
        "the pymesos operator driver",
    );
    assert!(answers["flags"]["get_flags"]["flags"]
        .as_array()
        .is_some_and(|f| !f.is_empty()));
    assert!(answers["metrics"]["get_metrics"]["metrics"]
        .as_array()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(
        answers["agents"]["get_agents"]["agents"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let frameworks = &answers["frameworks"]["get_frameworks"]["frameworks"];
    assert_eq!(
        frameworks[0]["framework_info"]["name"], "watched",
        "{frameworks}"
    );
    let tasks = &answers["tasks"]["get_tasks"]["tasks"];
    assert_eq!(tasks[0]["task_id"]["value"], "sleeper");
    assert_eq!(tasks[0]["state"], "TASK_RUNNING");
    assert_eq!(answers["state"]["get_state"]["get_tasks"]["tasks"], *tasks);
    assert_eq!(answers["roles"]["get_roles"]["roles"][0]["name"], "e2e");
    assert_eq!(
        answers["master"]["get_master"]["master_info"]["id"],
        cluster.master().expect("master").info().id.as_str()
    );
    driver.stop(false);
}

#[test]
fn a_pymesos_http_executor_receives_tasks_and_sends_updates() {
    let mut config = fast_config(1, "cpus:1;mem:512");
    config.master.scheduler_heartbeat_interval = Duration::from_secs(1);
    let cluster = mesos_local::LocalCluster::start(config).expect("cluster starts");
    let python = pymesos_python();
    let executor = format!("{} {}", python.display(), script("executor.py").display());
    let output = Command::new(&python)
        .arg(script("executor_scheduler.py"))
        .args(["--master", &cluster.master_address(), "--tasks", "4"])
        .args(["--executor", &executor, "--timeout", "60"])
        .stdin(Stdio::null())
        .output_within(
            "the pymesos scheduler and executor",
            Duration::from_secs(90),
        );
    let stdout = scheduler_stdout(&output);
    // Tasks reached the HTTP executor (LAUNCH, with their data), its updates reached the
    // scheduler (with data), the kill reached it (KILL → TASK_KILLED).
    assert!(stdout.contains("UPDATE task-0 TASK_KILLED"), "{stdout}");
    for task in 1..4 {
        let finished = format!("UPDATE task-{task} TASK_FINISHED echo:payload-{task}");
        assert!(stdout.contains(&finished), "{finished} missing:\n{stdout}");
    }
    // Its framework messages carry the environment it saw: Mesos's executor variables and a
    // process group of its own.
    let agent = cluster.agent(0).expect("agent");
    let agent_id = agent
        .agent_id()
        .expect("agent answers")
        .expect("registered");
    let messages: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("MESSAGE pymesos-executor "))
        .map(|m| serde_json::from_str(m).expect("the executor's JSON"))
        .collect();
    assert_eq!(messages.len(), 4, "{stdout}");
    let seen = &messages[0];
    assert_eq!(
        seen["MESOS_AGENT_ENDPOINT"],
        agent.pid().to_string().split_once('@').unwrap().1,
        "{seen}"
    );
    assert_eq!(seen["MESOS_EXECUTOR_ID"], "pymesos-executor");
    assert_eq!(seen["MESOS_SLAVE_ID"], agent_id.as_str());
    assert_eq!(seen["MESOS_SLAVE_PID"], agent.pid().to_string());
    assert_eq!(seen["MESOS_CHECKPOINT"], "0");
    assert_eq!(seen["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"], "500ms");
    assert_eq!(seen["MESOS_DIRECTORY"], seen["MESOS_SANDBOX"]);
    assert!(seen["MESOS_FRAMEWORK_ID"].is_string(), "{seen}");
    // Its own session and process group (the agent's `setsid`), not the agent's.
    assert_eq!(seen["pgid"], seen["sid"], "{seen}");
    assert_ne!(
        seen["pgid"],
        serde_json::json!(std::process::id()),
        "{seen}"
    );
    // pymesos tears its framework down on stop: the agent sends the executor SHUTDOWN and it
    // is gone.
    process::testing::wait_until(
        "the HTTP executor shut down",
        Duration::from_secs(20),
        || {
            agent.state().is_ok_and(|state| {
                state["frameworks"]
                    .as_array()
                    .is_some_and(|f| f.iter().all(|f| f["executors"] == serde_json::json!([])))
            })
        },
    );
    let state = cluster.master().expect("master").state();
    let completed = &state["completed_frameworks"][0];
    assert_eq!(completed["name"], "pymesos-http-executor", "{state}");
}

#[test]
fn the_pymesos_operator_driver_follows_the_master_event_stream() {
    let cluster = cluster(1, "cpus:1;mem:512");
    let mut watcher = Command::new(pymesos_python())
        .arg(script("operator_events.py"))
        .args([&cluster.master_address(), "watched-task", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python starts");
    let lines = process::testing::Lines::new(watcher.stdout.take().expect("stdout"));
    let mut watcher = process::testing::ChildGuard::new(watcher);
    let ready = lines.expect_within("the operator subscribed", Duration::from_secs(30));
    assert_eq!(ready, "READY agents=1");
    let (driver, mut events) = driver(&cluster, framework("watched"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("watched-task", &offer, "true", "cpus:0.5;mem:64");
    driver.launch_tasks(
        vec![offer.id.clone()],
        vec![task],
        mesos::Filters::default(),
    );
    events.state("watched-task", mesos::TaskState::Finished);
    driver.stop(false);
    let mut seen = Vec::new();
    while let Some(line) = lines.next_within("an operator event", Duration::from_secs(30)) {
        seen.push(line);
    }
    let status = watcher.wait_within("the operator client", Duration::from_secs(30));
    assert!(status.success(), "{status:?}: {seen:#?}");
    let kinds: Vec<&str> = seen
        .iter()
        .map(|l| l.split_once(' ').map_or(l.as_str(), |(kind, _)| kind))
        .collect();
    // In the order the master made the changes.
    assert_eq!(
        kinds,
        [
            "FRAMEWORK_ADDED",
            "TASK_ADDED",
            "TASK_UPDATED",
            "TASK_UPDATED",
            "TASK_UPDATED",
            "FRAMEWORK_REMOVED"
        ],
        "{seen:#?}"
    );
    assert!(seen[1].contains("\"watched-task\""), "{}", seen[1]);
    for (line, state) in seen[2..5]
        .iter()
        .zip(["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"])
    {
        assert!(line.contains(&format!("\"state\": \"{state}\"")), "{line}");
    }
}

#[test]
fn the_pymesos_operator_driver_reads_an_agents_state() {
    let cluster = cluster(1, "cpus:1;mem:512");
    let driver = running_sleeper(&cluster);
    let agent = cluster.agent(0).expect("agent");
    let address = agent
        .pid()
        .to_string()
        .split_once('@')
        .unwrap()
        .1
        .to_string();
    let answers = operator_answers(
        "operator_agent.py",
        &address,
        "the pymesos agent operator driver",
    );
    assert!(answers["flags"]["get_flags"]["flags"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f["name"] == "work_dir")));
    assert!(answers["metrics"]["get_metrics"]["metrics"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["name"] == "slave/tasks_running")));
    let tasks = &answers["tasks"]["get_tasks"]["launched_tasks"];
    assert_eq!(tasks[0]["task_id"]["value"], "sleeper", "{answers}");
    assert_eq!(tasks[0]["state"], "TASK_RUNNING");
    assert_eq!(
        answers["state"]["get_state"]["get_tasks"]["launched_tasks"],
        *tasks
    );
    assert_eq!(
        answers["frameworks"]["get_frameworks"]["frameworks"][0]["framework_info"]["name"],
        "watched"
    );
    assert_eq!(
        answers["executors"]["get_executors"]["executors"][0]["executor_info"]["executor_id"]
            ["value"],
        "sleeper"
    );
    let container = &answers["containers"]["get_containers"]["containers"][0];
    assert_eq!(container["executor_id"]["value"], "sleeper", "{container}");
    assert!(container["container_id"]["value"].is_string());
    driver.stop(false);
}
