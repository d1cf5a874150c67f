//! `TaskStatus`: a status update about one task, and why it happened.

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ExecutorId, TaskId};
use crate::task_state::TaskState;
use crate::uuid::Uuid;

wire_enum! {
    /// Who generated a status update (`TaskStatus.Source`). The v0 name
    /// `SOURCE_SLAVE` is accepted on input.
    pub enum Source {
        /// The master (e.g. TASK_LOST after agent removal, reconciliation).
        Master = "SOURCE_MASTER",
        /// The agent (e.g. executor crash).
        Agent = "SOURCE_AGENT" | "SOURCE_SLAVE",
        /// The executor.
        Executor = "SOURCE_EXECUTOR",
    }
}

wire_enum! {
    /// Why a status update happened (`TaskStatus.Reason`). Agent reasons use
    /// the v1 names (`REASON_AGENT_*`); the v0 `REASON_SLAVE_*` names are
    /// accepted on input.
    pub enum Reason {
        /// The command executor failed to run the task.
        CommandExecutorFailed = "REASON_COMMAND_EXECUTOR_FAILED",
        /// The container could not be launched.
        ContainerLaunchFailed = "REASON_CONTAINER_LAUNCH_FAILED",
        /// The container hit a resource limit.
        ContainerLimitation = "REASON_CONTAINER_LIMITATION",
        /// The container hit its disk limit.
        ContainerLimitationDisk = "REASON_CONTAINER_LIMITATION_DISK",
        /// The container hit its memory limit (OOM).
        ContainerLimitationMemory = "REASON_CONTAINER_LIMITATION_MEMORY",
        /// The container was preempted (revocable resources reclaimed).
        ContainerPreempted = "REASON_CONTAINER_PREEMPTED",
        /// The container's resources could not be updated.
        ContainerUpdateFailed = "REASON_CONTAINER_UPDATE_FAILED",
        /// The executor did not register in time.
        ExecutorRegistrationTimeout = "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        /// The executor did not re-register in time after agent recovery.
        ExecutorReregistrationTimeout = "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
        /// The executor exited or crashed.
        ExecutorTerminated = "REASON_EXECUTOR_TERMINATED",
        /// The executor unregistered.
        ExecutorUnregistered = "REASON_EXECUTOR_UNREGISTERED",
        /// The framework was torn down or its failover timeout expired.
        FrameworkRemoved = "REASON_FRAMEWORK_REMOVED",
        /// Sandbox garbage collection failed.
        GcError = "REASON_GC_ERROR",
        /// The framework id was invalid.
        InvalidFrameworkid = "REASON_INVALID_FRAMEWORKID",
        /// The offers used were invalid (unknown, used, rescinded, ...).
        InvalidOffers = "REASON_INVALID_OFFERS",
        /// The I/O switchboard exited.
        IoSwitchboardExited = "REASON_IO_SWITCHBOARD_EXITED",
        /// The agent lost its master.
        MasterDisconnected = "REASON_MASTER_DISCONNECTED",
        /// A reconciliation answer.
        Reconciliation = "REASON_RECONCILIATION",
        /// The task's resources are unknown to the agent.
        ResourcesUnknown = "REASON_RESOURCES_UNKNOWN",
        /// The agent disconnected from the master.
        AgentDisconnected = "REASON_AGENT_DISCONNECTED" | "REASON_SLAVE_DISCONNECTED",
        /// The agent was removed by the master.
        AgentRemoved = "REASON_AGENT_REMOVED" | "REASON_SLAVE_REMOVED",
        /// An operator marked the agent gone.
        AgentRemovedByOperator = "REASON_AGENT_REMOVED_BY_OPERATOR",
        /// The agent re-registered.
        AgentReregistered = "REASON_AGENT_REREGISTERED",
        /// The agent restarted.
        AgentRestarted = "REASON_AGENT_RESTARTED" | "REASON_SLAVE_RESTARTED",
        /// The agent is unknown to the master.
        AgentUnknown = "REASON_AGENT_UNKNOWN" | "REASON_SLAVE_UNKNOWN",
        /// A check's status changed.
        TaskCheckStatusUpdated = "REASON_TASK_CHECK_STATUS_UPDATED",
        /// A health check's status changed.
        TaskHealthCheckStatusUpdated = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
        /// The task group was invalid.
        TaskGroupInvalid = "REASON_TASK_GROUP_INVALID",
        /// The task group was not authorized.
        TaskGroupUnauthorized = "REASON_TASK_GROUP_UNAUTHORIZED",
        /// The task was invalid.
        TaskInvalid = "REASON_TASK_INVALID",
        /// The task was not authorized.
        TaskUnauthorized = "REASON_TASK_UNAUTHORIZED",
        /// The task is unknown.
        TaskUnknown = "REASON_TASK_UNKNOWN",
        /// A kill arrived while the task was being launched.
        TaskKilledDuringLaunch = "REASON_TASK_KILLED_DURING_LAUNCH",
        /// The task ran past its maximum completion time.
        MaxCompletionTimeReached = "REASON_MAX_COMPLETION_TIME_REACHED",
    }
}

