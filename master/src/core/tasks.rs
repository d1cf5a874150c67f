//! Tasks: launching (with validation), killing, status updates and acknowledgements,
//! reconciliation, framework messages and executor exits.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use mesos::protocol::*;
use mesos::{AgentId, ExecutorId, ExecutorInfo, FrameworkId, Reason, TaskId, TaskState};

use process::Upid;

use super::{ExecutorEntry, MasterCore, TaskEntry, MAX_STATUSES_PER_TASK};
use crate::outputs::Endpoint;
use crate::validation::{validate_offers, validate_task, TaskContext};

impl MasterCore {
    /// `LaunchTasksMessage`: launch `tasks` on the offers (all of one agent), or decline them when
    /// `tasks` is empty. Unused resources go back to the allocator with the message's filters.
    pub fn launch_tasks(&mut self, now: Instant, from: &Endpoint, message: LaunchTasksMessage) {
        let framework_id = message.framework_id.clone();
        let Some(framework) = self.framework_from(from, &framework_id) else {
            return;
        };
        let partition_aware = framework.partition_aware();
        if message.offer_ids.is_empty() && message.tasks.is_empty() {
            return;
        }
        let agent_id = match validate_offers(&message.offer_ids, &self.offers, &framework_id) {
            Ok(agent_id) => agent_id,
            Err(error) => {
                tracing::warn!(framework = %framework_id, %error, "launch with invalid offers");
                // The valid offers among them go back without a filter.
                for offer_id in &message.offer_ids {
                    let mine = self
                        .offers
                        .get(offer_id)
                        .is_some_and(|o| o.offer.framework_id == framework_id);
                    if mine {
                        if let Some(entry) = self.remove_offer(offer_id) {
                            self.recover(
                                now,
                                &framework_id,
                                &entry.role,
                                &entry.offer.agent_id,
                                &entry.offer.resources,
                                None,
                            );
                        }
                    }
                }
                let state = if partition_aware {
                    TaskState::Dropped
                } else {
                    TaskState::Lost
                };
                for task in &message.tasks {
                    self.counters.invalid_tasks += 1;
                    self.count_terminal(state);
                    let status = self.master_status(
                        now,
                        &task.task_id,
                        state,
                        Reason::InvalidOffers,
                        format!("Task launched with invalid offers: {error}"),
                        Some(&task.agent_id),
                        None,
                    );
                    self.send_master_status(now, &framework_id, status);
                }
                return;
            }
        };
        // Take the offers; pool their resources per allocation role.
        let mut pools: Vec<(String, mesos::Resources)> = Vec::new();
        for offer_id in &message.offer_ids {
            if let Some(entry) = self.remove_offer(offer_id) {
                match pools.iter_mut().find(|(role, _)| *role == entry.role) {
                    Some((_, pool)) => *pool += &entry.offer.resources,
                    None => pools.push((entry.role, entry.offer.resources)),
                }
            }
        }
        if message.tasks.is_empty() {
            self.counters.offers_declined += message.offer_ids.len() as u64;
        }
        let Some(agent_pid) = self.agents.get(&agent_id).map(|a| a.pid.clone()) else {
            return;
        };
        let mut batch_task_ids = BTreeSet::new();
        let mut batch_executors: BTreeMap<ExecutorId, ExecutorInfo> = BTreeMap::new();
        let mut errors = Vec::new();
        let mut launches = Vec::new();
        {
            let Some(framework) = self.frameworks.get(&framework_id) else {
                return;
            };
            let task_exists = |id: &TaskId| {
                framework.tasks.contains_key(id) || framework.unreachable_tasks.contains_key(id)
            };
            for task in message.tasks {
                let cx = TaskContext {
                    framework_id: &framework_id,
                    agent_id: &agent_id,
                    task_exists: &task_exists,
                    batch_task_ids: &batch_task_ids,
                    running_executors: framework.executors.get(&agent_id),
                    batch_executors: &batch_executors,
                    pools: &pools,
                };
                let checked = crate::acl::authorize_task(&self.acls, &framework.info, &task)
                    .map_err(|error| (error, Reason::TaskUnauthorized))
                    .and_then(|()| {
                        validate_task(&task, &cx).map_err(|error| (error, Reason::TaskInvalid))
                    });
                match checked {
                    Err((error, reason)) => errors.push((task.task_id.clone(), error, reason)),
                    Ok(accepted) => {
                        pools[accepted.pool].1 -= &accepted.resources;
                        batch_task_ids.insert(task.task_id.clone());
                        if let Some(executor) = &accepted.new_executor {
                            batch_executors.insert(executor.executor_id.clone(), executor.clone());
                        }
                        launches.push((task, accepted));
                    }
                }
            }
        }
        for (task_id, error, reason) in errors {
            tracing::info!(framework = %framework_id, task = %task_id, %error, "task refused");
            self.counters.invalid_tasks += 1;
            self.count_terminal(TaskState::Error);
            let status = self.master_status(
                now,
                &task_id,
                TaskState::Error,
                reason,
                error,
                Some(&agent_id),
                None,
            );
            self.send_master_status(now, &framework_id, status);
        }
        let Some(framework) = self.frameworks.get_mut(&framework_id) else {
            return;
        };
        let framework_info = framework.info.clone();
        // An HTTP scheduler has no pid: agents get an empty one, as from Mesos.
        let scheduler_pid = framework.pid().map(Upid::to_string).unwrap_or_default();
        let mut runs = Vec::new();
        for (mut task, accepted) in launches {
            let role = pools[accepted.pool].0.clone();
            if let Some(executor) = accepted.new_executor {
                framework
                    .executors
                    .entry(agent_id.clone())
                    .or_default()
                    .insert(
                        executor.executor_id.clone(),
                        ExecutorEntry {
                            info: executor,
                            role: role.clone(),
                        },
                    );
            }
            if let Some(executor) = task.executor.as_mut() {
                executor.framework_id = Some(framework_id.clone());
            }
            let executor_id = task.executor.as_ref().map(|e| e.executor_id.clone());
            let record = Task::staging(&task, &framework_id, executor_id);
            self.changes
                .record(|| super::Change::TaskAdded(record.clone()));
            framework
                .tasks
                .insert(task.task_id.clone(), TaskEntry { task: record, role });
            if let Some(agent) = self.agents.get_mut(&agent_id) {
                agent
                    .tasks
                    .insert((framework_id.clone(), task.task_id.clone()));
            }
            tracing::debug!(framework = %framework_id, task = %task.task_id, agent = %agent_id, "launching task");
            runs.push(RunTaskMessage {
                framework_id: framework_id.clone(),
                framework: framework_info.clone(),
                pid: scheduler_pid.clone(),
                task,
            });
        }
        for run in runs {
            self.send(&agent_pid, run);
        }
        for (role, rest) in pools {
            self.recover(
                now,
                &framework_id,
                &role,
                &agent_id,
                &rest,
                Some(message.filters.refuse_seconds),
            );
        }
    }

