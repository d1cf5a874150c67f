//! `sim-soak`: runs many seeds of the cluster simulation and prints
//! `seeds= steps= faults= violations= seconds=`; every failing seed is shrunk and reported.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

/// Runs seeds `--first .. --first + --seeds` of the simulation.
#[derive(Debug, Parser)]
#[command(
    name = "sim-soak",
    about = "Soak the cluster simulation with many seeds"
)]
struct Flags {
    /// How many seeds to run.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Stop at the first violation.
    #[arg(long)]
    stop: bool,
    /// Do not shrink failing fault plans.
    #[arg(long)]
    no_shrink: bool,
}

fn main() -> ExitCode {
    let flags = Flags::parse();
    let config = sim::SimConfig::default();
    let threads = flags
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let started = Instant::now();
    let summary = sim::soak(
        flags.first..flags.first + flags.seeds,
        &config,
        threads,
        flags.stop,
    );
    for failure in &summary.failures {
        let report = if flags.no_shrink {
            failure.clone()
        } else {
            sim::shrink(failure, &config)
        };
        eprintln!("{}", report.report());
    }
    println!("{}", summary.summary_line(started.elapsed().as_secs_f64()));
    if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
