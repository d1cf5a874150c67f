//! The invariants, each with a name, and what the world observes to check them.
//!
//! Checked after every step:
//! - `no_overcommit`: no agent runs more than it has (the executors and tasks that physically
//!   run), and the leading master never hands out more than an agent has (tasks, executors,
//!   zombies and outstanding offers).
//! - `offer_used_once`: an offer id that launched tasks never launches tasks again.
//! - `no_launch_on_removed_agent`: the leader never sends a task to an agent it removed.
//! - `updates_in_order`: a scheduler hears a task's updates in the order its agent took them
//!   (a retried update may come twice, an older one never after a newer one).
//! - `terminal_is_final` / `lost_never_runs_again`: after a terminal update (in particular LOST,
//!   to a framework that is not partition-aware) the scheduler never hears the task is running.
//! - `acknowledged_never_resent`: an update whose acknowledgement its agent processed is never
//!   sent again, whatever crashes and recoveries follow.
//!
//! Checked once the cluster has been quiet for a while:
//! - `cluster_reassembles`: every live agent and every scheduler is registered with the leader.
//! - `running_tasks_known`: every task that runs is known to the leading master, on its agent.
//! - `every_task_reported`: every task a scheduler launched is either running or was reported
//!   terminal to it (at least once).
//! - `lost_never_runs_again` (physically): no task reported LOST to a framework that is not
//!   partition-aware runs.
//!
//! Checked at the end of the greedy phase:
//! - `drf_converges`: frameworks that take every offer end up with equal dominant shares (equal
//!   weights), within two tasks.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use mesos::protocol::{LaunchTasksMessage, StatusUpdate};
use mesos::{FrameworkId, OfferId, TaskId, TaskStatus, Uuid};
use process::Upid;

use crate::payload::Payload;
use crate::trace::TraceKind;
use crate::world::{NodeKey, Phase, World};

const EPSILON: f64 = 1e-6;

