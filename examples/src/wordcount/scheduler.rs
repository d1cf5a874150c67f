//! The thin [`Scheduler`] around [`JobCore`]: turns offers into launches or declines, status
//! updates into job progress, revives offers when the job has work and suppresses them when it
//! has none, and commits each finished job on a thread of its own before starting the next.
//! What a commit does and what the next job computes is the run's [`JobPlan`]: the word count's
//! ([`WordcountPlan`]: fetch the reducers' files, write `--output`, print the job line) or the
//! logistic-regression baseline's ([`super::hadoop_lr::GradientPlan`]). Either way the job's
//! executors are then ended. [`OfferCounters`] keep what it did with offers (used, declined,
//! suppress and revive calls), the run's last line.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, Scheduler};
use mesos::{
    AgentId, ExecutorId, ExecutorInfo, Filters, FrameworkId, MasterInfo, Offer, TaskInfo,
    TaskStatus,
};

use super::dataset::{merge_count_lines, totals, write_counts, Block, Counts};
use super::job::{JobCore, JobProgress, JobSettings, JobStats, OfferView, IDLE_REFUSE};
use super::shuffle::fetch;
use super::task_data::{JobFunctions, TaskOutput, WordcountTask, SHUTDOWN_MESSAGE};

/// What a run of jobs does with each finished job, and what the next job computes.
pub trait JobPlan: Send + 'static {
    /// The first job's functions.
    fn first(&mut self) -> JobFunctions;

    /// Commits finished job `index` (started at `started`, with `stats`) from its reducers'
    /// outputs (by partition); returns the next job's functions, or `None` when the run is over.
    ///
    /// # Errors
    /// The outputs cannot be fetched or are malformed, or the result cannot be written.
    fn commit(
        &mut self,
        index: usize,
        started: Instant,
        stats: JobStats,
        outputs: &[TaskOutput],
    ) -> Result<Option<JobFunctions>, String>;
}

/// The word count's plan: `jobs` counts of the same input, each written to `output` and
/// reported as a [`JobReport`] line.
#[derive(Debug, Clone)]
pub struct WordcountPlan {
    /// The framework name printed in job lines.
    pub name: String,
    /// How many times to run the job.
    pub jobs: usize,
    /// Where the final counts go.
    pub output: PathBuf,
}

impl JobPlan for WordcountPlan {
    fn first(&mut self) -> JobFunctions {
        JobFunctions::default()
    }

    fn commit(
        &mut self,
        index: usize,
        started: Instant,
        stats: JobStats,
        outputs: &[TaskOutput],
    ) -> Result<Option<JobFunctions>, String> {
        let counts = collect_counts(outputs)?;
        write_counts(&self.output, &counts)
            .map_err(|e| format!("cannot write --output {}: {e}", self.output.display()))?;
        let (words, distinct) = totals(&counts);
        let report = JobReport {
            name: self.name.clone(),
            job_index: index,
            stats,
            job_time: started.elapsed(),
            words,
            distinct,
        };
        println!("{report}");
        Ok((index + 1 < self.jobs).then(JobFunctions::default))
    }
}

/// What the framework runs.
#[derive(Debug, Clone)]
pub struct WordcountConfig {
    /// The input's blocks (map `m` reads `blocks[m]`).
    pub blocks: Vec<Block>,
    /// Per-job settings (the functions are the plan's).
    pub settings: JobSettings,
    /// The executor; each job runs it as `wordcount-job<i>` (one per agent).
    pub executor: ExecutorInfo,
}

/// One finished job, as the line the framework prints.
#[derive(Debug, Clone, PartialEq)]
pub struct JobReport {
    /// The framework name.
    pub name: String,
    /// The job's number (0-based).
    pub job_index: usize,
    /// Maps, reduces and node-local maps.
    pub stats: JobStats,
    /// From the job's start until its output was written.
    pub job_time: Duration,
    /// Words counted.
    pub words: u64,
    /// Distinct words.
    pub distinct: usize,
}

impl JobReport {
    /// The share of maps that ran node-local, in percent (100 for a job without maps).
    pub fn local_pct(&self) -> f64 {
        if self.stats.maps == 0 {
            return 100.0;
        }
        100.0 * self.stats.local_maps as f64 / self.stats.maps as f64
    }
}

impl std::fmt::Display for JobReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "job=wordcount name={} job_index={} maps={} reduces={} local_maps={} local_pct={:.1} job_s={:.3} words={} distinct={}",
            self.name,
            self.job_index,
            self.stats.maps,
            self.stats.reduces,
            self.stats.local_maps,
            self.local_pct(),
            self.job_time.as_secs_f64(),
            self.words,
            self.distinct
        )
    }
}

/// How the run ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Jobs whose counts were written.
    pub succeeded: usize,
    /// Why the run stopped early, if it did.
    pub failure: Option<String>,
}

