//! The executor driver's callback thread: where every [`Executor`] callback runs (see
//! [`crate::driver`] for the shape both drivers share).

use std::sync::Arc;

use crate::driver::{CallbackReceiver, Lifecycle, Next};

use super::core::DriverEvent;
use super::driver::{Executor, ExecutorDriver};

/// Starts the `executor-driver` thread that makes `executor`'s callbacks with `driver`. After
/// `shutdown` returns it waits (up to the shutdown grace period) for the updates sent so far to be
/// acknowledged, then stops the driver; after `error` it aborts it.
///
/// # Errors
/// When the OS refuses a thread.
pub(crate) fn start(
    receiver: CallbackReceiver<DriverEvent>,
    lifecycle: Arc<Lifecycle>,
    mut executor: Box<dyn Executor>,
    driver: ExecutorDriver,
) -> std::io::Result<()> {
    let ended = driver.clone();
    let started = receiver.start(
        "executor-driver",
        lifecycle,
        |_| false,
        move |event| deliver(executor.as_mut(), &driver, event),
    );
    if started.is_err() {
        ended.abort();
    }
    started
}

/// Makes one callback.
fn deliver(executor: &mut dyn Executor, driver: &ExecutorDriver, event: DriverEvent) -> Next {
    match event {
        DriverEvent::Registered {
            executor_info,
            framework_info,
            agent_info,
        } => executor.registered(driver, &executor_info, &framework_info, &agent_info),
        DriverEvent::Reregistered { agent_info } => executor.reregistered(driver, &agent_info),
        DriverEvent::Disconnected => executor.disconnected(driver),
        DriverEvent::LaunchTask(task) => driver.launch(executor, task),
        DriverEvent::KillTask(task_id) => driver.kill(executor, task_id),
        DriverEvent::FrameworkMessage(data) => executor.framework_message(driver, data),
        DriverEvent::Shutdown => {
            executor.shutdown(driver);
            driver.wait_for_acknowledgements(driver.env().shutdown_grace_period);
            driver.stop();
            return Next::Exit;
        }
        DriverEvent::Error(message) => {
            executor.error(driver, &message);
            driver.abort();
            return Next::Exit;
        }
    }
    Next::Continue
}
