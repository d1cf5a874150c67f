//! `recovery-bench` cannot rot: the real binary, with a tiny task count, kills and restarts a real
//! agent twice and prints its line, well-formed and sane (the restarts lost nothing, the agent
//! re-registered after it recovered, a durable update took measurable time).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mesos_benches::macro_bench::report::parse_pairs;
use process::testing::BoundedCommand;

/// A few seconds of work; the watchdog leaves room for a busy 2-core machine.
const WATCHDOG: Duration = Duration::from_secs(150);

/// The directory cargo put `recovery-bench` in; the agent's binaries must be there too.
fn bin_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_recovery-bench"));
    exe.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `mesos-agent` and `mesos-executor` must sit beside the bench.
fn ensure_agent_binaries() {
    for bin in ["mesos-agent", "mesos-executor"] {
        process::testing::ensure_binary("agent", bin);
    }
}

fn number(pairs: &std::collections::BTreeMap<&str, &str>, key: &str) -> f64 {
    pairs
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {key} in {pairs:?}"))
}

#[test]
fn a_tiny_recovery_bench_restarts_the_agent_and_prints_its_figures() {
    let dir = bin_dir();
    ensure_agent_binaries();
    // On the target dir's disk (a real one), away from other runs.
    let work_dir = dir.join("recovery-bench-smoke");
    let mut command = Command::new(env!("CARGO_BIN_EXE_recovery-bench"));
    command
        .args(["--tasks", "3", "--runs", "2", "--updates", "8"])
        .args(["--burst", "10", "--burst_runs", "1"])
        .arg("--work_dir")
        .arg(&work_dir);
    let output = command.output_within("recovery-bench --tasks 3", WATCHDOG);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    // The restart line, then one line per burst size.
    assert_eq!(lines.len(), 2, "{stdout}");
    let burst = parse_pairs(lines[1]);
    assert_eq!(burst.get("burst_tasks"), Some(&"10"), "{stdout}");
    assert_eq!(burst.get("burst_updates"), Some(&"40"), "{stdout}");
    assert!(number(&burst, "burst_us_per_update") > 0.0, "{stdout}");
    let pairs = parse_pairs(lines[0]);
    assert_eq!(pairs.get("tasks"), Some(&"3"), "{stdout}");
    assert_eq!(pairs.get("runs"), Some(&"2"), "{stdout}");
    assert_eq!(
        pairs.get("lost"),
        Some(&"0"),
        "a restart lost a task: {stdout}\n{stderr}"
    );
    let recover = number(&pairs, "recover_ms");
    let reregister = number(&pairs, "reregister_ms");
    assert!(recover > 0.0 && reregister >= recover, "{stdout}");
    assert!(number(&pairs, "checkpoint_us_per_update") > 0.0, "{stdout}");
    assert!(
        number(&pairs, "checkpoint_p99_us") >= number(&pairs, "checkpoint_us_per_update"),
        "{stdout}"
    );
    for key in ["recover_ms_all", "reregister_ms_all"] {
        let all: Vec<f64> = pairs[key]
            .split(',')
            .map(|v| v.parse().expect("a number"))
            .collect();
        assert_eq!(all.len(), 2, "{key} in {stdout}");
    }
    assert!(number(&pairs, "fsync_floor_us") > 0.0, "{stdout}");
    assert!(pairs.contains_key("fs"), "{stdout}");
    // Nothing of the bench is left behind: no process, no work dir.
    let leftovers = std::fs::read_dir(&work_dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(
        leftovers,
        0,
        "recovery-bench left files in {}",
        work_dir.display()
    );
}
