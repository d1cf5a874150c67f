//! What the two long-running schedulers (`service-framework`, `cron-framework`) share: the
//! outputs of their pure cores and how they are performed on the driver, where the state is
//! saved ([`store`]: a file, or ZooKeeper with `--zk`), the driver callbacks and the ticker that
//! feed the core, the REST API's server, and their common flags ([`flags`]).
//!
//! A scheduler plugs in by implementing [`SchedulerState`] on the state its API shares with
//! the driver's callbacks, then calls [`start`].

pub mod flags;
pub mod store;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use mesos::{
    AgentId, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId, TaskId, TaskInfo,
    TaskStatus,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::marathon::http::{self, Request, Response};
use crate::marathon::time::now_secs;
pub use store::{Store, StoreError};

/// What a scheduler's core asks its driver side to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Launch `tasks` on `offer_id`.
    Launch {
        /// The offer.
        offer_id: OfferId,
        /// The tasks.
        tasks: Vec<TaskInfo>,
    },
    /// Decline an offer nothing needs.
    Decline(OfferId),
    /// Kill a task.
    Kill(TaskId),
    /// Ask for offers again (something waits for them).
    Revive,
    /// Reconcile these tasks (empty: every task of the framework).
    Reconcile(Vec<TaskStatus>),
    /// The state changed: save the core's snapshot (before anything else goes out).
    Persist,
}

/// The state a scheduler's API, driver callbacks and ticker share (its core and what the API
/// shows beside it). Inputs carry `now` (monotonic) and `wall` (seconds since the epoch).
pub trait SchedulerState: Send + 'static {
    /// What is saved.
    type Snapshot: Serialize + DeserializeOwned + Default;
    /// How often [`SchedulerState::tick`] is called.
    const TICK: Duration;
    /// How long a declined offer is refused.
    const DECLINE_REFUSE: Duration;

    /// Takes the core's outputs.
    fn drain(&mut self) -> Vec<Output>;
    /// What to save.
    fn snapshot(&self) -> Self::Snapshot;
    /// The framework id, once registered (or restored).
    fn framework_id(&self) -> Option<FrameworkId>;
    /// Registered (or re-registered) as `framework_id`.
    fn registered(&mut self, now: Instant, framework_id: FrameworkId);
    /// Offers arrived.
    fn offers(&mut self, now: Instant, wall: f64, offers: Vec<Offer>);
    /// A status update arrived.
    fn status_update(&mut self, now: Instant, wall: f64, status: &TaskStatus);
    /// Time passed.
    fn tick(&mut self, now: Instant, wall: f64);
    /// Answers one REST API request.
    fn handle(shared: &Mutex<Self>, request: Request) -> Response;
}

/// Locks shared state (a panic in another holder does not stop the scheduler).
pub fn lock<S>(shared: &Mutex<S>) -> std::sync::MutexGuard<'_, S> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a long-running scheduler runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master (`host:port` or `zk://...`).
    pub master: String,
    /// Where the REST API listens.
    pub http_address: String,
    /// Where the state is saved.
    pub store: Store,
    /// The framework's name.
    pub name: String,
    /// The framework's role.
    pub role: String,
    /// How long the master keeps the tasks of a disconnected scheduler (seconds).
    pub failover_timeout: f64,
}

/// Why a scheduler could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The saved state cannot be read.
    #[error(transparent)]
    State(#[from] StoreError),
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
    /// The ticker's thread cannot start.
    #[error("cannot start the ticker thread: {0}")]
    Thread(std::io::Error),
}

/// A running scheduler.
pub struct Running<S> {
    /// The driver.
    pub driver: SchedulerDriver,
    /// Where the REST API listens.
    pub http: SocketAddr,
    /// The state the API and the driver share.
    pub shared: Arc<Mutex<S>>,
}

type Slot = Arc<Mutex<Option<DriverHandle>>>;

