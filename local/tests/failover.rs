//! Scheduler failover: a new scheduler with the same FrameworkID within failover_timeout takes the
//! framework over (the old one hears "Framework failed over") and the tasks keep running; once the
//! failover timeout expires without a scheduler, the tasks are killed and the framework removed.

mod util;

use std::time::Duration;

use mesos::{Filters, TaskState, TaskStatus};
use util::*;

#[test]
fn a_new_scheduler_keeps_the_tasks() {
    let cluster = cluster(1, "cpus:1;mem:512");
    let info = framework("failover").with_failover_timeout(Duration::from_secs(60));
    let (old, mut old_events) = driver(&cluster, info.clone(), options());
    let id = old_events.registered();
    let offer = old_events.offers().remove(0);
    let task = command_task("survivor", &offer, "sleep 60", "cpus:0.5;mem:64");
    old.launch_tasks(vec![offer.id], vec![task], Filters::default());
    old_events.state("survivor", TaskState::Running);

    // A second instance with the same id takes over.
    let mut info = info;
    info.id = Some(id.clone());
    let (new, mut new_events) = driver(&cluster, info, options());
    assert_eq!(new_events.registered(), id);
    let error = old_events.wait("the failover error", |e| match e {
        Event::Error(m) => Some(m.clone()),
        _ => None,
    });
    assert!(error.contains("failed over"), "{error}");

    // The task is still running, and now reported to the new scheduler.
    new.reconcile_tasks(vec![TaskStatus::new(
        mesos::TaskId::new("survivor"),
        TaskState::Running,
    )]);
    let status = new_events.update("survivor");
    assert_eq!(status.state, TaskState::Running, "{status:?}");
}

#[test]
fn failover_timeout_expiry_kills_the_tasks() {
    let cluster = cluster(1, "cpus:1;mem:512");
    let info = framework("expiring").with_failover_timeout(Duration::from_millis(300));
    let (driver, mut events) = driver(&cluster, info, options());
    let id = events.registered();
    let offer = events.offers().remove(0);
    let pid_file = cluster.work_dir().join("orphan.pid");
    let command = format!("echo $$ > {}; exec sleep 60", pid_file.display());
    let task = command_task("orphan", &offer, &command, "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    events.state("orphan", TaskState::Running);
    let read_pid = || {
        std::fs::read_to_string(&pid_file)
            .ok()?
            .trim()
            .parse::<u32>()
            .ok()
    };
    let task_pid = process::testing::wait_for("the task's pid", Duration::from_secs(10), read_pid);
    assert!(std::path::Path::new(&format!("/proc/{task_pid}")).exists());
    // Leave without tearing down: the master keeps the framework for 300 ms.
    driver.stop(true);
    drop(driver);

    // A second framework watches the cpu come back once the orphan is killed.
    // (It hands back partial offers at once, so the freed half can merge with the rest.)
    let (watcher, mut watcher_events) = util::driver(&cluster, framework("watcher"), options());
    watcher_events.registered();
    watcher_events.wait("an offer with the whole cpu", |e| match e {
        Event::Offers(offers) => {
            let whole = offers
                .iter()
                .find(|o| o.resources.cpus() == Some(1.0))
                .cloned();
            if whole.is_none() {
                for offer in offers {
                    watcher.decline_offer(offer.id.clone(), no_filter());
                }
            }
            whole
        }
        _ => None,
    });
    let state = cluster.master().expect("master").state();
    let active: Vec<String> = state["frameworks"]
        .as_array()
        .map(|fs| fs.iter().map(|f| f["id"].to_string()).collect())
        .unwrap_or_default();
    assert!(
        !active.iter().any(|f| f.contains(id.as_str())),
        "framework {id} should be gone: {active:?}"
    );
    // The task's process itself was killed, not just its resources released.
    process::testing::wait_until(
        &format!("task process {task_pid} to be killed after the failover timeout"),
        Duration::from_secs(10),
        || !std::path::Path::new(&format!("/proc/{task_pid}")).exists(),
    );
}
