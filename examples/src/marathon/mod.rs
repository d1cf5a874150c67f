//! `service-framework`: a Marathon-like scheduler for long-running services (issue 17).
//!
//! Apps are posted to Marathon's REST API (v2) on the framework's own port; the scheduler keeps
//! `instances` tasks of each running, replaces those that end with Marathon's backoff, places
//! them under constraints, rolls new versions out honouring `upgradeStrategy` and the tasks'
//! health (checked by the agents' command executors), and survives its own restart: the apps,
//! the known tasks and the framework id are saved to `--state_file` (or the ZooKeeper node of
//! `--zk`); a restarted scheduler
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
//! - [`core`]: the pure decisions; [`scheduler`]: its plug into [`crate::long_running`]; [`api`] and [`http`]: the
//!   REST API; [`time`]: Marathon's timestamps.

pub mod api;
pub mod app;
pub mod constraints;
pub mod core;
pub mod http;
pub mod scheduler;
pub mod time;

use crate::long_running::{self, Config, Running, StartError};

pub use api::Shared;

/// Starts the scheduler: loads its state (from the file or ZooKeeper), serves its API,
/// registers (with the saved framework id, if any).
///
/// # Errors
/// [`StartError`] naming the flag at fault.
pub fn start(config: &Config) -> Result<Running<Shared>, StartError> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    long_running::start(config, |snapshot, http| Shared {
        core: core::ServiceCore::restore(seed, snapshot),
        master: config.master.clone(),
        http: http.to_string(),
        zk: match &config.store {
            long_running::Store::ZooKeeper(node) => Some(node.url().to_string()),
            long_running::Store::File(_) => None,
        },
    })
}
