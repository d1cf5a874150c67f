//! The scheduler side of the framework API: the [`Scheduler`] callbacks a framework implements, and
//! the [`SchedulerDriver`] that registers it with the master and carries its calls.
//!
//! The driver has the shape both drivers share ([`crate::driver`]): the bookkeeping (registration
//! with backoff, failover, offers, acknowledgements) lives in the pure [`DriverCore`]; an actor on
//! a `process` runtime (its own, on `127.0.0.1:0` — or `LIBPROCESS_IP` — unless you give it one)
//! feeds it and performs its outputs; callbacks run on the driver's callback thread, one at a
//! time, and get a [`DriverHandle`] they can call, so `resource_offers` can launch tasks directly.
//!
//! ```no_run
//! use mesos::scheduler::{DriverHandle, DriverStatus, Scheduler, SchedulerDriver};
//! use mesos::{CommandInfo, Filters, FrameworkInfo, Offer, TaskInfo, TaskStatus};
//!
//! struct Hello { launched: bool }
//!
//! impl Scheduler for Hello {
//!     fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
//!         for offer in offers {
//!             if self.launched {
//!                 driver.decline_offer(offer.id, Filters::default());
//!                 continue;
//!             }
//!             let task = TaskInfo::new("hello", "hello", offer.agent_id.clone(), "cpus:0.1;mem:32".parse().unwrap())
//!                 .with_command(CommandInfo::shell("echo hello"));
//!             driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
//!             self.launched = true;
//!         }
//!     }
//!     fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
//!         println!("{} is {}", status.task_id, status.state);
//!         if status.state.is_terminal() {
//!             driver.stop(false);
//!         }
//!     }
//! }
//!
//! let driver = SchedulerDriver::new(Hello { launched: false }, FrameworkInfo::new("", "hello"), "127.0.0.1:5050")?;
//! assert_eq!(driver.run(), DriverStatus::Stopped);
//! # Ok::<(), mesos::scheduler::SchedulerError>(())
//! ```

mod actor;
mod backoff;
mod callbacks;
pub mod core;
mod detector;
mod driver;

pub use self::backoff::{RegistrationBackoff, DEFAULT_BACKOFF_FACTOR};
pub use self::core::{Callback, CoreOptions, DriverCore, Output, Timer, ToMaster};
pub use self::detector::{
    parse_master, DetectorError, LeaderCallback, MasterDetector, StandaloneDetector,
    MASTER_PROCESS_ID,
};
pub use self::driver::{DriverHandle, DriverOptions, SchedulerDriver};

use crate::{AgentId, ExecutorId, FrameworkId, MasterInfo, Offer, OfferId, TaskStatus};

pub use crate::driver::DriverStatus;

/// Why a driver could not be created.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The master address is not usable.
    #[error(transparent)]
    Detector(#[from] DetectorError),
    /// The driver's runtime or process could not start.
    #[error("cannot start the driver: {0}")]
    Runtime(#[from] ::process::Error),
    /// The driver's callback thread could not start.
    #[error("cannot start the driver's callback thread: {0}")]
    CallbackThread(#[source] std::io::Error),
}

/// A framework's scheduler: the callbacks the driver makes, all on the driver's callback thread,
/// one at a time, in the order the master's messages arrived. Each gets the [`DriverHandle`] to
/// act with. A callback may block (the driver keeps talking to the master; later callbacks wait),
/// but never `join` there.
#[allow(unused_variables)]
pub trait Scheduler: Send + 'static {
    /// The framework registered with a master for the first time (this instance's first
    /// registration, including a failed-over scheduler taking over its framework).
    fn registered(
        &mut self,
        driver: &DriverHandle,
        framework_id: &FrameworkId,
        master: &MasterInfo,
    ) {
    }

    /// The framework re-registered with a newly elected (or restarted) master.
    fn reregistered(&mut self, driver: &DriverHandle, master: &MasterInfo) {}

    /// The connection to the master broke; the driver keeps trying to re-register.
    fn disconnected(&mut self, driver: &DriverHandle) {}

    /// New offers. Launch on them, or decline them, or they stay allocated to this framework.
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>);

    /// An offer is no longer valid (used elsewhere, timed out, or its agent was lost).
    fn offer_rescinded(&mut self, driver: &DriverHandle, offer_id: &OfferId) {}

    /// A task changed state. With implicit acknowledgements the driver acknowledges the update when
    /// this returns; with explicit ones, call `acknowledge_status_update`.
    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus);

    /// Data an executor sent.
    fn framework_message(
        &mut self,
        driver: &DriverHandle,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        data: &[u8],
    ) {
    }

    /// An agent was removed; its tasks were lost (status updates follow).
    fn agent_lost(&mut self, driver: &DriverHandle, agent_id: &AgentId) {}

    /// An executor exited with wait status `status`.
    fn executor_lost(
        &mut self,
        driver: &DriverHandle,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        status: i32,
    ) {
    }

    /// An unrecoverable error (e.g. "Framework failed over"); the driver has aborted.
    fn error(&mut self, driver: &DriverHandle, message: &str) {}
}
