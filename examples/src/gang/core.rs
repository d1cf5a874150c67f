//! [`GangCore`]: the gang-scheduling state machine, pure (no I/O, no clock, seeded randomness).
//!
//! One job at a time, each a gang of `ranks` ranks:
//!
//! ```text
//!  Unregistered --registered--> Assembling --gang placed--> Running --all FINISHED--> next job / Done
//!                                 |    ^                       |
//!               gang_timeout:     |    | backoff over:         | a rank failed: kill the others
//!        decline held, suppress   v    | revive                v
//!                               BackingOff                  Draining --all ended--> Assembling (attempt+1)
//! ```
//!
//! While assembling it *holds* every usable offer (declining would hand the resources to
//! someone else and the gang might never fit). Holding is what makes two rigid frameworks
//! deadlock, so after `gang_timeout` it releases everything, suppresses offers (the other
//! framework gets the whole cluster meanwhile) and revives after a randomized backoff that
//! grows with each timeout in a row: the two frameworks' retries drift apart until one
//! assembles its gang.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use mesos::{
    AgentId, ExecutorId, ExecutorInfo, Offer, OfferId, TaskId, TaskInfo, TaskState, TaskStatus,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::placement::{capacity, group_by_agent, place_gang, RankNeeds};
use super::task_data::{RankResult, RankTask};

/// How long an offer that cannot host a single rank is refused while assembling.
pub const UNUSABLE_REFUSE: Duration = Duration::from_secs(1);
/// How long offers are refused when the framework needs nothing (it also suppresses).
pub const IDLE_REFUSE: Duration = Duration::from_secs(5);
/// How often kills are sent again to ranks that have not ended after a failure.
pub const REKILL_INTERVAL: Duration = Duration::from_secs(2);
/// The backoff base doubles per gang timeout in a row, up to this many doublings.
pub const MAX_BACKOFF_DOUBLINGS: u32 = 3;

/// What a gang framework runs.
#[derive(Debug, Clone)]
pub struct GangConfig {
    /// The framework name (printed in each job line).
    pub name: String,
    /// Ranks per job.
    pub ranks: usize,
    /// Resources of each rank.
    pub needs: RankNeeds,
    /// Release the held offers if the gang is not complete after this long.
    pub gang_timeout: Duration,
    /// Jobs to run, one after another.
    pub jobs: usize,
    /// How long each rank works before the reduction, in milliseconds.
    pub work_ms: u64,
    /// Length of each rank's vector.
    pub vector_len: usize,
    /// Test hook: this rank fails on the first attempt of every job.
    pub fail_rank: Option<usize>,
    /// Attempts per job before it counts as failed.
    pub max_attempts: u32,
    /// How long ranks wait for each other before failing.
    pub rendezvous_timeout: Duration,
    /// The rank executor; each rank gets a copy with its own executor id.
    pub executor: ExecutorInfo,
    /// Seeds ports, tokens and backoff jitter.
    pub seed: u64,
}

/// A finished job, as the contract's output line (its `Display`).
#[derive(Debug, Clone, PartialEq)]
pub struct JobReport {
    /// The framework name.
    pub name: String,
    /// The job's index, from 0.
    pub job_index: usize,
    /// Ranks of the job.
    pub ranks: usize,
    /// Attempts it took (1 when nothing failed).
    pub attempts: u32,
    /// From the job's start (assembling its first gang) to its end.
    pub job_time: Duration,
    /// Whether every rank ended FINISHED and found the reduced vector equal to the serial sum.
    pub result_ok: bool,
    /// How often this job's assembly timed out and gave back offers it held (declined them and
    /// backed off): what keeps two rigid frameworks from deadlocking.
    pub releases: u32,
}

impl fmt::Display for JobReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "job=mpi name={} job_index={} ranks={} attempts={} job_s={:.3} result_ok={} releases={}",
            self.name,
            self.job_index,
            self.ranks,
            self.attempts,
            self.job_time.as_secs_f64(),
            self.result_ok,
            self.releases
        )
    }
}

