//! A 3-server ZooKeeper ensemble: killing the ZooKeeper leader does not stop the masters'
//! election — a master leads afterwards and detectors see it.

mod util;

use std::time::{Duration, Instant};

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
    // session rode through; if it could not prove its session in time it stepped down and
    // rejoined (so did `b`, if its connection was cut too). Either way, the election settles on
    // one leader that the detector, the leader itself and the standby agree on.
    // Give fencing its chance first (it comes within a session timeout of the kill), then wait
    // for the election to settle.
    let fencing_window = Instant::now() + SESSION * 2;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut elected = [true, false]; // the last word each contender had, a then b
    let leader = loop {
        for (i, events) in [&a_events, &b_events].into_iter().enumerate() {
            for event in events.try_iter() {
                match event {
                    ContenderEvent::LeaderChanged { elected: e, .. } => elected[i] = e,
                    ContenderEvent::Fenced { .. } => elected[i] = false,
                    ContenderEvent::Recovered { .. } => {}
                }
            }
        }
        if Instant::now() < fencing_window {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        if let Some(leader) = detector.leader() {
            let port = leader.port();
            let which = [8001, 8002].iter().position(|p| *p == port);
            if let Some(i) = which {
                if elected[i] && !elected[1 - i] {
                    break port;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no settled leader after the zookeeper leader died: detector {:?}, elected {elected:?}",
            detector.leader()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // The ensemble still takes writes: a new contender joins and sees the leader.
    let (_c, c_events) = contend(&url, 8003);
    let seen = expect_event(&c_events, Duration::from_secs(15), "c's view", |e| {
        matches!(e, ContenderEvent::LeaderChanged { .. })
    });
    assert!(
        matches!(seen, ContenderEvent::LeaderChanged { elected: false, leader: Some(ref l) } if l.port == u32::from(leader)),
        "{seen:?}"
    );
    assert!(detector.leader().is_some());
}

/// The whole cluster on a 3-server ensemble: two `mesos-master`s, a `mesos-agent` and a
/// framework, all following the election. Killing the ZooKeeper leader loses nothing: the running
/// task finishes with its update delivered, and a task launched afterwards runs too.
#[test]
fn killing_the_zookeeper_leader_keeps_tasks_running_and_launching() {
    use std::sync::mpsc::channel;
    use std::sync::Arc;

    use mesos::scheduler::{DriverOptions, SchedulerDriver};
    use mesos::{CommandInfo, Filters, FrameworkInfo, TaskInfo, TaskState};
    use util::cluster::*;

    logs();
    let mut servers = ZooKeeperServer::ensemble(3).expect("ensemble starts");
    let zk_url = {
        let refs: Vec<&ZooKeeperServer> = servers.iter().collect();
        ZooKeeperServer::url(&refs, "/cluster")
    };
    let url = zk_url.parse().expect("url");
    let detector = ZooKeeperDetector::start(&url, SESSION).expect("detector");
    let _a = MasterChild::start(&zk_url);
    assert!(detector.wait_for_leader(WAIT).is_some());
    let _b = MasterChild::start(&zk_url);
    let work_dir = std::env::temp_dir().join(format!("mesos-ensemble-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work_dir);
    std::fs::create_dir_all(&work_dir).expect("work dir");
    let _agent = AgentChild::start(&zk_url, &work_dir);

    let (tx, events) = channel();
    let framework =
        FrameworkInfo::new("", "ensemble").with_failover_timeout(Duration::from_secs(120));
    let driver = SchedulerDriver::with_detector(
        Recorder { events: tx },
        framework,
        Arc::new(ZooKeeperDetector::start(&url, SESSION).expect("detector")),
        DriverOptions::default().with_backoff_factor(Duration::from_millis(100)),
    )
    .expect("driver");
    driver.start();
    let launch = |name: &str, command: String| {
        let offer = wait_event(&events, "an offer", |e| match e {
            Event::Offers(offers) if !offers.is_empty() => Some(offers[0].clone()),
            _ => None,
        });
        let task = TaskInfo::new(
            name,
            name,
            offer.agent_id.clone(),
            "cpus:0.25;mem:32".parse().expect("resources"),
        )
        .with_command(CommandInfo::shell(command));
        driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    };
    let wait_state = |name: &str, state: TaskState| {
        wait_event(&events, &format!("{name} {state:?}"), |e| match e {
            Event::Update(s) if s.task_id.as_str() == name => {
                assert!(
                    !matches!(
                        s.state,
                        TaskState::Lost | TaskState::Failed | TaskState::Error
                    ),
                    "{s:?}"
                );
                (s.state == state).then_some(())
            }
            _ => None,
        })
    };
    let done = work_dir.join("done");
    launch(
        "before",
        format!("while [ ! -f {} ]; do sleep 0.05; done", done.display()),
    );
    wait_state("before", TaskState::Running);

    let zk_leader = servers
        .iter()
        .position(|s| s.mode().as_deref() == Some("leader"))
        .expect("the ensemble has a leader");
    servers[zk_leader].kill();

    // Whatever the masters' election did meanwhile, the cluster goes on: a new task launches and
    // finishes, and the task that was running finishes with its update delivered.
    launch("after", "true".into());
    wait_state("after", TaskState::Finished);
    std::fs::write(&done, b"").expect("done file");
    wait_state("before", TaskState::Finished);
    assert!(detector.leader().is_some());
    driver.stop(false);
    let _ = std::fs::remove_dir_all(&work_dir);
}
