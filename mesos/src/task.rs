//! `TaskInfo`: a task a framework asks an agent to run.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::command::CommandInfo;
use crate::executor::ExecutorInfo;
use crate::ids::{AgentId, TaskId};
use crate::labels::Labels;
use crate::resources::Resources;

/// A duration as Mesos's `DurationInfo`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct DurationInfo {
    /// Nanoseconds.
    pub nanoseconds: i64,
}

impl DurationInfo {
    /// The duration, negative values as zero.
    pub fn to_duration(self) -> Duration {
        Duration::from_nanos(u64::try_from(self.nanoseconds).unwrap_or(0))
    }
}

impl From<Duration> for DurationInfo {
    fn from(d: Duration) -> DurationInfo {
        DurationInfo {
            nanoseconds: i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        }
    }
}

/// How to kill a task (Mesos's `KillPolicy`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KillPolicy {
    /// Time between SIGTERM and SIGKILL; the agent's default when absent.
    pub grace_period: Option<DurationInfo>,
}

/// A task to launch (Mesos's `TaskInfo`). Exactly one of `command` (run by
/// the agent's built-in command executor) or `executor` (a custom executor)
/// must be set; the master rejects other combinations with TASK_ERROR.
///
/// ```
/// use mesos::{AgentId, CommandInfo, TaskId, TaskInfo};
/// let task = TaskInfo::new("sleep-1", "sleeper", AgentId::new("agent-1"), "cpus:0.1;mem:32".parse()?)
///     .with_command(CommandInfo::shell("sleep 1"));
/// assert_eq!(task.task_id, TaskId::new("sleep-1"));
/// assert_eq!(task.resources.cpus(), Some(0.1));
/// # Ok::<(), mesos::ResourcesError>(())
/// ```
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskInfo {
    /// A human-readable name.
    pub name: String,
    /// The task's id, unique within the framework.
    pub task_id: TaskId,
    /// The agent to run on (from the offer); v0 JSON `slave_id` is accepted.
    #[serde(alias = "slave_id")]
    pub agent_id: AgentId,
    /// The resources the task uses (must come from the offers used).
    pub resources: Resources,
    /// A custom executor to run the task.
    pub executor: Option<ExecutorInfo>,
    /// A command for the built-in command executor.
    pub command: Option<CommandInfo>,
    /// Opaque data for the executor (base64 in JSON).
    #[serde(with = "crate::encoding::bytes")]
    pub data: Vec<u8>,
    /// Free-form labels.
    pub labels: Labels,
    /// How to kill the task.
    pub kill_policy: Option<KillPolicy>,
    /// How the executor checks the task's health.
    pub health_check: Option<crate::health_check::HealthCheck>,
}

impl TaskInfo {
    /// A task `task_id` named `name` on `agent_id` using `resources`; set a
    /// command or an executor next.
    pub fn new(
        task_id: impl Into<TaskId>,
        name: impl Into<String>,
        agent_id: AgentId,
        resources: Resources,
    ) -> TaskInfo {
        TaskInfo {
            name: name.into(),
            task_id: task_id.into(),
            agent_id,
            resources,
            ..TaskInfo::default()
        }
    }

    /// Runs `command` with the built-in command executor.
    pub fn with_command(mut self, command: CommandInfo) -> TaskInfo {
        self.command = Some(command);
        self
    }

    /// Runs the task with a custom executor.
    pub fn with_executor(mut self, executor: ExecutorInfo) -> TaskInfo {
        self.executor = Some(executor);
        self
    }

    /// Attaches opaque data for the executor.
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> TaskInfo {
        self.data = data.into();
        self
    }

    /// Sets the kill grace period.
    pub fn with_kill_grace_period(mut self, grace: Duration) -> TaskInfo {
        self.kill_policy = Some(KillPolicy {
            grace_period: Some(grace.into()),
        });
        self
    }

    /// Checks the task's health with `check`.
    pub fn with_health_check(mut self, check: crate::health_check::HealthCheck) -> TaskInfo {
        self.health_check = Some(check);
        self
    }

    /// The resources the task and a custom executor use together.
    pub fn total_resources(&self) -> Resources {
        match &self.executor {
            Some(e) => &self.resources + &e.resources,
            None => self.resources.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ExecutorId;

    #[test]
    fn json_shape_and_round_trip() {
        let task = TaskInfo::new("t1", "n", AgentId::new("a1"), "cpus:1".parse().unwrap())
            .with_command(CommandInfo::shell("true"))
            .with_data(b"hi".to_vec())
            .with_kill_grace_period(Duration::from_secs(3));
        let json = serde_json::to_value(&task).unwrap();
        assert_eq!(json["task_id"]["value"], "t1");
        assert_eq!(json["agent_id"]["value"], "a1");
        assert_eq!(json["data"], "aGk=");
        assert_eq!(
            json["kill_policy"]["grace_period"]["nanoseconds"],
            3_000_000_000i64
        );
        assert_eq!(serde_json::from_value::<TaskInfo>(json).unwrap(), task);
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&task, cfg).unwrap();
        assert_eq!(
            bincode::serde::decode_from_slice::<TaskInfo, _>(&bytes, cfg)
                .unwrap()
                .0,
            task
        );
    }

    #[test]
    fn total_resources_include_executor() {
        let exec = ExecutorInfo::new(ExecutorId::new("e"), CommandInfo::shell("./exec"))
            .with_resources("cpus:0.1;mem:32".parse().unwrap());
        let task = TaskInfo::new("t", "n", AgentId::new("a"), "cpus:1".parse().unwrap())
            .with_executor(exec);
        assert_eq!(task.total_resources(), "cpus:1.1;mem:32".parse().unwrap());
        assert_eq!(KillPolicy::default().grace_period, None);
        assert_eq!(
            DurationInfo { nanoseconds: -5 }.to_duration(),
            Duration::ZERO
        );
    }
}
