//! macro-bench: its pure pieces (job lines, utilization averaging, the static split) and one
//! end-to-end run of the overhead experiment through the real binary and frameworks.

mod common;

use std::process::Command;

use mesos_benches::macro_bench::overhead::OverheadResult;
use mesos_benches::macro_bench::partition::{ranges, split_agents};
use mesos_benches::macro_bench::report::{collect, parse_pairs, DirectRun, MpiJob, WordcountJob};
use mesos_benches::macro_bench::sampler::{sample_from_metrics, utilization, Resource, Sample};
use mesos_benches::macro_bench::{locality, sharing};
use process::testing::BoundedCommand;

/// The bound on every run of macro-bench here (each a quick refusal or plan).
const WAIT: std::time::Duration = std::time::Duration::from_secs(60);

// ---- job lines ------------------------------------------------------------------------------

#[test]
fn job_lines_are_found_among_other_output() {
    let stdout: Vec<String> = [
        "Registered as 7c1-0000 with master master@127.0.0.1:5050",
        "job=wordcount name=wc job_index=0 maps=8 reduces=2 local_maps=6 local_pct=75.0 job_s=1.500 words=900 distinct=50",
        "job=mpi name=mpi job_index=0 ranks=4 attempts=2 job_s=2.250 result_ok=true",
        "job=wordcount name=wc job_index=1 maps=8 reduces=2 local_maps=8 local_pct=100.0 job_s=0.500 words=900 distinct=50",
        "job=wordcount-direct job_s=0.125 words=900 distinct=50",
    ]
    .map(String::from)
    .to_vec();
    let jobs = collect(&stdout, WordcountJob::parse);
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[1].job_index, 1);
    let mpi = collect(&stdout, MpiJob::parse);
    assert_eq!(mpi.len(), 1);
    assert_eq!(
        (mpi[0].ranks, mpi[0].attempts, mpi[0].result_ok),
        (4, 2, true)
    );
    let direct = collect(&stdout, DirectRun::parse);
    assert_eq!(direct[0].job_s, 0.125);
    assert_eq!(direct[0].words, 900);

    let figures = locality::summarize(1, &jobs);
    assert_eq!(figures.maps, 16);
    assert_eq!(figures.local_pct, 87.5);
    assert_eq!(figures.job_s, 1.0);
    assert_eq!(
        figures.line(),
        "experiment=locality wait_s=1 local_pct=87.5 job_s=1.000 jobs=2 maps=16"
    );
}

#[test]
fn pairs_ignore_words_without_an_equals_sign() {
    let pairs = parse_pairs("hello job=mpi  ranks=3 result_ok=false trailing");
    assert_eq!(pairs.len(), 3);
    assert_eq!(pairs["ranks"], "3");
    assert!(MpiJob::parse("job=wordcount ranks=3").is_none());
    assert!(DirectRun::parse("job=wordcount-direct job_s=fast words=1").is_none());
}

#[test]
fn overhead_is_relative_to_the_direct_count() {
    let result = OverheadResult {
        direct_s: 10.0,
        cluster_s: 10.25,
        runs: 3,
    };
    assert!((result.overhead_pct() - 2.5).abs() < 1e-9);
    assert_eq!(
        result.line(),
        "experiment=overhead direct_s=10.000 cluster_s=10.250 overhead_pct=2.5 runs=3"
    );
}

// ---- utilization ----------------------------------------------------------------------------

fn sample(at_s: f64, cpus: (f64, f64), mem: (f64, f64)) -> Sample {
    Sample {
        at_s,
        cpus_used: cpus.0,
        cpus_total: cpus.1,
        mem_used: mem.0,
        mem_total: mem.1,
    }
}

#[test]
fn utilization_is_used_time_over_capacity_time() {
    let samples = [
        sample(0.0, (0.0, 0.0), (0.0, 0.0)), // agents not registered yet: no capacity
        sample(1.0, (8.0, 8.0), (1024.0, 4096.0)),
        sample(2.0, (4.0, 8.0), (4096.0, 4096.0)),
        sample(4.0, (0.0, 8.0), (0.0, 4096.0)),
    ];
    let cpu = utilization(&samples, Resource::Cpus, 0.0, 5.0).expect("capacity");
    // (8*1 + 4*2 + 0*1) / (8*4) = 0.5
    assert!((cpu - 0.5).abs() < 1e-9, "{cpu}");
    let mem = utilization(&samples, Resource::Mem, 0.0, 5.0).expect("capacity");
    // (1024 + 4096*2) / (4096*4) = 0.5625
    assert!((mem - 0.5625).abs() < 1e-9, "{mem}");
    // A window inside one sample's span sees only that sample.
    let window = utilization(&samples, Resource::Cpus, 2.5, 3.5).expect("capacity");
    assert!((window - 0.5).abs() < 1e-9, "{window}");
    assert_eq!(utilization(&samples, Resource::Cpus, 0.0, 1.0), None);
    assert_eq!(utilization(&[], Resource::Cpus, 0.0, 1.0), None);
}

