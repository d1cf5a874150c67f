//! The `monitor` process: serves `/monitor/statistics` (per-executor usage in Mesos's JSON).

use process::http::Response;
use process::{Handlers, Process};

use crate::containers::SharedContainers;

/// Answers `/monitor/statistics` from the shared containers.
pub(crate) struct Monitor {
    containers: SharedContainers,
}

impl Monitor {
    pub(crate) fn new(containers: SharedContainers) -> Monitor {
        Monitor { containers }
    }
}

impl Process for Monitor {
    fn handlers(h: &mut Handlers<Self>) {
        h.route("/statistics", |this: &mut Self, _ctx, _request| {
            Response::ok_json(&this.containers.statistics_json())
        });
    }
}
