//! Agent lifecycle: registration, re-registration (rebuilding state after a master restart, and
//! keeping LOST tasks lost), health checks, disconnection and removal.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use allocator::{Allocator, FrameworkOptions, UsedResources};
use mesos::protocol::*;
use mesos::{AgentId, FrameworkId, Reason, Resources, TaskId, TaskState, TaskStatus};

use process::Upid;

use crate::outputs::Outgoing;

use super::{
    Agent, Change, Deadline, ExecutorEntry, Framework, MasterCore, RemovedAgent, TaskEntry,
    ZombieTask,
};

impl MasterCore {
    fn ping_timeout_secs(&self) -> f64 {
        self.config.agent_ping_timeout.as_secs_f64()
    }

    fn new_agent(
        &self,
        now: Instant,
        id: AgentId,
        info: mesos::AgentInfo,
        pid: &Upid,
        version: String,
    ) -> Agent {
        Agent {
            id,
            info,
            pid: pid.clone(),
            version,
            connected: true,
            registered_time: self.wall(now),
            reregistered_time: None,
            tasks: BTreeSet::new(),
            offers: BTreeSet::new(),
            zombies: BTreeMap::new(),
            pending_kills: BTreeSet::new(),
            lost_on_disconnect: BTreeSet::new(),
            next_ping: now,
            pong_received: true,
            missed_pings: 0,
        }
    }

    /// `RegisterSlaveMessage` from the agent at `from`.
    pub fn register_agent(&mut self, now: Instant, from: &Upid, message: RegisterSlaveMessage) {
        if let Some(id) = self.agent_by_pid.get(from).cloned() {
            // As Mesos's `Master::registerSlave`: from a connected agent's address this is a
            // retry (our answer was slow or lost; the agent retries until it hears one), however
            // late it arrives, even after tasks were launched there. A restarted agent broke its
            // connection first, so the old one is disconnected (or describes itself differently).
            let retry = self.agents.get(&id).is_some_and(|a| {
                a.connected
                    && a.info.hostname == message.agent.hostname
                    && a.info.resources == message.agent.resources
                    && a.info.attributes == message.agent.attributes
            });
            if !retry {
                // A new agent at the old one's address (it restarted without its state): the old
                // one and its tasks are gone.
                tracing::info!(agent = %id, pid = %from, "a new agent registers at a disconnected agent's address: removing the old one");
                self.remove_agent(now, &id, true);
                return self.register_agent(now, from, message);
            }
            // A retry (our answer was lost): answer again with the same id.
            let master_info = self.config.master_info.clone();
            let ping_timeout_secs = self.ping_timeout_secs();
            self.send(
                from,
                SlaveRegisteredMessage {
                    agent_id: id,
                    master_info,
                    ping_timeout_secs,
                },
            );
            return;
        }
        self.forget_unreachable_at(now, from, None);
        self.expected_gone_at(now, from);
        let id = AgentId::new(format!(
            "{}-S{}",
            self.config.master_info.id, self.next_agent
        ));
        self.next_agent += 1;
        let mut info = message.agent;
        info.id = Some(id.clone());
        if let Err(error) = self
            .allocator
            .add_agent(id.as_str(), info.resources.clone())
        {
            tracing::warn!(agent = %id, %error, "allocator refused the agent");
            return;
        }
        tracing::info!(agent = %id, hostname = %info.hostname, pid = %from, resources = %info.resources, "agent registered");
        let agent = self.new_agent(now, id.clone(), info, from, message.version);
        self.agents.insert(id.clone(), agent);
        self.changes.record(|| Change::AgentAdded(id.clone()));
        self.agent_by_pid.insert(from.clone(), id.clone());
        self.agent_returned(now, &id);
        self.counters.slave_registrations += 1;
        self.link(from);
        let master_info = self.config.master_info.clone();
        let ping_timeout_secs = self.ping_timeout_secs();
        self.send(
            from,
            SlaveRegisteredMessage {
                agent_id: id.clone(),
                master_info,
                ping_timeout_secs,
            },
        );
        self.ping(now, &id);
    }

