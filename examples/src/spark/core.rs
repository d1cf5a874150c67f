//! The driver's scheduling core, pure (no I/O, no clock): offers, lease updates, executor
//! answers and losses in, with `now`; [`Action`]s and finished stages out.
//!
//! # Executors and cores
//!
//! One executor per agent, started with the first *lease* launched there. A lease is a Mesos
//! task holding `lease_resources` (one core) on the executor for as long as the driver keeps it:
//! the executor runs one stage task at a time per running lease. Leases are taken when offered
//! and useful (see [`SparkCore::on_offer`]) and killed once they have been free for
//! `idle_timeout` (see [`SparkCore::tick`]), so the executor gives its cores back while keeping
//! its process and its cache; the next job takes cores again and finds its partitions in memory.
//!
//! # Partitions
//!
//! Partition `p` is block `p`; its *home* is the executor that caches it (or is building it).
//! A stage runs one task per partition. A free core on executor `E` takes, in order:
//! 1. a pending partition whose home is `E` (in memory there: the common case after the first
//!    iteration);
//! 2. an unplaced partition, by delay scheduling ([`DelayScheduler`]): one whose block is on
//!    `E`'s node at once, any other once the stage has gone `locality_wait` without a local
//!    launch (read remotely, at `remote_read_mbps`);
//! 3. once the stage is `locality_wait` old, a partition whose home holds no core at all (its
//!    cores went to other frameworks): it moves to `E` and is rebuilt there.
//!
//! # Losing an executor
//!
//! When an executor is lost (its agent is lost, it exits, or one of its leases ends without the
//! driver asking), its partitions lose their home and its running tasks go back to pending: they
//! are rebuilt elsewhere from their lineage (their block), and the stage completes with the same
//! sums. Offers are revived so that any free core can take them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mesos::{AgentId, ExecutorId, OfferId, Resources, TaskId, TaskState};

use super::protocol::{FromExecutor, Lineage, Op, OpResult, TaskRef, ToExecutor};
use crate::wordcount::job::{IDLE_REFUSE, MIN_REFUSE};
use crate::wordcount::locality::DelayScheduler;

/// How often a partition's task may fail (not counting executor losses) before the job fails.
pub const MAX_FAILURES: u32 = 4;

/// One partition: its block and the node holding it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionSpec {
    /// The block file (the partition's lineage).
    pub block: PathBuf,
    /// The node (agent `node` attribute) holding the block.
    pub node: String,
}

/// What the core needs to know.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// The data set's partitions, in order.
    pub partitions: Vec<PartitionSpec>,
    /// Features per point.
    pub dims: usize,
    /// What one lease (one core) holds.
    pub lease_resources: Resources,
    /// The executor's own resources (its cache), counted once per agent.
    pub executor_resources: Resources,
    /// Delay scheduling's wait for a node-local core.
    pub locality_wait: Duration,
    /// How long a lease may stay free before it is given back.
    pub idle_timeout: Duration,
    /// The most leases held at once over the cluster.
    pub max_leases: usize,
    /// Bandwidth model for building a partition from a block on another node, MB/s.
    pub remote_read_mbps: f64,
    /// How long a stage task may go unanswered before it is sent again (framework messages are
    /// not reliable: one can be lost, e.g. across a master failover, with its executor alive).
    pub task_timeout: Duration,
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Launch `leases` on the offer (on executor `executor_id`, started by the first lease if it
    /// does not run yet); refuse the rest for `refuse`.
    Launch {
        /// The offer.
        offer_id: OfferId,
        /// Its agent.
        agent_id: AgentId,
        /// The executor the leases run on.
        executor_id: ExecutorId,
        /// The leases' task ids.
        leases: Vec<TaskId>,
        /// The filter for the rest of the offer.
        refuse: Duration,
    },
    /// Decline an offer.
    Decline {
        /// The offer.
        offer_id: OfferId,
        /// For how long.
        refuse: Duration,
    },
    /// Send a framework message.
    Send {
        /// To this executor.
        executor_id: ExecutorId,
        /// On this agent.
        agent_id: AgentId,
        /// The message.
        message: ToExecutor,
    },
    /// Kill a lease (give its core back).
    KillLease(TaskId),
    /// Ask for offers again (clears decline filters).
    Revive,
    /// Stop offers (nothing to run).
    Suppress,
}

