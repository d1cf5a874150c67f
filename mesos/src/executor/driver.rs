//! The [`Executor`] trait and the [`ExecutorDriver`] that runs it.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use process::{Config, Handle, Pid, Runtime};
use std::sync::{Mutex, PoisonError};

use super::core::{CoreOptions, DriverCore, Output};
use super::env::{EnvError, ExecutorEnv};
use super::process::ExecutorProcess;
use crate::driver::{callback_queue, Lifecycle};
use crate::{AgentInfo, ExecutorInfo, FrameworkInfo, TaskId, TaskInfo, TaskState, TaskStatus};

/// A framework's executor: the driver calls these on its callback thread, one at a time, in the
/// order the agent's messages arrived. A callback may block (the driver keeps talking to the
/// agent; later callbacks wait), but never `join` there.
///
/// Only `launch_task` and `kill_task` must be written; the others default to doing nothing
/// (`shutdown` and `error` are where a real executor cleans up).
pub trait Executor: Send + 'static {
    /// The agent registered this executor.
    fn registered(
        &mut self,
        driver: &ExecutorDriver,
        executor_info: &ExecutorInfo,
        framework_info: &FrameworkInfo,
        agent_info: &AgentInfo,
    ) {
        let _ = (driver, executor_info, framework_info, agent_info);
    }

    /// A restarted agent re-registered this executor.
    fn reregistered(&mut self, driver: &ExecutorDriver, agent_info: &AgentInfo) {
        let _ = (driver, agent_info);
    }

    /// The agent went away (a checkpointing executor waits for it to come back).
    fn disconnected(&mut self, driver: &ExecutorDriver) {
        let _ = driver;
    }

    /// Run `task`; report its progress with [`ExecutorDriver::send_status_update`]. Must not block
    /// for long: further callbacks wait until it returns.
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo);

    /// Kill the task; report `TASK_KILLED` when it is gone.
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: TaskId);

    /// Opaque data from the scheduler.
    fn framework_message(&mut self, driver: &ExecutorDriver, data: Vec<u8>) {
        let _ = (driver, data);
    }

    /// Kill every task and exit: the agent asked, or the agent is gone for good. The driver stops
    /// once this returns and the updates sent in it are acknowledged (or the shutdown grace period
    /// passed).
    fn shutdown(&mut self, driver: &ExecutorDriver) {
        let _ = driver;
    }

    /// The driver hit an unrecoverable error and aborts.
    fn error(&mut self, driver: &ExecutorDriver, message: &str) {
        let _ = (driver, message);
    }
}

pub use crate::driver::DriverStatus;

/// Why a driver could not be created or a call failed.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The environment the agent sets is missing or malformed.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The driver's runtime could not start.
    #[error("cannot start the executor driver's runtime: {0}")]
    Runtime(#[from] process::Error),
    /// The call needs a running driver.
    #[error("the driver is not running (status {0:?})")]
    NotRunning(DriverStatus),
    /// Executors may not send `TASK_STAGING`.
    #[error("executors may not send TASK_STAGING updates (task {0})")]
    Staging(TaskId),
}

struct Inner {
    env: ExecutorEnv,
    handle: Handle,
    shared: Arc<Lifecycle>,
    pid: Mutex<Option<Pid<ExecutorProcess>>>,
    executor: Mutex<Option<Box<dyn Executor>>>,
    /// Health checks of the executor's tasks, when asked for.
    health: super::health::DriverHealth,
    /// The runtime the driver made for itself, if it did (kept alive as long as the driver).
    _runtime: Option<Runtime>,
}

/// Connects an [`Executor`] to its agent. Cheap to clone; every clone drives the same executor.
///
/// The driver runs an actor (process id `executor`) on a runtime: its own one, listening on the agent's
/// IP, when made with [`new`](ExecutorDriver::new) / [`with_env`](ExecutorDriver::with_env), or a
/// given one with [`on_runtime`](ExecutorDriver::on_runtime). Callbacks run on the driver's
/// callback thread, so they may call the driver freely, even the blocking calls. The shape is the
/// scheduler driver's: see [`crate::driver`].
#[derive(Clone)]
pub struct ExecutorDriver {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ExecutorDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorDriver")
            .field("env", &self.inner.env)
            .field("status", &self.status())
            .finish()
    }
}

impl ExecutorDriver {
    /// A driver configured from the environment the agent sets (see [`ExecutorEnv::from_env`]), on
    /// its own runtime.
    ///
    /// # Errors
    /// [`DriverError::Env`] when not started by an agent; [`DriverError::Runtime`] if the runtime
    /// cannot listen.
    pub fn new(executor: impl Executor) -> Result<ExecutorDriver, DriverError> {
        ExecutorDriver::with_env(executor, ExecutorEnv::from_env()?)
    }

