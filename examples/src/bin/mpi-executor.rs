//! `mpi-executor`: the custom executor of `mpi-framework`; runs one rank (see
//! `mesos_examples::gang::executor`). Started by the agent, configured by its environment.

use mesos::executor::{DriverStatus, ExecutorDriver};
use mesos_examples::gang::executor::RankExecutor;

fn main() {
    mesos_local::flags::init_logging();
    let driver = match ExecutorDriver::new(RankExecutor::new()) {
        Ok(driver) => driver,
        Err(error) => {
            eprintln!("mpi-executor: {error}");
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
