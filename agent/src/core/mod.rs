//! [`AgentCore`]: the agent's decisions as a pure state machine.
//!
//! The core does no I/O and reads no clock, as [`MasterCore`](../../master/struct.MasterCore.html)
//! does. Every input carries `now` (the runtime clock's time) and, for messages, the sender's typed
//! pid (or [`ExecutorEndpoint`]); every effect is an [`Output`] the driver drains with
//! [`AgentCore::drain_outputs`] and performs in order. [`AgentCore::next_deadline`] says when to
//! call [`AgentCore::tick`] (registration retries, the master's ping timeout, status update retries,
//! executor registration timeouts, shutdown grace periods, limitation polls).
//!
//! It owns the three smaller cores: [`MasterLink`] (registration), [`StatusUpdateManager`]
//! (reliable, ordered updates) and [`AgentBook`] (frameworks, executors, tasks), and decides what
//! the actor used to: rewriting updates of containers the kernel limited, resizing containers as
//! tasks come and go, dropping updates of frameworks being shut down, routing kills, shutting
//! executors down with a grace period, acknowledging executors' updates.
//!
//! A launch is two steps: the core emits [`Output::Launch`] (the driver prepares the container and
//! sandbox, then starts the executor) and hears back [`AgentCore::executor_launched`] (or
//! [`AgentCore::executor_exited`] if it could not start), so slow preparation (fetching) fits
//! without changing the contract.
//!
//! ```
//! use std::time::Instant;
//! use agent::core::{AgentCore, CoreConfig, Output, ToMaster};
//! use mesos::AgentInfo;
//!
//! let now = Instant::now();
//! let master: process::Upid = "master@127.0.0.1:5050".parse()?;
//! let me: process::Upid = "slave(1)@127.0.0.1:5051".parse()?;
//! let info = AgentInfo::new("node-1").with_resources("cpus:2;mem:1024".parse()?);
//! let mut core = AgentCore::new(CoreConfig::new("/tmp/agent"), info, me, master.clone(), now);
//! core.tick(now); // registration is due at once
//! let outputs = core.drain_outputs();
//! assert!(outputs.contains(&Output::Link(master.clone())));
//! assert!(outputs.iter().any(|o| matches!(o,
//!     Output::Master { to, message: ToMaster::RegisterSlave(_) } if to == &master)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checkpoints;
mod executors;
mod master;
mod outputs;
mod recover;
mod updates;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::RecoverMode;

use mesos::{AgentId, AgentInfo, ContainerId, ExecutorId, FrameworkId, Uuid};
use process::Upid;

use crate::master_link::{MasterLink, DEFAULT_MAX_PING_TIMEOUTS, DEFAULT_REGISTRATION_BACKOFF};
use crate::state::AgentBook;
use crate::status_update_manager::{StatusUpdateManager, DEFAULT_RETRY_MAX, DEFAULT_RETRY_MIN};

pub use outputs::{ExecutorEndpoint, Output, ToExecutor, ToMaster};
pub use recover::{
    reconfiguration_error, KeptContainer, RecoveryError, RecoveryOptions, RecoverySummary,
};

/// How often the agent asks the isolator whether the kernel enforced a limit on a live container
/// (an OOM kill), when the isolator can report any.
pub const LIMITATION_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The core's settings (the agent's flags, minus I/O ones).
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Where sandboxes live.
    pub work_dir: PathBuf,
    /// The command executor binary (`mesos-executor`).
    pub launcher: PathBuf,
    /// How long an executor may take to register before it is killed.
    pub executor_registration_timeout: Duration,
    /// How long an executor gets to exit after being told to shut down, before it is killed.
    pub executor_shutdown_grace_period: Duration,
    /// The first status update retry wait.
    pub status_update_retry_interval_min: Duration,
    /// The longest status update retry wait.
    pub status_update_retry_interval_max: Duration,
    /// The first registration retry wait (doubling up to a minute).
    pub registration_backoff_factor: Duration,
    /// Missed pings (of the master's ping timeout) before the master is considered gone.
    pub max_ping_timeouts: u32,
    /// Whether the isolator can report limitations (then live containers are polled).
    pub watch_limitations: bool,
    /// Wall time (Unix seconds) at the `now` given to [`AgentCore::new`]; timestamps derive from it.
    pub start_wall_secs: f64,
    /// Seed of the uuids and container ids the core makes: a fresh random one per agent start, so
    /// ids never repeat across restarts.
    pub seed: u64,
    /// How long recovered executors get to re-register after a restart.
    pub executor_reregistration_timeout: Duration,
    /// How long finished runs' sandboxes and checkpoints are kept.
    pub gc_delay: Duration,
}

