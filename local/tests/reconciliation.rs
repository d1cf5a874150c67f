//! Reconciliation: implicit (no statuses: every task the master knows) and explicit (the listed
//! tasks; an unknown one is reported as such).

mod util;

use mesos::{AgentId, Filters, Reason, TaskId, TaskState, TaskStatus};
use util::*;

#[test]
fn implicit_and_explicit_reconciliation() {
    // Agents get 1 ms to re-register after the master starts: past that an unknown agent's tasks
    // are answered for (within the window Mesos defers the answer).
    let mut config = fast_config(1, "cpus:1;mem:512");
    config.master.agent_reregister_timeout = std::time::Duration::from_millis(1);
    let cluster = mesos_local::LocalCluster::start(config).expect("cluster");
    let (driver, mut events) = driver(&cluster, framework("reconcile"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("steady", &offer, "sleep 60", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    events.state("steady", TaskState::Running);

    // Implicit: the master reports every task it knows.
    driver.reconcile_tasks(vec![]);
    let status = events.update("steady");
    assert_eq!(status.state, TaskState::Running, "{status:?}");

    // Explicit, for a known task and one the master has never heard of on a known agent.
    let known = TaskStatus::new(TaskId::new("steady"), TaskState::Staging);
    let mut unknown = TaskStatus::new(TaskId::new("phantom"), TaskState::Running);
    unknown.agent_id = Some(offer.agent_id.clone());
    driver.reconcile_tasks(vec![known, unknown]);
    let status = events.update("steady");
    assert_eq!(status.state, TaskState::Running, "{status:?}");
    let status = events.update("phantom");
    assert_eq!(status.state, TaskState::Lost, "{status:?}");
    // On an agent the master does not know at all.
    let mut elsewhere = TaskStatus::new(TaskId::new("nowhere"), TaskState::Running);
    elsewhere.agent_id = Some(AgentId::new("no-such-agent"));
    driver.reconcile_tasks(vec![elsewhere]);
    let status = events.update("nowhere");
    assert_eq!(status.state, TaskState::Lost, "{status:?}");
    assert_eq!(status.reason, Some(Reason::Reconciliation), "{status:?}");
    // Master-generated answers carry no uuid: nothing to acknowledge.
    assert_eq!(status.uuid, None, "{status:?}");
}