    /// `ReregisterSlaveMessage`: an agent reconnecting, one this master has never seen (it
    /// restarted: the agent's report rebuilds the state), or one that was removed (its LOST tasks
    /// are killed, partition-aware frameworks' UNREACHABLE tasks come back).
    pub fn reregister_agent(&mut self, now: Instant, from: &Upid, message: ReregisterSlaveMessage) {
        let Some(id) = message.agent.id.clone() else {
            self.register_agent(
                now,
                from,
                RegisterSlaveMessage {
                    agent: message.agent,
                    version: message.version,
                },
            );
            return;
        };
        self.counters.slave_reregistrations += 1;
        // Another agent (a new one, since) at a removed agent's address: that one is gone.
        self.forget_unreachable_at(now, from, Some(&id));
        let readmitted = !self.agents.contains_key(&id);
        let (follow_ups, back) = if readmitted {
            self.readmit_agent(now, from, &id, message)
        } else {
            self.reconnect_agent(now, from, &id, message)
        };
        let master_info = self.config.master_info.clone();
        let ping_timeout_secs = self.ping_timeout_secs();
        self.relink(from);
        self.send(
            from,
            SlaveReregisteredMessage {
                agent_id: id.clone(),
                master_info,
                ping_timeout_secs,
            },
        );
        // Tell the agent where each of its frameworks' schedulers is now.
        let frameworks: BTreeSet<FrameworkId> = self
            .agents
            .get(&id)
            .map(|a| a.tasks.iter().map(|(f, _)| f.clone()).collect())
            .unwrap_or_default();
        for framework_id in frameworks {
            if let Some(endpoint) = self.connected_endpoint(&framework_id) {
                let pid = endpoint.pid().map(Upid::to_string).unwrap_or_default();
                self.send(from, UpdateFrameworkMessage { framework_id, pid });
            }
        }
        for message in follow_ups {
            self.send(from, message);
        }
        for (framework_id, status) in back {
            self.send_master_status(now, &framework_id, status);
        }
        if readmitted {
            self.ping(now, &id);
        }
    }

