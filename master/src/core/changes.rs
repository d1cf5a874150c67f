//! [`Change`]: what happened to the master's state, in order, as the v1 operator API's
//! SUBSCRIBE stream reports it (TASK_ADDED, TASK_UPDATED, FRAMEWORK_ADDED/UPDATED/REMOVED,
//! AGENT_ADDED/REMOVED).
//!
//! The core records a change at the point the state changes, not by comparing snapshots, so a
//! subscriber sees every transition in the order the core made it, even several within one
//! input. Nothing is recorded (and nothing cloned) until the driver asks for changes with
//! [`MasterCore::observe_changes`]: a master without operator subscribers pays nothing.

use mesos::protocol::Task;
use mesos::{AgentId, FrameworkId, FrameworkInfo, TaskState, TaskStatus};

use super::MasterCore;

/// One change of the master's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A task became known: launched, or reported by a re-registering agent.
    TaskAdded(Task),
    /// A task's state changed.
    TaskUpdated {
        /// The task's framework.
        framework_id: FrameworkId,
        /// The task's latest state.
        state: TaskState,
        /// The status that changed it (with `agent_id` set).
        status: TaskStatus,
    },
    /// A framework registered (or was recovered from a re-registering agent).
    FrameworkAdded(FrameworkId),
    /// A framework re-registered, failed over, disconnected or changed its info.
    FrameworkUpdated(FrameworkId),
    /// A framework was torn down.
    FrameworkRemoved(FrameworkInfo),
    /// An agent registered, or re-registered with a master that did not have it.
    AgentAdded(AgentId),
    /// An agent was removed (unregistered or unreachable).
    AgentRemoved(AgentId),
}

/// The changes recorded since the last drain, when someone observes them.
#[derive(Debug, Default)]
pub(super) struct ChangeLog {
    changes: Option<Vec<Change>>,
}

impl ChangeLog {
    /// Records the change `f` makes, if changes are observed (`f` is not run otherwise).
    pub(super) fn record(&mut self, f: impl FnOnce() -> Change) {
        if let Some(changes) = self.changes.as_mut() {
            changes.push(f());
        }
    }

    /// Records a task's new state, when it differs from `previous`.
    pub(super) fn task_state(
        &mut self,
        framework_id: &FrameworkId,
        previous: TaskState,
        task: &Task,
        status: &TaskStatus,
    ) {
        if previous == task.state {
            return;
        }
        self.record(|| {
            let mut status = status.clone();
            if status.agent_id.is_none() {
                status.agent_id = Some(task.agent_id.clone());
            }
            if status.executor_id.is_none() {
                status.executor_id = task.executor_id.clone();
            }
            Change::TaskUpdated {
                framework_id: framework_id.clone(),
                state: task.state,
                status,
            }
        });
    }
}

impl MasterCore {
    /// Starts (`true`) or stops recording [`Change`]s. Stopping drops what was not drained.
    pub fn observe_changes(&mut self, on: bool) {
        match (on, self.changes.changes.is_some()) {
            (true, false) => self.changes.changes = Some(Vec::new()),
            (false, true) => self.changes.changes = None,
            _ => {}
        }
    }

    /// Whether changes are being recorded.
    pub fn observing_changes(&self) -> bool {
        self.changes.changes.is_some()
    }

    /// Takes the changes recorded so far, oldest first (empty when not observing).
    pub fn drain_changes(&mut self) -> Vec<Change> {
        match self.changes.changes.as_mut() {
            Some(changes) => std::mem::take(changes),
            None => Vec::new(),
        }
    }
}
