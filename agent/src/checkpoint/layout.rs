//! Where checkpoints live under `<work_dir>/meta`, after Mesos's `paths.hpp`:
//!
//! ```text
//! meta/boot_id
//! meta/slaves/latest -> <agent_id>
//! meta/slaves/<agent_id>/slave.info
//!   frameworks/<framework_id>/framework.info, framework.pid
//!     executors/<executor_id>/executor.info (+ executor.generated_for_command_task)
//!       runs/latest -> <container_id>
//!       runs/<container_id>/pids/forked.pid, pids/libprocess.pid, http.marker, executor.sentinel
//!         tasks/<task_id>/task.info, task.updates
//! ```
//!
//! Pure: paths only.

use std::path::{Path, PathBuf};

use mesos::{AgentId, ContainerId, ExecutorId, FrameworkId, TaskId};

/// One executor run: whose, and which container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunRef {
    /// The agent.
    pub agent_id: AgentId,
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// The run.
    pub container_id: ContainerId,
}

/// The meta directory's paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaLayout {
    root: PathBuf,
}

impl MetaLayout {
    /// The layout under `<work_dir>/meta`.
    pub fn new(work_dir: &Path) -> MetaLayout {
        MetaLayout {
            root: work_dir.join("meta"),
        }
    }

    /// `meta`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `meta/boot_id`: the host's boot id at the last finished recovery.
    pub fn boot_id(&self) -> PathBuf {
        self.root.join("boot_id")
    }

    /// `meta/slaves`.
    pub fn agents(&self) -> PathBuf {
        self.root.join("slaves")
    }

    /// `meta/slaves/latest`: a symlink naming the agent id to recover; removing it makes the
    /// agent start as a new agent.
    pub fn latest_agent(&self) -> PathBuf {
        self.agents().join("latest")
    }

    /// `meta/slaves/<agent_id>`.
    pub fn agent(&self, agent_id: &AgentId) -> PathBuf {
        self.agents().join(agent_id.as_str())
    }

    /// `.../slave.info`.
    pub fn agent_info(&self, agent_id: &AgentId) -> PathBuf {
        self.agent(agent_id).join("slave.info")
    }

    /// `.../frameworks/<framework_id>`.
    pub fn framework(&self, agent_id: &AgentId, framework_id: &FrameworkId) -> PathBuf {
        self.agent(agent_id)
            .join("frameworks")
            .join(framework_id.as_str())
    }

    /// `.../framework.info`.
    pub fn framework_info(&self, agent_id: &AgentId, framework_id: &FrameworkId) -> PathBuf {
        self.framework(agent_id, framework_id)
            .join("framework.info")
    }

    /// `.../framework.pid`: the scheduler's pid (empty for HTTP schedulers).
    pub fn framework_pid(&self, agent_id: &AgentId, framework_id: &FrameworkId) -> PathBuf {
        self.framework(agent_id, framework_id).join("framework.pid")
    }

    /// `.../executors/<executor_id>`.
    pub fn executor(
        &self,
        agent_id: &AgentId,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) -> PathBuf {
        self.framework(agent_id, framework_id)
            .join("executors")
            .join(executor_id.as_str())
    }

    /// `.../executor.info`.
    pub fn executor_info(
        &self,
        agent_id: &AgentId,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) -> PathBuf {
        self.executor(agent_id, framework_id, executor_id)
            .join("executor.info")
    }

    /// `.../executor.generated_for_command_task`: present when the agent made the executor up for
    /// a command task.
    pub fn executor_generated(
        &self,
        agent_id: &AgentId,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) -> PathBuf {
        self.executor(agent_id, framework_id, executor_id)
            .join("executor.generated_for_command_task")
    }

    /// `.../runs/latest`: names the executor's current run.
    pub fn latest_run(
        &self,
        agent_id: &AgentId,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) -> PathBuf {
        self.executor(agent_id, framework_id, executor_id)
            .join("runs")
            .join("latest")
    }

    /// `.../runs/<container_id>`.
    pub fn run(&self, run: &RunRef) -> PathBuf {
        self.executor(&run.agent_id, &run.framework_id, &run.executor_id)
            .join("runs")
            .join(run.container_id.as_str())
    }

    /// `.../pids/forked.pid`: the executor's OS pid (and its start time).
    pub fn forked_pid(&self, run: &RunRef) -> PathBuf {
        self.run(run).join("pids").join("forked.pid")
    }

    /// `.../pids/libprocess.pid`: the executor driver's pid.
    pub fn libprocess_pid(&self, run: &RunRef) -> PathBuf {
        self.run(run).join("pids").join("libprocess.pid")
    }

    /// `.../http.marker`: the executor subscribed over HTTP.
    pub fn http_marker(&self, run: &RunRef) -> PathBuf {
        self.run(run).join("http.marker")
    }

    /// `.../executor.sentinel`: the run completed (exited, every update acknowledged).
    pub fn sentinel(&self, run: &RunRef) -> PathBuf {
        self.run(run).join("executor.sentinel")
    }

    /// `.../tasks/<task_id>`.
    pub fn task(&self, run: &RunRef, task_id: &TaskId) -> PathBuf {
        self.run(run).join("tasks").join(task_id.as_str())
    }

    /// `.../task.info`.
    pub fn task_info(&self, run: &RunRef, task_id: &TaskId) -> PathBuf {
        self.task(run, task_id).join("task.info")
    }

    /// `.../task.updates`: the task's append-only update log.
    pub fn task_updates(&self, run: &RunRef, task_id: &TaskId) -> PathBuf {
        self.task(run, task_id).join("task.updates")
    }
}

/// `<work_dir>/slaves/<agent>/frameworks/<fw>/executors/<exec>/runs/<run>`: a run's sandbox.
pub fn sandbox(work_dir: &Path, run: &RunRef) -> PathBuf {
    work_dir
        .join("slaves")
        .join(run.agent_id.as_str())
        .join("frameworks")
        .join(run.framework_id.as_str())
        .join("executors")
        .join(run.executor_id.as_str())
        .join("runs")
        .join(run.container_id.as_str())
}

/// `<work_dir>/containers/<container_id>`: where the launcher records every container's process
/// (checkpointing framework or not), so a restarted agent finds what an earlier one left behind.
pub fn runtime_container(work_dir: &Path, container_id: &ContainerId) -> PathBuf {
    work_dir.join("containers").join(container_id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_mesos() {
        let layout = MetaLayout::new(Path::new("/w"));
        let run = RunRef {
            agent_id: AgentId::new("a"),
            framework_id: FrameworkId::new("f"),
            executor_id: ExecutorId::new("e"),
            container_id: ContainerId::new("c"),
        };
        assert_eq!(layout.latest_agent(), Path::new("/w/meta/slaves/latest"));
        assert_eq!(
            layout.task_updates(&run, &TaskId::new("t")),
            Path::new("/w/meta/slaves/a/frameworks/f/executors/e/runs/c/tasks/t/task.updates")
        );
        assert_eq!(
            layout.forked_pid(&run),
            Path::new("/w/meta/slaves/a/frameworks/f/executors/e/runs/c/pids/forked.pid")
        );
        assert_eq!(
            layout.latest_run(&run.agent_id, &run.framework_id, &run.executor_id),
            Path::new("/w/meta/slaves/a/frameworks/f/executors/e/runs/latest")
        );
        assert_eq!(
            sandbox(Path::new("/w"), &run),
            Path::new("/w/slaves/a/frameworks/f/executors/e/runs/c")
        );
    }
}