    /// A registered agent re-registers (its connection broke, or it restarted with its id).
    /// Tasks the master knows reached the agent (past STAGING) that the agent no longer reports
    /// are gone: LOST (GONE for partition-aware frameworks). A STAGING task may still be on its
    /// way to the agent, so it is left alone. Returns the follow-ups, as `readmit_agent` does.
    #[allow(clippy::type_complexity)]
    fn reconnect_agent(
        &mut self,
        now: Instant,
        from: &Upid,
        id: &AgentId,
        message: ReregisterSlaveMessage,
    ) -> (Vec<Outgoing>, Vec<(FrameworkId, TaskStatus)>) {
        let time = self.wall(now);
        let Some(agent) = self.agents.get_mut(id) else {
            return (Vec::new(), Vec::new());
        };
        let old_pid = std::mem::replace(&mut agent.pid, from.clone());
        let was_connected = std::mem::replace(&mut agent.connected, true);
        if !was_connected {
            self.registry_generation += 1;
        }
        let Some(agent) = self.agents.get_mut(id) else {
            return (Vec::new(), Vec::new());
        };
        // A restarted agent may come back with more resources or attributes
        // (`--reconfiguration_policy=additive`): later offers show them.
        let mut info = message.agent.clone();
        info.id = Some(id.clone());
        let resized = info.resources != agent.info.resources;
        if info.resources != agent.info.resources || info.attributes != agent.info.attributes {
            tracing::info!(agent = %id, from = %agent.info.resources, to = %info.resources, "agent re-registered with a new configuration");
            agent.info.resources = info.resources.clone();
            agent.info.attributes = info.attributes;
        }
        agent.reregistered_time = Some(time);
        agent.version = message.version;
        agent.missed_pings = 0;
        agent.pong_received = true;
        let known = agent.tasks.clone();
        if old_pid != *from {
            self.agent_by_pid.remove(&old_pid);
        }
        self.agent_by_pid.insert(from.clone(), id.clone());
        if resized {
            if let Err(error) = self.allocator.update_agent(id.as_str(), info.resources) {
                tracing::warn!(agent = %id, %error, "allocator refused the agent's new resources");
            }
        }
        if !was_connected {
            if let Err(error) = self.allocator.activate_agent(id.as_str()) {
                tracing::warn!(agent = %id, %error, "allocator cannot activate agent");
            }
        }
        let pending_kills = std::mem::take(&mut agent.pending_kills);
        let lost_on_disconnect = std::mem::take(&mut agent.lost_on_disconnect);
        let on_agent: BTreeSet<(FrameworkId, TaskId)> = message
            .tasks
            .iter()
            .map(|t| (t.framework_id.clone(), t.task_id.clone()))
            .collect();
        // Zombies of an earlier re-registration that the agent no longer has are over (their
        // kill reached the agent): their resources are free. Not a launching one: the report
        // may have left the agent before the launch arrived there (a stale or retried report
        // overtakes nothing, but crosses the launch on the way); it is killed again below and
        // is over when the agent reports its end (a kill of a task it never had is answered
        // LOST).
        let over: Vec<((FrameworkId, TaskId), ZombieTask)> = agent
            .zombies
            .iter()
            .filter(|(key, zombie)| {
                !zombie.launching && !lost_on_disconnect.contains(*key) && !on_agent.contains(*key)
            })
            .map(|(key, zombie)| (key.clone(), zombie.clone()))
            .collect();
        for (key, _) in &over {
            agent.zombies.remove(key);
        }
        for ((framework_id, _), zombie) in over {
            self.recover(
                now,
                &framework_id,
                &zombie.role,
                id,
                &zombie.resources,
                None,
            );
        }
        // Zombies still running are killed (again: a kill sent earlier may have been lost with
        // the connection), and so is a task reported LOST when the connection broke that the
        // agent does not report: it may still be on its way there. Each stays a zombie (its
        // resources held, its updates absorbed) until the agent reports its end.
        let zombies = self
            .agents
            .get(id)
            .map(|a| a.zombies.clone())
            .unwrap_or_default();
        // Their schedulers heard LOST (DROPPED, GONE): one message, which also tells the agent
        // to retire their updates that still say they run.
        let mut lost_kills: Vec<(FrameworkId, TaskId)> = zombies
            .iter()
            .filter(|(key, zombie)| {
                zombie.launching && !on_agent.contains(*key)
                    || message.tasks.iter().any(|t| {
                        t.framework_id == key.0 && t.task_id == key.1 && !t.state.is_terminal()
                    })
            })
            .map(|(key, _)| key.clone())
            .collect();
        let mut kills: Vec<(FrameworkId, TaskId)> = Vec::new();
        for key in lost_on_disconnect
            .iter()
            .filter(|key| !on_agent.contains(*key))
        {
            match zombies.get(key) {
                Some(zombie) if zombie.launching => lost_kills.push(key.clone()),
                Some(zombie) => {
                    // It ran there and is gone: its resources are free.
                    if let Some(agent) = self.agents.get_mut(id) {
                        agent.zombies.remove(key);
                    }
                    self.recover(now, &key.0, &zombie.role, id, &zombie.resources, None);
                }
                None => {}
            }
        }
        let mut shutdown = BTreeSet::new();
        let mut reported = BTreeSet::new();
        // Update the states the agent reports for tasks the master knows.
        for task in message.tasks {
            let key = (task.framework_id.clone(), task.task_id.clone());
            if lost_on_disconnect.contains(&key) {
                continue;
            }
            if pending_kills.contains(&key) && !task.state.is_terminal() {
                kills.push(key.clone());
            }
            if let Some(framework) = self.frameworks.get_mut(&task.framework_id) {
                let ended = !task.state.is_terminal()
                    && !framework.tasks.contains_key(&task.task_id)
                    && !zombies.contains_key(&key)
                    && framework
                        .completed_tasks
                        .iter()
                        .any(|t| t.task_id == task.task_id);
                if ended {
                    // Its scheduler heard it end (LOST when the agent it was launched on, under
                    // another id, was removed: the agent registered anew at the same address but
                    // still runs it): it must not run again. Killed, its end absorbed.
                    tracing::info!(agent = %id, task = %task.task_id, "a task that ended for its scheduler still runs: killing it");
                    if let Some(agent) = self.agents.get_mut(id) {
                        agent.zombies.insert(
                            key.clone(),
                            ZombieTask {
                                resources: Resources::new(),
                                role: "*".to_string(),
                                launching: false,
                                executor_id: task.executor_id.clone(),
                            },
                        );
                    }
                    lost_kills.push(key.clone());
                } else if let Some(entry) = framework.tasks.get_mut(&task.task_id) {
                    if !task.state.is_terminal() {
                        let previous = entry.task.state;
                        entry.task.state = task.state;
                        if let Some(status) = task.statuses.last() {
                            self.changes.task_state(
                                &task.framework_id,
                                previous,
                                &entry.task,
                                status,
                            );
                        }
                    }
                }
            } else if self.removed_framework_ids.contains(&task.framework_id) {
                shutdown.insert(task.framework_id.clone());
            }
            reported.insert((task.framework_id, task.task_id));
        }
        let mut updates = Vec::new();
        for key in known.difference(&reported) {
            let (framework_id, task_id) = key;
            let Some(framework) = self.frameworks.get_mut(framework_id) else {
                continue;
            };
            let Some(staging) = framework
                .tasks
                .get(task_id)
                .map(|e| e.task.state == TaskState::Staging)
            else {
                continue;
            };
            let state = match (framework.partition_aware(), staging) {
                (true, true) => TaskState::Dropped,
                (true, false) => TaskState::Gone,
                (false, _) => TaskState::Lost,
            };
            let Some(mut entry) = framework.tasks.remove(task_id) else {
                continue;
            };
            let text = if staging {
                format!("Task did not reach agent {id}, which re-registered without it")
            } else {
                format!("Task is no longer on agent {id}, which re-registered without it")
            };
            let status = TaskStatus {
                task_id: task_id.clone(),
                state,
                message: Some(text),
                source: Some(mesos::Source::Master),
                reason: Some(Reason::AgentRestarted),
                uuid: None,
                timestamp: time,
                agent_id: Some(id.clone()),
                executor_id: entry.task.executor_id.clone(),
                healthy: None,
                data: Vec::new(),
            };
            let previous = std::mem::replace(&mut entry.task.state, state);
            entry.task.statuses.push(status.clone());
            self.changes
                .task_state(framework_id, previous, &entry.task, &status);
            let resources = entry.task.resources.clone();
            let role = entry.role.clone();
            let executor_id = entry.task.executor_id.clone();
            framework.add_completed(entry.task);
            if let Some(agent) = self.agents.get_mut(id) {
                agent.tasks.remove(key);
            }
            if staging {
                // Its launch was lost with the old connection, or is still on its way on the new
                // one (then the kill, sent after it, stops it): a zombie until the agent says.
                if let Some(agent) = self.agents.get_mut(id) {
                    agent.zombies.insert(
                        key.clone(),
                        ZombieTask {
                            resources,
                            role,
                            launching: true,
                            executor_id,
                        },
                    );
                }
                lost_kills.push(key.clone());
            } else {
                self.recover(now, framework_id, &role, id, &resources, None);
            }
            self.count_terminal(state);
            updates.push((framework_id.clone(), status));
        }
        tracing::info!(agent = %id, pid = %from, "agent re-registered");
        // Kills issued while the agent was away are carried out now.
        kills.sort();
        kills.dedup();
        lost_kills.sort();
        lost_kills.dedup();
        kills.retain(|key| !lost_kills.contains(key));
        let mut follow_ups: Vec<Outgoing> = kills
            .into_iter()
            .map(|(framework_id, task_id)| {
                KillTaskMessage {
                    framework_id,
                    task_id,
                }
                .into()
            })
            .collect();
        if !lost_kills.is_empty() {
            follow_ups.push(KillTasksOnReregistrationMessage { tasks: lost_kills }.into());
        }
        follow_ups.extend(
            shutdown
                .into_iter()
                .map(|framework_id| ShutdownFrameworkMessage { framework_id }.into()),
        );
        (follow_ups, updates)
    }

