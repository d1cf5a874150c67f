//! Task health checks as Mesos runs them in its command executor (`TaskInfo.health_check`).
//!
//! [`HealthChecker`] is the policy alone, fed `(now, result)`: the first check runs
//! `delay_seconds` after the task started, then every `interval_seconds`. Failures within
//! `grace_period_seconds` of the start are ignored until the first success. Every counted
//! failure is reported (`healthy: false`); a success is reported when it changes something (the
//! first one, or the first after failures). After `consecutive_failures` failures in a row the
//! task is to be killed (0: never). [`probe`] runs one check (a command, an HTTP GET, a TCP
//! connect) with its timeout; a [`HealthWatch`] thread joins the two for one task. The command
//! executor runs one per task; the [`ExecutorDriver`](super::ExecutorDriver) runs them for a
//! custom executor's tasks when asked to
//! ([`with_health_checks`](super::ExecutorDriver::with_health_checks)).

mod driven;
pub mod probe;
mod watch;

pub(crate) use driven::DriverHealth;

pub use watch::{HealthWatch, Watching};

use std::time::{Duration, Instant};

use crate::{EnvironmentVariable, HealthCheck, TaskInfo};

/// The task's ports as Marathon and Mesos frameworks expect them: `PORT0..PORTn`, `PORT` (the
/// first) and `PORTS` (all, comma-separated), lowest first.
pub fn port_environment(task: &TaskInfo) -> Vec<EnvironmentVariable> {
    let ports: Vec<u64> = task
        .resources
        .ports()
        .map(|ranges| ranges.values().collect())
        .unwrap_or_default();
    let var = |name: String, value: String| EnvironmentVariable { name, value };
    let mut env: Vec<EnvironmentVariable> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| var(format!("PORT{i}"), port.to_string()))
        .collect();
    if let Some(first) = ports.first() {
        env.push(var("PORT".into(), first.to_string()));
        let all: Vec<String> = ports.iter().map(u64::to_string).collect();
        env.push(var("PORTS".into(), all.join(",")));
    }
    env
}

/// What the executor does after a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthAction {
    /// Send a `TASK_RUNNING` update with `healthy` and `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`.
    Report {
        /// The verdict.
        healthy: bool,
        /// Why (the failed check's detail), for the update's message.
        message: Option<String>,
    },
    /// Kill the task: it failed `consecutive_failures` checks in a row.
    Kill {
        /// How many.
        failures: u32,
    },
}

/// The health-check policy of one task.
#[derive(Debug, Clone)]
pub struct HealthChecker {
    interval: Duration,
    consecutive_limit: u32,
    grace_ends: Instant,
    next_check: Instant,
    /// No success yet.
    initializing: bool,
    consecutive_failures: u32,
    /// Killed: no more checks.
    done: bool,
}

impl HealthChecker {
    /// The policy of `check` for a task started at `started`.
    pub fn new(check: &HealthCheck, started: Instant) -> HealthChecker {
        HealthChecker {
            interval: check.interval(),
            consecutive_limit: check.consecutive_failures(),
            grace_ends: started + check.grace_period(),
            next_check: started + check.delay(),
            initializing: true,
            consecutive_failures: 0,
            done: false,
        }
    }

    /// When the next check is due (None once the task is to be killed).
    pub fn next_check(&self) -> Option<Instant> {
        (!self.done).then_some(self.next_check)
    }

