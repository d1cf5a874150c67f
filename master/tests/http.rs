//! The master's HTTP endpoints over real TCP, in Mesos's JSON shapes.

mod util;

use ::master::MasterConfig;
use mesos::protocol::*;
use mesos::*;
use util::*;

#[test]
fn state_frameworks_slaves_and_metrics_have_mesos_shapes() {
    let (rt, master) = start_master(MasterConfig {
        hostname: Some("master-host".into()),
        ..MasterConfig::default()
    });
    let pong = rt
        .filters()
        .await_message::<PongSlaveMessage>(process::MessageMatch::any());
    let (mut agent, agent_id) = register_agent(
        &master,
        "slave(1)",
        AgentInfo::new("node-1")
            .with_resources("cpus:4;mem:1024;ports:[31000-32000]".parse().unwrap())
            .with_attributes("rack:r1".parse().unwrap()),
    );
    pong.wait_timeout(PATIENCE)
        .expect("the agent answers the first ping");
    let (mut scheduler, framework_id) = register_framework(
        &master,
        "scheduler-1",
        FrameworkInfo::new("alice", "web-fw").with_role("web"),
    );
    launch_on_next_offer(
        &mut scheduler,
        &master,
        &framework_id,
        vec![TaskInfo::new(
            "t1",
            "task one",
            agent_id.clone(),
            "cpus:1;mem:256".parse().unwrap(),
        )
        .with_command(CommandInfo::shell("sleep 1"))],
    );
    let _run: RunTaskMessage = agent.expect();

    let addr = rt.addr();
    let (status, state) = http_get(addr, "/master/state");
    assert_eq!(status, 200);
    let info = master.info();
    assert_eq!(state["id"], info.id.as_str());
    assert_eq!(state["pid"], format!("master@{addr}"));
    assert_eq!(state["leader"], format!("master@{addr}"));
    assert_eq!(state["hostname"], "master-host");
    assert_eq!(state["version"], mesos::VERSION);
    assert_eq!(state["activated_slaves"], 1);
    assert_eq!(state["deactivated_slaves"], 0);
    assert!(state["start_time"].as_f64().unwrap() > 1.6e9);
    assert_eq!(state["leader_info"]["address"]["ip"], "127.0.0.1");
    assert_eq!(state["leader_info"]["address"]["port"], addr.port());
    assert_eq!(state["leader_info"]["address"]["hostname"], "master-host");
    assert_eq!(state["flags"]["agent_ping_timeout"], "15secs");

    let slave = &state["slaves"][0];
    assert_eq!(slave["id"], agent_id.as_str());
    assert_eq!(slave["pid"], agent.upid().to_string());
    assert_eq!(slave["hostname"], "node-1");
    assert_eq!(slave["active"], true);
    assert_eq!(slave["resources"]["cpus"], 4.0);
    assert_eq!(slave["resources"]["mem"], 1024.0);
    assert_eq!(slave["resources"]["disk"], 0.0);
    assert_eq!(slave["resources"]["ports"], "[31000-32000]");
    assert_eq!(slave["used_resources"]["cpus"], 1.0);
    assert_eq!(slave["used_resources"]["mem"], 256.0);
    assert_eq!(slave["attributes"]["rack"], "r1");

    let framework = &state["frameworks"][0];
    assert_eq!(framework["id"], framework_id.as_str());
    assert_eq!(framework["name"], "web-fw");
    assert_eq!(framework["user"], "alice");
    assert_eq!(framework["role"], "web");
    assert_eq!(framework["active"], true);
    assert_eq!(framework["connected"], true);
    assert_eq!(framework["pid"], scheduler.upid().to_string());
    assert_eq!(framework["used_resources"]["cpus"], 1.0);
    let task = &framework["tasks"][0];
    assert_eq!(task["id"], "t1");
    assert_eq!(task["name"], "task one");
    assert_eq!(task["state"], "TASK_STAGING");
    assert_eq!(task["framework_id"], framework_id.as_str());
    assert_eq!(task["slave_id"], agent_id.as_str());
    assert_eq!(task["resources"]["mem"], 256.0);
    assert_eq!(state["completed_frameworks"], serde_json::json!([]));
    assert!(
        !state.to_string().contains("null"),
        "nulls are omitted: {state}"
    );

    // The aliases answer the same document.
    for path in ["/master/state.json", "/state", "/state.json"] {
        let (status, alias) = http_get(addr, path);
        assert_eq!(status, 200, "{path}");
        assert_eq!(alias["id"], state["id"], "{path}");
        assert_eq!(alias["frameworks"][0]["tasks"][0]["id"], "t1", "{path}");
    }
    let (status, frameworks) = http_get(addr, "/master/frameworks");
    assert_eq!(status, 200);
    assert_eq!(frameworks["frameworks"][0]["id"], framework_id.as_str());
    let (status, slaves) = http_get(addr, "/master/slaves");
    assert_eq!(status, 200);
    assert_eq!(slaves["slaves"][0]["id"], agent_id.as_str());

    let (status, metrics) = http_get(addr, "/metrics/snapshot");
    assert_eq!(status, 200);
    assert_eq!(metrics["master/elected"], 1.0);
    assert_eq!(metrics["master/slaves_active"], 1.0);
    assert_eq!(metrics["master/frameworks_active"], 1.0);
    assert_eq!(metrics["master/tasks_staging"], 1.0);
    assert_eq!(metrics["master/tasks_running"], 0.0);
    assert_eq!(metrics["master/tasks_finished"], 0.0);
    assert_eq!(metrics["master/cpus_total"], 4.0);
    assert_eq!(metrics["master/cpus_used"], 1.0);
    assert_eq!(metrics["master/mem_total"], 1024.0);
    assert_eq!(metrics["master/mem_used"], 256.0);
    // Agent registration, its first pong, framework registration, launch.
    assert_eq!(metrics["master/messages_received"], 4.0);
    // The master started moments ago: a constant 0 (or a wall-clock time) would be wrong.
    let uptime = metrics["master/uptime_secs"].as_f64().unwrap();
    assert!(uptime > 0.0 && uptime < 120.0, "uptime_secs = {uptime}");
    assert!(metrics.as_object().unwrap().values().all(|v| v.is_number()));

    for path in ["/health", "/master/health"] {
        assert_eq!(http_get_raw(addr, path).0, 200, "{path}");
    }
    let (status, version) = http_get(addr, "/version");
    assert_eq!(status, 200);
    assert_eq!(version["version"], mesos::VERSION);
    assert_eq!(http_get(addr, "/master/nope").0, 404);
}
