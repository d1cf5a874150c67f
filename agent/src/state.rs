//! The agent's bookkeeping: frameworks, their executors, and tasks — queued, running, terminated but
//! not yet acknowledged, completed. Pure: decisions come back as values the actor acts on.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Instant;

use mesos::protocol::{StatusUpdate, Task};
use mesos::{
    AgentId, CommandInfo, ContainerId, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo,
    Reason, Resources, Source, TaskId, TaskInfo, TaskState, TaskStatus,
};

use crate::core::ExecutorEndpoint;

/// Completed tasks kept per framework (Mesos's `max_completed_tasks_per_framework`).
const MAX_COMPLETED_TASKS: usize = 1000;
/// Statuses kept per task.
const MAX_STATUSES: usize = 16;

/// Where an executor is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorState {
    /// Launched, not registered yet: its tasks wait in the queue.
    Registering,
    /// Recovered from checkpoints after an agent restart: waiting for it to re-register.
    Recovering,
    /// Registered: tasks go straight to it.
    Running,
    /// Asked to shut down; waiting for it to exit.
    Terminating,
}

/// One executor (a child process) and its tasks.
#[derive(Debug, Clone)]
pub struct ExecutorRecord {
    /// Its info (for command tasks, one the agent made up).
    pub info: ExecutorInfo,
    /// Its framework.
    pub framework_id: FrameworkId,
    /// The container (run) id: names the sandbox run directory.
    pub container_id: ContainerId,
    /// The sandbox.
    pub directory: PathBuf,
    /// Where it is in its life.
    pub state: ExecutorState,
    /// Where it listens (its driver's pid, or its HTTP stream), once registered.
    pub endpoint: Option<ExecutorEndpoint>,
    /// Whether this is the built-in command executor (one task, executor id = task id).
    pub command_executor: bool,
    /// Tasks waiting for the executor to register.
    pub queued: Vec<TaskInfo>,
    /// Non-terminal tasks (queued ones included, as `TASK_STAGING`).
    pub tasks: BTreeMap<TaskId, Task>,
    /// When it was launched (for the registration timeout).
    pub launched_at: Instant,
    /// Why the agent is terminating it, if it is (what its tasks' updates say).
    pub termination: Option<Termination>,
}

/// How the agent ended an executor: what the updates of its live tasks say.
#[derive(Debug, Clone, PartialEq)]
pub struct Termination {
    /// The reason.
    pub reason: Reason,
    /// The state (default: `TASK_FAILED` for a command executor's task, `TASK_LOST` otherwise).
    pub state: Option<TaskState>,
    /// The message (default: how the executor ended).
    pub message: Option<String>,
}

impl ExecutorRecord {
    /// The resources of the executor and its live tasks.
    pub fn resources(&self) -> Resources {
        let mut total = self.info.resources.clone();
        for task in self.tasks.values() {
            total += &task.resources;
        }
        total
    }
}

/// One framework with work on this agent.
#[derive(Debug, Clone)]
pub struct FrameworkRecord {
    /// Its info.
    pub info: FrameworkInfo,
    /// Its id.
    pub id: FrameworkId,
    /// Its scheduler's pid.
    pub pid: String,
    /// Its executors.
    pub executors: BTreeMap<ExecutorId, ExecutorRecord>,
    /// Terminal tasks whose terminal update the master has not acknowledged yet (they still hold
    /// their resources).
    pub terminated: BTreeMap<TaskId, Task>,
    /// Recently completed tasks, oldest first.
    pub completed: VecDeque<Task>,
    /// Being shut down: no new tasks, no updates for its exiting executors.
    pub terminating: bool,
}

/// What to do with a task the master sent.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// Start a new executor, which gets the task once it registers.
    Launch(Box<LaunchSpec>),
    /// The executor is starting; the task waits for it.
    Queued,
    /// The executor is registered: send it the task.
    Send(ExecutorEndpoint),
    /// The task cannot run here: send this update instead.
    Rejected(TaskStatus),
}

