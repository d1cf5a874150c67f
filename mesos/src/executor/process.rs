//! The executor driver actor: a thin process that turns the agent's messages, timers and driver
//! calls into [`DriverCore`] calls and performs the outputs (sends, links, timers) with
//! [`crate::driver::perform`], as the scheduler driver's actor does; callbacks go to the callback
//! thread ([`super::callbacks`]).

use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use process::{Context, Handlers, Process, Upid};

use super::core::{Callback, DriverCore, Output, Timer, ToAgent};
use crate::driver::{self, CallbackJob, CallbackQueue, DriverActor, DriverStatus, Lifecycle};
use crate::protocol::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, FrameworkToExecutorMessage,
    KillTaskMessage, ReconnectExecutorMessage, RunTaskMessage, ShutdownExecutorMessage,
    StatusUpdateAcknowledgementMessage,
};
use crate::{TaskId, TaskStatus, Uuid};

/// A callback for the callback thread, with the outputs that followed it.
pub(crate) type Job = CallbackJob<Callback, Output>;

/// The actor behind an [`ExecutorDriver`](super::ExecutorDriver).
pub(crate) struct ExecutorProcess {
    core: DriverCore,
    callbacks: CallbackQueue<Job>,
    shared: Arc<Lifecycle>,
    /// `wait_for_acknowledgements` callers, told once no update is unacknowledged.
    ack_waiters: Vec<Sender<()>>,
}

impl ExecutorProcess {
    pub(crate) fn new(
        core: DriverCore,
        callbacks: CallbackQueue<Job>,
        shared: Arc<Lifecycle>,
    ) -> ExecutorProcess {
        ExecutorProcess {
            core,
            callbacks,
            shared,
            ack_waiters: Vec::new(),
        }
    }

    /// Performs the core's outputs in order (see [`crate::driver::perform`]).
    pub(crate) fn perform(&mut self, ctx: &mut Context<'_, Self>, outputs: Vec<Output>) {
        driver::perform(self, ctx, outputs);
    }

    /// Queues a kill of `task_id` for the executor, as if the agent asked (its health checks
    /// failed too often).
    pub(crate) fn kill_unhealthy_task(&mut self, ctx: &mut Context<'_, Self>, task_id: TaskId) {
        let out = self.core.kill_unhealthy_task(task_id);
        self.perform(ctx, out);
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

    fn acknowledged(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: &Upid,
        m: StatusUpdateAcknowledgementMessage,
    ) {
        let out = self.core.on_acknowledgement(from, m);
        self.perform(ctx, out);
        self.release_ack_waiters();
    }

    /// Called by the driver (through dispatch) to send a status update.
    pub(crate) fn send_status_update(&mut self, ctx: &mut Context<'_, Self>, status: TaskStatus) {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let out = self
            .core
            .send_status_update(status, timestamp, Uuid::random());
        self.perform(ctx, out);
    }

    /// Called by the driver (through dispatch) to send a framework message.
    pub(crate) fn send_framework_message(&mut self, ctx: &mut Context<'_, Self>, data: Vec<u8>) {
        let out = self.core.send_framework_message(data);
        self.perform(ctx, out);
    }

    fn handle_with<M>(
        ctx: &mut Context<'_, Self>,
        this: &mut Self,
        from: &Upid,
        message: M,
        step: fn(&mut DriverCore, &Upid, M) -> Vec<Output>,
    ) {
        let out = step(&mut this.core, from, message);
        this.perform(ctx, out);
    }
}

impl DriverActor for ExecutorProcess {
    type Message = ToAgent;
    type Callback = Callback;
    type Timer = Timer;

    fn send_message(&mut self, ctx: &mut Context<'_, Self>, to: &Upid, message: ToAgent) {
        match message {
            ToAgent::Register(m) => ctx.send(to, m),
            ToAgent::Reregister(m) => ctx.send(to, m),
            ToAgent::StatusUpdate(m) => ctx.send(to, m),
            ToAgent::FrameworkMessage(m) => ctx.send(to, m),
        }
    }

    fn timer_fired(&mut self, timer: Timer) -> Vec<Output> {
        self.core.timer_fired(timer)
    }

    fn callbacks(&self) -> &CallbackQueue<Job> {
        &self.callbacks
    }
}

macro_rules! on_core {
    ($handlers:expr, $($message:ty => $method:ident),+ $(,)?) => {
        $($handlers.on(|this: &mut ExecutorProcess, ctx, from: &Upid, message: $message| {
            ExecutorProcess::handle_with(ctx, this, from, message, DriverCore::$method)
        });)+
    };
}

impl Process for ExecutorProcess {
    fn handlers(h: &mut Handlers<Self>) {
        on_core!(h,
            ExecutorRegisteredMessage => on_registered,
            ExecutorReregisteredMessage => on_reregistered,
            ReconnectExecutorMessage => on_reconnect,
            RunTaskMessage => on_run_task,
            KillTaskMessage => on_kill_task,
            FrameworkToExecutorMessage => on_framework_message,
            ShutdownExecutorMessage => on_shutdown,
        );
        h.on(Self::acknowledged);
    }

    fn initialize(&mut self, ctx: &mut Context<'_, Self>) {
        let out = self.core.start();
        self.perform(ctx, out);
    }

    fn finalize(&mut self, _: &mut Context<'_, Self>) {
        // Gone without stop or abort (its runtime shut down): whoever joins must not wait forever.
        let _ = self.shared.end(DriverStatus::Aborted);
    }

    fn exited(&mut self, ctx: &mut Context<'_, Self>, pid: &Upid) {
        let out = self.core.exited(pid);
        self.perform(ctx, out);
    }
}