    /// Failures in a row so far.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// A check that started at `started` ended at `now` with `result` (Err: why it failed).
    /// Returns what to do.
    pub fn checked(
        &mut self,
        started: Instant,
        now: Instant,
        result: Result<(), String>,
    ) -> Vec<HealthAction> {
        if self.done {
            return Vec::new();
        }
        // The next check is an interval after this one began, never in the past.
        self.next_check = (started + self.interval).max(now);
        match result {
            Ok(()) => {
                let changed = self.initializing || self.consecutive_failures > 0;
                self.initializing = false;
                self.consecutive_failures = 0;
                if changed {
                    vec![HealthAction::Report {
                        healthy: true,
                        message: None,
                    }]
                } else {
                    Vec::new()
                }
            }
            Err(why) => {
                if self.initializing && now < self.grace_ends {
                    tracing::info!(%why, "ignoring a failed health check within the grace period");
                    return Vec::new();
                }
                self.consecutive_failures += 1;
                let mut actions = vec![HealthAction::Report {
                    healthy: false,
                    message: Some(why),
                }];
                if self.consecutive_limit > 0 && self.consecutive_failures >= self.consecutive_limit
                {
                    self.done = true;
                    actions.push(HealthAction::Kill {
                        failures: self.consecutive_failures,
                    });
                }
                actions
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HealthCheckType, TcpCheckInfo};

    fn check(delay: f64, interval: f64, grace: f64, failures: u32) -> HealthCheck {
        HealthCheck {
            kind: HealthCheckType::Tcp,
            tcp: Some(TcpCheckInfo { port: 1 }),
            delay_seconds: Some(delay),
            interval_seconds: Some(interval),
            grace_period_seconds: Some(grace),
            consecutive_failures: Some(failures),
            ..HealthCheck::default()
        }
    }

    fn report(healthy: bool) -> bool {
        healthy
    }

    #[test]
    fn first_check_after_the_delay_then_every_interval() {
        let t0 = Instant::now();
        let mut h = HealthChecker::new(&check(2.0, 1.0, 0.0, 3), t0);
        assert_eq!(h.next_check(), Some(t0 + Duration::from_secs(2)));
        let at = t0 + Duration::from_secs(2);
        h.checked(at, at + Duration::from_millis(100), Ok(()));
        assert_eq!(h.next_check(), Some(t0 + Duration::from_secs(3)));
        // A check slower than the interval: the next one starts right away.
        let at = t0 + Duration::from_secs(3);
        h.checked(at, at + Duration::from_secs(5), Ok(()));
        assert_eq!(h.next_check(), Some(at + Duration::from_secs(5)));
    }

    #[test]
    fn successes_are_reported_when_health_changes_failures_every_time() {
        let t0 = Instant::now();
        let mut h = HealthChecker::new(&check(0.0, 1.0, 0.0, 5), t0);
        let healthy = |a: &[HealthAction]| -> Vec<bool> {
            a.iter()
                .filter_map(|a| match a {
                    HealthAction::Report { healthy, .. } => Some(report(*healthy)),
                    HealthAction::Kill { .. } => None,
                })
                .collect()
        };
        assert_eq!(
            healthy(&h.checked(t0, t0, Ok(()))),
            vec![true],
            "first success"
        );
        assert!(h.checked(t0, t0, Ok(())).is_empty(), "no change, no update");
        assert_eq!(healthy(&h.checked(t0, t0, Err("down".into()))), vec![false]);
        assert_eq!(healthy(&h.checked(t0, t0, Err("down".into()))), vec![false]);
        assert_eq!(h.consecutive_failures(), 2);
        assert_eq!(healthy(&h.checked(t0, t0, Ok(()))), vec![true], "recovered");
        assert_eq!(h.consecutive_failures(), 0);
    }

    #[test]
    fn failures_within_the_grace_period_are_ignored_until_a_success() {
        let t0 = Instant::now();
        let mut h = HealthChecker::new(&check(0.0, 1.0, 10.0, 1), t0);
        let early = t0 + Duration::from_secs(5);
        assert!(h.checked(early, early, Err("starting".into())).is_empty());
        assert_eq!(h.consecutive_failures(), 0);
        // After a success the grace period no longer shields failures.
        h.checked(early, early, Ok(()));
        let actions = h.checked(early, early, Err("down".into()));
        assert!(actions.contains(&HealthAction::Kill { failures: 1 }));
        // And past the grace period, a task never healthy is checked for real.
        let mut never = HealthChecker::new(&check(0.0, 1.0, 10.0, 1), t0);
        let late = t0 + Duration::from_secs(11);
        assert!(never
            .checked(late, late, Err("down".into()))
            .contains(&HealthAction::Kill { failures: 1 }));
    }

    #[test]
    fn consecutive_failures_kill_once_and_zero_never_kills() {
        let t0 = Instant::now();
        let mut h = HealthChecker::new(&check(0.0, 1.0, 0.0, 3), t0);
        for _ in 0..2 {
            assert!(!h
                .checked(t0, t0, Err("x".into()))
                .iter()
                .any(|a| matches!(a, HealthAction::Kill { .. })));
        }
        assert!(h
            .checked(t0, t0, Err("x".into()))
            .contains(&HealthAction::Kill { failures: 3 }));
        assert_eq!(h.next_check(), None);
        assert!(h.checked(t0, t0, Err("x".into())).is_empty());
        let mut never = HealthChecker::new(&check(0.0, 1.0, 0.0, 0), t0);
        for _ in 0..10 {
            assert!(!never
                .checked(t0, t0, Err("x".into()))
                .iter()
                .any(|a| matches!(a, HealthAction::Kill { .. })));
        }
    }
}
