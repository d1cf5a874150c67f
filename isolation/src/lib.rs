//! Isolators for the Mesos agent: what keeps one framework's tasks from starving another's.
//!
//! An [`Isolator`] prepares a container before its executor starts (and says how the executor must
//! be launched: [`LaunchInfo`]), takes the executor's pid, follows resource changes as tasks come and
//! go, reports usage, tells whether the kernel enforced a limit ([`Limitation`], e.g. an OOM kill) and
//! cleans up. [`build`] turns the agent's `--isolation` flag into one isolator, checking at once that
//! the host can do what was asked:
//!
//! | `--isolation` | what it does |
//! |---|---|
//! | `posix/cpu,posix/mem` (default) | nothing enforced; usage summed over the executor's session from `/proc` |
//! | `cgroups/cpu` | `cpu.shares` = 1024 × cpus (cgroup v2: the equivalent `cpu.weight`); CFS quota with `--cgroups_enable_cfs` |
//! | `cgroups/mem` | memory hard limit = the container's mem (at least 32 MB); OOM kills reported as limitations |
//! | `namespaces/pid` | the executor runs as pid 1 of a new pid namespace, with a private mount namespace and its own `/proc` |
//! | `linux/capabilities` | every capability dropped (bounding set included); tasks run as the framework's user, or `nobody` |
//!
//! ```no_run
//! use isolation::{build, IsolationFlags};
//!
//! let flags = IsolationFlags {
//!     isolation: "cgroups/cpu,cgroups/mem,namespaces/pid".into(),
//!     ..IsolationFlags::default()
//! };
//! // Fails at once (naming the isolator and why) on an unprivileged or unsupported host.
//! let isolator = build(&flags)?;
//! println!("isolating with {}", isolator.name());
//! # Ok::<(), isolation::IsolatorError>(())
//! ```
#![deny(missing_docs)]

pub mod capabilities;
pub mod cgroups;
mod composite;
pub mod launch;
pub mod posix;
mod select;
mod statistics;

use std::path::PathBuf;

use mesos::{ContainerId, Resources};

pub use crate::cgroups::CgroupsIsolator;
pub use crate::launch::LaunchInfo;
pub use crate::posix::{session_usage, PosixIsolator};
pub use crate::select::{build, IsolationFlags, DEFAULT_ISOLATION};
pub use crate::statistics::ResourceStatistics;

/// Why an isolator operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IsolatorError {
    /// The container is not known to the isolator.
    #[error("unknown container {0}")]
    UnknownContainer(ContainerId),
    /// Reading usage from /proc failed.
    #[error("cannot read process usage: {0}")]
    Proc(String),
    /// `--isolation` names an isolator we do not have.
    #[error("--isolation: unknown isolator '{0}' (use posix/cpu, posix/mem, cgroups/cpu, cgroups/mem, namespaces/pid, linux/capabilities)")]
    UnknownIsolator(String),
    /// The host cannot run this isolator (unprivileged, controller not mounted, ...).
    #[error("isolator {isolator} cannot work on this host: {reason}")]
    Unsupported {
        /// The isolator, as in `--isolation`.
        isolator: String,
        /// Why.
        reason: String,
    },
    /// A cgroup file could not be read or written.
    #[error("cgroup {path}: {source}")]
    Cgroup {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What an isolator needs to prepare a container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerConfig {
    /// The container.
    pub container_id: ContainerId,
    /// Its sandbox.
    pub directory: PathBuf,
    /// Its resources (executor and tasks).
    pub resources: Resources,
}

/// A container a restarted agent keeps (its executor survived the agent): see
/// [`Isolator::recover`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredContainer {
    /// The container.
    pub container_id: ContainerId,
    /// Its executor's OS pid (its session id).
    pub pid: u32,
    /// Its resources (executor and live tasks).
    pub resources: Resources,
}

/// A limit the kernel enforced on a container (Mesos's `ContainerLimitation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limitation {
    /// Which resource: `mem` for an OOM kill.
    pub resource: &'static str,
    /// For the task's status: "Memory limit exceeded: Requested: 64MB Maximum Used: 64MB".
    pub message: String,
}

/// Isolates executors: the seam between the agent and cgroups, namespaces, or plain POSIX.
pub trait Isolator: Send + 'static {
    /// The isolators in use, as in the `--isolation` flag (`posix/cpu,posix/mem`).
    fn name(&self) -> &str;

    /// Before the executor starts: set up the container and say how to launch into it.
    ///
    /// # Errors
    /// When the container cannot be isolated.
    fn prepare(&mut self, config: &ContainerConfig) -> Result<LaunchInfo, IsolatorError>;

    /// The executor started as `pid` (already placed in the container by [`LaunchInfo`] when the
    /// isolator asked; placing it again is harmless).
    ///
    /// # Errors
    /// When the process cannot be placed in the container.
    fn isolate(&mut self, container_id: &ContainerId, pid: u32) -> Result<(), IsolatorError>;

    /// The container's resources changed (tasks came or went): limits grow or shrink.
    ///
    /// # Errors
    /// When the new limits cannot be applied.
    fn update(
        &mut self,
        container_id: &ContainerId,
        resources: &Resources,
    ) -> Result<(), IsolatorError>;

    /// Current usage.
    ///
    /// # Errors
    /// For unknown containers or unreadable process information.
    fn usage(&self, container_id: &ContainerId) -> Result<ResourceStatistics, IsolatorError>;

    /// Whether the kernel enforced a limit on the container (the watch for limitations). Cheap: the
    /// agent polls it on its timer for every live container while
    /// [`watches_limitations`](Isolator::watches_limitations), and asks again when a task or
    /// executor of the container ends, before [`cleanup`](Isolator::cleanup).
    fn limitation(&self, container_id: &ContainerId) -> Option<Limitation> {
        let _ = container_id;
        None
    }

    /// Whether [`limitation`](Isolator::limitation) can ever report anything (so the agent need not
    /// poll isolators that enforce nothing).
    fn watches_limitations(&self) -> bool {
        false
    }

    /// After an agent restart, before anything else: `containers` are the ones the agent
    /// recovered (their executors still run): they keep their isolation. Every other container
    /// the isolator finds (left by an earlier agent, nobody will recover it) is destroyed.
    ///
    /// # Errors
    /// When a kept container cannot be taken back (it is then cleaned up like any other).
    fn recover(&mut self, containers: &[RecoveredContainer]) -> Result<(), IsolatorError>;

    /// The container is gone; kill what is left in it and release what was set up for it.
    ///
    /// # Errors
    /// When cleanup fails (the container is forgotten anyway).
    fn cleanup(&mut self, container_id: &ContainerId) -> Result<(), IsolatorError>;
}

/// The executor's cpus and memory in `resources` (missing ones are 0).
pub(crate) fn cpus_and_mem_bytes(resources: &Resources) -> (f64, u64) {
    let cpus = resources.cpus().unwrap_or(0.0);
    let mem = (resources.mem().unwrap_or(0.0) * 1024.0 * 1024.0) as u64;
    (cpus, mem)
}
