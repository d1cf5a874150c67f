//! [`SchedulerDriver`] (owns the driver and, by default, its runtime) and [`DriverHandle`] (the
//! cloneable handle callbacks get; every framework call lives there).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use process::{Config, Handle, Pid, Runtime};

use crate::auth::{Authenticatee, Credential, Peer};
use crate::{AgentId, ExecutorId, Filters, FrameworkInfo, OfferId, TaskId, TaskInfo, TaskStatus};

use super::actor::SchedulerProcess;
use super::core::{CoreOptions, DriverCore, Output};
use super::{
    DriverStatus, MasterDetector, Scheduler, SchedulerError, StandaloneDetector,
    DEFAULT_BACKOFF_FACTOR,
};
use crate::driver::{callback_queue, Lifecycle};

/// How a driver is built. `Default`: implicit acknowledgements, Mesos's 2 s backoff factor, a random
/// seed, and a fresh runtime.
#[derive(Debug, Clone)]
pub struct DriverOptions {
    /// Acknowledge each status update after `status_update` returns (Mesos's default). When false,
    /// the scheduler must call [`DriverHandle::acknowledge_status_update`].
    pub implicit_acknowledgements: bool,
    /// The first (re)registration backoff cap.
    pub backoff_factor: Duration,
    /// Seeds the backoff jitter (random if `None`).
    pub seed: Option<u64>,
    /// Run on this runtime instead of creating one.
    pub runtime: Option<Handle>,
    /// Authenticate with the master as this principal before registering (Mesos's
    /// `credential`); the framework's `principal` defaults to it.
    pub credential: Option<Credential>,
}

impl Default for DriverOptions {
    fn default() -> DriverOptions {
        DriverOptions {
            implicit_acknowledgements: true,
            backoff_factor: DEFAULT_BACKOFF_FACTOR,
            seed: None,
            runtime: None,
            credential: None,
        }
    }
}

impl DriverOptions {
    /// Explicit acknowledgements: the scheduler acknowledges each update itself.
    pub fn explicit_acknowledgements(mut self) -> DriverOptions {
        self.implicit_acknowledgements = false;
        self
    }

    /// Runs the driver on `runtime`.
    pub fn on_runtime(mut self, runtime: Handle) -> DriverOptions {
        self.runtime = Some(runtime);
        self
    }

    /// Authenticates with `credential` before registering.
    pub fn with_credential(mut self, credential: Credential) -> DriverOptions {
        self.credential = Some(credential);
        self
    }

    /// Sets the registration backoff factor (short values make tests fast).
    pub fn with_backoff_factor(mut self, factor: Duration) -> DriverOptions {
        self.backoff_factor = factor;
        self
    }
}

/// A handle to a running driver: cheap to clone, callable from any thread and from callbacks.
///
/// Calls are asynchronous (the driver process performs them in order) and return the driver's
/// status: [`DriverStatus::Running`] if the call was taken, else the status that refused it.
/// `stop` and `abort` wait until the driver process performed them (the `Unregister` is on its
/// way when `stop` returns), from a callback too: callbacks run on the driver's callback thread,
/// not on its process.
#[derive(Clone)]
pub struct DriverHandle {
    pid: Pid<SchedulerProcess>,
    runtime: Handle,
    shared: Arc<Lifecycle>,
}

impl DriverHandle {
    pub(crate) fn new(
        pid: Pid<SchedulerProcess>,
        runtime: Handle,
        shared: Arc<Lifecycle>,
    ) -> DriverHandle {
        DriverHandle {
            pid,
            runtime,
            shared,
        }
    }

    /// The driver's current status.
    pub fn status(&self) -> DriverStatus {
        self.shared.status()
    }

    /// The driver process's pid.
    pub fn pid(&self) -> &Pid<SchedulerProcess> {
        &self.pid
    }

    /// The runtime the driver runs on.
    pub fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// Has the driver process perform `outputs` (what followed a callback, once it returned).
    pub(crate) fn perform(&self, outputs: Vec<Output>) {
        drop(
            self.runtime
                .dispatch(&self.pid, move |this, ctx| this.perform(ctx, outputs)),
        );
    }

    fn call(
        &self,
        step: impl FnOnce(&mut DriverCore) -> Vec<Output> + Send + 'static,
    ) -> DriverStatus {
        let status = self.status();
        if status != DriverStatus::Running {
            return status;
        }
        drop(self.runtime.dispatch(&self.pid, move |this, ctx| {
            let out = step(&mut this.core);
            this.perform(ctx, out);
        }));
        DriverStatus::Running
    }

