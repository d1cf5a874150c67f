//! [`LaunchInfo`]: how an isolator wants its executor started, and [`ChildSetup`], the part that
//! runs in the forked child between `fork` and `exec` (join cgroups, enter new pid and mount
//! namespaces, drop capabilities, switch user).
//!
//! Everything that can allocate or fail for ordinary reasons (user lookup, paths) happens in
//! [`LaunchInfo::child_setup`], before the fork; [`ChildSetup::enter`] only makes system calls.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::unistd::{Gid, Uid, User};

/// The user tasks run as when capabilities are dropped, the agent is root and nobody was named.
pub const DEFAULT_TASK_USER: &str = "nobody";

/// How to launch a container's executor; [`Default`] is a plain child process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchInfo {
    /// cgroup directories the child joins before it execs (so nothing it does escapes accounting).
    pub cgroups: Vec<PathBuf>,
    /// Run the executor as pid 1 of a new pid namespace, with a private mount namespace and a fresh
    /// `/proc` (so it sees only its own processes).
    pub pid_namespace: bool,
    /// Drop every capability (bounding set included) and run as an unprivileged user.
    pub drop_capabilities: bool,
}

/// Why the child could not be set up (before the fork).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The task's user does not exist here.
    #[error("user '{0}' does not exist on this agent")]
    UnknownUser(String),
    /// Looking the user up failed.
    #[error("cannot look up user '{user}': {source}")]
    Lookup {
        /// The user.
        user: String,
        /// Why.
        source: nix::Error,
    },
    /// A path holds a NUL byte.
    #[error("path {0} holds a NUL byte")]
    BadPath(PathBuf),
}

/// A resolved user to switch to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskUser {
    /// Its uid.
    pub uid: Uid,
    /// Its primary gid.
    pub gid: Gid,
}

/// What the forked child does before `exec`, prepared in the parent.
#[derive(Debug)]
pub struct ChildSetup {
    cgroup_procs: Vec<CString>,
    pid_namespace: bool,
    drop_capabilities: bool,
    proc_path: CString,
    root_path: CString,
    user: Option<TaskUser>,
}

impl LaunchInfo {
    /// The user the executor runs as: none (the agent's) unless capabilities are dropped; then
    /// `CommandInfo.user`, else `FrameworkInfo.user`, else `nobody` when the agent is root.
    pub fn task_user(&self, command_user: Option<&str>, framework_user: &str) -> Option<String> {
        if !self.drop_capabilities {
            return None;
        }
        let named = command_user
            .filter(|u| !u.is_empty())
            .or(Some(framework_user).filter(|u| !u.is_empty()));
        match named {
            Some(user) => Some(user.to_string()),
            None if Uid::effective().is_root() => Some(DEFAULT_TASK_USER.to_string()),
            None => None,
        }
    }

