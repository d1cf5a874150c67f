//! Starting executors as child processes, watching them exit, and killing their process trees.

use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use isolation::launch::SetupError;
use isolation::LaunchInfo;
use mesos::{AgentId, CommandInfo, ContainerId, ExecutorId};
use nix::sys::signal::Signal;

use crate::checkpoint::layout::runtime_container;
use crate::spawn::{self, Spawned};
use crate::state::LaunchSpec;

/// Why an executor could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The sandbox or its log files could not be created.
    #[error("cannot create sandbox {path}: {source}")]
    Sandbox {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The executor's command has nothing to run.
    #[error("executor {0} has an empty command")]
    EmptyCommand(ExecutorId),
    /// The process could not be spawned.
    #[error("cannot start executor {executor_id}: {source}")]
    Spawn {
        /// The executor.
        executor_id: ExecutorId,
        /// The OS error.
        source: std::io::Error,
    },
    /// The isolator's launch requirements cannot be met (e.g. an unknown task user).
    #[error("cannot isolate executor {executor_id}: {source}")]
    Setup {
        /// The executor.
        executor_id: ExecutorId,
        /// Why.
        source: SetupError,
    },
    /// The sandbox cannot be handed to the task's user.
    #[error("cannot give sandbox {path} to the task's user: {source}")]
    Chown {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: nix::Error,
    },
    /// The task's user cannot be switched to (`--switch_user`).
    #[error("cannot run executor {executor_id} as its user: {source}")]
    User {
        /// The executor.
        executor_id: ExecutorId,
        /// Why.
        source: crate::launcher_user::UserError,
    },
    /// The reaper thread could not be started.
    #[error("cannot start the reaper thread: {0}")]
    Reaper(std::io::Error),
}

/// What the agent tells every executor through its environment.
#[derive(Debug, Clone)]
pub struct ExecutorEnvironment {
    /// The agent's pid (`slave(1)@ip:port`).
    pub agent_pid: String,
    /// The agent's id.
    pub agent_id: AgentId,
    /// How long the executor has to shut down.
    pub shutdown_grace_period: Duration,
    /// How long a checkpointing executor waits for a restarted agent (`--recovery_timeout`).
    pub recovery_timeout: Duration,
    /// How long a recovered executor has to re-register (`--executor_reregistration_timeout`):
    /// an HTTP executor's subscription backoff stays below it.
    pub reregistration_timeout: Duration,
    /// `--switch_user`: run the executor as its command's user, else the framework's.
    pub switch_user: bool,
}

/// How an executor process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitInfo {
    /// The raw wait status (what `ExitedExecutorMessage.status` carries).
    pub wait_status: i32,
    /// "exited with status 3" / "terminated by signal SIGKILL".
    pub description: String,
}

impl ExitInfo {
    /// Describes `status`.
    pub fn from_status(status: ExitStatus) -> ExitInfo {
        let description = match (status.code(), status.signal()) {
            (Some(code), _) => format!("exited with status {code}"),
            (None, Some(signal)) => match Signal::try_from(signal) {
                Ok(sig) => format!("terminated by signal {}", sig.as_str()),
                Err(_) => format!("terminated by signal {signal}"),
            },
            (None, None) => "exited".to_string(),
        };
        ExitInfo {
            wait_status: status.into_raw(),
            description,
        }
    }
}

/// The argv of `command`: `sh -c value` for shell commands, else `value` run with `arguments`
/// (whose first element is `argv[0]`).
pub fn command_argv(command: &CommandInfo) -> Option<(String, Option<String>, Vec<String>)> {
    let value = command.value.clone().filter(|v| !v.is_empty())?;
    if command.shell {
        return Some(("sh".into(), None, vec!["-c".into(), value]));
    }
    let mut args = command.arguments.clone();
    let arg0 = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    Some((value, arg0, args))
}

