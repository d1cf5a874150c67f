//! `macro-bench --quick` end to end: the real binary runs every experiment (locality, sharing,
//! overhead, iterative) against in-process clusters with the real example frameworks, and every `key=value`
//! line the issue promises is printed, well-formed and sane. Word counts are not in these lines:
//! macro-bench itself checks every word-count job against the direct count (and every
//! logistic-regression job's weights against the direct fit) and exits 1 on a mismatch, so a
//! successful exit covers them.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mesos_benches::macro_bench::iterative::IterativePlan;
use mesos_benches::macro_bench::locality::LocalityPlan;
use mesos_benches::macro_bench::report::parse_pairs;
use mesos_benches::macro_bench::sharing::{SharingPlan, Workload};
use mesos_benches::macro_bench::Scale;
use process::testing::BoundedCommand;

/// `--quick` promises under a minute; the watchdog leaves room for a busy 2-core machine.
const WATCHDOG: Duration = Duration::from_secs(150);

/// Runs `command`, killing it (and failing, with its output) after [`WATCHDOG`].
fn run_with_watchdog(mut command: Command) -> (Output, Duration) {
    let started = Instant::now();
    let output = command.output_within("macro-bench --quick", WATCHDOG);
    (output, started.elapsed())
}

/// The pairs of every line whose `experiment=` is `name`.
fn experiment<'a>(stdout: &'a str, name: &str) -> Vec<BTreeMap<&'a str, &'a str>> {
    stdout
        .lines()
        .map(parse_pairs)
        .filter(|pairs| pairs.get("experiment") == Some(&name))
        .collect()
}

/// `pairs[key]` as a finite number.
fn number(pairs: &BTreeMap<&str, &str>, key: &str) -> f64 {
    let text = pairs
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {pairs:?}"));
    let value: f64 = text
        .parse()
        .unwrap_or_else(|_| panic!("{key}={text} is not a number in {pairs:?}"));
    assert!(value.is_finite(), "{key}={value} in {pairs:?}");
    value
}

fn positive(pairs: &BTreeMap<&str, &str>, key: &str) -> f64 {
    let value = number(pairs, key);
    assert!(value > 0.0, "{key}={value} is not positive in {pairs:?}");
    value
}

