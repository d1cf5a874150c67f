//! Agent recovery: a pure function from what was read off disk ([`RecoveredState`]) and what
//! executors answer to the agent's state.
//!
//! [`AgentCore::recover`] rebuilds the checkpointing frameworks, their executors' latest runs,
//! their tasks and their status update streams; asks the driver to reattach to the executors'
//! processes (and to destroy every other container: orphans); and, with `--recover=reconnect`,
//! asks each driver-based executor to re-register. Recovery ends when every recovered executor
//! re-registered or exited, or at `--executor_reregistration_timeout` (Mesos always waits for the
//! timeout; waiting for less shortens the restart), and only then does the agent re-register with
//! the master under its old id. Executors that died while the agent was down, never started, or do
//! not re-register in time have their tasks reported terminal. With `--recover=cleanup` every old
//! executor is shut down and the agent exits without registering.

use std::collections::BTreeSet;
use std::time::Instant;

use mesos::protocol::Task;

use mesos::protocol::*;
use mesos::{AgentId, AgentInfo, ContainerId, Reason, TaskState};

use super::{AgentCore, ContainerRecord, ExecutorEndpoint, Output};
use crate::checkpoint::layout::sandbox;
use crate::checkpoint::{
    Checkpoint, RecoveredExecutor, RecoveredFramework, RecoveredState, RunRef, UpdateRecord,
};
use crate::config::{ReconfigurationPolicy, RecoverMode};
use crate::launcher::ExitInfo;
use crate::state::{apply_status, ExecutorRecord, ExecutorState, FrameworkRecord, Termination};

/// How to recover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryOptions {
    /// `--recover`.
    pub mode: RecoverMode,
    /// `--reconfiguration_policy`.
    pub policy: ReconfigurationPolicy,
    /// The host's boot id now (`/proc/sys/kernel/random/boot_id`), if known.
    pub boot_id: Option<String>,
}

/// A recovery the agent must not go through with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    /// The agent's resources or attributes changed in a way the reconfiguration policy forbids.
    #[error(
        "failed to perform recovery: the agent's {change}, which --reconfiguration_policy={policy} \
         does not allow. Restart it with its previous flags, with a more permissive \
         --reconfiguration_policy, or as a new agent (its old tasks will be reported lost) after \
         `rm -f {latest}`"
    )]
    Reconfigured {
        /// What changed, e.g. "resources changed from cpus:2 to cpus:1".
        change: String,
        /// The policy in force.
        policy: &'static str,
        /// `<work_dir>/meta/slaves/latest`.
        latest: String,
    },
}

/// What a recovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoverySummary {
    /// The id kept (None: a new agent).
    pub agent_id: Option<AgentId>,
    /// The host rebooted since the last recovery.
    pub rebooted: bool,
    /// Frameworks, executors and live tasks recovered.
    pub frameworks: usize,
    /// Executors recovered.
    pub executors: usize,
    /// Tasks recovered (not yet acknowledged terminal).
    pub tasks: usize,
    /// Checkpoints that could not be read and were skipped (`--strict=false`).
    pub errors: usize,
}

/// A container a restarted agent keeps: the driver checks its process is still the one it
/// started, keeps its isolation and watches it; every other container is destroyed.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptContainer {
    /// The container.
    pub container_id: ContainerId,
    /// Its executor's OS pid.
    pub pid: u32,
    /// When that process started (clock ticks since boot; 0 if unknown).
    pub start_ticks: u64,
    /// Its resources (executor and live tasks).
    pub resources: mesos::Resources,
}

/// The recovery in progress.
#[derive(Debug, Clone)]
pub(super) struct Recovering {
    /// When executors that have not re-registered are given up.
    pub until: Instant,
    /// The boot id to record when recovery ends.
    pub boot_id: Option<String>,
}

