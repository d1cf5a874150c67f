//! A master on a real runtime, a fake scheduler and a fake agent on two more runtimes, all over
//! loopback TCP: registration, offers, launch, status updates and acknowledgements, kill,
//! framework messages, failover.

mod util;

use ::master::MasterConfig;
use mesos::protocol::*;
use mesos::*;
use util::*;

/// A master with one registered agent (`cpus:4;mem:1024`) and one registered framework that has
/// received its first offer.
struct Cluster {
    _rt: process::Runtime,
    master: ::master::MasterHandle,
    agent: Peer,
    agent_id: AgentId,
    scheduler: Peer,
    framework_id: FrameworkId,
    offer: Offer,
}

fn framework_info() -> FrameworkInfo {
    FrameworkInfo::new("tester", "integration").with_role("web")
}

fn cluster() -> Cluster {
    let (rt, master) = start_master(MasterConfig::default());
    let mut agent = Peer::new("slave(1)");
    agent.send(
        master.pid(),
        RegisterSlaveMessage {
            agent: AgentInfo::new("node-1").with_resources("cpus:4;mem:1024".parse().unwrap()),
            version: mesos::VERSION.into(),
        },
    );
    let registered: SlaveRegisteredMessage = agent.expect();
    assert_eq!(registered.master_info, *master.info());
    assert_eq!(registered.ping_timeout_secs, 15.0);
    let _first_ping: PingSlaveMessage = agent.expect();

    let mut scheduler = Peer::new("scheduler-1");
    scheduler.send(
        master.pid(),
        RegisterFrameworkMessage {
            framework: framework_info(),
            suppressed_roles: vec![],
        },
    );
    let registered: FrameworkRegisteredMessage = scheduler.expect();
    let offers: ResourceOffersMessage = scheduler.expect();
    assert_eq!(offers.offers.len(), 1);
    assert_eq!(offers.pids, vec![agent.upid().to_string()]);
    let offer = offers.offers[0].clone();
    assert_eq!(offer.resources, "cpus:4;mem:1024".parse().unwrap());
    assert_eq!(offer.framework_id, registered.framework_id);
    Cluster {
        _rt: rt,
        master,
        agent_id: offer.agent_id.clone(),
        agent,
        framework_id: registered.framework_id,
        scheduler,
        offer,
    }
}

fn task(id: &str, agent: &AgentId) -> TaskInfo {
    TaskInfo::new(id, id, agent.clone(), "cpus:1;mem:128".parse().unwrap())
        .with_command(CommandInfo::shell("sleep 1"))
}

impl Cluster {
    fn launch(&self, tasks: Vec<TaskInfo>) {
        self.scheduler.send(
            self.master.pid(),
            LaunchTasksMessage {
                framework_id: self.framework_id.clone(),
                tasks,
                filters: Filters::default(),
                offer_ids: vec![self.offer.id.clone()],
            },
        );
    }

    fn agent_update(&self, task: &str, state: TaskState, uuid: u8) {
        let uuid = Uuid::from_bytes([uuid; 16]);
        self.agent.send(
            self.master.pid(),
            StatusUpdateMessage {
                update: StatusUpdate {
                    framework_id: self.framework_id.clone(),
                    executor_id: None,
                    agent_id: Some(self.agent_id.clone()),
                    status: TaskStatus::new(TaskId::new(task), state)
                        .with_source(Source::Executor)
                        .with_uuid(uuid)
                        .with_agent_id(self.agent_id.clone()),
                    timestamp: 1.0,
                    uuid,
                },
                pid: Some(self.agent.upid().to_string()),
            },
        );
    }
}

