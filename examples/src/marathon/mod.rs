//! `service-framework`: a Marathon-like scheduler for long-running services (issue 17).
//!
//! Apps are posted to Marathon's REST API (v2) on the framework's own port; the scheduler keeps
//! `instances` tasks of each running, replaces those that end with Marathon's backoff, places
//! them under constraints, rolls new versions out honouring `upgradeStrategy` and the tasks'
//! health (checked by the agents' command executors), and survives its own restart: the apps,
//! the known tasks and the framework id are saved to `--state_file`; a restarted scheduler
//! re-registers with the same id, reconciles, and adopts the tasks still running.
//!
//! ```text
//! mesos-local --num_agents 3 --resources 'cpus:4;mem:4096;ports:[31000-32000]' &
//! service-framework --master 127.0.0.1:5050 --http_port 8080 &
//! curl -X POST localhost:8080/v2/apps -H 'Content-Type: application/json' -d '{
//!   "id": "/web", "cmd": "python3 -m http.server $PORT0", "instances": 3,
//!   "cpus": 0.1, "mem": 64, "portDefinitions": [{"port": 0}],
//!   "healthChecks": [{"protocol": "HTTP", "path": "/", "portIndex": 0,
//!                     "gracePeriodSeconds": 30, "intervalSeconds": 2}]}'
//! curl -X PUT localhost:8080/v2/apps/web -d '{"instances": 5, ...}'   # scale or deploy
//! curl localhost:8080/v2/apps/web/tasks
//! ```
//!
//! - [`app`]: the app definition (Marathon's JSON), [`constraints`]: placement.
//! - [`core`]: the pure decisions; [`scheduler`]: the driver side; [`api`] and [`http`]: the
//!   REST API; [`time`]: Marathon's timestamps.

pub mod api;
pub mod app;
pub mod constraints;
pub mod core;
pub mod http;
pub mod scheduler;
pub mod time;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mesos::scheduler::SchedulerDriver;
use mesos::FrameworkInfo;

use api::Shared;
use scheduler::{perform, start_ticker, ServiceScheduler, Store};

/// How the service scheduler runs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The master (`host:port` or `zk://...`).
    pub master: String,
    /// Where the REST API listens.
    pub http_address: String,
    /// Where the state is saved.
    pub state_file: PathBuf,
    /// The framework's name.
    pub name: String,
    /// The framework's role.
    pub role: String,
    /// How long the master keeps the tasks of a disconnected scheduler (seconds).
    pub failover_timeout: f64,
}

/// Why the service scheduler could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
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

/// A running service scheduler.
pub struct Service {
    /// The driver.
    pub driver: SchedulerDriver,
    /// Where the REST API listens.
    pub http: std::net::SocketAddr,
}

/// Starts the scheduler: loads its state, serves its API, registers (with the saved framework
/// id, if any).
///
/// # Errors
/// [`ServiceError`] naming the flag at fault.
pub fn start(config: &ServiceConfig) -> Result<Service, ServiceError> {
    let store = Store::new(config.state_file.clone());
    let snapshot = store.load().map_err(ServiceError::State)?;
    let framework_id = snapshot.framework_id.clone();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let listener =
        TcpListener::bind(&config.http_address).map_err(|source| ServiceError::Listen {
            address: config.http_address.clone(),
            source,
        })?;
    let http = listener
        .local_addr()
        .map_err(|source| ServiceError::Listen {
            address: config.http_address.clone(),
            source,
        })?;
    let shared = Arc::new(Mutex::new(Shared {
        core: core::ServiceCore::restore(seed, snapshot),
        master: config.master.clone(),
        http: http.to_string(),
    }));
    let scheduler = ServiceScheduler::new(shared.clone(), store.clone());
    let handle = scheduler.handle_slot();
    let mut framework = FrameworkInfo::new("", &config.name).with_role(&config.role);
    framework.id = framework_id;
    framework.failover_timeout = config.failover_timeout;
    framework.checkpoint = true;
    framework.webui_url = Some(format!("http://{http}"));
    let driver = crate::scheduler_driver(scheduler, framework, &config.master)?;
    let api_shared = shared.clone();
    let api_handle = handle.clone();
    let api_store = store.clone();
    http::serve(
        listener,
        Arc::new(move |request| {
            let response = api::handle(&api_shared, request);
            let driver = api_handle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if let Some(driver) = driver {
                perform(&api_shared, &driver, &api_store);
            }
            response
        }),
    )
    .map_err(|source| ServiceError::Listen {
        address: config.http_address.clone(),
        source,
    })?;
    start_ticker(shared, handle, store);
    driver.start();
    Ok(Service { driver, http })
}
