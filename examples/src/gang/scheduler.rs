//! The thin side of the framework: [`GangScheduler`] turns driver callbacks into [`GangCore`]
//! inputs, [`perform`] turns core actions into driver calls, and [`run_gang_framework`] owns the
//! driver and the loop that ticks the core's timers.
//!
//! The core sits behind a mutex shared by the driver's callbacks and the tick loop. Actions are
//! performed while holding it: driver calls from a handle only enqueue on the driver process, so
//! they never block on a callback, and two threads cannot reorder a launch and a later kill.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, DriverStatus, Scheduler};
use mesos::{AgentId, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId, TaskStatus};

use super::core::{GangAction, GangConfig, GangCore, JobReport, IDLE_REFUSE};

/// How often the loop ticks the core (gang timeouts and backoffs are at least this coarse).
pub const TICK: Duration = Duration::from_millis(20);

/// Why the framework could not run its jobs.
#[derive(Debug, thiserror::Error)]
pub enum GangError {
    /// The driver could not be created (e.g. a bad `--master`).
    #[error(transparent)]
    Driver(#[from] crate::DriverSetupError),
    /// The driver stopped or aborted before every job ended.
    #[error("the driver ended before the jobs did ({0})")]
    DriverEnded(DriverStatus),
}

/// Performs `actions` on the driver, printing each finished job's line on stdout.
pub fn perform(driver: &DriverHandle, actions: Vec<GangAction>) {
    for action in actions {
        match action {
            GangAction::Launch {
                agent_id,
                offer_ids,
                tasks,
            } => {
                tracing::info!(%agent_id, ranks = tasks.len(), "launching ranks");
                driver.launch_tasks(offer_ids, tasks, Filters::refuse(IDLE_REFUSE));
            }
            GangAction::Decline { offer_id, refuse } => {
                driver.decline_offer(offer_id, Filters::refuse(refuse));
            }
            GangAction::Kill(task_id) => {
                driver.kill_task(task_id);
            }
            GangAction::Suppress => {
                driver.suppress_offers();
            }
            GangAction::Revive => {
                driver.revive_offers();
            }
            GangAction::JobFinished(report) => println!("{report}"),
        }
    }
}

/// The [`Scheduler`] of the gang framework: every callback is one core input.
#[derive(Debug, Clone)]
pub struct GangScheduler {
    core: Arc<Mutex<GangCore>>,
}

impl GangScheduler {
    /// A scheduler feeding `core`.
    pub fn new(core: Arc<Mutex<GangCore>>) -> GangScheduler {
        GangScheduler { core }
    }

    fn lock(&self) -> MutexGuard<'_, GangCore> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn step(&self, driver: &DriverHandle, input: impl FnOnce(&mut GangCore, Instant)) {
        let mut core = self.lock();
        input(&mut core, Instant::now());
        let actions = core.take_actions();
        perform(driver, actions);
    }
}

impl Scheduler for GangScheduler {
    fn registered(&mut self, driver: &DriverHandle, id: &FrameworkId, _master: &MasterInfo) {
        tracing::info!(framework_id = %id, "registered");
        self.step(driver, |core, now| core.registered(now));
    }

    fn reregistered(&mut self, driver: &DriverHandle, _master: &MasterInfo) {
        self.step(driver, |core, now| core.registered(now));
    }

    fn disconnected(&mut self, driver: &DriverHandle) {
        self.step(driver, |core, _| core.disconnected());
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        self.step(driver, |core, _| core.offers(offers));
    }

    fn offer_rescinded(&mut self, driver: &DriverHandle, offer_id: &OfferId) {
        self.step(driver, |core, _| core.offer_rescinded(offer_id));
    }

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        match &status.message {
            Some(message) => {
                tracing::info!(task = %status.task_id, state = %status.state, %message, "rank update")
            }
            None => tracing::info!(task = %status.task_id, state = %status.state, "rank update"),
        }
        if status.state.is_terminal() && status.state != mesos::TaskState::Finished {
            eprintln!(
                "rank task {} is {}{}",
                status.task_id,
                status.state,
                status
                    .message
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            );
        }
        self.step(driver, |core, now| core.status_update(now, status));
    }

    fn agent_lost(&mut self, driver: &DriverHandle, agent_id: &AgentId) {
        self.step(driver, |core, _| core.agent_lost(agent_id));
    }

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        eprintln!("framework error: {message}");
    }
}

/// Registers a framework in `role` (checkpointing if `checkpoint`) with `master`, runs every job
/// of `config` and returns their reports once the last one ended (the framework is then
/// unregistered).
///
/// # Errors
/// [`GangError`] when the driver cannot start or ends early (e.g. the master refused it).
pub fn run_gang_framework(
    config: GangConfig,
    master: &str,
    role: &str,
    checkpoint: bool,
) -> Result<Vec<JobReport>, GangError> {
    let framework = FrameworkInfo::new("", config.name.clone())
        .with_role(role.to_string())
        .with_checkpoint(checkpoint);
    let core = Arc::new(Mutex::new(GangCore::new(config)));
    let scheduler = GangScheduler::new(Arc::clone(&core));
    let driver = crate::scheduler_driver(scheduler.clone(), framework, master)?;
    let handle = driver.handle();
    let status = handle.start();
    if status != DriverStatus::Running {
        return Err(GangError::DriverEnded(status));
    }
    loop {
        {
            let mut core = scheduler.lock();
            core.tick(Instant::now());
            let actions = core.take_actions();
            perform(&handle, actions);
            if core.is_done() {
                break;
            }
        }
        let status = handle.status();
        if status != DriverStatus::Running {
            return Err(GangError::DriverEnded(status));
        }
        std::thread::sleep(TICK);
    }
    handle.stop(false);
    let reports = scheduler.lock().reports().to_vec();
    Ok(reports)
}
