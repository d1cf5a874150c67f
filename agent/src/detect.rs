//! Detecting the agent's resources when `--resources` does not give them (as Mesos does).

use std::path::Path;

use mesos::{Resources, ResourcesError};
use procfs::Current;

/// Mesos's default port range offered when `--resources` names no ports.
pub const DEFAULT_PORTS: &str = "ports:[31000-32000]";

const MB: f64 = 1024.0 * 1024.0;

/// Memory to offer out of `total_mb`: all but 1 GB, or half when there are less than 2 GB (Mesos
/// leaves this much for the OS and the agent).
pub fn offerable_mem_mb(total_mb: f64) -> f64 {
    if total_mb >= 2048.0 {
        total_mb - 1024.0
    } else {
        total_mb / 2.0
    }
}

/// Disk to offer out of `total_mb` of the work_dir's file system: all but 5 GB, or half when there are
/// less than 10 GB.
pub fn offerable_disk_mb(total_mb: f64) -> f64 {
    if total_mb >= 10240.0 {
        total_mb - 5120.0
    } else {
        total_mb / 2.0
    }
}

/// The agent's total resources: `flag` (`--resources`) where given, the rest detected — cpus from
/// /proc/cpuinfo, mem from /proc/meminfo, disk from the work_dir's file system, ports 31000-32000.
///
/// # Errors
/// A malformed `flag`.
pub fn agent_resources(flag: Option<&str>, work_dir: &Path) -> Result<Resources, ResourcesError> {
    let given: Resources = match flag {
        Some(text) if !text.trim().is_empty() => text.parse()?,
        _ => Resources::new(),
    };
    let mut total = given.clone();
    if given.cpus().is_none() {
        let cpus = procfs::CpuInfo::current()
            .map(|info| info.num_cores())
            .unwrap_or_else(|_| std::thread::available_parallelism().map_or(1, |n| n.get()));
        total += &format!("cpus:{cpus}").parse::<Resources>()?;
    }
    if given.mem().is_none() {
        if let Ok(info) = procfs::Meminfo::current() {
            let mem = offerable_mem_mb(info.mem_total as f64 / MB).floor();
            total += &format!("mem:{mem}").parse::<Resources>()?;
        }
    }
    if given.disk().is_none() {
        let probe = existing_ancestor(work_dir);
        if let Ok(fs) = nix::sys::statvfs::statvfs(probe) {
            let bytes = fs.blocks() as f64 * fs.fragment_size() as f64;
            let disk = offerable_disk_mb(bytes / MB).floor();
            total += &format!("disk:{disk}").parse::<Resources>()?;
        }
    }
    if given.ports().is_none() {
        total += &DEFAULT_PORTS.parse::<Resources>()?;
    }
    Ok(total)
}

fn existing_ancestor(path: &Path) -> &Path {
    let mut current = path;
    while !current.exists() {
        match current.parent() {
            Some(parent) => current = parent,
            None => return Path::new("/"),
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins_follow_mesos() {
        assert_eq!(offerable_mem_mb(8192.0), 7168.0);
        assert_eq!(offerable_mem_mb(1024.0), 512.0);
        assert_eq!(offerable_disk_mb(20480.0), 15360.0);
        assert_eq!(offerable_disk_mb(4096.0), 2048.0);
    }

    #[test]
    fn flag_wins_and_the_rest_is_detected() {
        let r = agent_resources(Some("cpus:3;mem:100"), Path::new("/tmp/does/not/exist")).unwrap();
        assert_eq!(r.cpus(), Some(3.0));
        assert_eq!(r.mem(), Some(100.0));
        assert!(r.disk().unwrap() > 0.0);
        assert!(r.ports().is_some());
        let detected = agent_resources(None, Path::new("/tmp")).unwrap();
        assert!(detected.cpus().unwrap() >= 1.0);
        assert!(detected.mem().unwrap() > 0.0);
        assert!(agent_resources(Some("cpus:lots"), Path::new("/tmp")).is_err());
    }
}
