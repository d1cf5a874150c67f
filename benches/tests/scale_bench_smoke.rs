//! `scale-bench` cannot rot: the real binary, with two tiny clusters and a few frameworks, launches
//! tasks on emulated agents through a real `mesos-master` and prints one well-formed, sane line
//! per cluster size.

use std::process::Command;
use std::time::Duration;

use mesos_benches::macro_bench::report::parse_pairs;
use process::testing::BoundedCommand;

/// Seconds of work; the watchdog leaves room for a busy 2-core machine.
const WATCHDOG: Duration = Duration::from_secs(180);

fn number(pairs: &std::collections::BTreeMap<&str, &str>, key: &str) -> f64 {
    pairs
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {key} in {pairs:?}"))
}

#[test]
fn a_tiny_scale_bench_launches_tasks_and_prints_a_line_per_cluster_size() {
    process::testing::ensure_binary("master", "mesos-master");
    let mut command = Command::new(env!("CARGO_BIN_EXE_scale-bench"));
    command.args([
        "--agents",
        "40,20",
        "--frameworks",
        "4",
        "--tasks_per_framework",
        "3",
        "--task_duration",
        "200ms",
        "--warmup",
        "1secs",
        "--window",
        "3secs",
    ]);
    let output = command.output_within("scale-bench --agents 40,20", WATCHDOG);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    // Smallest first: it is the overhead's baseline.
    for (line, agents) in lines.iter().zip(["20", "40"]) {
        let pairs = parse_pairs(line);
        assert_eq!(pairs.get("agents"), Some(&agents), "{stdout}");
        assert_eq!(pairs.get("frameworks"), Some(&"4"), "{stdout}");
        assert_eq!(pairs.get("tasks_failed"), Some(&"0"), "{stdout}");
        // 4 frameworks keep 3 tasks of ~200 ms each running for 3 s: dozens of launches.
        assert!(number(&pairs, "tasks_launched") >= 12.0, "{stdout}");
        let p50 = number(&pairs, "launch_p50_ms");
        assert!(
            p50 > 0.0 && p50 <= number(&pairs, "launch_p99_ms"),
            "{stdout}"
        );
        assert!(number(&pairs, "allocation_runs") >= 1.0, "{stdout}");
        assert!(number(&pairs, "allocation_cycle_ms") >= 0.0, "{stdout}");
        assert!(number(&pairs, "master_cpu_pct") > 0.0, "{stdout}");
        let rss = number(&pairs, "master_rss_mb");
        assert!(rss > 1.0 && rss < 2048.0, "{stdout}");
    }
    assert_eq!(
        parse_pairs(lines[0]).get("launch_overhead_ms"),
        Some(&"0.00"),
        "{stdout}"
    );
}

#[test]
fn a_bad_flag_is_named_and_exits_1() {
    let output = Command::new(env!("CARGO_BIN_EXE_scale-bench"))
        .args(["--agents", "ten"])
        .output_within("scale-bench --agents ten", Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--agents") && stderr.contains("ten"),
        "{stderr}"
    );
}