/// Starts the executor of `spec` in its sandbox, in a new session (so its whole tree can be found
/// and killed), stdout/stderr to files there, the way the isolator's `launch` says (cgroups joined
/// before exec, new pid and mount namespaces, capabilities dropped and the task's user, which then
/// owns the sandbox). When it exits, a reaper thread kills what is left of its session and runs
/// `on_exit`.
/// Without isolation work between fork and exec the process is started with `posix_spawn`
/// (see [`crate::spawn`]), else by `Command` with a `pre_exec` hook.
/// The process is recorded under `<work_dir>/containers/<container_id>` so a restarted agent finds
/// it. Returns the OS pid (also the session id; with a pid namespace, the pid of the stand-in
/// process that exits as the executor does).
///
/// # Errors
/// [`LaunchError`] when the sandbox, the process or the reaper cannot be created.
pub fn launch(
    work_dir: &Path,
    spec: &LaunchSpec,
    env: &ExecutorEnvironment,
    launch: &LaunchInfo,
    on_exit: impl FnOnce(ExitInfo) + Send + 'static,
) -> Result<u32, LaunchError> {
    let user = launch.task_user(spec.executor.command.user.as_deref(), &spec.framework.user);
    let setup = launch
        .child_setup(user.as_deref())
        .map_err(|source| LaunchError::Setup {
            executor_id: spec.executor.executor_id.clone(),
            source,
        })?;
    // With capabilities dropped the isolator switches user itself (see `child_setup`).
    let switch = if launch.drop_capabilities {
        None
    } else {
        crate::launcher_user::SwitchUser::prepare(
            env.switch_user,
            spec.executor.command.user.as_deref(),
            &spec.framework.user,
        )
        .map_err(|source| LaunchError::User {
            executor_id: spec.executor.executor_id.clone(),
            source,
        })?
    };
    let sandbox_error = |source| LaunchError::Sandbox {
        path: spec.directory.clone(),
        source,
    };
    std::fs::create_dir_all(&spec.directory).map_err(sandbox_error)?;
    let stdout = File::create(spec.directory.join("stdout")).map_err(sandbox_error)?;
    // Appended to: the fetcher may have written there already.
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(spec.directory.join("stderr"))
        .map_err(sandbox_error)?;
    if let Some(user) = setup.user() {
        // The task writes its sandbox as its own user, with what the fetcher put there.
        chown_tree(&spec.directory, user.uid, user.gid)?;
    }
    if let Some(user) = &switch {
        chown_tree(&spec.directory, user.uid, user.gid)?;
    }
    let (program, arg0, args) = command_argv(&spec.executor.command)
        .ok_or_else(|| LaunchError::EmptyCommand(spec.executor.executor_id.clone()))?;
    let mut command = Command::new(program);
    if let Some(arg0) = &arg0 {
        command.arg0(arg0);
    }
    command.args(args).current_dir(&spec.directory);
    if let Some(user) = &switch {
        user.environment(&mut command);
    }
    for var in &spec.executor.command.environment.variables {
        command.env(&var.name, &var.value);
    }
    executor_env(&mut command, spec, env);
    let spawned = if setup.is_noop() && switch.is_none() && spawn::can_spawn(&command) {
        // Nothing to run between fork and exec: posix_spawn, without copying the agent.
        spawn::spawn_in_session(&command, arg0.as_deref(), &stdout, &stderr).map(Spawned::Spawned)
    } else {
        command.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent; `enter` and
        // the user switch only make system calls on data prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                setup.enter()?;
                match &switch {
                    Some(user) => user.apply(),
                    None => Ok(()),
                }
            });
        }
        command.spawn().map(Spawned::Forked)
    };
    let child = spawned.map_err(|source| LaunchError::Spawn {
        executor_id: spec.executor.executor_id.clone(),
        source,
    })?;
    let pid = child.id();
    // Before anything else: a restarted agent finds (and, unless it recovers it, kills) what this
    // one started, checkpointing framework or not.
    if let Err(err) = record_container(work_dir, &spec.container_id, pid) {
        tracing::warn!(%err, container_id = %spec.container_id, "cannot record the container's process");
    }
    std::thread::Builder::new()
        .name(format!("reaper-{pid}"))
        .spawn(move || {
            let info = match child.wait() {
                Ok(status) => ExitInfo::from_status(status),
                Err(err) => ExitInfo {
                    wait_status: -1,
                    description: format!("could not be waited for: {err}"),
                },
            };
            // The container ends with its executor: take down whatever it left running. Done here,
            // off the agent's thread, since it scans /proc (one scan for the executors that end
            // together).
            crate::sessions::sweep(pid);
            on_exit(info);
        })
        .map_err(LaunchError::Reaper)?;
    Ok(pid)
}

