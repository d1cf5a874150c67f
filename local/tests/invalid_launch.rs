//! Each validation rule of a launch: the documented state and a reason that says what is wrong.

mod util;

use mesos::{CommandInfo, ExecutorInfo, FrameworkCapability, OfferId, Reason, TaskInfo, TaskState};
use util::*;

fn terminal(events: &mut Events, task: &str) -> mesos::TaskStatus {
    events.wait(&format!("a terminal update for {task}"), |e| match e {
        Event::Update(s) if s.task_id.as_str() == task && s.state.is_terminal() => Some(s.clone()),
        _ => None,
    })
}

#[test]
fn unknown_and_used_offers_are_lost_or_dropped() {
    let cluster = cluster(1, "cpus:2;mem:1024");
    let (driver, mut events) = driver(&cluster, framework("offers"), options());
    events.registered();
    let offer = events.offers().remove(0);
    // An offer the master never made.
    let mut ghost = command_task("ghost", &offer, "true", "cpus:0.1;mem:32");
    ghost.task_id = mesos::TaskId::new("ghost");
    driver.launch_tasks(
        vec![OfferId::new("no-such-offer")],
        vec![ghost],
        no_filter(),
    );
    let status = terminal(&mut events, "ghost");
    assert_eq!(status.state, TaskState::Lost, "{status:?}");
    assert_eq!(status.reason, Some(Reason::InvalidOffers), "{status:?}");

    // An offer used twice: the second launch is refused.
    let first = command_task("first", &offer, "sleep 30", "cpus:0.1;mem:32");
    let second = command_task("second", &offer, "true", "cpus:0.1;mem:32");
    driver.launch_tasks(vec![offer.id.clone()], vec![first], no_filter());
    driver.launch_tasks(vec![offer.id.clone()], vec![second], no_filter());
    let status = terminal(&mut events, "second");
    assert_eq!(status.state, TaskState::Lost, "{status:?}");
    assert_eq!(status.reason, Some(Reason::InvalidOffers), "{status:?}");

    // Partition-aware frameworks hear TASK_DROPPED instead.
    let aware = framework("aware").with_capability(FrameworkCapability::PartitionAware);
    let (driver, mut events) = util::driver(&cluster, aware, options());
    events.registered();
    // The first framework may hold every resource in outstanding offers, so this one names the
    // agent of the first offer rather than waiting for one of its own.
    let task = command_task("dropped", &offer, "true", "cpus:0.1;mem:32");
    driver.launch_tasks(vec![OfferId::new("no-such-offer")], vec![task], no_filter());
    let status = terminal(&mut events, "dropped");
    assert_eq!(status.state, TaskState::Dropped, "{status:?}");
}

#[test]
fn bad_tasks_are_task_error_with_a_message() {
    let cluster = cluster(1, "cpus:2;mem:1024");
    let (driver, mut events) = driver(&cluster, framework("validation"), options());
    events.registered();

    // Resources not contained in the offer.
    let offer = events.offers().remove(0);
    let greedy = command_task("greedy", &offer, "true", "cpus:64;mem:32");
    driver.launch_tasks(vec![offer.id], vec![greedy], no_filter());
    let status = terminal(&mut events, "greedy");
    assert_eq!(status.state, TaskState::Error, "{status:?}");
    assert!(status.message.is_some(), "{status:?}");

    // Neither command nor executor.
    let offer = events.offers().remove(0);
    let empty = TaskInfo::new(
        "empty",
        "empty",
        offer.agent_id.clone(),
        "cpus:0.1;mem:32".parse().unwrap(),
    );
    driver.launch_tasks(vec![offer.id], vec![empty], no_filter());
    let status = terminal(&mut events, "empty");
    assert_eq!(status.state, TaskState::Error, "{status:?}");
    assert!(status.message.is_some(), "{status:?}");

    // A duplicate task id (within one launch).
    let offer = events.offers().remove(0);
    let one = command_task("twin", &offer, "sleep 30", "cpus:0.1;mem:32");
    let two = command_task("twin", &offer, "sleep 30", "cpus:0.1;mem:32");
    driver.launch_tasks(vec![offer.id], vec![one, two], no_filter());
    let status = events.wait("TASK_ERROR for the duplicate", |e| match e {
        Event::Update(s) if s.task_id.as_str() == "twin" && s.state == TaskState::Error => {
            Some(s.clone())
        }
        _ => None,
    });
    assert!(status
        .message
        .unwrap_or_default()
        .to_lowercase()
        .contains("dup"));

    // The same executor id with different resources.
    let offer = events.offers().remove(0);
    let executor = |cpus: &str| {
        ExecutorInfo::new("exec", CommandInfo::shell("sleep 30"))
            .with_resources(format!("cpus:{cpus};mem:32").parse().unwrap())
    };
    let a = TaskInfo::new(
        "exec-a",
        "a",
        offer.agent_id.clone(),
        "cpus:0.1;mem:32".parse().unwrap(),
    )
    .with_executor(executor("0.1"));
    let b = TaskInfo::new(
        "exec-b",
        "b",
        offer.agent_id.clone(),
        "cpus:0.1;mem:32".parse().unwrap(),
    )
    .with_executor(executor("0.2"));
    driver.launch_tasks(vec![offer.id], vec![a, b], no_filter());
    let status = terminal(&mut events, "exec-b");
    assert_eq!(status.state, TaskState::Error, "{status:?}");
    assert!(status.message.is_some(), "{status:?}");
}
