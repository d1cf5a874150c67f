//! `cron-framework`: a Chronos-like scheduler for jobs that run on a schedule (issue 17).
//!
//! Jobs are posted to Chronos's REST API with ISO 8601 repeating schedules
//! (`R5/2026-12-03T10:00:00Z/PT1M`); dependent jobs run after all their parents succeed; a failed
//! run is retried `retries` times; an instance missed by more than `epsilon` (the scheduler was
//! down) is skipped, not stacked; no instance runs twice, across the scheduler's own restart
//! (its state is saved to `--state_file` or the ZooKeeper node of `--zk`, and it re-registers with
//! the same framework id).
//!
//! ```text
//! cron-framework --master 127.0.0.1:5050 --http_port 4400 &
//! curl -X POST localhost:4400/scheduler/iso8601 -H 'Content-Type: application/json' \
//!   -d '{"name":"report","command":"./make-report","schedule":"R/2026-12-04T02:00:00Z/P1D","epsilon":"PT30M","retries":2}'
//! curl -X POST localhost:4400/scheduler/dependency -d '{"name":"mail","command":"./mail","parents":["report"]}'
//! curl localhost:4400/scheduler/jobs
//! ```

pub mod api;
pub mod core;
pub mod job;
pub mod schedule;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use mesos::{FrameworkId, Offer, TaskStatus};

use self::api::Shared;
use self::core::{CronCore, Snapshot};
use crate::long_running::{self, Config, Output, Running, SchedulerState, StartError};
use crate::marathon::http::{Request, Response};

impl SchedulerState for Shared {
    type Snapshot = Snapshot;
    const TICK: Duration = Duration::from_millis(100);
    const DECLINE_REFUSE: Duration = Duration::from_secs(1);

    fn drain(&mut self) -> Vec<Output> {
        self.core.drain()
    }

    fn snapshot(&self) -> Snapshot {
        self.core.snapshot()
    }

    fn framework_id(&self) -> Option<FrameworkId> {
        self.core.framework_id().cloned()
    }

    fn registered(&mut self, now: Instant, framework_id: FrameworkId) {
        self.core.registered(now, framework_id);
    }

    fn offers(&mut self, _now: Instant, _wall: f64, offers: Vec<Offer>) {
        self.core.offers(offers);
    }

    fn status_update(&mut self, _now: Instant, wall: f64, status: &TaskStatus) {
        self.core.status_update(wall, status);
    }

    fn tick(&mut self, now: Instant, wall: f64) {
        self.core.tick(now, wall);
    }

    fn handle(shared: &Mutex<Self>, request: Request) -> Response {
        api::handle(shared, request)
    }
}

/// Starts the cron scheduler: loads its state (from the file or ZooKeeper), serves its API,
/// registers.
///
/// # Errors
/// [`StartError`] naming the flag at fault.
pub fn start(config: &Config) -> Result<Running<Shared>, StartError> {
    long_running::start(config, |snapshot, _http| Shared {
        core: CronCore::new(snapshot),
    })
}
