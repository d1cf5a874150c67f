//! Allocator throughput grid: prints one line per (agents, frameworks) cell:
//!
//! `agents=<n> frameworks=<m> add_ms=<median> first_cycle_ms=<median> decline_cycle_ms=<median>
//! decline_cycle_cpu_ms=<median> rss_mb=<n>` (the `cpu` figure is the thread's CPU time, which a
//! shared machine disturbs much less than the wall time).
//!
//! Flags: `--quick` (a small subset for CI), `--agents 1000,10000`, `--frameworks 10,100`,
//! `--runs N` (fresh allocators per cell; default 3), `--decline-cycles N` (timed steady-state
//! cycles per run after warm-up; default 5). Build with `--release`.

use mesos_benches::allocator_grid::{median_ms, rss_bytes, rss_mb, Grid, AGENT_RESOURCES};
use std::process::ExitCode;
use std::time::Duration;

/// Decline cycles run before timing, so that every agent carries its steady-state filters
/// (refuse 5 s at one cycle per second).
const WARMUP_DECLINE_CYCLES: usize = 6;

struct Options {
    agents: Vec<usize>,
    frameworks: Vec<usize>,
    runs: usize,
    decline_cycles: usize,
}

fn parse_list(flag: &str, value: Option<String>) -> Result<Vec<usize>, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value like 1000,10000"))?;
    value
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    format!("{flag}: '{s}' is not a positive integer (expected e.g. 1000,10000)")
                })
        })
        .collect()
}

fn parse_count(flag: &str, value: Option<String>) -> Result<usize, String> {
    let list = parse_list(flag, value)?;
    match list.as_slice() {
        [n] => Ok(*n),
        _ => Err(format!("{flag} takes one positive integer")),
    }
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        agents: vec![1_000, 10_000, 50_000],
        frameworks: vec![10, 100, 1_000],
        runs: 3,
        decline_cycles: 5,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => {
                o.agents = vec![1_000];
                o.frameworks = vec![10, 100];
                o.runs = 1;
                o.decline_cycles = 2;
            }
            "--agents" => o.agents = parse_list("--agents", args.next())?,
            "--frameworks" => o.frameworks = parse_list("--frameworks", args.next())?,
            "--runs" => o.runs = parse_count("--runs", args.next())?,
            "--decline-cycles" => o.decline_cycles = parse_count("--decline-cycles", args.next())?,
            "--bench" => {} // passed by `cargo bench`; harmless
            other => {
                return Err(format!(
                    "unknown flag '{other}' (accepted: --quick, --agents N,.., --frameworks N,.., --runs N, --decline-cycles N)"
                ))
            }
        }
    }
    Ok(o)
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
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("allocator-bench: {e}");
            return ExitCode::from(1);
        }
    };
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
