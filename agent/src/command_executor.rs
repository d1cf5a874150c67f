//! [`CommandExecutor`]: the built-in executor (binary `mesos-executor`) that runs one command task.
//!
//! It reports `TASK_STARTING`, starts the task's command (`sh -c` or argv) in its own process group in
//! the sandbox, reports `TASK_RUNNING`, and when the command ends `TASK_FINISHED` (exit 0) or
//! `TASK_FAILED` (with the exit code or signal). A kill sends SIGTERM to the task's process group and
//! SIGKILL after the grace period (the task's `KillPolicy`, default 3 s), then reports `TASK_KILLED`.
//! Once the terminal update is acknowledged the executor stops.
//!
//! The task's port resources are handed to it as `PORT0..PORTn`, `PORT` (the first) and `PORTS`
//! (comma-separated). A task with a `health_check` is checked by a thread of its own (see
//! [`crate::health_check`]): health changes are reported as `TASK_RUNNING` updates with `healthy`
//! and `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`; after `consecutive_failures` failures the task is
//! killed, and its terminal update says `healthy: false`.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use mesos::executor::health::port_environment;
use mesos::executor::{DriverStatus, Executor, ExecutorDriver};
use mesos::{Environment, HealthCheck, Reason, TaskId, TaskInfo, TaskState, TaskStatus};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid as OsPid;

use crate::launcher::command_argv;
use mesos::executor::health::{HealthWatch, Watching};

/// Mesos's default kill grace period for command tasks.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(3);
/// How long the executor waits for its last update to be acknowledged before exiting anyway.
const FINAL_ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a waiting executor checks whether its driver stopped meanwhile.
const ACK_POLL: Duration = Duration::from_millis(200);

struct Running {
    task_id: TaskId,
    pgid: i32,
    grace: Duration,
    killed: Arc<AtomicBool>,
    /// Closed (sender dropped) when the task's process has been reaped; taken by the kill escalation.
    done: Option<mpsc::Receiver<()>>,
}

/// The command executor. Runs exactly one task.
#[derive(Default)]
pub struct CommandExecutor {
    running: Arc<Mutex<Option<Running>>>,
    launched: bool,
    /// Closed once the terminal update of the task has been sent.
    reported: Option<mpsc::Receiver<()>>,
}

impl CommandExecutor {
    /// A command executor with no task yet.
    pub fn new() -> CommandExecutor {
        CommandExecutor::default()
    }

    fn fail(driver: &ExecutorDriver, task_id: TaskId, message: String) {
        let status = TaskStatus::new(task_id, TaskState::Failed)
            .with_reason(Reason::CommandExecutorFailed)
            .with_message(message);
        let _ = driver.send_status_update(status);
        finish(driver);
    }

    /// Kills the task: SIGTERM to its process group, SIGKILL after its grace period.
    fn kill(&self) {
        kill_running(&self.running);
    }
}

/// Kills the running task, if any: SIGTERM to its process group, SIGKILL after its grace period.
fn kill_running(running: &Mutex<Option<Running>>) {
    let mut guard = running.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(running) = guard.as_mut() else {
        return;
    };
    if running.killed.swap(true, Ordering::SeqCst) {
        return;
    }
    let pgid = OsPid::from_raw(running.pgid);
    let _ = killpg(pgid, Signal::SIGTERM);
    let grace = running.grace;
    let Some(done) = running.done.take() else {
        return;
    };
    // Escalate after the grace period unless the task is reaped first.
    let _ = std::thread::Builder::new()
        .name("kill-escalation".into())
        .spawn(move || match done.recv_timeout(grace) {
            Err(RecvTimeoutError::Timeout) => {
                let _ = killpg(pgid, Signal::SIGKILL);
            }
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {}
        });
}

/// Waits for the last updates to be acknowledged, then stops the driver (the process exits).
///
/// A checkpointing framework's executor whose agent is down (restarting, being upgraded) keeps
/// its terminal update for the agent's return: it waits as long as the driver does, that is up
/// to `MESOS_RECOVERY_TIMEOUT`, after which the driver shuts the executor down itself. Without
/// this, a task that ended while its agent was away longer than [`FINAL_ACK_TIMEOUT`] would be
/// reported LOST instead of with its real end.
fn finish(driver: &ExecutorDriver) {
    let env = driver.env();
    let patience = if env.checkpoint {
        FINAL_ACK_TIMEOUT.max(env.recovery_timeout + Duration::from_secs(1))
    } else {
        FINAL_ACK_TIMEOUT
    };
    let deadline = std::time::Instant::now() + patience;
    // In slices, so a driver stopped meanwhile (recovery timeout, shutdown) ends the wait.
    while driver.status() == DriverStatus::Running {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || driver.wait_for_acknowledgements(left.min(ACK_POLL)) {
            break;
        }
    }
    driver.stop();
}

/// The terminal status for a command that ended with `status`.
pub fn terminal_status(task_id: TaskId, status: ExitStatus, killed: bool) -> TaskStatus {
    if killed {
        return TaskStatus::new(task_id, TaskState::Killed).with_message("Command killed");
    }
    match (status.code(), status.signal()) {
        (Some(0), _) => TaskStatus::new(task_id, TaskState::Finished)
            .with_message("Command exited with status 0"),
        (Some(code), _) => TaskStatus::new(task_id, TaskState::Failed)
            .with_reason(Reason::CommandExecutorFailed)
            .with_message(format!("Command exited with status {code}")),
        (None, Some(signal)) => {
            let name =
                Signal::try_from(signal).map_or_else(|_| signal.to_string(), |s| s.to_string());
            TaskStatus::new(task_id, TaskState::Failed)
                .with_reason(Reason::CommandExecutorFailed)
                .with_message(format!("Command terminated with signal {name}"))
        }
        (None, None) => TaskStatus::new(task_id, TaskState::Failed)
            .with_reason(Reason::CommandExecutorFailed)
            .with_message("Command ended"),
    }
}

