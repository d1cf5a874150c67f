//! Starting an executor with `posix_spawn` in a session of its own.
//!
//! `std::process::Command` with a `pre_exec` hook must `fork()` the whole agent (copying its page
//! tables, then tearing them down at `exec`): with a thousand executors started in a burst that
//! was a quarter of the agent's CPU. glibc's `posix_spawn` uses `clone(CLONE_VM | CLONE_VFORK)`
//! instead and can start the child in a new session itself (`POSIX_SPAWN_SETSID`, glibc 2.26), so
//! when the isolator has nothing to do between fork and exec (no cgroups, namespaces,
//! capabilities or user switch: [`isolation::launch::ChildSetup::is_noop`]) the launcher spawns
//! this way. Anything else (or a command that sets its own `PATH`, which `posix_spawnp` would
//! not search) still goes through `Command` and its `pre_exec` hook.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus};

/// A started executor: a `Command` child, or a process `posix_spawn` started.
#[derive(Debug)]
pub enum Spawned {
    /// Started by `Command::spawn` (fork, `pre_exec`, exec).
    Forked(Child),
    /// Started by `posix_spawn`.
    Spawned(u32),
}

impl Spawned {
    /// The OS pid.
    pub fn id(&self) -> u32 {
        match self {
            Spawned::Forked(child) => child.id(),
            Spawned::Spawned(pid) => *pid,
        }
    }

    /// Waits for the process to end (blocking) and returns its status.
    ///
    /// # Errors
    /// The error of `waitpid`.
    pub fn wait(self) -> io::Result<ExitStatus> {
        match self {
            Spawned::Forked(mut child) => child.wait(),
            Spawned::Spawned(pid) => {
                let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
                let mut status = 0;
                loop {
                    // SAFETY: waits for our own child; `status` is a valid out-pointer.
                    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
                    if waited == pid {
                        return Ok(ExitStatus::from_raw(status));
                    }
                    let err = io::Error::last_os_error();
                    if err.kind() != io::ErrorKind::Interrupted {
                        return Err(err);
                    }
                }
            }
        }
    }
}

/// Whether [`spawn_in_session`] can start `command`: it sets no `PATH` of its own (posix_spawnp
/// searches the agent's).
pub fn can_spawn(command: &Command) -> bool {
    !command.get_envs().any(|(name, _)| name == "PATH")
}

/// Starts `command` (program, arguments, `arg0` if given, environment changes and working
/// directory; stdin from `/dev/null`, stdout and stderr to the given files) with `posix_spawnp`,
/// as the leader of a new session, signals at their defaults and none blocked.
///
/// # Errors
/// A program, argument or variable with a NUL byte, or the error `posix_spawnp` reports (an
/// unknown program, a missing working directory, ...).
pub fn spawn_in_session(
    command: &Command,
    arg0: Option<&str>,
    stdout: &File,
    stderr: &File,
) -> io::Result<u32> {
    let program = cstring(command.get_program())?;
    let mut argv = vec![match arg0 {
        Some(arg0) => cstring(OsStr::new(arg0))?,
        None => program.clone(),
    }];
    for arg in command.get_args() {
        argv.push(cstring(arg)?);
    }
    let envp = environment(command)?;
    let cwd = command
        .get_current_dir()
        .map(|d| cstring(d.as_os_str()))
        .transpose()?;
    let mut argv_ptrs: Vec<*mut libc::c_char> =
        argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argv_ptrs.push(std::ptr::null_mut());
    let mut envp_ptrs: Vec<*mut libc::c_char> =
        envp.iter().map(|e| e.as_ptr().cast_mut()).collect();
    envp_ptrs.push(std::ptr::null_mut());

    let mut actions = FileActions::new()?;
    actions.open_null(0)?;
    actions.dup2(stdout.as_raw_fd(), 1)?;
    actions.dup2(stderr.as_raw_fd(), 2)?;
    if let Some(cwd) = &cwd {
        actions.chdir(cwd)?;
    }
    let attr = Attributes::new()?;
    let mut pid: libc::pid_t = 0;
    // SAFETY: every pointer is valid until the call returns (the CStrings and vectors live in
    // this frame, the arrays are NULL-terminated), and the attribute and action objects were
    // initialised.
    let result = unsafe {
        libc::posix_spawnp(
            &mut pid,
            program.as_ptr(),
            &actions.0,
            &attr.0,
            argv_ptrs.as_ptr(),
            envp_ptrs.as_ptr(),
        )
    };
    if result != 0 {
        return Err(io::Error::from_raw_os_error(result));
    }
    u32::try_from(pid).map_err(io::Error::other)
}

fn cstring(value: &OsStr) -> io::Result<CString> {
    CString::new(value.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{value:?} contains a NUL byte"),
        )
    })
}

/// The agent's environment with the command's changes applied (`NAME=value` strings).
fn environment(command: &Command) -> io::Result<Vec<CString>> {
    let mut vars: std::collections::BTreeMap<OsString, OsString> = std::env::vars_os().collect();
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => vars.insert(name.to_os_string(), value.to_os_string()),
            None => vars.remove(name),
        };
    }
    vars.into_iter()
        .map(|(name, value)| {
            let mut entry = name.into_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.as_bytes());
            CString::new(entry).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an environment variable contains a NUL byte",
                )
            })
        })
        .collect()
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(result))
    }
}

struct FileActions(libc::posix_spawn_file_actions_t);