    /// Resolves `user` and the paths, before the fork.
    ///
    /// # Errors
    /// [`SetupError`] for an unknown user or unusable paths.
    pub fn child_setup(&self, user: Option<&str>) -> Result<ChildSetup, SetupError> {
        let user = match user {
            None => None,
            Some(name) => {
                let found = User::from_name(name).map_err(|source| SetupError::Lookup {
                    user: name.to_string(),
                    source,
                })?;
                let found = found.ok_or_else(|| SetupError::UnknownUser(name.to_string()))?;
                Some(TaskUser {
                    uid: found.uid,
                    gid: found.gid,
                })
            }
        };
        let cgroup_procs = self
            .cgroups
            .iter()
            .map(|dir| {
                let path = dir.join("cgroup.procs");
                CString::new(path.as_os_str().as_bytes()).map_err(|_| SetupError::BadPath(path))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ChildSetup {
            cgroup_procs,
            pid_namespace: self.pid_namespace,
            drop_capabilities: self.drop_capabilities,
            proc_path: c"/proc".to_owned(),
            root_path: c"/".to_owned(),
            user,
        })
    }
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl ChildSetup {
    /// The user the executor will run as, if it switches (the sandbox must belong to it).
    pub fn user(&self) -> Option<TaskUser> {
        self.user
    }

    /// Whether [`ChildSetup::enter`] has nothing to do (no cgroup, namespace, capability or
    /// user): the executor can then be started without running code between fork and exec.
    pub fn is_noop(&self) -> bool {
        self.cgroup_procs.is_empty()
            && !self.pid_namespace
            && !self.drop_capabilities
            && self.user.is_none()
    }

    /// Runs in the forked child, after `setsid` and before `exec`: joins the cgroups, enters new
    /// pid and mount namespaces (forking once more so the executor is pid 1 there), drops
    /// capabilities and switches user.
    ///
    /// # Errors
    /// The failing system call's error (the spawn then fails with it).
    pub fn enter(&self) -> io::Result<()> {
        for procs in &self.cgroup_procs {
            // SAFETY: a valid NUL-terminated path; the fd is closed below.
            let fd = unsafe { libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
            check(fd)?;
            // "0" moves the writing process (cgroup v1 and v2).
            // SAFETY: writes one byte from a static buffer to the fd we opened.
            let written = unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) };
            // SAFETY: closes the fd we opened.
            unsafe { libc::close(fd) };
            if written < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if self.pid_namespace {
            self.enter_pid_namespace()?;
        }
        if self.drop_capabilities {
            self.drop_privileges()?;
        }
        Ok(())
    }

    /// After `unshare(CLONE_NEWPID)` only our next child is in the new namespace: fork it, and let
    /// this process stay behind as a stand-in that exits the way the executor exits (so the agent's
    /// reaper sees the executor's status). The stand-in closes every other fd so `spawn` is not held
    /// up by its copy of std's exec-status pipe.
    fn enter_pid_namespace(&self) -> io::Result<()> {
        // SAFETY: plain system calls in the single-threaded forked child.
        unsafe {
            check(libc::unshare(libc::CLONE_NEWPID | libc::CLONE_NEWNS))?;
            let child = libc::fork();
            check(child)?;
            if child > 0 {
                if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
                    // Kernels before 5.9: close them one by one.
                    for fd in 3..libc::sysconf(libc::_SC_OPEN_MAX).clamp(3, 65_536) as libc::c_int {
                        libc::close(fd);
                    }
                }
                let mut status = 0;
                loop {
                    let waited = libc::waitpid(child, &mut status, 0);
                    if waited == child {
                        break;
                    }
                    if waited < 0 && *libc::__errno_location() != libc::EINTR {
                        libc::_exit(127);
                    }
                }
                if libc::WIFSIGNALED(status) {
                    let signal = libc::WTERMSIG(status);
                    libc::signal(signal, libc::SIG_DFL);
                    libc::kill(libc::getpid(), signal);
                    libc::_exit(128 + signal);
                }
                libc::_exit(libc::WEXITSTATUS(status));
            }
            // The executor, pid 1 of the new namespace: die with the stand-in (which the agent kills).
            check(libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
            ))?;
            // Mounts must not propagate back to the host before we mount our own /proc.
            check(libc::mount(
                std::ptr::null(),
                self.root_path.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                c"proc".as_ptr(),
                self.proc_path.as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null(),
            ))?;
        }
        Ok(())
    }

    /// Order matters: the bounding set can only be dropped while CAP_SETPCAP is effective, and
    /// setuid/setgid need CAP_SETUID/CAP_SETGID, so both come before clearing the rest.
    fn drop_privileges(&self) -> io::Result<()> {
        use caps::CapSet;
        let caps_error = |e: caps::errors::CapsError| io::Error::other(e.to_string());
        // SAFETY: a plain prctl; setuid-root binaries then gain nothing either.
        check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
        caps::clear(None, CapSet::Ambient).map_err(caps_error)?;
        caps::clear(None, CapSet::Bounding).map_err(caps_error)?;
        if let Some(user) = self.user {
            let groups = [user.gid.as_raw()];
            // SAFETY: plain system calls with a valid one-element array.
            unsafe {
                check(libc::setgroups(1, groups.as_ptr()))?;
                check(libc::setgid(user.gid.as_raw()))?;
                check(libc::setuid(user.uid.as_raw()))?;
            }
        }
        // For a non-root user setuid already emptied these; for root they must go explicitly.
        caps::clear(None, CapSet::Inheritable).map_err(caps_error)?;
        caps::clear(None, CapSet::Effective).map_err(caps_error)?;
        caps::clear(None, CapSet::Permitted).map_err(caps_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_only_switched_when_capabilities_are_dropped() {
        let plain = LaunchInfo::default();
        assert_eq!(plain.task_user(Some("alice"), "bob"), None);
        let dropped = LaunchInfo {
            drop_capabilities: true,
            ..LaunchInfo::default()
        };
        assert_eq!(
            dropped.task_user(Some("alice"), "bob").as_deref(),
            Some("alice")
        );
        assert_eq!(dropped.task_user(Some(""), "bob").as_deref(), Some("bob"));
        let default = dropped.task_user(None, "");
        if Uid::effective().is_root() {
            assert_eq!(default.as_deref(), Some(DEFAULT_TASK_USER));
        } else {
            assert_eq!(default, None);
        }
    }

    #[test]
    fn unknown_users_are_refused_before_the_fork() {
        let info = LaunchInfo::default();
        let err = info.child_setup(Some("no-such-user-xyz")).unwrap_err();
        assert!(err.to_string().contains("no-such-user-xyz"), "{err}");
        let setup = info.child_setup(Some("root")).unwrap();
        assert_eq!(setup.user().map(|u| u.uid), Some(Uid::from_raw(0)));
        assert!(!setup.is_noop());
        assert!(info.child_setup(None).unwrap().is_noop());
        let caps = LaunchInfo {
            drop_capabilities: true,
            ..LaunchInfo::default()
        };
        assert!(!caps.child_setup(None).unwrap().is_noop());
    }
}
