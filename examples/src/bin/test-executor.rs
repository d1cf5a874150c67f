//! `test-executor`: the custom executor of `test-framework`, as Mesos's test-executor: each task
//! goes RUNNING then FINISHED, with a framework message to the scheduler in between.

use mesos::executor::{Executor, ExecutorDriver};
use mesos::{TaskId, TaskInfo, TaskState, TaskStatus};

struct TestExecutor;

impl Executor for TestExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        println!("Starting task {}", task.task_id);
        let running = TaskStatus::new(task.task_id.clone(), TaskState::Running);
        if let Err(error) = driver.send_status_update(running) {
            eprintln!("cannot report task {}: {error}", task.task_id);
            return;
        }
        // Best effort: the scheduler prints it if it arrives.
        let _ = driver.send_framework_message(format!("task {} ran", task.task_id).into_bytes());
        println!("Finishing task {}", task.task_id);
        let finished = TaskStatus::new(task.task_id.clone(), TaskState::Finished);
        if let Err(error) = driver.send_status_update(finished) {
            eprintln!("cannot report task {}: {error}", task.task_id);
        }
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: TaskId) {
        let _ = driver.send_status_update(TaskStatus::new(task_id, TaskState::Killed));
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        driver.stop();
    }
}

fn main() {
    mesos_examples::run_executor_and_exit("test-executor", ExecutorDriver::new(TestExecutor))
}