/// Gives `dir` and everything in it (links themselves, not what they point to) to `uid:gid`.
fn chown_tree(dir: &Path, uid: nix::unistd::Uid, gid: nix::unistd::Gid) -> Result<(), LaunchError> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            &path,
            Some(uid),
            Some(gid),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|source| LaunchError::Chown {
            path: path.clone(),
            source,
        })?;
        let is_dir = path.symlink_metadata().is_ok_and(|m| m.is_dir());
        if is_dir {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    Ok(())
}

fn executor_env(command: &mut Command, spec: &LaunchSpec, env: &ExecutorEnvironment) {
    let set = |command: &mut Command, name: &str, value: &str| {
        command.env(name, value);
    };
    set(command, "MESOS_AGENT_PID", &env.agent_pid);
    set(command, "MESOS_SLAVE_PID", &env.agent_pid);
    // HTTP executors (`/api/v1/executor`) find the agent here: `ip:port`, no scheme.
    if let Some((_, endpoint)) = env.agent_pid.split_once('@') {
        set(command, "MESOS_AGENT_ENDPOINT", endpoint);
    }
    set(command, "MESOS_HTTP_COMMAND_EXECUTOR", "0");
    // A driver-based executor listens on a port of its own choosing, as in Mesos.
    set(command, "LIBPROCESS_PORT", "0");
    set(command, "MESOS_FRAMEWORK_ID", spec.framework_id.as_str());
    set(
        command,
        "MESOS_EXECUTOR_ID",
        spec.executor.executor_id.as_str(),
    );
    set(command, "MESOS_AGENT_ID", env.agent_id.as_str());
    set(command, "MESOS_SLAVE_ID", env.agent_id.as_str());
    set(
        command,
        "MESOS_DIRECTORY",
        &spec.directory.display().to_string(),
    );
    set(
        command,
        "MESOS_SANDBOX",
        &spec.directory.display().to_string(),
    );
    set(
        command,
        "MESOS_CHECKPOINT",
        if spec.framework.checkpoint { "1" } else { "0" },
    );
    set(
        command,
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
        &format!("{}ms", env.shutdown_grace_period.as_millis()),
    );
    set(command, "MESOS_CONTAINER_ID", spec.container_id.as_str());
    if spec.framework.checkpoint {
        set(
            command,
            "MESOS_RECOVERY_TIMEOUT",
            &format!("{}ms", env.recovery_timeout.as_millis()),
        );
        set(
            command,
            "MESOS_SUBSCRIPTION_BACKOFF_MAX",
            &format!("{}ms", env.reregistration_timeout.as_millis()),
        );
    }
}

/// Sends `signal` to every process in session `session` (an executor and everything it started).
/// Returns how many processes were signalled.
pub fn signal_session(session: u32, signal: Signal) -> usize {
    crate::sessions::signal_sessions(&[session], signal)
}

/// Records container `container_id`'s process (`<work_dir>/containers/<id>/pid`: pid and start
/// time).
///
/// # Errors
/// When the record cannot be written.
pub fn record_container(
    work_dir: &Path,
    container_id: &ContainerId,
    pid: u32,
) -> Result<(), crate::checkpoint::FileError> {
    let start = process_start_ticks(pid).unwrap_or(0);
    let path = runtime_container(work_dir, container_id).join("pid");
    // Only an agent crash needs it (a reboot takes every process with it): not synced.
    crate::checkpoint::files::replace(&path, format!("{pid} {start}").as_bytes())
}

/// Forgets a container's process record (its executor ended).
pub fn forget_container(work_dir: &Path, container_id: &ContainerId) {
    let _ = std::fs::remove_dir_all(runtime_container(work_dir, container_id));
}

/// Whether `pid` is still the process that started at `start_ticks` (0: unknown) and leads its
/// own session, as every executor does: not a later process that reuses the number.
pub fn is_same_process(pid: u32, start_ticks: u64) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    let Ok(stat) = procfs::process::Process::new(pid).and_then(|p| p.stat()) else {
        return false;
    };
    stat.state != 'Z' && stat.session == pid && (start_ticks == 0 || stat.starttime == start_ticks)
}

