//! [`NodeStore`] against a real ZooKeeper: a node that does not exist reads as `None`, a write
//! creates it with its parents, a second store (a restarted scheduler) reads the latest write,
//! data too large for a node is refused with the sizes.

mod util;

use std::time::Duration;

use mesos_zookeeper::{NodeStore, ZkError, MAX_NODE_BYTES};

#[test]
fn a_node_store_creates_its_node_and_a_second_store_reads_the_last_write() {
    let server = util::server();
    let url = util::url(&server, "/frameworks/marathon/state");
    let store = NodeStore::connect(&url, Duration::from_secs(10)).expect("connects");
    assert_eq!(store.read().expect("read"), None);
    store
        .write(b"first")
        .expect("creates the node and its parents");
    store.write(b"second").expect("replaces the data");
    drop(store);
    let again = NodeStore::connect(&url, Duration::from_secs(10)).expect("connects");
    assert_eq!(again.read().expect("read").as_deref(), Some(&b"second"[..]));
    match again.write(&vec![b'x'; MAX_NODE_BYTES + 1]) {
        Err(ZkError::TooLarge { bytes, limit }) => {
            assert_eq!((bytes, limit), (MAX_NODE_BYTES + 1, MAX_NODE_BYTES));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(again.read().expect("read").as_deref(), Some(&b"second"[..]));
}

#[test]
fn connecting_to_nothing_is_an_error_not_a_hang() {
    let url = "zk://127.0.0.1:1/x".parse().unwrap();
    let started = std::time::Instant::now();
    assert!(NodeStore::connect(&url, Duration::from_secs(2)).is_err());
    assert!(started.elapsed() < Duration::from_secs(30));
}
