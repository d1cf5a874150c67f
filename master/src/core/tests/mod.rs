//! Unit tests of the pure core: exact outputs for each input, time driven explicitly.
//! This file holds the harness; the tests are grouped by concern in the submodules.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use mesos::protocol::*;
use mesos::*;

use super::*;

mod agents;
mod changes;
mod frameworks;
mod launch;
mod recovery;
mod restarts;
mod sim_regressions;
mod tasks;
use crate::outputs::{Endpoint, Outgoing, Output};

/// A pid from its text form.
pub(super) fn upid(pid: &str) -> process::Upid {
    pid.parse().expect("a valid pid")
}

/// A driver-based scheduler's endpoint from its pid's text form.
pub(super) fn ep(pid: &str) -> Endpoint {
    Endpoint::Pid(upid(pid))
}

pub(super) const SCHED: &str = "scheduler-1@127.0.0.1:6000";
pub(super) const SCHED2: &str = "scheduler-2@127.0.0.1:6001";
pub(super) const AGENT: &str = "slave(1)@127.0.0.1:5051";
pub(super) const AGENT2: &str = "slave(1)@127.0.0.1:5052";

pub(super) fn config() -> CoreConfig {
    CoreConfig {
        master_info: MasterInfo::new("m1", Ipv4Addr::LOCALHOST, 5050, Some("h".into())),
        allocation_interval: Duration::from_secs(1),
        agent_ping_timeout: Duration::from_secs(15),
        max_agent_ping_timeouts: 5,
        offer_timeout: None,
        agent_reregister_timeout: Duration::from_secs(600),
        agent_reregistration_window: Duration::from_secs(5),
        start_wall_secs: 1_000.0,
        seed: 7,
    }
}

pub(super) struct Harness {
    pub(super) core: MasterCore,
    pub(super) now: Instant,
}

