//! An in-memory stand-in for `<work_dir>/meta`: applies the agent core's [`Checkpoint`]s the way
//! `agent::checkpoint::MetaWriter` writes them, and reads them back as the [`RecoveredState`]
//! `agent::checkpoint::read` would produce. A simulated agent crash keeps it; a wiped disk does
//! not.

use std::collections::BTreeMap;

use agent::checkpoint::{
    Checkpoint, ForkedPid, RecoveredAgent, RecoveredExecutor, RecoveredFramework, RecoveredRun,
    RecoveredState, RecoveredTask, UpdateRecord,
};
use mesos::{
    AgentId, AgentInfo, ContainerId, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo,
};
use mesos::{TaskId, TaskInfo};
use process::Upid;

#[derive(Debug, Clone, Default)]
struct StoredTask {
    info: Option<TaskInfo>,
    records: Vec<UpdateRecord>,
}

#[derive(Debug, Clone, Default)]
struct StoredRun {
    forked_pid: Option<u32>,
    libprocess_pid: Option<Upid>,
    completed: bool,
    tasks: BTreeMap<TaskId, StoredTask>,
}

#[derive(Debug, Clone, Default)]
struct StoredExecutor {
    info: Option<ExecutorInfo>,
    command_executor: bool,
    latest: Option<ContainerId>,
    runs: BTreeMap<ContainerId, StoredRun>,
}

#[derive(Debug, Clone, Default)]
struct StoredFramework {
    info: Option<FrameworkInfo>,
    pid: String,
    executors: BTreeMap<ExecutorId, StoredExecutor>,
}

#[derive(Debug, Clone, Default)]
struct StoredAgent {
    info: Option<AgentInfo>,
    frameworks: BTreeMap<FrameworkId, StoredFramework>,
}

/// One agent host's checkpoint directory, in memory.
#[derive(Debug, Clone, Default)]
pub struct CheckpointStore {
    boot_id: Option<String>,
    latest: Option<AgentId>,
    agents: BTreeMap<AgentId, StoredAgent>,
}

impl CheckpointStore {
    /// Forgets everything (the disk was wiped).
    pub fn wipe(&mut self) {
        *self = CheckpointStore::default();
    }

    fn executor(&mut self, run: &agent::checkpoint::RunRef) -> &mut StoredExecutor {
        self.agents
            .entry(run.agent_id.clone())
            .or_default()
            .frameworks
            .entry(run.framework_id.clone())
            .or_default()
            .executors
            .entry(run.executor_id.clone())
            .or_default()
    }

    fn run_mut(&mut self, run: &agent::checkpoint::RunRef) -> &mut StoredRun {
        self.executor(run)
            .runs
            .entry(run.container_id.clone())
            .or_default()
    }

    /// Performs one operation (as `MetaWriter::apply`).
    pub fn apply(&mut self, checkpoint: &Checkpoint) {
        match checkpoint {
            Checkpoint::Agent(info) => {
                if let Some(id) = &info.id {
                    self.agents.entry(id.clone()).or_default().info = Some(info.clone());
                    self.latest = Some(id.clone());
                }
            }
            Checkpoint::Framework {
                agent_id,
                info,
                pid,
            } => {
                if let Some(id) = &info.id {
                    let framework = self
                        .agents
                        .entry(agent_id.clone())
                        .or_default()
                        .frameworks
                        .entry(id.clone())
                        .or_default();
                    framework.info = Some(info.clone());
                    framework.pid = pid.clone();
                }
            }
            Checkpoint::FrameworkPid {
                agent_id,
                framework_id,
                pid,
            } => {
                self.agents
                    .entry(agent_id.clone())
                    .or_default()
                    .frameworks
                    .entry(framework_id.clone())
                    .or_default()
                    .pid = pid.clone();
            }
            Checkpoint::Executor {
                run,
                info,
                command_executor,
            } => {
                let container = run.container_id.clone();
                let executor = self.executor(run);
                executor.info = Some(info.clone());
                executor.command_executor |= *command_executor;
                executor.latest = Some(container.clone());
                executor.runs.entry(container).or_default();
            }
            Checkpoint::ForkedPid { run, pid } => self.run_mut(run).forked_pid = Some(*pid),
            Checkpoint::ExecutorPid { run, pid } => {
                self.run_mut(run).libprocess_pid = Some(pid.clone())
            }
            Checkpoint::Task { run, task } => {
                self.run_mut(run)
                    .tasks
                    .entry(task.task_id.clone())
                    .or_default()
                    .info = Some(task.clone());
            }
            Checkpoint::Update {
                run,
                task_id,
                record,
            } => self
                .run_mut(run)
                .tasks
                .entry(task_id.clone())
                .or_default()
                .records
                .push(record.clone()),
            Checkpoint::RunCompleted { run } => self.run_mut(run).completed = true,
            Checkpoint::BootId(id) => self.boot_id = Some(id.clone()),
            Checkpoint::ForgetAgent => self.latest = None,
        }
    }

    /// What `agent::checkpoint::read` would return (nothing is ever torn here).
    pub fn recovered(&self) -> RecoveredState {
        let agent = self.latest.as_ref().and_then(|id| {
            let stored = self.agents.get(id)?;
            let info = stored.info.clone()?;
            let frameworks = stored
                .frameworks
                .iter()
                .filter_map(|(framework_id, f)| {
                    let mut info = f.info.clone()?;
                    info.id = Some(framework_id.clone());
                    let executors = f
                        .executors
                        .values()
                        .filter_map(|e| {
                            let latest = e.latest.clone()?;
                            let run = e.runs.get(&latest)?;
                            Some(RecoveredExecutor {
                                info: e.info.clone()?,
                                command_executor: e.command_executor,
                                run: RecoveredRun {
                                    container_id: latest.clone(),
                                    forked_pid: run.forked_pid.map(|pid| ForkedPid {
                                        pid,
                                        start_ticks: 0,
                                    }),
                                    libprocess_pid: run.libprocess_pid.clone(),
                                    http: false,
                                    completed: run.completed,
                                    tasks: run
                                        .tasks
                                        .values()
                                        .filter_map(|t| {
                                            Some(RecoveredTask {
                                                task: t.info.clone()?,
                                                records: t.records.clone(),
                                                damaged: false,
                                            })
                                        })
                                        .collect(),
                                },
                                old_runs: Vec::new(),
                            })
                        })
                        .collect();
                    Some(RecoveredFramework {
                        info,
                        pid: f.pid.clone(),
                        executors,
                    })
                })
                .collect();
            Some(RecoveredAgent { info, frameworks })
        });
        RecoveredState {
            boot_id: self.boot_id.clone(),
            agent,
            errors: Vec::new(),
        }
    }
}
