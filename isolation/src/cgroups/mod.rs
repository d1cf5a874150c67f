//! The cgroups isolator (`cgroups/cpu`, `cgroups/mem`), for cgroup v1 and v2.
//!
//! Each container gets `<agent's cgroup>/<cgroups_root>/<container id>` in every hierarchy it uses
//! (v1: `cpu`, `cpuacct`, `memory`; v2: one directory). Limits as Mesos: `cpu.shares` = 1024 × cpus,
//! at least 2 (v2: the same weight mapped onto `cpu.weight`), a CFS quota of cpus × 100 ms per
//! 100 ms period when enabled, and a memory hard limit of the container's mem, at least 32 MB.

mod files;
pub mod hierarchy;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mesos::{ContainerId, Resources};

use self::hierarchy::{locate, parse_mountinfo, parse_proc_cgroup, Located, Version};
use crate::statistics::wall_clock;
use crate::{
    cpus_and_mem_bytes, ContainerConfig, Isolator, IsolatorError, LaunchInfo, Limitation,
    RecoveredContainer, ResourceStatistics,
};

/// Mesos's `CPU_SHARES_PER_CPU`.
pub const CPU_SHARES_PER_CPU: u64 = 1024;
/// Mesos's `MIN_CPU_SHARES`.
pub const MIN_CPU_SHARES: u64 = 2;
/// Mesos's `CPU_CFS_PERIOD` (100 ms), in microseconds.
pub const CPU_CFS_PERIOD_US: u64 = 100_000;
/// Mesos's `MIN_CPU_CFS_QUOTA` (1 ms), in microseconds.
pub const MIN_CPU_CFS_QUOTA_US: u64 = 1_000;
/// Mesos's `MIN_MEMORY`: 32 MB.
pub const MIN_MEMORY_BYTES: u64 = 32 * 1024 * 1024;

/// `cpu.shares` for `cpus`.
pub fn cpu_shares(cpus: f64) -> u64 {
    ((CPU_SHARES_PER_CPU as f64 * cpus) as u64).max(MIN_CPU_SHARES)
}

/// cgroup v2 `cpu.weight` (1..=10000) for v1 `shares` (2..=262144), as systemd and runc map it.
pub fn cpu_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// The memory hard limit for `bytes`.
pub fn memory_limit(bytes: u64) -> u64 {
    bytes.max(MIN_MEMORY_BYTES)
}

/// What the cgroups isolator should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupsOptions {
    /// Limit cpu (`cgroups/cpu`).
    pub cpu: bool,
    /// Limit memory (`cgroups/mem`).
    pub mem: bool,
    /// Our cgroups' parent, under the agent's own cgroup (`--cgroups_root`).
    pub root: String,
    /// Hard cpu limit through CFS quota (`--cgroups_enable_cfs`).
    pub enable_cfs: bool,
}

/// One hierarchy we use: its version and our root in it (`<agent's cgroup>/<cgroups_root>`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hierarchy {
    version: Version,
    base: PathBuf,
}

#[derive(Debug, Clone)]
struct CgroupContainer {
    resources: Resources,
}

/// The cgroups isolator.
#[derive(Debug)]
pub struct CgroupsIsolator {
    name: String,
    options: CgroupsOptions,
    cpu: Option<Hierarchy>,
    cpuacct: Option<Hierarchy>,
    memory: Option<Hierarchy>,
    containers: HashMap<ContainerId, CgroupContainer>,
}

fn unsupported(isolator: &str, reason: impl Into<String>) -> IsolatorError {
    IsolatorError::Unsupported {
        isolator: isolator.to_string(),
        reason: reason.into(),
    }
}

