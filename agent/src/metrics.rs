//! The agent's `/metrics/snapshot` (process `metrics`): a few of Mesos's `slave/*` gauges and
//! counters, kept in atomics the agent updates after each input.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use process::http::Response;
use process::{Handlers, Process};
use serde_json::json;

/// What `/metrics/snapshot` reports.
#[derive(Debug, Default)]
pub struct AgentMetrics {
    /// `slave/recovery_errors`: checkpoints skipped by a `--strict=false` recovery.
    pub recovery_errors: AtomicU64,
    /// `slave/registered`: registered with a master.
    pub registered: AtomicBool,
    /// `slave/recovering` (ours): still recovering executors after a restart.
    pub recovering: AtomicBool,
    /// `slave/executors_running`.
    pub executors_running: AtomicU64,
    /// `slave/tasks_running` (live tasks, staging included).
    pub tasks_running: AtomicU64,
}

impl AgentMetrics {
    /// The snapshot, in Mesos's flat JSON form.
    pub fn snapshot(&self) -> serde_json::Value {
        let flag = |b: &AtomicBool| u64::from(b.load(Ordering::Relaxed));
        json!({
            "slave/recovery_errors": self.recovery_errors.load(Ordering::Relaxed),
            "slave/registered": flag(&self.registered),
            "slave/recovering": flag(&self.recovering),
            "slave/executors_running": self.executors_running.load(Ordering::Relaxed),
            "slave/tasks_running": self.tasks_running.load(Ordering::Relaxed),
        })
    }
}

/// Serves `/metrics/snapshot`.
pub(crate) struct Metrics {
    pub(crate) metrics: Arc<AgentMetrics>,
}

impl Process for Metrics {
    fn handlers(h: &mut Handlers<Self>) {
        h.route("/snapshot", |this: &mut Self, _ctx, _request| {
            Response::ok_json(&this.metrics.snapshot())
        });
    }
}
