//! `launch-bench --security` cannot silently fall back to an insecure run: the real binary, with a
//! tiny task count, runs on mutual TLS with authenticated frameworks and agents and says so only
//! after checking it (both nodes refuse plaintext, the master counted the authentications); with
//! `both` it alternates plain and secure rounds and prints the medians and the ratio.

use std::process::{Command, Output};
use std::time::Duration;

use mesos_benches::macro_bench::report::parse_pairs;
use process::testing::BoundedCommand;

/// A few seconds of work per run; the watchdog leaves room for a busy 2-core machine.
const WATCHDOG: Duration = Duration::from_secs(240);

/// `mesos-executor` must be built (the agent starts it beside the bench for every task).
fn ensure_executor() {
    process::testing::ensure_binary("agent", "mesos-executor");
}

fn launch_bench(args: &[&str]) -> (String, Output) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_launch-bench"));
    for var in process::transport::tls::vars::ALL {
        command.env_remove(var);
    }
    command
        .args(["--agent_resources", "cpus:2;mem:1024;disk:1000"])
        .args(args);
    let output = command.output_within(&format!("launch-bench {args:?}"), WATCHDOG);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stdout}\n{stderr}");
    (stdout, output)
}

fn number(line: &str, key: &str) -> f64 {
    parse_pairs(line)
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {key} in {line:?}"))
}

#[test]
fn the_secure_launch_bench_runs_over_mutual_tls_with_authentication() {
    ensure_executor();
    let (stdout, _) = launch_bench(&["--tasks", "3", "--security", "on"]);
    let secure = stdout
        .lines()
        .find(|l| l.starts_with("security="))
        .unwrap_or_else(|| panic!("no security line in {stdout}"));
    let pairs = parse_pairs(secure);
    assert_eq!(pairs.get("security"), Some(&"on"), "{stdout}");
    assert_eq!(pairs.get("tls"), Some(&"mutual"), "{stdout}");
    assert_eq!(pairs.get("plaintext_refused"), Some(&"true"), "{stdout}");
    // The agent and the framework.
    assert!(number(secure, "auth_successes") >= 2.0, "{stdout}");
    let result = stdout
        .lines()
        .find(|l| l.starts_with("tasks="))
        .unwrap_or_else(|| panic!("no result line in {stdout}"));
    assert_eq!(number(result, "tasks"), 3.0, "{stdout}");

    // Plain runs say so.
    let (stdout, _) = launch_bench(&["--tasks", "2", "--security", "off"]);
    assert!(
        stdout.lines().any(|l| l.trim() == "security=off"),
        "{stdout}"
    );

    // Alternating rounds: one of each, the medians and the ratio.
    let (stdout, _) = launch_bench(&["--tasks", "2", "--security=both", "--rounds", "1"]);
    let lines: Vec<&str> = stdout.lines().collect();
    for mode in ["off", "on"] {
        assert!(
            lines.iter().any(|l| l.starts_with("round=1 ")
                && l.contains(&format!("security={mode}"))
                && number(l, "tasks") == 2.0),
            "no round of {mode}: {stdout}"
        );
        let summary = lines
            .iter()
            .find(|l| l.starts_with(&format!("security={mode} rounds=1 ")))
            .unwrap_or_else(|| panic!("no summary of {mode}: {stdout}"));
        assert!(number(summary, "seconds_median") > 0.0, "{stdout}");
    }
    let ratios = lines
        .iter()
        .find(|l| l.starts_with("ratio_seconds="))
        .unwrap_or_else(|| panic!("no ratios: {stdout}"));
    for key in [
        "ratio_seconds",
        "ratio_tasks_per_s",
        "ratio_launch_p50_ms",
        "ratio_launch_p99_ms",
        "ratio_cpu_s",
    ] {
        let ratio = number(ratios, key);
        assert!(ratio.is_finite() && ratio > 0.0, "{key} in {ratios}");
    }
}