/// A status update about one task (Mesos's `TaskStatus`).
///
/// Updates from agents carry a `uuid` and must be acknowledged; updates the
/// master generates (reconciliation, some TASK_LOST) carry none.
///
/// ```
/// use mesos::{Reason, Source, TaskId, TaskState, TaskStatus};
/// let s = TaskStatus::new(TaskId::new("t1"), TaskState::Failed)
///     .with_source(Source::Executor)
///     .with_reason(Reason::CommandExecutorFailed)
///     .with_message("command exited with status 1");
/// assert!(s.state.is_terminal());
/// let json = serde_json::to_value(&s).unwrap();
/// assert_eq!(json["reason"], "REASON_COMMAND_EXECUTOR_FAILED");
/// ```
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskStatus {
    /// The task.
    pub task_id: TaskId,
    /// Its new state.
    pub state: TaskState,
    /// A human-readable explanation.
    pub message: Option<String>,
    /// Who generated the update.
    pub source: Option<Source>,
    /// Why.
    pub reason: Option<Reason>,
    /// The update's id, for acknowledgement (base64 in JSON).
    pub uuid: Option<Uuid>,
    /// When it was generated, seconds since the Unix epoch.
    #[serde(deserialize_with = "crate::encoding::lenient_f64")]
    pub timestamp: f64,
    /// The agent running the task; v0 JSON `slave_id` is accepted.
    #[serde(alias = "slave_id")]
    pub agent_id: Option<AgentId>,
    /// The executor running the task.
    pub executor_id: Option<ExecutorId>,
    /// The latest health check result, if the task has one.
    pub healthy: Option<bool>,
    /// Opaque data from the executor (base64 in JSON).
    #[serde(with = "crate::encoding::bytes")]
    pub data: Vec<u8>,
}

impl TaskStatus {
    /// An update saying `task_id` is now in `state`; other fields empty.
    pub fn new(task_id: TaskId, state: TaskState) -> TaskStatus {
        TaskStatus {
            task_id,
            state,
            ..TaskStatus::default()
        }
    }

    /// Sets the message.
    pub fn with_message(mut self, message: impl Into<String>) -> TaskStatus {
        self.message = Some(message.into());
        self
    }

    /// Sets the source.
    pub fn with_source(mut self, source: Source) -> TaskStatus {
        self.source = Some(source);
        self
    }

    /// Sets the reason.
    pub fn with_reason(mut self, reason: Reason) -> TaskStatus {
        self.reason = Some(reason);
        self
    }

    /// Sets the uuid (the update then needs an acknowledgement).
    pub fn with_uuid(mut self, uuid: Uuid) -> TaskStatus {
        self.uuid = Some(uuid);
        self
    }

    /// Sets the timestamp (seconds since the Unix epoch, from the caller's clock).
    pub fn with_timestamp(mut self, timestamp: f64) -> TaskStatus {
        self.timestamp = timestamp;
        self
    }

    /// Sets the agent.
    pub fn with_agent_id(mut self, agent_id: AgentId) -> TaskStatus {
        self.agent_id = Some(agent_id);
        self
    }

    /// Says whether the task is healthy (its health check's verdict).
    pub fn with_healthy(mut self, healthy: bool) -> TaskStatus {
        self.healthy = Some(healthy);
        self
    }

    /// Sets the executor.
    pub fn with_executor_id(mut self, executor_id: ExecutorId) -> TaskStatus {
        self.executor_id = Some(executor_id);
        self
    }

    /// Whether the scheduler must acknowledge this update (it has a uuid).
    pub fn needs_acknowledgement(&self) -> bool {
        self.uuid.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_sources_accept_v0_names() {
        assert_eq!(
            "REASON_SLAVE_REMOVED".parse::<Reason>().unwrap(),
            Reason::AgentRemoved
        );
        assert_eq!(
            "REASON_SLAVE_DISCONNECTED".parse::<Reason>().unwrap(),
            Reason::AgentDisconnected
        );
        assert_eq!(Reason::AgentRemoved.to_string(), "REASON_AGENT_REMOVED");
        assert_eq!(
            serde_json::from_str::<Source>("\"SOURCE_SLAVE\"").unwrap(),
            Source::Agent
        );
        for &r in Reason::ALL {
            assert_eq!(r.as_str().parse::<Reason>().unwrap(), r);
        }
    }

    #[test]
    fn json_and_bincode_round_trip() {
        let s = TaskStatus::new(TaskId::new("t1"), TaskState::Running)
            .with_source(Source::Agent)
            .with_uuid(Uuid::v4_from([1; 16]))
            .with_timestamp(1_700_000_000.25)
            .with_agent_id(AgentId::new("a"))
            .with_executor_id(ExecutorId::new("e"));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["state"], "TASK_RUNNING");
        assert_eq!(json["source"], "SOURCE_AGENT");
        assert_eq!(json["agent_id"]["value"], "a");
        assert_eq!(serde_json::from_value::<TaskStatus>(json).unwrap(), s);
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&s, cfg).unwrap();
        assert_eq!(
            bincode::serde::decode_from_slice::<TaskStatus, _>(&bytes, cfg)
                .unwrap()
                .0,
            s
        );
        assert!(s.needs_acknowledgement());
        let minimal: TaskStatus =
            serde_json::from_str(r#"{"task_id":{"value":"t"},"state":"TASK_LOST"}"#).unwrap();
        assert_eq!(minimal, TaskStatus::new(TaskId::new("t"), TaskState::Lost));
        assert!(!minimal.needs_acknowledgement());
    }
}
