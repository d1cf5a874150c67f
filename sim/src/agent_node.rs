//! Agents: an [`AgentCore`] per host, its checkpoints in a [`CheckpointStore`] that survives a
//! process crash, and the container driver's part played by the world (launching simulated
//! executors, killing them, reporting their exits, reattaching after a restart).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use agent::config::{ReconfigurationPolicy, RecoverMode};
use agent::core::{AgentCore, CoreConfig, ExecutorEndpoint, Output, RecoveryOptions, ToMaster};
use agent::launcher::ExitInfo;
use mesos::{AgentInfo, ContainerId};
use process::Upid;

use crate::executor_node::ExecutorNode;
use crate::faults::Host;
use crate::payload::Payload;
use crate::store::CheckpointStore;
use crate::trace::TraceKind;
use crate::world::{Event, NodeKey, World};

/// One agent host.
pub struct AgentNode {
    pub(crate) pid: Upid,
    pub(crate) info: AgentInfo,
    /// The running agent process (None while it is down).
    pub(crate) core: Option<AgentCore>,
    pub(crate) store: CheckpointStore,
    /// The master its detector last named.
    pub(crate) master: Upid,
    pub(crate) boot: u32,
    pub(crate) incarnation: u64,
    /// Decommissioned: never comes back.
    pub(crate) left: bool,
    pub(crate) cpus: f64,
    pub(crate) mem: f64,
    /// Every id the master gave this host's agents.
    pub(crate) ids: Vec<mesos::AgentId>,
    armed: Option<(Duration, u64)>,
    generation: u64,
}

impl AgentNode {
    fn config(&self, seed: u64, index: usize) -> CoreConfig {
        let mut config = CoreConfig::new(format!("/sim/agent{index}"));
        config.executor_registration_timeout = Duration::from_secs(60);
        config.executor_shutdown_grace_period = Duration::from_secs(3);
        config.status_update_retry_interval_min = Duration::from_secs(2);
        config.status_update_retry_interval_max = Duration::from_secs(30);
        config.registration_backoff_factor = Duration::from_secs(1);
        config.executor_reregistration_timeout = Duration::from_secs(2);
        config.start_wall_secs = 1.7e9;
        // Ids the core makes must not repeat across restarts.
        // Mixed, not xor-ed in: uuids overwrite some bits with their version, and two agent
        // processes must never make the same container id.
        config.seed =
            crate::rng::Rng::new(seed, 0xA6E7 + ((index as u64) << 20) + self.incarnation)
                .next_u64();
        config
    }
}

impl World {
    /// A new agent host (not started).
    pub(crate) fn add_agent(&mut self) -> usize {
        let index = self.agents.len();
        let cpus = [2.0, 4.0, 4.0, 8.0][self.work_rng.below(4) as usize];
        let mem = cpus * 1024.0;
        let pid = Upid::new("slave(1)", World::addr(1, index, 5051)).expect("a valid pid");
        let info = AgentInfo::new(format!("agent{index}")).with_resources(
            format!("cpus:{cpus};mem:{mem}")
                .parse()
                .expect("valid resources"),
        );
        let master = self
            .leader_pid()
            .unwrap_or_else(|| self.masters[0].pid.clone());
        self.routes.insert(pid.clone(), NodeKey::Agent(index));
        self.agents.push(AgentNode {
            pid,
            info,
            core: None,
            store: CheckpointStore::default(),
            master,
            boot: 0,
            incarnation: 0,
            left: false,
            cpus,
            mem,
            ids: Vec::new(),
            armed: None,
            generation: 0,
        });
        index
    }

    /// Starts agent `i`'s process: recovery from its checkpoints, then registration.
    pub(crate) fn start_agent(&mut self, i: usize) {
        let node = &mut self.agents[i];
        if node.core.is_some() || node.left {
            return;
        }
        node.incarnation += 1;
        let config = node.config(self.seed, i);
        let now = self.clock(Host::Agent(i));
        let node = &mut self.agents[i];
        let mut core = AgentCore::new(
            config,
            node.info.clone(),
            node.pid.clone(),
            node.master.clone(),
            now,
        );
        let options = RecoveryOptions {
            mode: RecoverMode::Reconnect,
            policy: ReconfigurationPolicy::Equal,
            boot_id: Some(format!("boot-{}", node.boot)),
        };
        let state = node.store.recovered();
        if let Err(error) = core.recover(now, state, &options) {
            let detail = format!("agent{i} cannot recover its own checkpoints: {error}");
            self.violate("agent_recovers", detail);
            return;
        }
        node.core = Some(core);
        self.trace.note(
            self.now,
            TraceKind::Start,
            None,
            Some(NodeKey::Agent(i)),
            "",
        );
        self.agent_input(i, |core, now| core.tick(now));
    }

    pub(crate) fn restart_agent(&mut self, i: usize) {
        if self.agents[i].core.is_none() && !self.agents[i].left {
            self.start_agent(i);
        }
    }

