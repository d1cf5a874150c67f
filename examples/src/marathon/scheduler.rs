//! The service scheduler's plug into [`crate::long_running`]: the driver's callbacks, the ticker
//! and the REST API feed the [`ServiceCore`](super::core::ServiceCore) in [`Shared`].

use std::sync::Mutex;
use std::time::{Duration, Instant};

use mesos::{FrameworkId, Offer, TaskStatus};

use super::api::{self, Shared};
use super::core::Snapshot;
use super::http::{Request, Response};
use crate::long_running::{Output, SchedulerState};

/// How often the core is ticked (backoff expiry, reconciliation timeout, revives).
pub const TICK: Duration = Duration::from_millis(200);

impl SchedulerState for Shared {
    type Snapshot = Snapshot;
    const TICK: Duration = TICK;
    const DECLINE_REFUSE: Duration = Duration::from_secs(2);

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

    fn offers(&mut self, now: Instant, wall: f64, offers: Vec<Offer>) {
        self.core.offers(now, wall, offers);
    }

    fn status_update(&mut self, now: Instant, wall: f64, status: &TaskStatus) {
        self.core.status_update(now, wall, status);
    }

    fn tick(&mut self, now: Instant, _wall: f64) {
        self.core.tick(now);
    }

    fn handle(shared: &Mutex<Self>, request: Request) -> Response {
        api::handle(shared, request)
    }
}