/// What the caller must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum GangAction {
    /// Launch `tasks` on `offer_ids` (all of one agent).
    Launch {
        /// The agent.
        agent_id: AgentId,
        /// Every held offer of the agent.
        offer_ids: Vec<OfferId>,
        /// The ranks placed there.
        tasks: Vec<TaskInfo>,
    },
    /// Decline an offer, refusing its resources for `refuse`.
    Decline {
        /// The offer.
        offer_id: OfferId,
        /// The refuse filter.
        refuse: Duration,
    },
    /// Kill a rank.
    Kill(TaskId),
    /// Stop offers (nothing to assemble now).
    Suppress,
    /// Offers again, filters cleared (assembling starts).
    Revive,
    /// A job ended; print its line.
    JobFinished(JobReport),
}

/// Where the core is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not registered yet.
    Unregistered,
    /// Holding offers until the gang fits (since the given time).
    Assembling {
        /// When this assembly began.
        since: Instant,
    },
    /// Released everything after a gang timeout; revives at `until`.
    BackingOff {
        /// When to revive.
        until: Instant,
    },
    /// Every rank launched.
    Running,
    /// A rank failed; waiting for the others to end (kills are repeated at `next_kill`).
    Draining {
        /// When to send the kills again.
        next_kill: Instant,
    },
    /// Every job ended.
    Done,
}

/// One rank of the current attempt.
#[derive(Debug, Clone)]
struct RankState {
    rank: usize,
    state: Option<TaskState>,
    result: Option<RankResult>,
}

impl RankState {
    /// Whether the rank will not change any more (terminal, or unreachable/unknown: gone for us).
    fn ended(&self) -> bool {
        self.state.is_some_and(|s| {
            s.is_terminal() || matches!(s, TaskState::Unreachable | TaskState::Unknown)
        })
    }
}

/// The gang framework's state machine. Feed it inputs with the current time, then perform
/// [`take_actions`](GangCore::take_actions) in order; call [`tick`](GangCore::tick) at
/// [`poll_timeout`](GangCore::poll_timeout).
#[derive(Debug)]
pub struct GangCore {
    config: GangConfig,
    phase: Phase,
    held: BTreeMap<OfferId, Offer>,
    job_index: usize,
    attempt: u32,
    job_started: Option<Instant>,
    timeouts_in_row: u32,
    /// Gang timeouts that gave back held offers, during the current job and in all.
    job_releases: u32,
    total_releases: u32,
    tasks: BTreeMap<TaskId, RankState>,
    rng: StdRng,
    actions: Vec<GangAction>,
    reports: Vec<JobReport>,
}