impl CgroupsIsolator {
    /// Finds the hierarchies (from `/proc/self/mountinfo` and `/proc/self/cgroup`) and creates our
    /// root in each. What an earlier agent left there is dealt with by
    /// [`recover`](Isolator::recover): recovered containers are kept, the rest destroyed.
    ///
    /// # Errors
    /// [`IsolatorError::Unsupported`] naming the isolator when a controller is not mounted, or our
    /// root cannot be created (not root, read-only cgroupfs, ...).
    pub fn new(options: CgroupsOptions) -> Result<CgroupsIsolator, IsolatorError> {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map_err(|e| unsupported("cgroups", format!("cannot read {path}: {e}")))
        };
        let mounts = parse_mountinfo(&read("/proc/self/mountinfo")?);
        let memberships = parse_proc_cgroup(&read("/proc/self/cgroup")?);
        let v2_controllers = |dir: &Path| -> Vec<String> {
            std::fs::read_to_string(dir.join("cgroup.controllers"))
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect()
        };
        let find = |isolator: &str, controller: &str| -> Result<Hierarchy, IsolatorError> {
            let Located { version, agent_dir } =
                locate(controller, &mounts, &memberships, v2_controllers).ok_or_else(|| {
                    unsupported(
                        isolator,
                        format!("the '{controller}' controller is mounted neither as cgroup v1 nor in cgroup v2"),
                    )
                })?;
            let base = agent_dir.join(&options.root);
            if version == Version::V2 {
                enable_v2_controller(&agent_dir, &base, controller)
                    .map_err(|reason| unsupported(isolator, reason))?;
            }
            std::fs::create_dir_all(&base).map_err(|e| {
                unsupported(
                    isolator,
                    format!("cannot create {}: {e} (the agent must run as root with a writable cgroup filesystem)", base.display()),
                )
            })?;
            // The root may already exist (an earlier agent made it): only doing what a container
            // needs proves we can.
            probe(version, &base, controller, options.enable_cfs)
                .map_err(|reason| unsupported(isolator, reason))?;
            Ok(Hierarchy { version, base })
        };
        let mut names = Vec::new();
        let (mut cpu, mut cpuacct, mut memory) = (None, None, None);
        if options.cpu {
            let found = find("cgroups/cpu", "cpu")?;
            cpuacct = Some(match found.version {
                Version::V1 => find("cgroups/cpu", "cpuacct")?,
                Version::V2 => found.clone(),
            });
            cpu = Some(found);
            names.push("cgroups/cpu");
        }
        if options.mem {
            memory = Some(find("cgroups/mem", "memory")?);
            names.push("cgroups/mem");
        }
        Ok(CgroupsIsolator {
            name: names.join(","),
            options,
            cpu,
            cpuacct,
            memory,
            containers: HashMap::new(),
        })
    }

    fn hierarchies(&self) -> Vec<&Hierarchy> {
        let mut all: Vec<&Hierarchy> = Vec::new();
        for h in [&self.cpu, &self.cpuacct, &self.memory]
            .into_iter()
            .flatten()
        {
            if !all.iter().any(|seen| seen.base == h.base) {
                all.push(h);
            }
        }
        all
    }

    /// Our root in each hierarchy (`<agent's cgroup>/<cgroups_root>`).
    pub fn roots(&self) -> Vec<PathBuf> {
        self.hierarchies().iter().map(|h| h.base.clone()).collect()
    }

    /// The container's cgroup directories (one per hierarchy).
    pub fn container_dirs(&self, container_id: &ContainerId) -> Vec<PathBuf> {
        self.hierarchies()
            .iter()
            .map(|h| h.base.join(container_id.as_str()))
            .collect()
    }

    /// Whatever is under our roots and not in `keep` is an orphan: its processes are killed and
    /// its cgroups removed.
    fn remove_orphans(&self, keep: &[&str]) {
        for hierarchy in self.hierarchies() {
            for orphan in files::children(&hierarchy.base) {
                let name = orphan.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if keep.contains(&name) {
                    continue;
                }
                match files::destroy(&orphan) {
                    Ok(()) => {
                        tracing::info!(cgroup = %orphan.display(), "removed orphan container cgroup")
                    }
                    Err(err) => tracing::warn!(%err, "cannot remove orphan container cgroup"),
                }
            }
        }
    }

    fn dir(hierarchy: &Option<Hierarchy>, id: &ContainerId) -> Option<(Version, PathBuf)> {
        hierarchy
            .as_ref()
            .map(|h| (h.version, h.base.join(id.as_str())))
    }

    fn apply(&self, id: &ContainerId, resources: &Resources) -> Result<(), IsolatorError> {
        let (cpus, mem) = cpus_and_mem_bytes(resources);
        if let Some((version, dir)) = Self::dir(&self.cpu, id) {
            let shares = cpu_shares(cpus);
            let quota = ((cpus * CPU_CFS_PERIOD_US as f64) as u64).max(MIN_CPU_CFS_QUOTA_US);
            match version {
                Version::V1 => {
                    files::write(&dir, "cpu.shares", &shares.to_string())?;
                    if self.options.enable_cfs {
                        files::write(&dir, "cpu.cfs_period_us", &CPU_CFS_PERIOD_US.to_string())?;
                        files::write(&dir, "cpu.cfs_quota_us", &quota.to_string())?;
                    }
                }
                Version::V2 => {
                    files::write(&dir, "cpu.weight", &cpu_weight(shares).to_string())?;
                    let max = if self.options.enable_cfs {
                        format!("{quota} {CPU_CFS_PERIOD_US}")
                    } else {
                        format!("max {CPU_CFS_PERIOD_US}")
                    };
                    files::write(&dir, "cpu.max", &max)?;
                }
            }
        }
        if let Some((version, dir)) = Self::dir(&self.memory, id) {
            let wanted = memory_limit(mem);
            if let Some(current) = enforced_memory_limit(version, &dir) {
                let usage = memory_usage(version, &dir).unwrap_or(0);
                if wanted < current && wanted < usage {
                    // Lowering the hard limit below what is in use would make the kernel reclaim
                    // or OOM-kill (v2) or refuse (v1, EBUSY): keep it until usage drops, as Mesos.
                    tracing::info!(
                        cgroup = %dir.display(),
                        wanted,
                        usage,
                        "not lowering the memory limit below current usage"
                    );
                    return Ok(());
                }
            }
            let limit = wanted.to_string();
            match version {
                Version::V1 => {
                    // memsw (memory + swap) must stay >= the memory limit: raise it first when
                    // growing, lower it last when shrinking. Absent without swap accounting.
                    let memsw = dir.join("memory.memsw.limit_in_bytes").exists();
                    if memsw {
                        let _ = files::write(&dir, "memory.memsw.limit_in_bytes", &limit);
                    }
                    files::write(&dir, "memory.limit_in_bytes", &limit)?;
                    if memsw {
                        let _ = files::write(&dir, "memory.memsw.limit_in_bytes", &limit);
                    }
                }
                Version::V2 => {
                    files::write(&dir, "memory.max", &limit)?;
                    if dir.join("memory.swap.max").exists() {
                        let _ = files::write(&dir, "memory.swap.max", "0");
                    }
                }
            }
        }
        Ok(())
    }

    fn container(&self, id: &ContainerId) -> Result<&CgroupContainer, IsolatorError> {
        self.containers
            .get(id)
            .ok_or_else(|| IsolatorError::UnknownContainer(id.clone()))
    }
}

