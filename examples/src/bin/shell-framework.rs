//! `shell-framework --master host:port --num_tasks N --command "..."`: runs N shell commands as
//! command tasks, printing progress; exits 0 when all finish.

use std::sync::{Arc, Mutex};

use clap::Parser;
use mesos::scheduler::{DriverStatus, SchedulerDriver};
use mesos::{FrameworkInfo, Resources};
use mesos_examples::{Progress, TaskKind, TaskRunner};
use mesos_local::flags;

/// Flags of the shell framework.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "shell-framework",
    about = "Runs N shell commands as Mesos command tasks."
)]
struct Flags {
    /// The master, as host:port.
    #[arg(long, env = "MESOS_MASTER")]
    master: String,
    /// How many tasks to run.
    #[arg(long, env = "MESOS_NUM_TASKS", default_value_t = 5)]
    num_tasks: usize,
    /// The shell command each task runs.
    #[arg(
        long,
        env = "MESOS_COMMAND",
        default_value = "echo hello from $MESOS_TASK_ID"
    )]
    command: String,
    /// The framework's role.
    #[arg(long, env = "MESOS_ROLE", default_value = "*")]
    role: String,
    /// Each task's resources.
    #[arg(long, env = "MESOS_RESOURCES", default_value = "cpus:0.1;mem:32", value_parser = flags::resources)]
    resources: Resources,
}

fn main() {
    flags::init_logging();
    let flags: Flags = flags::parse_or_exit();
    let progress = Arc::new(Mutex::new(Progress::default()));
    let runner = TaskRunner::new(
        flags.num_tasks,
        TaskKind::Command(flags.command.clone()),
        flags.resources.clone(),
        progress.clone(),
    );
    let driver = match SchedulerDriver::new(
        runner,
        FrameworkInfo::new("", "Shell Framework (Rust)").with_role(flags.role.clone()),
        &flags.master,
    ) {
        Ok(driver) => driver,
        Err(error) => {
            eprintln!("error: invalid value for '--master': {error}");
            std::process::exit(1);
        }
    };
    let status = if flags.num_tasks == 0 {
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
