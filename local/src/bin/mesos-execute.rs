//! `mesos-execute --master host:port --name N --command "..." [--resources "cpus:0.1;mem:32"]`:
//! runs one command task, prints each state change, exits 0 on TASK_FINISHED and 1 otherwise.

use std::sync::{Arc, Mutex};

use mesos::scheduler::SchedulerDriver;
use mesos::TaskState;
use mesos_local::execute::{ExecuteFlags, ExecuteScheduler, Outcome};
use mesos_local::flags;

fn main() {
    flags::init_logging();
    let flags: ExecuteFlags = flags::parse_or_exit();
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let scheduler = ExecuteScheduler::new(&flags, outcome.clone());
    // `zk://...` follows the leading master through ZooKeeper; `host:port` names one.
    let detector = match mesos_zookeeper::detector(&flags.master) {
        Ok(detector) => detector,
        Err(error) => {
            eprintln!("error: invalid value for '--master': {error}");
            std::process::exit(1);
        }
    };
    let driver = match SchedulerDriver::with_detector(
        scheduler,
        ExecuteScheduler::framework(&flags),
        detector,
        mesos::scheduler::DriverOptions {
            credential: flags.credential(),
            ..Default::default()
        },
    ) {
        Ok(driver) => driver,
        Err(error) => {
            eprintln!("error: invalid value for '--master': {error}");
            std::process::exit(1);
        }
    };
    let status = driver.run();
    drop(driver);
    let state = outcome.lock().map(|o| o.state).unwrap_or(None);
    match state {
        Some(TaskState::Finished) => std::process::exit(0),
        Some(state) => {
            eprintln!("task '{}' ended in {state}", flags.name);
            std::process::exit(1);
        }
        None => {
            eprintln!("driver ended ({status}) before the task finished");
            std::process::exit(1);
        }
    }
}
