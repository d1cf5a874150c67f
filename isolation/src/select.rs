//! [`build`]: from the agent's `--isolation` flag to one isolator, checked against the host.

use caps::Capability;

use crate::capabilities::require;
use crate::cgroups::{CgroupsIsolator, CgroupsOptions};
use crate::composite::Composite;
use crate::{Isolator, IsolatorError, PosixIsolator};

/// Mesos's default `--isolation`.
pub const DEFAULT_ISOLATION: &str = "posix/cpu,posix/mem";

/// The agent flags that choose and tune isolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsolationFlags {
    /// `--isolation`: comma-separated isolator names.
    pub isolation: String,
    /// `--cgroups_root`: our cgroups' parent under the agent's own cgroup. Agents sharing a host
    /// (or a cgroup) need distinct roots: each removes what it finds under its root at start.
    pub cgroups_root: String,
    /// `--cgroups_enable_cfs`: hard cpu limits through CFS quota.
    pub cgroups_enable_cfs: bool,
}

impl Default for IsolationFlags {
    fn default() -> IsolationFlags {
        IsolationFlags {
            isolation: DEFAULT_ISOLATION.to_string(),
            cgroups_root: "mesos".to_string(),
            cgroups_enable_cfs: false,
        }
    }
}

/// Builds the isolator `flags` select.
///
/// # Errors
/// [`IsolatorError::UnknownIsolator`] for a name we do not have; [`IsolatorError::Unsupported`]
/// naming the isolator and why when the host cannot run it (never a silent fallback).
pub fn build(flags: &IsolationFlags) -> Result<Box<dyn Isolator>, IsolatorError> {
    let (mut cpu, mut mem, mut pid, mut capabilities) = (false, false, false, false);
    let mut names = Vec::new();
    for name in flags
        .isolation
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        match name {
            "posix/cpu" | "posix/mem" => {}
            "cgroups/cpu" => cpu = true,
            "cgroups/mem" => mem = true,
            "namespaces/pid" => pid = true,
            "linux/capabilities" => capabilities = true,
            other => return Err(IsolatorError::UnknownIsolator(other.to_string())),
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if flags.cgroups_root.is_empty() || flags.cgroups_root.contains("..") {
        return Err(IsolatorError::Unsupported {
            isolator: "cgroups".into(),
            reason: format!(
                "--cgroups_root '{}' must be a relative path without '..'",
                flags.cgroups_root
            ),
        });
    }
    if pid {
        require("namespaces/pid", &[Capability::CAP_SYS_ADMIN])?;
        if !std::path::Path::new("/proc/self/ns/pid").exists() {
            return Err(IsolatorError::Unsupported {
                isolator: "namespaces/pid".into(),
                reason: "the kernel has no pid namespaces".into(),
            });
        }
    }
    if capabilities {
        require(
            "linux/capabilities",
            &[
                Capability::CAP_SETPCAP,
                Capability::CAP_SETUID,
                Capability::CAP_SETGID,
            ],
        )?;
    }
    let inner: Box<dyn Isolator> = if cpu || mem {
        Box::new(CgroupsIsolator::new(CgroupsOptions {
            cpu,
            mem,
            root: flags.cgroups_root.clone(),
            enable_cfs: flags.cgroups_enable_cfs,
        })?)
    } else {
        Box::new(PosixIsolator::new())
    };
    if !pid && !capabilities && names.iter().all(|n| n.starts_with("posix/")) {
        return Ok(inner);
    }
    Ok(Box::new(Composite {
        name: names.join(","),
        inner,
        pid_namespace: pid,
        drop_capabilities: capabilities,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_posix() {
        let isolator = build(&IsolationFlags::default()).unwrap();
        assert_eq!(isolator.name(), "posix/cpu,posix/mem");
    }

    #[test]
    fn unknown_isolators_are_named() {
        let flags = IsolationFlags {
            isolation: "posix/cpu,gpu/nvidia".into(),
            ..IsolationFlags::default()
        };
        let err = build(&flags).err().unwrap().to_string();
        assert!(
            err.contains("gpu/nvidia") && err.contains("--isolation"),
            "{err}"
        );
    }

    #[test]
    fn bad_cgroups_roots_are_refused() {
        let flags = IsolationFlags {
            isolation: "cgroups/mem".into(),
            cgroups_root: "../escape".into(),
            ..IsolationFlags::default()
        };
        assert!(build(&flags).is_err());
    }
}