/// The hard memory limit the kernel enforces on `dir` (`memory.limit_in_bytes`, `memory.max`); None
/// when unreadable or unlimited (v2 `max`).
fn enforced_memory_limit(version: Version, dir: &Path) -> Option<u64> {
    let file = match version {
        Version::V1 => "memory.limit_in_bytes",
        Version::V2 => "memory.max",
    };
    files::read_u64(dir, file).ok()
}

/// What `dir` uses now (`memory.usage_in_bytes`, `memory.current`).
fn memory_usage(version: Version, dir: &Path) -> Option<u64> {
    let file = match version {
        Version::V1 => "memory.usage_in_bytes",
        Version::V2 => "memory.current",
    };
    files::read_u64(dir, file).ok()
}

/// The control files a container's cgroup in `controller`'s hierarchy gets written, with values
/// that are valid in a fresh cgroup.
fn control_files(
    version: Version,
    controller: &str,
    enable_cfs: bool,
) -> Vec<(&'static str, &'static str)> {
    match (version, controller) {
        (Version::V1, "cpu") if enable_cfs => vec![
            ("cpu.shares", "1024"),
            ("cpu.cfs_period_us", "100000"),
            ("cpu.cfs_quota_us", "-1"),
        ],
        (Version::V1, "cpu") => vec![("cpu.shares", "1024")],
        (Version::V1, "memory") => vec![("memory.limit_in_bytes", "-1")],
        (Version::V2, "cpu") => vec![("cpu.weight", "100"), ("cpu.max", "max 100000")],
        (Version::V2, "memory") => vec![("memory.max", "max")],
        _ => Vec::new(),
    }
}

/// Checks that the agent can do under `base` what it will do for every container: create a
/// cgroup, write its control files, open its `cgroup.procs` to move a process in, and remove it.
/// The probe cgroup is removed again whatever happens.
///
/// # Errors
/// What failed, naming the path.
fn probe(version: Version, base: &Path, controller: &str, enable_cfs: bool) -> Result<(), String> {
    let dir = base.join(format!("mesos-probe-{}", std::process::id()));
    let hint = "(the agent must run as root with a writable cgroup filesystem)";
    // A probe left by a killed agent with the same pid would make create_dir fail for no reason.
    let _ = std::fs::remove_dir(&dir);
    std::fs::create_dir(&dir).map_err(|e| {
        format!(
            "cannot create a cgroup under {}: {e} {hint}",
            base.display()
        )
    })?;
    let checked = (|| {
        for (file, value) in control_files(version, controller, enable_cfs) {
            let path = dir.join(file);
            std::fs::write(&path, value)
                .map_err(|e| format!("cannot write {}: {e} {hint}", path.display()))?;
        }
        let procs = dir.join("cgroup.procs");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&procs)
            .map(drop)
            .map_err(|e| format!("cannot open {} for writing: {e} {hint}", procs.display()))
    })();
    let removed = std::fs::remove_dir(&dir)
        .map_err(|e| format!("cannot remove the probe cgroup {}: {e}", dir.display()));
    checked.and(removed)
}

