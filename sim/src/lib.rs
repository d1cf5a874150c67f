//! A deterministic simulation of a whole cluster under seeded faults.
//!
//! Three master candidates (one elected at a time), three to five agents, three frameworks and
//! their executors run as their pure cores — [`master::MasterCore`] (with the DRF allocator
//! inside), [`agent::core::AgentCore`] (with its status update manager and checkpointing),
//! [`mesos::scheduler::DriverCore`] and [`mesos::executor::DriverCore`] — exchanging the
//! real protocol messages over a simulated network, on a simulated clock, in one thread. Every
//! choice (message delays, workload decisions, the fault plan) comes from one `u64` seed, so a
//! seed replays exactly.
//!
//! A run has three phases: *chaos* (workload plus the faults the seed planned: drops,
//! duplicates, reordering, partitions one-way or both ways, broken connections, agent crashes
//! with recovery, host reboots with or without their disk, agents leaving and joining,
//! scheduler failovers, leader crashes, clock jumps, executor crashes), *quiet* (faults healed,
//! everything restarted; the cluster must reassemble and agree on what runs) and *greedy* (every
//! framework takes every offer; DRF must even out the shares). The invariants of
//! [`invariants`] are checked after every step.
//!
//! ```
//! let result = sim::run_seed(7, &sim::SimConfig::default());
//! assert!(result.violation.is_none(), "{}", result.report());
//! // The same seed gives the same run.
//! assert_eq!(result.trace_hash, sim::run_seed(7, &sim::SimConfig::default()).trace_hash);
//! ```
//!
//! A failing seed prints the seed, the invariant, the last events and the fault plan (shrunk to
//! the faults that matter); `SIM_SEED=<n> cargo test --release -p sim` replays it, and
//! `SIM_FAULTS=<i,j,..>` keeps only those faults of its plan.
#![deny(missing_docs)]

mod agent_node;
mod driver_outputs;
mod executor_node;
pub mod faults;
pub mod invariants;
mod master_node;
mod payload;
pub mod rng;
mod scheduler_node;
mod store;
mod trace;
mod world;

pub use faults::{Fault, PlannedFault};
pub use invariants::Violation;
pub use world::{SimConfig, Stats, World};

use rng::Rng;

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The seed.
    pub seed: u64,
    /// The faults planned (and, for a failure, shrunk).
    pub plan: Vec<PlannedFault>,
    /// The counters.
    pub stats: Stats,
    /// The first broken invariant, if any.
    pub violation: Option<Violation>,
    /// A hash of the run's trace (equal for two runs of one seed).
    pub trace_hash: u64,
}

impl RunResult {
    /// A report for a person: the violation (if any), its trace and the fault plan.
    pub fn report(&self) -> String {
        let mut out = String::new();
        match &self.violation {
            Some(v) => out.push_str(&v.to_string()),
            None => out.push_str(&format!("seed={} passed\n", self.seed)),
        }
        out.push_str("fault plan:\n");
        for (i, fault) in self.plan.iter().enumerate() {
            out.push_str(&format!("  [{i}] {fault}\n"));
        }
        out.push_str(&format!(
            "replay: SIM_SEED={} cargo test --release -p sim --test seeds replay\n",
            self.seed
        ));
        out
    }
}

/// The cluster size and fault plan seed `seed` draws.
pub fn plan_for(seed: u64, config: &SimConfig) -> (usize, Vec<PlannedFault>) {
    let mut rng = Rng::new(seed, 3);
    let agents = rng.between(3, 5) as usize;
    let plan = faults::plan(
        &mut rng,
        config.chaos.as_millis() as u64,
        agents,
        scheduler_count(),
    );
    (agents, plan)
}

fn scheduler_count() -> usize {
    3
}

/// Runs seed `seed` with its own fault plan.
pub fn run_seed(seed: u64, config: &SimConfig) -> RunResult {
    let (agents, plan) = plan_for(seed, config);
    run_plan(seed, config, agents, plan)
}