/// Kills what earlier agents started and nobody recovers: every container recorded under
/// `<work_dir>/containers` but not in `keep` has its process tree killed (if its process is still
/// the one recorded) and its record removed. Returns the containers killed.
pub fn kill_orphans(work_dir: &Path, keep: &[ContainerId]) -> Vec<ContainerId> {
    let Ok(entries) = std::fs::read_dir(work_dir.join("containers")) else {
        return Vec::new();
    };
    let mut killed = Vec::new();
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let container_id = ContainerId::new(name);
        if keep.contains(&container_id) {
            continue;
        }
        let record = std::fs::read_to_string(entry.path().join("pid")).unwrap_or_default();
        let mut parts = record.split_whitespace();
        let pid: Option<u32> = parts.next().and_then(|p| p.parse().ok());
        let start: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        if let Some(pid) = pid.filter(|&p| is_same_process(p, start)) {
            let count = signal_session(pid, Signal::SIGKILL);
            tracing::warn!(%container_id, pid, killed = count, "killed an orphan container an earlier agent left");
            killed.push(container_id.clone());
        }
        forget_container(work_dir, &container_id);
    }
    killed
}

/// Watches a process that is not our child (an executor a restarted agent reattached to): a
/// thread waits for it to end (a pidfd; polling `/proc` on kernels without one), kills what it
/// left in its session, and runs `on_exit`.
///
/// # Errors
/// When the thread cannot be started.
pub fn watch(pid: u32, on_exit: impl FnOnce(ExitInfo) + Send + 'static) -> Result<(), LaunchError> {
    std::thread::Builder::new()
        .name(format!("watch-{pid}"))
        .spawn(move || {
            wait_for_exit(pid);
            crate::sessions::sweep(pid);
            on_exit(ExitInfo {
                // Not our child: its exit status is not ours to read.
                wait_status: -1,
                description: "terminated (reattached after an agent restart)".into(),
            });
        })
        .map(|_| ())
        .map_err(LaunchError::Reaper)
}

fn wait_for_exit(pid: u32) {
    let Ok(raw) = i32::try_from(pid) else {
        return;
    };
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd (or -1).
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw, 0) } as i32;
    if fd >= 0 {
        let mut poll = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            // SAFETY: one valid pollfd; the fd is ours and closed below.
            let ready = unsafe { libc::poll(&mut poll, 1, -1) };
            if ready > 0
                || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
            {
                break;
            }
        }
        // SAFETY: closes the fd pidfd_open gave us.
        unsafe { libc::close(fd) };
        return;
    }
    // No pidfd (kernels before 5.3): poll the process table.
    while is_alive(raw) {
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn is_alive(pid: i32) -> bool {
    procfs::process::Process::new(pid)
        .and_then(|p| p.stat())
        .is_ok_and(|stat| stat.state != 'Z')
}

/// When process `pid` started, in clock ticks since boot (`/proc/<pid>/stat` field 22); None if it
/// does not exist. With the boot id, tells a checkpointed executor from a later process that
/// reuses its pid.
pub fn process_start_ticks(pid: u32) -> Option<u64> {
    let pid = i32::try_from(pid).ok()?;
    procfs::process::Process::new(pid)
        .and_then(|p| p.stat())
        .ok()
        .map(|stat| stat.starttime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_forms() {
        assert_eq!(
            command_argv(&CommandInfo::shell("echo hi")),
            Some(("sh".into(), None, vec!["-c".into(), "echo hi".into()]))
        );
        assert_eq!(
            command_argv(&CommandInfo::argv("/bin/echo", ["echo", "a", "b"])),
            Some((
                "/bin/echo".into(),
                Some("echo".into()),
                vec!["a".into(), "b".into()]
            ))
        );
        assert_eq!(command_argv(&CommandInfo::default()), None);
    }

    #[test]
    fn exit_descriptions() {
        let exited = ExitInfo::from_status(ExitStatus::from_raw(3 << 8));
        assert_eq!(exited.description, "exited with status 3");
        assert_eq!(exited.wait_status, 3 << 8);
        let killed = ExitInfo::from_status(ExitStatus::from_raw(9));
        assert_eq!(killed.description, "terminated by signal SIGKILL");
    }
}
