//! The executor driver's pure core: registration state, unacknowledged tasks and updates.
//!
//! No I/O and no clock: the driver actor feeds it the agent's messages (and the wall-clock time and a
//! fresh uuid when creating an update) and performs what it returns.

use std::collections::BTreeMap;

use crate::protocol::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, ExecutorToFrameworkMessage,
    KillTaskMessage, RegisterExecutorMessage, ReregisterExecutorMessage, RunTaskMessage,
    StatusUpdate, StatusUpdateAcknowledgementMessage, StatusUpdateMessage,
};
use crate::{
    AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, Source, TaskId,
    TaskInfo, TaskState, TaskStatus, Uuid,
};

/// A callback the driver must make on the [`Executor`](super::Executor), in order.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverEvent {
    /// `registered`.
    Registered {
        /// The executor's info.
        executor_info: ExecutorInfo,
        /// The framework's info.
        framework_info: FrameworkInfo,
        /// The agent's info.
        agent_info: AgentInfo,
    },
    /// `reregistered`.
    Reregistered {
        /// The agent's info.
        agent_info: AgentInfo,
    },
    /// `disconnected`: the agent went away.
    Disconnected,
    /// `launch_task`.
    LaunchTask(TaskInfo),
    /// `kill_task`.
    KillTask(TaskId),
    /// `framework_message`.
    FrameworkMessage(Vec<u8>),
    /// `shutdown`: the executor should kill its tasks and exit.
    Shutdown,
    /// `error`: the driver cannot go on (it aborts after this).
    Error(String),
}

/// Why [`DriverCore::status_update`] refused an update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// Executors may not report `TASK_STAGING` (only the master creates it).
    #[error("executors may not send TASK_STAGING updates (task {0})")]
    Staging(TaskId),
}

/// The executor driver's bookkeeping.
#[derive(Debug, Clone)]
pub struct DriverCore {
    framework_id: FrameworkId,
    executor_id: ExecutorId,
    agent_id: Option<AgentId>,
    checkpoint: bool,
    connected: bool,
    /// Tasks launched and not yet reported by an acknowledged update (re-sent on re-registration).
    unacked_tasks: BTreeMap<TaskId, TaskInfo>,
    /// Updates sent and not yet acknowledged, oldest first.
    unacked_updates: Vec<StatusUpdate>,
}

impl DriverCore {
    /// A core for executor `executor_id` of `framework_id`; `checkpoint` says whether to wait for a
    /// restarted agent instead of shutting down when the agent goes away.
    pub fn new(
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        agent_id: Option<AgentId>,
        checkpoint: bool,
    ) -> DriverCore {
        DriverCore {
            framework_id,
            executor_id,
            agent_id,
            checkpoint,
            connected: false,
            unacked_tasks: BTreeMap::new(),
            unacked_updates: Vec::new(),
        }
    }

    /// Whether the agent has (re)registered this executor and not gone away since.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Whether the framework checkpoints (the executor waits for a restarted agent).
    pub fn checkpoint(&self) -> bool {
        self.checkpoint
    }

    /// The agent's id, once known.
    pub fn agent_id(&self) -> Option<&AgentId> {
        self.agent_id.as_ref()
    }

    /// The updates sent and not yet acknowledged, oldest first.
    pub fn unacknowledged_updates(&self) -> &[StatusUpdate] {
        &self.unacked_updates
    }

    /// The first registration message.
    pub fn register_message(&self) -> RegisterExecutorMessage {
        RegisterExecutorMessage {
            framework_id: self.framework_id.clone(),
            executor_id: self.executor_id.clone(),
        }
    }

    /// The re-registration message: tasks and updates the agent may not know about.
    pub fn reregister_message(&self) -> ReregisterExecutorMessage {
        ReregisterExecutorMessage {
            framework_id: self.framework_id.clone(),
            executor_id: self.executor_id.clone(),
            tasks: self.unacked_tasks.values().cloned().collect(),
            updates: self.unacked_updates.clone(),
        }
    }

    /// The agent registered the executor.
    pub fn registered(&mut self, message: ExecutorRegisteredMessage) -> DriverEvent {
        self.connected = true;
        self.agent_id = Some(message.agent_id);
        DriverEvent::Registered {
            executor_info: message.executor_info,
            framework_info: message.framework_info,
            agent_info: message.agent_info,
        }
    }

