//! Master failover end to end against a real ZooKeeper: three masters (two `mesos-master` child
//! processes and one in-process), one agent running a long task, one framework. SIGKILL the
//! leader twice in a row: each time a new leader is elected, the agent and the framework
//! re-register with it, the task stays RUNNING, and finally its FINISHED update reaches the
//! framework through the last leader.

mod util;

use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::Duration;

use agent::{Agent, AgentConfig};
use master::{Master, MasterConfig};
use mesos::scheduler::{DriverOptions, MasterDetector, SchedulerDriver};
use mesos::{FrameworkInfo, TaskState};
use mesos_zookeeper::testing::ZooKeeperServer;
use mesos_zookeeper::ZooKeeperDetector;
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

#[test]
fn killing_the_leader_twice_keeps_the_task_and_its_updates() {
    let zk = server();
    let zk_url = ZooKeeperServer::url(&[&zk], "/mesos");
    let url = zk_url.parse().expect("url");
    ensure_binary("agent", "mesos-executor");
    let detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");

    // Masters A and B: real processes, A first so it leads.
    let mut a = MasterChild::start(&zk_url);
    let first = detector.wait_for_leader(WAIT).expect("a leader");
    assert_eq!(first.to_string(), a.pid());
    let mut b = MasterChild::start(&zk_url);
    // B knows the leader once it has joined the election: then C joins, after it.
    let b_state = eventually(
        "b's view of the leader",
        || try_get_json(b.addr, "/master/state"),
        |s| s.as_ref().is_some_and(|s| s["leader"] == a.pid()),
    )
    .expect("b's state");
    // Master C: in-process, on its own runtime, a standby until elected.
    let c_runtime = runtime();
    let c = Master::spawn(
        &c_runtime,
        MasterConfig {
            standby: true,
            allocation_interval: Duration::from_millis(100),
            ..MasterConfig::default()
        },
    )
    .expect("master c");
    let _c_election = master::ha::join_election(&url, &c, SESSION, |_| {}).expect("c contends");

    // Standbys answer with the leader, and say they are not elected.
    assert!(b_state.get("elected_time").is_none(), "{b_state}");
    assert_eq!(b_state["leader_info"]["pid"], a.pid());
    assert_eq!(get_json(b.addr, "/metrics/snapshot")["master/elected"], 0.0);
    assert_eq!(get_json(a.addr, "/metrics/snapshot")["master/elected"], 1.0);
    eventually(
        "c's view of the leader",
        || c.state(),
        |s| s["leader"] == a.pid(),
    );
    assert_eq!(c.metrics()["master/elected"], 0.0);

    // One agent, following the leader through ZooKeeper.
    let agent_runtime = runtime();
    let work_dir = std::env::temp_dir().join(format!("mesos-zk-agent-{}", std::process::id()));
    let agent = Agent::spawn(
        &agent_runtime,
        AgentConfig {
            resources: Some("cpus:1;mem:512;disk:100;ports:[31000-31010]".into()),
            work_dir: work_dir.clone(),
            status_update_retry_interval_min: Duration::from_millis(200),
            registration_backoff_factor: Duration::from_millis(50),
            ..AgentConfig::new(first.clone())
        },
    )
    .expect("agent");
    let follower = agent.clone();
    detector.watch(Arc::new(move |leader| {
        if let Some(leader) = leader {
            let _ = follower.set_master(leader);
        }
    }));

    // One framework, also following the leader through ZooKeeper.
    let (tx, events) = channel();
    let framework = FrameworkInfo::new("", "ha").with_failover_timeout(Duration::from_secs(120));
    let scheduler_detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");
    let driver = SchedulerDriver::with_detector(
        Recorder { events: tx },
        framework,
        Arc::new(scheduler_detector),
        DriverOptions::default().with_backoff_factor(Duration::from_millis(100)),
    )
    .expect("driver");
    driver.start();
    wait_event(&events, "registration", |e| match e {
        Event::Registered(id) => Some(id.clone()),
        _ => None,
    });
    let done = work_dir.join("done");
    launch_until_file(&driver, &events, "long", &done);

    // Kill 1: A dies; B (next in line) is elected once A's session expires.
    a.kill();
    let second = detector
        .wait_for_change(Some(&first), WAIT)
        .expect("a new leader");
    assert_eq!(second.to_string(), b.pid());
    wait_event(&events, "re-registration with b", |e| match e {
        Event::Reregistered(pid) if *pid == b.pid() => Some(()),
        _ => None,
    });
    let state = eventually(
        "the task RUNNING on b",
        || get_json(b.addr, "/master/state"),
        |s| task_state(s, "long").as_deref() == Some("TASK_RUNNING"),
    );
    assert_eq!(state["leader"], b.pid());
    assert_eq!(get_json(b.addr, "/metrics/snapshot")["master/elected"], 1.0);

    // Kill 2, right away: B dies; C is elected.
    b.kill();
    let third = detector
        .wait_for_change(Some(&second), WAIT)
        .expect("a new leader");
    assert_eq!(&third, c.pid());
    wait_event(&events, "re-registration with c", |e| match e {
        Event::Reregistered(pid) if *pid == c.pid().to_string() => Some(()),
        _ => None,
    });
    eventually(
        "the task RUNNING on c",
        || c.state(),
        |s| task_state(s, "long").as_deref() == Some("TASK_RUNNING"),
    );
    assert!(c.is_elected());
    assert_eq!(c.metrics()["master/elected"], 1.0);
    let agents = c.state()["slaves"].as_array().map_or(0, Vec::len);
    assert_eq!(agents, 1, "exactly one agent, re-registered");

    // The task finishes under C: the update reaches the framework.
    std::fs::write(&done, b"").expect("done file");
    wait_event(&events, "TASK_FINISHED", |e| match e {
        Event::Update(s) if s.task_id.as_str() == "long" => {
            assert_ne!(s.state, TaskState::Lost, "{s:?}");
            (s.state == TaskState::Finished).then_some(())
        }
        _ => None,
    });
    eventually(
        "the task FINISHED on c",
        || c.state(),
        |s| {
            let text = s["frameworks"].to_string() + &s["completed_frameworks"].to_string();
            text.contains("TASK_FINISHED")
        },
    );
    driver.stop(false);
    agent.stop();
    let _ = std::fs::remove_dir_all(&work_dir);
}

#[test]
fn a_gracefully_stopped_leader_hands_over_at_once() {
    let zk = server();
    let zk_url = ZooKeeperServer::url(&[&zk], "/graceful");
    let url = zk_url.parse().expect("url");
    let detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");
    // A session so long that only the deleted znode can explain a quick handover.
    let mut a = MasterChild::with_session(&zk_url, "60secs");
    let first = detector.wait_for_leader(WAIT).expect("a leader");
    assert_eq!(first.to_string(), a.pid());
    let b = MasterChild::with_session(&zk_url, "60secs");
    eventually(
        "b in the election",
        || try_get_json(b.addr, "/master/state"),
        |s| s.as_ref().is_some_and(|s| s["leader"] == a.pid()),
    );
    assert!(a.terminate().success(), "a graceful stop exits 0");
    let second = detector
        .wait_for_change(Some(&first), WAIT)
        .expect("a new leader");
    assert_eq!(second.to_string(), b.pid());
    eventually(
        "b elected",
        || try_get_json(b.addr, "/metrics/snapshot"),
        |m| m.as_ref().is_some_and(|m| m["master/elected"] == 1.0),
    );
}