/// How a stage ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StageOutcome {
    /// Every partition's result, in partition order.
    Done {
        /// The results.
        results: Vec<OpResult>,
        /// Partitions built from their blocks during the stage.
        loads: usize,
    },
    /// A partition failed [`MAX_FAILURES`] times.
    Failed(String),
}

/// An offer, as the core sees it.
#[derive(Debug, Clone, Copy)]
pub struct OfferView<'a> {
    /// The offer.
    pub offer_id: &'a OfferId,
    /// Its agent.
    pub agent_id: &'a AgentId,
    /// The agent's `node` attribute.
    pub node: &'a str,
    /// What is offered.
    pub resources: &'a Resources,
}

/// What the core did over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoreCounters {
    /// Offers received.
    pub offers: u64,
    /// Leases launched.
    pub leases_launched: u64,
    /// Leases given back because they were idle.
    pub leases_released: u64,
    /// Executors started.
    pub executors_started: u64,
    /// Executors lost.
    pub executors_lost: u64,
    /// Partitions moved from an executor without cores to another.
    pub migrations: u64,
    /// Stage tasks sent again after [`CoreSettings::task_timeout`].
    pub resends: u64,
}

#[derive(Debug)]
struct Executor {
    agent_id: AgentId,
    node: String,
    /// Leases launched, not running yet.
    starting: BTreeSet<TaskId>,
    /// Leases running: each is one core.
    running: BTreeSet<TaskId>,
    /// Leases being killed.
    releasing: BTreeSet<TaskId>,
    /// A lease reached RUNNING: the executor process is registered.
    registered: bool,
    /// Stage tasks running on it.
    busy: usize,
    /// Since when some running lease has had no task (for the idle timeout).
    free_since: Option<Instant>,
}

impl Executor {
    fn free(&self) -> usize {
        self.running.len().saturating_sub(self.busy)
    }

    /// Cores held or on their way.
    fn holding(&self) -> usize {
        self.starting.len() + self.running.len()
    }

    fn touch(&mut self, now: Instant) {
        if self.free() == 0 {
            self.free_since = None;
        } else if self.free_since.is_none() {
            self.free_since = Some(now);
        }
    }
}

#[derive(Debug)]
struct RunningTask {
    /// Its latest attempt.
    task: TaskRef,
    /// Where it runs.
    on: ExecutorId,
    /// When the latest attempt was sent.
    sent: Instant,
}

#[derive(Debug)]
struct Stage {
    id: u64,
    op: Op,
    started: Instant,
    /// Partitions waiting for a core.
    pending: BTreeSet<usize>,
    /// The pending partitions without a home, by delay scheduling.
    unplaced: DelayScheduler,
    /// Running tasks by partition.
    running: BTreeMap<usize, RunningTask>,
    results: Vec<Option<OpResult>>,
    launches: Vec<u32>,
    failures: Vec<u32>,
    loads: usize,
}

/// The driver's core (see the module docs).
#[derive(Debug)]
pub struct SparkCore {
    settings: CoreSettings,
    executors: BTreeMap<ExecutorId, Executor>,
    by_agent: BTreeMap<AgentId, ExecutorId>,
    lease_owner: BTreeMap<TaskId, ExecutorId>,
    homes: Vec<Option<ExecutorId>>,
    stage: Option<Stage>,
    /// A job runs: the driver wants cores.
    active: bool,
    /// Whether offers are wanted as far as the master knows.
    wanting: bool,
    next_stage: u64,
    next_lease: u64,
    next_executor: u64,
    actions: Vec<Action>,
    outcome: Option<StageOutcome>,
    counters: CoreCounters,
}

impl SparkCore {
    /// A core over `settings`' partitions, no executor yet. Offers are assumed wanted (a new
    /// framework gets them) until the first job ends.
    pub fn new(settings: CoreSettings) -> SparkCore {
        SparkCore {
            homes: vec![None; settings.partitions.len()],
            settings,
            executors: BTreeMap::new(),
            by_agent: BTreeMap::new(),
            lease_owner: BTreeMap::new(),
            stage: None,
            active: false,
            wanting: true,
            next_stage: 0,
            next_lease: 0,
            next_executor: 0,
            actions: Vec::new(),
            outcome: None,
            counters: CoreCounters::default(),
        }
    }

    /// The actions to perform, in order.
    pub fn drain_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// The stage that just ended, if one did.
    pub fn take_outcome(&mut self) -> Option<StageOutcome> {
        self.outcome.take()
    }

    /// What the core did so far.
    pub fn counters(&self) -> CoreCounters {
        self.counters
    }

