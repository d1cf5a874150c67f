//! The cluster with no leader at all, against a real ZooKeeper:
//! - a task that finishes while no master leads keeps its update (the `mesos-agent` binary,
//!   following `--master=zk://...`, retries it) and the update reaches the framework through
//!   the master elected later;
//! - a leading master whose ZooKeeper session expires stops saying it leads (`master/elected`
//!   drops to 0, `/master/state` has no `elected_time`) while ZooKeeper is still frozen.

mod util;

use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::Duration;

use master::{Master, MasterConfig};
use mesos::scheduler::{DriverOptions, MasterDetector, SchedulerDriver};
use mesos::{FrameworkInfo, TaskState};
use mesos_zookeeper::testing::ZooKeeperServer;
use mesos_zookeeper::ZooKeeperDetector;
use process::{Config, Runtime};
use util::cluster::*;
use util::*;

#[test]
fn an_update_produced_with_no_leader_reaches_the_framework_through_the_next_one() {
    let zk = server();
    let zk_url = ZooKeeperServer::url(&[&zk], "/leaderless");
    let url = zk_url.parse().expect("url");
    let detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");
    let mut a = MasterChild::start(&zk_url);
    let first = detector.wait_for_leader(WAIT).expect("a leader");
    assert_eq!(first.to_string(), a.pid());

    let work_dir = std::env::temp_dir().join(format!("mesos-leaderless-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work_dir);
    std::fs::create_dir_all(&work_dir).expect("work dir");
    let agent = AgentChild::start(&zk_url, &work_dir);

    let (tx, events) = channel();
    let framework =
        FrameworkInfo::new("", "leaderless").with_failover_timeout(Duration::from_secs(120));
    let scheduler_detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");
    let driver = SchedulerDriver::with_detector(
        Recorder { events: tx },
        framework,
        Arc::new(scheduler_detector),
        DriverOptions::default().with_backoff_factor(Duration::from_millis(100)),
    )
    .expect("driver");
    driver.start();
    let done = work_dir.join("done");
    launch_until_file(&driver, &events, "orphan-update", &done);

    // The only master dies: once its session expires nobody leads.
    a.kill();
    assert_eq!(
        detector.wait_for_change(Some(&first), WAIT),
        None,
        "no master leads"
    );
    wait_event(&events, "the framework's disconnection", |e| {
        matches!(e, Event::Disconnected).then_some(())
    });
    // The task finishes now, with no master to take its update.
    std::fs::write(&done, b"").expect("done file");
    eventually(
        "the agent to see the task finish",
        || try_get_json(agent.addr, "/slave(1)/state"),
        |s| {
            s.as_ref()
                .is_some_and(|s| s.to_string().contains("TASK_FINISHED"))
        },
    );
    assert_eq!(detector.leader(), None, "still no leader");
    assert!(
        events
            .try_iter()
            .all(|e| !matches!(e, Event::Update(ref s) if s.state.is_terminal())),
        "no terminal update can have reached the framework yet"
    );

    // A new master is elected; the agent and the framework follow it, and the update that waited
    // in the agent is delivered exactly as FINISHED.
    let b = MasterChild::start(&zk_url);
    let second = detector.wait_for_leader(WAIT).expect("b leads");
    assert_eq!(second.to_string(), b.pid());
    let finished = wait_event(&events, "TASK_FINISHED through b", |e| match e {
        Event::Update(s) if s.task_id.as_str() == "orphan-update" => {
            assert_ne!(s.state, TaskState::Lost, "{s:?}");
            (s.state == TaskState::Finished).then(|| s.clone())
        }
        _ => None,
    });
    assert_eq!(finished.task_id.as_str(), "orphan-update");
    eventually(
        "the agent registered with b",
        || try_get_json(agent.addr, "/slave(1)/state"),
        |s| s.as_ref().is_some_and(|s| s["master_pid"] == b.pid()),
    );
    driver.stop(false);
    drop(agent);
    let _ = std::fs::remove_dir_all(&work_dir);
}

#[test]
fn a_master_whose_session_expires_stops_saying_it_leads() {
    let mut zk = server();
    let url = url(&zk, "/expiry");
    let runtime = Runtime::new(Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    })
    .expect("runtime");
    let master = Master::spawn(
        &runtime,
        MasterConfig {
            standby: true,
            ..MasterConfig::default()
        },
    )
    .expect("master");
    let _election = master::ha::join_election(&url, &master, SESSION, |_| {}).expect("contends");
    eventually(
        "election",
        || master.metrics()["master/elected"].clone(),
        |v| *v == 1.0,
    );
    assert!(master.state().get("elected_time").is_some());

    // Freeze ZooKeeper past the session timeout: the master cannot prove its session and steps
    // down while the server is still frozen, before any other master could have been elected.
    zk.pause();
    eventually(
        "stepping down while ZooKeeper is frozen",
        || master.metrics()["master/elected"].clone(),
        |v| *v == 0.0,
    );
    assert!(!master.is_elected());
    let state = master.state();
    assert!(state.get("elected_time").is_none(), "{state}");

    // Back: it rejoins with a new session and, alone, leads again.
    zk.resume();
    eventually(
        "re-election",
        || master.metrics()["master/elected"].clone(),
        |v| *v == 1.0,
    );
    assert!(master.is_elected());
}