    /// Agent `i`'s process dies. With `reboot` its executors die too (the host went down); with
    /// `wipe` its checkpoints are gone.
    pub(crate) fn crash_agent(&mut self, i: usize, reboot: bool, wipe: bool) {
        let node = &mut self.agents[i];
        let was_up = node.core.take().is_some();
        node.armed = None;
        if reboot {
            node.boot += 1;
        }
        if wipe {
            node.store.wipe();
        }
        let pid = node.pid.clone();
        if was_up {
            self.trace.note(
                self.now,
                TraceKind::Crash,
                None,
                Some(NodeKey::Agent(i)),
                "",
            );
            self.crashed(&pid);
        }
        if reboot {
            let doomed: Vec<u64> = self
                .executors
                .iter()
                .filter(|(_, e)| e.alive && e.agent == i)
                .map(|(n, _)| *n)
                .collect();
            for n in doomed {
                self.kill_executor(n, 9, "host rebooted");
            }
        }
    }

    /// One input to agent `i` (if its process runs); performs the outputs.
    pub(crate) fn agent_input(&mut self, i: usize, f: impl FnOnce(&mut AgentCore, Instant)) {
        let now = self.clock(Host::Agent(i));
        let Some(core) = self.agents[i].core.as_mut() else {
            return;
        };
        f(core, now);
        let node = &mut self.agents[i];
        if let Some(id) = node.core.as_ref().and_then(|c| c.agent_id()) {
            if node.ids.last() != Some(id) {
                let id = id.clone();
                node.ids.push(id);
            }
        }
        self.perform_agent(i);
        self.rearm_agent(i);
    }

    pub(crate) fn rearm_agent(&mut self, i: usize) {
        let Some(core) = self.agents[i].core.as_ref() else {
            return;
        };
        let at = self.global_at(Host::Agent(i), core.next_deadline());
        let node = &mut self.agents[i];
        if node
            .armed
            .is_some_and(|(armed, _)| armed <= at && armed >= self.now)
        {
            return;
        }
        node.generation += 1;
        node.armed = Some((at, node.generation));
        let generation = node.generation;
        self.schedule_at(
            at,
            Event::Tick {
                node: NodeKey::Agent(i),
                generation,
            },
        );
    }

    pub(crate) fn agent_tick(&mut self, i: usize, generation: u64) {
        if self.agents[i].armed.map(|(_, g)| g) != Some(generation) {
            return;
        }
        self.agents[i].armed = None;
        self.agent_input(i, |core, now| core.tick(now));
    }