impl CoreConfig {
    /// Mesos's defaults, sandboxes under `work_dir`, `mesos-executor` next to it, seed 1.
    pub fn new(work_dir: impl Into<PathBuf>) -> CoreConfig {
        let work_dir = work_dir.into();
        CoreConfig {
            launcher: work_dir.join("mesos-executor"),
            work_dir,
            executor_registration_timeout: crate::config::DEFAULT_EXECUTOR_REGISTRATION_TIMEOUT,
            executor_shutdown_grace_period: crate::config::DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD,
            status_update_retry_interval_min: DEFAULT_RETRY_MIN,
            status_update_retry_interval_max: DEFAULT_RETRY_MAX,
            registration_backoff_factor: DEFAULT_REGISTRATION_BACKOFF,
            max_ping_timeouts: DEFAULT_MAX_PING_TIMEOUTS,
            watch_limitations: false,
            start_wall_secs: 0.0,
            seed: 1,
            executor_reregistration_timeout: crate::config::DEFAULT_EXECUTOR_REREGISTRATION_TIMEOUT,
            gc_delay: crate::config::DEFAULT_GC_DELAY,
        }
    }
}

/// A container the core launched: whose it is, and whether its executor process runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRecord {
    /// Its framework.
    pub framework_id: FrameworkId,
    /// Its executor.
    pub executor_id: ExecutorId,
    /// The executor's OS pid once started (also its session id).
    pub os_pid: Option<u32>,
    /// The kernel enforced a limit on it: it is being destroyed, its tasks already failed.
    pub limited: bool,
}

/// The agent's state machine; see the [module docs](self).
pub struct AgentCore {
    config: CoreConfig,
    start: Instant,
    info: AgentInfo,
    pid: Upid,
    master: Upid,
    link: MasterLink,
    updates: StatusUpdateManager,
    book: AgentBook,
    containers: BTreeMap<ContainerId, ContainerRecord>,
    /// When live containers are next polled for limitations.
    next_limitation_check: Option<Instant>,
    /// Containers to kill when their executor's shutdown grace period ends.
    grace_kills: BTreeSet<(Instant, ContainerId)>,
    /// Runs of checkpointing frameworks and their tasks.
    runs: checkpoints::CheckpointedRuns,
    /// The recovery in progress (registration waits for it to end).
    recovering: Option<recover::Recovering>,
    /// `--recover`: with `cleanup` the agent never registers.
    recover_mode: RecoverMode,
    /// Checkpoints that could not be read (`slave/recovery_errors`).
    recovery_errors: u64,
    /// Directories to remove, and when.
    garbage: BTreeSet<(Instant, PathBuf)>,
    outbox: Vec<Output>,
    next_uuid: u64,
    /// The latest `now` seen by `tick` (to bound an idle deadline).
    last_now: Instant,
}

impl std::fmt::Debug for AgentCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentCore")
            .field("pid", &self.pid)
            .field("agent_id", &self.link.agent_id())
            .field("containers", &self.containers.len())
            .finish()
    }
}

