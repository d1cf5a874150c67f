//! Example frameworks, runnable against `mesos-local`:
//!
//! ```text
//! cargo run -p mesos-local --bin mesos-local -- --num_agents 3 &
//! cargo run -p mesos-examples --bin shell-framework -- --master 127.0.0.1:5050 --num_tasks 10
//! cargo build -p mesos-examples && cargo run -p mesos-examples --bin test-framework -- --master 127.0.0.1:5050
//! ```
//!
//! - [`TaskRunner`]: the scheduler both frameworks share: packs tasks into offers, prints progress,
//!   stops when every task has finished (or aborts on the first failure).
//! - `test-framework`: like Mesos's test-framework, runs N tasks with the custom Rust executor
//!   `test-executor` (a binary of this package that uses `mesos::executor::ExecutorDriver`).
//! - `shell-framework`: runs N shell commands as command tasks.
//! - [`marathon`]: `service-framework`, a Marathon-like scheduler for long-running services.
//! - [`chronos`]: `cron-framework`, a Chronos-like scheduler for jobs on ISO 8601 schedules.
//! - [`long_running`]: what those two share (state in a file or ZooKeeper, driver side, flags).
//! - [`wordcount`], [`gang`], [`spark`]: the paper's Hadoop-like, MPI-like and Spark-like
//!   frameworks; [`logreg`]: the iterative job the Spark-like one and its Hadoop-like baseline
//!   (`hadoop-lr-framework`) both run.
#![deny(missing_docs)]

pub mod chronos;
pub mod gang;
pub mod logreg;
pub mod long_running;
pub mod marathon;
pub mod spark;
pub mod wordcount;

/// Why a framework's driver could not be created.
#[derive(Debug, thiserror::Error)]
pub enum DriverSetupError {
    /// `--master` is neither `host:port` nor a valid `zk://` URL.
    #[error("{0}")]
    Master(#[from] mesos_zookeeper::ZkError),
    /// The driver's runtime could not start.
    #[error(transparent)]
    Driver(#[from] SchedulerError),
}

/// A scheduler driver for `framework` that finds its master at `master`: `host:port` names one
/// master, `zk://host:port[,host:port]/path` follows the leader elected in ZooKeeper (and
/// re-registers when it changes), as every example framework's `--master` flag accepts. With
/// `DEFAULT_PRINCIPAL` (and `DEFAULT_SECRET`) in the environment the driver authenticates as it.
///
/// # Errors
/// [`DriverSetupError`] for a bad address or a runtime that cannot start.
pub fn scheduler_driver(
    scheduler: impl Scheduler,
    framework: FrameworkInfo,
    master: &str,
) -> Result<SchedulerDriver, DriverSetupError> {
    let detector = mesos_zookeeper::detector(master)?;
    // As Mesos's example frameworks: authenticate when DEFAULT_PRINCIPAL (and DEFAULT_SECRET)
    // are set in the environment.
    let options = DriverOptions {
        credential: mesos::auth::Credential::from_env(),
        ..DriverOptions::default()
    };
    Ok(SchedulerDriver::with_detector(
        scheduler, framework, detector, options,
    )?)
}

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesos::scheduler::{
    DriverHandle, DriverOptions, DriverStatus, Scheduler, SchedulerDriver, SchedulerError,
};
use mesos::{
    AgentId, CommandInfo, ExecutorId, ExecutorInfo, Filters, FrameworkId, FrameworkInfo,
    MasterInfo, Offer, Resources, TaskInfo, TaskState, TaskStatus,
};

/// How each task is run.
#[derive(Debug, Clone)]
pub enum TaskKind {
    /// A command task (the agent's built-in command executor).
    Command(String),
    /// A task for a custom executor (the same executor for every task, as Mesos requires).
    Executor(Box<ExecutorInfo>),
}

/// How the run went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Tasks launched.
    pub launched: usize,
    /// Tasks that finished.
    pub finished: usize,
    /// Tasks that ended in another terminal state.
    pub failed: usize,
}

/// A scheduler that runs `total` tasks of one kind, as many per offer as fit.
pub struct TaskRunner {
    total: usize,
    kind: TaskKind,
    resources: Resources,
    progress: Arc<Mutex<Progress>>,
    executor_started: std::collections::HashSet<AgentId>,
}

impl TaskRunner {
    /// Runs `total` tasks each holding `resources`; progress is published in `progress`.
    pub fn new(
        total: usize,
        kind: TaskKind,
        resources: Resources,
        progress: Arc<Mutex<Progress>>,
    ) -> TaskRunner {
        TaskRunner {
            total,
            kind,
            resources,
            progress,
            executor_started: Default::default(),
        }
    }

    fn progress(&self) -> Progress {
        self.progress.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut Progress)) {
        if let Ok(mut progress) = self.progress.lock() {
            f(&mut progress);
        }
    }
}

