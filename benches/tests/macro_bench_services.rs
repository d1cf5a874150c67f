//! `macro-bench --quick --experiments=services` end to end (issue 17): the real binary runs the
//! batch mix alone and beside `service-framework`'s health-checked HTTP apps, probing them
//! throughout; every promised `key=value` line is printed and sane. The targets (>= 99.9%
//! answered, batch within 10%) are figures of the benchmark, reported, not asserted here.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use mesos_benches::macro_bench::report::parse_pairs;
use mesos_benches::macro_bench::services::ServicesPlan;
use mesos_benches::macro_bench::sharing::Workload;
use mesos_benches::macro_bench::Scale;
use process::testing::BoundedCommand;

const WATCHDOG: Duration = Duration::from_secs(180);

fn lines<'a>(stdout: &'a str, name: &str) -> Vec<BTreeMap<&'a str, &'a str>> {
    stdout
        .lines()
        .map(parse_pairs)
        .filter(|pairs| pairs.get("experiment") == Some(&name))
        .collect()
}

fn number(pairs: &BTreeMap<&str, &str>, key: &str) -> f64 {
    pairs
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number {key} in {pairs:?}"))
}

#[test]
fn quick_services_experiment_reports_availability_and_batch_times() {
    common::ensure_frameworks(&common::bin_dir());
    let mut command = Command::new(env!("CARGO_BIN_EXE_macro-bench"));
    command
        .args(["--quick", "--experiments=services"])
        .env_remove("RUST_LOG");
    let output = command.output_within("macro-bench --quick --experiments=services", WATCHDOG);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    eprintln!("{stdout}");
    let plan = ServicesPlan::for_scale(Scale::Quick);
    let frameworks: Vec<&str> = plan.batch.iter().map(Workload::name).collect();
    for mode in ["alone", "with_service"] {
        let found: Vec<_> = lines(&stdout, "services")
            .into_iter()
            .filter(|l| l.get("mode") == Some(&mode))
            .collect();
        assert_eq!(
            found.len(),
            frameworks.len() * plan.rounds,
            "{mode}\n{stdout}"
        );
        for line in &found {
            assert!(frameworks.contains(&line["framework"]), "{line:?}");
            assert!(number(line, "jobs") >= 1.0, "{line:?}");
            assert!(number(line, "mean_job_s") > 0.0, "{line:?}");
        }
    }
    let summary = lines(&stdout, "services-summary");
    assert_eq!(summary.len(), 1, "{stdout}");
    let summary = &summary[0];
    let (probes, answered) = (number(summary, "probes"), number(summary, "answered"));
    assert!(probes >= plan.apps as f64, "{summary:?}");
    assert!(answered <= probes, "{summary:?}");
    let availability = number(summary, "availability_pct");
    assert!(
        (availability - 100.0 * answered / probes).abs() < 0.01,
        "{summary:?}"
    );
    // The service was up (deploy waited for every instance healthy): most probes are answered.
    assert!(availability > 90.0, "{summary:?}");
    assert!(number(summary, "batch_ratio") > 0.0, "{summary:?}");
}