    /// Cores (running leases) held now.
    pub fn cores(&self) -> usize {
        self.executors.values().map(|e| e.running.len()).sum()
    }

    /// Executors alive, with the partitions they cache.
    pub fn homes(&self) -> BTreeMap<ExecutorId, Vec<usize>> {
        let mut homes: BTreeMap<ExecutorId, Vec<usize>> = self
            .executors
            .keys()
            .map(|id| (id.clone(), Vec::new()))
            .collect();
        for (p, home) in self.homes.iter().enumerate() {
            if let Some(list) = home.as_ref().and_then(|id| homes.get_mut(id)) {
                list.push(p);
            }
        }
        homes
    }

    /// A job starts: cores are wanted.
    pub fn start_job(&mut self) {
        self.active = true;
        self.sync_wants();
    }

    /// The job ended: no more cores wanted (held ones go back once idle).
    pub fn end_job(&mut self) {
        self.active = false;
        self.stage = None;
        self.sync_wants();
    }

    /// Every executor is told to exit (the driver is done) and forgotten, so their exits are
    /// not losses.
    pub fn shutdown(&mut self) {
        self.by_agent.clear();
        self.lease_owner.clear();
        for (id, executor) in std::mem::take(&mut self.executors) {
            self.actions.push(Action::Send {
                executor_id: id,
                agent_id: executor.agent_id,
                message: ToExecutor::Exit,
            });
        }
    }

    /// Starts a stage: `op` over every partition.
    pub fn start_stage(&mut self, now: Instant, op: Op) {
        let partitions = self.settings.partitions.len();
        let unplaced = DelayScheduler::new(
            self.settings.locality_wait,
            now,
            (0..partitions)
                .filter(|&p| self.homes[p].is_none())
                .map(|p| (p, self.settings.partitions[p].node.as_str())),
        );
        self.stage = Some(Stage {
            id: self.next_stage,
            op,
            started: now,
            pending: (0..partitions).collect(),
            unplaced,
            running: BTreeMap::new(),
            results: vec![None; partitions],
            launches: vec![0; partitions],
            failures: vec![0; partitions],
            loads: 0,
        });
        self.next_stage += 1;
        self.schedule(now);
        self.check_done();
    }

    /// Places as many leases on `offer` as are useful and fit, or declines it.
    pub fn on_offer(&mut self, now: Instant, offer: OfferView<'_>) {
        self.counters.offers += 1;
        let existing = self.by_agent.get(offer.agent_id).cloned();
        let holding = existing
            .as_ref()
            .and_then(|id| self.executors.get(id))
            .map_or(0, Executor::holding);
        let wanted = if self.active {
            self.wanted_cores(existing.as_ref(), offer.node, now)
        } else {
            0
        };
        let held: usize = self.executors.values().map(Executor::holding).sum();
        let mut remaining = offer.resources.clone();
        let mut count = 0;
        while holding + count < wanted && held + count < self.settings.max_leases {
            let mut needed = self.settings.lease_resources.clone();
            if existing.is_none() && count == 0 {
                needed += &self.settings.executor_resources;
            }
            if !remaining.contains(&needed) {
                break;
            }
            remaining -= &needed;
            count += 1;
        }
        let still_wanted = self.active && holding + count < wanted;
        let refuse = if still_wanted {
            MIN_REFUSE
        } else {
            self.refuse_for(now)
        };
        if count == 0 {
            self.actions.push(Action::Decline {
                offer_id: offer.offer_id.clone(),
                refuse,
            });
            return;
        }
        let executor_id = existing.unwrap_or_else(|| {
            let id = ExecutorId::new(format!("spark-executor-{}", self.next_executor));
            self.next_executor += 1;
            self.counters.executors_started += 1;
            self.executors.insert(
                id.clone(),
                Executor {
                    agent_id: offer.agent_id.clone(),
                    node: offer.node.to_string(),
                    starting: BTreeSet::new(),
                    running: BTreeSet::new(),
                    releasing: BTreeSet::new(),
                    registered: false,
                    busy: 0,
                    free_since: None,
                },
            );
            self.by_agent.insert(offer.agent_id.clone(), id.clone());
            id
        });
        let mut leases = Vec::with_capacity(count);
        for _ in 0..count {
            let lease = TaskId::new(format!("lease-{}", self.next_lease));
            self.next_lease += 1;
            self.lease_owner.insert(lease.clone(), executor_id.clone());
            if let Some(executor) = self.executors.get_mut(&executor_id) {
                executor.starting.insert(lease.clone());
            }
            leases.push(lease);
        }
        self.counters.leases_launched += count as u64;
        self.actions.push(Action::Launch {
            offer_id: offer.offer_id.clone(),
            agent_id: offer.agent_id.clone(),
            executor_id,
            leases,
            refuse,
        });
    }

