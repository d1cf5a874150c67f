//! Status update reliability: with explicit acknowledgements an update the scheduler does not
//! acknowledge is sent again (same uuid); once acknowledged, the next update flows.

mod util;

use mesos::{Filters, TaskState};
use util::*;

#[test]
fn an_unacknowledged_update_is_resent() {
    let cluster = cluster(1, "cpus:1;mem:512");
    let (driver, mut events) = driver(
        &cluster,
        framework("acks"),
        options().explicit_acknowledgements(),
    );
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("echo", &offer, "echo once", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());

    // The first update (STARTING or RUNNING) is not acknowledged ...
    let first = events.update("echo");
    assert!(first.uuid.is_some(), "{first:?}");
    // ... so the agent sends it again, with the same uuid, before anything later.
    let again = events.update("echo");
    assert_eq!(again.state, first.state, "{again:?}");
    assert_eq!(again.uuid, first.uuid);

    // Acknowledge it: the stream moves on to the terminal update.
    driver.acknowledge_status_update(again);
    let finished = events.wait("a later update", |e| match e {
        Event::Update(s) if s.task_id.as_str() == "echo" && s.uuid != first.uuid => Some(s.clone()),
        _ => None,
    });
    // The exact next state, not just "not STAGING" (which the driver refuses anyway): the command
    // executor reports STARTING, RUNNING, then FINISHED (`echo` exits 0).
    let next = match first.state {
        TaskState::Starting => TaskState::Running,
        TaskState::Running => TaskState::Finished,
        other => panic!("the first update is STARTING or RUNNING, not {other}"),
    };
    assert_eq!(finished.state, next, "{finished:?}");
    driver.acknowledge_status_update(finished);
}
