//! The scheduler driver's callback thread: where every [`Scheduler`] callback runs (see
//! [`crate::driver`] for the shape both drivers share).

use crate::driver::{CallbackJob, CallbackReceiver, Lifecycle, Next};

use super::core::{Callback, Output};
use super::driver::DriverHandle;
use super::Scheduler;

/// One callback, and the outputs the core produced after it (performed once it returned: the
/// implicit acknowledgement of a status update is sent only after `status_update` returned).
pub(crate) type Job = CallbackJob<Callback, Output>;

/// Starts the `scheduler-driver` thread that makes `scheduler`'s callbacks with `driver`.
///
/// # Errors
/// When the OS refuses a thread.
pub(crate) fn start(
    receiver: CallbackReceiver<Job>,
    lifecycle: std::sync::Arc<Lifecycle>,
    mut scheduler: Box<dyn Scheduler>,
    driver: DriverHandle,
) -> std::io::Result<()> {
    // The error callback comes with the abort that the master's error caused: still made.
    let after_end = |job: &Job| matches!(job.callback, Callback::Error(_));
    receiver.start("scheduler-driver", lifecycle, after_end, move |job| {
        deliver(scheduler.as_mut(), &driver, job.callback);
        if !job.then.is_empty() {
            driver.perform(job.then);
        }
        Next::Continue
    })
}

/// Makes one callback.
fn deliver(s: &mut dyn Scheduler, driver: &DriverHandle, callback: Callback) {
    match callback {
        Callback::Registered(id, master) => s.registered(driver, &id, &master),
        Callback::Reregistered(master) => s.reregistered(driver, &master),
        Callback::Disconnected => s.disconnected(driver),
        Callback::ResourceOffers(offers) => s.resource_offers(driver, offers),
        Callback::OfferRescinded(id) => s.offer_rescinded(driver, &id),
        Callback::StatusUpdate(status) => s.status_update(driver, &status),
        Callback::FrameworkMessage(executor, agent, data) => {
            s.framework_message(driver, &executor, &agent, &data)
        }
        Callback::AgentLost(agent) => s.agent_lost(driver, &agent),
        Callback::ExecutorLost(executor, agent, status) => {
            s.executor_lost(driver, &executor, &agent, status)
        }
        Callback::Error(message) => s.error(driver, &message),
    }
}