    /// A driver for `env`, on its own runtime listening on the agent's IP (the agent runs on the same
    /// host), port chosen by the OS.
    ///
    /// # Errors
    /// [`DriverError::Runtime`] if the runtime cannot listen.
    pub fn with_env(
        executor: impl Executor,
        env: ExecutorEnv,
    ) -> Result<ExecutorDriver, DriverError> {
        let runtime = Runtime::new(Config {
            listen: SocketAddr::new(env.agent_pid.ip(), 0),
            workers: 1,
            ..Config::default()
        })?;
        let handle = runtime.handle();
        Ok(ExecutorDriver::build(executor, env, handle, Some(runtime)))
    }

    /// A driver whose actor runs on an existing runtime (embedding, tests).
    pub fn on_runtime(
        handle: &Handle,
        executor: impl Executor,
        env: ExecutorEnv,
    ) -> ExecutorDriver {
        ExecutorDriver::build(executor, env, handle.clone(), None)
    }

    fn build(
        executor: impl Executor,
        env: ExecutorEnv,
        handle: Handle,
        runtime: Option<Runtime>,
    ) -> ExecutorDriver {
        ExecutorDriver {
            inner: Arc::new(Inner {
                env,
                handle,
                shared: Lifecycle::new(),
                pid: Mutex::new(None),
                executor: Mutex::new(Some(Box::new(executor))),
                health: Default::default(),
                _runtime: runtime,
            }),
        }
    }

    /// Makes the driver run the `health_check` of every task the executor launches, as Mesos's
    /// command executor does (see [`super::health`]): after `launch_task` returns, checks start
    /// in the task's sandbox with its `PORT*` variables; each change of health is sent as a
    /// `TASK_RUNNING` update with `healthy` and `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`; after
    /// `consecutive_failures` failures in a row the driver calls the executor's `kill_task` (and
    /// the task's terminal update gets `healthy: false` unless the executor sets it). Checks stop
    /// when the task is being killed or its terminal update is sent. A task whose check is
    /// invalid is not launched: it fails with `REASON_TASK_INVALID`. Call before `start`.
    pub fn with_health_checks(self) -> ExecutorDriver {
        self.inner.health.enable();
        self
    }

    /// Launches `task` on `executor` (the callback thread's `launch_task`), with its health
    /// checks when the driver runs them.
    pub(crate) fn launch(&self, executor: &mut dyn Executor, task: TaskInfo) {
        match self.inner.health.check_of(&task) {
            None => executor.launch_task(self, task),
            Some(Err(why)) => {
                let failed = TaskStatus::new(task.task_id, TaskState::Failed)
                    .with_reason(crate::Reason::TaskInvalid)
                    .with_message(why);
                let _ = self.send_status_update(failed);
            }
            Some(Ok(check)) => {
                let watched = task.clone();
                executor.launch_task(self, task);
                self.inner.health.watch(self, &watched, check);
            }
        }
    }

    /// Kills `task_id` on `executor` (the callback thread's `kill_task`), its checks paused.
    pub(crate) fn kill(&self, executor: &mut dyn Executor, task_id: TaskId) {
        self.inner.health.pause(&task_id);
        executor.kill_task(self, task_id);
    }

    /// Queues a `kill_task` callback for a task that failed its health checks.
    pub(crate) fn kill_unhealthy_task(&self, task_id: TaskId) {
        if let Ok(pid) = self.running_pid() {
            drop(self.inner.handle.dispatch(&pid, move |actor, ctx| {
                actor.kill_unhealthy_task(ctx, task_id)
            }));
        }
    }

    /// Has the driver's actor perform `outputs` (what followed a callback, once it returned).
    pub(crate) fn perform(&self, outputs: Vec<Output>) {
        if let Ok(pid) = self.running_pid() {
            drop(
                self.inner
                    .handle
                    .dispatch(&pid, move |actor, ctx| actor.perform(ctx, outputs)),
            );
        }
    }

    /// The environment this driver was made from.
    pub fn env(&self) -> &ExecutorEnv {
        &self.inner.env
    }

    /// The driver's current status.
    pub fn status(&self) -> DriverStatus {
        self.inner.shared.status()
    }

