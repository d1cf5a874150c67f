//! The [`Isolator`] seam and the POSIX isolator.
//!
//! An isolator prepares a container before its executor starts, takes the executor's pid once it runs,
//! follows resource changes, reports usage and cleans up. The POSIX one enforces nothing: each executor
//! runs in its own session (so its whole process tree can be found and killed) and usage is read from
//! `/proc`. cgroups and namespaces isolators come later behind the same trait.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use mesos::{ContainerId, Resources};
use serde::Serialize;

/// Why an isolator operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IsolatorError {
    /// The container is not known to the isolator.
    #[error("unknown container {0}")]
    UnknownContainer(ContainerId),
    /// Reading usage from /proc failed.
    #[error("cannot read process usage: {0}")]
    Proc(String),
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

/// Usage of one container, as Mesos's `ResourceStatistics` (JSON field names as Mesos).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ResourceStatistics {
    /// When measured, seconds since the Unix epoch.
    pub timestamp: f64,
    /// User CPU time of the whole process tree.
    pub cpus_user_time_secs: f64,
    /// System CPU time of the whole process tree.
    pub cpus_system_time_secs: f64,
    /// The container's cpus.
    pub cpus_limit: f64,
    /// Resident memory of the whole process tree.
    pub mem_rss_bytes: u64,
    /// The container's memory.
    pub mem_limit_bytes: u64,
    /// Processes in the container.
    pub processes: u32,
}

/// Isolates executors: the seam between the agent and cgroups, namespaces, or plain POSIX.
pub trait Isolator: Send + 'static {
    /// The isolator's name as in the `--isolation` flag (`posix/cpu,posix/mem`).
    fn name(&self) -> &'static str;

    /// Before the executor starts.
    ///
    /// # Errors
    /// When the container cannot be isolated.
    fn prepare(&mut self, config: &ContainerConfig) -> Result<(), IsolatorError>;

    /// The executor started as `pid`.
    ///
    /// # Errors
    /// When the process cannot be placed in the container.
    fn isolate(&mut self, container_id: &ContainerId, pid: u32) -> Result<(), IsolatorError>;

    /// The container's resources changed (tasks came or went).
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

    /// The container is gone; release what was set up for it.
    ///
    /// # Errors
    /// When cleanup fails (the container is forgotten anyway).
    fn cleanup(&mut self, container_id: &ContainerId) -> Result<(), IsolatorError>;
}

#[derive(Debug, Clone)]
struct PosixContainer {
    resources: Resources,
    pid: Option<u32>,
}

/// The POSIX isolator: no enforcement; usage summed over the executor's session from `/proc`.
#[derive(Debug, Default)]
pub struct PosixIsolator {
    containers: HashMap<ContainerId, PosixContainer>,
}

impl PosixIsolator {
    /// A POSIX isolator with no containers.
    pub fn new() -> PosixIsolator {
        PosixIsolator::default()
    }
}

/// Usage of every process in session `session` (the executor calls `setsid`, so its pid is the
/// session id of its whole tree, tasks included).
pub fn session_usage(session: u32) -> Result<ResourceStatistics, IsolatorError> {
    let ticks = procfs::ticks_per_second() as f64;
    let page = procfs::page_size();
    let mut stats = ResourceStatistics::default();
    let processes =
        procfs::process::all_processes().map_err(|e| IsolatorError::Proc(e.to_string()))?;
    for process in processes.flatten() {
        // Processes can exit while we read: skip those.
        let Ok(stat) = process.stat() else { continue };
        if u32::try_from(stat.session).ok() != Some(session) {
            continue;
        }
        stats.cpus_user_time_secs += stat.utime as f64 / ticks;
        stats.cpus_system_time_secs += stat.stime as f64 / ticks;
        stats.mem_rss_bytes += stat.rss * page;
        stats.processes += 1;
    }
    stats.timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    Ok(stats)
}

impl Isolator for PosixIsolator {
    fn name(&self) -> &'static str {
        "posix/cpu,posix/mem"
    }

    fn prepare(&mut self, config: &ContainerConfig) -> Result<(), IsolatorError> {
        self.containers.insert(
            config.container_id.clone(),
            PosixContainer {
                resources: config.resources.clone(),
                pid: None,
            },
        );
        Ok(())
    }

    fn isolate(&mut self, container_id: &ContainerId, pid: u32) -> Result<(), IsolatorError> {
        let container = self
            .containers
            .get_mut(container_id)
            .ok_or_else(|| IsolatorError::UnknownContainer(container_id.clone()))?;
        container.pid = Some(pid);
        Ok(())
    }

    fn update(
        &mut self,
        container_id: &ContainerId,
        resources: &Resources,
    ) -> Result<(), IsolatorError> {
        let container = self
            .containers
            .get_mut(container_id)
            .ok_or_else(|| IsolatorError::UnknownContainer(container_id.clone()))?;
        container.resources = resources.clone();
        Ok(())
    }

    fn usage(&self, container_id: &ContainerId) -> Result<ResourceStatistics, IsolatorError> {
        let container = self
            .containers
            .get(container_id)
            .ok_or_else(|| IsolatorError::UnknownContainer(container_id.clone()))?;
        let mut stats = match container.pid {
            Some(pid) => session_usage(pid)?,
            None => ResourceStatistics::default(),
        };
        stats.cpus_limit = container.resources.cpus().unwrap_or(0.0);
        stats.mem_limit_bytes = (container.resources.mem().unwrap_or(0.0) * 1024.0 * 1024.0) as u64;
        Ok(stats)
    }

    fn cleanup(&mut self, container_id: &ContainerId) -> Result<(), IsolatorError> {
        self.containers.remove(container_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_usage_sums_the_session_and_reports_limits() {
        let mut isolator = PosixIsolator::new();
        let id = ContainerId::new("c1");
        isolator
            .prepare(&ContainerConfig {
                container_id: id.clone(),
                directory: PathBuf::from("/tmp"),
                resources: "cpus:0.5;mem:64".parse().unwrap(),
            })
            .unwrap();
        // Our own session: this test process is in it, so usage is non-zero.
        let session = nix::unistd::getsid(None).unwrap().as_raw() as u32;
        isolator.isolate(&id, session).unwrap();
        let stats = isolator.usage(&id).unwrap();
        assert_eq!(stats.cpus_limit, 0.5);
        assert_eq!(stats.mem_limit_bytes, 64 * 1024 * 1024);
        assert!(stats.processes >= 1);
        assert!(stats.mem_rss_bytes > 0);
        assert!(stats.timestamp > 0.0);
        isolator.cleanup(&id).unwrap();
        assert!(matches!(
            isolator.usage(&id),
            Err(IsolatorError::UnknownContainer(_))
        ));
    }
}