#[test]
fn launch_reaches_the_agent_and_updates_flow_back() {
    let mut c = cluster();
    c.launch(vec![task("t1", &c.agent_id)]);
    let run: RunTaskMessage = c.agent.expect();
    assert_eq!(run.task.task_id.as_str(), "t1");
    assert_eq!(run.framework_id, c.framework_id);
    assert_eq!(run.pid, c.scheduler.upid().to_string());

    c.agent_update("t1", TaskState::Running, 1);
    let forwarded: StatusUpdateMessage = c.scheduler.expect();
    assert_eq!(forwarded.update.status.state, TaskState::Running);
    assert_eq!(
        forwarded.pid.as_deref(),
        Some(c.agent.upid().to_string().as_str())
    );

    let ack = StatusUpdateAcknowledgementMessage {
        agent_id: c.agent_id.clone(),
        framework_id: c.framework_id.clone(),
        task_id: TaskId::new("t1"),
        uuid: Uuid::from_bytes([1; 16]),
    };
    c.scheduler.send(c.master.pid(), ack.clone());
    assert_eq!(c.agent.expect::<StatusUpdateAcknowledgementMessage>(), ack);

    let state = c.master.state();
    let task = &state["frameworks"][0]["tasks"][0];
    assert_eq!(task["id"], "t1");
    assert_eq!(task["state"], "TASK_RUNNING");
    assert_eq!(task["slave_id"], c.agent_id.as_str());

    // Kill goes to the agent; the KILLED update frees the resources.
    let kill = KillTaskMessage {
        framework_id: c.framework_id.clone(),
        task_id: TaskId::new("t1"),
    };
    c.scheduler.send(c.master.pid(), kill.clone());
    assert_eq!(c.agent.expect::<KillTaskMessage>(), kill);
    c.agent_update("t1", TaskState::Killed, 2);
    assert_eq!(
        c.scheduler
            .expect::<StatusUpdateMessage>()
            .update
            .status
            .state,
        TaskState::Killed
    );
    let metrics = c.master.metrics();
    assert_eq!(metrics["master/tasks_killed"], 1.0);
    assert_eq!(metrics["master/cpus_used"], 0.0);
}

#[test]
fn invalid_launch_is_refused_with_a_reason() {
    let mut c = cluster();
    let bad = TaskInfo::new("t1", "t1", c.agent_id.clone(), "cpus:100".parse().unwrap())
        .with_command(CommandInfo::shell("true"));
    c.launch(vec![bad]);
    let update: StatusUpdateMessage = c.scheduler.expect();
    let status = update.update.status;
    assert_eq!(status.state, TaskState::Error);
    assert_eq!(status.reason, Some(Reason::TaskInvalid));
    assert_eq!(status.source, Some(Source::Master));
    assert_eq!(
        status.message.as_deref(),
        Some("Task uses more resources (cpus:100) than are left in the offers (cpus:4;mem:1024)")
    );
    assert!(
        update.pid.is_none(),
        "master-made updates need no acknowledgement"
    );
    assert!(c
        .agent
        .try_expect::<RunTaskMessage>(std::time::Duration::from_millis(200))
        .is_none());
}

#[test]
fn framework_messages_are_relayed_both_ways() {
    let mut c = cluster();
    let to_executor = FrameworkToExecutorMessage {
        agent_id: c.agent_id.clone(),
        framework_id: c.framework_id.clone(),
        executor_id: ExecutorId::new("e1"),
        data: b"ping".to_vec(),
    };
    c.scheduler.send(c.master.pid(), to_executor.clone());
    assert_eq!(c.agent.expect::<FrameworkToExecutorMessage>(), to_executor);
    let to_framework = ExecutorToFrameworkMessage {
        agent_id: c.agent_id.clone(),
        framework_id: c.framework_id.clone(),
        executor_id: ExecutorId::new("e1"),
        data: b"pong".to_vec(),
    };
    c.agent.send(c.master.pid(), to_framework.clone());
    assert_eq!(
        c.scheduler.expect::<ExecutorToFrameworkMessage>(),
        to_framework
    );
}

#[test]
fn a_failed_over_scheduler_takes_over_and_the_old_one_is_told() {
    let mut c = cluster();
    c.launch(vec![task("t1", &c.agent_id)]);
    let _run: RunTaskMessage = c.agent.expect();
    let mut replacement = Peer::new("scheduler-2");
    let mut info = framework_info();
    info.id = Some(c.framework_id.clone());
    replacement.send(
        c.master.pid(),
        ReregisterFrameworkMessage {
            framework: info,
            failover: true,
            suppressed_roles: vec![],
        },
    );
    let registered: FrameworkRegisteredMessage = replacement.expect();
    assert_eq!(registered.framework_id, c.framework_id);
    assert_eq!(
        c.scheduler.expect::<FrameworkErrorMessage>().message,
        "Framework failed over"
    );
    let update: UpdateFrameworkMessage = c.agent.expect();
    assert_eq!(update.pid, replacement.upid().to_string());
    // Updates now go to the new scheduler.
    c.agent_update("t1", TaskState::Running, 1);
    assert_eq!(
        replacement
            .expect::<StatusUpdateMessage>()
            .update
            .status
            .state,
        TaskState::Running
    );
}

