//! Pieces shared by the benches that emulate agents and idle frameworks in-process (ui-bench,
//! failover-bench).

use std::time::{Duration, Instant};

use mesos::protocol::Task;
use mesos::scheduler::DriverHandle;
use mesos::{
    AgentId, CommandInfo, ExecutorId, ExecutorInfo, FrameworkId, Offer, TaskId, TaskState,
};

/// A RUNNING command task `name` of `framework_id` on `agent_id` (cpus:0.1;mem:32) with its own
/// executor (cpus:0.01;mem:8), as an agent reports them when it re-registers.
pub fn running_task(
    agent_id: &AgentId,
    framework_id: FrameworkId,
    name: String,
) -> (Task, ExecutorInfo) {
    let executor_id = ExecutorId::new(name.clone());
    let task = Task {
        name: name.clone(),
        task_id: TaskId::new(name),
        framework_id: framework_id.clone(),
        executor_id: Some(executor_id.clone()),
        agent_id: agent_id.clone(),
        state: TaskState::Running,
        resources: "cpus:0.1;mem:32".parse().unwrap_or_default(),
        statuses: Vec::new(),
        status_update_state: None,
        status_update_uuid: None,
    };
    let mut executor = ExecutorInfo::new(executor_id, CommandInfo::shell("sleep 1000"));
    executor.framework_id = Some(framework_id);
    executor.resources = "cpus:0.01;mem:8".parse().unwrap_or_default();
    (task, executor)
}

/// Declines every offer for an hour (a framework that only holds its tasks).
pub fn decline_for_an_hour(driver: &DriverHandle, offers: Vec<Offer>) {
    for offer in offers {
        driver.decline_offer(offer.id, mesos::Filters::refuse(Duration::from_secs(3600)));
    }
}

/// Polls `done` every `poll` until it holds; an error naming `what` after `limit`.
pub fn wait_for(
    what: &str,
    limit: Duration,
    poll: Duration,
    done: impl Fn() -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(poll);
    }
    Ok(())
}