/// What the scheduler did with its offers over the whole run, printed as the run's last line:
/// `framework=wordcount name=.. offers=.. used=.. declined=.. suppressed=.. revived=..`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OfferCounters {
    /// Offers received.
    pub offers: u64,
    /// Offers tasks were launched on.
    pub used: u64,
    /// Offers declined (nothing to launch on them).
    pub declined: u64,
    /// Times the scheduler suppressed offers (its job had nothing to launch).
    pub suppressed: u64,
    /// Times it revived them (its job had work again).
    pub revived: u64,
}

impl OfferCounters {
    /// The `framework=wordcount` line of framework `name`.
    pub fn line(&self, name: &str) -> String {
        format!(
            "framework=wordcount name={name} offers={} used={} declined={} suppressed={} revived={}",
            self.offers, self.used, self.declined, self.suppressed, self.revived
        )
    }
}

struct RunningJob {
    core: JobCore,
    started: Instant,
}

struct State {
    config: Arc<WordcountConfig>,
    job: Option<RunningJob>,
    /// Whether offers are wanted as far as the master knows (revived, not suppressed).
    wanting: bool,
    outcome: Outcome,
    counters: OfferCounters,
}

impl State {
    fn executor_info(&self, job: usize) -> ExecutorInfo {
        ExecutorInfo {
            executor_id: executor_id(job),
            ..self.config.executor.clone()
        }
    }

    fn start_job(&mut self, index: usize, functions: JobFunctions, driver: &DriverHandle) {
        let now = Instant::now();
        let settings = JobSettings {
            functions,
            ..self.config.settings.clone()
        };
        self.job = Some(RunningJob {
            core: JobCore::new(index, self.config.blocks.clone(), settings, now),
            started: now,
        });
        self.sync_wants(driver);
    }

    /// Revives when the job has work again, suppresses when it has none.
    fn sync_wants(&mut self, driver: &DriverHandle) {
        let wants = self.job.as_ref().is_some_and(|j| j.core.wants_offers());
        if wants != self.wanting {
            if wants {
                driver.revive_offers();
                self.counters.revived += 1;
            } else {
                driver.suppress_offers();
                self.counters.suppressed += 1;
            }
            self.wanting = wants;
        }
    }

    /// Ends the run (from a callback: `stop` returns at once there).
    fn fail(&mut self, driver: &DriverHandle, why: String) {
        eprintln!("wordcount: {why}");
        self.outcome.failure.get_or_insert(why);
        self.job = None;
        driver.stop(false);
    }
}

/// Job `index`'s executor id (the same on every agent: one executor per agent per job).
pub fn executor_id(index: usize) -> ExecutorId {
    ExecutorId::new(format!("wordcount-job{index}"))
}

/// The word count framework's scheduler.
pub struct WordcountScheduler {
    state: Arc<Mutex<State>>,
    plan: Arc<Mutex<Box<dyn JobPlan>>>,
}

impl WordcountScheduler {
    /// A scheduler running `plan`'s jobs with `config`; the final [`Outcome`] is readable through
    /// the returned handle once the driver stopped.
    pub fn new(
        config: WordcountConfig,
        plan: Box<dyn JobPlan>,
    ) -> (WordcountScheduler, OutcomeHandle) {
        let state = Arc::new(Mutex::new(State {
            config: Arc::new(config),
            job: None,
            wanting: true,
            outcome: Outcome::default(),
            counters: OfferCounters::default(),
        }));
        (
            WordcountScheduler {
                state: state.clone(),
                plan: Arc::new(Mutex::new(plan)),
            },
            OutcomeHandle(state),
        )
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Reads the run's [`Outcome`].
pub struct OutcomeHandle(Arc<Mutex<State>>);

impl OutcomeHandle {
    /// The outcome so far.
    pub fn outcome(&self) -> Outcome {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .outcome
            .clone()
    }

    /// The offer counters so far.
    pub fn counters(&self) -> OfferCounters {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .counters
    }
}

fn task_name(task: &WordcountTask) -> String {
    match task {
        WordcountTask::Map(m) => format!("wordcount map {}", m.map),
        WordcountTask::Reduce(r) => format!("wordcount reduce {}", r.partition),
    }
}

impl Scheduler for WordcountScheduler {
    fn registered(&mut self, driver: &DriverHandle, id: &FrameworkId, _master: &MasterInfo) {
        eprintln!("wordcount: registered as {id}");
        let mut state = self.lock();
        if state.job.is_none() && state.outcome == Outcome::default() {
            let functions = self
                .plan
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .first();
            state.start_job(0, functions, driver);
        }
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        let mut state = self.lock();
        let now = Instant::now();
        for offer in offers {
            state.counters.offers += 1;
            let Some(job) = state.job.as_mut() else {
                driver.decline_offer(offer.id, Filters::refuse(IDLE_REFUSE));
                state.counters.declined += 1;
                continue;
            };
            let node = offer.attributes.text("node").unwrap_or(&offer.hostname);
            let decision = job.core.on_offer(
                now,
                &OfferView {
                    agent_id: &offer.agent_id,
                    node,
                    resources: &offer.resources,
                },
            );
            let index = job.core.index();
            let filters = Filters::refuse(decision.refuse);
            if decision.launches.is_empty() {
                driver.decline_offer(offer.id, filters);
                state.counters.declined += 1;
                continue;
            }
            let executor = state.executor_info(index);
            let task_resources = &state.config.settings.task_resources;
            let tasks: Vec<TaskInfo> = decision
                .launches
                .into_iter()
                .map(|launch| {
                    TaskInfo::new(
                        launch.task_id,
                        task_name(&launch.task),
                        offer.agent_id.clone(),
                        task_resources.clone(),
                    )
                    .with_executor(executor.clone())
                    .with_data(serde_json::to_vec(&launch.task).unwrap_or_default())
                })
                .collect();
            driver.launch_tasks(vec![offer.id], tasks, filters);
            state.counters.used += 1;
        }
        state.sync_wants(driver);
    }

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        let mut state = self.lock();
        let Some(job) = state.job.as_mut() else {
            return;
        };
        if status.state.is_terminal() && status.state != mesos::TaskState::Finished {
            eprintln!(
                "wordcount: task {} is {} ({})",
                status.task_id,
                status.state,
                status.message.as_deref().unwrap_or("no message")
            );
        }
        match job
            .core
            .on_status(status.task_id.as_str(), status.state, &status.data)
        {
            JobProgress::Running => state.sync_wants(driver),
            JobProgress::Failed(why) => state.fail(driver, why),
            JobProgress::Done(outputs) => {
                let Some(job) = state.job.take() else {
                    return;
                };
                state.sync_wants(driver);
                let (shared, plan) = (self.state.clone(), self.plan.clone());
                let committer = driver.clone();
                let spawned = std::thread::Builder::new()
                    .name("wordcount-commit".into())
                    .spawn(move || commit(shared, plan, committer, job, outputs));
                if let Err(error) = spawned {
                    state.fail(driver, format!("cannot start the commit thread: {error}"));
                }
            }
        }
    }

    fn executor_lost(
        &mut self,
        driver: &DriverHandle,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        _status: i32,
    ) {
        let mut state = self.lock();
        if let Some(job) = state.job.as_mut() {
            if *executor_id == self::executor_id(job.core.index()) {
                job.core.executor_lost(agent_id);
                state.sync_wants(driver);
            }
        }
    }

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        eprintln!("wordcount: framework error: {message}");
        self.lock()
            .outcome
            .failure
            .get_or_insert_with(|| format!("framework error: {message}"));
    }
}