/// A broken invariant.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The seed of the run.
    pub seed: u64,
    /// The invariant's name.
    pub invariant: &'static str,
    /// What exactly was wrong.
    pub detail: String,
    /// Simulated time of the violation.
    pub at: Duration,
    /// The latest events before it.
    pub trace: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed={} invariant={} at={:.3}s: {}",
            self.seed,
            self.invariant,
            self.at.as_secs_f64(),
            self.detail
        )?;
        writeln!(f, "last events:")?;
        for line in &self.trace {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// What the world remembers to check the invariants.
#[derive(Debug, Default)]
pub struct Observer {
    /// Every update an agent sent to a master: its task and its position in the task's stream.
    forwarded: HashMap<Uuid, (FrameworkId, TaskId, u64)>,
    stream_len: BTreeMap<(FrameworkId, TaskId), u64>,
    /// Updates whose acknowledgement an agent processed.
    pub(crate) acknowledged: HashSet<Uuid>,
    /// When a task stopped running (its program ended or its executor died), or, if earlier
    /// seen, when an agent first sent its terminal update.
    ended: BTreeMap<(FrameworkId, TaskId), Duration>,
    /// Offers that launched tasks.
    used_offers: BTreeSet<OfferId>,
    /// RunTask messages the leader sent during the current input.
    runs_sent: u64,
    /// The faults applied so far (for reports).
    pub(crate) faults: Vec<String>,
    /// Sums of the sampled dominant shares, per framework.
    share_sums: Vec<f64>,
    share_samples: u64,
}

impl World {
    /// The leader sends `payload` to `to`.
    pub(crate) fn observe_master_send(&mut self, _to: &Upid, payload: &Payload) {
        let Payload::RunTaskMessage(run) = payload else {
            return;
        };
        self.observer.runs_sent += 1;
        let Some(core) = self.leader_core() else {
            return;
        };
        let agent = &run.task.agent_id;
        if core.removed_agents().contains_key(agent) || !core.agents().contains_key(agent) {
            let detail = format!(
                "task {} of {} sent to agent {agent}, which the leader has removed",
                run.task.task_id, run.framework_id
            );
            self.violate("no_launch_on_removed_agent", detail);
        }
    }

    /// A launch reaches leader `i`: the offers it uses must never have launched anything.
    pub(crate) fn master_launch(
        &mut self,
        i: usize,
        endpoint: &master::Endpoint,
        m: LaunchTasksMessage,
    ) {
        let valid: Vec<OfferId> = match self.leader_core() {
            Some(core) => m
                .offer_ids
                .iter()
                .filter(|id| core.offers().contains_key(*id))
                .cloned()
                .collect(),
            None => return,
        };
        self.observer.runs_sent = 0;
        self.master_input(i, |c, now| c.launch_tasks(now, endpoint, m));
        if self.observer.runs_sent == 0 {
            return;
        }
        for offer in valid {
            if !self.observer.used_offers.insert(offer.clone()) {
                self.violate(
                    "offer_used_once",
                    format!("offer {offer} launched tasks twice"),
                );
            }
        }
    }

    /// A task of `framework_id` stops running on its node: its terminal update starts on its way
    /// now (through the executor, or the agent once it reaps the executor), so the quiet check
    /// must not take it for a task nobody reported (sim seed 3083: the program ended 2 ms before
    /// the check, its update not yet at the agent).
    pub(crate) fn observe_task_stopped(&mut self, framework_id: &FrameworkId, task_id: &TaskId) {
        self.observer
            .ended
            .entry((framework_id.clone(), task_id.clone()))
            .or_insert(self.now);
    }

    /// Agent `i` sends `update` to its master (first time or retry).
    pub(crate) fn observe_agent_forward(&mut self, i: usize, update: &StatusUpdate) {
        if self.observer.acknowledged.contains(&update.uuid) {
            let detail = format!(
                "agent{i} sent {} {} of {} again after its acknowledgement was processed",
                update.status.task_id, update.status.state, update.framework_id
            );
            self.violate("acknowledged_never_resent", detail);
            return;
        }
        if !self.observer.forwarded.contains_key(&update.uuid) {
            let key = (update.framework_id.clone(), update.status.task_id.clone());
            if update.status.state.is_terminal() {
                self.observer.ended.entry(key.clone()).or_insert(self.now);
            }
            let position = self.observer.stream_len.entry(key.clone()).or_default();
            *position += 1;
            let position = *position;
            self.observer
                .forwarded
                .insert(update.uuid, (key.0, key.1, position));
        }
    }

    /// Framework `i`'s scheduler hears `status`.
    pub(crate) fn observe_scheduler_update(&mut self, i: usize, status: &TaskStatus) {
        self.trace.note(
            self.now,
            TraceKind::Update,
            None,
            Some(NodeKey::Scheduler(i)),
            status.state.as_str(),
        );
        let task_id = &status.task_id;
        let position = status
            .uuid
            .and_then(|u| self.observer.forwarded.get(&u))
            .map(|(_, _, p)| *p);
        let s = &mut self.schedulers[i];
        let partition_aware = s.partition_aware();
        let Some(view) = s.tasks.get(task_id).cloned() else {
            return;
        };
        if let Some(position) = position {
            let heard = s.heard.entry(task_id.clone()).or_default();
            if position < *heard {
                let detail = format!(
                    "framework {i} heard update #{position} ({}) of {task_id} after update #{heard}",
                    status.state
                );
                self.violate("updates_in_order", detail);
                return;
            }
            *heard = position;
        }
        let s = &mut self.schedulers[i];
        // TASK_UNKNOWN says the master has no knowledge of the task (never had, or forgot it
        // after its end, as Mesos does: a kill or reconciliation of a task that ended answers
        // UNKNOWN), not that it runs: it does not contradict a terminal state.
        let claims_alive = !status.state.is_terminal() && status.state != mesos::TaskState::Unknown;
        if claims_alive && view.terminal && !view.abandoned {
            let invariant = if s.lost.contains(task_id) {
                "lost_never_runs_again"
            } else {
                "terminal_is_final"
            };
            let detail = format!(
                "framework {i} heard {task_id} {} ({:?}) after {:?}",
                status.state, status.source, view.last
            );
            self.violate(invariant, detail);
            return;
        }
        if status.state == mesos::TaskState::Lost && !partition_aware {
            s.lost.insert(task_id.clone());
        }
        if let Some(view) = s.tasks.get_mut(task_id) {
            view.last = Some(status.state);
            view.terminal |= status.state.is_terminal();
        }
    }

    /// What the leader believes runs on agent `i` (for reports).
    fn leader_view(&self, i: usize) -> String {
        let Some(core) = self.leader_core() else {
            return "no leader".into();
        };
        let pid = &self.agents[i].pid;
        let Some(agent) = core.agents().values().find(|a| &a.pid == pid) else {
            return "agent unknown".into();
        };
        let mut parts = vec![format!("{} connected={}", agent.id, agent.connected)];
        for f in core.frameworks().values() {
            for e in f.tasks.values().filter(|e| e.task.agent_id == agent.id) {
                parts.push(format!("{}:{}({})", f.id, e.task.task_id, e.task.state));
            }
            if let Some(executors) = f.executors.get(&agent.id) {
                for e in executors.keys() {
                    parts.push(format!("{}:executor {e}", f.id));
                }
            }
        }
        for o in core
            .offers()
            .values()
            .filter(|o| o.offer.agent_id == agent.id)
        {
            parts.push(format!("offer {} {}", o.offer.id, o.offer.resources));
        }
        for z in agent.zombies.keys() {
            parts.push(format!("zombie {}:{}", z.0, z.1));
        }
        parts.join(" ")
    }

    /// After every step: nothing is over-committed.
    pub(crate) fn check_always(&mut self) {
        for i in 0..self.agents.len() {
            let (cpus, mem) = self.physical_usage(i);
            let agent = &self.agents[i];
            if cpus > agent.cpus + EPSILON || mem > agent.mem + EPSILON {
                let running: Vec<String> = self
                    .executors
                    .iter()
                    .filter(|(_, e)| e.alive && e.agent == i)
                    .map(|(n, e)| {
                        let tasks: Vec<String> = e
                            .tasks
                            .iter()
                            .filter(|(_, t)| t.running)
                            .map(|(id, t)| format!("{id}({})", t.cpus))
                            .collect();
                        format!(
                            "executor{n}[{} {:?} {}]",
                            e.framework_id,
                            e.overhead,
                            tasks.join(",")
                        )
                    })
                    .collect();
                let detail = format!(
                    "agent{i} runs cpus:{cpus};mem:{mem} but has cpus:{};mem:{}: {}; the leader's view: {}",
                    agent.cpus,
                    agent.mem,
                    running.join(" "),
                    self.leader_view(i)
                );
                self.violate("no_overcommit", detail);
                return;
            }
        }
        let Some(core) = self.leader_core() else {
            return;
        };
        let mut used: BTreeMap<&mesos::AgentId, (f64, f64)> = BTreeMap::new();
        for framework in core.frameworks().values() {
            for entry in framework.tasks.values() {
                if entry.task.state.is_active() {
                    let u = used.entry(&entry.task.agent_id).or_default();
                    u.0 += entry.task.resources.cpus().unwrap_or(0.0);
                    u.1 += entry.task.resources.mem().unwrap_or(0.0);
                }
            }
            for (agent, executors) in &framework.executors {
                for executor in executors.values() {
                    let u = used.entry(agent).or_default();
                    u.0 += executor.info.resources.cpus().unwrap_or(0.0);
                    u.1 += executor.info.resources.mem().unwrap_or(0.0);
                }
            }
        }
        for entry in core.offers().values() {
            let u = used.entry(&entry.offer.agent_id).or_default();
            u.0 += entry.offer.resources.cpus().unwrap_or(0.0);
            u.1 += entry.offer.resources.mem().unwrap_or(0.0);
        }
        let mut problem = None;
        for (id, agent) in core.agents() {
            let mut u = used.get(id).copied().unwrap_or_default();
            for zombie in agent.zombies.values() {
                u.0 += zombie.resources.cpus().unwrap_or(0.0);
                u.1 += zombie.resources.mem().unwrap_or(0.0);
            }
            let total = &agent.info.resources;
            let (cpus, mem) = (total.cpus().unwrap_or(0.0), total.mem().unwrap_or(0.0));
            if u.0 > cpus + EPSILON || u.1 > mem + EPSILON {
                problem = Some(format!(
                    "the leader has handed out cpus:{};mem:{} of agent {id} ({}), which has cpus:{cpus};mem:{mem}",
                    u.0, u.1, agent.info.hostname
                ));
                break;
            }
        }
        if let Some(detail) = problem {
            self.violate("no_overcommit", detail);
        }
    }

    /// Once the cluster has been quiet: it reassembled and everyone agrees on what runs.
    pub(crate) fn check_quiet(&mut self) {
        let Some(core) = self.leader_core() else {
            self.violate("cluster_reassembles", "no leading master".into());
            return;
        };
        let mut problems: Vec<(&'static str, String)> = Vec::new();
        let registered: BTreeMap<String, &master::core::Agent> = core
            .agents()
            .values()
            .filter(|a| a.connected)
            .map(|a| (a.pid.to_string(), a))
            .collect();
        for (i, agent) in self.agents.iter().enumerate() {
            if agent.core.is_some() && !registered.contains_key(&agent.pid.to_string()) {
                problems.push(("cluster_reassembles", format!("agent{i} is not registered")));
            }
        }
        for (i, s) in self.schedulers.iter().enumerate() {
            let connected = s.driver.as_ref().is_some_and(|d| d.is_connected());
            let known = s
                .framework_id
                .as_ref()
                .and_then(|id| core.frameworks().get(id))
                .is_some_and(|f| f.connected && f.pid() == Some(&s.pid));
            if !connected || !known {
                problems.push((
                    "cluster_reassembles",
                    format!("framework {i} is not registered (driver connected: {connected})"),
                ));
            }
        }
        for (n, e) in &self.executors {
            if !e.alive {
                continue;
            }
            for (task_id, _) in e.tasks.iter().filter(|(_, t)| t.running) {
                let known = core
                    .frameworks()
                    .get(&e.framework_id)
                    .and_then(|f| f.tasks.get(task_id))
                    .is_some_and(|entry| {
                        Some(&entry.task.agent_id) == self.agents[e.agent].info.id.as_ref()
                            || self.agents[e.agent]
                                .core
                                .as_ref()
                                .and_then(|c| c.agent_id())
                                == Some(&entry.task.agent_id)
                    });
                if !known {
                    problems.push((
                        "running_tasks_known",
                        format!(
                            "{task_id} of {} runs in executor{n} on agent{} but the leader does not know it there; the leader's view: {}",
                            e.framework_id, e.agent, self.leader_view(e.agent)
                        ),
                    ));
                }
            }
        }
        for (i, s) in self.schedulers.iter().enumerate() {
            let Some(framework_id) = &s.framework_id else {
                continue;
            };
            for (task_id, view) in &s.tasks {
                if view.abandoned {
                    continue;
                }
                let running = self.running_on(framework_id, task_id);
                if s.lost.contains(task_id) && running.is_some() {
                    problems.push((
                        "lost_never_runs_again",
                        format!("{task_id} of framework {i} was reported LOST but runs"),
                    ));
                }
                // TASK_UNKNOWN is the leader's final word to a partition-aware framework: it
                // does not know the task anywhere.
                let unknown = view.last == Some(mesos::TaskState::Unknown);
                // UNREACHABLE is final too when its agent left the cluster for good.
                let left = view.last == Some(mesos::TaskState::Unreachable)
                    && self.agents.iter().any(|a| {
                        a.left && view.agent_id.as_ref().is_some_and(|id| a.ids.contains(id))
                    });
                // A task that ended a moment ago: its update is on its way (or waits for the
                // agent's retry), the cluster is not quiet about it yet.
                let ending = self
                    .observer
                    .ended
                    .get(&(framework_id.clone(), task_id.clone()))
                    .is_some_and(|at| self.now.saturating_sub(*at) < REPORT_GRACE);
                // A task launched a moment ago, not heard of yet: its launch is on its way.
                let launching =
                    view.last.is_none() && self.now.saturating_sub(view.launched_at) < REPORT_GRACE;
                if !view.terminal && !unknown && !left && !ending && !launching && running.is_none()
                {
                    problems.push((
                        "every_task_reported",
                        format!(
                            "{task_id} of framework {i} is not running, and its scheduler heard no terminal state (last heard {:?})",
                            view.last
                        ),
                    ));
                }
            }
        }
        if let Some((invariant, detail)) = problems.into_iter().next() {
            self.violate(invariant, detail);
        }
    }

    /// The frameworks' dominant shares now (tasks and executors), added to the running sums.
    pub(crate) fn sample_shares(&mut self) {
        let Some(core) = self.leader_core() else {
            return;
        };
        let (mut total_cpus, mut total_mem) = (0.0, 0.0);
        for agent in core.agents().values() {
            total_cpus += agent.info.resources.cpus().unwrap_or(0.0);
            total_mem += agent.info.resources.mem().unwrap_or(0.0);
        }
        if total_cpus <= 0.0 || total_mem <= 0.0 {
            return;
        }
        let mut shares = Vec::new();
        for s in &self.schedulers {
            let Some(framework) = s
                .framework_id
                .as_ref()
                .and_then(|id| core.frameworks().get(id))
            else {
                return;
            };
            let (mut cpus, mut mem) = (0.0, 0.0);
            for entry in framework.tasks.values() {
                if entry.task.state.is_active() {
                    cpus += entry.task.resources.cpus().unwrap_or(0.0);
                    mem += entry.task.resources.mem().unwrap_or(0.0);
                }
            }
            for executors in framework.executors.values() {
                for executor in executors.values() {
                    cpus += executor.info.resources.cpus().unwrap_or(0.0);
                    mem += executor.info.resources.mem().unwrap_or(0.0);
                }
            }
            shares.push((cpus / total_cpus).max(mem / total_mem));
        }
        if self.observer.share_sums.len() != shares.len() {
            self.observer.share_sums = vec![0.0; shares.len()];
        }
        for (sum, share) in self.observer.share_sums.iter_mut().zip(shares) {
            *sum += share;
        }
        self.observer.share_samples += 1;
    }

    /// At the end of the greedy phase: with equal weights, the frameworks' dominant shares,
    /// averaged over the second part of the phase, are equal within [`DRF_TOLERANCE`].
    pub(crate) fn check_drf(&mut self) {
        if self.phase != Phase::Greedy || self.observer.share_samples < 10 {
            return;
        }
        let n = self.observer.share_samples as f64;
        let shares: Vec<f64> = self.observer.share_sums.iter().map(|s| s / n).collect();
        let max = shares.iter().cloned().fold(0.0, f64::max);
        let min = shares.iter().cloned().fold(f64::INFINITY, f64::min);
        // A share moves by one task (1 cpu) at a time: on a small cluster that is a lot.
        let cpus: f64 = self
            .leader_core()
            .map(|c| {
                c.agents()
                    .values()
                    .map(|a| a.info.resources.cpus().unwrap_or(0.0))
                    .sum()
            })
            .unwrap_or(0.0);
        let tolerance = DRF_TOLERANCE.max(1.0 / cpus.max(1.0) + 0.05);
        if max - min > tolerance {
            let views: Vec<String> = (0..self.agents.len())
                .filter(|i| self.agents[*i].core.is_some())
                .map(|i| format!("agent{i}: {}", self.leader_view(i)))
                .collect();
            let detail = format!(
                "average dominant shares {shares:.3?} differ by {:.3} > {tolerance:.3}; the leader's view: {}",
                max - min,
                views.join("; ")
            );
            self.violate("drf_converges", detail);
        }
    }
}

/// How long a task's end may take to reach its scheduler once its agent sent it (or a launch its
/// first word, once its scheduler sent it), before `every_task_reported` holds it against the
/// cluster: the agent's first retry (10 s) after a lost update, plus a re-registration.
pub const REPORT_GRACE: Duration = Duration::from_secs(30);

/// How far apart equal-weight frameworks' average dominant shares may be at least (or one task's
/// share plus 5%, on a cluster so small that one task is more). Offers are whole agents and tasks
/// are whole cpus, so shares move in steps of several percent.
pub const DRF_TOLERANCE: f64 = 0.1;
