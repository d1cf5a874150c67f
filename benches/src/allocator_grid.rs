//! The allocator benchmark grid, shared by the `allocator-bench` binary and the criterion suite.
//!
//! Modelled on Mesos's `HierarchicalAllocator_BENCHMARK_Test` (hierarchical_allocator_tests.cpp):
//! identical agents, frameworks spread over a few roles, and three measurements: adding everything,
//! one full allocation cycle with everything free, and the steady state of "DeclineOffers", where
//! every framework declines every offer with a short filter and each cycle is timed.

use allocator::{
    Allocator, AllocatorConfig, FrameworkOptions, HierarchicalDrfAllocator, OfferGrant,
};
use mesos::resources::Resources;
use std::time::{Duration, Instant};

/// What every agent has, as in the issue (and close to Mesos's benchmark agents).
pub const AGENT_RESOURCES: &str = "cpus:16;mem:65536;disk:1048576;ports:[31000-32000]";

/// Frameworks are spread round-robin over this many roles.
pub const ROLES: usize = 5;

/// The "short filter" of the decline benchmark: each decline refuses for 5 s (Mesos's default
/// `refuse_seconds`) while cycles run one `allocation_interval` (1 s) apart, so in the steady state
/// each agent carries about five live filters from five different frameworks.
pub const DECLINE_REFUSE_SECONDS: f64 = 5.0;

/// A populated allocator plus the injected clock and the offers currently outstanding.
pub struct Grid {
    /// The allocator under test.
    pub allocator: HierarchicalDrfAllocator,
    /// Injected time; advanced by one allocation interval per decline cycle.
    pub now: Instant,
    /// Grants from the last cycle, not yet declined.
    pub outstanding: Vec<OfferGrant>,
    /// The calling thread's CPU time spent in the last timed cycle: unlike the wall time, barely
    /// disturbed by other work on a shared machine (for comparing builds).
    pub last_cycle_cpu: Duration,
}

/// The calling thread's CPU time so far.
pub fn thread_cpu_time() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}

impl Grid {
    /// Builds a grid cell and returns it with the time spent adding all frameworks and agents.
    ///
    /// # Panics
    /// Panics if the constant agent resources do not parse (a bug in this file).
    pub fn build(agents: usize, frameworks: usize) -> (Grid, Duration) {
        let total: Resources = AGENT_RESOURCES.parse().expect("valid agent resources");
        let framework_ids: Vec<String> =
            (0..frameworks).map(|j| format!("framework-{j}")).collect();
        let roles: Vec<String> = (0..frameworks)
            .map(|j| format!("role-{}", j % ROLES))
            .collect();
        let agent_ids: Vec<String> = (0..agents).map(|i| format!("agent-{i}")).collect();
        let mut allocator = HierarchicalDrfAllocator::new(AllocatorConfig {
            seed: 42,
            ..AllocatorConfig::default()
        });
        let start = Instant::now();
        for (id, role) in framework_ids.iter().zip(&roles) {
            allocator
                .add_framework(id, FrameworkOptions::role(role.as_str()))
                .expect("fresh framework id");
        }
        for id in &agent_ids {
            allocator
                .add_agent(id, total.clone())
                .expect("fresh agent id");
        }
        let add = start.elapsed();
        let grid = Grid {
            allocator,
            now: Instant::now(),
            outstanding: Vec::new(),
            last_cycle_cpu: Duration::ZERO,
        };
        (grid, add)
    }

    /// One full allocation cycle; the grants stay outstanding. Returns the cycle time.
    pub fn allocate_cycle(&mut self) -> Duration {
        let cpu = thread_cpu_time();
        let start = Instant::now();
        let grants = self.allocator.allocate(self.now);
        let took = start.elapsed();
        self.last_cycle_cpu = thread_cpu_time().saturating_sub(cpu);
        self.outstanding = grants;
        took
    }

    /// Declines every outstanding offer with `refuse_seconds` (untimed), moves time on by one
    /// allocation interval, and times the next allocation cycle.
    ///
    /// # Panics
    /// Panics if the allocator rejects a decline of its own grant (an allocator bug).
    pub fn decline_cycle_with(&mut self, refuse_seconds: f64) -> Duration {
        for g in std::mem::take(&mut self.outstanding) {
            self.allocator
                .recover_resources(
                    &g.framework,
                    &g.role,
                    &g.agent,
                    &g.resources,
                    Some(refuse_seconds),
                    self.now,
                )
                .expect("decline own grant");
        }
        self.now += self.allocator.config().allocation_interval;
        self.allocate_cycle()
    }

    /// Declines every outstanding offer with the short filter (untimed), moves time on by one
    /// allocation interval, and times the next allocation cycle.
    ///
    /// # Panics
    /// Panics if the allocator rejects a decline of its own grant (an allocator bug).
    pub fn decline_cycle(&mut self) -> Duration {
        self.decline_cycle_with(DECLINE_REFUSE_SECONDS)
    }
}

/// Resident set size of this process in MiB, from `/proc/self/statm` (0 if unavailable).
pub fn rss_mb() -> u64 {
    rss_bytes() / (1024 * 1024)
}

/// Resident set size of this process in bytes, from `/proc/self/statm` (0 if unavailable).
pub fn rss_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let resident_pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    resident_pages * 4096
}

/// The median of some durations, in milliseconds.
pub fn median_ms(samples: &mut [Duration]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let mid = samples.len() / 2;
    let m = if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2
    };
    m.as_secs_f64() * 1000.0
}
