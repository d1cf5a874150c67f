//! `service-executor`: a custom executor for long-running tasks that lets its driver run their
//! health checks (`ExecutorDriver::with_health_checks`). Each task's `data` (UTF-8; a task has
//! an executor or a command, never both) is a shell command run as `sh -c` in a process group of its own in the sandbox, with the task's `PORT*` variables; it is
//! `TASK_RUNNING` while it runs, then `TASK_FINISHED` or `TASK_FAILED` by its exit code. A kill
//! (from the scheduler, or from the driver after `consecutive_failures` failed checks) sends
//! SIGTERM to the group, SIGKILL 3 s later, and reports `TASK_KILLED`.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mesos::executor::health::{port_environment, probe::command_argv};
use mesos::executor::{Executor, ExecutorDriver};
use mesos::{CommandInfo, Reason, TaskId, TaskInfo, TaskState, TaskStatus};

/// How long a killed task has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);

/// The running tasks: their process groups, and whether a kill was asked.
type Running = Arc<Mutex<HashMap<TaskId, (i32, bool)>>>;

#[derive(Default)]
struct ServiceExecutor {
    running: Running,
}

fn signal_group(pgid: i32, signal: &str) {
    // `kill -s SIG -- -pgid`: no unsafe FFI for one signal.
    let _ = Command::new("kill")
        .args(["-s", signal, "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

impl Executor for ServiceExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let id = task.task_id.clone();
        let fail = |message: String| {
            let status = TaskStatus::new(id.clone(), TaskState::Failed)
                .with_reason(Reason::CommandExecutorFailed)
                .with_message(message);
            let _ = driver.send_status_update(status);
        };
        let text = String::from_utf8_lossy(&task.data).trim().to_string();
        let Some((program, arg0, args)) = command_argv(&CommandInfo::shell(text)) else {
            return fail("the task's data holds no command".into());
        };
        let mut command = Command::new(program);
        if let Some(arg0) = arg0 {
            command.arg0(arg0);
        }
        command.args(args).stdin(Stdio::null()).process_group(0);
        if let Some(dir) = &driver.env().directory {
            command.current_dir(dir);
        }
        for var in port_environment(&task) {
            command.env(&var.name, &var.value);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => return fail(format!("cannot start the command: {err}")),
        };
        let pgid = i32::try_from(child.id()).unwrap_or(0);
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone(), (pgid, false));
        let _ = driver.send_status_update(TaskStatus::new(id.clone(), TaskState::Running));
        let (driver, running) = (driver.clone(), self.running.clone());
        std::thread::spawn(move || {
            let exit = child.wait();
            let killed = running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id)
                .is_some_and(|(_, killed)| killed);
            let status = match exit {
                _ if killed => TaskStatus::new(id, TaskState::Killed),
                Ok(exit) if exit.success() => TaskStatus::new(id, TaskState::Finished),
                Ok(exit) => TaskStatus::new(id, TaskState::Failed)
                    .with_message(format!("command ended: {exit}")),
                Err(err) => TaskStatus::new(id, TaskState::Failed)
                    .with_message(format!("cannot wait for the command: {err}")),
            };
            let _ = driver.send_status_update(status);
        });
    }

    fn kill_task(&mut self, _driver: &ExecutorDriver, task_id: TaskId) {
        let pgid = {
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            let Some((pgid, killed)) = running.get_mut(&task_id) else {
                return;
            };
            *killed = true;
            *pgid
        };
        signal_group(pgid, "TERM");
        let running = self.running.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + KILL_GRACE;
            while Instant::now() < deadline {
                let gone = !running
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .contains_key(&task_id);
                if gone {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            signal_group(pgid, "KILL");
        });
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        let ids: Vec<TaskId> = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        for id in ids {
            self.kill_task(driver, id);
        }
    }
}

fn main() {
    let driver =
        ExecutorDriver::new(ServiceExecutor::default()).map(ExecutorDriver::with_health_checks);
    mesos_examples::run_executor_and_exit("service-executor", driver)
}