/// cgroup v2 only gives a controller to children whose parent enables it in
/// `cgroup.subtree_control`: enable it from the agent's cgroup down to our root.
fn enable_v2_controller(agent_dir: &Path, base: &Path, controller: &str) -> Result<(), String> {
    let enable = |dir: &Path| {
        std::fs::write(dir.join("cgroup.subtree_control"), format!("+{controller}")).map_err(|e| {
            format!(
                "cannot enable '{controller}' in {}/cgroup.subtree_control: {e} (cgroup v2 allows it only in a cgroup without processes of its own: start the agent in its own leaf cgroup's parent, e.g. a systemd service with Delegate=yes)",
                dir.display()
            )
        })
    };
    enable(agent_dir)?;
    std::fs::create_dir_all(base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
    enable(base)
}

impl Isolator for CgroupsIsolator {
    fn name(&self) -> &str {
        &self.name
    }

    fn prepare(&mut self, config: &ContainerConfig) -> Result<LaunchInfo, IsolatorError> {
        let dirs = self.container_dirs(&config.container_id);
        for dir in &dirs {
            std::fs::create_dir_all(dir).map_err(|source| IsolatorError::Cgroup {
                path: dir.clone(),
                source,
            })?;
        }
        if let Err(err) = self.apply(&config.container_id, &config.resources) {
            for dir in &dirs {
                let _ = files::destroy(dir);
            }
            return Err(err);
        }
        self.containers.insert(
            config.container_id.clone(),
            CgroupContainer {
                resources: config.resources.clone(),
            },
        );
        Ok(LaunchInfo {
            cgroups: dirs,
            ..LaunchInfo::default()
        })
    }

    fn isolate(&mut self, container_id: &ContainerId, pid: u32) -> Result<(), IsolatorError> {
        self.container(container_id)?;
        for dir in self.container_dirs(container_id) {
            files::write(&dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    fn update(
        &mut self,
        container_id: &ContainerId,
        resources: &Resources,
    ) -> Result<(), IsolatorError> {
        self.container(container_id)?;
        self.apply(container_id, resources)?;
        if let Some(container) = self.containers.get_mut(container_id) {
            container.resources = resources.clone();
        }
        Ok(())
    }

    fn usage(&self, container_id: &ContainerId) -> Result<ResourceStatistics, IsolatorError> {
        let container = self.container(container_id)?;
        let mut stats = ResourceStatistics {
            timestamp: wall_clock(),
            ..ResourceStatistics::default()
        };
        (stats.cpus_limit, stats.mem_limit_bytes) = cpus_and_mem_bytes(&container.resources);
        if let Some((version, dir)) = Self::dir(&self.cpuacct, container_id) {
            match version {
                Version::V1 => {
                    let text = files::read(&dir, "cpuacct.stat")?;
                    let ticks = procfs::ticks_per_second() as f64;
                    stats.cpus_user_time_secs =
                        files::keyed(&text, "user").unwrap_or(0) as f64 / ticks;
                    stats.cpus_system_time_secs =
                        files::keyed(&text, "system").unwrap_or(0) as f64 / ticks;
                }
                Version::V2 => {
                    let text = files::read(&dir, "cpu.stat")?;
                    stats.cpus_user_time_secs =
                        files::keyed(&text, "user_usec").unwrap_or(0) as f64 / 1e6;
                    stats.cpus_system_time_secs =
                        files::keyed(&text, "system_usec").unwrap_or(0) as f64 / 1e6;
                }
            }
        }
        if let Some((version, dir)) = Self::dir(&self.cpu, container_id) {
            let text = files::read(&dir, "cpu.stat")?;
            stats.cpus_nr_periods = files::keyed(&text, "nr_periods");
            stats.cpus_nr_throttled = files::keyed(&text, "nr_throttled");
            stats.cpus_throttled_time_secs = match version {
                Version::V1 => files::keyed(&text, "throttled_time").map(|ns| ns as f64 / 1e9),
                Version::V2 => files::keyed(&text, "throttled_usec").map(|us| us as f64 / 1e6),
            };
            stats.processes = files::pids(&dir).len() as u32;
        }
        if let Some((version, dir)) = Self::dir(&self.memory, container_id) {
            let text = files::read(&dir, "memory.stat")?;
            match version {
                Version::V1 => {
                    stats.mem_rss_bytes = files::keyed(&text, "total_rss")
                        .or_else(|| files::keyed(&text, "rss"))
                        .unwrap_or(0);
                    stats.mem_max_usage_bytes =
                        files::read_u64(&dir, "memory.max_usage_in_bytes").ok();
                }
                Version::V2 => {
                    stats.mem_rss_bytes = files::keyed(&text, "anon").unwrap_or(0);
                    stats.mem_max_usage_bytes = files::read_u64(&dir, "memory.peak").ok();
                }
            }
            stats.processes = files::pids(&dir).len() as u32;
            // What the kernel enforces, not what was asked for (the 32 MB floor, a shrink deferred
            // while usage was higher).
            if let Some(limit) = enforced_memory_limit(version, &dir) {
                stats.mem_limit_bytes = limit;
            }
        }
        Ok(stats)
    }

    fn limitation(&self, container_id: &ContainerId) -> Option<Limitation> {
        let container = self.containers.get(container_id)?;
        let (version, dir) = Self::dir(&self.memory, container_id)?;
        let (file, max_usage_file) = match version {
            Version::V1 => ("memory.oom_control", "memory.max_usage_in_bytes"),
            Version::V2 => ("memory.events", "memory.peak"),
        };
        // The kernel counts OOM kills here (memory.failcnt is not reliable for this).
        let ooms = files::keyed(&files::read(&dir, file).ok()?, "oom_kill")?;
        if ooms == 0 {
            return None;
        }
        let (_, mem) = cpus_and_mem_bytes(&container.resources);
        let limit = enforced_memory_limit(version, &dir).unwrap_or(memory_limit(mem));
        let used = files::read_u64(&dir, max_usage_file).unwrap_or(limit);
        let mb = |bytes: u64| bytes / (1024 * 1024);
        Some(Limitation {
            resource: "mem",
            message: format!(
                "Memory limit exceeded: Requested: {}MB Maximum Used: {}MB",
                mb(limit),
                mb(used)
            ),
        })
    }

    fn watches_limitations(&self) -> bool {
        self.memory.is_some()
    }

    fn recover(&mut self, containers: &[RecoveredContainer]) -> Result<(), IsolatorError> {
        let mut kept = Vec::new();
        for container in containers {
            let dirs = self.container_dirs(&container.container_id);
            if dirs.iter().all(|d| d.is_dir()) {
                self.containers.insert(
                    container.container_id.clone(),
                    CgroupContainer {
                        resources: container.resources.clone(),
                    },
                );
                kept.push(container.container_id.as_str());
            } else {
                // Its cgroups are gone (another agent cleaned them?): it runs unaccounted, which
                // must not be: treat it as an orphan.
                tracing::warn!(container_id = %container.container_id, "a recovered container has no cgroups; destroying it");
            }
        }
        self.remove_orphans(&kept);
        Ok(())
    }

    fn cleanup(&mut self, container_id: &ContainerId) -> Result<(), IsolatorError> {
        self.containers.remove(container_id);
        let mut result = Ok(());
        for dir in self.container_dirs(container_id) {
            if let Err(err) = files::destroy(&dir) {
                result = Err(err);
            }
        }
        result
    }
}

impl Drop for CgroupsIsolator {
    /// An isolator dropped while its agent runs on (tests, an embedded agent stopped) takes down
    /// what is still running rather than leave it for the next agent's orphan cleanup. (An agent
    /// that crashes or is killed drops nothing: its containers wait for a restarted agent.)
    fn drop(&mut self) {
        let ids: Vec<ContainerId> = self.containers.keys().cloned().collect();
        for id in ids {
            if let Err(err) = self.cleanup(&id) {
                tracing::warn!(%err, "cannot remove container cgroup");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_mesos() {
        assert_eq!(cpu_shares(1.0), 1024);
        assert_eq!(cpu_shares(0.5), 512);
        assert_eq!(cpu_shares(0.0), MIN_CPU_SHARES);
        assert_eq!(cpu_weight(2), 1);
        assert_eq!(cpu_weight(262_144), 10_000);
        assert_eq!(cpu_weight(1024), 39);
        assert_eq!(memory_limit(1), MIN_MEMORY_BYTES);
        assert_eq!(memory_limit(64 << 20), 64 << 20);
    }
}
