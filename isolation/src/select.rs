//! [`build`]: from the agent's `--isolation` flag to one isolator, checked against the host.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use caps::Capability;

use crate::capabilities::require;
use crate::cgroups::{CgroupsIsolator, CgroupsOptions};
use crate::composite::Composite;
use crate::{Isolator, IsolatorError, LaunchInfo, PosixIsolator};

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
    if pid {
        probe_launch(
            "namespaces/pid",
            &LaunchInfo {
                pid_namespace: true,
                ..LaunchInfo::default()
            },
        )?;
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
        probe_launch(
            "linux/capabilities",
            &LaunchInfo {
                drop_capabilities: true,
                ..LaunchInfo::default()
            },
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

/// How long a probe child may take: it only execs `true`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Holding a capability does not prove the kernel lets us use it (a container runtime's seccomp
/// profile, a user namespace, a read-only /proc): start `true` exactly as a container of
/// `isolator` would be started and see it succeed.
fn probe_launch(isolator: &str, info: &LaunchInfo) -> Result<(), IsolatorError> {
    let unsupported = |reason: String| IsolatorError::Unsupported {
        isolator: isolator.to_string(),
        reason,
    };
    let user = info.task_user(None, "");
    let setup = info
        .child_setup(user.as_deref())
        .map_err(|e| unsupported(format!("cannot prepare a probe launch: {e}")))?;
    let program = ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| unsupported("no /bin/true to probe a launch with".into()))?;
    let mut command = Command::new(program);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: `enter` only makes async-signal-safe system calls (see ChildSetup).
    unsafe {
        command.pre_exec(move || setup.enter());
    }
    let mut child = command
        .spawn()
        .map_err(|e| unsupported(format!("a probe launch failed: {e}")))?;
    let deadline = Instant::now() + PROBE_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(unsupported(format!("a probe launch exited with {status}")))
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(unsupported(format!(
                    "a probe launch did not finish within {PROBE_TIMEOUT:?}"
                )));
            }
            Err(e) => return Err(unsupported(format!("cannot wait for a probe launch: {e}"))),
        }
    }
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
