//! Reliable status updates: in order per task, resent until acknowledged, then the next one.

mod util;

use std::time::Duration;

use mesos::*;
use util::*;

fn is_update_of(got: &Got, task: &str, state: TaskState) -> bool {
    matches!(got, Got::Update(m) if m.update.status.task_id.as_str() == task && m.update.status.state == state)
}

#[test]
fn an_unacknowledged_update_is_resent_with_backoff_and_the_next_waits_for_its_ack() {
    let mut cluster = Cluster::start("resend", false, true, |config| {
        config.status_update_retry_interval_min = Duration::from_secs(10);
    });
    cluster.expect_register();
    cluster.run_task(command_task("slow-ack", "sleep 1000"));
    let starting = cluster.next_update("slow-ack");
    assert_eq!(starting.status.state, TaskState::Starting);
    // RUNNING is held back until STARTING is acknowledged: updates of a task go out in order.
    assert!(
        cluster.none_within(Duration::from_millis(500), |g| is_update_of(
            g,
            "slow-ack",
            TaskState::Running
        ))
    );
    // Not before the retry interval ...
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(9));
    cluster.agent_runtime.settle();
    assert!(
        cluster.none_within(Duration::from_millis(200), |g| is_update_of(
            g,
            "slow-ack",
            TaskState::Starting
        ))
    );
    // ... then resent, the same update (same uuid) ...
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(1));
    let resent = cluster.next_update("slow-ack");
    assert_eq!(resent.uuid, starting.uuid);
    // ... and again after twice the wait (20 s), not before.
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(19));
    cluster.agent_runtime.settle();
    assert!(
        cluster.none_within(Duration::from_millis(200), |g| is_update_of(
            g,
            "slow-ack",
            TaskState::Starting
        ))
    );
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(1));
    assert_eq!(cluster.next_update("slow-ack").uuid, starting.uuid);

    // The acknowledgement releases RUNNING and stops the resends of STARTING.
    cluster.ack(&starting);
    let running = cluster.next_update("slow-ack");
    assert_eq!(running.status.state, TaskState::Running);
    cluster.ack(&running);
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(3600));
    cluster.agent_runtime.settle();
    assert!(cluster.none_within(Duration::from_millis(300), |g| matches!(g, Got::Update(_))));
}

#[test]
fn a_duplicate_or_stale_acknowledgement_changes_nothing() {
    let mut cluster = Cluster::start("stale-ack", false, true, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("t", "sleep 1000"));
    let starting = cluster.next_update("t");
    cluster.ack(&starting);
    let running = cluster.next_update("t");
    assert_eq!(running.status.state, TaskState::Running);
    // Acknowledging STARTING again does not count as acknowledging RUNNING.
    cluster.ack(&starting);
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(10));
    let resent = cluster.next_update("t");
    assert_eq!(resent.uuid, running.uuid);
}
