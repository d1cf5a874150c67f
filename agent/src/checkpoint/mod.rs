//! Checkpointing: what the agent writes under `<work_dir>/meta` so a restarted agent can recover
//! the executors and tasks of frameworks that opted in (`FrameworkInfo.checkpoint`).
//!
//! The [`AgentCore`](crate::core::AgentCore) decides *what* to write and *when*, emitting
//! [`Checkpoint`] operations in the order that makes them useful (a task's info before it is
//! delivered; an update in the log before it is forwarded or acknowledged to the executor; an
//! acknowledgement in the log before the stream moves on). The [`MetaWriter`] performs them
//! durably ([`files`]), in the [`layout`] Mesos uses. [`read`] turns the directory back into a
//! [`RecoveredState`] for the core's recovery.

pub mod batch;
pub mod files;
pub mod layout;
pub mod log;
pub mod read;
mod state;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mesos::{AgentId, AgentInfo, ExecutorInfo, FrameworkId, FrameworkInfo, TaskId, TaskInfo};
use process::Upid;

pub use batch::SyncPool;
use batch::{Durability, Plan};
pub use files::FileError;
pub use layout::{MetaLayout, RunRef};
pub use log::UpdateRecord;
pub use state::*;
pub use writer::{GroupWriter, Synced};

/// One thing to write durably.
// Operations go straight from the core's outbox to the disk; boxing them would cost an allocation
// per checkpoint for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Checkpoint {
    /// The agent's info (`slave.info`), and `meta/slaves/latest` naming it: written when the master
    /// (re)registers the agent.
    Agent(AgentInfo),
    /// A checkpointing framework's info and scheduler pid: written with its first task here.
    Framework {
        /// The agent.
        agent_id: AgentId,
        /// The framework (with its id).
        info: FrameworkInfo,
        /// Its scheduler's pid (empty for an HTTP scheduler).
        pid: String,
    },
    /// The framework's scheduler moved.
    FrameworkPid {
        /// The agent.
        agent_id: AgentId,
        /// The framework.
        framework_id: FrameworkId,
        /// The new pid.
        pid: String,
    },
    /// An executor's info and its new run (`runs/latest`): written before it is launched.
    Executor {
        /// The run.
        run: RunRef,
        /// The executor.
        info: ExecutorInfo,
        /// The agent made it up for a command task.
        command_executor: bool,
    },
    /// The executor's OS pid (its start time is recorded with it, to tell it from a later process
    /// that reuses the number).
    ForkedPid {
        /// The run.
        run: RunRef,
        /// The OS pid.
        pid: u32,
    },
    /// The executor driver's pid, at registration.
    ExecutorPid {
        /// The run.
        run: RunRef,
        /// Its pid.
        pid: Upid,
    },
    /// A task as the master sent it: written before it is delivered to its executor (a restarted
    /// agent can deliver it again if it never reached the executor).
    Task {
        /// The run.
        run: RunRef,
        /// The task.
        task: TaskInfo,
    },
    /// One record of a task's update log.
    Update {
        /// The run.
        run: RunRef,
        /// The task.
        task_id: TaskId,
        /// The record.
        record: UpdateRecord,
    },
    /// The run is over: its executor exited and every update was acknowledged.
    RunCompleted {
        /// The run.
        run: RunRef,
    },
    /// The host's boot id at the end of a recovery (a different one next time means a reboot).
    BootId(String),
    /// Forget the agent (`meta/slaves/latest` removed): the next start registers as a new agent.
    ForgetAgent,
}

impl Checkpoint {
    /// The file this operation writes (for logs and errors).
    pub fn path(&self, layout: &MetaLayout) -> PathBuf {
        match self {
            Checkpoint::Agent(info) => {
                layout.agent_info(info.id.as_ref().unwrap_or(&AgentId::default()))
            }
            Checkpoint::Framework { agent_id, info, .. } => layout.framework_info(
                agent_id,
                info.id.as_ref().unwrap_or(&FrameworkId::default()),
            ),
            Checkpoint::FrameworkPid {
                agent_id,
                framework_id,
                ..
            } => layout.framework_pid(agent_id, framework_id),
            Checkpoint::Executor { run, .. } => {
                layout.executor_info(&run.agent_id, &run.framework_id, &run.executor_id)
            }
            Checkpoint::ForkedPid { run, .. } => layout.forked_pid(run),
            Checkpoint::ExecutorPid { run, .. } => layout.libprocess_pid(run),
            Checkpoint::Task { run, task } => layout.task_info(run, &task.task_id),
            Checkpoint::Update { run, task_id, .. } => layout.task_updates(run, task_id),
            Checkpoint::RunCompleted { run } => layout.sentinel(run),
            Checkpoint::BootId(_) => layout.boot_id(),
            Checkpoint::ForgetAgent => layout.latest_agent(),
        }
    }
}