    /// The agent re-registered the executor; returns the callback and the updates to send again.
    pub fn reregistered(
        &mut self,
        message: ExecutorReregisteredMessage,
    ) -> (DriverEvent, Vec<StatusUpdateMessage>) {
        self.connected = true;
        self.agent_id = Some(message.agent_id);
        let resend = self
            .unacked_updates
            .iter()
            .map(|update| StatusUpdateMessage {
                update: update.clone(),
                pid: None,
            })
            .collect();
        (
            DriverEvent::Reregistered {
                agent_info: message.agent_info,
            },
            resend,
        )
    }

    /// The agent asks to run a task; ignored (None) for another framework.
    pub fn run_task(&mut self, message: RunTaskMessage) -> Option<DriverEvent> {
        if message.framework_id != self.framework_id {
            return None;
        }
        self.unacked_tasks
            .insert(message.task.task_id.clone(), message.task.clone());
        Some(DriverEvent::LaunchTask(message.task))
    }

    /// The agent asks to kill a task.
    pub fn kill_task(&mut self, message: KillTaskMessage) -> Option<DriverEvent> {
        (message.framework_id == self.framework_id)
            .then_some(DriverEvent::KillTask(message.task_id))
    }

    /// An update was acknowledged: forget it (and its task, since the agent now knows the task).
    /// Returns whether the uuid was one we were waiting for.
    pub fn acknowledged(&mut self, message: &StatusUpdateAcknowledgementMessage) -> bool {
        let before = self.unacked_updates.len();
        self.unacked_updates.retain(|u| u.uuid != message.uuid);
        self.unacked_tasks.remove(&message.task_id);
        self.unacked_updates.len() != before
    }

    /// Builds the message for a new status update and remembers it until acknowledged.
    /// `timestamp` is the wall-clock time (seconds since the epoch), `uuid` a fresh uuid.
    ///
    /// # Errors
    /// [`UpdateError::Staging`] for a `TASK_STAGING` update.
    pub fn status_update(
        &mut self,
        status: TaskStatus,
        timestamp: f64,
        uuid: Uuid,
    ) -> Result<StatusUpdateMessage, UpdateError> {
        if status.state == TaskState::Staging {
            return Err(UpdateError::Staging(status.task_id));
        }
        let mut status = status;
        status.uuid = Some(uuid);
        status.timestamp = timestamp;
        status.source = Some(Source::Executor);
        status.executor_id = Some(self.executor_id.clone());
        if status.agent_id.is_none() {
            status.agent_id = self.agent_id.clone();
        }
        let update = StatusUpdate {
            framework_id: self.framework_id.clone(),
            executor_id: Some(self.executor_id.clone()),
            agent_id: self.agent_id.clone(),
            status,
            timestamp,
            uuid,
        };
        self.unacked_updates.push(update.clone());
        Ok(StatusUpdateMessage { update, pid: None })
    }

    /// A message from the executor to its scheduler.
    pub fn framework_message(&self, data: Vec<u8>) -> ExecutorToFrameworkMessage {
        ExecutorToFrameworkMessage {
            agent_id: self.agent_id.clone().unwrap_or_default(),
            framework_id: self.framework_id.clone(),
            executor_id: self.executor_id.clone(),
            data,
        }
    }