impl FileActions {
    fn new() -> io::Result<FileActions> {
        // SAFETY: a zeroed object is only passed to its init function.
        let mut actions = FileActions(unsafe { std::mem::zeroed() });
        // SAFETY: initialises the object we own; destroyed in Drop.
        check(unsafe { libc::posix_spawn_file_actions_init(&mut actions.0) })?;
        Ok(actions)
    }

    fn open_null(&mut self, fd: libc::c_int) -> io::Result<()> {
        // SAFETY: an initialised object and a static NUL-terminated path (glibc copies it).
        check(unsafe {
            libc::posix_spawn_file_actions_addopen(
                &mut self.0,
                fd,
                c"/dev/null".as_ptr(),
                libc::O_RDONLY,
                0,
            )
        })
    }

    fn dup2(&mut self, from: libc::c_int, to: libc::c_int) -> io::Result<()> {
        // SAFETY: an initialised object; the fds are valid until the spawn returns.
        check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut self.0, from, to) })
    }

    fn chdir(&mut self, dir: &CString) -> io::Result<()> {
        // SAFETY: an initialised object and a NUL-terminated path (glibc copies it).
        check(unsafe { libc::posix_spawn_file_actions_addchdir_np(&mut self.0, dir.as_ptr()) })
    }
}

impl Drop for FileActions {
    fn drop(&mut self) {
        // SAFETY: destroys the object initialised in `new`.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut self.0) };
    }
}

struct Attributes(libc::posix_spawnattr_t);

impl Attributes {
    /// A new session, no signal blocked, and SIGPIPE (which the agent ignores, as every Rust
    /// program does) back at its default, as `Command` does.
    fn new() -> io::Result<Attributes> {
        // SAFETY: a zeroed object is only passed to its init function.
        let mut attr = Attributes(unsafe { std::mem::zeroed() });
        // SAFETY: initialises the object we own; destroyed in Drop. The signal sets are local
        // and initialised by sigemptyset before use.
        unsafe {
            check(libc::posix_spawnattr_init(&mut attr.0))?;
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            check(libc::posix_spawnattr_setsigmask(&mut attr.0, &set))?;
            libc::sigaddset(&mut set, libc::SIGPIPE);
            check(libc::posix_spawnattr_setsigdefault(&mut attr.0, &set))?;
            let flags = libc::c_int::from(libc::POSIX_SPAWN_SETSID)
                | libc::POSIX_SPAWN_SETSIGMASK
                | libc::POSIX_SPAWN_SETSIGDEF;
            let flags = libc::c_short::try_from(flags).map_err(io::Error::other)?;
            check(libc::posix_spawnattr_setflags(&mut attr.0, flags))?;
        }
        Ok(attr)
    }
}

impl Drop for Attributes {
    fn drop(&mut self) {
        // SAFETY: destroys the object initialised in `new`.
        unsafe { libc::posix_spawnattr_destroy(&mut self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir()
            .join("agent-spawn-tests")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn files(dir: &std::path::Path) -> (File, File) {
        (
            File::create(dir.join("stdout")).unwrap(),
            File::create(dir.join("stderr")).unwrap(),
        )
    }

    #[test]
    fn the_child_leads_a_new_session_in_its_directory_with_its_environment() {
        let dir = scratch("session");
        let (stdout, stderr) = files(&dir);
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                "echo $0 $1 $FOO ${HOME:-nohome} $(pwd); tr '\\0' ' ' < /proc/$$/cmdline; echo; \
                 cut -d' ' -f6 /proc/$$/stat; read x || echo eof; echo err >&2; exit 3",
                "first",
                "second",
            ])
            .current_dir(&dir)
            .env("FOO", "bar")
            .env_remove("HOME");
        let child =
            Spawned::Spawned(spawn_in_session(&command, Some("zero"), &stdout, &stderr).unwrap());
        let pid = child.id();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(3));
        let out = std::fs::read_to_string(dir.join("stdout")).unwrap();
        let mut lines = out.lines();
        let cwd = dir.canonicalize().unwrap();
        assert_eq!(
            lines.next(),
            Some(format!("first second bar nohome {}", cwd.display()).as_str())
        );
        // argv[0] is what the caller named.
        assert!(
            lines.next().is_some_and(|l| l.starts_with("zero -c ")),
            "{out}"
        );
        // Its session is its own pid.
        assert_eq!(lines.next().map(str::trim), Some(pid.to_string().as_str()));
        // stdin is /dev/null.
        assert_eq!(lines.next(), Some("eof"));
        let err = std::fs::read_to_string(dir.join("stderr")).unwrap();
        assert_eq!(err, "err\n");
    }

    #[test]
    fn a_missing_program_or_directory_is_an_error_not_a_child() {
        let dir = scratch("errors");
        let (stdout, stderr) = files(&dir);
        let missing = Command::new("no-such-program-xyz");
        let err = spawn_in_session(&missing, None, &stdout, &stderr).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        let mut elsewhere = Command::new("true");
        elsewhere.current_dir(dir.join("gone"));
        assert!(spawn_in_session(&elsewhere, None, &stdout, &stderr).is_err());
        assert_eq!(
            cstring(OsStr::new("a\0b")).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn a_command_with_its_own_path_is_left_to_command() {
        let mut command = Command::new("true");
        assert!(can_spawn(&command));
        command.env("PATH", "/opt/bin");
        assert!(!can_spawn(&command));
    }
}
