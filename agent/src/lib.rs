//! The Mesos agent: registers a node's resources with the master, launches executors as child
//! processes in sandboxes, and delivers their tasks' status updates reliably.
//!
//! # Embedding
//!
//! The agent is a process (`slave(1)`) on a [`::process::Runtime`]; one runtime per agent, so each agent
//! is its own node with its own port:
//!
//! ```no_run
//! use agent::{Agent, AgentConfig};
//! use process::{Config, Runtime};
//!
//! let runtime = Runtime::new(Config::default())?;
//! let config = AgentConfig {
//!     resources: Some("cpus:2;mem:1024".into()),
//!     ..AgentConfig::new("master@127.0.0.1:5050".parse()?)
//! };
//! let agent = Agent::spawn(&runtime, config)?;
//! println!("agent {} running", agent.pid());
//! agent.wait();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How it is built
//! Every decision lives in the pure [`AgentCore`](core::AgentCore), fed `(now, input)` and
//! returning [`Output`](core::Output)s and its next deadline, as the master's core is. It owns
//! three smaller pure cores: [`MasterLink`] (registration with backoff, master ping timeout),
//! [`StatusUpdateManager`] (per-task ordered, retried, never-dropped updates) and [`AgentBook`]
//! (frameworks, executors, tasks). The actor in `process/` only does I/O: it turns messages, child
//! exits and timers into core calls, and performs the outputs with the [`launcher`] (child
//! processes in their own session, a reaper thread per child) and the [`Isolator`] seam (the
//! `isolation` crate, chosen by `--isolation`: [`PosixIsolator`] by default). The built-in command executor
//! ([`CommandExecutor`], binary `mesos-executor`) runs command tasks through
//! [`mesos::executor::ExecutorDriver`].
#![deny(missing_docs)]

mod auth;
pub mod checkpoint;
pub mod command_executor;
pub mod config;
pub mod containers;
pub mod core;
pub mod detect;
pub mod error;
mod executor_api;
pub mod fetcher;
pub mod flags;
/// Health checks live in the mesos crate, shared with the executor driver.
pub use mesos::executor::health as health_check;
pub mod http;
pub mod isolator;
pub mod launcher;
pub mod launcher_user;
pub mod master_link;
pub mod metrics;
mod monitor;
mod operator_api;
mod process;
pub mod sandbox_acl;
pub mod sandboxes;
pub mod sessions;
pub mod spawn;
pub mod state;
pub mod status_update_manager;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ::process::{Handle, Pid, Upid};
use mesos::{AgentId, AgentInfo, Uuid};

pub use crate::command_executor::CommandExecutor;
pub use crate::config::{parse_master, AgentConfig};
use crate::containers::SharedContainers;
use crate::core::{AgentCore, CoreConfig, RecoveryOptions};
pub use crate::error::AgentError;
pub use crate::isolator::{Isolator, PosixIsolator, ResourceStatistics};
pub use crate::master_link::MasterLink;
pub use crate::process::AgentProcess;
pub use crate::state::AgentBook;
pub use crate::status_update_manager::StatusUpdateManager;
pub use isolation;

/// The agent's process id, as in Mesos.
pub const AGENT_PROCESS_ID: &str = "slave(1)";

/// The agent's log file inside `--log_dir` (served as `/slave/log` by the files API).
pub const AGENT_LOG_FILE: &str = "mesos-agent.INFO";

/// Starts agents.
#[derive(Debug)]
pub struct Agent;

impl Agent {
    /// Spawns an agent (process `slave(1)`, plus `monitor`) on `runtime` with the isolator
    /// `config.isolation` selects (POSIX by default). It registers with `config.master` at once and
    /// keeps retrying until the master answers.
    ///
    /// # Errors
    /// [`AgentError`] for a missing master, bad resources, an unusable work_dir, an isolator this
    /// host cannot run, or a runtime that already runs an agent.
    pub fn spawn(runtime: &Handle, config: AgentConfig) -> Result<AgentHandle, AgentError> {
        config.master.as_ref().ok_or(AgentError::NoMaster)?;
        let isolator = isolator::build(&config.isolation)?;
        Agent::spawn_with_isolator(runtime, config, isolator)
    }