impl AgentCore {
    /// An agent `pid` describing itself as `info`, registering with `master` from `now` on.
    pub fn new(
        config: CoreConfig,
        mut info: AgentInfo,
        pid: Upid,
        master: Upid,
        now: Instant,
    ) -> AgentCore {
        info.port = pid.port();
        let link = MasterLink::new(
            now,
            config.registration_backoff_factor,
            config.max_ping_timeouts,
        );
        let updates = StatusUpdateManager::new(
            config.status_update_retry_interval_min,
            config.status_update_retry_interval_max,
        );
        let book = AgentBook::new(&config.work_dir, &config.launcher);
        AgentCore {
            config,
            start: now,
            info,
            pid,
            master,
            link,
            updates,
            book,
            containers: BTreeMap::new(),
            next_limitation_check: None,
            grace_kills: BTreeSet::new(),
            runs: checkpoints::CheckpointedRuns::default(),
            recovering: None,
            recover_mode: RecoverMode::Reconnect,
            recovery_errors: 0,
            garbage: BTreeSet::new(),
            outbox: Vec::new(),
            next_uuid: 0,
            last_now: now,
        }
    }

    // ---- views ----

    /// The settings in use.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// What the agent tells the master about itself.
    pub fn info(&self) -> &AgentInfo {
        &self.info
    }

    /// This agent's pid.
    pub fn pid(&self) -> &Upid {
        &self.pid
    }

    /// The master the agent follows.
    pub fn master(&self) -> &Upid {
        &self.master
    }

    /// Registration state.
    pub fn link(&self) -> &MasterLink {
        &self.link
    }

    /// The id the master gave, once registered.
    pub fn agent_id(&self) -> Option<&AgentId> {
        self.link.agent_id()
    }

    /// Frameworks, executors and tasks.
    pub fn book(&self) -> &AgentBook {
        &self.book
    }

    /// Status updates awaiting the master's acknowledgement.
    pub fn updates(&self) -> &StatusUpdateManager {
        &self.updates
    }

    /// Containers launched and not yet exited.
    pub fn containers(&self) -> &BTreeMap<ContainerId, ContainerRecord> {
        &self.containers
    }

