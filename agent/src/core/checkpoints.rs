//! The core's checkpointing decisions: which framework's state goes to disk (those with
//! `FrameworkInfo.checkpoint`), what, and in which order relative to the messages it protects.
//! [`CheckpointedRuns`] remembers which run each checkpointed task belongs to, so its updates and
//! acknowledgements reach the right log after its executor is gone, and says when a run completed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mesos::protocol::StatusUpdate;
use mesos::{ContainerId, ExecutorId, FrameworkId, TaskId, Uuid};
use process::Upid;

use super::{AgentCore, Output};
use crate::checkpoint::{Checkpoint, RunRef, UpdateRecord};

/// One checkpointed executor run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    run: RunRef,
    /// Its tasks whose terminal update is not acknowledged yet.
    tasks: BTreeSet<TaskId>,
    /// Its executor exited.
    exited: bool,
    /// The executor driver's pid as checkpointed (`libprocess.pid`).
    executor_pid: Option<Upid>,
}

/// The runs of checkpointing frameworks, and their tasks.
#[derive(Debug, Clone, Default)]
pub(super) struct CheckpointedRuns {
    runs: BTreeMap<ContainerId, Run>,
    task_runs: HashMap<(FrameworkId, TaskId), ContainerId>,
}

impl CheckpointedRuns {
    /// A new run.
    pub(super) fn add_run(&mut self, run: RunRef) {
        self.runs.insert(
            run.container_id.clone(),
            Run {
                run,
                tasks: BTreeSet::new(),
                exited: false,
                executor_pid: None,
            },
        );
    }

    /// Records the executor pid on disk for `container_id`'s run. Returns whether it changed
    /// (a re-registering executor usually comes back with the pid recorded before the restart,
    /// and rewriting it would cost two fsyncs per executor during recovery for nothing).
    pub(super) fn set_executor_pid(&mut self, container_id: &ContainerId, pid: &Upid) -> bool {
        let Some(run) = self.runs.get_mut(container_id) else {
            return false;
        };
        if run.executor_pid.as_ref() == Some(pid) {
            return false;
        }
        run.executor_pid = Some(pid.clone());
        true
    }

    /// A task of `container_id`'s run.
    pub(super) fn add_task(&mut self, container_id: &ContainerId, task_id: &TaskId) {
        if let Some(run) = self.runs.get_mut(container_id) {
            run.tasks.insert(task_id.clone());
            self.task_runs.insert(
                (run.run.framework_id.clone(), task_id.clone()),
                container_id.clone(),
            );
        }
    }

    /// The run of a checkpointed task.
    pub(super) fn task_run(&self, framework_id: &FrameworkId, task_id: &TaskId) -> Option<&RunRef> {
        let container_id = self
            .task_runs
            .get(&(framework_id.clone(), task_id.clone()))?;
        self.runs.get(container_id).map(|r| &r.run)
    }

    /// A run by container.
    pub(super) fn run(&self, container_id: &ContainerId) -> Option<&RunRef> {
        self.runs.get(container_id).map(|r| &r.run)
    }

    /// The task is done (its terminal update acknowledged, or nobody will ever acknowledge it).
    /// Returns its run if that completed with it.
    pub(super) fn task_done(
        &mut self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
    ) -> Option<RunRef> {
        let container_id = self
            .task_runs
            .remove(&(framework_id.clone(), task_id.clone()))?;
        let run = self.runs.get_mut(&container_id)?;
        run.tasks.remove(task_id);
        self.completed(&container_id)
    }

    /// The run's executor exited; its tasks for which `pending` is false need nothing more.
    /// Returns the run if it completed.
    pub(super) fn exited(
        &mut self,
        container_id: &ContainerId,
        pending: impl Fn(&FrameworkId, &TaskId) -> bool,
    ) -> Option<RunRef> {
        let run = self.runs.get_mut(container_id)?;
        run.exited = true;
        let framework_id = run.run.framework_id.clone();
        let done: Vec<TaskId> = run
            .tasks
            .iter()
            .filter(|task_id| !pending(&framework_id, task_id))
            .cloned()
            .collect();
        for task_id in done {
            run.tasks.remove(&task_id);
            self.task_runs.remove(&(framework_id.clone(), task_id));
        }
        self.completed(container_id)
    }

    fn completed(&mut self, container_id: &ContainerId) -> Option<RunRef> {
        let run = self.runs.get(container_id)?;
        if !(run.exited && run.tasks.is_empty()) {
            return None;
        }
        self.runs.remove(container_id).map(|r| r.run)
    }
}

impl AgentCore {
    /// Whether the framework checkpoints (its state survives an agent restart).
    pub(super) fn checkpoints(&self, framework_id: &FrameworkId) -> bool {
        self.book
            .framework(framework_id)
            .is_some_and(|f| f.info.checkpoint)
    }

    pub(super) fn checkpoint(&mut self, checkpoint: Checkpoint) {
        self.outbox.push(Output::Checkpoint(checkpoint));
    }

    /// The run of an executor of a checkpointing framework, as a [`RunRef`].
    pub(super) fn run_ref(
        &self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) -> Option<RunRef> {
        let executor = self.book.executor(framework_id, executor_id)?;
        Some(RunRef {
            agent_id: self.agent_id_or_default(),
            framework_id: framework_id.clone(),
            executor_id: executor_id.clone(),
            container_id: executor.container_id.clone(),
        })
    }

    /// Logs an update of a checkpointed task before anything acts on it.
    pub(super) fn checkpoint_update(&mut self, update: &StatusUpdate) {
        let Some(run) = self
            .runs
            .task_run(&update.framework_id, &update.status.task_id)
            .cloned()
        else {
            return;
        };
        self.checkpoint(Checkpoint::Update {
            run,
            task_id: update.status.task_id.clone(),
            record: UpdateRecord::Update(update.clone()),
        });
    }

    /// Logs the master's acknowledgement of a checkpointed task's update before the stream moves on.
    pub(super) fn checkpoint_ack(
        &mut self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        uuid: Uuid,
    ) {
        let Some(run) = self.runs.task_run(framework_id, task_id).cloned() else {
            return;
        };
        self.checkpoint(Checkpoint::Update {
            run,
            task_id: task_id.clone(),
            record: UpdateRecord::Ack(uuid),
        });
    }

    /// Marks a completed run on disk; its sandbox and checkpoints go after `--gc_delay`.
    pub(super) fn run_completed(&mut self, now: std::time::Instant, run: Option<RunRef>) {
        if let Some(run) = run {
            self.collect_run_garbage(now, &run);
            self.checkpoint(Checkpoint::RunCompleted { run });
        }
    }
}
