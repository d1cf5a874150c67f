//! Framework lifecycle: failover, failover timeout, teardown, suppress and revive.

use std::time::Duration;

use mesos::protocol::*;
use mesos::*;

use super::*;
use crate::outputs::Outgoing;

#[test]
fn scheduler_failover_moves_the_framework_to_the_new_pid() {
    let (mut h, fw, agent, offer) = offered();
    h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![command_task("t1", &agent, "cpus:1")],
    );
    h.core.revive_offers(
        h.now,
        &ep(SCHED),
        ReviveOffersMessage {
            framework_id: fw.clone(),
            roles: vec![],
        },
    );
    assert_eq!(h.allocate(SCHED).len(), 1);
    let mut info = fw_info("f");
    info.id = Some(fw.clone());
    h.core.reregister_framework(
        h.now,
        &upid(SCHED2),
        ReregisterFrameworkMessage {
            framework: info,
            failover: true,
            suppressed_roles: vec![],
        },
    );
    let out = h.out();
    assert_eq!(
        sends(&out, SCHED),
        vec![Outgoing::FrameworkError(FrameworkErrorMessage {
            message: "Framework failed over".into()
        })]
    );
    assert!(
        matches!(&sends(&out, SCHED2)[0], Outgoing::FrameworkRegistered(m) if m.framework_id == fw)
    );
    assert_eq!(
        sends(&out, AGENT),
        vec![Outgoing::UpdateFramework(UpdateFrameworkMessage {
            framework_id: fw.clone(),
            pid: SCHED2.into()
        })]
    );
    assert!(
        h.core.offers().is_empty(),
        "the old instance's offers are gone"
    );
    assert_eq!(h.core.frameworks()[&fw].pid(), Some(&upid(SCHED2)));
    assert_eq!(
        h.core.frameworks()[&fw].tasks.len(),
        1,
        "tasks keep running"
    );
    // The old pid can no longer act for the framework; the new one gets the resources.
    h.core.kill_task(
        h.now,
        &ep(SCHED),
        KillTaskMessage {
            framework_id: fw.clone(),
            task_id: TaskId::new("t1"),
        },
    );
    assert!(h.out().is_empty());
    assert_eq!(
        offers_in(&h.advance(Duration::from_secs(1)), SCHED2).len(),
        1
    );
}

#[test]
fn failover_timeout_expiry_tears_the_framework_down() {
    let mut h = Harness::new();
    let fw = h.framework(
        SCHED,
        fw_info("f").with_failover_timeout(Duration::from_secs(60)),
    );
    let agent = h.agent(AGENT, "cpus:4;mem:1024");
    let offers = h.allocate(SCHED);
    h.launch(
        SCHED,
        &fw,
        &[&offers[0]],
        vec![command_task("t1", &agent, "cpus:1")],
    );
    h.core.exited(h.now, &upid(SCHED));
    assert!(h.out().is_empty());
    assert!(!h.core.frameworks()[&fw].connected);
    // Still running just before the timeout.
    let out = h.advance(Duration::from_secs(59));
    assert!(sends(&out, AGENT)
        .iter()
        .all(|m| matches!(m, Outgoing::PingSlave(_))));
    // Re-registration within the timeout keeps everything; a second disconnect restarts it.
    let out = h.advance(Duration::from_secs(1));
    assert!(
        sends(&out, AGENT).contains(&Outgoing::ShutdownFramework(ShutdownFrameworkMessage {
            framework_id: fw.clone()
        }))
    );
    assert!(!h.core.frameworks().contains_key(&fw));
    let completed = &h.core.completed_frameworks()[0];
    assert_eq!(completed.completed_tasks[0].state, TaskState::Killed);
    assert_eq!(
        completed.completed_tasks[0].statuses[0].reason,
        Some(Reason::FrameworkRemoved)
    );
    // It cannot come back.
    let mut info = fw_info("f");
    info.id = Some(fw.clone());
    h.core.reregister_framework(
        h.now,
        &upid(SCHED),
        ReregisterFrameworkMessage {
            framework: info,
            failover: false,
            suppressed_roles: vec![],
        },
    );
    assert_eq!(
        sends(&h.out(), SCHED),
        vec![Outgoing::FrameworkError(FrameworkErrorMessage {
            message: format!("Framework {fw} has been removed")
        })]
    );
}