/// What changed between the checkpointed agent and this one that `policy` forbids, if anything.
pub fn reconfiguration_error(
    old: &AgentInfo,
    new: &AgentInfo,
    policy: ReconfigurationPolicy,
) -> Option<String> {
    if old.hostname != new.hostname {
        return Some(format!(
            "hostname changed from {} to {}",
            old.hostname, new.hostname
        ));
    }
    if old.port != new.port {
        return Some(format!("port changed from {} to {}", old.port, new.port));
    }
    match policy {
        ReconfigurationPolicy::Equal => {
            if old.resources != new.resources {
                return Some(format!(
                    "resources changed from {} to {}",
                    old.resources, new.resources
                ));
            }
            if old.attributes != new.attributes {
                return Some(format!(
                    "attributes changed from {} to {}",
                    old.attributes, new.attributes
                ));
            }
        }
        ReconfigurationPolicy::Additive => {
            if !new.resources.contains(&old.resources) {
                return Some(format!(
                    "resources shrank from {} to {}",
                    old.resources, new.resources
                ));
            }
            for attribute in old.attributes.iter() {
                let kept = new
                    .attributes
                    .iter()
                    .any(|a| a.name == attribute.name && a.value == attribute.value);
                if !kept {
                    return Some(format!(
                        "attribute '{}' changed or was removed (attributes {} -> {})",
                        attribute.name, old.attributes, new.attributes
                    ));
                }
            }
        }
    }
    None
}

fn policy_name(policy: ReconfigurationPolicy) -> &'static str {
    match policy {
        ReconfigurationPolicy::Equal => "equal",
        ReconfigurationPolicy::Additive => "additive",
    }
}

impl AgentCore {
    /// Recovers from `state` (read off disk at start, before any other input). See the
    /// [module docs](self).
    ///
    /// # Errors
    /// [`RecoveryError`] when the agent must not start (its resources or attributes changed
    /// against the policy on the same boot): the driver exits naming the change.
    pub fn recover(
        &mut self,
        now: Instant,
        state: RecoveredState,
        options: &RecoveryOptions,
    ) -> Result<RecoverySummary, RecoveryError> {
        let rebooted =
            matches!((&state.boot_id, &options.boot_id), (Some(old), Some(new)) if old != new);
        let mut summary = RecoverySummary {
            rebooted,
            errors: state.errors.len(),
            ..RecoverySummary::default()
        };
        self.recovery_errors += state.errors.len() as u64;
        self.recover_mode = options.mode;
        let mut kept = Vec::new();
        if let Some(agent) = state.agent {
            let id = agent.info.id.clone().unwrap_or_default();
            match reconfiguration_error(&agent.info, &self.info, options.policy) {
                Some(change) if !rebooted => {
                    return Err(RecoveryError::Reconfigured {
                        change,
                        policy: policy_name(options.policy),
                        latest: self
                            .config
                            .work_dir
                            .join("meta/slaves/latest")
                            .display()
                            .to_string(),
                    });
                }
                Some(change) => {
                    // After a reboot nothing of the old agent runs: start over as a new agent (and
                    // make that stick for the next restart). The master reports the old agent's
                    // tasks lost when this one registers from its address.
                    tracing::warn!(%change, old_id = %id, "the host rebooted and the agent changed: registering as a new agent");
                    self.checkpoint(Checkpoint::ForgetAgent);
                }
                None => {
                    self.restore_agent(
                        now,
                        &id,
                        rebooted,
                        agent.frameworks,
                        &mut summary,
                        &mut kept,
                    );
                    summary.agent_id = Some(id);
                }
            }
        }
        self.outbox.push(Output::RecoverContainers(kept));
        self.recovering = Some(Recovering {
            until: now + self.config.executor_reregistration_timeout,
            boot_id: options.boot_id.clone(),
        });
        self.check_recovered(now);
        Ok(summary)
    }