/// Performs [`Checkpoint`]s under `<work_dir>/meta`: one at a time ([`apply`](Self::apply)), or a
/// batch covered by one round of syncs ([`apply_batch`](Self::apply_batch), see [`batch`]).
#[derive(Debug, Clone)]
pub struct MetaWriter {
    layout: MetaLayout,
    /// Runs a batch's syncs side by side (none: one after another).
    pool: Option<Arc<SyncPool>>,
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Our types always serialize; a failure would be a bug, and an empty file reads as missing.
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

impl MetaWriter {
    /// A writer for `<work_dir>/meta`.
    pub fn new(work_dir: &Path) -> MetaWriter {
        MetaWriter {
            layout: MetaLayout::new(work_dir),
            pool: None,
        }
    }

    /// The same writer, running each batch's syncs on `pool`'s threads side by side.
    pub fn with_sync_pool(mut self, pool: Arc<SyncPool>) -> MetaWriter {
        self.pool = Some(pool);
        self
    }

    /// The layout written.
    pub fn layout(&self) -> &MetaLayout {
        &self.layout
    }

    /// Writes `checkpoint` durably; returns once it is on disk.
    ///
    /// # Errors
    /// [`FileError`] naming the file that could not be written.
    pub fn apply(&self, checkpoint: &Checkpoint) -> Result<(), FileError> {
        self.apply_batch(std::slice::from_ref(checkpoint))
    }

    /// Writes `checkpoints` durably, their effects visible in order; returns once all are on
    /// disk. A batch should append at most one record to each update log (see [`batch`]).
    ///
    /// # Errors
    /// [`FileError`] naming the first file that could not be written; what came before it in the
    /// batch may or may not be on disk.
    pub fn apply_batch(&self, checkpoints: &[Checkpoint]) -> Result<(), FileError> {
        let mut plan = Plan::default();
        for checkpoint in checkpoints {
            self.prepare(&mut plan, checkpoint)?;
        }
        plan.commit(self.pool.as_deref())
    }

    fn prepare(&self, plan: &mut Plan, checkpoint: &Checkpoint) -> Result<(), FileError> {
        let layout = &self.layout;
        match checkpoint {
            Checkpoint::Agent(info) => {
                let Some(agent_id) = &info.id else {
                    return Ok(());
                };
                plan.write(
                    &layout.agent_info(agent_id),
                    &json(info),
                    Durability::Synced,
                )?;
                plan.symlink(&layout.latest_agent(), Path::new(agent_id.as_str()))
            }
            Checkpoint::Framework {
                agent_id,
                info,
                pid,
            } => {
                let Some(framework_id) = &info.id else {
                    return Ok(());
                };
                plan.write(
                    &layout.framework_info(agent_id, framework_id),
                    &json(info),
                    Durability::Synced,
                )?;
                plan.write(
                    &layout.framework_pid(agent_id, framework_id),
                    pid.as_bytes(),
                    Durability::Synced,
                )
            }
            Checkpoint::FrameworkPid {
                agent_id,
                framework_id,
                pid,
            } => plan.write(
                &layout.framework_pid(agent_id, framework_id),
                pid.as_bytes(),
                Durability::Synced,
            ),
            Checkpoint::Executor {
                run,
                info,
                command_executor,
            } => {
                let (a, f, e) = (&run.agent_id, &run.framework_id, &run.executor_id);
                plan.write(
                    &layout.executor_info(a, f, e),
                    &json(info),
                    Durability::Synced,
                )?;
                if *command_executor {
                    plan.touch(&layout.executor_generated(a, f, e))?;
                }
                plan.create_dirs(&layout.run(run))?;
                plan.symlink(
                    &layout.latest_run(a, f, e),
                    Path::new(run.container_id.as_str()),
                )
            }
            // Pids only mean something while the host is up (see [`batch`]).
            Checkpoint::ForkedPid { run, pid } => {
                let start = crate::launcher::process_start_ticks(*pid).unwrap_or(0);
                plan.write(
                    &layout.forked_pid(run),
                    format!("{pid} {start}").as_bytes(),
                    Durability::HostLifetime,
                )
            }
            Checkpoint::ExecutorPid { run, pid } => plan.write(
                &layout.libprocess_pid(run),
                pid.to_string().as_bytes(),
                Durability::HostLifetime,
            ),
            Checkpoint::Task { run, task } => plan.write(
                &layout.task_info(run, &task.task_id),
                &json(task),
                Durability::Synced,
            ),
            Checkpoint::Update {
                run,
                task_id,
                record,
            } => plan.append(&layout.task_updates(run, task_id), log::encode(record)),
            Checkpoint::RunCompleted { run } => plan.touch(&layout.sentinel(run)),
            Checkpoint::BootId(id) => {
                plan.write(&layout.boot_id(), id.as_bytes(), Durability::Synced)
            }
            Checkpoint::ForgetAgent => {
                plan.remove(&layout.latest_agent());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod writer_tests;
