//! Register → offer → launch a real command → RUNNING → FINISHED, over loopback TCP with a real
//! executor process; a failing command → FAILED with its exit code.

mod util;

use mesos::{Filters, TaskState};
use util::*;

#[test]
fn a_command_runs_to_finished() {
    let cluster = cluster(1, "cpus:2;mem:1024");
    let (driver, mut events) = driver(&cluster, framework("launch"), options());
    events.registered();
    let offer = events.offers().remove(0);
    assert!(offer.resources.cpus().unwrap_or(0.0) >= 2.0, "{offer:?}");
    let task = command_task("echo", &offer, "echo hello", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id.clone()], vec![task], Filters::default());
    events.state("echo", TaskState::Running);
    let finished = events.state("echo", TaskState::Finished);
    assert_eq!(finished.agent_id.as_ref(), Some(&offer.agent_id));
    // The master knows the task finished.
    let state = cluster.master().expect("master").state();
    let text = state.to_string();
    assert!(text.contains("TASK_FINISHED"), "{text}");
}

#[test]
fn a_failing_command_is_failed_with_its_exit_code() {
    let cluster = cluster(1, "cpus:2;mem:1024");
    let (driver, mut events) = driver(&cluster, framework("fail"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("fails", &offer, "exit 3", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    let failed = events.wait("a terminal update", |e| match e {
        Event::Update(s) if s.state.is_terminal() => Some(s.clone()),
        _ => None,
    });
    assert_eq!(failed.state, TaskState::Failed);
    let message = failed.message.unwrap_or_default();
    assert!(
        message.contains('3'),
        "message should carry the exit code: {message}"
    );
}
