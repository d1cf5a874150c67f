//! Agent ↔ master messages.

use serde::{Deserialize, Serialize};

use super::Task;
use crate::{
    AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, MasterInfo, TaskInfo,
};

/// Agent → master: register a new agent (no `agent.id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterSlaveMessage {
    /// The agent: hostname, port, total resources, attributes.
    pub agent: AgentInfo,
    /// The agent's version.
    pub version: String,
}

/// Agent → master: re-register after a master failover or reconnect, with everything it runs, so a
/// new master can rebuild its soft state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReregisterSlaveMessage {
    /// The agent, with `id` set.
    pub agent: AgentInfo,
    /// Its running executors.
    pub executors: Vec<ExecutorInfo>,
    /// Its non-terminal tasks (and terminal ones whose update is not yet acknowledged).
    pub tasks: Vec<Task>,
    /// The frameworks those belong to.
    pub frameworks: Vec<FrameworkInfo>,
    /// The agent's version.
    pub version: String,
}

/// Master → agent: registered, here is your id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaveRegisteredMessage {
    /// The id the master assigned.
    pub agent_id: AgentId,
    /// The master.
    pub master_info: MasterInfo,
    /// How often the master pings, so the agent can tell when its master is gone (seconds).
    pub ping_timeout_secs: f64,
}

/// Master → agent: re-registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaveReregisteredMessage {
    /// The agent's id.
    pub agent_id: AgentId,
    /// The master.
    pub master_info: MasterInfo,
    /// How often the master pings (seconds).
    pub ping_timeout_secs: f64,
}

/// Agent → master: the agent is shutting down for good; remove it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnregisterSlaveMessage {
    /// The agent.
    pub agent_id: AgentId,
}

/// Master → agent: health check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingSlaveMessage {
    /// Whether the master considers the agent connected (registered and reachable).
    pub connected: bool,
}

/// Agent → master: answer to a ping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PongSlaveMessage {}

/// Master → agent (and agent → executor): run a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTaskMessage {
    /// The task's framework.
    pub framework_id: FrameworkId,
    /// The framework's info (the agent needs user, checkpoint, capabilities).
    pub framework: FrameworkInfo,
    /// The scheduler's pid, for framework messages.
    pub pid: String,
    /// The task.
    pub task: TaskInfo,
}

/// Master → agent: the framework is gone; kill its executors and tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShutdownFrameworkMessage {
    /// The framework.
    pub framework_id: FrameworkId,
}

/// Master → agent: a framework failed over to a new scheduler pid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateFrameworkMessage {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The new scheduler pid.
    pub pid: String,
}

/// Master → agent: tasks the agent reported that the master knows must not run (e.g. of a
/// non-partition-aware framework whose tasks were declared LOST): kill them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillTasksOnReregistrationMessage {
    /// (framework, task) pairs to kill.
    pub tasks: Vec<(FrameworkId, crate::TaskId)>,
}

/// Master → agent: you were removed (e.g. marked lost); shut down and re-register as a new agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShutdownMessage {
    /// Why.
    pub message: String,
}

/// Master → agent (and agent → executor): stop one executor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShutdownExecutorMessage {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
}

process::message! {
    RegisterSlaveMessage = "mesos.internal.RegisterSlaveMessage",
    ReregisterSlaveMessage = "mesos.internal.ReregisterSlaveMessage",
    SlaveRegisteredMessage = "mesos.internal.SlaveRegisteredMessage",
    SlaveReregisteredMessage = "mesos.internal.SlaveReregisteredMessage",
    UnregisterSlaveMessage = "mesos.internal.UnregisterSlaveMessage",
    PingSlaveMessage = "mesos.internal.PingSlaveMessage",
    PongSlaveMessage = "mesos.internal.PongSlaveMessage",
    RunTaskMessage = "mesos.internal.RunTaskMessage",
    ShutdownFrameworkMessage = "mesos.internal.ShutdownFrameworkMessage",
    UpdateFrameworkMessage = "mesos.internal.UpdateFrameworkMessage",
    KillTasksOnReregistrationMessage = "mesos.internal.KillTasksOnReregistrationMessage",
    ShutdownMessage = "mesos.internal.ShutdownMessage",
    ShutdownExecutorMessage = "mesos.internal.ShutdownExecutorMessage",
}
