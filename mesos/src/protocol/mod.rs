//! The internal wire protocol: every message the master, agents, schedulers and executors exchange.
//!
//! One module per conversation, as in Mesos's `messages.proto` (wire names keep Mesos's
//! `mesos.internal.*Message` names so traces read the same). All messages travel as bincode over the
//! `process` runtime; a local send moves the value without encoding.
//!
//! Shared records used by several conversations ([`StatusUpdate`], [`Task`]) live here.

pub mod agent;
pub mod executor;
pub mod scheduler;

use serde::{Deserialize, Serialize};

use crate::{
    AgentId, ExecutorId, FrameworkId, Resources, TaskId, TaskInfo, TaskState, TaskStatus, Uuid,
};

pub use agent::*;
pub use executor::*;
pub use scheduler::*;

/// A task status update on its way from an executor (or agent, or master) to a scheduler.
///
/// The `uuid` identifies the update for acknowledgement; it is also copied into `status.uuid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// The task's framework.
    pub framework_id: FrameworkId,
    /// The executor running the task, if any.
    pub executor_id: Option<ExecutorId>,
    /// The agent running the task, if known.
    pub agent_id: Option<AgentId>,
    /// The new status.
    pub status: TaskStatus,
    /// When the update was created, seconds since the Unix epoch.
    pub timestamp: f64,
    /// Identifies this update for acknowledgement.
    pub uuid: Uuid,
}

/// A task as the master and agents track it (and as an agent reports it when re-registering).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The task's name.
    pub name: String,
    /// The task's id.
    pub task_id: TaskId,
    /// The owning framework.
    pub framework_id: FrameworkId,
    /// The executor running it (the command executor's id for command tasks).
    pub executor_id: Option<ExecutorId>,
    /// The agent it runs on.
    pub agent_id: AgentId,
    /// Its latest known state.
    pub state: TaskState,
    /// The resources it holds.
    pub resources: Resources,
    /// Its recent statuses, oldest first.
    pub statuses: Vec<TaskStatus>,
    /// The state of the latest update not yet acknowledged by the scheduler, if any.
    pub status_update_state: Option<TaskState>,
    /// The uuid of that update.
    pub status_update_uuid: Option<Uuid>,
}

impl Task {
    /// A newly launched task in `TASK_STAGING`.
    pub fn staging(
        info: &TaskInfo,
        framework_id: &FrameworkId,
        executor_id: Option<ExecutorId>,
    ) -> Task {
        Task {
            name: info.name.clone(),
            task_id: info.task_id.clone(),
            framework_id: framework_id.clone(),
            executor_id,
            agent_id: info.agent_id.clone(),
            state: TaskState::Staging,
            resources: info.resources.clone(),
            statuses: Vec::new(),
            status_update_state: None,
            status_update_uuid: None,
        }
    }
}

#[cfg(test)]
mod tests;