    /// `KillTaskMessage` from a scheduler: forwarded to the task's agent; for a task the master
    /// does not run, the scheduler gets its reconciled state instead.
    pub fn kill_task(&mut self, now: Instant, from: &Endpoint, message: KillTaskMessage) {
        let Some(framework) = self.framework_from(from, &message.framework_id) else {
            return;
        };
        let agent = framework
            .tasks
            .get(&message.task_id)
            .map(|e| e.task.agent_id.clone());
        match agent.and_then(|a| self.agents.get_mut(&a)) {
            Some(agent) if !agent.connected => {
                // Its agent is away (restarting, perhaps): the kill waits for it to re-register.
                tracing::info!(agent = %agent.id, task = %message.task_id, "agent disconnected: the kill is sent when it re-registers");
                agent
                    .pending_kills
                    .insert((message.framework_id, message.task_id));
            }
            Some(agent) => {
                let pid = agent.pid.clone();
                self.send(&pid, message);
            }
            None => {
                let framework_id = message.framework_id.clone();
                self.reconcile_one(now, &framework_id, &message.task_id, None);
            }
        }
    }

    /// `StatusUpdateMessage` from an agent: the master's task state follows it, a terminal update
    /// frees the task's resources, and the update goes on to the scheduler (which acknowledges it
    /// through the master). Retries and updates after a terminal one are forwarded (the scheduler
    /// must acknowledge them so the agent stops resending) but never change the recorded state.
    pub fn status_update(&mut self, now: Instant, from: &Upid, message: StatusUpdateMessage) {
        self.counters.status_updates_received += 1;
        let update = message.update;
        let Some(agent_id) = self.agent_by_pid.get(from).cloned() else {
            tracing::warn!(%from, task = %update.status.task_id, "status update from an unknown agent: dropped");
            self.counters.invalid_status_updates += 1;
            return;
        };
        if update.agent_id.as_ref().is_some_and(|a| *a != agent_id) {
            tracing::warn!(%from, "status update names another agent: dropped");
            self.counters.invalid_status_updates += 1;
            return;
        }
        let framework_id = update.framework_id.clone();
        let task_id = update.status.task_id.clone();
        let state = update.status.state;
        let key = (framework_id.clone(), task_id.clone());
        if let Some(zombie) = self
            .agents
            .get(&agent_id)
            .and_then(|a| a.zombies.get(&key))
            .cloned()
        {
            // A task declared LOST: the scheduler never hears of it again.
            self.acknowledge_for_scheduler(from, &agent_id, &update);
            if state.is_terminal() {
                if let Some(agent) = self.agents.get_mut(&agent_id) {
                    agent.zombies.remove(&key);
                }
                self.recover(
                    now,
                    &framework_id,
                    &zombie.role,
                    &agent_id,
                    &zombie.resources,
                    None,
                );
            } else {
                // As at re-registration: the agent also retires its updates saying it runs.
                self.send(
                    from,
                    KillTasksOnReregistrationMessage {
                        tasks: vec![(framework_id, task_id)],
                    },
                );
            }
            return;
        }
        let Some(framework) = self.frameworks.get_mut(&framework_id) else {
            if self.removed_framework_ids.contains(&framework_id) {
                // Nobody will acknowledge it: do it here so the agent stops resending.
                self.acknowledge_for_scheduler(from, &agent_id, &update);
            }
            return;
        };
        let mut completed = None;
        if let Some(entry) = framework.tasks.get_mut(&task_id) {
            let previous = entry.task.state;
            entry.task.state = state;
            self.changes
                .task_state(&framework_id, previous, &entry.task, &update.status);
            entry.task.status_update_state = Some(state);
            entry.task.status_update_uuid = update.status.uuid;
            let duplicate = update.status.uuid.is_some()
                && entry
                    .task
                    .statuses
                    .iter()
                    .any(|s| s.uuid == update.status.uuid);
            if !duplicate {
                if entry.task.statuses.len() >= MAX_STATUSES_PER_TASK {
                    entry.task.statuses.remove(0);
                }
                entry.task.statuses.push(update.status.clone());
            }
            if state.is_terminal() {
                completed = framework.tasks.remove(&task_id);
            }
        }
        let forward_to = framework.endpoint.clone().filter(|_| framework.connected);
        if let Some(entry) = completed {
            if let Some(agent) = self.agents.get_mut(&agent_id) {
                agent.tasks.remove(&key);
            }
            self.recover(
                now,
                &framework_id,
                &entry.role,
                &agent_id,
                &entry.task.resources,
                None,
            );
            self.resources_freed(now, &agent_id);
            self.count_terminal(state);
            if let Some(framework) = self.frameworks.get_mut(&framework_id) {
                framework.add_completed(entry.task);
            }
        }
        if let Some(endpoint) = forward_to {
            let ack_pid = message.pid.or_else(|| Some(from.to_string()));
            self.send_to(
                &endpoint,
                StatusUpdateMessage {
                    update,
                    pid: ack_pid,
                },
            );
        }
    }

