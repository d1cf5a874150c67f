//! `mesos-executor`: the built-in command executor the agent starts for command tasks.

use agent::CommandExecutor;
use mesos::executor::{DriverStatus, ExecutorDriver};

fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let driver = match ExecutorDriver::new(CommandExecutor::new()) {
        Ok(driver) => driver,
        Err(err) => {
            eprintln!("mesos-executor: {err}");
            std::process::exit(1);
        }
    };
    let status = driver.run();
    std::process::exit(if status == DriverStatus::Stopped {
        0
    } else {
        1
    });
}
