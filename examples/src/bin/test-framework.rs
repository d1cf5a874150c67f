//! `test-framework --master host:port [--num_tasks 5]`: as Mesos's test-framework, runs N tasks with
//! the custom Rust executor `test-executor`; exits 0 when all finish.

use std::path::PathBuf;

use clap::Parser;
use mesos::{CommandInfo, ExecutorInfo, Resources};
use mesos_examples::{run_framework_and_exit, sibling_binary, TaskKind};
use mesos_local::flags;

/// Flags of the test framework.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "test-framework",
    about = "Runs N tasks with a custom Rust executor."
)]
struct Flags {
    /// The master, as host:port.
    #[arg(long, env = "MESOS_MASTER")]
    master: String,
    /// How many tasks to run.
    #[arg(long, env = "MESOS_NUM_TASKS", default_value_t = 5)]
    num_tasks: usize,
    /// The executor binary (default: `test-executor` next to this binary).
    #[arg(long, env = "MESOS_EXECUTOR")]
    executor: Option<PathBuf>,
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
    let Some(executor_path) = flags
        .executor
        .clone()
        .or_else(|| sibling_binary("test-executor"))
    else {
        eprintln!("error: no test-executor next to this binary; pass '--executor <path>'");
        std::process::exit(1);
    };
    let executor = ExecutorInfo::new(
        "default",
        CommandInfo::argv(executor_path.display().to_string(), Vec::<String>::new()),
    )
    .with_resources("cpus:0.1;mem:32".parse().expect("a valid literal"));
    let executor = ExecutorInfo {
        name: Some("Test Executor (Rust)".into()),
        ..executor
    };
    run_framework_and_exit(
        "Test Framework (Rust)",
        &flags.role,
        flags.checkpoint,
        &flags.master,
        flags.num_tasks,
        TaskKind::Executor(Box::new(executor)),
        flags.resources.clone(),
    );
}