    fn restore_agent(
        &mut self,
        now: Instant,
        id: &AgentId,
        rebooted: bool,
        frameworks: Vec<RecoveredFramework>,
        summary: &mut RecoverySummary,
        kept: &mut Vec<KeptContainer>,
    ) {
        tracing::info!(agent_id = %id, frameworks = frameworks.len(), rebooted, "recovering the agent");
        self.info.id = Some(id.clone());
        self.book.set_agent_id(id.clone());
        self.link.recovered(id.clone());
        let mut exits = Vec::new();
        for framework in frameworks {
            let Some(framework_id) = framework.info.id.clone() else {
                continue;
            };
            summary.frameworks += 1;
            let mut record = FrameworkRecord {
                info: framework.info,
                id: framework_id.clone(),
                pid: framework.pid,
                executors: Default::default(),
                terminated: Default::default(),
                completed: Default::default(),
                terminating: false,
            };
            for executor in framework.executors {
                for old in &executor.old_runs {
                    self.collect_garbage(now, old.clone());
                }
                let run = RunRef {
                    agent_id: id.clone(),
                    framework_id: framework_id.clone(),
                    executor_id: executor.info.executor_id.clone(),
                    container_id: executor.run.container_id.clone(),
                };
                if executor.run.completed {
                    self.collect_run_garbage(now, &run);
                    continue;
                }
                summary.executors += 1;
                if let Some(exit) =
                    self.restore_executor(now, &mut record, run, executor, rebooted, summary, kept)
                {
                    exits.push(exit);
                }
            }
            self.book.restore_framework(record);
        }
        // Executors known to be gone end now (their tasks get terminal updates, held until the
        // agent re-registers).
        for (container_id, description) in exits {
            let exit = ExitInfo {
                wait_status: -1,
                description,
            };
            self.executor_exited(now, &container_id, exit, None);
        }
    }