    /// The filter for an offer with nothing useful: until delay scheduling would take any node
    /// (there may be work for it then), else [`IDLE_REFUSE`].
    fn refuse_for(&self, now: Instant) -> Duration {
        match self
            .stage
            .as_ref()
            .and_then(|s| s.unplaced.remaining_wait(now))
        {
            Some(wait) if self.active && wait > Duration::ZERO => wait.max(MIN_REFUSE),
            _ => IDLE_REFUSE,
        }
    }

    /// How many cores are useful on the agent of `executor` (or a new one) at `node`: one per
    /// partition it could run in the current stage (see the module docs), at most one per
    /// partition overall.
    fn wanted_cores(&self, executor: Option<&ExecutorId>, node: &str, now: Instant) -> usize {
        let homed = executor.map_or(0, |id| {
            self.homes.iter().filter(|h| h.as_ref() == Some(id)).count()
        });
        let Some(stage) = &self.stage else {
            return homed;
        };
        let unplaced = |p: &&usize| self.homes[**p].is_none();
        let local = stage
            .pending
            .iter()
            .filter(unplaced)
            .filter(|&&p| self.settings.partitions[p].node == node)
            .count();
        let remote = if stage.unplaced.remaining_wait(now) == Some(Duration::ZERO) {
            stage.pending.iter().filter(unplaced).count() - local
        } else {
            0
        };
        let movable = if now.saturating_duration_since(stage.started) >= self.settings.locality_wait
        {
            stage
                .pending
                .iter()
                .filter(|&&p| self.home_has_no_cores(p, executor))
                .count()
        } else {
            0
        };
        (homed + local + remote + movable).min(self.settings.partitions.len())
    }

    /// Whether partition `p` lives on an executor other than `except` that holds no core.
    fn home_has_no_cores(&self, p: usize, except: Option<&ExecutorId>) -> bool {
        match &self.homes[p] {
            Some(home) if Some(home) != except => {
                self.executors.get(home).is_none_or(|e| e.holding() == 0)
            }
            _ => false,
        }
    }

    /// A lease changed state.
    pub fn on_lease_status(&mut self, now: Instant, lease: &TaskId, state: TaskState) {
        let Some(executor_id) = self.lease_owner.get(lease).cloned() else {
            return;
        };
        let Some(executor) = self.executors.get_mut(&executor_id) else {
            return;
        };
        if state == TaskState::Running {
            if executor.starting.remove(lease) {
                executor.running.insert(lease.clone());
                executor.registered = true;
                executor.touch(now);
                self.schedule(now);
            }
            return;
        }
        if !state.is_terminal() {
            return;
        }
        self.lease_owner.remove(lease);
        if executor.releasing.remove(lease) {
            executor.touch(now);
            return;
        }
        let never_ran = executor.starting.remove(lease) && !executor.registered;
        if never_ran && executor.holding() > 0 {
            // Another lease is on its way to the same (unstarted) executor.
            return;
        }
        // A lease ended without our asking: its executor is gone (or about to be), or it never
        // started at all. Either way the agent needs a new executor for new work.
        self.executor_lost(now, &executor_id);
    }

    /// The scheduler heard that executor `executor_id` exited.
    pub fn on_executor_lost(&mut self, now: Instant, executor_id: &ExecutorId) {
        if self.executors.contains_key(executor_id) {
            self.executor_lost(now, executor_id);
        }
    }

    /// The scheduler heard that agent `agent_id` was lost.
    pub fn on_agent_lost(&mut self, now: Instant, agent_id: &AgentId) {
        if let Some(id) = self.by_agent.get(agent_id).cloned() {
            self.executor_lost(now, &id);
        }
    }