#[test]
fn reregistering_within_the_failover_timeout_keeps_the_tasks() {
    let mut h = Harness::new();
    let fw = h.framework(
        SCHED,
        fw_info("f").with_failover_timeout(Duration::from_secs(60)),
    );
    let agent = h.agent(AGENT, "cpus:4;mem:1024");
    let offers = h.allocate(SCHED);
    h.launch(
        SCHED,
        &fw,
        &[&offers[0]],
        vec![command_task("t1", &agent, "cpus:1")],
    );
    h.core.exited(h.now, &upid(SCHED));
    h.advance(Duration::from_secs(30));
    let mut info = fw_info("f");
    info.id = Some(fw.clone());
    h.core.reregister_framework(
        h.now,
        &upid(SCHED),
        ReregisterFrameworkMessage {
            framework: info,
            failover: false,
            suppressed_roles: vec![],
        },
    );
    assert!(matches!(
        &sends(&h.out(), SCHED)[0],
        Outgoing::FrameworkReregistered(_)
    ));
    let out = h.advance(Duration::from_secs(60));
    assert!(!sends(&out, AGENT)
        .iter()
        .any(|m| matches!(m, Outgoing::ShutdownFramework(_))));
    assert_eq!(h.core.frameworks()[&fw].tasks.len(), 1);
}

#[test]
fn teardown_and_zero_failover_timeout() {
    let (mut h, fw, agent, offer) = offered();
    h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![command_task("t1", &agent, "cpus:1")],
    );
    h.core.unregister_framework(
        h.now,
        &ep(SCHED),
        UnregisterFrameworkMessage {
            framework_id: fw.clone(),
        },
    );
    assert_eq!(
        sends(&h.out(), AGENT),
        vec![Outgoing::ShutdownFramework(ShutdownFrameworkMessage {
            framework_id: fw.clone()
        })]
    );
    assert!(h.core.frameworks().is_empty());
    // Default failover_timeout 0: a disconnect tears down at the next tick.
    let fw2 = h.framework(SCHED2, fw_info("g"));
    h.core.exited(h.now, &upid(SCHED2));
    h.core.tick(h.now);
    assert!(!h.core.frameworks().contains_key(&fw2));
    // DeactivateFramework behaves like a disconnect.
    let fw3 = h.framework(
        SCHED,
        fw_info("h").with_failover_timeout(Duration::from_secs(5)),
    );
    h.core.deactivate_framework(
        h.now,
        &ep(SCHED),
        DeactivateFrameworkMessage {
            framework_id: fw3.clone(),
        },
    );
    assert!(!h.core.frameworks()[&fw3].active);
    h.advance(Duration::from_secs(5));
    assert!(!h.core.frameworks().contains_key(&fw3));
}

#[test]
fn suppressed_frameworks_get_no_offers_until_revived() {
    let mut h = Harness::new();
    let fw = h.framework(SCHED, fw_info("f"));
    h.core.suppress_offers(
        h.now,
        &ep(SCHED),
        SuppressOffersMessage {
            framework_id: fw.clone(),
            roles: vec![],
        },
    );
    h.agent(AGENT, "cpus:1;mem:64");
    assert!(h.allocate(SCHED).is_empty());
    assert!(offers_in(&h.advance(Duration::from_secs(5)), SCHED).is_empty());
    h.core.revive_offers(
        h.now,
        &ep(SCHED),
        ReviveOffersMessage {
            framework_id: fw,
            roles: vec![],
        },
    );
    assert_eq!(h.allocate(SCHED).len(), 1);
}
