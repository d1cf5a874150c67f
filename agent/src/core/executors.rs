//! The core's executor side: containers (launch, start, exit, limits, destruction), executor
//! registration, shutdown with a grace period, and relaying executors' messages.

use std::time::Instant;

use isolation::Limitation;
use mesos::protocol::*;
use mesos::{ContainerId, ExecutorId, FrameworkId, TaskId, TaskState, TaskStatus};

use super::{AgentCore, ContainerRecord, ExecutorEndpoint, Output};
use crate::checkpoint::Checkpoint;
use crate::containers::apply_limitation;
use crate::launcher::ExitInfo;
use crate::state::LaunchSpec;

impl AgentCore {
    pub(super) fn launch(&mut self, spec: LaunchSpec) {
        self.containers.insert(
            spec.container_id.clone(),
            ContainerRecord {
                framework_id: spec.framework_id.clone(),
                executor_id: spec.executor.executor_id.clone(),
                os_pid: None,
                limited: false,
            },
        );
        self.outbox.push(Output::Launch(Box::new(spec)));
    }

    /// The executor of `container_id` started as OS process `os_pid` (its session id).
    pub fn executor_launched(&mut self, now: Instant, container_id: &ContainerId, os_pid: u32) {
        let Some(container) = self.containers.get_mut(container_id) else {
            return;
        };
        container.os_pid = Some(os_pid);
        if let Some(run) = self.runs.run(container_id).cloned() {
            self.checkpoint(Checkpoint::ForkedPid { run, pid: os_pid });
        }
        let Some(container) = self.containers.get(container_id) else {
            return;
        };
        let terminating = self
            .book
            .executor(&container.framework_id, &container.executor_id)
            .is_none_or(|e| e.state == crate::state::ExecutorState::Terminating);
        if terminating {
            // Shut down (killed tasks, framework shutdown) while it was being started.
            self.destroy_container(container_id);
            return;
        }
        self.arm_limitation_watch(now);
    }

    /// The container of `container_id` could not be launched (its URIs could not be fetched, its
    /// process not started): its tasks fail with `REASON_CONTAINER_LAUNCH_FAILED` and `message`,
    /// as in Mesos ("Failed to launch container: ...").
    pub fn executor_launch_failed(
        &mut self,
        now: Instant,
        container_id: &ContainerId,
        message: &str,
    ) {
        if let Some(container) = self.containers.get(container_id) {
            let terminating = self
                .book
                .executor(&container.framework_id, &container.executor_id)
                .is_some_and(|e| e.termination.is_some());
            // A kill or shutdown that came first says how its tasks end.
            if !terminating {
                self.book.set_termination(
                    &container.framework_id.clone(),
                    &container.executor_id.clone(),
                    crate::state::Termination {
                        reason: mesos::Reason::ContainerLaunchFailed,
                        state: Some(TaskState::Failed),
                        message: Some(format!("Failed to launch container: {message}")),
                    },
                );
            }
        }
        let exit = ExitInfo {
            wait_status: -1,
            description: format!("failed to launch: {message}"),
        };
        self.executor_exited(now, container_id, exit, None);
    }

    /// The executor of `container_id` ended (or could not be started). `limitation` is what the
    /// isolator enforced on the container, if anything (asked before it cleaned the container up).
    /// Its live tasks get terminal updates; the master hears of the exit.
    pub fn executor_exited(
        &mut self,
        now: Instant,
        container_id: &ContainerId,
        exit: ExitInfo,
        limitation: Option<Limitation>,
    ) {
        let Some(container) = self.containers.remove(container_id) else {
            return;
        };
        let (framework_id, executor_id) = (container.framework_id, container.executor_id);
        self.grace_kills.retain(|(_, id)| id != container_id);
        let Some(exited) =
            self.book
                .executor_exited(&framework_id, &executor_id, &exit.description)
        else {
            return;
        };
        tracing::info!(%framework_id, %executor_id, how = %exit.description, "executor terminated");
        for status in exited.statuses {
            let status = match &limitation {
                Some(limitation) => apply_limitation(limitation, status),
                None => status,
            };
            self.agent_update(now, &framework_id, Some(executor_id.clone()), status);
        }
        // The run is complete once no update of its tasks awaits an acknowledgement.
        let updates = &self.updates;
        let checkpointed = self.runs.run(container_id).is_some();
        let completed = self
            .runs
            .exited(container_id, |f, t| updates.has_pending(f, t));
        self.run_completed(now, completed);
        if !checkpointed {
            self.collect_garbage(now, exited.directory.clone());
        }
        if exited.notify_master {
            let agent_id = self.agent_id_or_default();
            self.send_master(ExitedExecutorMessage {
                agent_id,
                framework_id: framework_id.clone(),
                executor_id: executor_id.clone(),
                status: exit.wait_status,
            });
        }
        if self.book.framework(&framework_id).is_none() {
            self.updates.remove_framework(&framework_id);
        }
        self.check_recovered(now);
        self.check_cleaned_up();
    }