#[test]
fn samples_of_several_masters_add_up() {
    let metrics = serde_json::json!({
        "master/cpus_used": 1.5, "master/cpus_total": 4.0,
        "master/mem_used": 512.0, "master/mem_total": 4096.0,
        "master/slaves_active": 2.0,
    });
    let mut a = sample_from_metrics(&metrics, 3.0).expect("all four metrics");
    assert_eq!(a, sample(3.0, (1.5, 4.0), (512.0, 4096.0)));
    a.add(&a.clone());
    assert_eq!(a.cpu_fraction(), 0.375);
    assert_eq!(a.mem_fraction(), 0.125);
    assert!(sample_from_metrics(&serde_json::json!({"master/cpus_used": 1.0}), 0.0).is_none());
}

// ---- static partitioning --------------------------------------------------------------------

#[test]
fn the_static_split_covers_every_agent_once() {
    for agents in 0..20 {
        for weights in [
            &[1, 1, 1][..],
            &[2, 1, 1],
            &[1, 0, 3],
            &[5],
            &[1, 1, 1, 1, 1],
        ] {
            let counts = split_agents(agents, weights);
            assert_eq!(counts.len(), weights.len());
            assert_eq!(counts.iter().sum::<usize>(), agents, "{agents} {weights:?}");
            if agents >= weights.len() {
                for (count, weight) in counts.iter().zip(weights) {
                    assert!(
                        *weight == 0 || *count > 0,
                        "{agents} {weights:?} {counts:?}"
                    );
                }
            }
            let spans = ranges(&counts);
            assert_eq!(spans.last().map_or(0, |r| r.end), agents);
        }
    }
    assert_eq!(split_agents(6, &[1, 1, 1]), vec![2, 2, 2]);
    assert_eq!(split_agents(8, &[2, 1, 1]), vec![4, 2, 2]);
    assert_eq!(split_agents(2, &[1, 1, 1]), vec![1, 1, 0]);
    assert_eq!(split_agents(4, &[0, 0]), vec![0, 0]);
}

#[test]
fn the_sharing_plan_puts_word_count_first() {
    for scale in [
        mesos_benches::macro_bench::Scale::Quick,
        mesos_benches::macro_bench::Scale::Full,
    ] {
        let plan = sharing::SharingPlan::for_scale(scale);
        assert_eq!(plan.mix[0].0.name(), "wordcount");
        let names: Vec<&str> = plan.mix.iter().map(|(w, _)| w.name()).collect();
        assert_eq!(names, ["wordcount", "mpi", "shell", "spark"]);
        let weights: Vec<u32> = plan.mix.iter().map(|(_, w)| *w).collect();
        let counts = split_agents(plan.cluster.agents, &weights);
        assert!(counts.iter().all(|&c| c >= 1));
    }
}

// ---- end to end -----------------------------------------------------------------------------

#[test]
fn quick_overhead_prints_its_line() {
    common::ensure_frameworks(&common::bin_dir());
    let output = Command::new(env!("CARGO_BIN_EXE_macro-bench"))
        .args(["--quick", "--experiments=overhead"])
        .output_within("macro-bench", WAIT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("experiment=overhead "))
        .unwrap_or_else(|| panic!("no overhead line in:\n{stdout}"));
    let pairs = parse_pairs(line);
    for key in ["direct_s", "cluster_s", "overhead_pct"] {
        let value: f64 = pairs[key].parse().expect("a number");
        assert!(value.is_finite(), "{key}={value}");
    }
    assert!(pairs["direct_s"].parse::<f64>().expect("number") > 0.0);
    assert!(pairs["cluster_s"].parse::<f64>().expect("number") > 0.0);
}

#[test]
fn a_missing_framework_binary_is_a_clear_error() {
    let empty = std::env::temp_dir().join(format!("macro-bench-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_macro-bench"))
        .args(["--quick", "--experiments=overhead"])
        .arg(format!("--bin_dir={}", empty.display()))
        .output_within("macro-bench", WAIT);
    let _ = std::fs::remove_dir_all(&empty);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot find 'wordcount-framework'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cargo build --release -p mesos-examples"),
        "{stderr}"
    );
}
