//! The thin [`Scheduler`] around [`SparkCore`] and [`DriverProgram`]: callbacks become core
//! inputs, core [`Action`]s become driver calls, finished stages feed the program, whose next
//! stage goes back to the core. A ticker thread gives the core the time (idle leases, locality
//! wait) and starts a paused job when its pause is over.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, Scheduler};
use mesos::{
    AgentId, ExecutorId, ExecutorInfo, Filters, FrameworkId, MasterInfo, Offer, Resources,
    TaskInfo, TaskStatus,
};

use super::core::{Action, CoreCounters, CoreSettings, OfferView, SparkCore, StageOutcome};
use super::program::{DriverProgram, ProgramSettings, Step};
use super::protocol::{decode, encode, FromExecutor};
use crate::logreg::JobLine;

/// How often the ticker gives the core the time.
pub const TICK: Duration = Duration::from_millis(50);

/// What the framework runs.
#[derive(Debug, Clone)]
pub struct SparkConfig {
    /// The scheduling core's settings.
    pub core: CoreSettings,
    /// The driver program's.
    pub program: ProgramSettings,
    /// The executor (its id is set per agent).
    pub executor: ExecutorInfo,
}

/// How the run ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The finished jobs' lines.
    pub jobs: Vec<JobLine>,
    /// Why the run stopped early, if it did.
    pub failure: Option<String>,
    /// What the core did.
    pub counters: CoreCounters,
}

impl Outcome {
    /// The run's last line: `framework=spark name=.. offers=.. leases_launched=..
    /// leases_released=.. executors_started=.. executors_lost=.. migrations=.. resends=..`.
    pub fn counters_line(&self, name: &str) -> String {
        let c = &self.counters;
        format!(
            "framework=spark name={name} offers={} leases_launched={} leases_released={} \
             executors_started={} executors_lost={} migrations={} resends={}",
            c.offers,
            c.leases_launched,
            c.leases_released,
            c.executors_started,
            c.executors_lost,
            c.migrations,
            c.resends
        )
    }
}

struct State {
    core: SparkCore,
    program: DriverProgram,
    executor: ExecutorInfo,
    lease_resources: Resources,
    started: bool,
    ticker: bool,
    next_job_at: Option<Instant>,
    failure: Option<String>,
    done: bool,
}

impl State {
    fn start_job(&mut self, now: Instant) {
        self.next_job_at = None;
        self.core.start_job();
        let op = self.program.start_job(now);
        self.core.start_stage(now, op);
    }

    /// Feeds finished stages to the program (and its next stages to the core), then performs
    /// the core's actions. Returns whether the driver must stop.
    fn advance(&mut self, now: Instant, driver: &DriverHandle) -> bool {
        while let Some(outcome) = self.core.take_outcome() {
            match outcome {
                StageOutcome::Done { results, loads } => {
                    match self.program.on_stage_done(now, &results, loads) {
                        Ok(report) => {
                            println!("{}", report.iteration);
                            if let Some(job) = report.job {
                                println!("{job}");
                            }
                            match report.next {
                                Step::Stage(op) => self.core.start_stage(now, op),
                                Step::Pause(at) => {
                                    self.core.end_job();
                                    self.next_job_at = Some(at);
                                }
                                Step::Finished => {
                                    self.core.end_job();
                                    self.core.shutdown();
                                    self.done = true;
                                }
                            }
                        }
                        Err(why) => self.fail(why),
                    }
                }
                StageOutcome::Failed(why) => self.fail(why),
            }
        }
        for action in self.core.drain_actions() {
            self.perform(action, driver);
        }
        self.done || self.failure.is_some()
    }

    fn fail(&mut self, why: String) {
        eprintln!("spark: {why}");
        self.failure.get_or_insert(why);
        self.core.end_job();
        self.core.shutdown();
    }

    fn perform(&self, action: Action, driver: &DriverHandle) {
        match action {
            Action::Launch {
                offer_id,
                agent_id,
                executor_id,
                leases,
                refuse,
            } => {
                let executor = ExecutorInfo {
                    executor_id,
                    ..self.executor.clone()
                };
                let tasks = leases
                    .into_iter()
                    .map(|lease| {
                        TaskInfo::new(
                            lease.clone(),
                            format!("spark core {lease}"),
                            agent_id.clone(),
                            self.lease_resources.clone(),
                        )
                        .with_executor(executor.clone())
                    })
                    .collect();
                driver.launch_tasks(vec![offer_id], tasks, Filters::refuse(refuse));
            }
            Action::Decline { offer_id, refuse } => {
                driver.decline_offer(offer_id, Filters::refuse(refuse));
            }
            Action::Send {
                executor_id,
                agent_id,
                message,
            } => {
                driver.send_framework_message(executor_id, agent_id, encode(&message));
            }
            Action::KillLease(lease) => {
                driver.kill_task(lease);
            }
            Action::Revive => {
                driver.revive_offers();
            }
            Action::Suppress => {
                driver.suppress_offers();
            }
        }
    }
}

