//! A whole Mesos cluster in one process, and the command-line tools around it.
//!
//! - [`LocalCluster`]: one master and N agents in this process, each on its own runtime (own port),
//!   with work directories under a temporary directory: the embedded default for trying things and
//!   for end-to-end tests.
//! - `mesos-local --num_agents 3 [--port 5050]`: the same as a binary, until SIGINT/SIGTERM.
//! - `mesos-execute --master host:port --name N --command "..."`: runs one command task.
#![deny(missing_docs)]

mod cluster;
pub mod execute;
pub mod flags;

pub use cluster::{LocalCluster, LocalConfig, LocalError, LocalZk};