    fn executor_lost(&mut self, now: Instant, executor_id: &ExecutorId) {
        let Some(executor) = self.executors.remove(executor_id) else {
            return;
        };
        if executor.registered {
            self.counters.executors_lost += 1;
        }
        self.by_agent.remove(&executor.agent_id);
        self.lease_owner.retain(|_, owner| owner != executor_id);
        // If the process lives on (a lease ended oddly), it must not keep cores or answer.
        for lease in executor.starting.iter().chain(&executor.running) {
            self.actions.push(Action::KillLease(lease.clone()));
        }
        if executor.registered {
            self.actions.push(Action::Send {
                executor_id: executor_id.clone(),
                agent_id: executor.agent_id.clone(),
                message: ToExecutor::Exit,
            });
        }
        for p in 0..self.homes.len() {
            if self.homes[p].as_ref() != Some(executor_id) {
                continue;
            }
            self.homes[p] = None;
            if let Some(stage) = self.stage.as_mut() {
                let ran_there = stage.running.get(&p).is_some_and(|r| r.on == *executor_id);
                if ran_there {
                    stage.running.remove(&p);
                    stage.pending.insert(p);
                }
                if stage.pending.contains(&p) {
                    stage.unplaced.requeue(p, &self.settings.partitions[p].node);
                }
            }
        }
        if self.active {
            // Decline filters may hide the cores that can take the lost partitions now.
            self.actions.push(Action::Revive);
            self.wanting = true;
        }
        self.schedule(now);
    }

    /// An executor answered.
    pub fn on_message(&mut self, now: Instant, executor_id: &ExecutorId, message: FromExecutor) {
        let task = match &message {
            FromExecutor::Done { task, .. } | FromExecutor::Failed { task, .. } => *task,
        };
        let Some(stage) = self.stage.as_mut() else {
            return;
        };
        // Any attempt's answer will do (a task sent again computes the same): the first one in
        // from where the partition runs.
        let current = stage.id == task.stage
            && stage
                .running
                .get(&task.partition)
                .is_some_and(|r| task.attempt <= r.task.attempt && r.on == *executor_id);
        if !current {
            return;
        }
        stage.running.remove(&task.partition);
        if let Some(executor) = self.executors.get_mut(executor_id) {
            executor.busy = executor.busy.saturating_sub(1);
            executor.touch(now);
        }
        let p = task.partition;
        match message {
            FromExecutor::Done { result, loaded, .. } => {
                stage.results[p] = Some(result);
                stage.loads += usize::from(loaded);
            }
            FromExecutor::Failed { message, .. } => {
                // Whatever it built is not to be trusted: rebuild from the lineage.
                self.homes[p] = None;
                stage.failures[p] += 1;
                if stage.failures[p] >= MAX_FAILURES {
                    self.outcome = Some(StageOutcome::Failed(format!(
                        "partition {p} failed {} times, last: {message}",
                        stage.failures[p]
                    )));
                    self.stage = None;
                    return;
                }
                stage.pending.insert(p);
                stage.unplaced.requeue(p, &self.settings.partitions[p].node);
            }
        }
        self.schedule(now);
        self.check_done();
    }

    /// Time passed: delay scheduling may place remote partitions, idle leases go back.
    ///
    /// While a job runs, an executor keeps one core per partition it caches even when they are
    /// idle (a straggler elsewhere holds up the stage; the next stage needs them, and cores given
    /// back mid-job would have to be won back, or their partitions moved and rebuilt); only
    /// cores beyond those go back. Between jobs every idle core goes back.
    pub fn tick(&mut self, now: Instant) {
        self.schedule(now);
        self.resend_overdue(now);
        let idle_timeout = self.settings.idle_timeout;
        let mut homed: BTreeMap<&ExecutorId, usize> = BTreeMap::new();
        if self.active {
            for home in self.homes.iter().flatten() {
                *homed.entry(home).or_default() += 1;
            }
        }
        for (id, executor) in &mut self.executors {
            let idle = executor
                .free_since
                .is_some_and(|since| now.saturating_duration_since(since) >= idle_timeout);
            if !idle {
                continue;
            }
            let keep = homed.get(id).copied().unwrap_or(0);
            let surplus = executor.running.len().saturating_sub(keep);
            for _ in 0..executor.free().min(surplus) {
                let Some(lease) = executor.running.pop_last() else {
                    break;
                };
                executor.releasing.insert(lease.clone());
                self.actions.push(Action::KillLease(lease));
                self.counters.leases_released += 1;
            }
            executor.touch(now);
        }
    }

