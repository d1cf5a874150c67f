//! `--switch_user` (issue 14): an executor and its tasks run as `CommandInfo.user`, else
//! `FrameworkInfo.user`, with that user's uid, primary and supplementary groups and `HOME`, in
//! a sandbox it owns.
//!
//! [`SwitchUser::prepare`] does everything that allocates or can fail for ordinary reasons (the
//! user and group lookups) before the fork; [`SwitchUser::apply`] runs in the forked child and
//! only makes async-signal-safe system calls (`setgroups`, `setgid`, `setuid`) on what was
//! prepared.

use std::ffi::CString;
use std::io;
use std::path::PathBuf;

use nix::unistd::{Gid, Uid, User};

/// Why the task's user cannot be switched to (the launch fails: TASK_FAILED with this message).
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No such user on this agent.
    #[error("user '{0}' does not exist on this agent")]
    Unknown(String),
    /// The user or group database could not be read.
    #[error("cannot look up user '{user}': {source}")]
    Lookup {
        /// The user.
        user: String,
        /// Why.
        source: nix::Error,
    },
    /// Only root may switch to another user.
    #[error("cannot run as user '{0}': the agent is not running as root (start it as root, or with --switch_user=false to run tasks as the agent's user)")]
    NotRoot(String),
}

/// A resolved user to switch to in the executor's child process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchUser {
    /// The user's name.
    pub name: String,
    /// Its uid.
    pub uid: Uid,
    /// Its primary group.
    pub gid: Gid,
    /// Every group it belongs to (primary included), for `setgroups`.
    groups: Vec<libc::gid_t>,
    /// Its home directory (`HOME` in the executor's environment).
    pub home: PathBuf,
}

impl SwitchUser {
    /// The user `command_user` (else `framework_user`) when `switch_user` is on and a user is
    /// named; `None` runs the executor as the agent's own user.
    ///
    /// # Errors
    /// An unknown user, a failed lookup, or a user other than the agent's own when the agent is
    /// not root.
    pub fn prepare(
        switch_user: bool,
        command_user: Option<&str>,
        framework_user: &str,
    ) -> Result<Option<SwitchUser>, UserError> {
        if !switch_user {
            return Ok(None);
        }
        let Some(name) = command_user
            .filter(|u| !u.is_empty())
            .or(Some(framework_user).filter(|u| !u.is_empty()))
        else {
            return Ok(None);
        };
        let lookup = |source| UserError::Lookup {
            user: name.to_string(),
            source,
        };
        let user = User::from_name(name)
            .map_err(lookup)?
            .ok_or_else(|| UserError::Unknown(name.to_string()))?;
        let me = Uid::effective();
        if !me.is_root() {
            if user.uid == me {
                // Already that user: nothing to switch.
                return Ok(None);
            }
            return Err(UserError::NotRoot(name.to_string()));
        }
        let c_name = CString::new(name).map_err(|_| UserError::Unknown(name.to_string()))?;
        let groups = nix::unistd::getgrouplist(&c_name, user.gid)
            .map_err(lookup)?
            .into_iter()
            .map(Gid::as_raw)
            .collect();
        Ok(Some(SwitchUser {
            name: name.to_string(),
            uid: user.uid,
            gid: user.gid,
            groups,
            home: user.dir,
        }))
    }

    /// The groups the child will have (primary and supplementary).
    pub fn groups(&self) -> &[libc::gid_t] {
        &self.groups
    }

    /// Sets `HOME`, `USER` and `LOGNAME` of the executor's environment.
    pub fn environment(&self, command: &mut std::process::Command) {
        command
            .env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name);
    }

    /// Runs in the forked child before `exec`: the supplementary groups, then the group, then
    /// the user (the order matters: after `setuid` the others are no longer allowed).
    ///
    /// # Errors
    /// The failing system call's error (the spawn then fails with it).
    pub fn apply(&self) -> io::Result<()> {
        let check = |result: libc::c_int| {
            if result < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        };
        // SAFETY: plain system calls on memory prepared before the fork (no allocation here).
        unsafe {
            check(libc::setgroups(self.groups.len(), self.groups.as_ptr()))?;
            check(libc::setgid(self.gid.as_raw()))?;
            check(libc::setuid(self.uid.as_raw()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_switch_when_off_or_unnamed() {
        assert_eq!(
            SwitchUser::prepare(false, Some("root"), "root").unwrap(),
            None
        );
        assert_eq!(SwitchUser::prepare(true, None, "").unwrap(), None);
        assert_eq!(SwitchUser::prepare(true, Some(""), "").unwrap(), None);
    }

    #[test]
    fn the_command_user_wins_over_the_framework_user() {
        let chosen = SwitchUser::prepare(true, Some("root"), "no-such-user-xyz");
        if Uid::effective().is_root() {
            let user = chosen.unwrap().unwrap();
            assert_eq!((user.name.as_str(), user.uid.as_raw()), ("root", 0));
            assert!(user.groups().contains(&0));
            assert_eq!(user.home, PathBuf::from("/root"));
        } else {
            assert!(matches!(chosen, Err(UserError::NotRoot(_))));
        }
        let err = SwitchUser::prepare(true, None, "no-such-user-xyz").unwrap_err();
        assert_eq!(
            err.to_string(),
            "user 'no-such-user-xyz' does not exist on this agent"
        );
    }
}
