//! Health checks the [`ExecutorDriver`] runs for a custom executor's tasks, when the executor
//! asked for them ([`ExecutorDriver::with_health_checks`]): one [`HealthWatch`] per task with a
//! `health_check`, started once `launch_task` returned, paused when the task is being killed,
//! dropped with the task's terminal update.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use super::{port_environment, HealthWatch, Watching};
use crate::executor::ExecutorDriver;
use crate::{Environment, HealthCheck, TaskId, TaskInfo, TaskStatus};

/// The driver's watches, by task.
#[derive(Debug, Default)]
pub(crate) struct DriverHealth {
    enabled: AtomicBool,
    watches: Mutex<HashMap<TaskId, Watching>>,
}

impl DriverHealth {
    pub(crate) fn enable(&self) {
        self.enabled.store(true, Ordering::SeqCst);
    }

    fn watches(&self) -> std::sync::MutexGuard<'_, HashMap<TaskId, Watching>> {
        self.watches.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The task's check if the driver runs checks and it has one: `Err` if the check is invalid.
    pub(crate) fn check_of(&self, task: &TaskInfo) -> Option<Result<HealthCheck, String>> {
        if !self.enabled.load(Ordering::SeqCst) {
            return None;
        }
        let check = task.health_check.clone()?;
        Some(
            check
                .validate()
                .map(|()| check)
                .map_err(|why| format!("invalid health check: {why}")),
        )
    }

    /// Starts checking `task` (launched by the executor) for `driver`: updates through the
    /// driver, a kill through the executor's `kill_task`.
    pub(crate) fn watch(&self, driver: &ExecutorDriver, task: &TaskInfo, check: HealthCheck) {
        let mut env = Environment {
            variables: port_environment(task),
        };
        if let Some(command) = &task.command {
            env.variables
                .extend(command.environment.variables.iter().cloned());
        }
        let (reporter, killer) = (driver.clone(), driver.clone());
        let started = HealthWatch::new(task.task_id.clone(), check)
            .in_sandbox(driver.env().directory.clone())
            .with_env(env)
            .start(
                move |status| drop(reporter.send_status_update(status)),
                move |task_id| killer.kill_unhealthy_task(task_id),
            );
        match started {
            Ok(watching) => drop(self.watches().insert(task.task_id.clone(), watching)),
            Err(err) => {
                tracing::error!(task_id = %task.task_id, %err, "cannot start health checks")
            }
        }
    }

    /// The task is being killed: its checks stop.
    pub(crate) fn pause(&self, task_id: &TaskId) {
        if let Some(watching) = self.watches().get(task_id) {
            watching.pause();
        }
    }

    /// An update the executor sends: a terminal one ends the task's checks and, if they killed
    /// it, says `healthy: false` (unless the executor said otherwise).
    pub(crate) fn on_update(&self, status: TaskStatus) -> TaskStatus {
        if !status.state.is_terminal() {
            return status;
        }
        match self.watches().remove(&status.task_id) {
            Some(watching) if watching.killed_unhealthy() && status.healthy.is_none() => {
                status.with_healthy(false)
            }
            _ => status,
        }
    }

    /// The driver ended: every check stops.
    pub(crate) fn clear(&self) {
        self.watches().clear();
    }
}
