//! The executor driver actor: talks to the agent and queues callbacks for the callback thread
//! ([`super::callbacks`]).

use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use process::{Context, Handlers, Process, Upid};

use super::core::{DriverCore, DriverEvent};
use crate::driver::{CallbackQueue, DriverStatus, Lifecycle};
use crate::protocol::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, FrameworkToExecutorMessage,
    KillTaskMessage, ReconnectExecutorMessage, RunTaskMessage, ShutdownExecutorMessage,
    StatusUpdateAcknowledgementMessage,
};
use crate::{TaskStatus, Uuid};

/// How often a waiting checkpointing executor also knocks on its agent's old address (an agent
/// restarted there answers even if its `ReconnectExecutorMessage` was lost).
const REREGISTER_INTERVAL: Duration = Duration::from_secs(1);

/// The actor behind an [`ExecutorDriver`](super::ExecutorDriver).
pub(crate) struct ExecutorProcess {
    core: DriverCore,
    agent: Upid,
    events: CallbackQueue<DriverEvent>,
    shared: Arc<Lifecycle>,
    /// `wait_for_acknowledgements` callers, told once no update is unacknowledged.
    ack_waiters: Vec<Sender<()>>,
    /// Set once a shutdown was queued: later agent messages are ignored.
    shutting_down: bool,
    /// How long a checkpointing executor waits for its agent to come back.
    recovery_timeout: Duration,
    /// While waiting for the agent: which wait this is (a timer of an earlier wait is stale).
    waiting: Option<u64>,
    waits: u64,
}

impl ExecutorProcess {
    pub(crate) fn new(
        core: DriverCore,
        agent: Upid,
        events: CallbackQueue<DriverEvent>,
        shared: Arc<Lifecycle>,
        recovery_timeout: Duration,
    ) -> ExecutorProcess {
        ExecutorProcess {
            core,
            agent,
            events,
            shared,
            ack_waiters: Vec::new(),
            shutting_down: false,
            recovery_timeout,
            waiting: None,
            waits: 0,
        }
    }

    /// Queues a kill of `task_id` for the executor, as if the agent asked (its health checks
    /// failed too often).
    pub(crate) fn kill_unhealthy_task(&mut self, task_id: crate::TaskId) {
        self.emit(DriverEvent::KillTask(task_id));
    }

    fn emit(&mut self, event: DriverEvent) {
        if self.shutting_down {
            return;
        }
        if matches!(event, DriverEvent::Shutdown | DriverEvent::Error(_)) {
            self.shutting_down = true;
        }
        self.events.push(event);
    }

    fn is_agent(&self, from: &Upid) -> bool {
        // Only the agent may drive the executor; anything else is dropped.
        from == &self.agent
    }

    /// Tells `done` once every update is acknowledged (at once if none is pending).
    pub(crate) fn notify_when_acknowledged(&mut self, done: Sender<()>) {
        self.ack_waiters.push(done);
        self.release_ack_waiters();
    }

    fn release_ack_waiters(&mut self) {
        if self.core.unacknowledged_updates().is_empty() {
            for waiter in self.ack_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
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
        self.waiting = None;
        for message in resend {
            ctx.send(&self.agent, message);
        }
        self.emit(event);
    }

    /// A restarted agent recovered this executor: re-register with it, wherever it now listens.
    fn reconnect(&mut self, ctx: &mut Context<Self>, from: &Upid, m: ReconnectExecutorMessage) {
        if self.shutting_down || self.waiting.is_none() {
            return;
        }
        if let Some(known) = self.core.agent_id() {
            if known != &m.agent_id {
                tracing::warn!(%from, agent_id = %m.agent_id, "reconnect from another agent; ignored");
                return;
            }
        }
        tracing::info!(agent = %from, "the agent came back; re-registering");
        self.agent = from.clone();
        ctx.link(&self.agent);
        ctx.send(&self.agent, self.core.reregister_message());
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
            self.release_ack_waiters();
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
        match self.core.status_update(status, timestamp, Uuid::random()) {
            Ok(message) => ctx.send(&self.agent, message),
            Err(err) => self.emit(DriverEvent::Error(err.to_string())),
        }
    }

    /// Called by the driver (through dispatch) to send a framework message.
    pub(crate) fn send_framework_message(&mut self, ctx: &mut Context<Self>, data: Vec<u8>) {
        let message = self.core.framework_message(data);
        ctx.send(&self.agent, message);
    }

    /// Starts waiting for the agent (once per disconnection): a restarted agent sends
    /// `ReconnectExecutorMessage`; meanwhile the old address is retried; after the recovery
    /// timeout the executor shuts down.
    fn wait_for_agent(&mut self, ctx: &mut Context<Self>) {
        if self.waiting.is_some() || self.shutting_down {
            return;
        }
        self.waits += 1;
        let wait = self.waits;
        self.waiting = Some(wait);
        ctx.delay(self.recovery_timeout, move |this: &mut Self, _ctx| {
            if this.waiting == Some(wait) {
                tracing::warn!(timeout = ?this.recovery_timeout, "the agent did not come back within the recovery timeout; shutting down");
                this.emit(DriverEvent::Shutdown);
            }
        });
        ctx.delay(REREGISTER_INTERVAL, move |this, ctx| this.knock(ctx, wait));
    }

    fn knock(&mut self, ctx: &mut Context<Self>, wait: u64) {
        if self.waiting != Some(wait) || self.shutting_down {
            return;
        }
        ctx.link(&self.agent);
        ctx.send(&self.agent, self.core.reregister_message());
        ctx.delay(REREGISTER_INTERVAL, move |this, ctx| this.knock(ctx, wait));
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
            .on(Self::shutdown)
            .on(Self::reconnect);
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        // Link first, so losing the agent is noticed even if it never answers.
        ctx.link(&self.agent);
        ctx.send(&self.agent, self.core.register_message());
    }

    fn finalize(&mut self, _: &mut Context<Self>) {
        // Gone without stop or abort (its runtime shut down): whoever joins must not wait forever.
        let _ = self.shared.end(DriverStatus::Aborted);
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: &Upid) {
        if pid != &self.agent {
            return;
        }
        for event in self.core.agent_exited() {
            self.emit(event);
        }
        if self.core.checkpoint() {
            // The agent may be restarting: wait for it (registered or not yet).
            self.wait_for_agent(ctx);
        }
    }
}
