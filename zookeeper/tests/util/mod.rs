//! Shared helpers for the ZooKeeper tests: a real server, contenders whose events land on a channel.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use mesos::MasterInfo;
use mesos_zookeeper::testing::ZooKeeperServer;
use mesos_zookeeper::{ContenderEvent, MasterContender, ZkUrl};

/// The session timeout the tests use.
pub const SESSION: Duration = Duration::from_secs(2);

/// Logs to the test output when `RUST_LOG` is set.
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A standalone server; skips nothing: a missing ZooKeeper fails the test with the reason.
pub fn server() -> ZooKeeperServer {
    logs();
    ZooKeeperServer::start().expect("zookeeper starts (is the zookeeper package installed?)")
}

/// `zk://server/path`.
pub fn url(server: &ZooKeeperServer, path: &str) -> ZkUrl {
    ZooKeeperServer::url(&[server], path).parse().expect("url")
}

/// A MasterInfo for a master said to listen on `port`.
pub fn info(port: u16) -> MasterInfo {
    MasterInfo::new(
        format!("master-{port}"),
        Ipv4Addr::LOCALHOST,
        port,
        Some("localhost".into()),
    )
}

/// A contender whose events arrive on the returned receiver.
pub fn contend(url: &ZkUrl, port: u16) -> (MasterContender, Receiver<ContenderEvent>) {
    let (tx, rx) = channel();
    let contender = MasterContender::start(url, info(port), SESSION, move |event| {
        let _ = tx.send(event);
    })
    .expect("contender joins");
    (contender, rx)
}

/// The next event that satisfies `want`, within `timeout` (panics naming `what` otherwise).
pub fn expect_event(
    rx: &Receiver<ContenderEvent>,
    timeout: Duration,
    what: &str,
    want: impl Fn(&ContenderEvent) -> bool,
) -> ContenderEvent {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(event) if want(&event) => return event,
            Ok(_) => continue,
            Err(_) => panic!("no {what} within {timeout:?}"),
        }
    }
}

/// Waits until this contender is told it leads.
pub fn expect_elected(rx: &Receiver<ContenderEvent>, what: &str) {
    expect_event(rx, Duration::from_secs(10), what, |e| {
        matches!(e, ContenderEvent::LeaderChanged { elected: true, .. })
    });
}
pub mod cluster;