    /// Starts the driver: it detects the master and registers (retrying with backoff).
    pub fn start(&self) -> DriverStatus {
        let before = self.shared.begin();
        if before != DriverStatus::NotStarted {
            return before;
        }
        let pid = self.pid.clone();
        let runtime = self.runtime.clone();
        drop(self.runtime.dispatch(&self.pid, move |this, ctx| {
            let detector = this.detector.clone();
            detector.watch(Arc::new(move |leader| {
                drop(runtime.dispatch(&pid, move |this, ctx| {
                    let out = this.core.new_master(leader);
                    this.perform(ctx, out);
                }));
            }));
            let out = this.core.start(detector.leader());
            this.perform(ctx, out);
        }));
        DriverStatus::Running
    }

    fn finish(
        &self,
        step: impl FnOnce(&mut DriverCore) -> Vec<Output> + Send + 'static,
        expected: DriverStatus,
    ) -> DriverStatus {
        let status = self.status();
        if !matches!(status, DriverStatus::Running | DriverStatus::NotStarted) {
            return status;
        }
        let reply = self.runtime.dispatch(&self.pid, move |this, ctx| {
            let out = step(&mut this.core);
            this.perform(ctx, out);
            this.core.status()
        });
        // The process never runs framework code, so this cannot wait on the caller itself.
        reply.wait().unwrap_or(expected)
    }

    /// Stops the driver. Without `failover` the framework is unregistered (its tasks are killed);
    /// with it, the master keeps the tasks for `failover_timeout` so a new scheduler can take over.
    pub fn stop(&self, failover: bool) -> DriverStatus {
        self.finish(move |core| core.stop(failover), DriverStatus::Stopped)
    }

    /// Aborts the driver: no more callbacks; the framework stays registered for failover.
    pub fn abort(&self) -> DriverStatus {
        self.finish(DriverCore::abort, DriverStatus::Aborted)
    }

    /// Blocks until the driver is stopped or aborted and no callback is running; returns that
    /// status (`NotStarted` at once if never started). Never call it from a callback.
    pub fn join(&self) -> DriverStatus {
        self.shared.join()
    }

    /// As [`join`](Self::join), for at most `timeout`: `None` if the driver is still running then.
    pub fn join_timeout(&self, timeout: Duration) -> Option<DriverStatus> {
        self.shared.join_timeout(timeout)
    }

    /// `start` then `join`.
    pub fn run(&self) -> DriverStatus {
        let status = self.start();
        if status != DriverStatus::Running {
            return status;
        }
        self.join()
    }

    /// Launches `tasks` on `offer_ids` (all from one agent); unused resources are declined with
    /// `filters`.
    pub fn launch_tasks(
        &self,
        offer_ids: Vec<OfferId>,
        tasks: Vec<TaskInfo>,
        filters: Filters,
    ) -> DriverStatus {
        self.call(move |core| core.launch_tasks(offer_ids, tasks, filters))
    }

    /// Declines an offer; its resources are not offered again for `filters.refuse_seconds`.
    pub fn decline_offer(&self, offer_id: OfferId, filters: Filters) -> DriverStatus {
        self.call(move |core| core.decline_offer(offer_id, filters))
    }

    /// Kills a task.
    pub fn kill_task(&self, task_id: TaskId) -> DriverStatus {
        self.call(move |core| core.kill_task(task_id))
    }

    /// Clears offer filters and lifts suppression.
    pub fn revive_offers(&self) -> DriverStatus {
        self.call(DriverCore::revive_offers)
    }

    /// Stops offers until `revive_offers`.
    pub fn suppress_offers(&self) -> DriverStatus {
        self.call(DriverCore::suppress_offers)
    }

    /// Asks for the latest state of the given tasks, or of every task the master knows (empty).
    pub fn reconcile_tasks(&self, statuses: Vec<TaskStatus>) -> DriverStatus {
        self.call(move |core| core.reconcile_tasks(statuses))
    }

    /// Acknowledges an update (explicit acknowledgements only; updates without a uuid need none).
    pub fn acknowledge_status_update(&self, status: TaskStatus) -> DriverStatus {
        self.call(move |core| core.acknowledge(status))
    }

    /// Sends `data` to an executor (relayed by the master).
    pub fn send_framework_message(
        &self,
        executor_id: ExecutorId,
        agent_id: AgentId,
        data: Vec<u8>,
    ) -> DriverStatus {
        self.call(move |core| core.send_framework_message(executor_id, agent_id, data))
    }
}