    fn perform_agent(&mut self, i: usize) {
        loop {
            let Some(core) = self.agents[i].core.as_mut() else {
                return;
            };
            let outputs = core.drain_outputs();
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                self.perform_agent_output(i, output);
            }
        }
    }

    fn perform_agent_output(&mut self, i: usize, output: Output) {
        let from = self.agents[i].pid.clone();
        match output {
            Output::Master { to, message } => {
                if let ToMaster::StatusUpdate(m) = &message {
                    self.observe_agent_forward(i, &m.update);
                }
                self.send(&from, &to, Payload::from(message));
            }
            Output::Executor {
                to: ExecutorEndpoint::Pid(to),
                message,
            } => self.send(&from, &to, Payload::from(message)),
            Output::Executor { .. } => {}
            Output::Link(pid) => self.link(&from, &pid),
            Output::Launch(spec) => {
                let n = self.next_executor;
                self.next_executor += 1;
                let agent_pid = self.agents[i].pid.clone();
                let executor = ExecutorNode::new(n, i, agent_pid, &spec);
                let pid = executor.pid.clone();
                let container_id = spec.container_id.clone();
                self.routes.insert(pid.clone(), NodeKey::Executor(n));
                self.executors.insert(n, executor);
                let now = self.clock(Host::Agent(i));
                if let Some(core) = self.agents[i].core.as_mut() {
                    core.executor_launched(now, &container_id, n as u32);
                }
                self.executor_start(n);
            }
            Output::DestroyContainer { container_id } => {
                if let Some(n) = self.executor_of(i, &container_id) {
                    self.kill_executor(n, 9, "terminated by signal SIGKILL");
                }
            }
            Output::Checkpoint(checkpoint) => self.agents[i].store.apply(&checkpoint),
            Output::RecoverContainers(kept) => {
                let now = self.clock(Host::Agent(i));
                let mut keep = BTreeSet::new();
                let mut gone = Vec::new();
                for container in kept {
                    match self.executor_of(i, &container.container_id) {
                        Some(n) if n as u32 == container.pid => {
                            keep.insert(n);
                        }
                        _ => gone.push(container.container_id),
                    }
                }
                // Orphans: every other executor on the host.
                let orphans: Vec<u64> = self
                    .executors
                    .iter()
                    .filter(|(n, e)| e.alive && e.agent == i && !keep.contains(n))
                    .map(|(n, _)| *n)
                    .collect();
                for n in orphans {
                    self.kill_executor_silently(n);
                }
                for container_id in gone {
                    if let Some(core) = self.agents[i].core.as_mut() {
                        let exit = ExitInfo {
                            wait_status: -1,
                            description: "terminated while the agent was down".into(),
                        };
                        core.executor_exited(now, &container_id, exit, None);
                    }
                }
            }
            Output::UpdateContainer { .. }
            | Output::CheckLimitations(_)
            | Output::RemoveDirectory(_) => {}
            Output::Terminate => {
                self.crash_agent(i, false, false);
            }
        }
    }

    /// The live executor of agent `i` running `container_id`.
    pub(crate) fn executor_of(&self, i: usize, container_id: &ContainerId) -> Option<u64> {
        self.executors
            .iter()
            .find(|(_, e)| e.alive && e.agent == i && &e.container_id == container_id)
            .map(|(n, _)| *n)
    }

    /// The agent's reaper saw an executor exit.
    pub(crate) fn reap(
        &mut self,
        i: usize,
        incarnation: u64,
        container_id: ContainerId,
        wait_status: i32,
        description: &'static str,
    ) {
        if self.agents[i].incarnation != incarnation {
            return;
        }
        let exit = ExitInfo {
            wait_status,
            description: description.into(),
        };
        self.agent_input(i, |core, now| {
            core.executor_exited(now, &container_id, exit, None)
        });
    }

    /// A message reaches agent `i`.
    pub(crate) fn agent_message(&mut self, i: usize, from: &Upid, payload: Payload) {
        if self.agents[i].core.is_none() {
            return;
        }
        let executor = ExecutorEndpoint::Pid(from.clone());
        match payload {
            Payload::SlaveRegisteredMessage(m) => {
                self.agent_input(i, |c, now| c.registered(now, from, m))
            }
            Payload::SlaveReregisteredMessage(m) => {
                self.agent_input(i, |c, now| c.reregistered(now, from, m))
            }
            Payload::PingSlaveMessage(m) => self.agent_input(i, |c, now| c.ping(now, from, m)),
            Payload::RunTaskMessage(m) => self.agent_input(i, |c, now| c.run_task(now, from, m)),
            Payload::KillTaskMessage(m) => self.agent_input(i, |c, now| c.kill_task(now, from, m)),
            Payload::StatusUpdateAcknowledgementMessage(m) => self.agent_ack(i, from, m),
            Payload::KillTasksOnReregistrationMessage(m) => {
                self.agent_input(i, |c, now| c.kill_tasks_on_reregistration(now, from, m))
            }
            Payload::ShutdownExecutorMessage(m) => {
                self.agent_input(i, |c, now| c.shutdown_executor_message(now, from, m))
            }
            Payload::ShutdownFrameworkMessage(m) => {
                self.agent_input(i, |c, now| c.shutdown_framework(now, from, m))
            }
            Payload::UpdateFrameworkMessage(m) => {
                self.agent_input(i, |c, now| c.update_framework(now, from, m))
            }
            Payload::ShutdownMessage(m) => self.agent_input(i, |c, now| c.shutdown(now, from, m)),
            Payload::FrameworkToExecutorMessage(m) => {
                self.agent_input(i, |c, now| c.framework_to_executor(now, from, m))
            }
            Payload::RegisterExecutorMessage(m) => {
                self.agent_input(i, |c, now| c.register_executor(now, executor, m))
            }
            Payload::ReregisterExecutorMessage(m) => {
                self.agent_input(i, |c, now| c.reregister_executor(now, executor, m))
            }
            Payload::StatusUpdateMessage(m) => {
                self.agent_input(i, |c, now| c.status_update(now, &executor, m.update, None))
            }
            Payload::ExecutorToFrameworkMessage(m) => {
                self.agent_input(i, |c, now| c.executor_to_framework(now, &executor, m))
            }
            _ => {}
        }
    }

    /// An acknowledgement reaches agent `i`: if it moves the task's stream on, the update is
    /// acknowledged for good and must never be sent again.
    fn agent_ack(
        &mut self,
        i: usize,
        from: &Upid,
        m: mesos::protocol::StatusUpdateAcknowledgementMessage,
    ) {
        let head = self.agents[i]
            .core
            .as_ref()
            .and_then(|c| c.updates().head(&m.framework_id, &m.task_id))
            .map(|u| u.uuid);
        let (framework_id, task_id, uuid) = (m.framework_id.clone(), m.task_id.clone(), m.uuid);
        self.agent_input(i, |c, now| c.acknowledgement(now, from, m));
        let after = self.agents[i]
            .core
            .as_ref()
            .and_then(|c| c.updates().head(&framework_id, &task_id))
            .map(|u| u.uuid);
        if head == Some(uuid) && after != Some(uuid) {
            self.observer.acknowledged.insert(uuid);
        }
    }
}
