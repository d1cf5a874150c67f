//! What recovery reads back: the checkpointed agent, frameworks, executors, runs and tasks, as
//! plain data for [`AgentCore::recover`](crate::core::AgentCore::recover).

use std::path::PathBuf;

use mesos::{AgentInfo, ContainerId, ExecutorInfo, FrameworkInfo, TaskInfo};
use process::Upid;

use super::log::UpdateRecord;

/// Everything read from `<work_dir>/meta`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecoveredState {
    /// The host's boot id when the previous agent finished recovering.
    pub boot_id: Option<String>,
    /// The agent `meta/slaves/latest` names, if any (none: a first start, or the operator asked
    /// for a new agent).
    pub agent: Option<RecoveredAgent>,
    /// What could not be read (with `--strict=false`), one line per problem naming the file.
    pub errors: Vec<String>,
}

/// The checkpointed agent.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredAgent {
    /// Its info, with its id.
    pub info: AgentInfo,
    /// Its checkpointing frameworks.
    pub frameworks: Vec<RecoveredFramework>,
}

/// A checkpointed framework.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredFramework {
    /// Its info, with its id.
    pub info: FrameworkInfo,
    /// Its scheduler's pid (empty for HTTP schedulers).
    pub pid: String,
    /// Its executors.
    pub executors: Vec<RecoveredExecutor>,
}

/// A checkpointed executor: its latest run.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredExecutor {
    /// Its info.
    pub info: ExecutorInfo,
    /// The agent made it up for a command task.
    pub command_executor: bool,
    /// The run `runs/latest` names.
    pub run: RecoveredRun,
    /// Older runs' meta directories (garbage).
    pub old_runs: Vec<PathBuf>,
}

/// The OS process of a run, as checkpointed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForkedPid {
    /// The pid.
    pub pid: u32,
    /// Its start time in clock ticks since boot (0 if unknown), to tell it from a later process
    /// reusing the number.
    pub start_ticks: u64,
}

/// One executor run.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredRun {
    /// The container.
    pub container_id: ContainerId,
    /// The executor's OS process, if it was started.
    pub forked_pid: Option<ForkedPid>,
    /// The executor driver's pid, if it registered.
    pub libprocess_pid: Option<Upid>,
    /// It subscribed over HTTP.
    pub http: bool,
    /// It completed (exited, every update acknowledged).
    pub completed: bool,
    /// Its tasks.
    pub tasks: Vec<RecoveredTask>,
}

/// One checkpointed task and its update log.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredTask {
    /// The task as the master sent it.
    pub task: TaskInfo,
    /// Its update log, in order (a torn tail already dropped).
    pub records: Vec<UpdateRecord>,
    /// Its log was damaged past a torn tail (`--strict=false` kept what preceded the damage): its
    /// state may be older than the truth.
    pub damaged: bool,
}
