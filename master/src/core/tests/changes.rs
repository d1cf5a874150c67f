//! The change log behind the operator API's SUBSCRIBE: every change, in the order the core
//! made it, and nothing while nobody observes.

use super::*;

fn kinds(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| match c {
            Change::TaskAdded(t) => format!("task_added {}", t.task_id),
            Change::TaskUpdated { state, status, .. } => {
                format!("task_updated {} {}", status.task_id, state.as_str())
            }
            Change::FrameworkAdded(id) => format!("framework_added {id}"),
            Change::FrameworkUpdated(id) => format!("framework_updated {id}"),
            Change::FrameworkRemoved(info) => {
                format!("framework_removed {}", info.id.as_ref().unwrap())
            }
            Change::AgentAdded(id) => format!("agent_added {id}"),
            Change::AgentRemoved(id) => format!("agent_removed {id}"),
        })
        .collect()
}

#[test]
fn nothing_is_recorded_until_someone_observes() {
    let (mut h, fw, agent, offer) = offered();
    h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![command_task("t1", &agent, "cpus:1;mem:64")],
    );
    assert!(!h.core.observing_changes());
    assert!(h.core.drain_changes().is_empty());
}

#[test]
fn every_change_is_recorded_in_order() {
    let mut h = Harness::new();
    h.core.observe_changes(true);
    let fw = h.framework(SCHED, fw_info("f"));
    let agent = h.agent(AGENT, "cpus:4;mem:1024");
    let offers = h.allocate(SCHED);
    h.launch(
        SCHED,
        &fw,
        &[&offers[0]],
        vec![
            command_task("t1", &agent, "cpus:1;mem:64"),
            command_task("t2", &agent, "cpus:1;mem:64"),
        ],
    );
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 1);
    // A retry of the same state is no change.
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 2);
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Finished, 3);
    assert_eq!(
        kinds(&h.core.drain_changes()),
        [
            format!("framework_added {fw}"),
            format!("agent_added {agent}"),
            "task_added t1".to_string(),
            "task_added t2".to_string(),
            "task_updated t1 TASK_RUNNING".to_string(),
            "task_updated t1 TASK_FINISHED".to_string(),
        ]
    );
    // Drained: nothing twice.
    assert!(h.core.drain_changes().is_empty());
    // The scheduler leaves: its framework is updated (disconnected), then removed with its
    // task killed; then the agent goes.
    h.core.exited(h.now, &upid(SCHED));
    assert!(h.core.teardown(h.now, &fw));
    h.core.unregister_agent(
        h.now,
        &upid(AGENT),
        UnregisterSlaveMessage {
            agent_id: agent.clone(),
        },
    );
    assert_eq!(
        kinds(&h.core.drain_changes()),
        [
            format!("framework_updated {fw}"),
            "task_updated t2 TASK_KILLED".to_string(),
            format!("framework_removed {fw}"),
            format!("agent_removed {agent}"),
        ]
    );
    h.core.observe_changes(false);
    h.agent(AGENT2, "cpus:1;mem:64");
    assert!(h.core.drain_changes().is_empty());
}

#[test]
fn a_removed_agent_reports_its_tasks_then_itself() {
    let (mut h, _fw, agent) = launched(partition_aware());
    h.core.observe_changes(true);
    h.core.unregister_agent(
        h.now,
        &upid(AGENT),
        UnregisterSlaveMessage {
            agent_id: agent.clone(),
        },
    );
    let changes = h.core.drain_changes();
    assert_eq!(
        kinds(&changes),
        [
            "task_updated t1 TASK_GONE".to_string(),
            format!("agent_removed {agent}")
        ]
    );
    let Change::TaskUpdated { status, .. } = &changes[0] else {
        unreachable!()
    };
    assert_eq!(status.agent_id.as_ref(), Some(&agent));
}
