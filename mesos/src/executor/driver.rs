//! The [`Executor`] trait and the [`ExecutorDriver`] that runs it.

use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use process::{Config, Handle, Pid, Runtime};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::core::{DriverCore, DriverEvent};
use super::env::{EnvError, ExecutorEnv};
use super::process::ExecutorProcess;
use crate::{AgentInfo, ExecutorInfo, FrameworkInfo, TaskId, TaskInfo, TaskState, TaskStatus};

/// A framework's executor: the driver calls these on its driver thread, one at a time.
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

/// The state of a driver, as Mesos's `Status` (returned by every driver call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverStatus {
    /// Created, `start` not called yet.
    NotStarted,
    /// Started and not stopped.
    Running,
    /// Aborted: by `abort`, an error, or losing the agent.
    Aborted,
    /// Stopped by `stop` or after a shutdown.
    Stopped,
}

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

/// State shared between the driver handles and the actor.
pub(crate) struct SharedState {
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    status: DriverStatus,
    /// Updates the actor holds unacknowledged.
    unacknowledged: usize,
    /// Updates handed to the actor that it has not turned into messages yet (counted apart, so an
    /// acknowledgement racing with a new update cannot make the total look like zero).
    in_flight: usize,
}

impl SharedState {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The actor's count of unacknowledged updates changed.
    pub(crate) fn set_unacknowledged(&self, n: usize) {
        self.lock().unacknowledged = n;
        self.changed.notify_all();
    }

    /// The actor took one in-flight update (sent or refused it) and now holds `n` unacknowledged.
    pub(crate) fn update_taken(&self, n: usize) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.unacknowledged = n;
        drop(state);
        self.changed.notify_all();
    }
}

struct Inner {
    env: ExecutorEnv,
    handle: Handle,
    shared: Arc<SharedState>,
    pid: Mutex<Option<Pid<ExecutorProcess>>>,
    executor: Mutex<Option<Box<dyn Executor>>>,
    /// The runtime the driver made for itself, if it did (kept alive as long as the driver).
    _runtime: Option<Runtime>,
}

/// Connects an [`Executor`] to its agent. Cheap to clone; every clone drives the same executor.
///
/// The driver runs an actor (process id `executor`) on a runtime: its own one, listening on the agent's
/// IP, when made with [`new`](ExecutorDriver::new) / [`with_env`](ExecutorDriver::with_env), or a
/// given one with [`on_runtime`](ExecutorDriver::on_runtime). Callbacks run on a dedicated driver
/// thread, so they may call the driver freely.
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
                shared: Arc::new(SharedState {
                    state: Mutex::new(State {
                        status: DriverStatus::NotStarted,
                        unacknowledged: 0,
                        in_flight: 0,
                    }),
                    changed: Condvar::new(),
                }),
                pid: Mutex::new(None),
                executor: Mutex::new(Some(Box::new(executor))),
                _runtime: runtime,
            }),
        }
    }

    /// The environment this driver was made from.
    pub fn env(&self) -> &ExecutorEnv {
        &self.inner.env
    }

    /// The driver's current status.
    pub fn status(&self) -> DriverStatus {
        self.inner
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .status
    }

    /// Starts the actor (which registers with the agent) and the driver thread. Returns `Running`, or
    /// the current status if the driver was already started.
    pub fn start(&self) -> DriverStatus {
        let mut state = self
            .inner
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if state.status != DriverStatus::NotStarted {
            return state.status;
        }
        let Some(executor) = self
            .inner
            .executor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return state.status;
        };
        let env = &self.inner.env;
        let (events, receiver) = mpsc::channel();
        let core = DriverCore::new(
            env.framework_id.clone(),
            env.executor_id.clone(),
            env.agent_id.clone(),
            env.checkpoint,
        );
        let actor = ExecutorProcess::new(
            core,
            env.agent_pid.clone(),
            events,
            self.inner.shared.clone(),
            env.recovery_timeout,
        );
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
        let Ok(pid) = handle.spawn(&id, actor) else {
            state.status = DriverStatus::Aborted;
            return state.status;
        };
        self.finish_start(state, pid, receiver, executor)
    }

    fn finish_start(
        &self,
        mut state: MutexGuard<'_, State>,
        pid: Pid<ExecutorProcess>,
        receiver: Receiver<DriverEvent>,
        executor: Box<dyn Executor>,
    ) -> DriverStatus {
        *self
            .inner
            .pid
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(pid);
        state.status = DriverStatus::Running;
        drop(state);
        let driver = self.clone();
        let spawned = std::thread::Builder::new()
            .name("executor-driver".into())
            .spawn(move || driver.callback_loop(receiver, executor));
        if spawned.is_err() {
            return self.finish(DriverStatus::Aborted);
        }
        DriverStatus::Running
    }

    /// The driver thread: one callback at a time, in the order the agent's messages arrived.
    fn callback_loop(self, events: Receiver<DriverEvent>, mut executor: Box<dyn Executor>) {
        while let Ok(event) = events.recv() {
            if self.status() != DriverStatus::Running {
                break;
            }
            match event {
                DriverEvent::Registered {
                    executor_info,
                    framework_info,
                    agent_info,
                } => executor.registered(&self, &executor_info, &framework_info, &agent_info),
                DriverEvent::Reregistered { agent_info } => {
                    executor.reregistered(&self, &agent_info)
                }
                DriverEvent::Disconnected => executor.disconnected(&self),
                DriverEvent::LaunchTask(task) => executor.launch_task(&self, task),
                DriverEvent::KillTask(task_id) => executor.kill_task(&self, task_id),
                DriverEvent::FrameworkMessage(data) => executor.framework_message(&self, data),
                DriverEvent::Shutdown => {
                    executor.shutdown(&self);
                    self.wait_for_acknowledgements(self.inner.env.shutdown_grace_period);
                    self.stop();
                    break;
                }
                DriverEvent::Error(message) => {
                    executor.error(&self, &message);
                    self.abort();
                    break;
                }
            }
        }
        // The actor is gone (runtime shut down) without stop/abort: that is an abort.
        if self.status() == DriverStatus::Running {
            self.abort();
        }
    }

    fn finish(&self, status: DriverStatus) -> DriverStatus {
        let mut state = self
            .inner
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match state.status {
            DriverStatus::Running | DriverStatus::NotStarted => state.status = status,
            other => return other,
        }
        drop(state);
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
        self.inner.shared.changed.notify_all();
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

    /// Blocks until the driver is stopped or aborted (at once if it was never started).
    pub fn join(&self) -> DriverStatus {
        loop {
            if let Some(status) = self.join_timeout(Duration::from_secs(3600)) {
                return status;
            }
        }
    }

    /// As [`join`](Self::join), for at most `timeout`: `None` if the driver is still running then.
    pub fn join_timeout(&self, timeout: Duration) -> Option<DriverStatus> {
        let deadline = std::time::Instant::now() + timeout;
        let mut state = self
            .inner
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while state.status == DriverStatus::Running {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            state = self
                .inner
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Some(state.status)
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
        {
            // Counted now so `wait_for_acknowledgements` right after this call waits for it.
            let mut state = self
                .inner
                .shared
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.in_flight += 1;
        }
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
    /// `timeout` of real time; true if they all were. Executors call this before exiting so their
    /// last updates are not lost with the process.
    pub fn wait_for_acknowledgements(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self
            .inner
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while state.unacknowledged + state.in_flight > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .inner
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
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