    /// Acknowledges an update to the agent on the scheduler's behalf (the master drops it).
    fn acknowledge_for_scheduler(
        &mut self,
        agent_pid: &Upid,
        agent_id: &AgentId,
        update: &StatusUpdate,
    ) {
        if let Some(uuid) = update.status.uuid {
            self.send(
                agent_pid,
                StatusUpdateAcknowledgementMessage {
                    agent_id: agent_id.clone(),
                    framework_id: update.framework_id.clone(),
                    task_id: update.status.task_id.clone(),
                    uuid,
                },
            );
        }
    }

    /// `StatusUpdateAcknowledgementMessage` from a scheduler: forwarded to the agent.
    pub fn acknowledge(
        &mut self,
        _now: Instant,
        from: &Endpoint,
        message: StatusUpdateAcknowledgementMessage,
    ) {
        let Some(framework) = self.framework_from(from, &message.framework_id) else {
            return;
        };
        if let Some(entry) = framework.tasks.get_mut(&message.task_id) {
            if entry.task.status_update_uuid == Some(message.uuid) {
                entry.task.status_update_state = None;
                entry.task.status_update_uuid = None;
            }
        }
        match self.agents.get(&message.agent_id).map(|a| a.pid.clone()) {
            Some(pid) => self.send(&pid, message),
            None => {
                tracing::warn!(agent = %message.agent_id, "acknowledgement for an unknown agent: dropped")
            }
        }
    }

