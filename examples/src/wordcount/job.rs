//! One MapReduce job's bookkeeping, as a pure state machine (no I/O, no clock): offers in,
//! launches and decline filters out; status updates in, progress out.
//!
//! Maps are placed by [`DelayScheduler`]; reduces start once every map's output exists (a map
//! whose output was lost with its executor runs again first). Failed attempts are retried up to
//! [`MAX_ATTEMPTS`] times. Each agent runs one executor per job; its resources are counted with
//! the first task launched there.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use mesos::{AgentId, Resources, TaskState};

use super::dataset::Block;
use super::locality::DelayScheduler;
use super::task_data::{JobFunctions, MapTask, ReduceTask, TaskOutput, WordcountTask};

/// How often a task may be attempted before the job fails.
pub const MAX_ATTEMPTS: u32 = 4;

/// How long to refuse an agent's resources when the job has nothing to launch there: new work
/// revives offers anyway, so this only keeps idle offers from bouncing.
pub const IDLE_REFUSE: Duration = Duration::from_secs(5);

/// The shortest filter used while waiting for locality (below the allocation interval it would
/// only make the allocator re-offer the same resources at once).
pub const MIN_REFUSE: Duration = Duration::from_millis(100);

/// What a job needs to know besides its blocks.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Reduce tasks (partitions).
    pub reducers: usize,
    /// Each task's resources.
    pub task_resources: Resources,
    /// The executor's own resources, counted once per agent.
    pub executor_resources: Resources,
    /// Delay scheduling's wait for a node-local slot.
    pub locality_wait: Duration,
    /// Bandwidth model for remote block reads, MB/s (0: unthrottled).
    pub remote_read_mbps: f64,
    /// What the maps and reduces compute.
    pub functions: JobFunctions,
}

/// An offer, as the job sees it.
#[derive(Debug, Clone)]
pub struct OfferView<'a> {
    /// The agent offering.
    pub agent_id: &'a AgentId,
    /// The agent's `node` attribute (where its blocks are).
    pub node: &'a str,
    /// What is offered.
    pub resources: &'a Resources,
}

/// A task to launch.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The task id (unique in the framework: job, task and attempt).
    pub task_id: String,
    /// The work.
    pub task: WordcountTask,
    /// Whether this is the job's first task on the agent (its executor starts with it).
    pub starts_executor: bool,
}

/// What to do with one offer.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferDecision {
    /// Tasks to launch on it (possibly none: then decline).
    pub launches: Vec<Launch>,
    /// The filter for the unused resources.
    pub refuse: Duration,
}

/// What a status update changed.
#[derive(Debug, Clone, PartialEq)]
pub enum JobProgress {
    /// Nothing the caller must act on.
    Running,
    /// Every reduce finished: their outputs, by partition.
    Done(Vec<TaskOutput>),
    /// A task failed [`MAX_ATTEMPTS`] times.
    Failed(String),
}

/// The figures of a finished job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobStats {
    /// Map tasks (blocks).
    pub maps: usize,
    /// Reduce tasks.
    pub reduces: usize,
    /// Maps whose successful attempt ran on the node holding their block.
    pub local_maps: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Work {
    Map(usize),
    Reduce(usize),
}

#[derive(Debug, Clone)]
struct RunningTask {
    work: Work,
    agent_id: AgentId,
    local: bool,
}

#[derive(Debug, Clone)]
struct MapResult {
    agent_id: AgentId,
    local: bool,
    output: TaskOutput,
}

/// One job (see the module docs).
#[derive(Debug)]
pub struct JobCore {
    index: usize,
    blocks: Vec<Block>,
    settings: JobSettings,
    delay: DelayScheduler,
    map_results: Vec<Option<MapResult>>,
    pending_reduces: VecDeque<usize>,
    reduce_outputs: Vec<Option<TaskOutput>>,
    running: HashMap<String, RunningTask>,
    attempts: HashMap<Work, u32>,
    executors: BTreeSet<AgentId>,
    /// Agents whose executor has reported (a task there reached a non-terminal state).
    confirmed: BTreeSet<AgentId>,
}

