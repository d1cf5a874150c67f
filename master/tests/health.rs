//! Agent health over real TCP with the master's clock paused: lost pongs (dropped by a filter)
//! remove the agent after `max_agent_ping_timeouts` rounds; no sleeps.

mod util;

use std::time::Duration;

use ::master::MasterConfig;
use mesos::protocol::*;
use mesos::*;

use process::MessageMatch;
use util::*;

#[test]
fn missed_pongs_remove_the_agent_and_its_tasks_become_lost() {
    let (rt, master) = start_master(MasterConfig::default());
    rt.clock().pause();
    // Every pong is lost on its way into the master's runtime.
    let dropped = rt
        .filters()
        .drop_messages::<PongSlaveMessage>(MessageMatch::any());

    let (mut scheduler, framework_id) = register_framework(
        &master,
        "scheduler-1",
        FrameworkInfo::new("u", "health").with_role("web"),
    );

    let (mut agent, agent_id) = register_agent(
        &master,
        "slave(1)",
        AgentInfo::new("node").with_resources("cpus:2;mem:512".parse().unwrap()),
    );
    launch_on_next_offer(
        &mut scheduler,
        &master,
        &framework_id,
        vec![
            TaskInfo::new("t1", "t1", agent_id.clone(), "cpus:1".parse().unwrap())
                .with_command(CommandInfo::shell("sleep 100")),
        ],
    );
    let _run: RunTaskMessage = agent.expect();
    let _ping: PingSlaveMessage = agent.expect();

    // Four rounds without a pong: still registered (each round pings again).
    for round in 1..=4 {
        rt.clock().advance(Duration::from_secs(15));
        rt.settle();
        let _ping: PingSlaveMessage = agent.expect();
        assert_eq!(
            master.metrics()["master/slaves_active"],
            1.0,
            "after {round} missed pings"
        );
    }
    // The fifth: removed.
    rt.clock().advance(Duration::from_secs(15));
    rt.settle();
    let lost: StatusUpdateMessage = scheduler.expect();
    assert_eq!(lost.update.status.task_id.as_str(), "t1");
    assert_eq!(lost.update.status.state, TaskState::Lost);
    assert_eq!(lost.update.status.reason, Some(Reason::AgentRemoved));
    assert_eq!(scheduler.expect::<LostSlaveMessage>().agent_id, agent_id);
    assert!(
        dropped.dropped() >= 5,
        "pongs were dropped: {}",
        dropped.dropped()
    );
    let metrics = master.metrics();
    assert_eq!(metrics["master/slaves_active"], 0.0);
    assert_eq!(metrics["master/slaves_unreachable"], 1.0);
    assert_eq!(metrics["master/tasks_lost"], 1.0);
    assert_eq!(metrics["master/slave_removals"], 1.0);

    // LOST means lost: the agent comes back with the task still running.
    let mut task = Task::staging(
        &TaskInfo::new("t1", "t1", agent_id.clone(), "cpus:1".parse().unwrap()),
        &framework_id,
        None,
    );
    task.state = TaskState::Running;
    let mut info = AgentInfo::new("node").with_resources("cpus:2;mem:512".parse().unwrap());
    info.id = Some(agent_id.clone());
    let mut framework = FrameworkInfo::new("u", "health").with_role("web");
    framework.id = Some(framework_id.clone());
    agent.send(
        master.pid(),
        ReregisterSlaveMessage {
            agent: info,
            executors: vec![],
            tasks: vec![task],
            frameworks: vec![framework],
            version: "1".into(),
        },
    );
    assert_eq!(
        agent.expect::<SlaveReregisteredMessage>().agent_id,
        agent_id
    );
    // One message kills them all (the agent kills each task it names).
    let kills: KillTasksOnReregistrationMessage = agent.expect();
    assert_eq!(kills.tasks, vec![(framework_id.clone(), TaskId::new("t1"))]);
    // Its RUNNING update is acknowledged by the master itself and never reaches the scheduler.
    let uuid = Uuid::from_bytes([3; 16]);
    agent.send(
        master.pid(),
        StatusUpdateMessage {
            update: StatusUpdate {
                framework_id: framework_id.clone(),
                executor_id: None,
                agent_id: Some(agent_id.clone()),
                status: TaskStatus::new(TaskId::new("t1"), TaskState::Running).with_uuid(uuid),
                timestamp: 1.0,
                uuid,
            },
            pid: None,
        },
    );
    assert_eq!(
        agent.expect::<StatusUpdateAcknowledgementMessage>().uuid,
        uuid
    );
    assert!(scheduler
        .try_expect::<StatusUpdateMessage>(Duration::from_millis(200))
        .is_none());
    assert_eq!(
        master.state()["frameworks"][0]["tasks"],
        serde_json::json!([])
    );
}

#[test]
fn answered_pings_keep_the_agent() {
    let (rt, master) = start_master(MasterConfig::default());
    rt.clock().pause();
    let mut agent = Peer::new("slave(1)");
    // Each pong is awaited before time moves on (installed before the ping that causes it).
    let mut pong = rt
        .filters()
        .await_message::<PongSlaveMessage>(MessageMatch::any());
    agent.send(
        master.pid(),
        RegisterSlaveMessage {
            agent: AgentInfo::new("node").with_resources("cpus:1;mem:64".parse().unwrap()),
            version: "1".into(),
        },
    );
    let _: SlaveRegisteredMessage = agent.expect();
    for _ in 0..10 {
        let _ping: PingSlaveMessage = agent.expect();
        pong.wait_timeout(PATIENCE).expect("pong arrives");
        rt.settle();
        pong = rt
            .filters()
            .await_message::<PongSlaveMessage>(MessageMatch::any());
        rt.clock().advance(Duration::from_secs(15));
        rt.settle();
    }
    assert_eq!(master.metrics()["master/slaves_active"], 1.0);
    assert_eq!(master.metrics()["master/slave_removals"], 0.0);
}