impl std::fmt::Debug for DriverHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverHandle")
            .field("pid", &self.pid)
            .field("status", &self.status())
            .finish()
    }
}

/// A scheduler driver: owns the driver process and (unless one was given) its runtime. Dereferences
/// to its [`DriverHandle`]. Dropping it terminates the driver (and its own runtime).
pub struct SchedulerDriver {
    handle: DriverHandle,
    runtime: Option<Runtime>,
}

impl SchedulerDriver {
    /// A driver for `framework` (set `framework.id` to fail over an existing framework) talking to
    /// the master at `master` (`host:port` or `master@host:port`), with default options.
    ///
    /// # Errors
    /// [`SchedulerError::Detector`] for a bad master address; [`SchedulerError::Runtime`] if the
    /// runtime cannot start.
    pub fn new(
        scheduler: impl Scheduler,
        framework: FrameworkInfo,
        master: &str,
    ) -> Result<SchedulerDriver, SchedulerError> {
        Self::with_options(scheduler, framework, master, DriverOptions::default())
    }

    /// As [`new`](SchedulerDriver::new), with options.
    ///
    /// # Errors
    /// As [`new`](SchedulerDriver::new).
    pub fn with_options(
        scheduler: impl Scheduler,
        framework: FrameworkInfo,
        master: &str,
        options: DriverOptions,
    ) -> Result<SchedulerDriver, SchedulerError> {
        let detector: StandaloneDetector = master.parse()?;
        Self::with_detector(scheduler, framework, Arc::new(detector), options)
    }

    /// A driver that finds its master through `detector`.
    ///
    /// # Errors
    /// [`SchedulerError::Runtime`] if the runtime or the process cannot start.
    pub fn with_detector(
        scheduler: impl Scheduler,
        mut framework: FrameworkInfo,
        detector: Arc<dyn MasterDetector>,
        options: DriverOptions,
    ) -> Result<SchedulerDriver, SchedulerError> {
        if let Some(credential) = &options.credential {
            // As Mesos's driver: the principal authenticated as is the framework's, unless set.
            framework
                .principal
                .get_or_insert_with(|| credential.principal.clone());
        }
        let auth = options
            .credential
            .clone()
            .map(|c| Authenticatee::new(c, Peer::Framework));
        let (runtime, handle) = match options.runtime.clone() {
            Some(handle) => (None, handle),
            None => {
                let runtime = Runtime::new(Config {
                    listen: SocketAddr::new(libprocess_ip(), 0),
                    workers: 1,
                    ..Config::default()
                })?;
                let handle = runtime.handle();
                (Some(runtime), handle)
            }
        };
        let seed = options.seed.unwrap_or_else(|| {
            let bytes = crate::Uuid::random();
            let mut seed = [0u8; 8];
            seed.copy_from_slice(&bytes.as_bytes()[..8]);
            u64::from_le_bytes(seed)
        });
        let core = DriverCore::new(
            framework,
            CoreOptions {
                implicit_acknowledgements: options.implicit_acknowledgements,
                backoff_factor: options.backoff_factor,
                seed,
            },
        );
        let shared = Lifecycle::new();
        let (callbacks, receiver) = callback_queue();
        let process = SchedulerProcess::new(core, detector, shared.clone(), callbacks, auth);
        let id = format!("scheduler-{}", crate::Uuid::random());
        let pid = handle.spawn(&id, process)?;
        let driver = SchedulerDriver {
            handle: DriverHandle::new(pid, handle, shared.clone()),
            runtime,
        };
        super::callbacks::start(receiver, shared, Box::new(scheduler), driver.handle())
            .map_err(SchedulerError::CallbackThread)?;
        Ok(driver)
    }

    /// A cloneable handle to this driver.
    pub fn handle(&self) -> DriverHandle {
        self.handle.clone()
    }
}

impl std::ops::Deref for SchedulerDriver {
    type Target = DriverHandle;

    fn deref(&self) -> &DriverHandle {
        &self.handle
    }
}

impl Drop for SchedulerDriver {
    fn drop(&mut self) {
        self.handle.runtime.terminate(&self.handle.pid);
        self.handle
            .runtime
            .wait_timeout(&self.handle.pid, Duration::from_secs(5));
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown();
        }
    }
}

/// The IP the driver's own runtime listens on: `LIBPROCESS_IP` as in Mesos, else loopback.
fn libprocess_ip() -> IpAddr {
    std::env::var("LIBPROCESS_IP")
        .ok()
        .and_then(|ip| ip.parse().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}