    /// The agent went away. Without checkpointing the executor cannot be recovered, so it must shut
    /// down (as Mesos's driver does); with checkpointing it waits for the agent to come back.
    pub fn agent_exited(&mut self) -> Vec<DriverEvent> {
        if !self.connected && self.checkpoint {
            return Vec::new();
        }
        self.connected = false;
        if self.checkpoint {
            vec![DriverEvent::Disconnected]
        } else {
            vec![DriverEvent::Disconnected, DriverEvent::Shutdown]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CommandInfo;

    fn core(checkpoint: bool) -> DriverCore {
        DriverCore::new(
            FrameworkId::new("f"),
            ExecutorId::new("e"),
            None,
            checkpoint,
        )
    }

    fn registered_message() -> ExecutorRegisteredMessage {
        ExecutorRegisteredMessage {
            executor_info: ExecutorInfo::new("e", CommandInfo::shell("x")),
            framework_id: FrameworkId::new("f"),
            framework_info: FrameworkInfo::new("u", "n"),
            agent_id: AgentId::new("a"),
            agent_info: AgentInfo::new("h"),
        }
    }

    fn run(task: &str) -> RunTaskMessage {
        RunTaskMessage {
            framework_id: FrameworkId::new("f"),
            framework: FrameworkInfo::new("u", "n"),
            pid: String::new(),
            task: TaskInfo::new(task, task, AgentId::new("a"), crate::Resources::new()),
        }
    }

    fn ack(task: &str, uuid: Uuid) -> StatusUpdateAcknowledgementMessage {
        StatusUpdateAcknowledgementMessage {
            agent_id: AgentId::new("a"),
            framework_id: FrameworkId::new("f"),
            task_id: TaskId::new(task),
            uuid,
        }
    }

    #[test]
    fn updates_carry_ids_and_wait_for_acknowledgement() {
        let mut core = core(false);
        assert!(matches!(
            core.registered(registered_message()),
            DriverEvent::Registered { .. }
        ));
        assert!(core.is_connected());
        let uuid = Uuid::v4_from([1; 16]);
        let message = core
            .status_update(
                TaskStatus::new(TaskId::new("t"), TaskState::Running),
                7.0,
                uuid,
            )
            .unwrap();
        assert_eq!(message.update.uuid, uuid);
        assert_eq!(message.update.status.uuid, Some(uuid));
        assert_eq!(message.update.agent_id, Some(AgentId::new("a")));
        assert_eq!(message.update.status.source, Some(Source::Executor));
        assert_eq!(message.update.status.timestamp, 7.0);
        assert_eq!(core.unacknowledged_updates().len(), 1);
        assert!(!core.acknowledged(&ack("t", Uuid::v4_from([2; 16]))));
        assert_eq!(core.unacknowledged_updates().len(), 1);
        assert!(core.acknowledged(&ack("t", uuid)));
        assert!(core.unacknowledged_updates().is_empty());
    }

    #[test]
    fn staging_updates_are_refused() {
        let mut core = core(false);
        let err = core
            .status_update(
                TaskStatus::new(TaskId::new("t"), TaskState::Staging),
                0.0,
                Uuid::v4_from([0; 16]),
            )
            .unwrap_err();
        assert_eq!(err, UpdateError::Staging(TaskId::new("t")));
        assert!(core.unacknowledged_updates().is_empty());
    }

    #[test]
    fn reregistration_carries_and_resends_unacknowledged_work() {
        let mut core = core(true);
        core.registered(registered_message());
        assert!(matches!(
            core.run_task(run("t1")),
            Some(DriverEvent::LaunchTask(_))
        ));
        assert!(core.run_task(run("t2")).is_some());
        let uuid = Uuid::v4_from([3; 16]);
        core.status_update(
            TaskStatus::new(TaskId::new("t1"), TaskState::Running),
            1.0,
            uuid,
        )
        .unwrap();
        assert_eq!(core.agent_exited(), vec![DriverEvent::Disconnected]);
        assert!(!core.is_connected());
        let message = core.reregister_message();
        assert_eq!(message.tasks.len(), 2);
        assert_eq!(message.updates.len(), 1);
        let (event, resend) = core.reregistered(ExecutorReregisteredMessage {
            agent_id: AgentId::new("a"),
            agent_info: AgentInfo::new("h"),
        });
        assert!(matches!(event, DriverEvent::Reregistered { .. }));
        assert_eq!(resend.len(), 1);
        assert_eq!(resend[0].update.uuid, uuid);
        core.acknowledged(&ack("t1", uuid));
        assert_eq!(core.reregister_message().tasks.len(), 1);
    }

    #[test]
    fn losing_the_agent_without_checkpointing_shuts_down() {
        let mut core = core(false);
        core.registered(registered_message());
        assert_eq!(
            core.agent_exited(),
            vec![DriverEvent::Disconnected, DriverEvent::Shutdown]
        );
    }

    #[test]
    fn messages_of_other_frameworks_are_ignored() {
        let mut core = core(false);
        let mut message = run("t");
        message.framework_id = FrameworkId::new("other");
        assert_eq!(core.run_task(message), None);
        assert_eq!(
            core.kill_task(KillTaskMessage {
                framework_id: FrameworkId::new("other"),
                task_id: TaskId::new("t"),
            }),
            None
        );
    }
}