/// Everything needed to start an executor process.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchSpec {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The framework's info (checkpointing).
    pub framework: FrameworkInfo,
    /// The executor.
    pub executor: ExecutorInfo,
    /// The container id.
    pub container_id: ContainerId,
    /// The sandbox to create.
    pub directory: PathBuf,
    /// Whether it is the command executor.
    pub command_executor: bool,
    /// The agent's id (the executor's environment names it).
    pub agent_id: AgentId,
    /// What the container starts with: the executor's and its first task's resources.
    pub resources: Resources,
}

/// What to do about a kill request.
#[derive(Debug, Clone, PartialEq)]
pub enum KillOutcome {
    /// The framework is unknown: nothing to do.
    Ignored,
    /// The task never reached an executor: report this (`TASK_KILLED` or `TASK_LOST`).
    Report(TaskStatus),
    /// Forward the kill to the executor.
    Forward(ExecutorEndpoint),
    /// The task waits for its executor to start: it was dropped from the queue; report this update,
    /// and shut the executor down if `shutdown_executor` (it has nothing left to run).
    Dequeued {
        /// The `TASK_KILLED` update.
        status: TaskStatus,
        /// The executor to shut down, if it has no work left.
        shutdown_executor: Option<ExecutorId>,
    },
}

/// An executor that exited, and what follows from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutorExit {
    /// The executor's info.
    pub executor: ExecutorInfo,
    /// Its sandbox.
    pub directory: PathBuf,
    /// Its container.
    pub container_id: ContainerId,
    /// Updates for its tasks that were not terminal (empty if its framework is shutting down).
    pub statuses: Vec<TaskStatus>,
    /// Whether to tell the master (`ExitedExecutorMessage`): not for a framework being shut down.
    pub notify_master: bool,
}

/// The agent's frameworks, executors and tasks.
#[derive(Debug, Clone)]
pub struct AgentBook {
    work_dir: PathBuf,
    launcher: PathBuf,
    agent_id: AgentId,
    frameworks: BTreeMap<FrameworkId, FrameworkRecord>,
}

impl AgentBook {
    /// An empty book; sandboxes go under `work_dir`; `launcher` is the command executor binary.
    pub fn new(work_dir: &Path, launcher: &Path) -> AgentBook {
        AgentBook {
            work_dir: work_dir.to_path_buf(),
            launcher: launcher.to_path_buf(),
            agent_id: AgentId::new(""),
            frameworks: BTreeMap::new(),
        }
    }

    /// Sets the id the master gave (sandbox paths include it).
    pub fn set_agent_id(&mut self, agent_id: AgentId) {
        self.agent_id = agent_id;
    }

    /// The frameworks.
    pub fn frameworks(&self) -> impl Iterator<Item = &FrameworkRecord> {
        self.frameworks.values()
    }

    /// One framework.
    pub fn framework(&self, id: &FrameworkId) -> Option<&FrameworkRecord> {
        self.frameworks.get(id)
    }

    /// One executor.
    pub fn executor(&self, framework_id: &FrameworkId, id: &ExecutorId) -> Option<&ExecutorRecord> {
        self.frameworks.get(framework_id)?.executors.get(id)
    }

    /// A live task (queued ones included) and its executor.
    pub fn task(&self, framework_id: &FrameworkId, task_id: &TaskId) -> Option<(ExecutorId, Task)> {
        self.frameworks
            .get(framework_id)?
            .executors
            .values()
            .find_map(|e| {
                e.tasks
                    .get(task_id)
                    .map(|t| (e.info.executor_id.clone(), t.clone()))
            })
    }

    /// Whether the task completed here (its terminal update acknowledged): later updates of it are
    /// stale copies.
    pub fn is_completed(&self, framework_id: &FrameworkId, task_id: &TaskId) -> bool {
        self.frameworks
            .get(framework_id)
            .is_some_and(|f| f.completed.iter().any(|t| &t.task_id == task_id))
    }

