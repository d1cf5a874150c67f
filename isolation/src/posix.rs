//! The POSIX isolator: no enforcement; usage summed over the executor's session from `/proc`.

use std::collections::HashMap;

use mesos::{ContainerId, Resources};

use crate::statistics::wall_clock;
use crate::{
    cpus_and_mem_bytes, ContainerConfig, Isolator, IsolatorError, LaunchInfo, RecoveredContainer,
    ResourceStatistics,
};

#[derive(Debug, Clone)]
struct PosixContainer {
    resources: Resources,
    pid: Option<u32>,
}

/// The POSIX isolator (`posix/cpu,posix/mem`): limits are only reported, usage comes from `/proc`.
#[derive(Debug, Default)]
pub struct PosixIsolator {
    containers: HashMap<ContainerId, PosixContainer>,
}

impl PosixIsolator {
    /// A POSIX isolator with no containers.
    pub fn new() -> PosixIsolator {
        PosixIsolator::default()
    }

    /// The pid the container's executor runs as (its session id), once isolated.
    pub fn pid(&self, container_id: &ContainerId) -> Option<u32> {
        self.containers.get(container_id).and_then(|c| c.pid)
    }
}

/// Usage of every process in session `session` (the executor calls `setsid`, so its pid is the
/// session id of its whole tree, tasks included).
///
/// # Errors
/// [`IsolatorError::Proc`] when `/proc` cannot be listed.
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
    stats.timestamp = wall_clock();
    Ok(stats)
}

impl Isolator for PosixIsolator {
    fn name(&self) -> &str {
        "posix/cpu,posix/mem"
    }

    fn prepare(&mut self, config: &ContainerConfig) -> Result<LaunchInfo, IsolatorError> {
        self.containers.insert(
            config.container_id.clone(),
            PosixContainer {
                resources: config.resources.clone(),
                pid: None,
            },
        );
        Ok(LaunchInfo::default())
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
        (stats.cpus_limit, stats.mem_limit_bytes) = cpus_and_mem_bytes(&container.resources);
        Ok(stats)
    }

    fn recover(&mut self, containers: &[RecoveredContainer]) -> Result<(), IsolatorError> {
        // Nothing is set up outside the process itself: just remember what to report usage for.
        for container in containers {
            self.containers.insert(
                container.container_id.clone(),
                PosixContainer {
                    resources: container.resources.clone(),
                    pid: Some(container.pid),
                },
            );
        }
        Ok(())
    }

    fn cleanup(&mut self, container_id: &ContainerId) -> Result<(), IsolatorError> {
        self.containers.remove(container_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn posix_usage_sums_the_session_and_reports_limits() {
        let mut isolator = PosixIsolator::new();
        let id = ContainerId::new("c1");
        let launch = isolator
            .prepare(&ContainerConfig {
                container_id: id.clone(),
                directory: PathBuf::from("/tmp"),
                resources: "cpus:0.5;mem:64".parse().unwrap(),
            })
            .unwrap();
        assert_eq!(launch, LaunchInfo::default());
        // Our own session: this test process is in it, so usage is non-zero.
        let session = nix::unistd::getsid(None).unwrap().as_raw() as u32;
        isolator.isolate(&id, session).unwrap();
        let stats = isolator.usage(&id).unwrap();
        assert_eq!(stats.cpus_limit, 0.5);
        assert_eq!(stats.mem_limit_bytes, 64 * 1024 * 1024);
        assert!(stats.processes >= 1);
        assert!(stats.mem_rss_bytes > 0);
        assert!(stats.timestamp > 0.0);
        assert_eq!(isolator.limitation(&id), None);
        isolator.cleanup(&id).unwrap();
        assert!(matches!(
            isolator.usage(&id),
            Err(IsolatorError::UnknownContainer(_))
        ));
    }
}
