//! A standby master that is about to be elected: (re)registrations that reach it just before it
//! learns of its election are replayed once it leads, so a failover costs a round trip instead of
//! a scheduler's registration backoff; stale ones are not.

mod util;

use std::time::Duration;

use ::master::MasterConfig;
use mesos::protocol::*;
use mesos::*;
use util::*;

fn standby() -> (process::Runtime, ::master::MasterHandle) {
    start_master(MasterConfig {
        standby: true,
        ..MasterConfig::default()
    })
}

/// Sends a re-registration and waits until the master's runtime has handled it.
fn reregister(rt: &process::Runtime, scheduler: &Peer, master: &process::Upid) {
    let arrived = rt
        .filters()
        .await_message::<ReregisterFrameworkMessage>(process::MessageMatch::any());
    let mut framework = FrameworkInfo::new("tester", "early-bird");
    framework.id = Some(FrameworkId::new("fw-early"));
    scheduler.send(
        master,
        ReregisterFrameworkMessage {
            framework,
            failover: false,
            suppressed_roles: vec![],
        },
    );
    arrived.wait_timeout(PATIENCE).expect("the master got it");
    rt.settle();
}

#[test]
fn a_reregistration_just_before_the_election_is_answered_once_elected() {
    let (rt, master) = standby();
    let mut scheduler = Peer::new("scheduler-early");
    reregister(&rt, &scheduler, master.pid());
    // A standby answers nothing.
    assert!(scheduler
        .try_expect::<FrameworkReregisteredMessage>(Duration::from_millis(100))
        .is_none());
    master.set_leadership(true, Some(master.info().clone()));
    let answer: FrameworkReregisteredMessage = scheduler.expect();
    assert_eq!(answer.framework_id, FrameworkId::new("fw-early"));
}

#[test]
fn a_registration_older_than_the_grace_is_not_replayed() {
    let (rt, master) = standby();
    rt.clock().pause();
    let mut scheduler = Peer::new("scheduler-late");
    reregister(&rt, &scheduler, master.pid());
    rt.clock().advance(Duration::from_secs(3));
    master.set_leadership(true, Some(master.info().clone()));
    assert!(scheduler
        .try_expect::<FrameworkReregisteredMessage>(Duration::from_millis(300))
        .is_none());
    // The scheduler's own retry is answered as usual.
    reregister(&rt, &scheduler, master.pid());
    let answer: FrameworkReregisteredMessage = scheduler.expect();
    assert_eq!(answer.framework_id, FrameworkId::new("fw-early"));
}
