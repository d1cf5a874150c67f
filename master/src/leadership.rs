//! [`Leadership`]: whether this master leads, and who does, for masters in a ZooKeeper election
//! (issue 5). A standalone master is elected from the start and stays so.
//!
//! A standby master runs its processes (so `/master/state` and `/metrics/snapshot` answer and
//! show the leader) but drops every message: agents and schedulers find the leader through their
//! detectors. When elected, the master starts from fresh soft state and rebuilds it from the
//! agents and frameworks that re-register; when fenced, it stops acting at once.

use std::sync::atomic::{AtomicBool, Ordering};

use mesos::MasterInfo;
use parking_lot::Mutex;
use serde_json::Value as Json;

/// Shared by the master process, its HTTP views and its handle.
#[derive(Debug)]
pub(crate) struct Leadership {
    elected: AtomicBool,
    /// The leading master as last seen (`None`: unknown, or nobody leads).
    leader: Mutex<Option<MasterInfo>>,
}

impl Leadership {
    /// `elected`: a standalone master (its own leader) or a standby (no leader known yet).
    pub(crate) fn new(elected: bool, own: &MasterInfo) -> Leadership {
        Leadership {
            elected: AtomicBool::new(elected),
            leader: Mutex::new(elected.then(|| own.clone())),
        }
    }

    /// Whether this master acts as the leader now.
    pub(crate) fn is_elected(&self) -> bool {
        self.elected.load(Ordering::Acquire)
    }

    /// Records the election's outcome.
    pub(crate) fn set(&self, elected: bool, leader: Option<MasterInfo>) {
        *self.leader.lock() = leader;
        self.elected.store(elected, Ordering::Release);
    }

    /// The leading master as last seen (this one, when elected).
    pub(crate) fn leader(&self) -> Option<MasterInfo> {
        self.leader.lock().clone()
    }

    /// Puts `leader`, `leader_info` (and for a standby: no `elected_time`) into `/master/state`.
    pub(crate) fn apply_to_state(&self, state: &mut Json) {
        let Some(map) = state.as_object_mut() else {
            return;
        };
        if self.is_elected() {
            return;
        }
        map.remove("elected_time");
        match &*self.leader.lock() {
            Some(leader) => {
                let info = mesos::json::to_mesos_json(leader).unwrap_or(Json::Null);
                map.insert("leader".into(), leader.pid.clone().into());
                map.insert("leader_info".into(), info);
            }
            None => {
                map.remove("leader");
                map.remove("leader_info");
            }
        }
    }

    /// Sets `master/elected` (1 on the leader, 0 on a standby) in `/metrics/snapshot`.
    pub(crate) fn apply_to_metrics(&self, metrics: &mut Json) {
        if let Some(map) = metrics.as_object_mut() {
            let elected = if self.is_elected() { 1.0 } else { 0.0 };
            map.insert("master/elected".into(), elected.into());
        }
    }
}
