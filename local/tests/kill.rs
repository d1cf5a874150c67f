//! kill_task on a running command task: TASK_KILLED, and its resources come back.

mod util;

use mesos::{Filters, TaskId, TaskState};
use util::*;

#[test]
fn killing_a_running_task() {
    let cluster = cluster(1, "cpus:1;mem:512");
    let (driver, mut events) = driver(&cluster, framework("kill"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("sleeper", &offer, "sleep 60", "cpus:1;mem:128");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    events.state("sleeper", TaskState::Running);
    driver.kill_task(TaskId::new("sleeper"));
    let killed = events.wait("a terminal update", |e| match e {
        Event::Update(s) if s.state.is_terminal() => Some(s.clone()),
        _ => None,
    });
    assert_eq!(killed.state, TaskState::Killed, "{killed:?}");
    // The whole cpu is offered again.
    let again = events.wait("an offer with the cpu back", |e| match e {
        Event::Offers(o) => o.iter().find(|o| o.resources.cpus() == Some(1.0)).cloned(),
        _ => None,
    });
    assert_eq!(again.agent_id, killed.agent_id.unwrap());
}

#[test]
fn killing_an_unknown_task_reports_it_lost() {
    let cluster = cluster(1, "cpus:1;mem:512");
    let (driver, mut events) = driver(&cluster, framework("kill-unknown"), options());
    events.registered();
    driver.kill_task(TaskId::new("never-launched"));
    let status = events.update("never-launched");
    assert!(
        matches!(status.state, TaskState::Lost | TaskState::Unknown),
        "{status:?}"
    );
}