    /// `ReconcileTasksMessage`: explicit (the listed tasks) or implicit (empty list: every task the
    /// master knows for the framework). Answers carry `REASON_RECONCILIATION` and no uuid.
    pub fn reconcile_tasks(
        &mut self,
        now: Instant,
        from: &Endpoint,
        message: ReconcileTasksMessage,
    ) {
        let Some(framework) = self.framework_from(from, &message.framework_id) else {
            return;
        };
        let framework_id = message.framework_id.clone();
        if message.statuses.is_empty() {
            let known: Vec<(TaskId, TaskState, AgentId, Option<ExecutorId>)> = framework
                .tasks
                .values()
                .chain(framework.unreachable_tasks.values())
                .map(|e| {
                    (
                        e.task.task_id.clone(),
                        e.task.state,
                        e.task.agent_id.clone(),
                        e.task.executor_id.clone(),
                    )
                })
                .collect();
            for (task_id, state, agent_id, executor_id) in known {
                let status = self.master_status(
                    now,
                    &task_id,
                    state,
                    Reason::Reconciliation,
                    "Reconciliation: latest task status",
                    Some(&agent_id),
                    executor_id.as_ref(),
                );
                self.send_master_status(now, &framework_id, status);
            }
            return;
        }
        for status in message.statuses {
            self.reconcile_one(
                now,
                &framework_id,
                &status.task_id,
                status.agent_id.as_ref(),
            );
        }
    }

    /// v1 SHUTDOWN: the framework asks the agent to stop one of its executors.
    pub fn shutdown_executor(
        &mut self,
        _now: Instant,
        from: &Endpoint,
        framework_id: &FrameworkId,
        agent_id: &AgentId,
        executor_id: &ExecutorId,
    ) {
        if self.framework_from(from, framework_id).is_none() {
            return;
        }
        match self.agents.get(agent_id).map(|a| a.pid.clone()) {
            Some(pid) => self.send(
                &pid,
                ShutdownExecutorMessage {
                    framework_id: framework_id.clone(),
                    executor_id: executor_id.clone(),
                },
            ),
            None => {
                tracing::warn!(agent = %agent_id, "executor shutdown for an unknown agent: dropped")
            }
        }
    }

    /// Answers for one task, as Mesos's explicit reconciliation does: the latest state of a known
    /// task; the terminal state of a completed one; otherwise by what is known of its agent
    /// (TASK_GONE / TASK_UNREACHABLE / TASK_UNKNOWN for partition-aware frameworks, TASK_LOST for
    /// others). An agent this master has not seen yet gets no answer during the re-registration
    /// window after the master starts (it may still come back with the task).
    fn reconcile_one(
        &mut self,
        now: Instant,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        agent_id: Option<&AgentId>,
    ) {
        let Some(framework) = self.frameworks.get(framework_id) else {
            return;
        };
        let pa = framework.partition_aware();
        let known = framework
            .tasks
            .get(task_id)
            .or_else(|| framework.unreachable_tasks.get(task_id))
            .map(|e| &e.task)
            .or_else(|| {
                framework
                    .completed_tasks
                    .iter()
                    .rev()
                    .find(|t| t.task_id == *task_id)
            });
        let (state, agent, executor, message) = match known {
            Some(task) => (
                task.state,
                Some(task.agent_id.clone()),
                task.executor_id.clone(),
                "Reconciliation: latest task status".to_string(),
            ),
            None => {
                let lost = |pa_state: TaskState| if pa { pa_state } else { TaskState::Lost };
                let (state, message) = match agent_id {
                    Some(a) if self.agents.contains_key(a) => (
                        lost(TaskState::Gone),
                        format!(
                            "Reconciliation: task unknown to the master on registered agent {a}"
                        ),
                    ),
                    Some(a) if self.removed_agents.get(a).is_some_and(|r| !r.gone) => (
                        lost(TaskState::Unreachable),
                        format!("Reconciliation: agent {a} is unreachable"),
                    ),
                    Some(a) if self.removed_agents.contains_key(a) => (
                        lost(TaskState::Gone),
                        format!("Reconciliation: agent {a} is gone"),
                    ),
                    Some(a) => {
                        let window = self.start + self.config.agent_reregister_timeout;
                        if now < window {
                            tracing::debug!(agent = %a, task = %task_id, "reconciliation deferred: agent may still re-register");
                            return;
                        }
                        (
                            lost(TaskState::Unknown),
                            format!("Reconciliation: agent {a} is unknown"),
                        )
                    }
                    None => {
                        if self.agents_may_return(now) {
                            // Its agent may be one still re-registering with it.
                            tracing::debug!(task = %task_id, "reconciliation deferred: agents may still re-register");
                            return;
                        }
                        (
                            lost(TaskState::Unknown),
                            "Reconciliation: task is unknown".to_string(),
                        )
                    }
                };
                (state, agent_id.cloned(), None, message)
            }
        };
        let status = self.master_status(
            now,
            task_id,
            state,
            Reason::Reconciliation,
            message,
            agent.as_ref(),
            executor.as_ref(),
        );
        self.send_master_status(now, framework_id, status);
    }

