//! The service scheduler's driver side: the [`Scheduler`] callbacks and a ticker feed the
//! [`ServiceCore`]; its outputs become driver calls and saves of its state.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, Scheduler};
use mesos::{AgentId, ExecutorId, Filters, FrameworkId, MasterInfo, Offer, OfferId, TaskStatus};

use super::api::{lock, Shared};
use super::core::{Output, Snapshot};
use super::time::now_secs;

/// How often the core is ticked (backoff expiry, reconciliation timeout, revives).
pub const TICK: Duration = Duration::from_millis(200);

/// Where the scheduler's state is saved: a JSON file written atomically.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// A store at `path`.
    pub fn new(path: PathBuf) -> Store {
        Store { path }
    }

    /// The saved state, if any.
    ///
    /// # Errors
    /// An unreadable or corrupt file (a missing one is an empty state).
    pub fn load(&self) -> Result<Snapshot, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("cannot parse {}: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Snapshot::default()),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    /// Saves `snapshot` (write to a temporary file, fsync, rename).
    pub fn save(&self, snapshot: &Snapshot) {
        let temp = self.path.with_extension("tmp");
        let result = serde_json::to_vec_pretty(snapshot)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                use std::io::Write;
                let mut file = std::fs::File::create(&temp)?;
                file.write_all(&bytes)?;
                file.sync_all()
            })
            .and_then(|()| std::fs::rename(&temp, &self.path));
        if let Err(err) = result {
            tracing::error!(%err, path = %self.path.display(), "cannot save the scheduler's state");
        }
    }
}

/// The scheduler: callbacks into the shared core.
pub struct ServiceScheduler {
    shared: Arc<Mutex<Shared>>,
    handle: Arc<Mutex<Option<DriverHandle>>>,
    store: Store,
}

impl ServiceScheduler {
    /// A scheduler over `shared`, saving to `store`.
    pub fn new(shared: Arc<Mutex<Shared>>, store: Store) -> ServiceScheduler {
        ServiceScheduler {
            shared,
            handle: Arc::default(),
            store,
        }
    }

    /// The driver handle, once registered (the ticker uses it).
    pub fn handle_slot(&self) -> Arc<Mutex<Option<DriverHandle>>> {
        self.handle.clone()
    }
}

/// Performs the core's outputs on `driver`.
pub fn perform(shared: &Mutex<Shared>, driver: &DriverHandle, store: &Store) {
    let (outputs, snapshot) = {
        let mut state = lock(shared);
        let outputs = state.core.drain();
        let persist = outputs.iter().any(|o| matches!(o, Output::Persist));
        (outputs, persist.then(|| state.core.snapshot()))
    };
    if let Some(snapshot) = snapshot {
        // Saved before anything it describes is launched.
        store.save(&snapshot);
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
                driver.decline_offer(offer_id, Filters::refuse(Duration::from_secs(2)));
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

impl Scheduler for ServiceScheduler {
    fn registered(&mut self, driver: &DriverHandle, framework_id: &FrameworkId, _m: &MasterInfo) {
        tracing::info!(%framework_id, "registered");
        *self
            .handle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(driver.clone());
        lock(&self.shared)
            .core
            .registered(Instant::now(), framework_id.clone());
        perform(&self.shared, driver, &self.store);
    }

    fn reregistered(&mut self, driver: &DriverHandle, _m: &MasterInfo) {
        let id = lock(&self.shared).core.framework_id().cloned();
        if let Some(id) = id {
            lock(&self.shared).core.registered(Instant::now(), id);
        }
        perform(&self.shared, driver, &self.store);
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        lock(&self.shared)
            .core
            .offers(Instant::now(), now_secs(), offers);
        perform(&self.shared, driver, &self.store);
    }

    fn offer_rescinded(&mut self, _driver: &DriverHandle, _offer_id: &OfferId) {}

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        lock(&self.shared)
            .core
            .status_update(Instant::now(), now_secs(), status);
        perform(&self.shared, driver, &self.store);
    }

    fn agent_lost(&mut self, _driver: &DriverHandle, agent_id: &AgentId) {
        // Its tasks come as TASK_LOST / TASK_UNREACHABLE updates.
        tracing::warn!(%agent_id, "agent lost");
    }

    fn executor_lost(&mut self, _d: &DriverHandle, _e: &ExecutorId, _a: &AgentId, _s: i32) {}

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        tracing::error!(message, "the master reported an error");
    }
}

/// Ticks the core every [`TICK`] and performs what it says, once a driver handle is there.
pub fn start_ticker(
    shared: Arc<Mutex<Shared>>,
    handle: Arc<Mutex<Option<DriverHandle>>>,
    store: Store,
) {
    let _ = std::thread::Builder::new()
        .name("service-ticker".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            let driver = handle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let Some(driver) = driver else { continue };
            lock(&shared).core.tick(Instant::now());
            perform(&shared, &driver, &store);
        });
}