    /// An agent this master does not have registered: rebuild its frameworks, executors and
    /// tasks from its report.
    /// Returns the messages for the agent (kills, shutdowns) and the updates for schedulers (tasks
    /// back from unreachable), to send once the agent knows it is re-registered.
    #[allow(clippy::type_complexity)]
    fn readmit_agent(
        &mut self,
        now: Instant,
        from: &Upid,
        id: &AgentId,
        message: ReregisterSlaveMessage,
    ) -> (Vec<Outgoing>, Vec<(FrameworkId, TaskStatus)>) {
        let mut removed = self.removed_agents.remove(id).unwrap_or_default();
        removed.disconnected |= self.was_disconnected(id);
        removed.lost_tasks.extend(self.expected_lost_tasks(id));
        let mut info = message.agent;
        info.id = Some(id.clone());
        // Frameworks the agent runs that this master does not know yet: recovered until their
        // schedulers re-register.
        for framework_info in &message.frameworks {
            let Some(framework_id) = framework_info.id.clone() else {
                continue;
            };
            if self.frameworks.contains_key(&framework_id)
                || self.removed_framework_ids.contains(&framework_id)
            {
                continue;
            }
            let roles: Vec<String> = framework_info
                .effective_roles()
                .iter()
                .map(|r| r.to_string())
                .collect();
            if let Err(error) = self.allocator.add_framework(
                framework_id.as_str(),
                FrameworkOptions {
                    roles,
                    suppressed_roles: Vec::new(),
                    active: false,
                },
            ) {
                tracing::warn!(framework = %framework_id, %error, "cannot recover framework");
                continue;
            }
            let mut framework = Framework::new(
                framework_id.clone(),
                framework_info.clone(),
                None,
                self.wall(now),
            );
            framework.connected = false;
            framework.active = false;
            framework.recovered = true;
            // Give the scheduler at least as long as agents get to re-register.
            let wait = framework_info
                .failover_timeout()
                .max(self.config.agent_reregister_timeout);
            framework.failover_deadline = now.checked_add(wait);
            if let Some(at) = framework.failover_deadline {
                self.deadlines
                    .push(Reverse((at, Deadline::Failover(framework_id.clone()))));
            }
            tracing::info!(framework = %framework_id, agent = %id, "framework recovered from a re-registering agent");
            self.changes
                .record(|| Change::FrameworkAdded(framework_id.clone()));
            self.frameworks.insert(framework_id, framework);
        }

        let mut agent = self.new_agent(now, id.clone(), info, from, message.version);
        agent.reregistered_time = Some(agent.registered_time);
        // Batch work: an agent reports thousands of tasks after a failover, so each task costs
        // its own records only (its ids as keys, its role, its shared entry): the task moves into
        // its entry, the used resources sum per framework and role in a short list, and the set
        // of reported tasks is built only when some framework has unreachable tasks to compare.
        let mut used = UsedByRole::default();
        let mut kill: Vec<(FrameworkId, TaskId)> = Vec::new();
        let mut shutdown: BTreeSet<FrameworkId> = BTreeSet::new();
        let mut back: Vec<(FrameworkId, TaskStatus)> = Vec::new();
        let on_agent: Option<BTreeSet<(FrameworkId, TaskId)>> = self
            .frameworks
            .values()
            .any(|f| !f.unreachable_tasks.is_empty())
            .then(|| {
                message
                    .tasks
                    .iter()
                    .map(|t| (t.framework_id.clone(), t.task_id.clone()))
                    .collect()
            });
        for mut task in message.tasks {
            if task.state.is_terminal() {
                // Its resources are free on the agent; the agent still sends its final update.
                // (One whose scheduler has not heard it end holds them until then, below.)
                let Some(framework) = self.frameworks.get_mut(&task.framework_id) else {
                    continue;
                };
                let key = (task.framework_id.clone(), task.task_id.clone());
                if removed.lost(&key, framework.partition_aware(), framework.info.checkpoint) {
                    // Its scheduler heard LOST: the final update is absorbed.
                    agent.zombies.insert(
                        key,
                        ZombieTask {
                            resources: Resources::new(),
                            role: "*".to_string(),
                            launching: false,
                            executor_id: None,
                        },
                    );
                    continue;
                }
                if let Some(mut entry) = framework.unreachable_tasks.remove(&task.task_id) {
                    // Unreachable no more: it ended (its update follows).
                    entry.task.state = task.state;
                    framework.add_completed(entry.task);
                    continue;
                }
                match task.status_update_state.filter(|s| !s.is_terminal()) {
                    // Its scheduler has not heard it end: the agent still sends its updates from
                    // the one in flight (a RUNNING, say) to the terminal one. Known at the state
                    // of the one in flight until the terminal one arrives (Mesos keeps such a
                    // task and reconciles it at its status update state), so that
                    // reconciliation in between does not answer LOST for a task about to be
                    // reported running.
                    Some(state) => task.state = state,
                    None => continue,
                }
            }
            let key = (task.framework_id.clone(), task.task_id.clone());
            let Some(framework) = self.frameworks.get_mut(&task.framework_id) else {
                // A removed (or never described) framework: shut it down on the agent.
                shutdown.insert(task.framework_id.clone());
                used.add(&task.framework_id, "*", &task.resources);
                agent.zombies.insert(
                    key,
                    ZombieTask {
                        resources: task.resources,
                        role: "*".to_string(),
                        launching: false,
                        executor_id: task.executor_id.clone(),
                    },
                );
                continue;
            };
            if removed.lost(&key, framework.partition_aware(), framework.info.checkpoint) {
                // LOST means lost: the scheduler was told; the task must not run again.
                let role = framework.default_role();
                used.add(&task.framework_id, &role, &task.resources);
                agent.zombies.insert(
                    key.clone(),
                    ZombieTask {
                        resources: task.resources,
                        role,
                        launching: false,
                        executor_id: task.executor_id.clone(),
                    },
                );
                kill.push(key);
                continue;
            }
            let entry = match framework.unreachable_tasks.remove(&task.task_id) {
                Some(mut entry) => {
                    // A partition-aware framework's task is back.
                    let previous = std::mem::replace(&mut entry.task.state, task.state);
                    let status = TaskStatus {
                        task_id: task.task_id.clone(),
                        state: task.state,
                        message: Some(format!("Agent {id} re-registered")),
                        source: Some(mesos::Source::Master),
                        reason: Some(Reason::AgentReregistered),
                        uuid: None,
                        timestamp: self.config.start_wall_secs
                            + now.saturating_duration_since(self.start).as_secs_f64(),
                        agent_id: Some(id.clone()),
                        executor_id: task.executor_id.clone(),
                        healthy: None,
                        data: Vec::new(),
                    };
                    entry.task.statuses.push(status.clone());
                    self.changes
                        .task_state(&task.framework_id, previous, &entry.task, &status);
                    back.push((task.framework_id.clone(), status));
                    entry
                }
                None => {
                    self.changes.record(|| Change::TaskAdded(task.clone()));
                    TaskEntry {
                        role: framework.default_role(),
                        task,
                    }
                }
            };
            used.add(&key.0, &entry.role, &entry.task.resources);
            framework.tasks.insert(key.1.clone(), entry);
            agent.tasks.insert(key);
        }
        for executor in message.executors {
            let Some(framework) = executor
                .framework_id
                .as_ref()
                .and_then(|f| self.frameworks.get_mut(f))
            else {
                continue;
            };
            let role = framework.default_role();
            used.add(&framework.id, &role, &executor.resources);
            let executors = match framework.executors.get_mut(id) {
                Some(executors) => executors,
                None => framework.executors.entry(id.clone()).or_default(),
            };
            executors.insert(
                executor.executor_id.clone(),
                ExecutorEntry {
                    info: executor,
                    role,
                },
            );
        }
        // Unreachable tasks the agent no longer has are gone.
        if let Some(on_agent) = on_agent {
            let time = self.wall(now);
            let message =
                format!("Task is no longer on agent {id}, which re-registered without it");
            for (framework_id, framework) in self.frameworks.iter_mut() {
                let gone = unreachable_tasks_gone(
                    framework,
                    id,
                    time,
                    Reason::AgentReregistered,
                    &message,
                    |task_id| !on_agent.contains(&(framework_id.clone(), task_id.clone())),
                );
                back.extend(gone.into_iter().map(|s| (framework_id.clone(), s)));
            }
        }
        let used = used.into_sorted();
        let total = agent.info.resources.clone();
        if let Err(error) = self
            .allocator
            .add_agent_with_used(id.as_str(), total.clone(), &used)
        {
            tracing::warn!(agent = %id, %error, "allocator refused the agent's used resources; adding it idle");
            if let Err(error) = self.allocator.add_agent(id.as_str(), total) {
                tracing::warn!(agent = %id, %error, "allocator refused the agent");
            }
        }
        self.agents.insert(id.clone(), agent);
        self.changes.record(|| Change::AgentAdded(id.clone()));
        self.agent_by_pid.insert(from.clone(), id.clone());
        self.agent_returned(now, id);
        let mut follow_ups: Vec<Outgoing> = Vec::new();
        if !kill.is_empty() {
            // One message kills them all (a KillTaskMessage each as well killed every task twice).
            tracing::info!(agent = %id, tasks = kill.len(), "killing tasks that were declared LOST");
            follow_ups.push(KillTasksOnReregistrationMessage { tasks: kill }.into());
        }
        for framework_id in shutdown {
            follow_ups.push(ShutdownFrameworkMessage { framework_id }.into());
        }
        tracing::info!(agent = %id, pid = %from, "agent re-registered (admitted)");
        (follow_ups, back)
    }