    /// `FrameworkToExecutorMessage` from a scheduler: relayed to the executor's agent.
    pub fn framework_to_executor(
        &mut self,
        _now: Instant,
        from: &Endpoint,
        message: FrameworkToExecutorMessage,
    ) {
        if self.framework_from(from, &message.framework_id).is_none() {
            return;
        }
        match self.agents.get(&message.agent_id).map(|a| a.pid.clone()) {
            Some(pid) => {
                self.counters.framework_messages += 1;
                self.send(&pid, message);
            }
            None => {
                tracing::warn!(agent = %message.agent_id, "framework message for an unknown agent: dropped")
            }
        }
    }

    /// `ExecutorToFrameworkMessage` from an agent: relayed to the scheduler.
    pub fn executor_to_framework(
        &mut self,
        _now: Instant,
        from: &Upid,
        message: ExecutorToFrameworkMessage,
    ) {
        if self.agent_by_pid.get(from) != Some(&message.agent_id) {
            tracing::warn!(
                %from,
                "executor message from a pid that is not the agent's: dropped"
            );
            self.counters.dropped_messages += 1;
            return;
        }
        if let Some(endpoint) = self.connected_endpoint(&message.framework_id) {
            self.counters.framework_messages += 1;
            self.send_to(&endpoint, message);
        }
    }

    /// `ExitedExecutorMessage` from an agent: the executor's resources go back and the scheduler
    /// is told.
    ///
    /// Unless a task launched on that executor is still `TASK_STAGING` here: the agent sends the
    /// terminal updates of an exited executor's tasks before the exit, on the same connection, so
    /// a task it has not reported at all reached it after the exit, and runs in a new instance of
    /// the executor (same id) that the agent started for it. That instance keeps the executor's
    /// resources; freeing them would over-commit the agent.
    pub fn exited_executor(&mut self, now: Instant, from: &Upid, message: ExitedExecutorMessage) {
        if self.agent_by_pid.get(from) != Some(&message.agent_id) {
            tracing::warn!(
                %from,
                "executor exit from a pid that is not the agent's: dropped"
            );
            self.counters.dropped_messages += 1;
            return;
        }
        // A launch on that executor still on its way: a STAGING task, or one already declared
        // LOST/DROPPED whose launch may still reach the agent (a launching zombie).
        let relaunched = self.frameworks.get(&message.framework_id).is_some_and(|f| {
            f.tasks.values().any(|entry| {
                entry.task.agent_id == message.agent_id
                    && entry.task.executor_id.as_ref() == Some(&message.executor_id)
                    && entry.task.state == TaskState::Staging
            })
        }) || self.agents.get(&message.agent_id).is_some_and(|a| {
            a.zombies.iter().any(|((framework_id, _), zombie)| {
                zombie.launching
                    && *framework_id == message.framework_id
                    && zombie.executor_id.as_ref() == Some(&message.executor_id)
            })
        });
        if relaunched {
            tracing::info!(
                framework_id = %message.framework_id,
                executor_id = %message.executor_id,
                "executor exited before a task launched on it arrived: its new instance keeps the resources"
            );
        }
        let removed = self
            .frameworks
            .get_mut(&message.framework_id)
            .filter(|_| !relaunched)
            .and_then(|f| f.executors.get_mut(&message.agent_id))
            .and_then(|e| e.remove(&message.executor_id));
        if let Some(executor) = removed {
            self.recover(
                now,
                &message.framework_id,
                &executor.role,
                &message.agent_id,
                &executor.info.resources,
                None,
            );
            self.resources_freed(now, &message.agent_id);
        }
        if let Some(endpoint) = self.connected_endpoint(&message.framework_id) {
            self.send_to(&endpoint, message);
        }
    }
}