impl JobCore {
    /// Job number `index` over `blocks` (map `m` reads `blocks[m]`), starting at `now`.
    pub fn new(index: usize, blocks: Vec<Block>, settings: JobSettings, now: Instant) -> JobCore {
        let delay = DelayScheduler::new(
            settings.locality_wait,
            now,
            blocks.iter().enumerate().map(|(m, b)| (m, b.node.as_str())),
        );
        let reducers = settings.reducers.max(1);
        JobCore {
            index,
            map_results: vec![None; blocks.len()],
            pending_reduces: (0..reducers).collect(),
            reduce_outputs: vec![None; reducers],
            blocks,
            settings,
            delay,
            running: HashMap::new(),
            attempts: HashMap::new(),
            executors: BTreeSet::new(),
            confirmed: BTreeSet::new(),
        }
    }

    /// The job's number.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Agents running this job's executor.
    pub fn executors(&self) -> impl Iterator<Item = &AgentId> {
        self.executors.iter()
    }

    /// Whether the job has a task it could launch now (given a fitting offer): the caller
    /// revives offers when this turns true and suppresses them when it turns false.
    pub fn wants_offers(&self) -> bool {
        self.delay.pending() > 0 || (self.maps_done() && !self.pending_reduces.is_empty())
    }

    fn maps_done(&self) -> bool {
        self.map_results.iter().all(Option::is_some)
    }

    /// The job's figures so far (final once it is done).
    pub fn stats(&self) -> JobStats {
        JobStats {
            maps: self.blocks.len(),
            reduces: self.reduce_outputs.len(),
            local_maps: self
                .map_results
                .iter()
                .flatten()
                .filter(|r| r.local)
                .count(),
        }
    }

    /// Places as many tasks as fit in `offer` at `now`, and says how long to refuse the rest.
    pub fn on_offer(&mut self, now: Instant, offer: &OfferView<'_>) -> OfferDecision {
        let mut remaining = offer.resources.clone();
        let mut launches = Vec::new();
        loop {
            let starts_executor = !self.executors.contains(offer.agent_id);
            let mut needed = self.settings.task_resources.clone();
            if starts_executor {
                needed += &self.settings.executor_resources;
            }
            if !remaining.contains(&needed) {
                break;
            }
            let Some((work, task, local)) = self.next_task(offer.node, now) else {
                break;
            };
            remaining -= &needed;
            self.executors.insert(offer.agent_id.clone());
            let attempt = {
                let n = self.attempts.entry(work).or_insert(0);
                *n += 1;
                *n
            };
            let task_id = match work {
                Work::Map(m) => format!("job{}-map{m}-try{attempt}", self.index),
                Work::Reduce(r) => format!("job{}-reduce{r}-try{attempt}", self.index),
            };
            self.running.insert(
                task_id.clone(),
                RunningTask {
                    work,
                    agent_id: offer.agent_id.clone(),
                    local,
                },
            );
            launches.push(Launch {
                task_id,
                task,
                starts_executor,
            });
        }
        OfferDecision {
            launches,
            refuse: self.refuse_for(now),
        }
    }

    fn next_task(&mut self, node: &str, now: Instant) -> Option<(Work, WordcountTask, bool)> {
        if self.delay.pending() > 0 {
            let placement = self.delay.assign(node, now)?;
            let m = placement.map();
            let task = WordcountTask::Map(MapTask {
                map: m,
                block: self.blocks[m].path.clone(),
                local: placement.is_local(),
                remote_read_mbps: self.settings.remote_read_mbps,
                reducers: self.reduce_outputs.len(),
                function: self.settings.functions.map.clone(),
            });
            return Some((Work::Map(m), task, placement.is_local()));
        }
        if !self.maps_done() {
            return None;
        }
        let r = self.pending_reduces.pop_front()?;
        let sources = self
            .map_results
            .iter()
            .flatten()
            .filter_map(|result| result.output.source(r))
            .collect();
        let task = WordcountTask::Reduce(ReduceTask {
            partition: r,
            sources,
            function: self.settings.functions.reduce,
        });
        Some((Work::Reduce(r), task, true))
    }