    /// Every executor.
    pub fn executors(&self) -> impl Iterator<Item = &ExecutorRecord> {
        self.frameworks.values().flat_map(|f| f.executors.values())
    }

    /// Resources held by executors, live tasks and unacknowledged terminal tasks.
    pub fn used_resources(&self) -> Resources {
        let mut used = Resources::new();
        for framework in self.frameworks.values() {
            for executor in framework.executors.values() {
                used += &executor.resources();
            }
            for task in framework.terminated.values() {
                used += &task.resources;
            }
        }
        used
    }

    /// The sandbox of a run: `<work_dir>/slaves/<agent>/frameworks/<fw>/executors/<exec>/runs/<run>`.
    pub fn sandbox(
        &self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        container_id: &ContainerId,
    ) -> PathBuf {
        self.work_dir
            .join("slaves")
            .join(self.agent_id.as_str())
            .join("frameworks")
            .join(framework_id.as_str())
            .join("executors")
            .join(executor_id.as_str())
            .join("runs")
            .join(container_id.as_str())
    }

    /// The executor that runs a command task: the built-in one, with the task's id.
    fn command_executor_info(&self, framework_id: &FrameworkId, task: &TaskInfo) -> ExecutorInfo {
        let mut info = ExecutorInfo::new(
            task.task_id.as_str(),
            CommandInfo::argv(
                self.launcher.display().to_string(),
                vec!["mesos-executor".to_string()],
            ),
        );
        info.framework_id = Some(framework_id.clone());
        // As Mesos: the task's URIs are fetched into the command executor's sandbox.
        if let Some(command) = &task.command {
            info.command.uris = command.uris.clone();
            // ... and it runs as the task's user (`--switch_user`).
            info.command.user = command.user.clone();
        }
        info.name = Some(format!("Command Executor (Task: {})", task.task_id));
        info.source = Some(task.task_id.to_string());
        info
    }

    /// A task arrived from the master. `container_id` is used if a new executor must start.
    pub fn run_task(
        &mut self,
        now: Instant,
        framework: &FrameworkInfo,
        framework_id: &FrameworkId,
        scheduler_pid: &str,
        task: TaskInfo,
        container_id: ContainerId,
    ) -> RunOutcome {
        let reject = |state: TaskState, reason: Reason, message: &str| {
            RunOutcome::Rejected(
                TaskStatus::new(task.task_id.clone(), state)
                    .with_source(Source::Agent)
                    .with_reason(reason)
                    .with_message(message),
            )
        };
        let (executor_info, command_executor) = match (&task.executor, &task.command) {
            (Some(executor), _) => {
                let mut executor = executor.clone();
                executor.framework_id = Some(framework_id.clone());
                (executor, false)
            }
            (None, Some(_)) => (self.command_executor_info(framework_id, &task), true),
            (None, None) => {
                return reject(
                    TaskState::Error,
                    Reason::TaskInvalid,
                    "task has neither a command nor an executor",
                )
            }
        };
        let sandbox = self.sandbox(framework_id, &executor_info.executor_id, &container_id);
        let record = self
            .frameworks
            .entry(framework_id.clone())
            .or_insert_with(|| FrameworkRecord {
                info: framework.clone(),
                id: framework_id.clone(),
                pid: scheduler_pid.to_string(),
                executors: BTreeMap::new(),
                terminated: BTreeMap::new(),
                completed: VecDeque::new(),
                terminating: false,
            });
        if record.terminating {
            return reject(
                TaskState::Lost,
                Reason::FrameworkRemoved,
                "framework is being shut down",
            );
        }
        let duplicate = record.terminated.contains_key(&task.task_id)
            || record
                .executors
                .values()
                .any(|e| e.tasks.contains_key(&task.task_id));
        if duplicate {
            return reject(
                TaskState::Error,
                Reason::TaskInvalid,
                "a task with this id already runs on this agent",
            );
        }
        let staged = Task::staging(&task, framework_id, Some(executor_info.executor_id.clone()));
        match record.executors.get_mut(&executor_info.executor_id) {
            Some(executor) => match (executor.state, executor.endpoint.clone()) {
                (ExecutorState::Terminating, _) => reject(
                    TaskState::Lost,
                    Reason::ExecutorTerminated,
                    "executor is shutting down",
                ),
                _ if executor.command_executor => reject(
                    TaskState::Error,
                    Reason::TaskInvalid,
                    "a command executor runs one task only",
                ),
                (ExecutorState::Running, Some(endpoint)) => {
                    executor.tasks.insert(task.task_id.clone(), staged);
                    RunOutcome::Send(endpoint)
                }
                _ => {
                    executor.tasks.insert(task.task_id.clone(), staged);
                    executor.queued.push(task);
                    RunOutcome::Queued
                }
            },
            None => {
                let mut tasks = BTreeMap::new();
                tasks.insert(task.task_id.clone(), staged);
                let executor = ExecutorRecord {
                    info: executor_info.clone(),
                    framework_id: framework_id.clone(),
                    container_id: container_id.clone(),
                    directory: sandbox.clone(),
                    state: ExecutorState::Registering,
                    endpoint: None,
                    command_executor,
                    queued: vec![task],
                    tasks,
                    launched_at: now,
                    termination: None,
                };
                let resources = executor.resources();
                record
                    .executors
                    .insert(executor_info.executor_id.clone(), executor);
                RunOutcome::Launch(Box::new(LaunchSpec {
                    framework_id: framework_id.clone(),
                    framework: record.info.clone(),
                    executor: executor_info,
                    container_id,
                    directory: sandbox,
                    command_executor,
                    agent_id: self.agent_id.clone(),
                    resources,
                }))
            }
        }
    }

