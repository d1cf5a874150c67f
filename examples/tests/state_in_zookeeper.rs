//! `--zk` (issue 17): the service and cron schedulers keep their state in a real ZooKeeper node
//! instead of a file. Each scheduler is killed and restarted with a state file that does not
//! exist: what it knew comes back from ZooKeeper (the service adopts its running task, the job
//! keeps its run count), and nothing is written to the file.

mod long_running_util;

use std::ffi::OsString;
use std::time::Duration;

use long_running_util::{call_json, quick_config, start_scheduler, WAIT};
use mesos_local::LocalCluster;
use mesos_zookeeper::testing::ZooKeeperServer;
use mesos_zookeeper::{NodeStore, ZkUrl};
use process::testing::wait_for;
use serde_json::{json, Value};

fn zookeeper() -> ZooKeeperServer {
    ZooKeeperServer::start().expect("zookeeper starts (is the zookeeper package installed?)")
}

fn args(zk: &str, state_file: &std::path::Path) -> Vec<OsString> {
    vec![
        "--zk".into(),
        zk.into(),
        "--state_file".into(),
        state_file.into(),
    ]
}

/// The JSON saved in the node at `zk`.
fn saved(zk: &str) -> Value {
    let url: ZkUrl = zk.parse().unwrap();
    let node = NodeStore::connect(&url, Duration::from_secs(10)).expect("zookeeper reachable");
    let bytes = node.read().expect("read").expect("the node exists");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[test]
fn the_service_scheduler_restarts_from_zookeeper_and_adopts_its_task() {
    let server = zookeeper();
    let zk = ZooKeeperServer::url(&[&server], "/marathon/state");
    let mut config = quick_config(1);
    config.agent_resources = Some("cpus:2;mem:2048;disk:1024".into());
    let cluster = LocalCluster::start(config).expect("cluster starts");
    let file = cluster.work_dir().join("never-written.json");
    let binary = env!("CARGO_BIN_EXE_service-framework");
    let (scheduler, api) = start_scheduler(binary, &cluster.master_address(), &args(&zk, &file));
    let app = json!({"id": "/sleeper", "cmd": "sleep 600", "instances": 1, "cpus": 0.1, "mem": 16});
    let (status, body) = call_json("POST", &format!("{api}/v2/apps"), Some(&app));
    assert_eq!(status, 201, "{body}");
    let running = |api: &str| {
        let (_, body) = call_json("GET", &format!("{api}/v2/apps/sleeper/tasks"), None);
        let tasks = body["tasks"].as_array().cloned().unwrap_or_default();
        (tasks.len() == 1 && tasks[0]["state"] == "TASK_RUNNING")
            .then(|| tasks[0]["id"].as_str().unwrap_or_default().to_string())
    };
    let task = wait_for("the app's task running", WAIT, || running(&api));
    let state = saved(&zk);
    assert_eq!(state["apps"][0]["id"], "/sleeper", "{state}");
    assert!(state["framework_id"]["value"].is_string(), "{state}");

    drop(scheduler);
    let (_scheduler, api) = start_scheduler(binary, &cluster.master_address(), &args(&zk, &file));
    let (status, body) = call_json("GET", &format!("{api}/v2/apps/sleeper"), None);
    assert_eq!(status, 200, "{body}");
    // Adopted after reconciliation, not replaced: the same task, and only it.
    let adopted = wait_for("the task adopted", WAIT, || running(&api));
    assert_eq!(adopted, task);
    assert!(!file.exists(), "--zk must not write --state_file");
}

#[test]
fn the_cron_scheduler_restarts_from_zookeeper_with_its_jobs_and_counts() {
    let server = zookeeper();
    let zk = ZooKeeperServer::url(&[&server], "/chronos/state");
    let cluster = LocalCluster::start(quick_config(1)).expect("cluster starts");
    let file = cluster.work_dir().join("never-written.json");
    let binary = env!("CARGO_BIN_EXE_cron-framework");
    let (scheduler, api) = start_scheduler(binary, &cluster.master_address(), &args(&zk, &file));
    let job = json!({"name": "nightly", "command": "true",
                     "schedule": "R/2099-01-01T02:00:00Z/P1D", "epsilon": "PT1M",
                     "cpus": 0.1, "mem": 16});
    let (status, body) = call_json("POST", &format!("{api}/scheduler/iso8601"), Some(&job));
    assert_eq!(status, 204, "{body}");
    // Run it now; its success is counted.
    let (status, body) = call_json("PUT", &format!("{api}/scheduler/job/nightly"), None);
    assert_eq!(status, 204, "{body}");
    let successes = |api: &str| {
        let (_, jobs) = call_json("GET", &format!("{api}/scheduler/jobs"), None);
        jobs.as_array()?
            .iter()
            .find(|j| j["name"] == "nightly")
            .and_then(|j| j["successCount"].as_u64())
    };
    wait_for("the run counted", WAIT, || {
        successes(&api).filter(|n| *n == 1)
    });
    wait_for("the count saved in zookeeper", WAIT, || {
        let state = saved(&zk);
        (state["jobs"]["nightly"]["job"]["successCount"] == 1).then_some(())
    });

    drop(scheduler);
    let (_scheduler, api) = start_scheduler(binary, &cluster.master_address(), &args(&zk, &file));
    assert_eq!(successes(&api), Some(1));
    assert!(!file.exists(), "--zk must not write --state_file");
}
