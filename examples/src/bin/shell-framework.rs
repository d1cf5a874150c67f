//! `shell-framework --master host:port --num_tasks N --command "..."`: runs N shell commands as
//! command tasks, printing progress; exits 0 when all finish.

use clap::Parser;
use mesos::Resources;
use mesos_examples::{run_framework_and_exit, TaskKind};
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
    /// Checkpoint the framework's tasks on their agents (they survive an agent restart).
    #[arg(long, env = "MESOS_CHECKPOINT", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    checkpoint: bool,
    /// Each task's resources.
    #[arg(long, env = "MESOS_RESOURCES", default_value = "cpus:0.1;mem:32", value_parser = flags::resources)]
    resources: Resources,
}

fn main() {
    flags::init_logging();
    let flags: Flags = flags::parse_or_exit();
    run_framework_and_exit(
        "Shell Framework (Rust)",
        &flags.role,
        flags.checkpoint,
        &flags.master,
        flags.num_tasks,
        TaskKind::Command(flags.command.clone()),
        flags.resources.clone(),
    );
}
