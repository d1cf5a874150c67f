//! The master restarts on the same address: the agent re-registers with its running task, the
//! framework re-registers, and the task is still known (the new master has only soft state).

mod util;

use mesos::{Filters, TaskState};
use util::*;

#[test]
fn agents_and_frameworks_reregister_with_a_new_master() {
    let mut cluster = cluster(1, "cpus:1;mem:512");
    let (driver, mut events) = driver(
        &cluster,
        framework("restart").with_failover_timeout(std::time::Duration::from_secs(60)),
        options(),
    );
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("long", &offer, "sleep 60", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    events.state("long", TaskState::Running);

    cluster.restart_master().expect("master restarts");
    events.wait("disconnected", |e| {
        matches!(e, Event::Disconnected).then_some(())
    });
    events.wait("reregistered", |e| {
        matches!(e, Event::Reregistered).then_some(())
    });

    // The agent re-registers with the task; reconciliation then reports it running.
    let status = events.wait("the task reported running", |e| {
        if matches!(e, Event::Offers(_) | Event::Reregistered) {
            driver.reconcile_tasks(vec![]);
        }
        match e {
            Event::Update(s) if s.task_id.as_str() == "long" => Some(s.clone()),
            _ => None,
        }
    });
    assert_eq!(status.state, TaskState::Running, "{status:?}");
    let state = cluster.master().expect("master").state();
    assert!(state.to_string().contains("\"long\""), "{state}");
}
