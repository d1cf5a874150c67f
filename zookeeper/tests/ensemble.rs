//! A 3-server ZooKeeper ensemble: killing the ZooKeeper leader does not stop the masters'
//! election — a master leads afterwards and detectors see it.

mod util;

use std::time::Duration;

use mesos::scheduler::MasterDetector;
use mesos_zookeeper::testing::ZooKeeperServer;
use mesos_zookeeper::{ContenderEvent, ZooKeeperDetector};
use util::*;

#[test]
fn killing_the_zookeeper_leader_keeps_the_cluster_working() {
    logs();
    let mut servers = ZooKeeperServer::ensemble(3).expect("ensemble starts");
    let url = {
        let refs: Vec<&ZooKeeperServer> = servers.iter().collect();
        ZooKeeperServer::url(&refs, "/mesos").parse().expect("url")
    };
    let detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");
    let (_a, a_events) = contend(&url, 8001);
    expect_elected(&a_events, "election of a");
    let (_b, b_events) = contend(&url, 8002);
    assert!(detector.wait_for_leader(Duration::from_secs(10)).is_some());

    let zk_leader = servers
        .iter()
        .position(|s| s.mode().as_deref() == Some("leader"))
        .expect("the ensemble has a leader");
    servers[zk_leader].kill();

    // The ensemble elects a new leader; the masters' election goes on. `a` keeps leading if its
    // session rode through; if it could not prove its session in time it stepped down, and `b`
    // leads instead — never both, never neither for long.
    let a_fenced = a_events
        .recv_timeout(SESSION * 2)
        .ok()
        .is_some_and(|e| matches!(e, ContenderEvent::Fenced { .. }));
    if a_fenced {
        expect_elected(&b_events, "election of b after a stepped down");
    }
    let leader = detector
        .wait_for_leader(Duration::from_secs(15))
        .expect("a leader after the zookeeper leader died");
    let expected = if a_fenced { 8002 } else { 8001 };
    assert_eq!(leader.port(), expected, "{leader}");
    // The ensemble still takes writes: a new contender joins and sees the leader.
    let (_c, c_events) = contend(&url, 8003);
    let seen = expect_event(&c_events, Duration::from_secs(15), "c's view", |e| {
        matches!(e, ContenderEvent::LeaderChanged { .. })
    });
    assert!(
        matches!(seen, ContenderEvent::LeaderChanged { elected: false, leader: Some(ref l) } if l.port == u32::from(expected)),
        "{seen:?}"
    );
    assert!(detector.leader().is_some());
}