    /// The kernel enforced a limit on a container (e.g. OOM-killed one of its processes): destroy
    /// it and fail its live tasks with the limitation (as Mesos does), whatever its processes that
    /// are left would have reported.
    pub fn container_limited(
        &mut self,
        now: Instant,
        container_id: &ContainerId,
        limitation: Limitation,
    ) {
        let Some(container) = self.containers.get_mut(container_id) else {
            return;
        };
        if container.limited || container.os_pid.is_none() {
            return;
        }
        let (framework_id, executor_id) = (
            container.framework_id.clone(),
            container.executor_id.clone(),
        );
        let Some(executor) = self.book.executor(&framework_id, &executor_id) else {
            return;
        };
        let tasks: Vec<TaskId> = executor.tasks.keys().cloned().collect();
        container.limited = true;
        tracing::warn!(%framework_id, %executor_id, %container_id, message = %limitation.message, "container limitation; destroying the container");
        let reason = apply_limitation(
            &limitation,
            TaskStatus::new(TaskId::new(""), TaskState::Failed),
        )
        .reason;
        if let Some(reason) = reason {
            self.book
                .set_termination_reason(&framework_id, &executor_id, reason);
        }
        self.book.shutdown_executor(&framework_id, &executor_id);
        // The session now; what left it goes with the cgroup when the executor's exit is reaped.
        self.destroy_container(container_id);
        for task_id in tasks {
            let status = apply_limitation(&limitation, TaskStatus::new(task_id, TaskState::Failed));
            self.agent_update(now, &framework_id, Some(executor_id.clone()), status);
        }
    }

    /// Kills the container's processes now, if its executor runs.
    pub(super) fn destroy_container(&mut self, container_id: &ContainerId) {
        if self
            .containers
            .get(container_id)
            .is_some_and(|c| c.os_pid.is_some())
        {
            self.outbox.push(Output::DestroyContainer {
                container_id: container_id.clone(),
            });
        }
    }

    /// Makes the executor's container's limits follow its resources (executor and live tasks):
    /// called whenever a task is added to it (sent or queued), forwarded to it, or ends.
    pub(super) fn resize_container(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: Option<&ExecutorId>,
    ) {
        let Some(executor) = executor_id.and_then(|id| self.book.executor(framework_id, id)) else {
            return;
        };
        let live = self
            .containers
            .get(&executor.container_id)
            .is_some_and(|c| c.os_pid.is_some() && !c.limited);
        if !live {
            // Being destroyed, or not started yet (it starts with its resources): nothing to resize.
            return;
        }
        let output = Output::UpdateContainer {
            container_id: executor.container_id.clone(),
            resources: executor.resources(),
        };
        self.outbox.push(output);
    }

    /// Asks an executor to shut down (if `graceful` and registered), and kills its container after
    /// the grace period (at once otherwise).
    pub(super) fn shutdown_executor(
        &mut self,
        now: Instant,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        graceful: bool,
    ) {
        let Some(endpoint) = self.book.shutdown_executor(framework_id, executor_id) else {
            return;
        };
        let Some(container_id) = self
            .book
            .executor(framework_id, executor_id)
            .map(|e| e.container_id.clone())
        else {
            return;
        };
        match endpoint {
            Some(endpoint) if graceful => {
                self.send_executor(
                    &endpoint,
                    ShutdownExecutorMessage {
                        framework_id: framework_id.clone(),
                        executor_id: executor_id.clone(),
                    },
                );
                let at = now + self.config.executor_shutdown_grace_period;
                self.grace_kills.insert((at, container_id));
            }
            _ => self.destroy_container(&container_id),
        }
    }

    /// `RegisterExecutorMessage` (or an HTTP executor's first SUBSCRIBE) from `from`.
    pub fn register_executor(
        &mut self,
        now: Instant,
        from: ExecutorEndpoint,
        m: RegisterExecutorMessage,
    ) {
        let agent_id = self.agent_id_or_default();
        let agent_info = self.info.clone();
        let recovered = self.is_recovering_executor(&m.framework_id, &m.executor_id);
        let registered =
            self.book
                .executor_registered(&m.framework_id, &m.executor_id, from.clone());
        let Some((framework, queued)) = registered else {
            self.refuse_executor(&from, m.framework_id, m.executor_id);
            return;
        };
        // Only what the messages need: the whole record holds every executor of the framework
        // (cloning it made each registration of a 1,000-task burst cost O(executors)).
        let (framework_info, framework_pid) = (framework.info.clone(), framework.pid.clone());
        let executor = framework
            .executors
            .get(&m.executor_id)
            .map(|executor| (executor.info.clone(), !executor.tasks.is_empty()));
        self.checkpoint_executor_pid(&m.framework_id, &m.executor_id, &from);
        let Some((executor_info, has_work)) = executor else {
            return;
        };
        let mut messages: Vec<super::ToExecutor> = vec![ExecutorRegisteredMessage {
            executor_info,
            framework_id: m.framework_id.clone(),
            framework_info: framework_info.clone(),
            agent_id,
            agent_info,
        }
        .into()];
        let forwarded = !queued.is_empty();
        for task in queued {
            messages.push(
                RunTaskMessage {
                    framework_id: m.framework_id.clone(),
                    framework: framework_info.clone(),
                    pid: framework_pid.clone(),
                    task,
                }
                .into(),
            );
        }
        for message in messages {
            self.send_executor(&from, message);
        }
        if forwarded {
            // The container must hold every task the executor now runs.
            self.resize_container(&m.framework_id, Some(&m.executor_id));
        }
        if recovered {
            self.executor_recovered(now, &m.framework_id, &m.executor_id);
        } else if !has_work {
            // Everything it was started for was killed meanwhile.
            self.shutdown_executor(now, &m.framework_id, &m.executor_id, true);
        }
    }