    /// An executor registered from `endpoint`. Returns its queued tasks to send it, or None if the
    /// agent does not expect it (it should be told to shut down).
    pub fn executor_registered(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        endpoint: ExecutorEndpoint,
    ) -> Option<(&FrameworkRecord, Vec<TaskInfo>)> {
        let framework = self.frameworks.get_mut(framework_id)?;
        let executor = framework.executors.get_mut(executor_id)?;
        if !matches!(
            executor.state,
            ExecutorState::Registering | ExecutorState::Recovering
        ) {
            return None;
        }
        executor.state = ExecutorState::Running;
        executor.endpoint = Some(endpoint);
        let queued = std::mem::take(&mut executor.queued);
        Some((&*framework, queued))
    }

    /// A status update passed through: record the task's new state. A terminal task moves to the
    /// unacknowledged-terminal set (its resources stay held until the acknowledgement).
    pub fn update_task(&mut self, update: &StatusUpdate) {
        let Some(framework) = self.frameworks.get_mut(&update.framework_id) else {
            return;
        };
        let task_id = &update.status.task_id;
        let mut terminal_task = None;
        for executor in framework.executors.values_mut() {
            if let Some(task) = executor.tasks.get_mut(task_id) {
                apply_status(task, update);
                if update.status.state.is_terminal() {
                    executor.queued.retain(|t| &t.task_id != task_id);
                    terminal_task = executor.tasks.remove(task_id);
                }
                break;
            }
        }
        if let Some(task) = terminal_task {
            framework.terminated.insert(task_id.clone(), task);
        } else if let Some(task) = framework.terminated.get_mut(task_id) {
            apply_status(task, update);
        }
    }

    /// The master acknowledged a task's terminal update: the task is complete, its resources free.
    pub fn terminal_acknowledged(&mut self, framework_id: &FrameworkId, task_id: &TaskId) {
        if let Some(framework) = self.frameworks.get_mut(framework_id) {
            if let Some(task) = framework.terminated.remove(task_id) {
                framework.completed.push_back(task);
                if framework.completed.len() > MAX_COMPLETED_TASKS {
                    framework.completed.pop_front();
                }
            }
        }
    }

