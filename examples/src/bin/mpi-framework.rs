//! `mpi-framework --master=host:port [--ranks=4] [--jobs=1] ...`: runs MPI-like gang-scheduled
//! jobs (see `mesos_examples::gang`) and prints one line per job:
//! `job=mpi name=<name> job_index=<i> ranks=<n> attempts=<n> job_s=<x.xxx> result_ok=<bool>
//! releases=<n>` (`releases`: gang timeouts during the job that gave back held offers).
//! Exits 0 iff every job succeeded with a correct result; 1 with a message naming the flag on
//! bad flags.

use mesos_examples::gang::cli::{FlagError, MpiFlags};
use mesos_examples::gang::scheduler::run_gang_framework;
use mesos_examples::sibling_binary;
use mesos_local::flags;

fn main() {
    flags::init_logging();
    let flags: MpiFlags = flags::parse_or_exit();
    if let Err(error) = flags.validate() {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
    let Some(executor) = flags
        .executor
        .clone()
        .or_else(|| sibling_binary("mpi-executor"))
    else {
        eprintln!("error: {}", FlagError::NoExecutor);
        std::process::exit(1);
    };
    let config = flags.to_config(&executor);
    match run_gang_framework(config, &flags.master, &flags.role, flags.checkpoint) {
        Ok(reports) => {
            let ok = reports.len() == flags.jobs && reports.iter().all(|r| r.result_ok);
            std::process::exit(if ok { 0 } else { 1 });
        }
        Err(mesos_examples::gang::scheduler::GangError::Driver(error)) => {
            eprintln!("error: invalid value for '--master': {error}");
            std::process::exit(1);
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}
