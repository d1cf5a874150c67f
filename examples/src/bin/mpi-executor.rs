//! `mpi-executor`: the custom executor of `mpi-framework`; runs one rank (see
//! `mesos_examples::gang::executor`). Started by the agent, configured by its environment.

use mesos::executor::ExecutorDriver;
use mesos_examples::gang::executor::RankExecutor;

fn main() {
    mesos_local::flags::init_logging();
    mesos_examples::run_executor_and_exit("mpi-executor", ExecutorDriver::new(RankExecutor::new()))
}