/// Fetches every reducer's partition and merges them (they are disjoint: each word is in one).
///
/// # Errors
/// A fetch failed or a file is malformed.
pub fn collect_counts(outputs: &[TaskOutput]) -> Result<Counts, String> {
    let mut counts = Counts::new();
    for output in outputs {
        for file in &output.files {
            let body = fetch(&output.server, file).map_err(|e| e.to_string())?;
            merge_count_lines(&String::from_utf8_lossy(&body), &mut counts)
                .map_err(|e| format!("reduce output {file} from {}: {e}", output.server))?;
        }
    }
    Ok(counts)
}

/// Commits a finished job through the plan (see the module docs), then starts the next one or
/// stops the driver.
fn commit(
    shared: Arc<Mutex<State>>,
    plan: Arc<Mutex<Box<dyn JobPlan>>>,
    driver: DriverHandle,
    job: RunningJob,
    outputs: Vec<TaskOutput>,
) {
    let index = job.core.index();
    let committed = plan.lock().unwrap_or_else(PoisonError::into_inner).commit(
        index,
        job.started,
        job.core.stats(),
        &outputs,
    );
    // The executors' files are no longer needed.
    for agent_id in job.core.executors() {
        driver.send_framework_message(
            executor_id(index),
            agent_id.clone(),
            SHUTDOWN_MESSAGE.to_vec(),
        );
    }
    let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
    let stop = match committed {
        Ok(next) => {
            state.outcome.succeeded += 1;
            match next {
                Some(functions) => {
                    state.start_job(index + 1, functions, &driver);
                    false
                }
                None => true,
            }
        }
        Err(why) => {
            eprintln!("wordcount: job {index}: {why}");
            state
                .outcome
                .failure
                .get_or_insert(format!("job {index}: {why}"));
            true
        }
    };
    // Not under the lock: `stop` waits for the driver process, which may be in a callback
    // waiting for this very lock.
    drop(state);
    if stop {
        driver.stop(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_line_has_the_contract_keys() {
        let report = JobReport {
            name: "wc".into(),
            job_index: 1,
            stats: JobStats {
                maps: 12,
                reduces: 2,
                local_maps: 11,
            },
            job_time: Duration::from_millis(1234),
            words: 500,
            distinct: 40,
        };
        assert_eq!(
            report.to_string(),
            "job=wordcount name=wc job_index=1 maps=12 reduces=2 local_maps=11 local_pct=91.7 job_s=1.234 words=500 distinct=40"
        );
    }

    #[test]
    fn the_counters_line_names_the_framework() {
        let counters = OfferCounters {
            offers: 9,
            used: 3,
            declined: 6,
            suppressed: 2,
            revived: 1,
        };
        assert_eq!(
            counters.line("wc"),
            "framework=wordcount name=wc offers=9 used=3 declined=6 suppressed=2 revived=1"
        );
    }
}
