//! A framework with Mesos's default role `*` (what `FrameworkInfo::new` gives) registers and runs a
//! task on unreserved resources, as in Mesos.

mod util;

use mesos::{FrameworkInfo, TaskState};
use util::*;

#[test]
fn the_default_role_gets_offers() {
    let cluster = cluster(1, "cpus:1;mem:512");
    let (driver, mut events) = driver(&cluster, FrameworkInfo::new("", "default-role"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("star", &offer, "true", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![task], no_filter());
    events.state("star", TaskState::Finished);
}