#[test]
fn a_broken_scheduler_connection_starts_the_failover_timeout() {
    let mut c = cluster();
    c.launch(vec![task("t1", &c.agent_id)]);
    let _run: RunTaskMessage = c.agent.expect();
    // The scheduler's node goes away: the master's link breaks; failover_timeout 0 tears down.
    drop(c.scheduler);
    let shutdown: ShutdownFrameworkMessage = c.agent.expect();
    assert_eq!(shutdown.framework_id, c.framework_id);
    let state = c.master.state();
    assert_eq!(state["frameworks"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        state["completed_frameworks"][0]["id"],
        c.framework_id.as_str()
    );
}

#[test]
fn a_restarted_master_rebuilds_from_reregistering_agent_and_scheduler() {
    let mut c = cluster();
    c.launch(vec![task("t1", &c.agent_id)]);
    let _run: RunTaskMessage = c.agent.expect();
    c.agent_update("t1", TaskState::Running, 1);
    let _running: StatusUpdateMessage = c.scheduler.expect();

    // A new master on the same runtime (same pid), with no state.
    c.master.stop();
    assert!(c.master.wait_timeout(PATIENCE), "the master terminates");
    let restarted = ::master::Master::spawn(&c._rt, MasterConfig::default()).expect("respawns");
    assert_eq!(restarted.pid(), c.master.pid());
    assert_ne!(restarted.info().id, c.master.info().id);

    let mut info = AgentInfo::new("node-1").with_resources("cpus:4;mem:1024".parse().unwrap());
    info.id = Some(c.agent_id.clone());
    let mut running = Task::staging(&task("t1", &c.agent_id), &c.framework_id, None);
    running.state = TaskState::Running;
    let mut fw = framework_info();
    fw.id = Some(c.framework_id.clone());
    c.agent.send(
        restarted.pid(),
        ReregisterSlaveMessage {
            agent: info,
            executors: vec![],
            tasks: vec![running],
            frameworks: vec![fw.clone()],
            version: mesos::VERSION.into(),
        },
    );
    let _: SlaveReregisteredMessage = c.agent.expect();
    c.scheduler.send(
        restarted.pid(),
        ReregisterFrameworkMessage {
            framework: fw,
            failover: false,
            suppressed_roles: vec![],
        },
    );
    let reregistered: FrameworkReregisteredMessage = c.scheduler.expect();
    assert_eq!(reregistered.framework_id, c.framework_id);
    assert_eq!(reregistered.master_info, *restarted.info());
    // Offers hold only what the running task leaves free.
    let offers: ResourceOffersMessage = c.scheduler.expect();
    assert_eq!(
        offers.offers[0].resources,
        "cpus:3;mem:896".parse().unwrap()
    );
    let state = restarted.state();
    assert_eq!(state["frameworks"][0]["tasks"][0]["id"], "t1");
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 1.0);
}

#[test]
fn a_broken_agent_connection_rescinds_its_offers() {
    let mut c = cluster();
    let offer_id = c.offer.id.clone();
    drop(c.agent);
    let rescind: RescindResourceOfferMessage = c.scheduler.expect();
    assert_eq!(rescind.offer_id, offer_id);
    let state = c.master.state();
    assert_eq!(state["deactivated_slaves"], 1);
    assert_eq!(state["slaves"][0]["active"], false);
}

#[test]
fn a_framework_with_the_default_role_registers_and_is_offered() {
    let (_rt, master) = start_master(MasterConfig::default());
    let mut agent = Peer::new("slave(1)");
    agent.send(
        master.pid(),
        RegisterSlaveMessage {
            agent: AgentInfo::new("node-1").with_resources("cpus:2;mem:512".parse().unwrap()),
            version: mesos::VERSION.into(),
        },
    );
    let _: SlaveRegisteredMessage = agent.expect();
    let mut scheduler = Peer::new("scheduler-1");
    scheduler.send(
        master.pid(),
        RegisterFrameworkMessage {
            framework: FrameworkInfo::new("tester", "default-role"),
            suppressed_roles: vec![],
        },
    );
    let _: FrameworkRegisteredMessage = scheduler.expect();
    let offers: ResourceOffersMessage = scheduler.expect();
    assert_eq!(
        offers.offers[0].resources,
        "cpus:2;mem:512".parse().unwrap()
    );
    assert_eq!(master.state()["frameworks"][0]["role"], "*");
}
