//! Soft-state recovery against a real ZooKeeper: the leader publishes its agent registry; a newly
//! elected master holds offers until those agents re-register (or its window passes) and marks
//! the ones that never come back as lost after `agent_reregister_timeout`. The new leader's
//! timers run on its runtime's paused clock, so the waits are exact, not slept.

mod util;

use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::Duration;

use agent::{Agent, AgentConfig, AgentHandle};
use master::{Master, MasterConfig, MasterHandle};
use mesos::scheduler::{DriverOptions, MasterDetector, SchedulerDriver};
use mesos::FrameworkInfo;
use mesos_zookeeper::testing::ZooKeeperServer;
use mesos_zookeeper::{read_agent_registry, ZkUrl, ZooKeeperDetector};
use process::{Config, Runtime};
use util::cluster::*;
use util::*;

fn runtime() -> Runtime {
    Runtime::new(Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    })
    .expect("runtime")
}

fn standby(runtime: &Runtime) -> MasterHandle {
    Master::spawn(
        runtime,
        MasterConfig {
            standby: true,
            allocation_interval: Duration::from_millis(100),
            agent_reregistration_window: Duration::from_secs(5),
            agent_reregister_timeout: Duration::from_secs(30),
            ..MasterConfig::default()
        },
    )
    .expect("master")
}

/// An agent that follows the leader through ZooKeeper.
fn agent(url: &ZkUrl, runtime: &Runtime, leader: &process::Upid, name: &str) -> AgentHandle {
    let work_dir = std::env::temp_dir().join(format!("mesos-zk-{name}-{}", std::process::id()));
    let agent = Agent::spawn(
        runtime,
        AgentConfig {
            resources: Some("cpus:1;mem:256;disk:100".into()),
            work_dir,
            registration_backoff_factor: Duration::from_millis(50),
            ..AgentConfig::new(leader.clone())
        },
    )
    .expect("agent");
    let follower = agent.clone();
    let detector = ZooKeeperDetector::start(url, SESSION).expect("detector");
    detector.watch(Arc::new(move |leader| {
        if let Some(leader) = leader {
            let _ = follower.set_master(leader);
        }
    }));
    // The detector lives as long as the agent's runtime does.
    std::mem::forget(detector);
    agent
}

fn no_offers(events: &Receiver<Event>) {
    for event in events.try_iter() {
        assert!(!matches!(event, Event::Offers(_)), "offered while holding");
    }
}

#[test]
fn a_new_leader_waits_for_the_registry_and_declares_missing_agents_lost() {
    let zk = server();
    let zk_url = ZooKeeperServer::url(&[&zk], "/recovery");
    let url: ZkUrl = zk_url.parse().expect("url");
    let detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");

    // A leads; two agents register with it and it publishes them.
    let a_runtime = runtime();
    let a = standby(&a_runtime);
    let a_election = master::ha::join_election(&url, &a, SESSION, |_| {}).expect("a joins");
    let leader = detector.wait_for_leader(WAIT).expect("a leads");
    assert_eq!(&leader, a.pid());
    let agents_runtime = runtime();
    let staying = agent(&url, &agents_runtime, &leader, "staying");
    let leaving_runtime = runtime();
    let leaving = agent(&url, &leaving_runtime, &leader, "leaving");
    let registry = eventually(
        "both agents in the registry",
        || read_agent_registry(&url, SESSION).expect("registry"),
        |r| r.len() == 2,
    );
    let leaving_id = eventually(
        "the leaving agent's id",
        || {
            leaving
                .state()
                .ok()
                .and_then(|s| s["id"].as_str().map(str::to_string))
        },
        Option::is_some,
    )
    .expect("id");
    assert!(registry.iter().any(|r| r.id == leaving_id), "{registry:?}");

    // B is next in line; its clock is paused so its hold and timeout move only when we say.
    let b_runtime = runtime();
    let b = standby(&b_runtime);
    let _b_election = master::ha::join_election(&url, &b, SESSION, |_| {}).expect("b joins");
    eventually(
        "b in line",
        || b.state(),
        |s| s["leader"] == a.pid().to_string(),
    );
    b_runtime.clock().pause();

    // A framework following the leader.
    let (tx, events) = channel();
    let driver = SchedulerDriver::with_detector(
        Recorder { events: tx },
        FrameworkInfo::new("", "recovery").with_failover_timeout(Duration::from_secs(300)),
        Arc::new(ZooKeeperDetector::start(&url, SESSION).expect("detector")),
        DriverOptions::default().with_backoff_factor(Duration::from_millis(50)),
    )
    .expect("driver");
    driver.start();
    wait_event(&events, "registration", |e| match e {
        Event::Registered(id) => Some(id.clone()),
        _ => None,
    });

    // One agent goes away for good, then A hands over to B.
    leaving.stop();
    leaving_runtime.shutdown();
    a_election.withdraw();
    a.stop();
    let second = detector
        .wait_for_change(Some(&leader), WAIT)
        .expect("b leads");
    assert_eq!(&second, b.pid());
    wait_event(&events, "re-registration with b", |e| match e {
        Event::Reregistered(pid) if *pid == b.pid().to_string() => Some(()),
        _ => None,
    });
    eventually(
        "the staying agent back on b",
        || b.state()["slaves"].as_array().map_or(0, Vec::len),
        |n| *n == 1,
    );
    // Everyone who will come back is back, but the registry says two: offers wait.
    assert!(b.holding_offers());
    b_runtime.clock().settle();
    no_offers(&events);

    // The window passes: offers resume with the agent that is back.
    b_runtime.clock().advance(Duration::from_secs(5));
    let offers = wait_event(&events, "offers after the window", |e| match e {
        Event::Offers(offers) if !offers.is_empty() => Some(offers.clone()),
        _ => None,
    });
    assert_eq!(offers.len(), 1);
    assert!(!b.holding_offers());
    let staying_id = staying
        .state()
        .ok()
        .and_then(|s| s["id"].as_str().map(str::to_string));
    assert_eq!(Some(offers[0].agent_id.as_str().to_string()), staying_id);
    // The registry B publishes still names the missing agent until it is declared lost.
    eventually(
        "b's registry",
        || read_agent_registry(&url, SESSION).expect("registry").len(),
        |n| *n == 2,
    );

    // agent_reregister_timeout after the election: the missing agent is lost.
    b_runtime.clock().advance(Duration::from_secs(25));
    let lost = wait_event(&events, "agent lost", |e| match e {
        Event::Other(text) if text.starts_with("agent lost ") => Some(text.clone()),
        _ => None,
    });
    assert_eq!(lost, format!("agent lost {leaving_id}"));
    assert_eq!(b.state()["unreachable_slaves"], 1);
    // It stays in the registry marked unreachable, so a later leader keeps its tasks lost.
    eventually(
        "the lost agent marked unreachable in the registry",
        || read_agent_registry(&url, SESSION).expect("registry"),
        |r| {
            r.len() == 2
                && r.iter()
                    .any(|a| a.id == leaving_id.as_str() && a.unreachable)
                && r.iter()
                    .any(|a| a.id != leaving_id.as_str() && !a.unreachable)
        },
    );
    driver.stop(false);
    staying.stop();
}
