//! Existing clients from PyPI, unmodified, against our schedulers (issue 17):
//! marathon-python 0.13.0 drives `service-framework` (create, list, scale, tasks, deployments,
//! kill, delete: every answer parsed into its model classes, which reject keys Marathon does not
//! send) and chronos-python 1.2.1 drives `cron-framework` (add, dependent, list, search, run,
//! kill, delete). Both are installed by `scripts/test.sh` into the pymesos venv.

mod long_running_util;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use long_running_util::{quick_config, start_scheduler};
use mesos_local::LocalCluster;
use process::testing::BoundedCommand;
use serde_json::Value;

/// The venv's python: `PYMESOS_PYTHON`, or the default venv of `scripts/pymesos-venv.sh`.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("PYMESOS_PYTHON") {
        return python.into();
    }
    let default =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/pymesos-venv/bin/python");
    assert!(
        default.exists(),
        "the Python clients are not installed: run scripts/test.sh (or scripts/pymesos-venv.sh)"
    );
    default
}

/// Runs client script `name` with `args`: the one JSON object it prints.
fn run_client(name: &str, args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name);
    let output = Command::new(python())
        .arg(script)
        .args(args)
        .output_within(name, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{name} failed ({:?}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{name}: {e}: {stdout}"))
}

fn cluster() -> LocalCluster {
    let mut cluster = LocalCluster::start(quick_config(0)).expect("cluster starts");
    let low = 30_000 + (std::process::id() % 100) as u16 * 40;
    cluster
        .add_agent_with_resources(Some(format!(
            "cpus:4;mem:4096;disk:4096;ports:[{low}-{}]",
            low + 39
        )))
        .expect("agent");
    cluster
}

#[test]
fn marathon_python_drives_the_service_framework() {
    let cluster = cluster();
    let state = cluster.work_dir().join("service.json");
    let (_scheduler, api) = start_scheduler(
        env!("CARGO_BIN_EXE_service-framework"),
        &cluster.master_address(),
        &["--state_file".into(), state.into()],
    );
    let out = run_client("marathon_client.py", &[&api]);
    assert_eq!(out["ping"], "pong", "{out}");
    assert_eq!(out["info_name"], "marathon", "{out}");
    assert_eq!(out["created"], "/py/web", "{out}");
    assert_eq!(out["created_instances"], 1, "{out}");
    assert_eq!(out["listed"], serde_json::json!(["/py/web"]), "{out}");
    assert_eq!(out["task_started_at_type"], "datetime", "{out}");
    assert_eq!(out["tasks"], 2, "{out}");
    assert_eq!(out["all_tasks"], 2, "{out}");
    assert_eq!(out["got_instances"], 2, "{out}");
    assert_eq!(out["got_tasks_running"], 2, "{out}");
    assert_eq!(
        out["killed"],
        serde_json::json!(["deploymentId", "version"]),
        "{out}"
    );
    assert_eq!(
        out["scale_answer_keys"],
        serde_json::json!(["deploymentId", "version"]),
        "{out}"
    );
    assert_eq!(out["missing"], "404", "{out}");
}

#[test]
fn chronos_python_drives_the_cron_framework() {
    let cluster = cluster();
    let state = cluster.work_dir().join("cron.json");
    let markers = cluster.work_dir().join("markers");
    std::fs::create_dir_all(&markers).unwrap();
    let (_scheduler, api) = start_scheduler(
        env!("CARGO_BIN_EXE_cron-framework"),
        &cluster.master_address(),
        &["--state_file".into(), state.into()],
    );
    let server = api.trim_start_matches("http://");
    let out = run_client("chronos_client.py", &[server, &markers.to_string_lossy()]);
    assert_eq!(
        out["listed"],
        serde_json::json!(["pychild", "pyjob"]),
        "{out}"
    );
    assert_eq!(out["search"], serde_json::json!(["pyjob"]), "{out}");
    assert!(
        out["last_success"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z')),
        "{out}"
    );
    assert_eq!(out["after_delete"], serde_json::json!(["pyjob"]), "{out}");
    assert!(
        out["missing"]
            .as_str()
            .is_some_and(|s| s.contains("No remaining Chronos servers")),
        "{out}"
    );
}