/// The Spark-like framework's scheduler.
pub struct SparkScheduler {
    state: Arc<Mutex<State>>,
}

/// Reads the run's [`Outcome`], and ends the ticker once the driver is done.
pub struct RunHandle(Arc<Mutex<State>>);

impl RunHandle {
    /// The outcome so far.
    pub fn outcome(&self) -> Outcome {
        let state = lock(&self.0);
        Outcome {
            jobs: state.program.finished_jobs().to_vec(),
            failure: state.failure.clone(),
            counters: state.core.counters(),
        }
    }
}

impl Drop for RunHandle {
    fn drop(&mut self) {
        lock(&self.0).done = true;
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SparkScheduler {
    /// A scheduler running `config`; its outcome is readable through the returned handle.
    pub fn new(config: SparkConfig) -> (SparkScheduler, RunHandle) {
        let now = Instant::now();
        let lease_resources = config.core.lease_resources.clone();
        let state = Arc::new(Mutex::new(State {
            core: SparkCore::new(config.core),
            program: DriverProgram::new(config.program, now),
            executor: config.executor,
            lease_resources,
            started: false,
            ticker: false,
            next_job_at: None,
            failure: None,
            done: false,
        }));
        (
            SparkScheduler {
                state: state.clone(),
            },
            RunHandle(state),
        )
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Runs `f` on the state at `now`, then advances it; stops the driver when the run is over.
    fn with_state(&self, driver: &DriverHandle, f: impl FnOnce(&mut State, Instant)) {
        let now = Instant::now();
        let mut state = self.lock();
        f(&mut state, now);
        if state.advance(now, driver) {
            // From a callback, `stop` returns at once.
            driver.stop(false);
        }
    }
}

/// Gives the core the time every [`TICK`] until the run is over.
fn tick_until_done(state: Arc<Mutex<State>>, driver: DriverHandle) {
    loop {
        std::thread::sleep(TICK);
        let now = Instant::now();
        let mut guard = lock(&state);
        if guard.done || guard.failure.is_some() {
            return;
        }
        if guard.next_job_at.is_some_and(|at| now >= at) {
            guard.start_job(now);
        }
        guard.core.tick(now);
        let stop = guard.advance(now, &driver);
        // Not under the lock: outside a callback `stop` waits for the driver, which may be in a
        // callback waiting for this lock.
        drop(guard);
        if stop {
            driver.stop(false);
            return;
        }
    }
}

impl Scheduler for SparkScheduler {
    fn registered(&mut self, driver: &DriverHandle, id: &FrameworkId, _master: &MasterInfo) {
        eprintln!("spark: registered as {id}");
        let start_ticker = {
            let mut state = self.lock();
            !std::mem::replace(&mut state.ticker, true)
        };
        if start_ticker {
            let (state, ticker_driver) = (self.state.clone(), driver.clone());
            let spawned = std::thread::Builder::new()
                .name("spark-ticker".into())
                .spawn(move || tick_until_done(state, ticker_driver));
            if let Err(error) = spawned {
                self.lock()
                    .fail(format!("cannot start the ticker thread: {error}"));
            }
        }
        self.with_state(driver, |state, now| {
            if !std::mem::replace(&mut state.started, true) {
                state.start_job(now);
            }
        });
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        self.with_state(driver, |state, now| {
            for offer in &offers {
                let node = offer.attributes.text("node").unwrap_or(&offer.hostname);
                state.core.on_offer(
                    now,
                    OfferView {
                        offer_id: &offer.id,
                        agent_id: &offer.agent_id,
                        node,
                        resources: &offer.resources,
                    },
                );
            }
        });
    }

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        if status.state.is_terminal() && status.state != mesos::TaskState::Killed {
            eprintln!(
                "spark: lease {} is {} ({})",
                status.task_id,
                status.state,
                status.message.as_deref().unwrap_or("no message")
            );
        }
        self.with_state(driver, |state, now| {
            state
                .core
                .on_lease_status(now, &status.task_id, status.state)
        });
    }

    fn framework_message(
        &mut self,
        driver: &DriverHandle,
        executor_id: &ExecutorId,
        _agent_id: &AgentId,
        data: &[u8],
    ) {
        match decode::<FromExecutor>(data) {
            Ok(message) => self.with_state(driver, |state, now| {
                state.core.on_message(now, executor_id, message)
            }),
            Err(why) => eprintln!("spark: from executor {executor_id}: {why}"),
        }
    }

    fn agent_lost(&mut self, driver: &DriverHandle, agent_id: &AgentId) {
        eprintln!("spark: agent {agent_id} lost");
        self.with_state(driver, |state, now| state.core.on_agent_lost(now, agent_id));
    }

    fn executor_lost(
        &mut self,
        driver: &DriverHandle,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        status: i32,
    ) {
        eprintln!("spark: executor {executor_id} on {agent_id} exited with status {status}");
        self.with_state(driver, |state, now| {
            state.core.on_executor_lost(now, executor_id)
        });
    }

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        self.lock().fail(format!("framework error: {message}"));
    }
}
