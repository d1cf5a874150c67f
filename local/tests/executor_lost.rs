//! A custom executor that exits before registering: its task ends (FAILED or LOST, with a reason)
//! and the scheduler hears executor_lost with the exit status.

mod util;

use mesos::{CommandInfo, ExecutorInfo, Filters, TaskInfo};
use util::*;

#[test]
fn a_crashing_executor_is_reported_lost() {
    let cluster = cluster(1, "cpus:1;mem:512");
    let (driver, mut events) = driver(&cluster, framework("crash"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let executor = ExecutorInfo::new("crasher", CommandInfo::shell("exit 5"))
        .with_resources("cpus:0.1;mem:32".parse().unwrap());
    let task = TaskInfo::new(
        "victim",
        "victim",
        offer.agent_id.clone(),
        "cpus:0.1;mem:32".parse().unwrap(),
    )
    .with_executor(executor);
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());

    let mut status = None;
    let mut lost = None;
    while status.is_none() || lost.is_none() {
        events.wait("the task's end and executor_lost", |e| match e {
            Event::Update(s) if s.task_id.as_str() == "victim" && s.state.is_terminal() => {
                status = Some(s.clone());
                Some(())
            }
            Event::ExecutorLost(id, code) => {
                lost = Some((id.clone(), *code));
                Some(())
            }
            _ => None,
        });
    }
    let status = status.unwrap();
    assert!(
        matches!(
            status.state,
            mesos::TaskState::Failed | mesos::TaskState::Lost
        ),
        "{status:?}"
    );
    assert!(status.reason.is_some(), "{status:?}");
    let (id, code) = lost.unwrap();
    assert_eq!(id.as_str(), "crasher");
    assert_ne!(code, 0);
}
