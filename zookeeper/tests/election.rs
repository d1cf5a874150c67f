//! Leader election against a real ZooKeeper: the lowest sequence leads, changes are reported to
//! contenders and detectors, and a leader that loses its session is fenced.

mod util;

use std::time::Duration;

use mesos::scheduler::MasterDetector;
use mesos_zookeeper::{leader_node, ContenderEvent, ZooKeeperDetector};
use util::*;

#[test]
fn lowest_sequence_leads_and_changes_are_reported() {
    let zk = server();
    let url = url(&zk, "/mesos");
    let detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");
    let (a, a_events) = contend(&url, 5001);
    expect_elected(&a_events, "election of the first contender");
    let (b, b_events) = contend(&url, 5002);
    let seen = expect_event(&b_events, Duration::from_secs(10), "leader for b", |e| {
        matches!(e, ContenderEvent::LeaderChanged { .. })
    });
    assert_eq!(
        seen,
        ContenderEvent::LeaderChanged {
            leader: Some(info(5001)),
            elected: false
        }
    );
    let (a_node, b_node) = (a.node(), b.node());
    assert_eq!(
        leader_node(&[a_node.as_str(), b_node.as_str()]),
        Some(a_node.as_str())
    );
    let leader = detector.wait_for_leader(Duration::from_secs(10));
    assert_eq!(leader.unwrap().to_string(), "master@127.0.0.1:5001");
    assert_eq!(detector.leader_info(), Some(info(5001)));

    // A watcher hears the change when the leader withdraws (graceful: at once).
    let (tx, changes) = std::sync::mpsc::channel();
    detector.watch(std::sync::Arc::new(move |leader| {
        let _ = tx.send(leader);
    }));
    let old = detector.leader();
    a.withdraw();
    expect_elected(&b_events, "election of the standby after a withdrawal");
    let new = detector.wait_for_change(old.as_ref(), Duration::from_secs(10));
    assert_eq!(new.as_ref().unwrap().to_string(), "master@127.0.0.1:5002");
    let told = changes
        .recv_timeout(Duration::from_secs(5))
        .expect("callback");
    assert_eq!(told.unwrap().to_string(), "master@127.0.0.1:5002");

    // Nobody left: the detector reports no leader.
    b.withdraw();
    let none = detector.wait_for_change(new.as_ref(), Duration::from_secs(10));
    assert_eq!(none, None);
    assert_eq!(detector.leader(), None);
}

#[test]
fn only_json_info_nodes_count_and_a_deleted_node_fences_its_owner() {
    let zk = server();
    let url = url(&zk, "/mesos/deep");
    // Decoys with lower numbers: Mesos's old `info_` nodes and other children never lead.
    create_nodes(
        &zk,
        &[
            "/mesos/deep/info_0000000000",
            "/mesos/deep/json.info_lock",
            "/mesos/deep/x_0000000001",
        ],
    );
    let (a, a_events) = contend(&url, 6001);
    expect_elected(&a_events, "election");
    let (_b, b_events) = contend(&url, 6002);
    // Someone removes the leader's node (an operator, or its session closing): it is fenced at
    // once and the standby takes over.
    let admin = ZooKeeperDetector::start(&url, SESSION).expect("detector");
    assert!(admin.wait_for_leader(Duration::from_secs(10)).is_some());
    let old_node = a.node();
    delete_node(&zk, &format!("{}/{}", url.path, old_node));
    let fenced = expect_event(&a_events, Duration::from_secs(10), "fencing", |e| {
        matches!(e, ContenderEvent::Fenced { .. })
    });
    assert!(format!("{fenced:?}").contains("gone"), "{fenced:?}");
    assert!(
        matches!(
            fenced,
            ContenderEvent::Fenced {
                was_leading: true,
                ..
            }
        ),
        "{fenced:?}"
    );
    expect_elected(&b_events, "election of the standby");
    // The fenced master rejoins with a new node, behind the new leader.
    let rejoined = expect_event(&a_events, Duration::from_secs(10), "a's rejoin", |e| {
        matches!(e, ContenderEvent::LeaderChanged { .. })
    });
    assert!(
        matches!(rejoined, ContenderEvent::LeaderChanged { elected: false, leader: Some(ref l) } if l.port == 6002),
        "{rejoined:?}"
    );
    assert_ne!(a.node(), old_node, "a rejoined with a new node");
}

#[test]
fn a_leader_whose_session_expires_steps_down() {
    let mut zk = server();
    let url = url(&zk, "/mesos");
    let (a, a_events) = contend(&url, 7001);
    expect_elected(&a_events, "election");
    // Freeze the server past the session timeout: the leader cannot prove its session, so it
    // steps down while the server is still frozen — before anyone else could be elected.
    zk.pause();
    let fenced = expect_event(&a_events, SESSION * 3, "fencing while frozen", |e| {
        matches!(e, ContenderEvent::Fenced { .. })
    });
    assert!(
        matches!(
            fenced,
            ContenderEvent::Fenced {
                was_leading: true,
                ..
            }
        ),
        "{fenced:?}"
    );
    // While the server stays frozen the fenced contender cannot rejoin, so it never claims
    // leadership (waiting here is the point of the test: nothing may arrive).
    std::thread::sleep(Duration::from_millis(500));
    assert!(a_events
        .try_iter()
        .all(|e| !matches!(e, ContenderEvent::LeaderChanged { elected: true, .. })));
    let old_node = a.node();
    zk.resume();
    // Once the server is back it rejoins with a new session and node and, alone, leads again.
    expect_elected(&a_events, "re-election after the expiry");
    assert_ne!(a.node(), old_node);
    let (_c, c_events) = contend(&url, 7002);
    let seen = expect_event(&c_events, Duration::from_secs(10), "c's view", |e| {
        matches!(e, ContenderEvent::LeaderChanged { .. })
    });
    assert!(
        matches!(seen, ContenderEvent::LeaderChanged { elected: false, leader: Some(ref l) } if l.port == 7001),
        "{seen:?}"
    );
}

/// Creates persistent znodes (and their parents) with a separate session.
fn create_nodes(zk: &mesos_zookeeper::testing::ZooKeeperServer, paths: &[&str]) {
    use zookeeper_client::{Acls, CreateMode};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = zookeeper_client::Client::connect(&zk.addr.to_string())
            .await
            .expect("connect");
        let options = CreateMode::Persistent.with_acls(Acls::anyone_all());
        for path in paths {
            let parent = &path[..path.rfind('/').expect("parent")];
            client.mkdir(parent, &options).await.expect("mkdir");
            client.create(path, b"{}", &options).await.expect("create");
        }
    });
}

/// Deletes a znode with a separate session.
fn delete_node(zk: &mesos_zookeeper::testing::ZooKeeperServer, path: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = zookeeper_client::Client::connect(&zk.addr.to_string())
            .await
            .expect("connect");
        client.delete(path, None).await.expect("delete");
    });
}
