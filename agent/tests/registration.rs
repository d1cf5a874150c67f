//! The agent and its master: registration, pings, losing and finding the master again.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mesos::protocol::*;
use mesos::*;
use util::*;

fn wait_running(cluster: &mut Cluster, task: &str) {
    while cluster.next_update(task).status.state != TaskState::Running {}
}

fn expect_reregister(cluster: &mut Cluster) -> ReregisterSlaveMessage {
    cluster.wait_for("re-registration", |g| match g {
        Got::Reregister(m) => Some(m.clone()),
        _ => None,
    })
}

#[test]
fn registers_its_resources_and_attributes_and_answers_pings() {
    let mut cluster = Cluster::start("register", true, false, |config| {
        config.attributes = "rack:r1;zone:a".parse().unwrap();
        config.hostname = Some("node-7".into());
    });
    let register = cluster.expect_register();
    assert_eq!(register.agent.hostname, "node-7");
    assert_eq!(register.agent.id, None);
    assert_eq!(register.agent.port, cluster.agent.pid().port());
    assert_eq!(
        register.agent.resources,
        "cpus:4;mem:2048;disk:1000;ports:[31000-31010]"
            .parse()
            .unwrap()
    );
    assert_eq!(register.agent.attributes.text("rack"), Some("r1"));
    cluster.to_agent(PingSlaveMessage { connected: true });
    cluster.wait_for("pong", |g| matches!(g, Got::Pong).then_some(()));
    assert_eq!(
        cluster.agent.agent_id().unwrap(),
        Some(AgentId::new("agent-1"))
    );
}

#[test]
fn registration_is_retried_with_backoff_until_the_master_answers() {
    let mut cluster = Cluster::start("retry", true, true, |_| {});
    // Drop the master's first answer: the agent must try again after the backoff.
    let dropped = cluster
        .agent_runtime
        .filters()
        .drop_message::<SlaveRegisteredMessage>(process::MessageMatch::any());
    cluster.expect_register();
    dropped.wait_timeout(PATIENCE).unwrap();
    assert_eq!(cluster.agent.agent_id().unwrap(), None);
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(1));
    cluster.expect_register();
    process::testing::wait_until("the agent's id", PATIENCE, || {
        cluster.agent.agent_id().unwrap().is_some()
    });
}

#[test]
fn a_silent_master_is_given_up_and_the_agent_reregisters_with_its_tasks() {
    let mut cluster = Cluster::start("silent", true, true, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("long", "sleep 1000"));
    wait_running(&mut cluster, "long");
    // 15 s pings x 5 allowed misses: nothing happens before 75 s ...
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(70));
    cluster.agent_runtime.settle();
    assert!(
        cluster.none_within(Duration::from_millis(200), |g| matches!(
            g,
            Got::Reregister(_)
        ))
    );
    // ... a ping resets the deadline ...
    cluster.to_agent(PingSlaveMessage { connected: true });
    cluster.wait_for("pong", |g| matches!(g, Got::Pong).then_some(()));
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(70));
    cluster.agent_runtime.settle();
    assert!(
        cluster.none_within(Duration::from_millis(200), |g| matches!(
            g,
            Got::Reregister(_)
        ))
    );
    // ... and after 75 s of silence the agent re-registers with what it runs.
    cluster
        .agent_runtime
        .clock()
        .advance(Duration::from_secs(6));
    let reregister = expect_reregister(&mut cluster);
    assert_eq!(reregister.agent.id, Some(AgentId::new("agent-1")));
    assert_eq!(reregister.tasks.len(), 1);
    assert_eq!(reregister.tasks[0].task_id, TaskId::new("long"));
    assert_eq!(reregister.tasks[0].state, TaskState::Running);
    assert_eq!(reregister.frameworks[0].id, Some(FrameworkId::new("fw-1")));
}

