//! [`ExecutorEnv`]: what the agent tells an executor through its environment.

use std::path::PathBuf;
use std::time::Duration;

use process::Upid;

use crate::duration::parse_duration;
use crate::{AgentId, ExecutorId, FrameworkId};

/// A missing or malformed executor environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// A required variable is not set (the executor was not started by an agent).
    #[error("environment variable {0} is not set (was this executor started by an agent?)")]
    Missing(&'static str),
    /// A variable holds a value of the wrong form.
    #[error("environment variable {name} has a bad value '{value}': expected {expected}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// The accepted form.
        expected: &'static str,
    },
}

/// The executor's identity and its agent, as the agent passes them in environment variables.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutorEnv {
    /// `MESOS_AGENT_PID` (or the older `MESOS_SLAVE_PID`): the agent process to register with.
    pub agent_pid: Upid,
    /// `MESOS_FRAMEWORK_ID`.
    pub framework_id: FrameworkId,
    /// `MESOS_EXECUTOR_ID`.
    pub executor_id: ExecutorId,
    /// `MESOS_AGENT_ID` (or `MESOS_SLAVE_ID`), if set.
    pub agent_id: Option<AgentId>,
    /// `MESOS_DIRECTORY`: the sandbox, if set.
    pub directory: Option<PathBuf>,
    /// `MESOS_CHECKPOINT=1`: the framework checkpoints, so the executor waits for a restarted agent
    /// instead of shutting down when its agent goes away.
    pub checkpoint: bool,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` (Mesos duration form), default 5 s.
    pub shutdown_grace_period: Duration,
    /// `MESOS_RECOVERY_TIMEOUT` (Mesos duration form), default 15 minutes: how long a checkpointing
    /// executor waits for its agent to come back before it shuts itself down.
    pub recovery_timeout: Duration,
}

/// Mesos's default executor shutdown grace period.
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Mesos's default `--recovery_timeout`.
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

impl ExecutorEnv {
    /// A minimal environment, for executors started by hand or in tests.
    pub fn new(agent_pid: Upid, framework_id: FrameworkId, executor_id: ExecutorId) -> ExecutorEnv {
        ExecutorEnv {
            agent_pid,
            framework_id,
            executor_id,
            agent_id: None,
            directory: None,
            checkpoint: false,
            shutdown_grace_period: DEFAULT_SHUTDOWN_GRACE,
            recovery_timeout: DEFAULT_RECOVERY_TIMEOUT,
        }
    }

    /// Reads the process environment.
    ///
    /// # Errors
    /// [`EnvError`] naming the missing or malformed variable.
    pub fn from_env() -> Result<ExecutorEnv, EnvError> {
        ExecutorEnv::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (the environment, or a map in tests).
    ///
    /// # Errors
    /// [`EnvError`] naming the missing or malformed variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ExecutorEnv, EnvError> {
        let either = |a: &'static str, b: &'static str| -> Option<(&'static str, String)> {
            lookup(a)
                .map(|v| (a, v))
                .or_else(|| lookup(b).map(|v| (b, v)))
        };
        let (pid_name, pid) = either("MESOS_AGENT_PID", "MESOS_SLAVE_PID")
            .ok_or(EnvError::Missing("MESOS_AGENT_PID"))?;
        let agent_pid = pid.parse::<Upid>().map_err(|_| EnvError::Invalid {
            name: pid_name,
            value: pid.clone(),
            expected: "a pid such as slave(1)@127.0.0.1:5051",
        })?;
        let required = |name: &'static str| lookup(name).ok_or(EnvError::Missing(name));
        let framework_id = FrameworkId::new(required("MESOS_FRAMEWORK_ID")?);
        let executor_id = ExecutorId::new(required("MESOS_EXECUTOR_ID")?);
        let agent_id = either("MESOS_AGENT_ID", "MESOS_SLAVE_ID").map(|(_, v)| AgentId::new(v));
        let directory = lookup("MESOS_DIRECTORY").map(PathBuf::from);
        let checkpoint = matches!(lookup("MESOS_CHECKPOINT").as_deref(), Some("1" | "true"));
        let duration = |name: &'static str, default: Duration| match lookup(name) {
            None => Ok(default),
            Some(value) => parse_duration(&value).map_err(|_| EnvError::Invalid {
                name,
                value,
                expected: "a duration such as 5secs",
            }),
        };
        let shutdown_grace_period = duration(
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
            DEFAULT_SHUTDOWN_GRACE,
        )?;
        let recovery_timeout = duration("MESOS_RECOVERY_TIMEOUT", DEFAULT_RECOVERY_TIMEOUT)?;
        Ok(ExecutorEnv {
            agent_pid,
            framework_id,
            executor_id,
            agent_id,
            directory,
            checkpoint,
            shutdown_grace_period,
            recovery_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_every_variable() {
        let env = ExecutorEnv::from_lookup(lookup(&[
            ("MESOS_SLAVE_PID", "slave(1)@127.0.0.1:5051"),
            ("MESOS_FRAMEWORK_ID", "f1"),
            ("MESOS_EXECUTOR_ID", "e1"),
            ("MESOS_AGENT_ID", "a1"),
            ("MESOS_DIRECTORY", "/tmp/sandbox"),
            ("MESOS_CHECKPOINT", "1"),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "2secs"),
            ("MESOS_RECOVERY_TIMEOUT", "3mins"),
        ]))
        .unwrap();
        assert_eq!(env.agent_pid.to_string(), "slave(1)@127.0.0.1:5051");
        assert_eq!(env.framework_id, FrameworkId::new("f1"));
        assert_eq!(env.executor_id, ExecutorId::new("e1"));
        assert_eq!(env.agent_id, Some(AgentId::new("a1")));
        assert_eq!(env.directory, Some(PathBuf::from("/tmp/sandbox")));
        assert!(env.checkpoint);
        assert_eq!(env.shutdown_grace_period, Duration::from_secs(2));
        assert_eq!(env.recovery_timeout, Duration::from_secs(180));
    }

    #[test]
    fn errors_name_the_variable() {
        let err = ExecutorEnv::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(err, EnvError::Missing("MESOS_AGENT_PID"));
        let err = ExecutorEnv::from_lookup(lookup(&[("MESOS_AGENT_PID", "nonsense")])).unwrap_err();
        assert!(err.to_string().contains("MESOS_AGENT_PID"), "{err}");
        let err = ExecutorEnv::from_lookup(lookup(&[
            ("MESOS_AGENT_PID", "slave(1)@127.0.0.1:5051"),
            ("MESOS_FRAMEWORK_ID", "f"),
        ]))
        .unwrap_err();
        assert_eq!(err, EnvError::Missing("MESOS_EXECUTOR_ID"));
    }
}