pub(super) fn sends(outputs: &[Output], to: &str) -> Vec<Outgoing> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { to: t, message } if t.to_string() == to => Some(message.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn updates(outputs: &[Output], to: &str) -> Vec<TaskStatus> {
    sends(outputs, to)
        .into_iter()
        .filter_map(|m| match m {
            Outgoing::StatusUpdate(u) => Some(u.update.status),
            _ => None,
        })
        .collect()
}

pub(super) fn offers_in(outputs: &[Output], to: &str) -> Vec<Offer> {
    sends(outputs, to)
        .into_iter()
        .flat_map(|m| match m {
            Outgoing::ResourceOffers(o) => o.offers,
            _ => Vec::new(),
        })
        .collect()
}

impl Harness {
    pub(super) fn new() -> Harness {
        Harness::with(config())
    }

    pub(super) fn with(config: CoreConfig) -> Harness {
        // Any base instant will do: the tests only move it forward explicitly.
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        Harness {
            core: MasterCore::new(config, now),
            now,
        }
    }

    pub(super) fn advance(&mut self, by: Duration) -> Vec<Output> {
        self.now += by;
        self.core.tick(self.now);
        self.core.drain_outputs()
    }

    pub(super) fn out(&mut self) -> Vec<Output> {
        self.core.drain_outputs()
    }

    pub(super) fn framework(&mut self, pid: &str, info: FrameworkInfo) -> FrameworkId {
        self.core.register_framework(
            self.now,
            &upid(pid),
            RegisterFrameworkMessage {
                framework: info,
                suppressed_roles: Vec::new(),
            },
        );
        let out = self.out();
        match sends(&out, pid).first() {
            Some(Outgoing::FrameworkRegistered(m)) => m.framework_id.clone(),
            other => panic!("expected FrameworkRegistered, got {other:?}"),
        }
    }

    pub(super) fn agent(&mut self, pid: &str, resources: &str) -> AgentId {
        self.core.register_agent(
            self.now,
            &upid(pid),
            RegisterSlaveMessage {
                agent: AgentInfo::new("node").with_resources(resources.parse().unwrap()),
                version: "1".into(),
            },
        );
        let out = self.out();
        match sends(&out, pid).first() {
            Some(Outgoing::SlaveRegistered(m)) => m.agent_id.clone(),
            other => panic!("expected SlaveRegistered, got {other:?}"),
        }
    }

    /// Runs the allocator now and returns the offers made to `pid`.
    pub(super) fn allocate(&mut self, pid: &str) -> Vec<Offer> {
        self.core.tick(self.now);
        let out = self.out();
        offers_in(&out, pid)
    }

    pub(super) fn launch(
        &mut self,
        pid: &str,
        fw: &FrameworkId,
        offers: &[&Offer],
        tasks: Vec<TaskInfo>,
    ) -> Vec<Output> {
        self.core.launch_tasks(
            self.now,
            &ep(pid),
            LaunchTasksMessage {
                framework_id: fw.clone(),
                tasks,
                filters: Filters::default(),
                offer_ids: offers.iter().map(|o| o.id.clone()).collect(),
            },
        );
        self.out()
    }

    pub(super) fn agent_update(
        &mut self,
        agent_pid: &str,
        fw: &FrameworkId,
        agent: &AgentId,
        task: &str,
        state: TaskState,
        n: u8,
    ) -> Vec<Output> {
        let status = TaskStatus::new(TaskId::new(task), state)
            .with_source(Source::Executor)
            .with_uuid(Uuid::from_bytes([n; 16]))
            .with_agent_id(agent.clone());
        self.core.status_update(
            self.now,
            &upid(agent_pid),
            StatusUpdateMessage {
                update: StatusUpdate {
                    framework_id: fw.clone(),
                    executor_id: None,
                    agent_id: Some(agent.clone()),
                    status,
                    timestamp: 1.0,
                    uuid: Uuid::from_bytes([n; 16]),
                },
                pid: Some(agent_pid.to_string()),
            },
        );
        self.out()
    }
}

pub(super) fn command_task(id: &str, agent: &AgentId, resources: &str) -> TaskInfo {
    TaskInfo::new(id, id, agent.clone(), resources.parse().unwrap())
        .with_command(CommandInfo::shell("true"))
}

/// A framework in role `web` (tests of the default role `*` live in the allocator's contract).
pub(super) fn fw_info(name: &str) -> FrameworkInfo {
    FrameworkInfo::new("u", name).with_role("web")
}

pub(super) fn partition_aware() -> FrameworkInfo {
    fw_info("pa").with_capability(FrameworkCapability::PartitionAware)
}

/// One framework, one agent, one offer of the whole agent.
pub(super) fn offered() -> (Harness, FrameworkId, AgentId, Offer) {
    let mut h = Harness::new();
    let fw = h.framework(SCHED, fw_info("f"));
    let agent = h.agent(AGENT, "cpus:4;mem:1024");
    let offers = h.allocate(SCHED);
    assert_eq!(offers.len(), 1);
    let offer = offers[0].clone();
    (h, fw, agent, offer)
}

pub(super) fn refusal(out: &[Output]) -> (TaskState, Reason, String) {
    let statuses = updates(out, SCHED);
    assert_eq!(statuses.len(), 1, "{out:?}");
    let s = &statuses[0];
    assert_eq!(s.source, Some(Source::Master));
    assert_eq!(s.uuid, None);
    (s.state, s.reason.unwrap(), s.message.clone().unwrap())
}

/// A framework (`info`) that launched task `t1` (cpus:1;mem:64) on an agent (cpus:4;mem:1024).
pub(super) fn launched(info: FrameworkInfo) -> (Harness, FrameworkId, AgentId) {
    let mut h = Harness::new();
    let fw = h.framework(SCHED, info);
    let agent = h.agent(AGENT, "cpus:4;mem:1024");
    let offers = h.allocate(SCHED);
    h.launch(
        SCHED,
        &fw,
        &[&offers[0]],
        vec![command_task("t1", &agent, "cpus:1;mem:64")],
    );
    (h, fw, agent)
}

/// As [`launched`], the agent then reporting `t1` RUNNING; outputs drained.
pub(super) fn running(info: FrameworkInfo) -> (Harness, FrameworkId, AgentId) {
    let (mut h, fw, agent) = launched(info);
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Running, 1);
    h.out();
    (h, fw, agent)
}

