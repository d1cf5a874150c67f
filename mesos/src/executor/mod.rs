//! The executor side of the framework API: [`ExecutorInfo`] (how a framework describes a custom
//! executor), the [`Executor`] trait a framework's executor implements, and the [`ExecutorDriver`] that
//! connects it to its agent.
//!
//! # Writing an executor
//!
//! The agent starts an executor as a child process with `MESOS_AGENT_PID`, `MESOS_FRAMEWORK_ID`,
//! `MESOS_EXECUTOR_ID`, `MESOS_AGENT_ID` and `MESOS_DIRECTORY` set. [`ExecutorDriver::new`] reads them,
//! registers with the agent and calls the [`Executor`] back on its callback thread (the driver has
//! the scheduler driver's shape: pure [`DriverCore`], actor, callback thread, handle; see
//! [`crate::driver`]):
//!
//! ```no_run
//! use mesos::executor::{Executor, ExecutorDriver};
//! use mesos::{TaskId, TaskInfo, TaskState, TaskStatus};
//!
//! struct Echo;
//! impl Executor for Echo {
//!     fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
//!         let id = task.task_id.clone();
//!         driver.send_status_update(TaskStatus::new(id.clone(), TaskState::Running)).ok();
//!         // ... do the work ...
//!         driver.send_status_update(TaskStatus::new(id, TaskState::Finished)).ok();
//!     }
//!     fn kill_task(&mut self, driver: &ExecutorDriver, task_id: TaskId) {
//!         driver.send_status_update(TaskStatus::new(task_id, TaskState::Killed)).ok();
//!     }
//! }
//!
//! let driver = ExecutorDriver::new(Echo)?;
//! let status = driver.run(); // returns once the agent shuts the executor down or `stop` is called
//! std::process::exit(if status == mesos::executor::DriverStatus::Stopped { 0 } else { 1 });
//! # Ok::<(), mesos::executor::DriverError>(())
//! ```
//!
//! Status updates are reliable: the driver keeps each one until the agent acknowledges it and sends the
//! unacknowledged ones again when it re-registers.

mod callbacks;
mod core;
mod driver;
mod env;
pub mod health;
mod process;

pub use self::core::{
    Callback, CoreOptions, DriverCore, Output, Timer, ToAgent, UpdateError, REREGISTER_INTERVAL,
};
pub use driver::{DriverError, DriverStatus, Executor, ExecutorDriver};
pub use env::{EnvError, ExecutorEnv};

use serde::{Deserialize, Serialize};

use crate::command::CommandInfo;
use crate::ids::{ExecutorId, FrameworkId};
use crate::labels::Labels;
use crate::resources::Resources;

/// A framework-provided executor (Mesos's `ExecutorInfo`). Tasks naming the
/// same executor id on one agent share one executor process.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecutorInfo {
    /// The executor's id, unique within the framework.
    pub executor_id: ExecutorId,
    /// The owning framework (filled in by the master if absent).
    pub framework_id: Option<FrameworkId>,
    /// How to start the executor process.
    pub command: CommandInfo,
    /// Resources the executor itself uses, beyond its tasks'.
    pub resources: Resources,
    /// A human-readable name.
    pub name: Option<String>,
    /// A source tag for grouping executors in monitoring.
    pub source: Option<String>,
    /// Opaque data handed to the executor (base64 in JSON).
    #[serde(with = "crate::encoding::bytes")]
    pub data: Vec<u8>,
    /// Free-form labels.
    pub labels: Labels,
}

impl ExecutorInfo {
    /// An executor `id` started by `command`.
    pub fn new(id: impl Into<ExecutorId>, command: CommandInfo) -> ExecutorInfo {
        ExecutorInfo {
            executor_id: id.into(),
            command,
            ..ExecutorInfo::default()
        }
    }

    /// Sets the executor's own resources.
    pub fn with_resources(mut self, resources: Resources) -> ExecutorInfo {
        self.resources = resources;
        self
    }
}