#[test]
fn a_restarted_master_at_the_same_address_gets_the_agent_back_with_its_tasks() {
    let mut cluster = Cluster::start("restart", true, true, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("keep", "sleep 1000"));
    wait_running(&mut cluster, "keep");
    cluster.restart_master();
    // The link breaks: the agent re-registers at once, and keeps retrying with backoff.
    let mut reregister = None;
    for _ in 0..10 {
        reregister = cluster.poll_for(Duration::from_millis(500), |g| match g {
            Got::Reregister(m) => Some(m.clone()),
            _ => None,
        });
        if reregister.is_some() {
            break;
        }
        cluster
            .agent_runtime
            .clock()
            .advance(Duration::from_secs(2));
    }
    let reregister = reregister.expect("the agent re-registered with the restarted master");
    assert_eq!(reregister.tasks.len(), 1);
    assert_eq!(reregister.tasks[0].task_id, TaskId::new("keep"));
    // The task kept running throughout.
    let state = cluster.agent.state().unwrap();
    assert_eq!(
        state["frameworks"][0]["executors"][0]["tasks"][0]["state"], "TASK_RUNNING",
        "{state:#}"
    );
}

#[test]
fn garbage_on_the_agent_port_does_not_disturb_it() {
    let mut cluster = Cluster::start("garbage", true, false, |_| {});
    cluster.expect_register();
    let addr = cluster.agent.pid().addr();
    for garbage in [
        vec![0u8; 64],
        vec![0xff; 1024],
        b"\x00\x00\x00\x10not a frame at all".to_vec(),
        vec![0x3f, 0xff, 0xff, 0xff, 1, 2, 3],
    ] {
        if let Ok(mut stream) = TcpStream::connect(addr) {
            let _ = stream.write_all(&garbage);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = stream.read(&mut [0u8; 16]);
        }
    }
    cluster.to_agent(PingSlaveMessage { connected: true });
    cluster.wait_for("pong", |g| matches!(g, Got::Pong).then_some(()));
    cluster.run_task(command_task("after-garbage", "true"));
    let updates = cluster.states_until_terminal("after-garbage");
    assert_eq!(updates.last().unwrap().status.state, TaskState::Finished);
}

#[test]
fn http_endpoints_serve_state_health_and_statistics() {
    let mut cluster = Cluster::start("http", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("web", "sleep 1000"));
    wait_running(&mut cluster, "web");
    let addr = cluster.agent.pid().addr();
    let state = get_json(addr, "/slave(1)/state");
    assert_eq!(state["id"], "agent-1");
    assert_eq!(state["frameworks"][0]["id"], "fw-1");
    assert_eq!(state["frameworks"][0]["executors"][0]["id"], "web");
    assert_eq!(
        state["frameworks"][0]["executors"][0]["tasks"][0]["state"],
        "TASK_RUNNING"
    );
    assert_eq!(state["resources"]["cpus"], 4.0);
    assert_eq!(state["resources"]["ports"], "[31000-31010]");
    assert_eq!(state["used_resources"]["mem"], 32.0);
    let health = get_json(addr, "/slave(1)/health");
    assert_eq!(health["healthy"], true);
    let stats = get_json(addr, "/monitor/statistics");
    assert_eq!(stats[0]["executor_id"], "web");
    assert_eq!(stats[0]["framework_id"], "fw-1");
    for field in [
        "timestamp",
        "cpus_user_time_secs",
        "cpus_system_time_secs",
        "cpus_limit",
        "mem_rss_bytes",
        "mem_limit_bytes",
    ] {
        assert!(
            stats[0]["statistics"][field].is_number(),
            "{field}: {stats:#}"
        );
    }
}

fn get_json(addr: std::net::SocketAddr, path: &str) -> serde_json::Value {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn a_ping_saying_disconnected_makes_the_agent_reregister() {
    let mut cluster = Cluster::start("ping-disconnected", true, false, |_| {});
    cluster.expect_register();
    cluster.to_agent(PingSlaveMessage { connected: false });
    cluster.wait_for("pong", |g| matches!(g, Got::Pong).then_some(()));
    let reregister = expect_reregister(&mut cluster);
    assert_eq!(reregister.agent.id, Some(AgentId::new("agent-1")));
}

#[test]
fn tasks_the_master_refuses_on_reregistration_are_killed() {
    let mut cluster = Cluster::start("kill-on-rereg", true, false, |_| {});
    cluster.expect_register();
    cluster.run_task(command_task("zombie", "sleep 1000"));
    wait_running(&mut cluster, "zombie");
    cluster.to_agent(PingSlaveMessage { connected: false });
    expect_reregister(&mut cluster);
    cluster.to_agent(KillTasksOnReregistrationMessage {
        tasks: vec![(FrameworkId::new("fw-1"), TaskId::new("zombie"))],
    });
    assert_eq!(
        cluster.next_update("zombie").status.state,
        TaskState::Killed
    );
}