/// Performs the state's outputs on `driver`; the state is saved first when it asked for it.
pub fn perform<S: SchedulerState>(shared: &Mutex<S>, driver: &DriverHandle, store: &Store) {
    let (outputs, snapshot) = {
        let mut state = lock(shared);
        let outputs = state.drain();
        let persist = outputs.iter().any(|o| matches!(o, Output::Persist));
        (outputs, persist.then(|| state.snapshot()))
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
                driver.decline_offer(offer_id, Filters::refuse(S::DECLINE_REFUSE));
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

/// The driver's callbacks: each feeds the state, then performs its outputs.
struct Callbacks<S> {
    shared: Arc<Mutex<S>>,
    slot: Slot,
    store: Store,
}

impl<S: SchedulerState> Scheduler for Callbacks<S> {
    fn registered(&mut self, driver: &DriverHandle, framework_id: &FrameworkId, _m: &MasterInfo) {
        tracing::info!(%framework_id, "registered");
        *lock(&self.slot) = Some(driver.clone());
        lock(&self.shared).registered(Instant::now(), framework_id.clone());
        perform(&self.shared, driver, &self.store);
    }

    fn reregistered(&mut self, driver: &DriverHandle, _m: &MasterInfo) {
        *lock(&self.slot) = Some(driver.clone());
        {
            let mut state = lock(&self.shared);
            if let Some(id) = state.framework_id() {
                state.registered(Instant::now(), id);
            }
        }
        perform(&self.shared, driver, &self.store);
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        lock(&self.shared).offers(Instant::now(), now_secs(), offers);
        perform(&self.shared, driver, &self.store);
    }

    fn offer_rescinded(&mut self, _driver: &DriverHandle, _offer_id: &OfferId) {}

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        lock(&self.shared).status_update(Instant::now(), now_secs(), status);
        perform(&self.shared, driver, &self.store);
    }

    fn agent_lost(&mut self, _driver: &DriverHandle, agent_id: &AgentId) {
        // Its tasks come as TASK_LOST / TASK_UNREACHABLE updates.
        tracing::warn!(%agent_id, "agent lost");
    }

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        tracing::error!(message, "the master reported an error");
    }
}

/// Starts a scheduler: loads its state from `config.store`, makes the shared state with
/// `make(snapshot, api_address)`, serves its REST API, registers (with the saved framework id,
/// if any) and ticks it every [`SchedulerState::TICK`].
///
/// # Errors
/// [`StartError`] naming the flag at fault.
pub fn start<S: SchedulerState>(
    config: &Config,
    make: impl FnOnce(S::Snapshot, SocketAddr) -> S,
) -> Result<Running<S>, StartError> {
    let snapshot: S::Snapshot = config.store.load()?;
    let listen_error = |source| StartError::Listen {
        address: config.http_address.clone(),
        source,
    };
    let listener = TcpListener::bind(&config.http_address).map_err(listen_error)?;
    let http = listener.local_addr().map_err(listen_error)?;
    let shared = Arc::new(Mutex::new(make(snapshot, http)));
    let slot: Slot = Arc::default();
    let callbacks = Callbacks {
        shared: shared.clone(),
        slot: slot.clone(),
        store: config.store.clone(),
    };
    let mut framework = FrameworkInfo::new("", &config.name).with_role(&config.role);
    framework.id = lock(&shared).framework_id();
    framework.failover_timeout = config.failover_timeout;
    framework.checkpoint = true;
    framework.webui_url = Some(format!("http://{http}"));
    let driver = crate::scheduler_driver(callbacks, framework, &config.master)?;
    let (api_shared, api_slot, api_store) = (shared.clone(), slot.clone(), config.store.clone());
    http::serve(
        listener,
        Arc::new(move |request| {
            let response = S::handle(&api_shared, request);
            let driver = lock(&api_slot).clone();
            if let Some(driver) = driver {
                perform(&api_shared, &driver, &api_store);
            }
            response
        }),
    )
    .map_err(listen_error)?;
    let (ticked, store) = (shared.clone(), config.store.clone());
    std::thread::Builder::new()
        .name(format!("{}-ticker", config.name))
        .spawn(move || loop {
            std::thread::sleep(S::TICK);
            let driver = lock(&slot).clone();
            let Some(driver) = driver else { continue };
            lock(&ticked).tick(Instant::now(), now_secs());
            perform(&ticked, &driver, &store);
        })
        .map_err(StartError::Thread)?;
    driver.start();
    Ok(Running {
        driver,
        http,
        shared,
    })
}