    /// Starts the actor (which registers with the agent) and the callback thread. Returns
    /// `Running`, or the current status if the driver was already started.
    pub fn start(&self) -> DriverStatus {
        // Held until started: a concurrent `start` waits, then finds the executor taken.
        let mut slot = self
            .inner
            .executor
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(executor) = slot.take() else {
            return self.status();
        };
        let env = &self.inner.env;
        let (callbacks, receiver) = callback_queue();
        let core = DriverCore::new(
            env.framework_id.clone(),
            env.executor_id.clone(),
            env.agent_pid.clone(),
            env.agent_id.clone(),
            CoreOptions {
                checkpoint: env.checkpoint,
                recovery_timeout: env.recovery_timeout,
            },
        );
        let actor = ExecutorProcess::new(core, callbacks, self.inner.shared.clone());
        let handle = &self.inner.handle;
        // `executor` is the conventional id; a second driver on one runtime gets a numbered one.
        let taken = process::Upid::new("executor", handle.addr())
            .map(|upid| handle.is_running(&upid))
            .unwrap_or(false);
        let id = if taken {
            handle.unique_id("executor")
        } else {
            "executor".to_string()
        };
        self.inner.shared.begin();
        let Ok(pid) = handle.spawn(&id, actor) else {
            return self.abort();
        };
        *self
            .inner
            .pid
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(pid);
        if super::callbacks::start(receiver, self.inner.shared.clone(), executor, self.clone())
            .is_err()
        {
            return self.abort();
        }
        DriverStatus::Running
    }

    fn finish(&self, status: DriverStatus) -> DriverStatus {
        if let Err(ended) = self.inner.shared.end(status) {
            return ended;
        }
        self.inner.health.clear();
        if let Some(pid) = self
            .inner
            .pid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            // Through the mailbox (not a control event), so updates dispatched before are sent first.
            let handle = self.inner.handle.clone();
            drop(handle.dispatch(&pid, |_, ctx| ctx.terminate()));
        }
        status
    }

    /// Stops the driver: the actor terminates and [`join`](Self::join) returns `Stopped`.
    pub fn stop(&self) -> DriverStatus {
        self.finish(DriverStatus::Stopped)
    }

    /// Aborts the driver: no further callbacks; [`join`](Self::join) returns `Aborted`.
    pub fn abort(&self) -> DriverStatus {
        self.finish(DriverStatus::Aborted)
    }

    /// Blocks until the driver is stopped or aborted and no callback is running (at once if it
    /// was never started). Never call it from a callback.
    pub fn join(&self) -> DriverStatus {
        self.inner.shared.join()
    }

    /// As [`join`](Self::join), for at most `timeout`: `None` if the driver is still running then.
    pub fn join_timeout(&self, timeout: Duration) -> Option<DriverStatus> {
        self.inner.shared.join_timeout(timeout)
    }

    /// `start` then `join`.
    pub fn run(&self) -> DriverStatus {
        match self.start() {
            DriverStatus::Running => self.join(),
            other => other,
        }
    }

    /// Sends a status update to the agent, reliably: kept until acknowledged, sent again when the
    /// executor re-registers. The driver fills in the uuid, timestamp, source and executor id.
    ///
    /// # Errors
    /// [`DriverError::Staging`] for `TASK_STAGING`; [`DriverError::NotRunning`] unless running.
    pub fn send_status_update(&self, status: TaskStatus) -> Result<(), DriverError> {
        if status.state == TaskState::Staging {
            return Err(DriverError::Staging(status.task_id));
        }
        let pid = self.running_pid()?;
        let status = self.inner.health.on_update(status);
        drop(self.inner.handle.dispatch(&pid, move |actor, ctx| {
            actor.send_status_update(ctx, status)
        }));
        Ok(())
    }

    /// Sends opaque data to the framework's scheduler (best effort, as in Mesos).
    ///
    /// # Errors
    /// [`DriverError::NotRunning`] unless running.
    pub fn send_framework_message(&self, data: Vec<u8>) -> Result<(), DriverError> {
        let pid = self.running_pid()?;
        drop(self.inner.handle.dispatch(&pid, move |actor, ctx| {
            actor.send_framework_message(ctx, data)
        }));
        Ok(())
    }

    /// Blocks until every status update sent so far is acknowledged by the agent, for at most
    /// `timeout` of real time; true if they all were (false once the driver ended: its process,
    /// which held the updates, is gone). Executors call this before exiting so their last updates
    /// are not lost with the process.
    pub fn wait_for_acknowledgements(&self, timeout: Duration) -> bool {
        let Ok(pid) = self.running_pid() else {
            return self.status() == DriverStatus::NotStarted;
        };
        // Queued behind every update sent so far (one mailbox, in order), so they all count.
        let (done, acknowledged) = mpsc::channel();
        drop(
            self.inner
                .handle
                .dispatch(&pid, move |actor, _| actor.notify_when_acknowledged(done)),
        );
        acknowledged.recv_timeout(timeout).is_ok()
    }

    fn running_pid(&self) -> Result<Pid<ExecutorProcess>, DriverError> {
        let status = self.status();
        if status != DriverStatus::Running {
            return Err(DriverError::NotRunning(status));
        }
        self.inner
            .pid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(DriverError::NotRunning(status))
    }
}
