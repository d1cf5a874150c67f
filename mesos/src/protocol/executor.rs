//! Executor ↔ agent messages. The agent also relays to executors the scheduler-side messages
//! [`RunTaskMessage`](super::RunTaskMessage), [`KillTaskMessage`](super::KillTaskMessage),
//! [`StatusUpdateMessage`](super::StatusUpdateMessage) (executor → agent),
//! [`StatusUpdateAcknowledgementMessage`](super::StatusUpdateAcknowledgementMessage) (agent → executor),
//! [`FrameworkToExecutorMessage`](super::FrameworkToExecutorMessage),
//! [`ExecutorToFrameworkMessage`](super::ExecutorToFrameworkMessage) and
//! [`ShutdownExecutorMessage`](super::ShutdownExecutorMessage).

use serde::{Deserialize, Serialize};

use super::StatusUpdate;
use crate::{AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskInfo};

/// Executor → agent: the executor process started and wants its tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterExecutorMessage {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
}

/// Agent → executor: registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutorRegisteredMessage {
    /// The executor's info.
    pub executor_info: ExecutorInfo,
    /// The framework's id.
    pub framework_id: FrameworkId,
    /// The framework's info.
    pub framework_info: FrameworkInfo,
    /// The agent's id.
    pub agent_id: AgentId,
    /// The agent's info.
    pub agent_info: AgentInfo,
}

/// Executor → agent: re-register after the agent restarted, with unacknowledged updates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReregisterExecutorMessage {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// Tasks the executor runs.
    pub tasks: Vec<TaskInfo>,
    /// Updates not yet acknowledged.
    pub updates: Vec<StatusUpdate>,
}

/// Agent → executor: re-registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutorReregisteredMessage {
    /// The agent's id.
    pub agent_id: AgentId,
    /// The agent's info.
    pub agent_info: AgentInfo,
}

/// Agent → executor: a restarted agent that recovered this executor asks it to re-register
/// (with [`ReregisterExecutorMessage`]) with the sender, its new pid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconnectExecutorMessage {
    /// The agent's id (the same as before the restart).
    pub agent_id: AgentId,
}

process::message! {
    ReconnectExecutorMessage = "mesos.internal.ReconnectExecutorMessage",
    RegisterExecutorMessage = "mesos.internal.RegisterExecutorMessage",
    ExecutorRegisteredMessage = "mesos.internal.ExecutorRegisteredMessage",
    ReregisterExecutorMessage = "mesos.internal.ReregisterExecutorMessage",
    ExecutorReregisteredMessage = "mesos.internal.ExecutorReregisteredMessage",
}