/// Registers an agent with a running task of `info`'s framework, then lets it miss its pings.
pub(super) fn agent_removed(info: FrameworkInfo) -> (Harness, FrameworkId, AgentId, Vec<Output>) {
    let (mut h, fw, agent) = running(info);
    // Answered pings keep it.
    for _ in 0..10 {
        let out = h.advance(Duration::from_secs(15));
        assert!(
            sends(&out, AGENT).contains(&Outgoing::PingSlave(PingSlaveMessage { connected: true }))
        );
        h.core.pong(h.now, &upid(AGENT));
    }
    // The next ping goes unanswered; four missed pings are tolerated, the fifth removes it.
    h.advance(Duration::from_secs(15));
    for _ in 0..4 {
        h.advance(Duration::from_secs(15));
        assert!(h.core.agents().contains_key(&agent));
    }
    assert!(h.core.agents().contains_key(&agent));
    let out = h.advance(Duration::from_secs(15));
    assert!(!h.core.agents().contains_key(&agent));
    (h, fw, agent, out)
}

pub(super) fn reregister_with_running_task(
    h: &mut Harness,
    fw: &FrameworkId,
    agent: &AgentId,
    info: FrameworkInfo,
) -> Vec<Output> {
    reregister_with_resources(h, fw, agent, info, "cpus:4;mem:1024")
}

/// As [`reregister_with_running_task`], the agent now offering `resources` in total.
pub(super) fn reregister_with_resources(
    h: &mut Harness,
    fw: &FrameworkId,
    agent: &AgentId,
    info: FrameworkInfo,
    resources: &str,
) -> Vec<Output> {
    reregister_reporting_in(h, fw, agent, info, resources, TaskState::Running)
}

/// The agent (cpus:4;mem:1024) re-registers reporting `t1` in `state`.
pub(super) fn reregister_reporting(
    h: &mut Harness,
    fw: &FrameworkId,
    agent: &AgentId,
    info: FrameworkInfo,
    state: TaskState,
) -> Vec<Output> {
    reregister_reporting_in(h, fw, agent, info, "cpus:4;mem:1024", state)
}

/// The agent re-registers offering `resources` in total, reporting `t1` in `state`.
pub(super) fn reregister_reporting_in(
    h: &mut Harness,
    fw: &FrameworkId,
    agent: &AgentId,
    mut info: FrameworkInfo,
    resources: &str,
    state: TaskState,
) -> Vec<Output> {
    info.id = Some(fw.clone());
    let mut task = Task::staging(&command_task("t1", agent, "cpus:1;mem:64"), fw, None);
    task.state = state;
    reregister_tasks(h, agent, info, resources, vec![task])
}

/// The agent `agent` (offering `resources` in total) re-registers at `AGENT` reporting `tasks` of
/// the framework `info` (which carries its id).
pub(super) fn reregister_tasks(
    h: &mut Harness,
    agent: &AgentId,
    info: FrameworkInfo,
    resources: &str,
    tasks: Vec<Task>,
) -> Vec<Output> {
    let mut agent_info = AgentInfo::new("node").with_resources(resources.parse().unwrap());
    agent_info.id = Some(agent.clone());
    h.core.reregister_agent(
        h.now,
        &upid(AGENT),
        ReregisterSlaveMessage {
            agent: agent_info,
            executors: vec![],
            tasks,
            frameworks: vec![info],
            version: "1".into(),
        },
    );
    h.out()
}
