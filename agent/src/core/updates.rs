//! The core's status-update path: updates from executors and from the agent itself, through the
//! [`StatusUpdateManager`](crate::StatusUpdateManager) to the master, and acknowledgements back.

use std::time::Instant;

use isolation::Limitation;
use mesos::protocol::*;
use mesos::{ContainerId, ExecutorId, FrameworkId, Source, TaskStatus};
use process::Upid;

use super::{AgentCore, ExecutorEndpoint};
use crate::containers::apply_limitation;

impl AgentCore {
    /// The container whose limitation decides `update`'s outcome: the container of its executor,
    /// for a terminal update (a task that ended because the kernel enforced a limit fails with it).
    /// The driver asks the isolator about it and passes the answer to
    /// [`status_update`](Self::status_update).
    pub fn limitation_container(&self, update: &StatusUpdate) -> Option<ContainerId> {
        if !update.status.state.is_terminal() {
            return None;
        }
        let executor_id = update.executor_id.as_ref()?;
        self.book
            .executor(&update.framework_id, executor_id)
            .map(|e| e.container_id.clone())
    }

    /// `StatusUpdateMessage` from an executor at `from`. `limitation` is the isolator's answer for
    /// [`limitation_container`](Self::limitation_container). The executor gets its
    /// acknowledgement once the agent holds the update.
    pub fn status_update(
        &mut self,
        now: Instant,
        from: &ExecutorEndpoint,
        update: StatusUpdate,
        limitation: Option<Limitation>,
    ) {
        let known = update.executor_id.as_ref().and_then(|id| {
            self.book
                .executor(&update.framework_id, id)
                .and_then(|e| e.endpoint.clone())
        });
        if known.as_ref() != Some(from) {
            tracing::warn!(%from, task = %update.status.task_id, "status update from an unknown executor; dropped");
            return;
        }
        let ack = StatusUpdateAcknowledgementMessage {
            agent_id: self.agent_id_or_default(),
            framework_id: update.framework_id.clone(),
            task_id: update.status.task_id.clone(),
            uuid: update.uuid,
        };
        // Taken (and for a checkpointing framework, in the task's log on disk) before the
        // executor hears it may forget the update.
        self.handle_update(now, update, limitation);
        self.send_executor(from, ack);
    }

    /// A status update the agent itself generates.
    pub(super) fn agent_update(
        &mut self,
        now: Instant,
        framework_id: &FrameworkId,
        executor_id: Option<ExecutorId>,
        status: TaskStatus,
    ) {
        let uuid = self.make_uuid();
        let timestamp = self.wall(now);
        let mut status = status
            .with_source(Source::Agent)
            .with_uuid(uuid)
            .with_timestamp(timestamp)
            .with_agent_id(self.agent_id_or_default());
        status.executor_id = executor_id.clone();
        let update = StatusUpdate {
            framework_id: framework_id.clone(),
            executor_id,
            agent_id: Some(self.agent_id_or_default()),
            status,
            timestamp,
            uuid,
        };
        self.handle_update(now, update, None);
    }

    pub(super) fn handle_update(
        &mut self,
        now: Instant,
        mut update: StatusUpdate,
        limitation: Option<Limitation>,
    ) {
        let executor = update
            .executor_id
            .as_ref()
            .and_then(|id| self.book.executor(&update.framework_id, id));
        if let Some(executor) = executor {
            let limited = self
                .containers
                .get(&executor.container_id)
                .is_some_and(|c| c.limited);
            if limited && !executor.tasks.contains_key(&update.status.task_id) {
                // The agent already failed this task with the container's limitation.
                tracing::debug!(task = %update.status.task_id, state = %update.status.state, "dropping an update of a task failed for its container's limitation");
                return;
            }
        }
        if self.updates.is_duplicate(&update)
            || self
                .book
                .is_completed(&update.framework_id, &update.status.task_id)
        {
            // Sent again (an executor re-registering with what it had not seen acknowledged).
            tracing::debug!(task = %update.status.task_id, uuid = %update.uuid, "duplicate status update; ignored");
            return;
        }
        let terminal = update.status.state.is_terminal();
        if terminal {
            if let Some(limitation) = &limitation {
                update.status = apply_limitation(limitation, update.status);
            }
        }
        let terminating = self
            .book
            .framework(&update.framework_id)
            .is_some_and(|f| f.terminating);
        if !terminating {
            self.checkpoint_update(&update);
        }
        self.book.update_task(&update);
        if terminal {
            // Its resources leave the container: the limits shrink.
            let executor_id = update.executor_id.clone();
            self.resize_container(&update.framework_id, executor_id.as_ref());
        }
        if terminating {
            // The framework is being shut down: nobody will acknowledge (as in Mesos).
            tracing::info!(task = %update.status.task_id, state = %update.status.state, "dropping an update of a framework being shut down");
            return;
        }
        if let Some(update) = self.updates.update(now, update) {
            self.forward_to_master(update);
        }
    }

    pub(super) fn forward_to_master(&mut self, update: StatusUpdate) {
        let pid = Some(self.pid.to_string());
        self.send_master(StatusUpdateMessage { update, pid });
    }

    /// `StatusUpdateAcknowledgementMessage` from the master: the stream moves on; a terminal
    /// update's task completes. The executor hears of it too, for an update it sent.
    pub fn acknowledgement(
        &mut self,
        now: Instant,
        from: &Upid,
        m: StatusUpdateAcknowledgementMessage,
    ) {
        if !self.is_master(from, "StatusUpdateAcknowledgementMessage") {
            return;
        }
        let acked = match self
            .updates
            .acknowledge(now, &m.framework_id, &m.task_id, m.uuid)
        {
            Ok(acked) => acked,
            Err(err) => {
                tracing::debug!(%err, "ignoring acknowledgement");
                return;
            }
        };
        self.checkpoint_ack(&m.framework_id, &m.task_id, m.uuid);
        if let Some(next) = acked.next {
            self.forward_to_master(next);
        }
        if acked.terminal {
            self.book.terminal_acknowledged(&m.framework_id, &m.task_id);
            let completed = self.runs.task_done(&m.framework_id, &m.task_id);
            self.run_completed(now, completed);
        }
        // Executors keep updates until acknowledged; ours were acknowledged on receipt, so this is
        // a no-op for them, but an executor that waits for the scheduler's word gets it.
        let executor = acked.update.executor_id.as_ref().and_then(|id| {
            self.book
                .executor(&m.framework_id, id)
                .and_then(|e| e.endpoint.clone())
        });
        if let (Some(endpoint), Source::Executor) = (
            executor,
            acked.update.status.source.unwrap_or(Source::Agent),
        ) {
            self.send_executor(&endpoint, m);
        }
    }
}