    /// The containers whose executor process runs (what to kill if the agent stops for good).
    pub fn live_containers(&self) -> Vec<ContainerId> {
        self.containers
            .iter()
            .filter(|(_, c)| c.os_pid.is_some())
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Wall time (Unix seconds) at `now`.
    pub fn wall(&self, now: Instant) -> f64 {
        self.config.start_wall_secs + now.saturating_duration_since(self.start).as_secs_f64()
    }

    /// Takes the outputs produced so far, in order.
    pub fn drain_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outbox)
    }

    // ---- time ----

    /// When [`tick`](Self::tick) next has work: the earliest registration retry or master
    /// timeout, update retry, executor registration timeout, grace-period kill or limitation poll.
    pub fn next_deadline(&self) -> Instant {
        let link = self.registering().then(|| self.link.poll_timeout());
        // Nothing else due: check back in an hour (a core always has a next deadline).
        let mut next = self.start.max(self.last_now) + Duration::from_secs(3600);
        let candidates = [
            link,
            self.recovering.as_ref().map(|r| r.until),
            recover::next_garbage(&self.garbage),
            self.updates.poll_timeout(),
            self.book
                .oldest_registering()
                .map(|at| at + self.config.executor_registration_timeout),
            self.grace_kills.first().map(|(at, _)| *at),
            self.next_limitation_check,
        ];
        for at in candidates.into_iter().flatten() {
            next = next.min(at);
        }
        next
    }

    /// Runs everything due at `now`.
    pub fn tick(&mut self, now: Instant) {
        self.last_now = now;
        self.recovery_tick(now);
        self.garbage_tick(now);
        if self.registering() {
            if let Some(action) = self.link.tick(now) {
                if !self.link.is_registered() {
                    self.updates.pause();
                }
                self.send_registration(action);
            }
        }
        for update in self.updates.due(now) {
            tracing::info!(task = %update.status.task_id, state = %update.status.state, "resending unacknowledged status update");
            self.forward_to_master(update);
        }
        if let Some(stale) = now.checked_sub(self.config.executor_registration_timeout) {
            for (framework_id, executor_id) in self.book.registering_since(stale) {
                tracing::warn!(%framework_id, %executor_id, "executor did not register in time; killing it");
                // Mesos (`registerExecutorTimeout`): TASK_FAILED, whichever executor it was.
                self.book.set_termination(
                    &framework_id,
                    &executor_id,
                    crate::state::Termination {
                        reason: mesos::Reason::ExecutorRegistrationTimeout,
                        state: Some(mesos::TaskState::Failed),
                        message: None,
                    },
                );
                self.shutdown_executor(now, &framework_id, &executor_id, false);
            }
        }
        while let Some((at, container_id)) = self.grace_kills.first().cloned() {
            if at > now {
                break;
            }
            self.grace_kills.pop_first();
            self.destroy_container(&container_id);
        }
        if self.next_limitation_check.is_some_and(|at| at <= now) {
            self.next_limitation_check = None;
            let live: Vec<ContainerId> = self
                .containers
                .iter()
                .filter(|(_, c)| c.os_pid.is_some() && !c.limited)
                .map(|(id, _)| id.clone())
                .collect();
            if !live.is_empty() {
                self.outbox.push(Output::CheckLimitations(live));
            }
        }
        self.arm_limitation_watch(now);
    }

    /// Whether the agent talks to the master: not while recovering, never with
    /// `--recover=cleanup`.
    fn registering(&self) -> bool {
        self.recovering.is_none() && self.recover_mode == RecoverMode::Reconnect
    }

    /// Polls live containers again in [`LIMITATION_POLL_INTERVAL`] (if the isolator can report
    /// limitations and there is any).
    fn arm_limitation_watch(&mut self, now: Instant) {
        if self.config.watch_limitations
            && self.next_limitation_check.is_none()
            && self
                .containers
                .values()
                .any(|c| c.os_pid.is_some() && !c.limited)
        {
            self.next_limitation_check = Some(now + LIMITATION_POLL_INTERVAL);
        }
    }

    // ---- helpers ----

    /// A fresh uuid: the seed and a counter (no randomness in the core).
    fn make_uuid(&mut self) -> Uuid {
        self.next_uuid += 1;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.config.seed.to_le_bytes());
        // Big-endian: byte 8 (whose top bits the variant overwrites) stays the counter's top byte,
        // always zero, so no two counters map to one uuid.
        bytes[8..].copy_from_slice(&self.next_uuid.to_be_bytes());
        Uuid::v4_from(bytes)
    }

    fn agent_id_or_default(&self) -> AgentId {
        self.link.agent_id().cloned().unwrap_or_default()
    }

    fn send_master(&mut self, message: impl Into<ToMaster>) {
        self.outbox.push(Output::Master {
            to: self.master.clone(),
            message: message.into(),
        });
    }

    fn send_executor(&mut self, to: &ExecutorEndpoint, message: impl Into<ToExecutor>) {
        self.outbox.push(Output::Executor {
            to: to.clone(),
            message: message.into(),
        });
    }

    /// Whether `from` is the master this agent follows (a master signing with a wildcard address
    /// counts); other senders of master messages are ignored.
    fn is_master(&self, from: &Upid, what: &str) -> bool {
        if same_process(from, &self.master) {
            return true;
        }
        tracing::warn!(%from, message = what, "ignoring a master message from a process that is not our master");
        false
    }
}

/// Whether `a` and `b` name the same process. A master listening on a wildcard address (0.0.0.0)
/// signs its messages with it while agents reach it through a concrete IP: that counts as the same.
pub fn same_process(a: &Upid, b: &Upid) -> bool {
    a.id() == b.id()
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

#[cfg(test)]
mod tests;