    /// As [`spawn`](Agent::spawn), with another isolator.
    ///
    /// # Errors
    /// As [`spawn`](Agent::spawn).
    pub fn spawn_with_isolator(
        runtime: &Handle,
        config: AgentConfig,
        isolator: Box<dyn Isolator>,
    ) -> Result<AgentHandle, AgentError> {
        let master = config.master.clone().ok_or(AgentError::NoMaster)?;
        std::fs::create_dir_all(&config.work_dir).map_err(|source| AgentError::WorkDir {
            path: config.work_dir.clone(),
            source,
        })?;
        let launcher = config.launcher_dir().join("mesos-executor");
        if !launcher.exists() {
            // Custom executors still work; command tasks will fail to launch with a clear message.
            tracing::warn!(path = %launcher.display(), "command executor not found; set --launcher_dir");
        }
        let resources =
            detect::agent_resources(config.resources.as_deref(), Path::new(&config.work_dir))?;
        let hostname = config.hostname.clone().unwrap_or_else(system_hostname);
        let info = AgentInfo::new(hostname)
            .with_resources(resources)
            .with_attributes(config.attributes.clone())
            .with_port(runtime.addr().port());
        let watch_limitations = isolator.watches_limitations();
        let containers = SharedContainers::new(isolator);
        let core_config = CoreConfig {
            work_dir: config.work_dir.clone(),
            launcher,
            executor_registration_timeout: config.executor_registration_timeout,
            executor_shutdown_grace_period: config.executor_shutdown_grace_period,
            status_update_retry_interval_min: config.status_update_retry_interval_min,
            status_update_retry_interval_max: config.status_update_retry_interval_max,
            registration_backoff_factor: config.registration_backoff_factor,
            max_ping_timeouts: config.max_ping_timeouts,
            executor_reregistration_timeout: config.executor_reregistration_timeout,
            gc_delay: config.gc_delay,
            watch_limitations,
            start_wall_secs: process::wall_clock(),
            // Ids the core makes must not repeat across agent restarts.
            seed: u64::from_le_bytes(
                Uuid::random().as_bytes()[..8]
                    .try_into()
                    .unwrap_or_default(),
            ),
        };
        let pid = Upid::new(AGENT_PROCESS_ID, runtime.addr())
            .map_err(|e| AgentError::Runtime(::process::Error::from(e)))?;
        let now = runtime.clock().now();
        let mut core = AgentCore::new(core_config, info, pid, master, now);
        // Recovery: what an earlier agent with this --work_dir left (checkpoints, executors).
        let state = checkpoint::read::read(&config.work_dir, config.strict)?;
        let options = RecoveryOptions {
            mode: config.recover,
            policy: config.reconfiguration_policy,
            boot_id: boot_id(),
        };
        let summary = core.recover(now, state, &options)?;
        tracing::info!(?summary, "recovered");
        let metrics = Arc::new(metrics::AgentMetrics::default());
        // Served from the start: `slave/recovering` must never read 0 before recovery is over.
        metrics
            .recovering
            .store(core.is_recovering(), std::sync::atomic::Ordering::Relaxed);
        let failure = process::Failure::default();
        // The files API: sandboxes (attached by the agent as executors appear) and the log.
        let files = files::Files::new();
        if let Some(log_dir) = &config.log_dir {
            let log = log_dir.join(AGENT_LOG_FILE);
            if let Err(error) = files.attach("/slave/log", &log) {
                tracing::warn!(%error, "cannot attach the agent's log");
            }
        }
        let config_http_auth = config.http_auth.clone();
        let acls = config.acls.clone();
        let agent = AgentProcess::new(
            config,
            core,
            containers.clone(),
            failure.clone(),
            metrics.clone(),
            files.clone(),
        );
        let sandbox_owners = agent.sandbox_owners();
        let pid = runtime.spawn(AGENT_PROCESS_ID, agent)?;
        // As on a Mesos agent, paths naming no process (`/api/v1/executor`, `/api/v1`,
        // `/flags`) are the agent's, unless a master shares this runtime and serves them.
        if runtime.http_delegate().is_none() {
            runtime.set_http_delegate(Some(AGENT_PROCESS_ID));
        }
        let authentication = config_http_auth.enabled().then(|| {
            config_http_auth
                .clone()
                .guard("mesos-agent", crate::auth::agent_realm)
        });
        // `get_endpoints` and `access_sandboxes` in `--acls`, after authentication.
        let sandboxes = crate::sandbox_acl::check(acls.clone(), files.clone(), sandbox_owners);
        if let Some(guard) =
            mesos::acl::http::guard(authentication, config_http_auth, acls, sandboxes)
        {
            runtime.set_http_guard(Some(guard));
        }
        if let Err(err) = files.spawn(runtime) {
            tracing::warn!(%err, "cannot start the files process");
        }
        let monitor = runtime.spawn("monitor", monitor::Monitor::new(containers.clone()));
        if let Err(err) = &monitor {
            tracing::warn!(%err, "cannot start the monitor process");
        }
        if let Err(err) = runtime.spawn("metrics", metrics::Metrics { metrics }) {
            tracing::warn!(%err, "cannot start the metrics process");
        }
        Ok(AgentHandle {
            pid,
            runtime: runtime.clone(),
            containers,
            failure,
        })
    }
}

