//! How long the master's allocation runs take: Mesos's `allocator/mesos/allocation_runs` counter
//! and `allocator/mesos/allocation_run_ms` timer in `/metrics/snapshot` (the last run, plus
//! `/count`, `/min`, `/max`, `/p50`, `/p90`, `/p99` over the latest runs).
//!
//! The core cannot read a clock, so the master process measures each tick in which the core ran
//! its allocator and records the duration here ([`MasterCore::record_allocation_run`]).
//!
//! [`MasterCore::record_allocation_run`]: crate::MasterCore::record_allocation_run

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{json, Map, Value as Json};

/// Runs kept for the percentiles (Mesos's timers keep a window as well).
const WINDOW: usize = 1000;

/// The allocation runs measured so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllocationRunTimes {
    count: u64,
    /// The latest runs in milliseconds, oldest first, at most [`WINDOW`].
    recent: VecDeque<f64>,
}

impl AllocationRunTimes {
    /// Records one run.
    pub fn record(&mut self, took: Duration) {
        self.count += 1;
        if self.recent.len() == WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(took.as_secs_f64() * 1e3);
    }

    /// Runs measured since the master started.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `p`-th percentile (0..=100) of the latest runs, in milliseconds; `None` before any.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let mut sorted: Vec<f64> = self.recent.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let last = sorted.len().checked_sub(1)?;
        let rank = ((p / 100.0) * last as f64).round() as usize;
        sorted.get(rank.min(last)).copied()
    }

    /// Adds the metrics to `/metrics/snapshot` (only the counter until a run was measured).
    pub fn apply_to(&self, metrics: &mut Map<String, Json>) {
        metrics.insert(
            "allocator/mesos/allocation_runs".into(),
            json!(self.count as f64),
        );
        let Some(last) = self.recent.back() else {
            return;
        };
        let name = "allocator/mesos/allocation_run_ms";
        metrics.insert(name.into(), json!(last));
        metrics.insert(format!("{name}/count"), json!(self.recent.len() as f64));
        for (suffix, p) in [
            ("min", 0.0),
            ("p50", 50.0),
            ("p90", 90.0),
            ("p99", 99.0),
            ("max", 100.0),
        ] {
            if let Some(value) = self.percentile(p) {
                metrics.insert(format!("{name}/{suffix}"), json!(value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_cover_the_latest_runs_only() {
        let mut runs = AllocationRunTimes::default();
        assert_eq!(runs.percentile(50.0), None);
        for ms in 1..=WINDOW as u64 + 100 {
            runs.record(Duration::from_millis(ms));
        }
        assert_eq!(runs.count(), WINDOW as u64 + 100);
        // The first 100 runs fell out of the window: 101..=1100 ms remain.
        assert_eq!(runs.percentile(0.0), Some(101.0));
        assert_eq!(runs.percentile(100.0), Some(1100.0));
        let p50 = runs.percentile(50.0).unwrap_or_default();
        assert!((600.0..=601.0).contains(&p50), "p50 {p50}");
    }

    #[test]
    fn metrics_name_mesos_timer_keys() {
        let mut metrics = Map::new();
        let mut runs = AllocationRunTimes::default();
        runs.apply_to(&mut metrics);
        assert_eq!(
            metrics.len(),
            1,
            "only the counter before a run: {metrics:?}"
        );
        runs.record(Duration::from_micros(2500));
        runs.record(Duration::from_micros(500));
        runs.apply_to(&mut metrics);
        assert_eq!(metrics["allocator/mesos/allocation_runs"], json!(2.0));
        assert_eq!(metrics["allocator/mesos/allocation_run_ms"], json!(0.5));
        assert_eq!(metrics["allocator/mesos/allocation_run_ms/max"], json!(2.5));
        assert_eq!(
            metrics["allocator/mesos/allocation_run_ms/count"],
            json!(2.0)
        );
    }
}
