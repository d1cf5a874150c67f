//! The driver actor: a thin process that turns master messages, timers and driver calls into
//! [`DriverCore`] calls, and performs the outputs (sends, links, timers); callbacks go to the
//! callback thread ([`super::callbacks`]).

use std::sync::Arc;

use process::{Context, Handlers, Process, Upid};

use crate::auth::{
    fresh_nonce, Authenticatee, AuthenticationChallengeMessage, AuthenticationCompletedMessage,
    AuthenticationFailedMessage, Gate,
};
use crate::protocol::*;

use super::core::{Callback, DriverCore, Output, Timer, ToMaster};
use super::MasterDetector;
use crate::driver::{self, CallbackJob, CallbackQueue, DriverActor, Lifecycle};

/// The driver's process (`scheduler-<uuid>`).
pub struct SchedulerProcess {
    pub(crate) core: DriverCore,
    pub(crate) detector: Arc<dyn MasterDetector>,
    shared: Arc<Lifecycle>,
    callbacks: CallbackQueue<CallbackJob<Callback, Output>>,
    /// Authentication with the master, when the driver has a credential: registrations wait for
    /// it.
    auth: Option<Authenticatee<ToMaster>>,
}

impl SchedulerProcess {
    pub(crate) fn new(
        core: DriverCore,
        detector: Arc<dyn MasterDetector>,
        shared: Arc<Lifecycle>,
        callbacks: CallbackQueue<CallbackJob<Callback, Output>>,
        auth: Option<Authenticatee<ToMaster>>,
    ) -> SchedulerProcess {
        SchedulerProcess {
            core,
            detector,
            shared,
            callbacks,
            auth,
        }
    }

    /// Performs the core's outputs in order (see [`crate::driver::perform`]), then publishes the
    /// driver status.
    pub(crate) fn perform(&mut self, ctx: &mut Context<'_, Self>, outputs: Vec<Output>) {
        driver::perform(self, ctx, outputs);
    }

    /// Sends `message`; a (re)registration first needs authentication with `to`, when the driver
    /// has a credential (it is held and sent once the exchange completes).
    fn send_gated(&mut self, ctx: &mut Context<'_, Self>, to: &Upid, message: ToMaster) {
        let registration = matches!(message, ToMaster::Register(_) | ToMaster::Reregister(_));
        let Some(auth) = self.auth.as_mut().filter(|_| registration) else {
            return send(ctx, to, message);
        };
        match auth.gate(ctx.now(), to, message, fresh_nonce()) {
            Gate::Pass(message) => send(ctx, to, message),
            Gate::Hold(Some(start)) => {
                tracing::info!(master = %to, principal = auth.principal(), "authenticating");
                ctx.send(to, start)
            }
            Gate::Hold(None) => {}
        }
    }

    fn on_challenge(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: &Upid,
        m: AuthenticationChallengeMessage,
    ) {
        let me = ctx.pid().upid().clone();
        if let Some(response) = self
            .auth
            .as_mut()
            .and_then(|a| a.on_challenge(from, &me, m))
        {
            ctx.send(from, response);
        }
    }

    fn on_completed(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: &Upid,
        m: AuthenticationCompletedMessage,
    ) {
        let me = ctx.pid().upid().clone();
        let Some(auth) = self.auth.as_mut() else {
            return;
        };
        match auth.on_completed(from, &me, m) {
            Ok(Some(registration)) => {
                tracing::info!(master = %from, "authenticated");
                send(ctx, from, registration);
            }
            Ok(None) => {}
            Err(error) => self.refused(ctx, from, error),
        }
    }

    fn on_auth_failed(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: &Upid,
        m: AuthenticationFailedMessage,
    ) {
        if let Some(reason) = self.auth.as_mut().and_then(|a| a.on_failed(from, m)) {
            self.refused(ctx, from, reason);
        }
    }

    /// Authentication failed: as Mesos's driver, the scheduler hears an error and the driver
    /// aborts.
    fn refused(&mut self, ctx: &mut Context<'_, Self>, from: &Upid, reason: String) {
        tracing::error!(master = %from, %reason, "master refused authentication");
        let message = FrameworkErrorMessage {
            message: format!("master {from} refused authentication: {reason}"),
        };
        let out = self.core.on_error(from, message);
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

fn send(ctx: &Context<'_, SchedulerProcess>, to: &Upid, message: ToMaster) {
    match message {
        ToMaster::Register(m) => ctx.send(to, m),
        ToMaster::Reregister(m) => ctx.send(to, m),
        ToMaster::Unregister(m) => ctx.send(to, m),
        ToMaster::Deactivate(m) => ctx.send(to, m),
        ToMaster::Launch(m) => ctx.send(to, m),
        ToMaster::Kill(m) => ctx.send(to, m),
        ToMaster::Revive(m) => ctx.send(to, m),
        ToMaster::Suppress(m) => ctx.send(to, m),
        ToMaster::Acknowledge(m) => ctx.send(to, m),
        ToMaster::Reconcile(m) => ctx.send(to, m),
        ToMaster::FrameworkMessage(m) => ctx.send(to, m),
    }
}

macro_rules! on_core {
    ($handlers:expr, $($message:ty => $method:ident),+ $(,)?) => {
        $($handlers.on(|this: &mut SchedulerProcess, ctx, from: &Upid, message: $message| {
            SchedulerProcess::handle_with(ctx, this, from, message, DriverCore::$method)
        });)+
    };
}

impl DriverActor for SchedulerProcess {
    type Message = ToMaster;
    type Callback = Callback;
    type Timer = Timer;

    fn send_message(&mut self, ctx: &mut Context<'_, Self>, to: &Upid, message: ToMaster) {
        self.send_gated(ctx, to, message);
    }

    fn timer_fired(&mut self, timer: Timer) -> Vec<Output> {
        self.core.timer_fired(timer)
    }

    fn callbacks(&self) -> &CallbackQueue<CallbackJob<Callback, Output>> {
        &self.callbacks
    }

    fn performed(&mut self) {
        self.shared.publish(self.core.status());
    }
}

impl Process for SchedulerProcess {
    fn handlers(handlers: &mut Handlers<Self>) {
        on_core!(handlers,
            FrameworkRegisteredMessage => on_registered,
            FrameworkReregisteredMessage => on_reregistered,
            ResourceOffersMessage => on_offers,
            RescindResourceOfferMessage => on_rescind,
            StatusUpdateMessage => on_status_update,
            LostSlaveMessage => on_agent_lost,
            ExitedExecutorMessage => on_executor_exited,
            ExecutorToFrameworkMessage => on_framework_message,
            FrameworkErrorMessage => on_error,
        );
        handlers
            .on(|this: &mut SchedulerProcess, ctx, from: &Upid, m| this.on_challenge(ctx, from, m))
            .on(|this: &mut SchedulerProcess, ctx, from: &Upid, m| this.on_completed(ctx, from, m))
            .on(|this: &mut SchedulerProcess, ctx, from: &Upid, m| {
                this.on_auth_failed(ctx, from, m)
            });
    }

    fn exited(&mut self, ctx: &mut Context<'_, Self>, pid: &Upid) {
        if let Some(auth) = &mut self.auth {
            auth.reset(pid);
        }
        let out = self.core.exited(pid);
        self.perform(ctx, out);
    }

    fn finalize(&mut self, _ctx: &mut Context<'_, Self>) {
        // Whoever joins must not wait forever for a driver that is gone.
        if self.core.status() == crate::scheduler::DriverStatus::Running {
            self.shared.publish(crate::scheduler::DriverStatus::Aborted);
        }
    }
}
