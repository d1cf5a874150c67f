//! `mesos-local --zk=...` against a real ZooKeeper: the local master is one contender among
//! several and the local agents follow whichever master leads.

use std::process::Command;
use std::time::Duration;

use master::{Master, MasterConfig};
use mesos_local::{LocalCluster, LocalConfig, LocalZk};
use mesos_zookeeper::testing::ZooKeeperServer;
use process::testing::BoundedCommand;
use process::{Config, Runtime};

const SESSION: Duration = Duration::from_secs(2);
/// The bound on every run of a binary.
const WAIT: Duration = Duration::from_secs(60);

fn eventually(what: &str, done: impl FnMut() -> bool) {
    process::testing::wait_until(what, Duration::from_secs(20), done);
}

fn agents(state: &serde_json::Value) -> usize {
    state["slaves"].as_array().map_or(0, Vec::len)
}

#[test]
fn local_agents_follow_the_elected_master_and_the_local_master_takes_over() {
    let zk =
        ZooKeeperServer::start().expect("zookeeper starts (is the zookeeper package installed?)");
    let url: mesos_zookeeper::ZkUrl = ZooKeeperServer::url(&[&zk], "/local").parse().expect("url");

    // Another master leads first.
    let other_runtime = Runtime::new(Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    })
    .expect("runtime");
    let other = Master::spawn(
        &other_runtime,
        MasterConfig {
            standby: true,
            ..MasterConfig::default()
        },
    )
    .expect("master");
    let election = master::ha::join_election(&url, &other, SESSION, |_| {}).expect("contends");
    eventually("the other master elected", || other.is_elected());

    let mut config = LocalConfig::new(2);
    config.agent_resources = Some("cpus:1;mem:256".into());
    config.zk = Some(LocalZk {
        url: url.clone(),
        session_timeout: SESSION,
    });
    let cluster = LocalCluster::start(config).expect("local cluster");
    assert_eq!(cluster.leading_master().as_ref(), Some(other.pid()));
    eventually("both local agents registered with the leader", || {
        agents(&other.state()) == 2
    });
    let local = cluster.master().expect("local master");
    assert!(!local.is_elected(), "the local master is a standby");
    assert_eq!(local.metrics()["master/elected"], 0.0);

    // The leader leaves: the local master is elected and its own agents re-register with it.
    election.withdraw();
    other_runtime.shutdown();
    eventually("the local master elected", || local.is_elected());
    eventually("both agents re-registered with the local master", || {
        agents(&local.state()) == 2
    });
    assert_eq!(cluster.leading_master(), Some(cluster.master_pid()));
}

#[test]
fn zk_flags_are_checked() {
    let bad = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
        .args(["--zk=http://nowhere", "--quorum=1"])
        .output_within("mesos-local", WAIT);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--zk"),
        "{bad:?}"
    );
    let no_quorum = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
        .args(["--zk=zk://127.0.0.1:2181/mesos"])
        .output_within("mesos-local", WAIT);
    assert_eq!(no_quorum.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&no_quorum.stderr).contains("--quorum"),
        "{no_quorum:?}"
    );
}
