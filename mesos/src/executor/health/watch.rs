//! [`HealthWatch`]: one task's health checks on a thread of its own, [`HealthChecker`]'s policy
//! applied to [`probe`]'s results; reports and the kill go to callbacks the executor gives.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::Instant;

use super::probe::probe;
use super::{HealthAction, HealthChecker};
use crate::{Environment, HealthCheck, Reason, TaskId, TaskState, TaskStatus};

/// What to check for one task, and where: started with [`HealthWatch::start`].
#[derive(Debug, Clone)]
pub struct HealthWatch {
    task_id: TaskId,
    check: HealthCheck,
    sandbox: Option<PathBuf>,
    env: Environment,
    paused: Option<Arc<AtomicBool>>,
}

/// A running [`HealthWatch`]. Dropping it (the task ended) stops the checks.
#[derive(Debug)]
pub struct Watching {
    /// Dropped to wake and end the thread.
    _stop: mpsc::Sender<()>,
    paused: Arc<AtomicBool>,
    killed_unhealthy: Arc<AtomicBool>,
}

impl Watching {
    /// Stops checking (the task is being killed: Mesos stops its checks then); the kill already
    /// under way is not reported as a failure.
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Whether the task was killed for failing `consecutive_failures` checks (its terminal update
    /// then says `healthy: false`).
    pub fn killed_unhealthy(&self) -> bool {
        self.killed_unhealthy.load(Ordering::SeqCst)
    }
}

impl HealthWatch {
    /// Checks `task_id` with `check` (validate it first: [`HealthCheck::validate`]).
    pub fn new(task_id: TaskId, check: HealthCheck) -> HealthWatch {
        HealthWatch {
            task_id,
            check,
            sandbox: None,
            env: Environment::default(),
            paused: None,
        }
    }

    /// COMMAND checks run in `dir` (the task's sandbox).
    pub fn in_sandbox(mut self, dir: Option<PathBuf>) -> HealthWatch {
        self.sandbox = dir;
        self
    }

    /// COMMAND checks get `env` (the task's environment) besides the check's own.
    pub fn with_env(mut self, env: Environment) -> HealthWatch {
        self.env = env;
        self
    }

    /// Checks stop once `flag` is set (the executor's own "being killed" flag), as with
    /// [`Watching::pause`].
    pub fn paused_by(mut self, flag: Arc<AtomicBool>) -> HealthWatch {
        self.paused = Some(flag);
        self
    }

    /// Starts the checker thread: the first check after `delay_seconds`, then every
    /// `interval_seconds`. Each change of health goes to `report` as a `TASK_RUNNING` update with
    /// `healthy` and `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`; after `consecutive_failures`
    /// failures in a row `kill` is called once with the task's id and the checks end.
    ///
    /// # Errors
    /// When the OS refuses a thread.
    pub fn start(
        self,
        report: impl Fn(TaskStatus) + Send + 'static,
        kill: impl FnOnce(TaskId) + Send + 'static,
    ) -> std::io::Result<Watching> {
        let (stop_tx, stop) = mpsc::channel::<()>();
        let watching = Watching {
            _stop: stop_tx,
            paused: self.paused.clone().unwrap_or_default(),
            killed_unhealthy: Arc::default(),
        };
        let paused = watching.paused.clone();
        let killed_unhealthy = watching.killed_unhealthy.clone();
        std::thread::Builder::new()
            .name("health-checker".into())
            .spawn(move || {
                let mut kill = Some(kill);
                self.run(&stop, &paused, |action| match action {
                    HealthAction::Report { healthy, message } => {
                        let mut status = TaskStatus::new(self.task_id.clone(), TaskState::Running)
                            .with_reason(Reason::TaskHealthCheckStatusUpdated)
                            .with_healthy(healthy);
                        if let Some(message) = message {
                            status = status.with_message(message);
                        }
                        report(status);
                    }
                    HealthAction::Kill { failures } => {
                        tracing::warn!(task_id = %self.task_id, failures, "killing an unhealthy task");
                        killed_unhealthy.store(true, Ordering::SeqCst);
                        if let Some(kill) = kill.take() {
                            kill(self.task_id.clone());
                        }
                    }
                });
            })?;
        Ok(watching)
    }

    fn run(
        &self,
        stop: &mpsc::Receiver<()>,
        paused: &AtomicBool,
        mut act: impl FnMut(HealthAction),
    ) {
        let mut checker = HealthChecker::new(&self.check, Instant::now());
        while let Some(at) = checker.next_check() {
            match stop.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            if paused.load(Ordering::SeqCst) {
                return;
            }
            let started = Instant::now();
            let result = probe(&self.check, self.sandbox.as_deref(), &self.env);
            // The task ended or is being killed while the check ran: its result means nothing.
            if paused.load(Ordering::SeqCst)
                || matches!(stop.try_recv(), Err(TryRecvError::Disconnected))
            {
                return;
            }
            for action in checker.checked(started, Instant::now(), result) {
                act(action);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HealthCheckType, TcpCheckInfo};
    use std::net::TcpListener;
    use std::time::Duration;

    fn tcp_check(port: u16) -> HealthCheck {
        HealthCheck {
            kind: HealthCheckType::Tcp,
            tcp: Some(TcpCheckInfo { port: port.into() }),
            delay_seconds: Some(0.0),
            interval_seconds: Some(0.05),
            timeout_seconds: Some(1.0),
            grace_period_seconds: Some(0.0),
            consecutive_failures: Some(2),
            ..HealthCheck::default()
        }
    }

    #[test]
    fn reports_healthy_then_unhealthy_then_kills_once() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (updates_tx, updates) = mpsc::channel();
        let (kills_tx, kills) = mpsc::channel();
        let watching = HealthWatch::new(TaskId::new("t"), tcp_check(port))
            .start(
                move |status| drop(updates_tx.send(status)),
                move |id| drop(kills_tx.send(id)),
            )
            .unwrap();
        let within = Duration::from_secs(10);
        let first = updates.recv_timeout(within).expect("first verdict");
        assert_eq!(first.healthy, Some(true));
        assert_eq!(first.state, TaskState::Running);
        assert_eq!(first.reason, Some(Reason::TaskHealthCheckStatusUpdated));
        drop(listener);
        let down = updates.recv_timeout(within).expect("unhealthy");
        assert_eq!(down.healthy, Some(false));
        assert!(down.message.unwrap_or_default().contains("TCP connection"));
        assert_eq!(
            kills.recv_timeout(within).expect("killed"),
            TaskId::new("t")
        );
        assert!(watching.killed_unhealthy());
        assert!(
            kills.recv_timeout(Duration::from_millis(300)).is_err(),
            "killed once"
        );
    }

    #[test]
    fn a_paused_or_dropped_watch_reports_nothing_more() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (updates_tx, updates) = mpsc::channel();
        let watching = HealthWatch::new(TaskId::new("t"), tcp_check(port))
            .start(move |status| drop(updates_tx.send(status)), |_| {})
            .unwrap();
        assert!(updates.recv_timeout(Duration::from_secs(10)).is_ok());
        watching.pause();
        drop(listener);
        // The thread ends, dropping the sender: the channel disconnects without an update.
        assert_eq!(
            updates.recv_timeout(Duration::from_secs(10)),
            Err(RecvTimeoutError::Disconnected)
        );
        assert!(!watching.killed_unhealthy());
    }
}
