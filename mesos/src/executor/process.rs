//! The executor driver actor: talks to the agent and queues callbacks for the driver thread.

use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use process::{Context, Handlers, Process, Upid};

use super::core::{DriverCore, DriverEvent};
use super::driver::SharedState;
use crate::protocol::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, FrameworkToExecutorMessage,
    KillTaskMessage, RunTaskMessage, ShutdownExecutorMessage, StatusUpdateAcknowledgementMessage,
};
use crate::{TaskStatus, Uuid};

/// How often a checkpointing executor tries to re-register with a restarted agent.
const REREGISTER_INTERVAL: Duration = Duration::from_secs(1);
/// How long a checkpointing executor waits for its agent to come back (Mesos's recovery timeout).
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The actor behind an [`ExecutorDriver`](super::ExecutorDriver).
pub(crate) struct ExecutorProcess {
    core: DriverCore,
    agent: Upid,
    events: Sender<DriverEvent>,
    shared: Arc<SharedState>,
    /// Set once a shutdown was queued: later agent messages are ignored.
    shutting_down: bool,
}

impl ExecutorProcess {
    pub(crate) fn new(
        core: DriverCore,
        agent: Upid,
        events: Sender<DriverEvent>,
        shared: Arc<SharedState>,
    ) -> ExecutorProcess {
        ExecutorProcess {
            core,
            agent,
            events,
            shared,
            shutting_down: false,
        }
    }

    fn emit(&mut self, event: DriverEvent) {
        if self.shutting_down {
            return;
        }
        if matches!(event, DriverEvent::Shutdown | DriverEvent::Error(_)) {
            self.shutting_down = true;
        }
        // The driver thread is gone only when the driver stopped; nothing left to tell.
        let _ = self.events.send(event);
    }

    fn is_agent(&self, from: &Upid) -> bool {
        // Only the agent may drive the executor; anything else is dropped.
        from == &self.agent
    }

    fn sync_unacked(&self) {
        self.shared
            .set_unacknowledged(self.core.unacknowledged_updates().len());
    }

    fn registered(&mut self, _: &mut Context<Self>, from: &Upid, m: ExecutorRegisteredMessage) {
        if self.is_agent(from) {
            let event = self.core.registered(m);
            self.emit(event);
        }
    }

    fn reregistered(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: ExecutorReregisteredMessage,
    ) {
        if !self.is_agent(from) {
            return;
        }
        let (event, resend) = self.core.reregistered(m);
        for message in resend {
            ctx.send(&self.agent, message);
        }
        self.emit(event);
    }

    fn run_task(&mut self, _: &mut Context<Self>, from: &Upid, m: RunTaskMessage) {
        if self.is_agent(from) {
            if let Some(event) = self.core.run_task(m) {
                self.emit(event);
            }
        }
    }

    fn kill_task(&mut self, _: &mut Context<Self>, from: &Upid, m: KillTaskMessage) {
        if self.is_agent(from) {
            if let Some(event) = self.core.kill_task(m) {
                self.emit(event);
            }
        }
    }

    fn acknowledged(
        &mut self,
        _: &mut Context<Self>,
        from: &Upid,
        m: StatusUpdateAcknowledgementMessage,
    ) {
        if self.is_agent(from) {
            self.core.acknowledged(&m);
            self.sync_unacked();
        }
    }

    fn framework_message(
        &mut self,
        _: &mut Context<Self>,
        from: &Upid,
        m: FrameworkToExecutorMessage,
    ) {
        if self.is_agent(from) {
            self.emit(DriverEvent::FrameworkMessage(m.data));
        }
    }

    fn shutdown(&mut self, _: &mut Context<Self>, from: &Upid, _: ShutdownExecutorMessage) {
        if self.is_agent(from) {
            self.emit(DriverEvent::Shutdown);
        }
    }

    /// Called by the driver (through dispatch) to send a status update.
    pub(crate) fn send_status_update(&mut self, ctx: &mut Context<Self>, status: TaskStatus) {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let result = self.core.status_update(status, timestamp, Uuid::random());
        self.shared
            .update_taken(self.core.unacknowledged_updates().len());
        match result {
            Ok(message) => ctx.send(&self.agent, message),
            Err(err) => self.emit(DriverEvent::Error(err.to_string())),
        }
    }

    /// Called by the driver (through dispatch) to send a framework message.
    pub(crate) fn send_framework_message(&mut self, ctx: &mut Context<Self>, data: Vec<u8>) {
        let message = self.core.framework_message(data);
        ctx.send(&self.agent, message);
    }

    fn try_reregister(&mut self, ctx: &mut Context<Self>, waited: Duration) {
        if self.core.is_connected() || self.shutting_down {
            return;
        }
        if waited >= RECOVERY_TIMEOUT {
            self.emit(DriverEvent::Shutdown);
            return;
        }
        ctx.link(&self.agent);
        ctx.send(&self.agent, self.core.reregister_message());
        ctx.delay(REREGISTER_INTERVAL, move |this, ctx| {
            this.try_reregister(ctx, waited + REREGISTER_INTERVAL)
        });
    }
}

impl Process for ExecutorProcess {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(Self::registered)
            .on(Self::reregistered)
            .on(Self::run_task)
            .on(Self::kill_task)
            .on(Self::acknowledged)
            .on(Self::framework_message)
            .on(Self::shutdown);
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        // Link first, so losing the agent is noticed even if it never answers.
        ctx.link(&self.agent);
        ctx.send(&self.agent, self.core.register_message());
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: &Upid) {
        if pid != &self.agent {
            return;
        }
        let was_connected = self.core.is_connected();
        for event in self.core.agent_exited() {
            self.emit(event);
        }
        if was_connected && !self.shutting_down {
            // Checkpointing framework: wait for the agent to come back.
            ctx.delay(REREGISTER_INTERVAL, |this, ctx| {
                this.try_reregister(ctx, REREGISTER_INTERVAL)
            });
        }
    }
}