    /// A new agent registers (or an agent other than `except` re-registers) at `pid`: an
    /// unreachable agent that was there will never come back (its address is taken by an agent
    /// without its state), so its tasks that partition-aware frameworks still see as
    /// UNREACHABLE are GONE.
    fn forget_unreachable_at(&mut self, now: Instant, pid: &Upid, except: Option<&AgentId>) {
        let old: Vec<AgentId> = self
            .removed_agents
            .iter()
            .filter(|(id, r)| !r.gone && r.pid.as_ref() == Some(pid) && Some(*id) != except)
            .map(|(id, _)| id.clone())
            .collect();
        for id in old {
            if let Some(removed) = self.removed_agents.get_mut(&id) {
                removed.gone = true;
            }
            self.registry_generation += 1;
            let time = self.wall(now);
            let mut updates = Vec::new();
            let message = format!("Agent {id} is gone: a new agent registered at its address");
            for (framework_id, framework) in self.frameworks.iter_mut() {
                let gone = unreachable_tasks_gone(
                    framework,
                    &id,
                    time,
                    Reason::AgentRemoved,
                    &message,
                    |_| true,
                );
                updates.extend(gone.into_iter().map(|s| (framework_id.clone(), s)));
            }
            for (framework_id, status) in updates {
                self.count_terminal(TaskState::Gone);
                self.send_master_status(now, &framework_id, status);
            }
        }
    }