    /// The master (or a scheduler) wants a task killed.
    pub fn kill_task(&mut self, framework_id: &FrameworkId, task_id: &TaskId) -> KillOutcome {
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            return KillOutcome::Ignored;
        };
        for executor in framework.executors.values_mut() {
            if !executor.tasks.contains_key(task_id) {
                continue;
            }
            let queued = executor.queued.iter().any(|t| &t.task_id == task_id);
            if queued || executor.state != ExecutorState::Running {
                executor.queued.retain(|t| &t.task_id != task_id);
                let status = TaskStatus::new(task_id.clone(), TaskState::Killed)
                    .with_source(Source::Agent)
                    .with_reason(Reason::TaskKilledDuringLaunch)
                    .with_message("killed before the executor started it");
                // Nothing else to run (a recovered executor may run other tasks, not queued).
                let idle =
                    executor.queued.is_empty() && executor.tasks.keys().all(|t| t == task_id);
                let shutdown_executor = idle.then(|| executor.info.executor_id.clone());
                return KillOutcome::Dequeued {
                    status,
                    shutdown_executor,
                };
            }
            if let Some(endpoint) = &executor.endpoint {
                return KillOutcome::Forward(endpoint.clone());
            }
        }
        if framework.terminated.contains_key(task_id) {
            // Already terminal; its update is on its way.
            return KillOutcome::Ignored;
        }
        KillOutcome::Report(
            TaskStatus::new(task_id.clone(), TaskState::Lost)
                .with_source(Source::Agent)
                .with_reason(Reason::TaskUnknown)
                .with_message("the agent does not know this task"),
        )
    }

    /// Marks an executor as shutting down; returns its endpoint if registered (None if unknown).
    pub fn shutdown_executor(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) -> Option<Option<ExecutorEndpoint>> {
        let executor = self
            .frameworks
            .get_mut(framework_id)?
            .executors
            .get_mut(executor_id)?;
        executor.state = ExecutorState::Terminating;
        Some(executor.endpoint.clone())
    }

    /// Records how the agent is ending an executor (what its tasks' updates will say).
    pub fn set_termination(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        termination: Termination,
    ) {
        if let Some(executor) = self
            .frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
        {
            executor.termination = Some(termination);
        }
    }

    /// Forgets how the agent meant to end an executor (a recovered one re-registered).
    pub fn clear_termination(&mut self, framework_id: &FrameworkId, executor_id: &ExecutorId) {
        if let Some(executor) = self
            .frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
        {
            executor.termination = None;
        }
    }

    /// Adds a framework rebuilt from checkpoints (agent recovery).
    pub fn restore_framework(&mut self, framework: FrameworkRecord) {
        self.frameworks.insert(framework.id.clone(), framework);
    }

    /// Records why the agent is terminating an executor (e.g. it did not register in time).
    pub fn set_termination_reason(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        reason: Reason,
    ) {
        if let Some(executor) = self
            .frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
        {
            executor.termination = Some(Termination {
                reason,
                state: None,
                message: None,
            });
        }
    }

    /// Marks a framework as shutting down; returns its executors (id and endpoint if registered).
    /// A framework without executors is removed at once.
    pub fn shutdown_framework(
        &mut self,
        framework_id: &FrameworkId,
    ) -> Vec<(ExecutorId, Option<ExecutorEndpoint>)> {
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            return Vec::new();
        };
        framework.terminating = true;
        let out: Vec<_> = framework
            .executors
            .values_mut()
            .map(|e| {
                e.state = ExecutorState::Terminating;
                (e.info.executor_id.clone(), e.endpoint.clone())
            })
            .collect();
        if out.is_empty() {
            self.frameworks.remove(framework_id);
        }
        out
    }

    /// The scheduler of a framework failed over to `pid`.
    pub fn update_framework_pid(&mut self, framework_id: &FrameworkId, pid: &str) {
        if let Some(framework) = self.frameworks.get_mut(framework_id) {
            framework.pid = pid.to_string();
        }
    }

    /// An executor process exited with `description` (e.g. "exited with status 3"). Its live tasks
    /// become `TASK_FAILED` with `REASON_COMMAND_EXECUTOR_FAILED` (command executor) or `TASK_LOST`
    /// with `REASON_EXECUTOR_TERMINATED`, unless the agent recorded another reason for terminating it.
    pub fn executor_exited(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        description: &str,
    ) -> Option<ExecutorExit> {
        let framework = self.frameworks.get_mut(framework_id)?;
        let executor = framework.executors.remove(executor_id)?;
        let terminating = framework.terminating;
        let statuses = if terminating {
            Vec::new()
        } else {
            executor
                .tasks
                .keys()
                .map(|task_id| {
                    let (state, default_reason) = if executor.command_executor {
                        (TaskState::Failed, Reason::CommandExecutorFailed)
                    } else {
                        (TaskState::Lost, Reason::ExecutorTerminated)
                    };
                    let termination = executor.termination.as_ref();
                    let reason = termination.map_or(default_reason, |t| t.reason);
                    let state = termination.and_then(|t| t.state).unwrap_or(state);
                    let message = termination
                        .and_then(|t| t.message.clone())
                        .unwrap_or_else(|| format!("Executor {description}"));
                    TaskStatus::new(task_id.clone(), state)
                        .with_reason(reason)
                        .with_source(Source::Agent)
                        .with_executor_id(executor_id.clone())
                        .with_message(message)
                })
                .collect()
        };
        // Without updates coming, the tasks of a terminating framework are simply complete.
        for (_, task) in executor.tasks {
            if terminating {
                framework.completed.push_back(task);
            } else {
                framework.terminated.insert(task.task_id.clone(), task);
            }
        }
        if terminating && framework.executors.is_empty() {
            self.frameworks.remove(framework_id);
        }
        Some(ExecutorExit {
            directory: executor.directory,
            executor: executor.info,
            container_id: executor.container_id,
            statuses,
            notify_master: !terminating,
        })
    }

    /// Executors still registering that were launched at or before `deadline_start`.
    pub fn registering_since(&self, deadline_start: Instant) -> Vec<(FrameworkId, ExecutorId)> {
        self.executors()
            .filter(|e| e.state == ExecutorState::Registering && e.launched_at <= deadline_start)
            .map(|e| (e.framework_id.clone(), e.info.executor_id.clone()))
            .collect()
    }

    /// The earliest launch time of an executor still registering.
    pub fn oldest_registering(&self) -> Option<Instant> {
        self.executors()
            .filter(|e| e.state == ExecutorState::Registering)
            .map(|e| e.launched_at)
            .min()
    }

    /// What to report when re-registering: executors, live and unacknowledged tasks, frameworks.
    pub fn reregistration(&self) -> (Vec<ExecutorInfo>, Vec<Task>, Vec<FrameworkInfo>) {
        let mut executors = Vec::new();
        let mut tasks = Vec::new();
        let mut frameworks = Vec::new();
        for framework in self.frameworks.values() {
            let mut info = framework.info.clone();
            info.id = Some(framework.id.clone());
            frameworks.push(info);
            for executor in framework.executors.values() {
                if !executor.command_executor {
                    executors.push(executor.info.clone());
                }
                tasks.extend(executor.tasks.values().cloned());
            }
            tasks.extend(framework.terminated.values().cloned());
        }
        (executors, tasks, frameworks)
    }
}

/// Records `update` on `task`: its state, its latest update, its recent statuses.
pub fn apply_status(task: &mut Task, update: &StatusUpdate) {
    task.state = update.status.state;
    task.status_update_state = Some(update.status.state);
    task.status_update_uuid = Some(update.uuid);
    task.statuses.push(update.status.clone());
    if task.statuses.len() > MAX_STATUSES {
        task.statuses.remove(0);
    }
}

#[cfg(test)]
mod tests;