impl Executor for CommandExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let task_id = task.task_id.clone();
        if self.launched {
            let status = TaskStatus::new(task_id, TaskState::Failed)
                .with_reason(Reason::CommandExecutorFailed)
                .with_message("the command executor runs one task only");
            let _ = driver.send_status_update(status);
            return;
        }
        self.launched = true;
        let Some(command_info) = task.command.clone() else {
            return CommandExecutor::fail(driver, task_id, "task has no command".into());
        };
        let _ = driver.send_status_update(TaskStatus::new(task_id.clone(), TaskState::Starting));
        let Some((program, arg0, args)) = command_argv(&command_info) else {
            return CommandExecutor::fail(driver, task_id, "task has an empty command".into());
        };
        if let Some(Err(why)) = task.health_check.as_ref().map(HealthCheck::validate) {
            return CommandExecutor::fail(driver, task_id, format!("invalid health check: {why}"));
        }
        let mut env = Environment {
            variables: port_environment(&task),
        };
        env.variables
            .extend(command_info.environment.variables.iter().cloned());
        let mut command = Command::new(program);
        if let Some(arg0) = arg0 {
            command.arg0(arg0);
        }
        command.args(args).stdin(Stdio::null()).process_group(0);
        if let Some(dir) = &driver.env().directory {
            command.current_dir(dir);
        }
        for var in &env.variables {
            command.env(&var.name, &var.value);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => {
                return CommandExecutor::fail(
                    driver,
                    task_id,
                    format!("cannot start the command: {err}"),
                )
            }
        };
        let pgid = i32::try_from(child.id()).unwrap_or(0);
        let grace = task
            .kill_policy
            .and_then(|p| p.grace_period)
            .map_or(DEFAULT_KILL_GRACE, |g| g.to_duration());
        let killed = Arc::new(AtomicBool::new(false));
        let (done_tx, done_rx) = mpsc::channel::<()>();
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = Some(Running {
            task_id: task_id.clone(),
            pgid,
            grace,
            killed: killed.clone(),
            done: Some(done_rx),
        });
        let (reported_tx, reported_rx) = mpsc::channel::<()>();
        self.reported = Some(reported_rx);
        let _ = driver.send_status_update(TaskStatus::new(task_id.clone(), TaskState::Running));
        // Dropped when the task ends: stops the health checks.
        let health: Option<Watching> = task.health_check.clone().and_then(|check| {
            let (reporter, running) = (driver.clone(), self.running.clone());
            HealthWatch::new(task_id.clone(), check)
                .in_sandbox(driver.env().directory.clone())
                .with_env(env.clone())
                .paused_by(killed.clone())
                .start(
                    move |status| drop(reporter.send_status_update(status)),
                    move |_| kill_running(&running),
                )
                .map_err(|err| tracing::error!(%err, "cannot start the health checker thread"))
                .ok()
        });
        let driver = driver.clone();
        let spawned = std::thread::Builder::new()
            .name("command-waiter".into())
            .spawn(move || {
                let status = child.wait();
                drop(done_tx);
                let unhealthy = health.as_ref().is_some_and(Watching::killed_unhealthy);
                drop(health);
                let status = match status {
                    Ok(status) => terminal_status(task_id, status, killed.load(Ordering::SeqCst)),
                    Err(err) => TaskStatus::new(task_id, TaskState::Failed)
                        .with_reason(Reason::CommandExecutorFailed)
                        .with_message(format!("cannot wait for the command: {err}")),
                };
                // As Mesos: a task killed for failing its health checks ends unhealthy.
                let status = if unhealthy {
                    status.with_healthy(false)
                } else {
                    status
                };
                let _ = driver.send_status_update(status);
                drop(reported_tx);
                finish(&driver);
            });
        if let Err(err) = spawned {
            tracing::error!(%err, "cannot start the waiter thread");
        }
    }

    fn kill_task(&mut self, _driver: &ExecutorDriver, task_id: TaskId) {
        let matches = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|r| r.task_id == task_id);
        if matches {
            self.kill();
        }
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        self.kill();
        // Give the waiter the grace period (plus a little) to report TASK_KILLED before the driver
        // stops.
        let grace = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(Duration::ZERO, |r| r.grace);
        if let Some(reported) = &self.reported {
            let _ = reported.recv_timeout(grace + Duration::from_secs(1));
        }
        driver.wait_for_acknowledgements(grace + Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_status_follows_how_the_command_ended() {
        let id = || TaskId::new("t");
        let finished = terminal_status(id(), ExitStatus::from_raw(0), false);
        assert_eq!(finished.state, TaskState::Finished);
        let failed = terminal_status(id(), ExitStatus::from_raw(3 << 8), false);
        assert_eq!(failed.state, TaskState::Failed);
        assert_eq!(
            failed.message.as_deref(),
            Some("Command exited with status 3")
        );
        assert_eq!(failed.reason, Some(Reason::CommandExecutorFailed));
        let signalled = terminal_status(id(), ExitStatus::from_raw(9), false);
        assert_eq!(
            signalled.message.as_deref(),
            Some("Command terminated with signal SIGKILL")
        );
        // A kill we asked for is TASK_KILLED however the process ended.
        let killed = terminal_status(id(), ExitStatus::from_raw(15), true);
        assert_eq!(killed.state, TaskState::Killed);
    }
}