    /// `UnregisterSlaveMessage`: the agent leaves for good.
    pub fn unregister_agent(&mut self, now: Instant, from: &Upid, message: UnregisterSlaveMessage) {
        if self.agent_by_pid.get(from) != Some(&message.agent_id) {
            tracing::warn!(agent = %message.agent_id, %from, "unregister from a pid that is not the agent's: dropped");
            self.counters.dropped_messages += 1;
            return;
        }
        self.remove_agent(now, &message.agent_id, true);
    }

    /// `PongSlaveMessage` from the agent at `from`.
    pub fn pong(&mut self, _now: Instant, from: &Upid) {
        let Some(id) = self.agent_by_pid.get(from) else {
            return;
        };
        if let Some(agent) = self.agents.get_mut(id) {
            agent.pong_received = true;
            agent.missed_pings = 0;
        }
    }

    /// Sends a ping now and schedules the next check one ping timeout later.
    fn ping(&mut self, now: Instant, id: &AgentId) {
        let at = now + self.config.agent_ping_timeout;
        let Some(agent) = self.agents.get_mut(id) else {
            return;
        };
        agent.pong_received = false;
        agent.next_ping = at;
        let pid = agent.pid.clone();
        let connected = agent.connected;
        self.deadlines
            .push(Reverse((at, Deadline::Ping(id.clone()))));
        self.send(&pid, PingSlaveMessage { connected });
    }

    /// A ping round is due: count a miss if the last ping went unanswered; remove the agent after
    /// `max_agent_ping_timeouts` misses in a row, else ping again.
    pub(super) fn ping_due(&mut self, now: Instant, at: Instant, id: &AgentId) {
        let max = self.config.max_agent_ping_timeouts;
        let Some(agent) = self.agents.get_mut(id) else {
            return;
        };
        if agent.next_ping != at {
            return;
        }
        if agent.pong_received {
            agent.missed_pings = 0;
        } else {
            agent.missed_pings += 1;
        }
        if agent.missed_pings >= max {
            tracing::warn!(agent = %id, missed = agent.missed_pings, "agent missed too many pings: removing it");
            self.remove_agent(now, id, false);
        } else {
            self.ping(now, id);
        }
    }

    /// The agent's connection broke: no offers from it until it re-registers; pings go on.
    pub(super) fn disconnect_agent(&mut self, now: Instant, id: &AgentId) {
        let Some(agent) = self.agents.get_mut(id) else {
            return;
        };
        if !agent.connected {
            return;
        }
        agent.connected = false;
        // The next leader must know its non-checkpointing tasks were reported lost.
        self.registry_generation += 1;
        let offers: Vec<_> = agent.offers.iter().cloned().collect();
        if let Err(error) = self.allocator.deactivate_agent(id.as_str()) {
            tracing::warn!(agent = %id, %error, "allocator cannot deactivate agent");
        }
        for offer in offers {
            self.rescind_offer(now, &offer, true);
        }
        self.lose_non_checkpointing_tasks(now, id);
    }

