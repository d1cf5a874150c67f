//! Scheduler ↔ master messages (and the master-relayed framework messages).

use serde::{Deserialize, Serialize};

use super::StatusUpdate;
use crate::{
    AgentId, ExecutorId, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId, TaskId,
    TaskInfo, TaskStatus, Uuid,
};

/// Scheduler → master: register a new framework (no `framework.id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterFrameworkMessage {
    /// The framework to register.
    pub framework: FrameworkInfo,
    /// Roles the scheduler starts suppressed in.
    pub suppressed_roles: Vec<String>,
}

/// Scheduler → master: re-register an existing framework (after a master or scheduler failover).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReregisterFrameworkMessage {
    /// The framework, with `id` set.
    pub framework: FrameworkInfo,
    /// True when this is a new scheduler instance taking over (scheduler failover): the master then
    /// sends "Framework failed over" to the previous instance.
    pub failover: bool,
    /// Roles the scheduler is suppressed in (suppression survives re-registration).
    pub suppressed_roles: Vec<String>,
}

/// Master → scheduler: the framework is registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkRegisteredMessage {
    /// The id the master assigned.
    pub framework_id: FrameworkId,
    /// The master that registered it.
    pub master_info: MasterInfo,
}

/// Master → scheduler: the framework is re-registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkReregisteredMessage {
    /// The framework's id.
    pub framework_id: FrameworkId,
    /// The master that re-registered it.
    pub master_info: MasterInfo,
}

/// Scheduler → master: tear the framework down (driver `stop(false)`): kill its tasks, forget it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnregisterFrameworkMessage {
    /// The framework to remove.
    pub framework_id: FrameworkId,
}

/// Scheduler → master: the scheduler goes away but will fail over (driver `stop(true)` / `abort`):
/// keep the tasks running until `failover_timeout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeactivateFrameworkMessage {
    /// The framework to deactivate.
    pub framework_id: FrameworkId,
}

/// Master → scheduler: resource offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceOffersMessage {
    /// The offers.
    pub offers: Vec<Offer>,
    /// For each offer, the offering agent's pid (`slave(1)@ip:port`), so framework messages could go direct.
    pub pids: Vec<String>,
}

/// Master → scheduler: an offer is no longer valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RescindResourceOfferMessage {
    /// The rescinded offer.
    pub offer_id: OfferId,
}

/// Scheduler → master: launch tasks on offers (all offers from one agent), or decline them
/// (empty `tasks`). Unused resources go back to the allocator with `filters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTasksMessage {
    /// The launching framework.
    pub framework_id: FrameworkId,
    /// The tasks to launch (empty to decline).
    pub tasks: Vec<TaskInfo>,
    /// How long to filter the unused resources.
    pub filters: Filters,
    /// The offers used (one or more, all on one agent).
    pub offer_ids: Vec<OfferId>,
}

/// Scheduler → master: remove filters and resume offers (for `roles`, or all roles if empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviveOffersMessage {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The roles to revive; empty means all of the framework's roles.
    pub roles: Vec<String>,
}

/// Scheduler → master: stop sending offers (for `roles`, or all roles if empty) until revived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuppressOffersMessage {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The roles to suppress; empty means all of the framework's roles.
    pub roles: Vec<String>,
}

/// Scheduler → master → agent → executor: kill a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillTaskMessage {
    /// The task's framework.
    pub framework_id: FrameworkId,
    /// The task.
    pub task_id: TaskId,
}

/// Agent → master → scheduler (and executor → agent): a status update. `pid` is the sender of the
/// update as the receiver should acknowledge it (the agent's pid on agent → master), if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdateMessage {
    /// The update.
    pub update: StatusUpdate,
    /// Where to send the acknowledgement, if it differs from the message's sender.
    pub pid: Option<String>,
}

/// Scheduler → master → agent (and agent → executor): a status update was handled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdateAcknowledgementMessage {
    /// The agent holding the update.
    pub agent_id: AgentId,
    /// The framework.
    pub framework_id: FrameworkId,
    /// The task.
    pub task_id: TaskId,
    /// The acknowledged update's uuid.
    pub uuid: Uuid,
}

/// Scheduler → master: reconcile task states. Empty `statuses` asks for every known task
/// (implicit reconciliation); otherwise the master answers for each listed task (explicit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconcileTasksMessage {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The statuses the scheduler believes (only `task_id` and `agent_id` are read).
    pub statuses: Vec<TaskStatus>,
}

/// Scheduler → master → agent → executor: opaque data for an executor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkToExecutorMessage {
    /// The executor's agent.
    pub agent_id: AgentId,
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// The payload.
    pub data: Vec<u8>,
}

/// Executor → agent → master → scheduler: opaque data for the scheduler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutorToFrameworkMessage {
    /// The executor's agent.
    pub agent_id: AgentId,
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// The payload.
    pub data: Vec<u8>,
}

/// Master → scheduler: an error; the driver aborts (e.g. "Framework failed over").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkErrorMessage {
    /// What went wrong.
    pub message: String,
}

/// Master → scheduler: an agent was lost (removed); its tasks are LOST or UNREACHABLE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LostSlaveMessage {
    /// The lost agent.
    pub agent_id: AgentId,
}

/// Agent → master → scheduler: an executor exited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitedExecutorMessage {
    /// The executor's agent.
    pub agent_id: AgentId,
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// Its wait status (exit code, or signal as Mesos encodes it).
    pub status: i32,
}

process::message! {
    RegisterFrameworkMessage = "mesos.internal.RegisterFrameworkMessage",
    ReregisterFrameworkMessage = "mesos.internal.ReregisterFrameworkMessage",
    FrameworkRegisteredMessage = "mesos.internal.FrameworkRegisteredMessage",
    FrameworkReregisteredMessage = "mesos.internal.FrameworkReregisteredMessage",
    UnregisterFrameworkMessage = "mesos.internal.UnregisterFrameworkMessage",
    DeactivateFrameworkMessage = "mesos.internal.DeactivateFrameworkMessage",
    ResourceOffersMessage = "mesos.internal.ResourceOffersMessage",
    RescindResourceOfferMessage = "mesos.internal.RescindResourceOfferMessage",
    LaunchTasksMessage = "mesos.internal.LaunchTasksMessage",
    ReviveOffersMessage = "mesos.internal.ReviveOffersMessage",
    SuppressOffersMessage = "mesos.internal.SuppressOffersMessage",
    KillTaskMessage = "mesos.internal.KillTaskMessage",
    StatusUpdateMessage = "mesos.internal.StatusUpdateMessage",
    StatusUpdateAcknowledgementMessage = "mesos.internal.StatusUpdateAcknowledgementMessage",
    ReconcileTasksMessage = "mesos.internal.ReconcileTasksMessage",
    FrameworkToExecutorMessage = "mesos.internal.FrameworkToExecutorMessage",
    ExecutorToFrameworkMessage = "mesos.internal.ExecutorToFrameworkMessage",
    FrameworkErrorMessage = "mesos.internal.FrameworkErrorMessage",
    LostSlaveMessage = "mesos.internal.LostSlaveMessage",
    ExitedExecutorMessage = "mesos.internal.ExitedExecutorMessage",
}