    /// Rebuilds one executor's latest run; returns its container and why it is gone, if it is.
    #[allow(clippy::too_many_arguments)]
    fn restore_executor(
        &mut self,
        now: Instant,
        framework: &mut FrameworkRecord,
        run: RunRef,
        executor: RecoveredExecutor,
        rebooted: bool,
        summary: &mut RecoverySummary,
        kept: &mut Vec<KeptContainer>,
    ) -> Option<(ContainerId, String)> {
        let framework_id = framework.id.clone();
        self.runs.add_run(run.clone());
        if let Some(pid) = &executor.run.libprocess_pid {
            // Already on disk: re-registering under it writes nothing.
            self.runs.set_executor_pid(&run.container_id, pid);
        }
        let mut tasks = std::collections::BTreeMap::new();
        let mut queued = Vec::new();
        for recovered in executor.run.tasks {
            let mut task = Task::staging(
                &recovered.task,
                &framework_id,
                Some(run.executor_id.clone()),
            );
            for record in &recovered.records {
                if let UpdateRecord::Update(update) = record {
                    apply_status(&mut task, update);
                }
            }
            if task.state == TaskState::Staging && !recovered.damaged {
                // Perhaps never delivered: offered again when the executor (re-)registers. (Not
                // when its log was damaged: it may well be running, and must not run twice.)
                queued.push(recovered.task);
            }
            let task_id = task.task_id.clone();
            self.updates
                .replay(&framework_id, &task_id, &recovered.records);
            let pending = self.updates.has_pending(&framework_id, &task_id);
            if !task.state.is_terminal() {
                summary.tasks += 1;
                self.runs.add_task(&run.container_id, &task_id);
                tasks.insert(task_id, task);
            } else if pending {
                self.runs.add_task(&run.container_id, &task_id);
                framework.terminated.insert(task_id, task);
            } else {
                framework.completed.push_back(task);
            }
        }
        let forked = executor.run.forked_pid.filter(|_| !rebooted);
        let (termination, gone) = match (rebooted, forked) {
            (true, _) => (
                Termination {
                    reason: Reason::AgentRestarted,
                    state: Some(TaskState::Lost),
                    message: Some("The agent's host rebooted".into()),
                },
                Some("was lost in a reboot of the agent's host".to_string()),
            ),
            (false, None) => (
                Termination {
                    reason: Reason::ExecutorTerminated,
                    state: Some(TaskState::Failed),
                    message: Some("The executor was not started before the agent restarted".into()),
                },
                Some("was not started before the agent restarted".to_string()),
            ),
            // If its process turns out to be gone, it died while the agent was down.
            (false, Some(_)) => (
                Termination {
                    reason: Reason::ExecutorReregistrationTimeout,
                    state: Some(TaskState::Lost),
                    message: Some("The executor terminated while the agent was down".into()),
                },
                None,
            ),
        };
        let record = ExecutorRecord {
            directory: sandbox(&self.config.work_dir, &run),
            framework_id: framework_id.clone(),
            container_id: run.container_id.clone(),
            state: ExecutorState::Recovering,
            endpoint: None,
            command_executor: executor.command_executor,
            queued,
            tasks,
            launched_at: now,
            termination: Some(termination),
            info: executor.info,
        };
        let resources = record.resources();
        let executor_id = run.executor_id.clone();
        framework.executors.insert(executor_id.clone(), record);
        self.containers.insert(
            run.container_id.clone(),
            ContainerRecord {
                framework_id: framework_id.clone(),
                executor_id: executor_id.clone(),
                os_pid: forked.map(|f| f.pid),
                limited: false,
            },
        );
        if let Some(gone) = gone {
            return Some((run.container_id, gone));
        }
        if let Some(forked) = forked {
            kept.push(KeptContainer {
                container_id: run.container_id.clone(),
                pid: forked.pid,
                start_ticks: forked.start_ticks,
                resources,
            });
        }
        match (self.recover_mode, executor.run.libprocess_pid) {
            (RecoverMode::Reconnect, Some(pid)) => {
                let agent_id = run.agent_id.clone();
                self.send_executor(
                    &ExecutorEndpoint::Pid(pid),
                    ReconnectExecutorMessage { agent_id },
                );
            }
            // HTTP executors subscribe again by themselves; one with neither a pid nor a marker
            // cannot be reached and is killed when the re-registration timeout ends.
            (RecoverMode::Reconnect, None) => {}
            (RecoverMode::Cleanup, pid) => {
                // Asked to shut down (through its old pid) with a grace period, or killed now.
                let endpoint = pid.map(ExecutorEndpoint::Pid);
                if let Some(executor) = framework.executors.get_mut(&executor_id) {
                    executor.endpoint = endpoint.clone();
                    executor.state = ExecutorState::Terminating;
                }
                match endpoint {
                    Some(endpoint) => {
                        self.send_executor(
                            &endpoint,
                            ShutdownExecutorMessage {
                                framework_id,
                                executor_id,
                            },
                        );
                        let at = now + self.config.executor_shutdown_grace_period;
                        self.grace_kills.insert((at, run.container_id));
                    }
                    None => self.destroy_container(&run.container_id),
                }
            }
        }
        None
    }

    /// A recovered executor (re-)registered: it runs on (the tasks it had not received were just
    /// delivered: Mesos loses them instead); with nothing to run it is shut down.
    pub(super) fn executor_recovered(
        &mut self,
        now: Instant,
        framework_id: &mesos::FrameworkId,
        executor_id: &mesos::ExecutorId,
    ) {
        let Some(executor) = self.book.executor(framework_id, executor_id) else {
            return;
        };
        let idle = executor.tasks.is_empty();
        self.book.clear_termination(framework_id, executor_id);
        if idle {
            self.shutdown_executor(now, framework_id, executor_id, true);
        }
        self.check_recovered(now);
    }