    /// Sends again every stage task unanswered for `task_timeout`, to the same executor.
    fn resend_overdue(&mut self, now: Instant) {
        let Some(stage) = self.stage.as_mut() else {
            return;
        };
        for (&p, running) in stage.running.iter_mut() {
            if now.saturating_duration_since(running.sent) < self.settings.task_timeout {
                continue;
            }
            let Some(executor) = self.executors.get(&running.on) else {
                continue;
            };
            stage.launches[p] += 1;
            running.task.attempt = stage.launches[p];
            running.sent = now;
            self.counters.resends += 1;
            tracing::warn!(task = %running.task, "no answer in time: sent again");
            self.actions.push(run_action(
                &self.settings,
                &running.on,
                executor,
                running.task,
                &stage.op,
            ));
        }
    }

    fn sync_wants(&mut self) {
        if self.active != self.wanting {
            self.wanting = self.active;
            self.actions.push(if self.active {
                Action::Revive
            } else {
                Action::Suppress
            });
        }
    }

    fn check_done(&mut self) {
        let done = self.stage.as_ref().is_some_and(|s| {
            s.pending.is_empty() && s.running.is_empty() && s.results.iter().all(Option::is_some)
        });
        if !done {
            return;
        }
        if let Some(stage) = self.stage.take() {
            self.outcome = Some(StageOutcome::Done {
                results: stage.results.into_iter().flatten().collect(),
                loads: stage.loads,
            });
        }
    }

    /// Gives every free core a task it can take (see the module docs).
    fn schedule(&mut self, now: Instant) {
        if self.stage.is_none() {
            return;
        }
        let ids: Vec<ExecutorId> = self.executors.keys().cloned().collect();
        for id in ids {
            while self.executors.get(&id).is_some_and(|e| e.free() > 0) {
                let Some(p) = self.pick(&id, now) else {
                    break;
                };
                self.dispatch(&id, p, now);
            }
        }
    }

    /// The partition a free core of `id` takes next, its home set to `id`.
    fn pick(&mut self, id: &ExecutorId, now: Instant) -> Option<usize> {
        let node = self.executors.get(id)?.node.clone();
        let wait = self.settings.locality_wait;
        let stage = self.stage.as_mut()?;
        let at_home = stage
            .pending
            .iter()
            .copied()
            .find(|&p| self.homes[p].as_ref() == Some(id));
        if at_home.is_some() {
            return at_home;
        }
        if let Some(placed) = stage.unplaced.assign(&node, now) {
            let p = placed.map();
            self.homes[p] = Some(id.clone());
            return Some(p);
        }
        if now.saturating_duration_since(stage.started) < wait {
            return None;
        }
        let movable = stage.pending.iter().copied().find(|&p| {
            matches!(&self.homes[p], Some(home) if home != id
                && self.executors.get(home).is_none_or(|e| e.holding() == 0))
        })?;
        if let Some(old) = self.homes[movable].replace(id.clone()) {
            if let Some(executor) = self.executors.get(&old) {
                self.actions.push(Action::Send {
                    executor_id: old.clone(),
                    agent_id: executor.agent_id.clone(),
                    message: ToExecutor::Evict { partition: movable },
                });
            }
        }
        self.counters.migrations += 1;
        Some(movable)
    }

    fn dispatch(&mut self, id: &ExecutorId, p: usize, now: Instant) {
        let Some(stage) = self.stage.as_mut() else {
            return;
        };
        let Some(executor) = self.executors.get_mut(id) else {
            return;
        };
        stage.pending.remove(&p);
        stage.launches[p] += 1;
        let task = TaskRef {
            stage: stage.id,
            partition: p,
            attempt: stage.launches[p],
        };
        stage.running.insert(
            p,
            RunningTask {
                task,
                on: id.clone(),
                sent: now,
            },
        );
        executor.busy += 1;
        executor.touch(now);
        self.actions
            .push(run_action(&self.settings, id, executor, task, &stage.op));
    }
}

/// The message that runs `task` on executor `id`: the partition's lineage (its block, read
/// remotely unless it is on the executor's node) and the op.
fn run_action(
    settings: &CoreSettings,
    id: &ExecutorId,
    executor: &Executor,
    task: TaskRef,
    op: &Op,
) -> Action {
    let spec = &settings.partitions[task.partition];
    let remote_read_mbps = if spec.node == executor.node {
        0.0
    } else {
        settings.remote_read_mbps
    };
    Action::Send {
        executor_id: id.clone(),
        agent_id: executor.agent_id.clone(),
        message: ToExecutor::Run {
            task,
            lineage: Lineage {
                block: spec.block.clone(),
                dims: settings.dims,
                remote_read_mbps,
            },
            op: op.clone(),
        },
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
