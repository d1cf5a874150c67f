//! `macro-bench [--quick] [--experiments=locality,sharing,overhead,iterative] [--plot=<path>]`: the paper's
//! experiments against in-process clusters, with the example frameworks as child processes (build
//! them and the command executor first: `cargo build --release -p mesos-examples -p agent -p
//! mesos-benches`). Prints `key=value` lines:
//!
//! ```text
//! experiment=locality wait_s=<w> local_pct=<x> job_s=<x> jobs=<n> maps=<n>
//! experiment=sharing mode=<shared|static> framework=<name> jobs=<n> mean_job_s=<x> cpu_util_pct=<x> mem_util_pct=<x>
//! experiment=sharing-summary mode=<shared|static> makespan_s=<x> cpu_util_pct=<x> mem_util_pct=<x>
//! plot=<path>
//! experiment=overhead direct_s=<x> cluster_s=<x> overhead_pct=<x> runs=<n>
//! experiment=iterative framework=<hadoop|spark> iterations=<n> first_iter_s=<x> later_iter_s=<x> total_s=<x>
//! experiment=iterative-speedup speedup=<x>
//! experiment=services mode=<alone|with_service> round=<r> framework=<name> jobs=<n> mean_job_s=<x>
//! experiment=services-availability round=<r> probes=<n> answered=<n>
//! experiment=services-summary rounds=<n> probes=<n> answered=<n> availability_pct=<x> batch_alone_s=<x> batch_with_service_s=<x> batch_ratio=<x> target_availability_pct=99.9 target_batch_ratio=1.1
//! ```
//!
//! Exits 1 with a message if a framework fails or a binary is missing.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use mesos_benches::macro_bench::plot::draw_utilization;
use mesos_benches::macro_bench::{
    iterative, locality, overhead, services, sharing, MacroBenchError, Scale, Toolbox,
};

/// Flags of `macro-bench`.
#[derive(Debug, clap::Parser)]
#[command(
    rename_all = "snake_case",
    name = "macro-bench",
    about = "The paper's experiments: delay scheduling, sharing vs static partitioning, overhead, \
             iterative jobs (Spark-like vs Hadoop-like)."
)]
struct Flags {
    /// Small inputs: every experiment in under a minute.
    #[arg(long)]
    quick: bool,
    /// Which experiments to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "locality,sharing,overhead,iterative"
    )]
    experiments: Vec<Experiment>,
    /// Where the utilization picture (SVG) goes.
    #[arg(long, default_value = "target/macro-bench-utilization.svg")]
    plot: PathBuf,
    /// Where the framework binaries are (default: next to this binary).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Experiment {
    Locality,
    Sharing,
    Overhead,
    Iterative,
    /// Issue 17: a health-checked service beside the batch frameworks (not in the default list).
    Services,
}

fn emit(line: &str) {
    println!("{line}");
    // Lines go out as they are known: a long run shows progress, a failure keeps what was done.
    let _ = std::io::stdout().flush();
}

fn run(flags: &Flags) -> Result<(), MacroBenchError> {
    let scale = if flags.quick {
        Scale::Quick
    } else {
        Scale::Full
    };
    let tools = Toolbox::locate(flags.bin_dir.clone())?;
    let started = Instant::now();
    for experiment in &flags.experiments {
        match experiment {
            Experiment::Locality => {
                locality::run(&tools, &locality::LocalityPlan::for_scale(scale), emit)?;
            }
            Experiment::Sharing => {
                let modes = sharing::run(&tools, &sharing::SharingPlan::for_scale(scale), emit)?;
                let runs: Vec<(&str, &[_])> = modes
                    .iter()
                    .map(|m| (m.mode.as_str(), m.samples.as_slice()))
                    .collect();
                draw_utilization(&flags.plot, &runs)?;
                emit(&format!("plot={}", flags.plot.display()));
            }
            Experiment::Overhead => {
                let result = overhead::run(&tools, &overhead::OverheadPlan::for_scale(scale))?;
                emit(&result.line());
            }
            Experiment::Iterative => {
                iterative::run(&tools, &iterative::IterativePlan::for_scale(scale), emit)?;
            }
            Experiment::Services => {
                services::run(&tools, &services::ServicesPlan::for_scale(scale), emit)?;
            }
        }
    }
    eprintln!(
        "macro-bench: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() {
    mesos_local::flags::init_logging();
    let flags: Flags = mesos_benches::cli::parse();
    if let Err(error) = run(&flags) {
        eprintln!("macro-bench: {error}");
        std::process::exit(1);
    }
}
