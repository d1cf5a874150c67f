//! `cron-framework` end to end (issue 17): a real cluster, the scheduler as a real process,
//! Chronos's REST API over real HTTP. A job every 2 s runs on time 5 times and its dependent job
//! after each; a scheduler down longer than a job's epsilon skips the missed instances instead of
//! stacking them, and never runs an instance twice across its restart.

mod long_running_util;

use std::time::Duration;

use long_running_util::{call_text, quick_config, WAIT};
use mesos_examples::marathon::time::{iso8601, now_secs};
use mesos_local::LocalCluster;
use process::testing::{wait_until, ChildGuard};
use serde_json::{json, Value};

fn cluster() -> LocalCluster {
    let mut config = quick_config(2);
    config.agent_resources = Some("cpus:2;mem:2048;disk:4096".into());
    LocalCluster::start(config).expect("cluster starts")
}

fn start_scheduler(master: &str, state_file: &std::path::Path) -> (ChildGuard, String) {
    let args = ["--state_file".into(), state_file.into()];
    long_running_util::start_scheduler(env!("CARGO_BIN_EXE_cron-framework"), master, &args)
}

fn call(method: &str, url: &str, body: Option<&Value>) -> (u16, String) {
    call_text(method, url, body)
}

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A start time a few whole seconds from now, as seconds and as ISO 8601.
fn start_in(secs: f64) -> (f64, String) {
    let start = (now_secs() + secs).ceil();
    (start, iso8601(start))
}

#[test]
fn a_job_every_two_seconds_runs_on_time_five_times_with_its_dependent_after_each() {
    let cluster = cluster();
    let dir = cluster.work_dir().join("cron-out");
    std::fs::create_dir_all(&dir).unwrap();
    let (_scheduler, api) = start_scheduler(
        &cluster.master_address(),
        &cluster.work_dir().join("cron.json"),
    );
    let (start, start_iso) = start_in(3.0);
    let tick = json!({
        "name": "tick",
        "command": format!("date +%s.%N >> {}/tick.log", dir.display()),
        "schedule": format!("R5/{start_iso}/PT2S"),
        "epsilon": "PT10S",
        "cpus": 0.1, "mem": 32, "disk": 0,
        "owner": "ops@example.com",
    });
    assert_eq!(
        call("POST", &format!("{api}/scheduler/iso8601"), Some(&tick)).0,
        204
    );
    let tock = json!({
        "name": "tock",
        "command": format!("date +%s.%N >> {}/tock.log", dir.display()),
        "parents": ["tick"],
        "cpus": 0.1, "mem": 32, "disk": 0,
    });
    assert_eq!(
        call(
            "POST",
            &format!("{api}/v1/scheduler/dependency"),
            Some(&tock)
        )
        .0,
        204
    );
    wait_until("5 ticks and 5 tocks", WAIT, || {
        lines(&dir.join("tick.log")).len() >= 5 && lines(&dir.join("tock.log")).len() >= 5
    });
    let ticks: Vec<f64> = lines(&dir.join("tick.log"))
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    let tocks: Vec<f64> = lines(&dir.join("tock.log"))
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    let mut lateness = Vec::new();
    for (i, at) in ticks.iter().enumerate() {
        let due = start + 2.0 * i as f64;
        lateness.push(at - due);
        assert!(
            *at >= due - 0.05 && *at <= due + 1.5,
            "tick {i} ran at {at}, due {due}"
        );
        assert!(tocks[i] >= *at, "tock {i} before its tick");
        assert!(
            i == 4 || tocks[i] <= ticks[i + 1],
            "tock {i} after the next tick"
        );
    }
    eprintln!(
        "cron ticks=5 lateness_ms={:?}",
        lateness
            .iter()
            .map(|l| (l * 1000.0).round() as i64)
            .collect::<Vec<_>>()
    );
    // R5: no sixth run.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(lines(&dir.join("tick.log")).len(), 5);
    let (status, jobs) = call("GET", &format!("{api}/scheduler/jobs"), None);
    assert_eq!(status, 200);
    let jobs: Value = serde_json::from_str(&jobs).unwrap();
    let count = |name: &str| {
        jobs.as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == name)
            .map(|j| j["successCount"].clone())
    };
    assert_eq!(count("tick"), Some(json!(5)));
    assert_eq!(count("tock"), Some(json!(5)));
}

#[test]
fn a_restarted_scheduler_skips_what_it_missed_and_never_runs_an_instance_twice() {
    let cluster = cluster();
    let dir = cluster.work_dir().join("cron-out");
    std::fs::create_dir_all(&dir).unwrap();
    let state = cluster.work_dir().join("cron.json");
    let (scheduler, api) = start_scheduler(&cluster.master_address(), &state);
    let (_, start_iso) = start_in(2.0);
    let job = json!({
        "name": "beat",
        "command": format!("echo $mesos_task_id >> {}/beat.log", dir.display()),
        "schedule": format!("R/{start_iso}/PT2S"),
        "epsilon": "PT1S",
        "cpus": 0.1, "mem": 32, "disk": 0,
    });
    assert_eq!(
        call("POST", &format!("{api}/scheduler/iso8601"), Some(&job)).0,
        204
    );
    wait_until("2 beats", WAIT, || lines(&dir.join("beat.log")).len() >= 2);
    drop(scheduler);
    let down_at = now_secs();
    std::thread::sleep(Duration::from_secs(6));
    let before = lines(&dir.join("beat.log")).len();
    let (_scheduler, _api) = start_scheduler(&cluster.master_address(), &state);
    let restarted_at = now_secs();
    wait_until("2 beats after the restart", WAIT, || {
        lines(&dir.join("beat.log")).len() >= before + 2
    });
    let dues: Vec<f64> = lines(&dir.join("beat.log"))
        .iter()
        .map(|id| {
            // ct:<due millis>:<attempt>:beat
            id.split(':').nth(1).unwrap().parse::<f64>().unwrap() / 1000.0
        })
        .collect();
    let unique: std::collections::BTreeSet<i64> =
        dues.iter().map(|d| (d * 1000.0).round() as i64).collect();
    assert_eq!(unique.len(), dues.len(), "an instance ran twice: {dues:?}");
    let after: Vec<f64> = dues[before..].to_vec();
    // Missed while down by more than epsilon: skipped, not stacked.
    assert!(
        after.iter().all(|due| *due >= restarted_at - 1.5),
        "stale instances ran after the restart: {after:?} (down {down_at}, back {restarted_at})"
    );
    assert!(dues.windows(2).all(|w| w[1] > w[0]), "{dues:?}");
}
