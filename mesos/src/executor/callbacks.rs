//! The executor driver's callback thread: where every [`Executor`] callback runs (see
//! [`crate::driver`] for the shape both drivers share).

use std::sync::Arc;

use crate::driver::{CallbackReceiver, Lifecycle, Next};

use super::core::Callback;
use super::driver::{Executor, ExecutorDriver};
use super::process::Job;

/// Starts the `executor-driver` thread that makes `executor`'s callbacks with `driver`. After
/// `shutdown` returns it waits (up to the shutdown grace period) for the updates sent so far to be
/// acknowledged, then stops the driver; after `error` it aborts it.
///
/// # Errors
/// When the OS refuses a thread.
pub(crate) fn start(
    receiver: CallbackReceiver<Job>,
    lifecycle: Arc<Lifecycle>,
    mut executor: Box<dyn Executor>,
    driver: ExecutorDriver,
) -> std::io::Result<()> {
    let ended = driver.clone();
    let started = receiver.start(
        "executor-driver",
        lifecycle,
        |_| false,
        move |job: Job| {
            let next = deliver(executor.as_mut(), &driver, job.callback);
            if matches!(next, Next::Continue) && !job.then.is_empty() {
                driver.perform(job.then);
            }
            next
        },
    );
    if started.is_err() {
        ended.abort();
    }
    started
}

/// Makes one callback.
fn deliver(executor: &mut dyn Executor, driver: &ExecutorDriver, callback: Callback) -> Next {
    match callback {
        Callback::Registered {
            executor_info,
            framework_info,
            agent_info,
        } => executor.registered(driver, &executor_info, &framework_info, &agent_info),
        Callback::Reregistered { agent_info } => executor.reregistered(driver, &agent_info),
        Callback::Disconnected => executor.disconnected(driver),
        Callback::LaunchTask(task) => driver.launch(executor, task),
        Callback::KillTask(task_id) => driver.kill(executor, task_id),
        Callback::FrameworkMessage(data) => executor.framework_message(driver, data),
        Callback::Shutdown => {
            executor.shutdown(driver);
            driver.wait_for_acknowledgements(driver.env().shutdown_grace_period);
            driver.stop();
            return Next::Exit;
        }
        Callback::Error(message) => {
            executor.error(driver, &message);
            driver.abort();
            return Next::Exit;
        }
    }
    Next::Continue
}