    /// The agent disconnected: tasks of frameworks that do not checkpoint cannot survive it (their
    /// executors exit when their agent goes away, and a restarted agent knows nothing of them), so
    /// they are LOST now (GONE for partition-aware frameworks), not after the ping timeout.
    fn lose_non_checkpointing_tasks(&mut self, now: Instant, id: &AgentId) {
        let Some(agent) = self.agents.get(id) else {
            return;
        };
        let doomed: Vec<(FrameworkId, TaskId)> = agent
            .tasks
            .iter()
            .filter(|(f, _)| self.frameworks.get(f).is_some_and(|f| !f.info.checkpoint))
            .cloned()
            .collect();
        let mut updates = Vec::new();
        for key in doomed {
            let (framework_id, task_id) = &key;
            let Some(framework) = self.frameworks.get_mut(framework_id) else {
                continue;
            };
            let state = if framework.partition_aware() {
                TaskState::Gone
            } else {
                TaskState::Lost
            };
            let Some(mut entry) = framework.tasks.remove(task_id) else {
                continue;
            };
            let staging = entry.task.state == TaskState::Staging;
            let status = self.master_status(
                now,
                task_id,
                state,
                Reason::AgentDisconnected,
                format!("Agent {id} disconnected and the framework does not checkpoint"),
                Some(id),
                entry.task.executor_id.as_ref(),
            );
            let previous = std::mem::replace(&mut entry.task.state, state);
            entry.task.statuses.push(status.clone());
            self.changes
                .task_state(framework_id, previous, &entry.task, &status);
            let (resources, role) = (entry.task.resources.clone(), entry.role.clone());
            let executor_id = entry.task.executor_id.clone();
            if let Some(framework) = self.frameworks.get_mut(framework_id) {
                framework.add_completed(entry.task);
            }
            if let Some(agent) = self.agents.get_mut(id) {
                agent.tasks.remove(&key);
                agent.lost_on_disconnect.insert(key.clone());
                // Only the connection broke, maybe: the task may still run, so its resources stay
                // held (the agent is not offered while disconnected) until the agent re-registers
                // without it or reports its end; if it is still running then, it is killed.
                let launching = staging;
                agent.zombies.insert(
                    key.clone(),
                    ZombieTask {
                        resources,
                        role,
                        launching,
                        executor_id,
                    },
                );
            }
            self.count_terminal(state);
            updates.push((framework_id.clone(), status));
        }
        // Their executors are gone with them.
        let frameworks: Vec<FrameworkId> = self
            .frameworks
            .iter()
            .filter(|(_, f)| !f.info.checkpoint && f.executors.contains_key(id))
            .map(|(framework_id, _)| framework_id.clone())
            .collect();
        for framework_id in frameworks {
            let executors = self
                .frameworks
                .get_mut(&framework_id)
                .and_then(|f| f.executors.remove(id))
                .unwrap_or_default();
            for (_, executor) in executors {
                let resources = executor.info.resources;
                self.recover(now, &framework_id, &executor.role, id, &resources, None);
            }
        }
        for (framework_id, status) in updates {
            tracing::info!(agent = %id, task = %status.task_id, framework = %framework_id, "task of a non-checkpointing framework lost with its agent's connection");
            self.send_master_status(now, &framework_id, status);
        }
    }