/// The host's boot id: a different one than at the last recovery means the host rebooted.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
}

fn system_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// A running agent: its pid, views of its state, and a way to stop it.
#[derive(Debug, Clone)]
pub struct AgentHandle {
    pid: Pid<AgentProcess>,
    runtime: Handle,
    containers: SharedContainers,
    failure: process::Failure,
}

/// How long views wait for the agent's answer (it answers in microseconds unless it is gone).
const VIEW_TIMEOUT: Duration = Duration::from_secs(10);

impl AgentHandle {
    /// The agent's pid (`slave(1)@ip:port`).
    pub fn pid(&self) -> &Upid {
        self.pid.upid()
    }

    /// The id the master assigned, once registered.
    ///
    /// # Errors
    /// [`AgentError::Runtime`] if the agent is not running.
    pub fn agent_id(&self) -> Result<Option<AgentId>, AgentError> {
        self.view(|agent| agent.core.agent_id().cloned())
    }

    /// The `/slave(1)/state` JSON.
    ///
    /// # Errors
    /// [`AgentError::Runtime`] if the agent is not running.
    pub fn state(&self) -> Result<serde_json::Value, AgentError> {
        let pid = self.pid.upid().to_string();
        self.view(move |agent| http::state_json(agent, &pid))
    }

    /// The `/monitor/statistics` JSON.
    pub fn statistics(&self) -> serde_json::Value {
        self.containers.statistics_json()
    }

    fn view<R: Send + 'static>(
        &self,
        f: impl FnOnce(&AgentProcess) -> R + Send + 'static,
    ) -> Result<R, AgentError> {
        Ok(self
            .runtime
            .dispatch(&self.pid, move |agent, _ctx| f(agent))
            .wait_timeout(VIEW_TIMEOUT)?)
    }

    /// Follows a new leading master (from a detector, e.g. `mesos_zookeeper::ZooKeeperDetector`):
    /// the agent re-registers with it carrying its executors and tasks (or registers, if it never
    /// was), and status updates not yet acknowledged are resent to it. The same master again is a
    /// no-op.
    ///
    /// # Errors
    /// [`AgentError::Runtime`] if the agent is not running.
    pub fn set_master(&self, master: Upid) -> Result<(), AgentError> {
        Ok(self
            .runtime
            .dispatch(&self.pid, move |agent, ctx| {
                agent.master_detected(ctx, master)
            })
            .wait_timeout(VIEW_TIMEOUT)?)
    }

    /// Stops the agent (its executors are killed: this agent cannot recover them) and waits.
    pub fn stop(&self) {
        self.runtime.terminate(&self.pid);
        self.runtime.wait(&self.pid);
    }

    /// Blocks until the agent terminates.
    pub fn wait(&self) {
        self.runtime.wait(&self.pid);
    }

    /// Why the agent stopped on its own, if it did (a checkpoint it could not write: its executors
    /// were left running for a restarted agent to recover).
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