    /// At the re-registration timeout: executors that did not re-register are killed (their tasks
    /// are lost), and recovery ends.
    pub(super) fn recovery_tick(&mut self, now: Instant) {
        let Some(recovering) = &self.recovering else {
            return;
        };
        if recovering.until > now {
            return;
        }
        let timeout = self.config.executor_reregistration_timeout;
        let silent: Vec<(mesos::FrameworkId, mesos::ExecutorId, ContainerId)> = self
            .book
            .executors()
            .filter(|e| e.state == ExecutorState::Recovering)
            .map(|e| {
                (
                    e.framework_id.clone(),
                    e.info.executor_id.clone(),
                    e.container_id.clone(),
                )
            })
            .collect();
        for (framework_id, executor_id, container_id) in silent {
            tracing::warn!(%framework_id, %executor_id, "recovered executor did not re-register in time; killing it");
            self.book.set_termination(
                &framework_id,
                &executor_id,
                Termination {
                    reason: Reason::ExecutorReregistrationTimeout,
                    state: Some(TaskState::Lost),
                    message: Some(format!(
                        "Executor did not re-register within {}",
                        mesos::duration::MesosDuration(timeout)
                    )),
                },
            );
            self.book.shutdown_executor(&framework_id, &executor_id);
            self.destroy_container(&container_id);
        }
        self.finish_recovery(now);
    }

    /// Ends recovery early once no recovered executor is still expected to re-register.
    pub(super) fn check_recovered(&mut self, now: Instant) {
        if self.recovering.is_none() {
            return;
        }
        let waiting = self
            .book
            .executors()
            .any(|e| e.state == ExecutorState::Recovering);
        if !waiting {
            self.finish_recovery(now);
        }
    }

    fn finish_recovery(&mut self, now: Instant) {
        let Some(recovering) = self.recovering.take() else {
            return;
        };
        if let Some(boot_id) = recovering.boot_id {
            self.checkpoint(Checkpoint::BootId(boot_id));
        }
        match self.recover_mode {
            RecoverMode::Reconnect => {
                tracing::info!(agent_id = ?self.link.agent_id(), "recovery finished; registering with the master");
                self.link.start(now);
            }
            RecoverMode::Cleanup => {
                tracing::info!("recovery finished (--recover=cleanup): exiting once every old executor is gone");
                self.check_cleaned_up();
            }
        }
    }

    /// With `--recover=cleanup`: the agent exits once no executor is left.
    pub(super) fn check_cleaned_up(&mut self) {
        if self.recover_mode == RecoverMode::Cleanup
            && self.recovering.is_none()
            && self.book.executors().next().is_none()
        {
            self.outbox.push(Output::Terminate);
        }
    }

    /// Whether the agent is still recovering (it registers with the master only after).
    pub fn is_recovering(&self) -> bool {
        self.recovering.is_some()
    }

    /// Checkpoints that could not be read and were skipped (`slave/recovery_errors`).
    pub fn recovery_errors(&self) -> u64 {
        self.recovery_errors
    }

    /// Schedules removal of a directory after `--gc_delay`.
    pub(super) fn collect_garbage(&mut self, now: Instant, path: std::path::PathBuf) {
        let at = now + self.config.gc_delay;
        self.garbage.insert((at, path));
    }

    /// Schedules removal of a completed run's sandbox and checkpoints.
    pub(super) fn collect_run_garbage(&mut self, now: Instant, run: &RunRef) {
        let meta = crate::checkpoint::MetaLayout::new(&self.config.work_dir).run(run);
        self.collect_garbage(now, meta);
        self.collect_garbage(now, sandbox(&self.config.work_dir, run));
    }

    /// Removes the garbage that is due.
    pub(super) fn garbage_tick(&mut self, now: Instant) {
        while let Some((at, path)) = self.garbage.first().cloned() {
            if at > now {
                break;
            }
            self.garbage.pop_first();
            self.outbox.push(Output::RemoveDirectory(path));
        }
    }
}

/// The time of the next garbage removal, for [`AgentCore::next_deadline`].
pub(super) fn next_garbage(garbage: &BTreeSet<(Instant, std::path::PathBuf)>) -> Option<Instant> {
    garbage.first().map(|(at, _)| *at)
}