    fn is_recovering_executor(&self, framework_id: &FrameworkId, executor_id: &ExecutorId) -> bool {
        self.book
            .executor(framework_id, executor_id)
            .is_some_and(|e| e.state == crate::state::ExecutorState::Recovering)
    }

    /// `ReregisterExecutorMessage` from `from`: an executor reconnecting, carrying the updates it
    /// holds unacknowledged.
    pub fn reregister_executor(
        &mut self,
        now: Instant,
        from: ExecutorEndpoint,
        m: ReregisterExecutorMessage,
    ) {
        let again = self
            .book
            .executor(&m.framework_id, &m.executor_id)
            .is_some_and(|e| {
                e.state == crate::state::ExecutorState::Running
                    && e.endpoint.as_ref() == Some(&from)
            });
        if again {
            // A retry that crossed our answer: the executor is re-registered already.
            tracing::debug!(%from, executor_id = %m.executor_id, "duplicate executor re-registration; ignored");
            return;
        }
        let recovered = self.is_recovering_executor(&m.framework_id, &m.executor_id);
        let registered = self
            .book
            .executor_registered(&m.framework_id, &m.executor_id, from.clone())
            .map(|(framework, queued)| (framework.info.clone(), framework.pid.clone(), queued));
        let Some((framework, scheduler, queued)) = registered else {
            self.refuse_executor(&from, m.framework_id, m.executor_id);
            return;
        };
        self.checkpoint_executor_pid(&m.framework_id, &m.executor_id, &from);
        let agent_id = self.agent_id_or_default();
        let agent_info = self.info.clone();
        self.send_executor(
            &from,
            ExecutorReregisteredMessage {
                agent_id,
                agent_info,
            },
        );
        for update in m.updates {
            self.handle_update(now, update, None);
        }
        // Tasks it was meant to get but does not list (the agent went down while delivering
        // them): delivered now, not lost.
        let undelivered: Vec<_> = queued
            .into_iter()
            .filter(|task| !m.tasks.iter().any(|t| t.task_id == task.task_id))
            .collect();
        let delivered = !undelivered.is_empty();
        for task in undelivered {
            self.send_executor(
                &from,
                RunTaskMessage {
                    framework_id: m.framework_id.clone(),
                    framework: framework.clone(),
                    pid: scheduler.clone(),
                    task,
                },
            );
        }
        if delivered {
            self.resize_container(&m.framework_id, Some(&m.executor_id));
        }
        if recovered {
            self.executor_recovered(now, &m.framework_id, &m.executor_id);
        }
    }

    /// Records where a checkpointed driver-based executor listens, so a restarted agent can
    /// reconnect to it.
    fn checkpoint_executor_pid(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        from: &ExecutorEndpoint,
    ) {
        let (Some(pid), Some(run)) = (from.pid(), self.run_ref(framework_id, executor_id)) else {
            return;
        };
        if self.runs.set_executor_pid(&run.container_id, pid) {
            self.checkpoint(Checkpoint::ExecutorPid {
                run,
                pid: pid.clone(),
            });
        }
    }

    /// An executor the agent does not expect: told to shut down.
    fn refuse_executor(
        &mut self,
        from: &ExecutorEndpoint,
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    ) {
        tracing::warn!(%from, %executor_id, "unexpected executor (re)registration; shutting it down");
        self.send_executor(
            from,
            ShutdownExecutorMessage {
                framework_id,
                executor_id,
            },
        );
    }

    /// `ExecutorToFrameworkMessage`: relayed to the master if it comes from the executor it names.
    pub fn executor_to_framework(
        &mut self,
        _now: Instant,
        from: &ExecutorEndpoint,
        m: ExecutorToFrameworkMessage,
    ) {
        let known = self
            .book
            .executor(&m.framework_id, &m.executor_id)
            .and_then(|e| e.endpoint.as_ref())
            == Some(from);
        if known {
            self.send_master(m);
        }
    }
}