/// A percentage that is a fraction in [0, 1] once divided by 100.
fn fraction_of_pct(pairs: &BTreeMap<&str, &str>, key: &str) -> f64 {
    let fraction = number(pairs, key) / 100.0;
    assert!(
        (0.0..=1.0).contains(&fraction),
        "{key} is not in [0, 100]: {pairs:?}"
    );
    fraction
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn quick_mode_prints_every_experiment_line_with_sane_values() {
    common::ensure_frameworks(&common::bin_dir());
    let scratch =
        TempDir(std::env::temp_dir().join(format!("macro-bench-quick-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).expect("temp dir");
    let plot = scratch.0.join("utilization.svg");

    let mut command = Command::new(env!("CARGO_BIN_EXE_macro-bench"));
    command
        .arg("--quick")
        .arg(format!("--plot={}", plot.display()))
        .env_remove("RUST_LOG");
    let (output, elapsed) = run_with_watchdog(command);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    eprintln!(
        "macro-bench --quick took {:.1} s:\n{stdout}",
        elapsed.as_secs_f64()
    );
    let context = format!("\nstdout:\n{stdout}");

    // ---- locality: one line per wait value of the quick plan, then the speedup ----
    let locality_plan = LocalityPlan::for_scale(Scale::Quick);
    let lines = experiment(&stdout, "locality");
    let waits: Vec<u64> = lines.iter().map(|l| number(l, "wait_s") as u64).collect();
    assert_eq!(waits, locality_plan.waits_s, "{context}");
    let mut local_fraction = BTreeMap::new();
    let mut job_s = BTreeMap::new();
    for line in &lines {
        let wait = number(line, "wait_s") as u64;
        local_fraction.insert(wait, fraction_of_pct(line, "local_pct"));
        job_s.insert(wait, positive(line, "job_s"));
        assert_eq!(
            number(line, "jobs") as usize,
            locality_plan.frameworks * locality_plan.jobs,
            "{line:?}{context}"
        );
        assert_eq!(
            number(line, "maps") as usize,
            locality_plan.frameworks * locality_plan.jobs * locality_plan.blocks,
            "{line:?}{context}"
        );
    }
    // Delay scheduling: waiting for local offers never makes locality worse than taking any.
    let (first, last) = (waits[0], waits[waits.len() - 1]);
    assert!(
        local_fraction[&last] >= local_fraction[&first],
        "locality with a {last} s wait below that with {first} s{context}"
    );
    // The paper's >90% with a wait: blocks sit on a few agents, so only waiting gets there.
    assert!(
        local_fraction[&last] >= 0.9,
        "locality {} with a {last} s wait{context}",
        local_fraction[&last]
    );
    let speedup = experiment(&stdout, "locality-speedup");
    assert_eq!(speedup.len(), 1, "{context}");
    assert_eq!(
        speedup[0]["wait_s"],
        format!("{last}_vs_{first}"),
        "{context}"
    );
    let ratio = positive(&speedup[0], "speedup");
    let expected = job_s[&first] / job_s[&last];
    // The line rounds job_s to ms and the ratio to 0.01.
    assert!(
        (ratio - expected).abs() <= 0.02 + 0.01 * expected,
        "speedup={ratio}, job times give {expected}{context}"
    );

    // ---- sharing: per framework and a summary, for both modes ----
    let sharing_plan = SharingPlan::for_scale(Scale::Quick);
    let jobs_of = |name: &str| {
        sharing_plan
            .mix
            .iter()
            .find(|(w, _)| w.name() == name)
            .map(|(w, _)| match w {
                Workload::Wordcount { jobs, .. }
                | Workload::Mpi { jobs, .. }
                | Workload::Spark { jobs, .. } => *jobs,
                Workload::Shell { batches, .. } => *batches,
            })
            .unwrap_or_else(|| panic!("{name} is not in the quick mix"))
    };
    let sharing = experiment(&stdout, "sharing");
    let summaries = experiment(&stdout, "sharing-summary");
    for mode in ["shared", "static"] {
        let of_mode: Vec<_> = sharing.iter().filter(|l| l["mode"] == mode).collect();
        let mut names: Vec<&str> = of_mode.iter().map(|l| l["framework"]).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["mpi", "shell", "spark", "wordcount"],
            "{mode}{context}"
        );
        for line in &of_mode {
            assert_eq!(
                number(line, "jobs") as usize,
                jobs_of(line["framework"]),
                "{line:?}{context}"
            );
            positive(line, "mean_job_s");
            assert!(fraction_of_pct(line, "cpu_util_pct") > 0.0, "{line:?}");
            assert!(fraction_of_pct(line, "mem_util_pct") > 0.0, "{line:?}");
        }
        let summary: Vec<_> = summaries.iter().filter(|l| l["mode"] == mode).collect();
        assert_eq!(summary.len(), 1, "{mode}{context}");
        let summary = summary[0];
        let makespan = positive(summary, "makespan_s");
        // Every framework's mean job time fits in the mode's makespan.
        for line in &of_mode {
            assert!(
                number(line, "mean_job_s") <= makespan + 0.01,
                "{line:?} vs makespan {makespan}{context}"
            );
        }
        for key in ["cpu_util_pct", "mem_util_pct"] {
            assert!(fraction_of_pct(summary, key) > 0.0, "{summary:?}");
            // The per-framework lines repeat the mode's utilization.
            assert!(of_mode.iter().all(|l| l[key] == summary[key]), "{context}");
        }
    }

    // ---- the picture ----
    let plot_line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("plot="))
        .unwrap_or_else(|| panic!("no plot= line{context}"));
    assert_eq!(PathBuf::from(plot_line), plot, "{context}");
    let svg = std::fs::read_to_string(&plot).expect("the plot was written");
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "not an SVG");
    assert!(svg.contains("shared") && svg.contains("static"), "{svg}");

    // ---- overhead ----
    let overhead = experiment(&stdout, "overhead");
    assert_eq!(overhead.len(), 1, "{context}");
    let direct = positive(&overhead[0], "direct_s");
    let cluster = positive(&overhead[0], "cluster_s");
    let pct = number(&overhead[0], "overhead_pct");
    // The times are rounded to ms, the percentage to 0.1.
    let tolerance = 0.1 + 100.0 * 0.001 * (1.0 + cluster / direct) / direct;
    assert!(
        (pct - 100.0 * (cluster - direct) / direct).abs() <= tolerance,
        "overhead_pct={pct} for direct {direct} s, cluster {cluster} s{context}"
    );
    assert!(number(&overhead[0], "runs") >= 1.0, "{context}");

    // ---- iterative: both frameworks, then the speedup of the whole run ----
    let plan = IterativePlan::for_scale(Scale::Quick);
    let runs = experiment(&stdout, "iterative");
    let frameworks: Vec<&str> = runs.iter().map(|l| l["framework"]).collect();
    assert_eq!(frameworks, ["hadoop", "spark"], "{context}");
    for line in &runs {
        assert_eq!(number(line, "iterations") as usize, plan.iterations);
        let first = positive(line, "first_iter_s");
        let later = positive(line, "later_iter_s");
        // The whole job holds its first iteration and the later ones (rounded to ms).
        let total = positive(line, "total_s");
        assert!(total + 0.002 >= first + later, "{line:?}{context}");
    }
    // The Hadoop-like framework re-reads its input every iteration; the Spark-like one reads it
    // once, so even on this tiny data set its later iterations are faster.
    assert!(
        number(&runs[1], "later_iter_s") < number(&runs[0], "later_iter_s"),
        "{context}"
    );
    let speedup = experiment(&stdout, "iterative-speedup");
    assert_eq!(speedup.len(), 1, "{context}");
    let expected = number(&runs[0], "total_s") / number(&runs[1], "total_s");
    assert!(
        (positive(&speedup[0], "speedup") - expected).abs() <= 0.02 + 0.01 * expected,
        "{context}"
    );
}