/// Runs seed `seed` with the given plan (a subset of its own, when shrinking).
pub fn run_plan(
    seed: u64,
    config: &SimConfig,
    agents: usize,
    plan: Vec<PlannedFault>,
) -> RunResult {
    let mut world = World::new(seed, config.clone(), plan.clone(), agents);
    let violation = world.run();
    RunResult {
        seed,
        plan,
        stats: world.stats(),
        trace_hash: world.trace_hash(),
        violation,
    }
}

/// Reduces a failing run's fault plan to the faults needed to break the same invariant: drops
/// halves, then single faults, while the run still fails the same way. Returns the shrunk run.
pub fn shrink(failing: &RunResult, config: &SimConfig) -> RunResult {
    let Some(violation) = &failing.violation else {
        return failing.clone();
    };
    let invariant = violation.invariant;
    let (agents, _) = plan_for(failing.seed, config);
    let mut best = failing.clone();
    let fails = |plan: Vec<PlannedFault>| {
        let result = run_plan(failing.seed, config, agents, plan);
        result
            .violation
            .as_ref()
            .is_some_and(|v| v.invariant == invariant)
            .then_some(result)
    };
    let mut chunk = best.plan.len().div_ceil(2).max(1);
    loop {
        let mut progress = false;
        let mut start = 0;
        while start < best.plan.len() {
            let mut plan = best.plan.clone();
            let end = (start + chunk).min(plan.len());
            plan.drain(start..end);
            match fails(plan) {
                Some(result) => {
                    best = result;
                    progress = true;
                }
                None => start += chunk,
            }
        }
        if chunk == 1 && !progress {
            return best;
        }
        if !progress {
            chunk = (chunk / 2).max(1);
        }
    }
}

/// Keeps only the faults at `indices` of a plan (for `SIM_FAULTS`).
pub fn keep_faults(plan: Vec<PlannedFault>, indices: &[usize]) -> Vec<PlannedFault> {
    plan.into_iter()
        .enumerate()
        .filter(|(i, _)| indices.contains(i))
        .map(|(_, f)| f)
        .collect()
}

/// What a batch of seeds did.
#[derive(Debug, Clone, Default)]
pub struct Soak {
    /// Seeds run.
    pub seeds: u64,
    /// Steps over all runs.
    pub steps: u64,
    /// Faults applied over all runs.
    pub faults: u64,
    /// The failing runs, by seed.
    pub failures: Vec<RunResult>,
}

impl Soak {
    /// The `key=value` summary line (`seeds= steps= faults= violations= seconds=`), `seconds`
    /// being the soak's wall time.
    pub fn summary_line(&self, seconds: f64) -> String {
        format!(
            "seeds={} steps={} faults={} violations={} seconds={seconds:.1}",
            self.seeds,
            self.steps,
            self.faults,
            self.failures.len(),
        )
    }
}

/// Runs every seed of `seeds` on `threads` threads (each seed is still one thread and
/// deterministic). With `stop`, stops soon after the first failure.
pub fn soak(seeds: std::ops::Range<u64>, config: &SimConfig, threads: usize, stop: bool) -> Soak {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let next = AtomicU64::new(seeds.start);
    let failed = AtomicBool::new(false);
    let results = std::sync::Mutex::new(Soak::default());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= seeds.end || (stop && failed.load(Ordering::Relaxed)) {
                    return;
                }
                let result = run_seed(seed, config);
                let mut soak = results.lock().unwrap_or_else(|e| e.into_inner());
                soak.seeds += 1;
                soak.steps += result.stats.steps;
                soak.faults += result.stats.faults;
                if result.violation.is_some() {
                    failed.store(true, Ordering::Relaxed);
                    soak.failures.push(result);
                }
            });
        }
    });
    let mut soak = results.into_inner().unwrap_or_else(|e| e.into_inner());
    soak.failures.sort_by_key(|r| r.seed);
    soak
}
