//! `scale-bench [--agents 1000,10000,50000,100000] [--frameworks 200] [--tasks_per_framework 5]
//! [--task_duration 3secs] [--warmup 5secs] [--window 20secs]`: the paper's scalability experiment
//! (§6.5). For each cluster size a fresh `mesos-master` process (build it first:
//! `cargo build --release -p master`) gets that many emulated agents (lightweight actors on one
//! runtime, over real TCP) and `--frameworks` scheduler drivers that keep launching tasks as
//! theirs end (the paper's tasks of 30 s average, scaled down). One line per size:
//!
//! ```text
//! agents=<n> frameworks=<f> tasks_launched=<n> launch_p50_ms=<x> launch_p99_ms=<x>
//! launch_overhead_ms=<x> launch_overhead_p99_ms=<x> allocation_cycle_ms=<x> allocation_runs=<n> master_cpu_pct=<x>
//! master_rss_mb=<x> register_s=<x> tasks_failed=<n>
//! ```
//!
//! `launch_overhead_ms` is the paper's overhead: the median launch latency (the scheduler's launch
//! call until TASK_RUNNING reaches it) minus that of the smallest cluster of the run
//! (`launch_overhead_p99_ms` the same for the 99th percentile).
//! `allocation_cycle_ms` is the master's median allocation run (`allocator/mesos/allocation_run_ms/p50`),
//! `master_cpu_pct` its CPU use over the window (100 = one core).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mesos::Resources;
use mesos_benches::cli;
use mesos_benches::scale::{self, ScalePlan};

/// Flags of `scale-bench`.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "scale-bench",
    about = "The paper's scalability experiment: launch overhead, allocation runs, master CPU and \
             memory for clusters of emulated agents."
)]
struct Flags {
    /// Cluster sizes, comma-separated; the smallest is the baseline of the overhead.
    #[arg(long, value_delimiter = ',', value_parser = cli::positive,
          default_value = "1000,10000,50000,100000")]
    agents: Vec<usize>,
    /// Frameworks launching tasks.
    #[arg(long, value_parser = cli::positive, default_value = "200")]
    frameworks: usize,
    /// Tasks each framework keeps running.
    #[arg(long, value_parser = cli::positive, default_value = "5")]
    tasks_per_framework: usize,
    /// Mean task duration (the paper's 30 s, scaled down).
    #[arg(long, value_parser = cli::duration, default_value = "3secs")]
    task_duration: Duration,
    /// Launching before the measured window.
    #[arg(long, value_parser = cli::duration, default_value = "5secs")]
    warmup: Duration,
    /// The measured window.
    #[arg(long, value_parser = cli::duration, default_value = "20secs")]
    window: Duration,
    /// Every agent's resources.
    #[arg(long, value_parser = resources, default_value = "cpus:8;mem:16384")]
    agent_resources: Resources,
    /// Every task's resources.
    #[arg(long, value_parser = resources, default_value = "cpus:1;mem:128")]
    task_resources: Resources,
    /// Where `mesos-master` is (default: next to this binary).
    #[arg(long)]
    master_binary: Option<PathBuf>,
}

fn resources(text: &str) -> Result<Resources, String> {
    text.parse::<Resources>().map_err(|e| e.to_string())
}

fn master_binary(flags: &Flags) -> Result<PathBuf, String> {
    let path = match &flags.master_binary {
        Some(path) => path.clone(),
        None => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut dir = exe.parent().ok_or("no binary directory")?.to_path_buf();
            if dir.file_name().is_some_and(|n| n == "deps") {
                dir.pop();
            }
            dir.join("mesos-master")
        }
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: cargo build --release -p master (or pass --master_binary)",
            path.display()
        ))
    }
}

fn run(flags: &Flags) -> Result<(), String> {
    if !flags.agent_resources.contains(&flags.task_resources) {
        return Err(format!(
            "--task_resources {} do not fit in --agent_resources {}",
            flags.task_resources, flags.agent_resources
        ));
    }
    let binary = master_binary(flags)?;
    let mut sizes = flags.agents.clone();
    sizes.sort_unstable();
    sizes.dedup();
    let mut baseline: Option<(f64, f64)> = None;
    for agents in sizes {
        eprintln!("scale-bench: {agents} agents");
        let plan = ScalePlan {
            agents,
            frameworks: flags.frameworks,
            tasks_per_framework: flags.tasks_per_framework,
            task_duration: flags.task_duration,
            agent_resources: flags.agent_resources.clone(),
            task_resources: flags.task_resources.clone(),
            warmup: flags.warmup,
            window: flags.window,
        };
        let result = scale::run(&binary, &plan)?;
        let (base, base_p99) =
            *baseline.get_or_insert((result.launch_p50_ms, result.launch_p99_ms));
        println!(
            "agents={} frameworks={} tasks_launched={} launch_p50_ms={:.2} launch_p99_ms={:.2} launch_overhead_ms={:.2} launch_overhead_p99_ms={:.2} allocation_cycle_ms={} allocation_runs={} master_cpu_pct={:.1} master_rss_mb={:.1} register_s={:.2} tasks_failed={}",
            result.agents,
            result.frameworks,
            result.tasks_launched,
            result.launch_p50_ms,
            result.launch_p99_ms,
            result.launch_p50_ms - base,
            result.launch_p99_ms - base_p99,
            result
                .allocation_cycle_ms
                .map_or_else(|| "none".to_string(), |ms| format!("{ms:.2}")),
            result.allocation_runs,
            result.master_cpu_pct,
            result.master_rss_mb,
            result.register_s,
            result.failed,
        );
        let _ = std::io::stdout().flush();
    }
    Ok(())
}

fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let flags: Flags = cli::parse();
    if let Err(error) = run(&flags) {
        eprintln!("scale-bench: {error}");
        std::process::exit(1);
    }
}