impl GangCore {
    /// A core that starts the first job once registered.
    pub fn new(config: GangConfig) -> GangCore {
        let rng = StdRng::seed_from_u64(config.seed);
        let phase = if config.jobs == 0 {
            Phase::Done
        } else {
            Phase::Unregistered
        };
        GangCore {
            config,
            phase,
            held: BTreeMap::new(),
            job_index: 0,
            attempt: 1,
            job_started: None,
            timeouts_in_row: 0,
            job_releases: 0,
            total_releases: 0,
            tasks: BTreeMap::new(),
            rng,
            actions: Vec::new(),
            reports: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &GangConfig {
        &self.config
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// How many offers are held.
    pub fn held_offers(&self) -> usize {
        self.held.len()
    }

    /// The current job's attempt number (from 1).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// How many gang timeouts so far gave back offers the core held (every job).
    pub fn releases(&self) -> u32 {
        self.total_releases
    }

    /// The reports of the jobs that ended.
    pub fn reports(&self) -> &[JobReport] {
        &self.reports
    }

    /// Whether every job ended.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether every job that ended was correct.
    pub fn all_ok(&self) -> bool {
        self.reports.iter().all(|r| r.result_ok)
    }

    /// The actions to perform, oldest first.
    pub fn take_actions(&mut self) -> Vec<GangAction> {
        std::mem::take(&mut self.actions)
    }

    /// When [`tick`](GangCore::tick) must be called next, if at all.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Assembling { since } => Some(since + self.config.gang_timeout),
            Phase::BackingOff { until } => Some(until),
            Phase::Draining { next_kill } => Some(next_kill),
            Phase::Unregistered | Phase::Running | Phase::Done => None,
        }
    }

    /// The framework registered (or re-registered): the first job starts assembling.
    pub fn registered(&mut self, now: Instant) {
        if self.phase == Phase::Unregistered {
            self.job_started = Some(now);
            self.start_assembling(now);
        }
    }

    /// The driver lost the master: every offer it held is void.
    pub fn disconnected(&mut self) {
        self.held.clear();
    }

    /// New offers: held while assembling, declined otherwise.
    pub fn offers(&mut self, offers: Vec<Offer>) {
        if !matches!(self.phase, Phase::Assembling { .. }) {
            for offer in offers {
                self.decline(offer.id, IDLE_REFUSE);
            }
            return;
        }
        for offer in offers {
            self.held.insert(offer.id.clone(), offer);
        }
        self.try_launch();
    }

    /// An offer is gone.
    pub fn offer_rescinded(&mut self, offer_id: &OfferId) {
        self.held.remove(offer_id);
    }

    /// An agent is gone, with its offers (its ranks' LOST updates follow).
    pub fn agent_lost(&mut self, agent_id: &AgentId) {
        self.held.retain(|_, offer| offer.agent_id != *agent_id);
    }

    /// Time passed: gang timeout, end of backoff, repeated kills.
    pub fn tick(&mut self, now: Instant) {
        match self.phase {
            Phase::Assembling { since } if now >= since + self.config.gang_timeout => {
                self.timeouts_in_row += 1;
                let delay = self.backoff_delay();
                let held = std::mem::take(&mut self.held);
                tracing::info!(
                    name = %self.config.name,
                    released = held.len(),
                    backoff_ms = delay.as_millis() as u64,
                    "gang incomplete after the gang timeout: releasing the held offers",
                );
                if !held.is_empty() {
                    self.job_releases += 1;
                    self.total_releases += 1;
                }
                for offer_id in held.into_keys() {
                    self.decline(offer_id, delay);
                }
                self.actions.push(GangAction::Suppress);
                self.phase = Phase::BackingOff { until: now + delay };
            }
            Phase::BackingOff { until } if now >= until => self.start_assembling(now),
            Phase::Draining { next_kill } if now >= next_kill => {
                self.kill_survivors();
                self.phase = Phase::Draining {
                    next_kill: now + REKILL_INTERVAL,
                };
            }
            _ => {}
        }
    }

    /// A rank's status changed. Updates of ranks of earlier attempts are ignored.
    pub fn status_update(&mut self, now: Instant, status: &TaskStatus) {
        let Some(rank) = self.tasks.get_mut(&status.task_id) else {
            return;
        };
        if rank.ended() {
            return;
        }
        rank.state = Some(status.state);
        if status.state == TaskState::Finished {
            rank.result = RankResult::from_bytes(&status.data).ok();
        }
        let failed = rank.ended() && status.state != TaskState::Finished;
        match self.phase {
            Phase::Running if failed => {
                self.kill_survivors();
                self.phase = Phase::Draining {
                    next_kill: now + REKILL_INTERVAL,
                };
                self.check_drained(now);
            }
            Phase::Running
                if self
                    .tasks
                    .values()
                    .all(|r| r.state == Some(TaskState::Finished)) =>
            {
                let ok = self.tasks.values().all(|r| {
                    r.result
                        .as_ref()
                        .is_some_and(|res| res.result_ok && res.rank == r.rank)
                });
                self.finish_job(now, ok);
            }
            Phase::Draining { .. } => self.check_drained(now),
            _ => {}
        }
    }

    fn decline(&mut self, offer_id: OfferId, refuse: Duration) {
        self.actions.push(GangAction::Decline { offer_id, refuse });
    }

    fn start_assembling(&mut self, now: Instant) {
        self.actions.push(GangAction::Revive);
        self.phase = Phase::Assembling { since: now };
    }

    /// Uniform in [0.5, 1.5) × the base, which is `gang_timeout` doubled per timeout in a row:
    /// random so two rigid frameworks that timed out together revive apart, growing so that
    /// they drift further apart each time they collide again.
    fn backoff_delay(&mut self) -> Duration {
        let doublings = self
            .timeouts_in_row
            .saturating_sub(1)
            .min(MAX_BACKOFF_DOUBLINGS);
        let base = self.config.gang_timeout * (1u32 << doublings);
        base.mul_f64(self.rng.gen_range(0.5..1.5))
    }

    fn try_launch(&mut self) {
        let agents = group_by_agent(self.held.values());
        let ranks = self.config.ranks;
        let rng = &mut self.rng;
        let Some(placements) =
            place_gang(&agents, &self.config.needs, ranks, |n| rng.gen_range(0..n))
        else {
            // Hold what can host a rank; let go of what cannot (e.g. a nearly full agent).
            let mut room = 0;
            for agent in &agents {
                let fits = capacity(&agent.resources, &self.config.needs, ranks);
                room += fits;
                if fits == 0 {
                    for offer_id in &agent.offer_ids {
                        self.held.remove(offer_id);
                        self.decline(offer_id.clone(), UNUSABLE_REFUSE);
                    }
                }
            }
            if room >= ranks {
                tracing::warn!(
                    name = %self.config.name,
                    "the held offers fit every rank but none offers a port for rank 0 to listen on \
                     (give the agents a ports resource, e.g. ports:[31000-32000])"
                );
            }
            return;
        };
        let token = format!(
            "{:016x}-job{}-try{}",
            self.rng.gen::<u64>(),
            self.job_index,
            self.attempt
        );
        let rank0 = &placements[0];
        let coordinator = format!(
            "{}:{}",
            agents[rank0.agent].hostname,
            rank0.port.unwrap_or_default()
        );
        let mut by_agent: BTreeMap<usize, Vec<TaskInfo>> = BTreeMap::new();
        self.tasks.clear();
        for placement in &placements {
            let rank = placement.rank;
            let task_id = format!("job{}-try{}-rank{rank}", self.job_index, self.attempt);
            let data = RankTask {
                token: token.clone(),
                rank,
                ranks,
                seed: job_seed(self.job_index),
                vector_len: self.config.vector_len,
                work_ms: self.config.work_ms,
                coordinator: coordinator.clone(),
                rendezvous_timeout_ms: u64::try_from(self.config.rendezvous_timeout.as_millis())
                    .unwrap_or(u64::MAX),
                fail: self.config.fail_rank == Some(rank) && self.attempt == 1,
            };
            let mut executor = self.config.executor.clone();
            executor.executor_id = ExecutorId::new(task_id.clone());
            let task = TaskInfo::new(
                task_id.clone(),
                format!("{} job {} rank {rank}", self.config.name, self.job_index),
                agents[placement.agent].agent_id.clone(),
                placement.resources.clone(),
            )
            .with_executor(executor)
            .with_data(data.to_bytes());
            by_agent.entry(placement.agent).or_default().push(task);
            self.tasks.insert(
                TaskId::new(task_id),
                RankState {
                    rank,
                    state: None,
                    result: None,
                },
            );
        }
        for (index, agent) in agents.into_iter().enumerate() {
            match by_agent.remove(&index) {
                Some(tasks) => self.actions.push(GangAction::Launch {
                    agent_id: agent.agent_id,
                    offer_ids: agent.offer_ids,
                    tasks,
                }),
                None => {
                    for offer_id in agent.offer_ids {
                        self.decline(offer_id, IDLE_REFUSE);
                    }
                }
            }
        }
        self.held.clear();
        self.actions.push(GangAction::Suppress);
        self.timeouts_in_row = 0;
        self.phase = Phase::Running;
    }

    fn kill_survivors(&mut self) {
        let survivors: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, r)| !r.ended())
            .map(|(id, _)| id.clone())
            .collect();
        self.actions
            .extend(survivors.into_iter().map(GangAction::Kill));
    }

    fn check_drained(&mut self, now: Instant) {
        if !self.tasks.values().all(RankState::ended) {
            return;
        }
        self.tasks.clear();
        if self.attempt >= self.config.max_attempts {
            self.finish_job(now, false);
        } else {
            self.attempt += 1;
            self.start_assembling(now);
        }
    }

    fn finish_job(&mut self, now: Instant, result_ok: bool) {
        let started = self.job_started.unwrap_or(now);
        let report = JobReport {
            name: self.config.name.clone(),
            job_index: self.job_index,
            ranks: self.config.ranks,
            attempts: self.attempt,
            job_time: now.saturating_duration_since(started),
            result_ok,
            releases: std::mem::take(&mut self.job_releases),
        };
        self.reports.push(report.clone());
        self.actions.push(GangAction::JobFinished(report));
        self.tasks.clear();
        self.job_index += 1;
        self.attempt = 1;
        if self.job_index >= self.config.jobs {
            self.actions.push(GangAction::Suppress);
            self.phase = Phase::Done;
        } else {
            self.job_started = Some(now);
            self.start_assembling(now);
        }
    }
}

/// The seed of job `index`: the same on every attempt, so a retried job computes the same answer.
pub fn job_seed(index: usize) -> u64 {
    super::allreduce::splitmix64(0x6a09_e667_f3bc_c908 ^ index as u64)
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "simulation_tests.rs"]
mod simulation_tests;