impl Scheduler for TaskRunner {
    fn registered(&mut self, _driver: &DriverHandle, id: &FrameworkId, master: &MasterInfo) {
        println!(
            "Registered as {id} with master {}",
            master.pid.as_deref().unwrap_or("?")
        );
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        for offer in offers {
            let mut remaining = offer.resources.clone();
            let mut tasks = Vec::new();
            let mut launched = self.progress().launched;
            while launched < self.total {
                let mut needed = self.resources.clone();
                let task = TaskInfo::new(
                    launched.to_string(),
                    format!("task {launched}"),
                    offer.agent_id.clone(),
                    self.resources.clone(),
                );
                let task = match &self.kind {
                    TaskKind::Command(command) => {
                        task.with_command(CommandInfo::shell(command.clone()))
                    }
                    TaskKind::Executor(executor) => {
                        // The executor's own resources count once per agent, on its first task.
                        if !self.executor_started.contains(&offer.agent_id) {
                            needed += &executor.resources;
                        }
                        task.with_executor((**executor).clone())
                    }
                };
                if !remaining.contains(&needed) {
                    break;
                }
                remaining -= &needed;
                if matches!(self.kind, TaskKind::Executor(_)) {
                    self.executor_started.insert(offer.agent_id.clone());
                }
                println!("Launching task {launched} on agent {}", offer.agent_id);
                tasks.push(task);
                launched += 1;
            }
            if tasks.is_empty() {
                driver.decline_offer(offer.id, Filters::refuse(Duration::from_secs(5)));
            } else {
                let count = tasks.len();
                self.update(|p| p.launched += count);
                driver.launch_tasks(vec![offer.id], tasks, Filters::default());
            }
        }
    }

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        let state = status.state;
        if state == TaskState::Finished {
            self.update(|p| p.finished += 1);
        } else if state.is_terminal() {
            self.update(|p| p.failed += 1);
        }
        let p = self.progress();
        print!(
            "[{}/{}] task {} is {state}",
            p.finished, self.total, status.task_id
        );
        match &status.message {
            Some(message) => println!(" ({message})"),
            None => println!(),
        }
        if state.is_terminal() && state != TaskState::Finished {
            eprintln!(
                "Aborting because task {} is in unexpected state {state}",
                status.task_id
            );
            driver.abort();
        } else if p.finished == self.total {
            println!("All {} tasks finished", self.total);
            driver.stop(false);
        }
    }

    fn framework_message(
        &mut self,
        _driver: &DriverHandle,
        executor_id: &ExecutorId,
        _agent_id: &AgentId,
        data: &[u8],
    ) {
        println!(
            "Message from executor {executor_id}: {}",
            String::from_utf8_lossy(data)
        );
    }

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        eprintln!("Framework error: {message}");
    }
}

/// Where a sibling binary (`name`) of the running executable is: the same directory, or its
/// parent when that is cargo's `deps` (test binaries).
pub fn sibling_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut dir = exe.parent()?.to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let path = dir.join(name);
    path.exists().then_some(path)
}

/// Ends a framework binary: exit 0 on success, else prints `error: <why>` and exits 1.
pub fn exit_with(result: Result<(), impl std::fmt::Display>) -> ! {
    match result {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}

/// Runs an example executor's driver until the scheduler or the agent ends it, lets the agent
/// acknowledge its last status updates (bounded), then exits: 0 when it stopped, 1 when it
/// aborted or could not be made (the message names the executor, `name`).
pub fn run_executor_and_exit(
    name: &str,
    driver: Result<mesos::executor::ExecutorDriver, mesos::executor::DriverError>,
) -> ! {
    let driver = match driver {
        Ok(driver) => driver,
        Err(error) => {
            eprintln!("{name}: {error}");
            std::process::exit(1);
        }
    };
    let status = driver.run();
    // Do not lose the last updates with the process.
    driver.wait_for_acknowledgements(Duration::from_secs(5));
    std::process::exit(if status == mesos::executor::DriverStatus::Stopped {
        0
    } else {
        1
    });
}

/// Runs `total` tasks of `kind` as framework `name` in `role` (checkpointing if `checkpoint`)
/// against `master`, then exits the process: 0 when every task finished, 1 otherwise (or when
/// `master` is not a valid master address).
pub fn run_framework_and_exit(
    name: &str,
    role: &str,
    checkpoint: bool,
    master: &str,
    total: usize,
    kind: TaskKind,
    resources: Resources,
) -> ! {
    let runner = TaskRunner::new(
        total,
        kind,
        resources,
        Arc::new(Mutex::new(Progress::default())),
    );
    let framework = FrameworkInfo::new("", name)
        .with_role(role.to_string())
        .with_checkpoint(checkpoint);
    let driver = match scheduler_driver(runner, framework, master) {
        Ok(driver) => driver,
        Err(error) => {
            eprintln!("error: invalid value for '--master': {error}");
            std::process::exit(1);
        }
    };
    let status = if total == 0 {
        DriverStatus::Stopped
    } else {
        driver.run()
    };
    drop(driver);
    std::process::exit(if status == DriverStatus::Stopped {
        0
    } else {
        1
    });
}