    /// Removes an agent: offers rescinded, tasks LOST (or UNREACHABLE / GONE for partition-aware
    /// frameworks), schedulers told with `LostSlaveMessage`. `gone` is true when the agent
    /// unregistered, false when it stopped answering pings.
    pub(super) fn remove_agent(&mut self, now: Instant, id: &AgentId, gone: bool) {
        let Some(agent) = self.agents.remove(id) else {
            return;
        };
        self.registry_generation += 1;
        if self.agent_by_pid.get(&agent.pid) == Some(id) {
            self.agent_by_pid.remove(&agent.pid);
        }
        for offer in &agent.offers {
            // The allocator forgets the agent's resources below; nothing to recover.
            if let Some(entry) = self.remove_offer(offer) {
                self.counters.offers_rescinded += 1;
                if let Some(endpoint) = self.connected_endpoint(&entry.offer.framework_id) {
                    self.send_to(
                        &endpoint,
                        RescindResourceOfferMessage {
                            offer_id: offer.clone(),
                        },
                    );
                }
            }
        }
        // Tasks already reported LOST (when the connection broke, or as zombies) stay lost.
        let mut removed = RemovedAgent {
            gone,
            pid: Some(agent.pid.clone()),
            disconnected: !agent.connected,
            lost_tasks: agent
                .lost_on_disconnect
                .iter()
                .chain(agent.zombies.keys())
                .cloned()
                .collect(),
            ..RemovedAgent::default()
        };
        let message = if gone {
            format!("Agent {id} unregistered")
        } else {
            format!("Agent {id} removed: health check timed out")
        };
        let mut updates = Vec::new();
        for (framework_id, task_id) in &agent.tasks {
            let Some(framework) = self.frameworks.get_mut(framework_id) else {
                continue;
            };
            let Some(mut entry) = framework.tasks.remove(task_id) else {
                continue;
            };
            let state = match (framework.partition_aware(), gone) {
                (true, false) => TaskState::Unreachable,
                (true, true) => TaskState::Gone,
                (false, _) => TaskState::Lost,
            };
            let status = TaskStatus {
                task_id: task_id.clone(),
                state,
                message: Some(message.clone()),
                source: Some(mesos::Source::Master),
                reason: Some(Reason::AgentRemoved),
                uuid: None,
                timestamp: self.config.start_wall_secs
                    + now.saturating_duration_since(self.start).as_secs_f64(),
                agent_id: Some(id.clone()),
                executor_id: entry.task.executor_id.clone(),
                healthy: None,
                data: Vec::new(),
            };
            let previous = std::mem::replace(&mut entry.task.state, state);
            entry.task.statuses.push(status.clone());
            self.changes
                .task_state(framework_id, previous, &entry.task, &status);
            if state == TaskState::Unreachable {
                framework.unreachable_tasks.insert(task_id.clone(), entry);
            } else {
                removed
                    .lost_tasks
                    .insert((framework_id.clone(), task_id.clone()));
                framework.add_completed(entry.task);
            }
            updates.push((framework_id.clone(), status));
        }
        for framework in self.frameworks.values_mut() {
            framework.executors.remove(id);
        }
        for (_, status) in &updates {
            if status.state == TaskState::Unreachable {
                self.counters.tasks_unreachable += 1;
            } else {
                self.count_terminal(status.state);
            }
        }
        if let Err(error) = self.allocator.remove_agent(id.as_str()) {
            tracing::warn!(agent = %id, %error, "allocator cannot remove agent");
        }
        self.removed_agents.insert(id.clone(), removed);
        self.changes.record(|| Change::AgentRemoved(id.clone()));
        self.counters.slave_removals += 1;
        if !gone {
            self.counters.slave_unreachable_completed += 1;
        }
        for (framework_id, status) in updates {
            self.send_master_status(now, &framework_id, status);
        }
        for endpoint in self.connected_endpoints() {
            self.send_to(
                &endpoint,
                LostSlaveMessage {
                    agent_id: id.clone(),
                },
            );
        }
    }
}

/// Moves `framework`'s unreachable tasks on `agent_id` that `is_gone` picks to its completed
/// tasks as TASK_GONE (source master, `reason`, `message`), returning their statuses in task id
/// order.
fn unreachable_tasks_gone(
    framework: &mut Framework,
    agent_id: &AgentId,
    timestamp: f64,
    reason: Reason,
    message: &str,
    is_gone: impl Fn(&TaskId) -> bool,
) -> Vec<TaskStatus> {
    let gone: Vec<TaskId> = framework
        .unreachable_tasks
        .iter()
        .filter(|(task_id, e)| e.task.agent_id == *agent_id && is_gone(task_id))
        .map(|(task_id, _)| task_id.clone())
        .collect();
    let mut statuses = Vec::with_capacity(gone.len());
    for task_id in gone {
        let Some(mut entry) = framework.unreachable_tasks.remove(&task_id) else {
            continue;
        };
        let status = TaskStatus {
            task_id,
            state: TaskState::Gone,
            message: Some(message.to_string()),
            source: Some(mesos::Source::Master),
            reason: Some(reason),
            uuid: None,
            timestamp,
            agent_id: Some(agent_id.clone()),
            executor_id: entry.task.executor_id.clone(),
            healthy: None,
            data: Vec::new(),
        };
        entry.task.state = TaskState::Gone;
        entry.task.statuses.push(status.clone());
        framework.add_completed(entry.task);
        statuses.push(status);
    }
    statuses
}

/// Resources in use on a re-registering agent, summed per framework and role: an agent runs a
/// handful of frameworks, so a short list searched by name beats a map keyed by owned strings
/// (no key is allocated per task).
#[derive(Debug, Default)]
struct UsedByRole(Vec<UsedResources>);

impl UsedByRole {
    fn add(&mut self, framework: &FrameworkId, role: &str, resources: &Resources) {
        match self
            .0
            .iter_mut()
            .find(|u| u.framework == framework.as_str() && u.role == role)
        {
            Some(used) => used.resources += resources,
            None => self.0.push(UsedResources {
                framework: framework.as_str().to_string(),
                role: role.to_string(),
                resources: resources.clone(),
            }),
        }
    }

    /// By framework, then role (the order a map would give).
    fn into_sorted(mut self) -> Vec<UsedResources> {
        self.0
            .sort_by(|a, b| (&a.framework, &a.role).cmp(&(&b.framework, &b.role)));
        self.0
    }
}