    /// The filter for resources left unused at `now`: until the locality wait expires while
    /// maps wait for local slots, else [`IDLE_REFUSE`].
    fn refuse_for(&self, now: Instant) -> Duration {
        match self.delay.remaining_wait(now) {
            Some(wait) if wait > Duration::ZERO => wait.max(MIN_REFUSE),
            _ => IDLE_REFUSE,
        }
    }

    /// Takes a status update for `task_id`. Updates for tasks this job did not launch (an
    /// earlier job's, or duplicates) change nothing.
    pub fn on_status(&mut self, task_id: &str, state: TaskState, data: &[u8]) -> JobProgress {
        if !state.is_terminal() {
            if let Some(task) = self.running.get(task_id) {
                // The executor reported: it really runs there.
                self.confirmed.insert(task.agent_id.clone());
            }
            return JobProgress::Running;
        }
        let Some(task) = self.running.remove(task_id) else {
            return JobProgress::Running;
        };
        if state == TaskState::Finished {
            match serde_json::from_slice::<TaskOutput>(data) {
                Ok(output) => return self.finished(task, output),
                Err(error) => {
                    return self.retry(task, task_id, &format!("bad output data: {error}"));
                }
            }
        }
        self.retry(task, task_id, &format!("ended {state}"))
    }

    fn finished(&mut self, task: RunningTask, output: TaskOutput) -> JobProgress {
        match task.work {
            Work::Map(m) => {
                self.map_results[m] = Some(MapResult {
                    agent_id: task.agent_id,
                    local: task.local,
                    output,
                });
                JobProgress::Running
            }
            Work::Reduce(r) => {
                self.reduce_outputs[r] = Some(output);
                if self.reduce_outputs.iter().all(Option::is_some) {
                    JobProgress::Done(self.reduce_outputs.iter().flatten().cloned().collect())
                } else {
                    JobProgress::Running
                }
            }
        }
    }

    fn retry(&mut self, task: RunningTask, task_id: &str, why: &str) -> JobProgress {
        // A launch that never reached its executor (e.g. the offer was rescinded): unless another
        // task is on its way there, the next launch on that agent must start the executor.
        if !self.confirmed.contains(&task.agent_id)
            && !self.running.values().any(|t| t.agent_id == task.agent_id)
        {
            self.executors.remove(&task.agent_id);
        }
        let attempts = self.attempts.get(&task.work).copied().unwrap_or(0);
        if attempts >= MAX_ATTEMPTS {
            return JobProgress::Failed(format!(
                "task {task_id} failed {attempts} times, last: {why}"
            ));
        }
        match task.work {
            Work::Map(m) => self.delay.requeue(m, &self.blocks[m].node),
            Work::Reduce(r) => self.pending_reduces.push_back(r),
        }
        JobProgress::Running
    }

    /// The job's executor on `agent_id` is gone: its map output with it. Maps whose output lived
    /// there run again (unless every reduce already has what it needs) and a later task there
    /// starts a new executor.
    pub fn executor_lost(&mut self, agent_id: &AgentId) {
        self.executors.remove(agent_id);
        self.confirmed.remove(agent_id);
        if self.reduce_outputs.iter().all(Option::is_some) {
            return;
        }
        for m in 0..self.map_results.len() {
            if self.map_results[m]
                .as_ref()
                .is_some_and(|r| &r.agent_id == agent_id)
            {
                self.map_results[m] = None;
                self.delay.requeue(m, &self.blocks[m].node);
            }
        }
    }
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
