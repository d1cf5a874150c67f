//! `cron-framework`: a Chronos-like scheduler for jobs that run on a schedule (issue 17).
//!
//! Jobs are posted to Chronos's REST API with ISO 8601 repeating schedules
//! (`R5/2026-12-03T10:00:00Z/PT1M`); dependent jobs run after all their parents succeed; a failed
//! run is retried `retries` times; an instance missed by more than `epsilon` (the scheduler was
//! down) is skipped, not stacked; no instance runs twice, across the scheduler's own restart
//! (its state is saved to `--state_file`, and it re-registers with the same framework id).
//!
//! ```text
//! cron-framework --master 127.0.0.1:5050 --http_port 4400 &
//! curl -X POST localhost:4400/scheduler/iso8601 -H 'Content-Type: application/json' \
//!   -d '{"name":"report","command":"./make-report","schedule":"R/2026-12-04T02:00:00Z/P1D","epsilon":"PT30M","retries":2}'
//! curl -X POST localhost:4400/scheduler/dependency -d '{"name":"mail","command":"./mail","parents":["report"]}'
//! curl localhost:4400/scheduler/jobs
//! ```

pub mod api;
pub mod core;
pub mod job;
pub mod schedule;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use mesos::{Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};

use self::api::{lock, Shared};
use self::core::{CronCore, Output, Snapshot};
use crate::marathon::time::now_secs;

/// How the cron scheduler runs.
#[derive(Debug, Clone)]
pub struct CronConfig {
    /// The master.
    pub master: String,
    /// Where the REST API listens.
    pub http_address: String,
    /// Where the state is saved.
    pub state_file: PathBuf,
    /// The framework's name.
    pub name: String,
    /// The framework's role.
    pub role: String,
    /// Seconds the master keeps the tasks while the scheduler is away.
    pub failover_timeout: f64,
}

/// Why the cron scheduler could not start.
#[derive(Debug, thiserror::Error)]
pub enum CronStartError {
    /// The state file cannot be read.
    #[error("--state_file: {0}")]
    State(String),
    /// The API's port cannot be bound.
    #[error("--http_port: cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The driver cannot start.
    #[error(transparent)]
    Driver(#[from] crate::DriverSetupError),
}

/// A running cron scheduler.
pub struct Cron {
    /// The driver.
    pub driver: SchedulerDriver,
    /// Where the REST API listens.
    pub http: std::net::SocketAddr,
}

fn load(path: &PathBuf) -> Result<Snapshot, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| format!("cannot parse {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Snapshot::default()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn save(path: &PathBuf, snapshot: &Snapshot) {
    let temp = path.with_extension("tmp");
    let result = serde_json::to_vec_pretty(snapshot)
        .map_err(std::io::Error::other)
        .and_then(|bytes| {
            use std::io::Write;
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(&bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(err) = result {
        tracing::error!(%err, path = %path.display(), "cannot save the scheduler's state");
    }
}

/// Performs the core's outputs (the state is saved before any launch goes out).
fn perform(shared: &Mutex<Shared>, driver: &DriverHandle, path: &PathBuf) {
    let (outputs, snapshot) = {
        let mut state = lock(shared);
        let outputs = state.core.drain();
        let persist = outputs.iter().any(|o| matches!(o, Output::Persist));
        (outputs, persist.then(|| state.core.snapshot()))
    };
    if let Some(snapshot) = snapshot {
        save(path, &snapshot);
    }
    for output in outputs {
        match output {
            Output::Launch { offer_id, tasks } => {
                driver.launch_tasks(
                    vec![offer_id],
                    tasks,
                    Filters::refuse(Duration::from_secs(1)),
                );
            }
            Output::Decline(offer_id) => {
                driver.decline_offer(offer_id, Filters::refuse(Duration::from_secs(1)));
            }
            Output::Kill(task_id) => {
                driver.kill_task(task_id);
            }
            Output::Revive => {
                driver.revive_offers();
            }
            Output::Reconcile(statuses) => {
                driver.reconcile_tasks(statuses);
            }
            Output::Persist => {}
        }
    }
}

struct CronScheduler {
    shared: Arc<Mutex<Shared>>,
    handle: Arc<Mutex<Option<DriverHandle>>>,
    path: PathBuf,
}

impl Scheduler for CronScheduler {
    fn registered(&mut self, driver: &DriverHandle, framework_id: &FrameworkId, _m: &MasterInfo) {
        tracing::info!(%framework_id, "registered");
        *self
            .handle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(driver.clone());
        lock(&self.shared)
            .core
            .registered(Instant::now(), framework_id.clone());
        perform(&self.shared, driver, &self.path);
    }

    fn reregistered(&mut self, driver: &DriverHandle, _m: &MasterInfo) {
        let id = lock(&self.shared).core.framework_id().cloned();
        if let Some(id) = id {
            lock(&self.shared).core.registered(Instant::now(), id);
        }
        perform(&self.shared, driver, &self.path);
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        lock(&self.shared).core.offers(offers);
        perform(&self.shared, driver, &self.path);
    }

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        lock(&self.shared).core.status_update(now_secs(), status);
        perform(&self.shared, driver, &self.path);
    }

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        tracing::error!(message, "the master reported an error");
    }
}

/// Starts the cron scheduler: loads its state, serves its API, registers.
///
/// # Errors
/// [`CronStartError`] naming the flag at fault.
pub fn start(config: &CronConfig) -> Result<Cron, CronStartError> {
    let snapshot = load(&config.state_file).map_err(CronStartError::State)?;
    let framework_id = snapshot.framework_id.clone();
    let listen_error = |source| CronStartError::Listen {
        address: config.http_address.clone(),
        source,
    };
    let listener = TcpListener::bind(&config.http_address).map_err(listen_error)?;
    let http = listener.local_addr().map_err(listen_error)?;
    let shared = Arc::new(Mutex::new(Shared {
        core: CronCore::new(snapshot),
    }));
    let handle: Arc<Mutex<Option<DriverHandle>>> = Arc::default();
    let scheduler = CronScheduler {
        shared: shared.clone(),
        handle: handle.clone(),
        path: config.state_file.clone(),
    };
    let mut framework = FrameworkInfo::new("", &config.name).with_role(&config.role);
    framework.id = framework_id;
    framework.failover_timeout = config.failover_timeout;
    framework.checkpoint = true;
    framework.webui_url = Some(format!("http://{http}"));
    let driver = crate::scheduler_driver(scheduler, framework, &config.master)?;
    let (api_shared, api_handle, api_path) =
        (shared.clone(), handle.clone(), config.state_file.clone());
    crate::marathon::http::serve(
        listener,
        Arc::new(move |request| {
            let response = api::handle(&api_shared, request);
            let driver = api_handle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if let Some(driver) = driver {
                perform(&api_shared, &driver, &api_path);
            }
            response
        }),
    )
    .map_err(listen_error)?;
    let path = config.state_file.clone();
    let _ = std::thread::Builder::new()
        .name("cron-ticker".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            let driver = handle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let Some(driver) = driver else { continue };
            lock(&shared).core.tick(Instant::now(), now_secs());
            perform(&shared, &driver, &path);
        });
    driver.start();
    Ok(Cron { driver, http })
}
