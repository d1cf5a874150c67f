//! The simulation as a test: many seeds, each checked against every invariant; a failure prints
//! the seed, the invariant, the last events and the shrunk fault plan.
//!
//! - `SIM_SEED=<n>`: `replay` runs that seed alone (add `SIM_FAULTS=<i,j>` to keep only those
//!   faults of its plan).
//! - `SIM_SEEDS=<n>`: how many seeds `many_seeds` runs (default 1000).

use sim::{SimConfig, RunResult};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn fail(result: &RunResult) -> ! {
    panic!("\n{}", result.report());
}

#[test]
fn replay() {
    let config = SimConfig::default();
    let seed = env_u64("SIM_SEED").unwrap_or(1);
    let (agents, plan) = sim::plan_for(seed, &config);
    let plan = match std::env::var("SIM_FAULTS") {
        Ok(list) => {
            let keep: Vec<usize> = list
                .split(',')
                .filter_map(|i| i.trim().parse().ok())
                .collect();
            sim::keep_faults(plan, &keep)
        }
        Err(_) => plan,
    };
    let result = sim::run_plan(seed, &config, agents, plan);
    eprintln!("{}", result.report());
    if result.violation.is_some() {
        fail(&result);
    }
}

#[test]
fn many_seeds() {
    let config = SimConfig::default();
    let count = env_u64("SIM_SEEDS").unwrap_or(1000);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = std::time::Instant::now();
    let soak = sim::soak(0..count, &config, threads, true);
    eprintln!(
        "seeds={} steps={} faults={} violations={} seconds={:.1}",
        soak.seeds,
        soak.steps,
        soak.faults,
        soak.failures.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(first) = soak.failures.first() {
        fail(&sim::shrink(first, &config));
    }
    assert_eq!(soak.seeds, count);
}

#[test]
fn a_seed_replays_exactly() {
    let config = SimConfig::default();
    for seed in [3, 17, 42] {
        let a = sim::run_seed(seed, &config);
        let b = sim::run_seed(seed, &config);
        assert_eq!(a.stats, b.stats, "seed {seed}");
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}");
    }
    assert_ne!(
        sim::run_seed(3, &config).trace_hash,
        sim::run_seed(4, &config).trace_hash
    );
}
