//! Allocator throughput grid: prints one line per (agents, frameworks) cell:
//!
//! `agents=<n> frameworks=<m> add_ms=<median> first_cycle_ms=<median> decline_cycle_ms=<median>
//! decline_cycle_cpu_ms=<median> rss_mb=<n>` (the `cpu` figure is the thread's CPU time, which a
//! shared machine disturbs much less than the wall time).
//!
//! Flags: `--quick` (a small subset for CI), `--agents 1000,10000`, `--frameworks 10,100`,
//! `--runs N` (fresh allocators per cell; default 3), `--decline_cycles N` (timed steady-state
//! cycles per run after warm-up; default 5); `--help` explains each. Build with `--release`.

use mesos_benches::allocator_grid::{median_ms, rss_bytes, rss_mb, Grid, AGENT_RESOURCES};
use std::process::ExitCode;
use std::time::Duration;

/// Decline cycles run before timing, so that every agent carries its steady-state filters
/// (refuse 5 s at one cycle per second).
const WARMUP_DECLINE_CYCLES: usize = 6;

/// Flags of `allocator-bench`.
#[derive(Debug, clap::Parser)]
#[command(
    rename_all = "snake_case",
    name = "allocator-bench",
    about = "The allocator's throughput grid: one line per (agents, frameworks) cell with the \
             medians of adding the agents, the first allocation cycle and steady decline cycles."
)]
struct Flags {
    /// A small subset for CI: 1000 agents, 10 and 100 frameworks, 1 run, 2 decline cycles
    /// (overrides the other flags).
    #[arg(long)]
    quick: bool,
    /// Agent counts of the grid, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,50000", value_parser = mesos_benches::cli::positive)]
    agents: Vec<usize>,
    /// Framework counts of the grid, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000", value_parser = mesos_benches::cli::positive)]
    frameworks: Vec<usize>,
    /// Fresh allocators per cell.
    #[arg(long, default_value_t = 3, value_parser = mesos_benches::cli::positive)]
    runs: usize,
    /// Timed steady-state decline cycles per run, after warm-up.
    #[arg(long, alias = "decline-cycles", default_value_t = 5, value_parser = mesos_benches::cli::positive)]
    decline_cycles: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Flags {
    fn effective(mut self) -> Flags {
        if self.quick {
            self.agents = vec![1_000];
            self.frameworks = vec![10, 100];
            self.runs = 1;
            self.decline_cycles = 2;
        }
        self
    }
}

/// Prints (to stderr) how much the setup grew the process per agent, and how much of that the
/// agents' own resources (`total` and `available`) account for. Meaningful for the first cell of
/// a process; later cells reuse memory freed by earlier ones.
fn report_memory(agents: usize, frameworks: usize, before: u64) {
    let after_setup = rss_bytes();
    let grid = after_setup.saturating_sub(before) / agents as u64;
    let total: mesos::resources::Resources = AGENT_RESOURCES.parse().expect("valid resources");
    let copies: Vec<_> = (0..2 * agents).map(|_| total.clone()).collect();
    let resources = rss_bytes().saturating_sub(after_setup) / agents as u64;
    drop(copies);
    eprintln!(
        "# agents={agents} frameworks={frameworks}: setup grew rss by {grid} B/agent, of which \
         the agent's resources (total + available) take {resources} B: {} B/agent of allocator \
         bookkeeping",
        grid.saturating_sub(resources)
    );
}

fn main() -> ExitCode {
    let o = mesos_benches::cli::parse::<Flags>().effective();
    for &agents in &o.agents {
        for &frameworks in &o.frameworks {
            let mut add = Vec::new();
            let mut first = Vec::new();
            let mut decline: Vec<Duration> = Vec::new();
            let mut decline_cpu: Vec<Duration> = Vec::new();
            let mut rss = 0;
            for run in 0..o.runs {
                let before = rss_bytes();
                let (mut grid, took) = Grid::build(agents, frameworks);
                add.push(took);
                if run == 0 {
                    rss = rss_mb();
                    report_memory(agents, frameworks, before);
                }
                first.push(grid.allocate_cycle());
                let offers = grid.outstanding.len();
                for _ in 0..WARMUP_DECLINE_CYCLES {
                    grid.decline_cycle();
                }
                for _ in 0..o.decline_cycles {
                    decline.push(grid.decline_cycle());
                    decline_cpu.push(grid.last_cycle_cpu);
                }
                if run == 0 {
                    eprintln!(
                        "# first cycle offered {offers} agents; steady decline cycle offers {}",
                        grid.outstanding.len()
                    );
                }
            }
            println!(
                "agents={agents} frameworks={frameworks} add_ms={:.2} first_cycle_ms={:.2} decline_cycle_ms={:.2} decline_cycle_cpu_ms={:.2} rss_mb={rss}",
                median_ms(&mut add),
                median_ms(&mut first),
                median_ms(&mut decline),
                median_ms(&mut decline_cpu),
            );
        }
    }
    ExitCode::SUCCESS
}
