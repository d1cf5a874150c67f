//! [`RankExecutor`]: the custom executor (binary `mpi-executor`) that runs one rank.
//!
//! One executor process per rank (the executor id is the task id, see the module docs of
//! [`super`]): the rank runs on a thread of its own so callbacks stay responsive; whichever comes
//! first, the rank's end or a kill, sends the one terminal update, waits for the agent to
//! acknowledge it and stops the driver, which ends the process (and the rank with it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mesos::executor::{Executor, ExecutorDriver};
use mesos::{TaskId, TaskInfo, TaskState, TaskStatus};

use super::allreduce::run_rank;
use super::task_data::RankTask;

/// How long the executor waits for its terminal update to be acknowledged before exiting anyway.
pub const ACK_WAIT: Duration = Duration::from_secs(10);

/// Runs the rank of the (single) task it is given.
#[derive(Debug, Default)]
pub struct RankExecutor {
    task_id: Option<TaskId>,
    /// Set by whoever sends the terminal update, so exactly one is sent.
    ended: Arc<AtomicBool>,
}

impl RankExecutor {
    /// An executor with no rank yet.
    pub fn new() -> RankExecutor {
        RankExecutor::default()
    }
}

/// Sends `status` as the rank's terminal update unless one was sent, then waits for its
/// acknowledgement and stops the driver (off the callback thread).
fn end_rank(driver: &ExecutorDriver, ended: &AtomicBool, status: TaskStatus) {
    if ended.swap(true, Ordering::SeqCst) {
        return;
    }
    if let Err(error) = driver.send_status_update(status) {
        tracing::warn!(%error, "cannot send the rank's terminal update");
    }
    let driver = driver.clone();
    std::thread::spawn(move || {
        driver.wait_for_acknowledgements(ACK_WAIT);
        driver.stop();
    });
}

impl Executor for RankExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let task_id = task.task_id.clone();
        if self.task_id.is_some() {
            let status = TaskStatus::new(task_id, TaskState::Failed)
                .with_message("this executor runs one rank only");
            let _ = driver.send_status_update(status);
            return;
        }
        self.task_id = Some(task_id.clone());
        let rank_task = match RankTask::from_bytes(&task.data) {
            Ok(rank_task) => rank_task,
            Err(error) => {
                let status = TaskStatus::new(task_id, TaskState::Failed)
                    .with_message(format!("bad rank task data: {error}"));
                end_rank(driver, &self.ended, status);
                return;
            }
        };
        let running = TaskStatus::new(task_id.clone(), TaskState::Running);
        if let Err(error) = driver.send_status_update(running) {
            tracing::warn!(%error, "cannot report the rank running");
        }
        let driver = driver.clone();
        let ended = Arc::clone(&self.ended);
        std::thread::spawn(move || {
            let status = match run_rank(&rank_task) {
                Ok(result) => {
                    let message = format!(
                        "rank {} result_ok={} checksum={:016x}",
                        result.rank, result.result_ok, result.checksum
                    );
                    let mut status =
                        TaskStatus::new(task_id, TaskState::Finished).with_message(message);
                    status.data = result.to_bytes();
                    status
                }
                Err(error) => TaskStatus::new(task_id, TaskState::Failed)
                    .with_message(format!("rank {}: {error}", rank_task.rank)),
            };
            end_rank(&driver, &ended, status);
        });
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: TaskId) {
        let status = TaskStatus::new(task_id, TaskState::Killed).with_message("rank killed");
        end_rank(driver, &self.ended, status);
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        if let Some(task_id) = self.task_id.clone() {
            if !self.ended.swap(true, Ordering::SeqCst) {
                let status =
                    TaskStatus::new(task_id, TaskState::Killed).with_message("executor shut down");
                let _ = driver.send_status_update(status);
            }
        }
    }
}
