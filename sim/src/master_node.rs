//! Master candidates and the election: only the leader runs a [`MasterCore`]; a standby drops
//! every message, as the master actor does. "ZooKeeper" is modelled by the world: the leader's
//! agent registry is published a moment after it changes, a crashed leader's session expires
//! after the session timeout, and detectors tell agents and schedulers about a new leader a
//! little later, each on its own.

use std::time::{Duration, Instant};

use master::{CoreConfig, Endpoint, MasterCore, Output};
use mesos::MasterInfo;
use process::{RemoteConnection, Upid};

use crate::faults::Host;
use crate::payload::Payload;
use crate::trace::TraceKind;
use crate::world::{Event, NodeKey, World};

/// ZooKeeper's session timeout: how long a crashed leader stays leader.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the leader's registry publisher looks for changes.
pub const PUBLISH_PERIOD: Duration = Duration::from_millis(200);

/// One master candidate.
pub struct MasterNode {
    pub(crate) index: usize,
    pub(crate) pid: Upid,
    pub(crate) alive: bool,
    pub(crate) incarnation: u32,
    /// The leader's state (a standby has none).
    pub(crate) core: Option<MasterCore>,
    armed: Option<(Duration, u64)>,
    generation: u64,
}

impl MasterNode {
    pub(crate) fn new(index: usize) -> MasterNode {
        MasterNode {
            index,
            pid: Upid::new("master", World::addr(0, index, 5050)).expect("a valid pid"),
            alive: true,
            incarnation: 0,
            core: None,
            armed: None,
            generation: 0,
        }
    }

    fn config(&self, seed: u64) -> CoreConfig {
        let ip = match self.pid.ip() {
            std::net::IpAddr::V4(ip) => ip,
            std::net::IpAddr::V6(_) => std::net::Ipv4Addr::LOCALHOST,
        };
        CoreConfig {
            // A new id per process start, as the real binary makes a fresh uuid.
            master_info: MasterInfo::new(
                format!("m{}-{}", self.index, self.incarnation),
                ip,
                self.pid.port(),
                Some(format!("master{}", self.index)),
            ),
            allocation_interval: Duration::from_secs(1),
            agent_ping_timeout: Duration::from_secs(5),
            max_agent_ping_timeouts: 3,
            offer_timeout: Some(Duration::from_secs(30)),
            agent_reregister_timeout: Duration::from_secs(60),
            agent_reregistration_window: Duration::from_secs(5),
            start_wall_secs: 1.7e9,
            seed: seed ^ ((self.index as u64) << 40) ^ (u64::from(self.incarnation) << 48),
        }
    }
}

impl World {
    /// The leading master's pid.
    pub(crate) fn leader_pid(&self) -> Option<Upid> {
        self.leader.map(|i| self.masters[i].pid.clone())
    }

    /// The leading master's core.
    pub(crate) fn leader_core(&self) -> Option<&MasterCore> {
        self.leader.and_then(|i| self.masters[i].core.as_ref())
    }

    /// Elects a live candidate (chosen by the seed); without one, tries again later.
    pub(crate) fn elect(&mut self) {
        if self.leader.is_some() {
            return;
        }
        let alive: Vec<usize> = (0..self.masters.len())
            .filter(|i| self.masters[*i].alive)
            .collect();
        if alive.is_empty() {
            self.election_pending = true;
            self.schedule(Duration::from_secs(1), Event::Elect);
            return;
        }
        let i = alive[self.net_rng.below(alive.len() as u64) as usize];
        let now = self.clock(Host::Master(i));
        let mut core = MasterCore::new(self.masters[i].config(self.seed), now);
        core.begin_recovery(now);
        core.hold_updates_until_published();
        core.recover_agents(now, Some(self.registry.clone()));
        self.masters[i].core = Some(core);
        self.leader = Some(i);
        self.published_generation = None;
        self.trace.note(
            self.now,
            TraceKind::Elected,
            None,
            Some(NodeKey::Master(i)),
            "",
        );
        self.master_input(i, |core, now| core.tick(now));
        // Detectors notice the new leader, each after its own delay.
        let watchers: Vec<NodeKey> = (0..self.agents.len())
            .map(NodeKey::Agent)
            .chain((0..self.schedulers.len()).map(NodeKey::Scheduler))
            .collect();
        for node in watchers {
            let delay = self.net_rng.millis(0, 2000);
            self.schedule(delay, Event::Detected(node));
        }
    }

    /// The leading master's process dies.
    pub(crate) fn crash_master(&mut self, i: usize) {
        let master = &mut self.masters[i];
        master.alive = false;
        master.core = None;
        master.armed = None;
        let pid = master.pid.clone();
        self.trace.note(
            self.now,
            TraceKind::Crash,
            None,
            Some(NodeKey::Master(i)),
            "",
        );
        self.crashed(&pid);
        if self.leader == Some(i) {
            self.leader = None;
            if !self.election_pending {
                self.election_pending = true;
                let delay = SESSION_TIMEOUT + self.net_rng.millis(0, 2000);
                self.schedule(delay, Event::Elect);
            }
        }
    }

    /// A crashed master comes back as a standby (a new process: a new id).
    pub(crate) fn restart_master(&mut self, i: usize) {
        if self.masters[i].alive {
            return;
        }
        self.masters[i].alive = true;
        self.masters[i].incarnation += 1;
        self.trace.note(
            self.now,
            TraceKind::Start,
            None,
            Some(NodeKey::Master(i)),
            "",
        );
        if self.leader.is_none() && !self.election_pending {
            self.election_pending = true;
            self.schedule(Duration::from_millis(100), Event::Elect);
        }
    }

    /// The publisher writes the leader's registry to "ZooKeeper".
    pub(crate) fn publish(&mut self) {
        self.publish_pending = false;
        let Some(leader) = self.leader else {
            return;
        };
        if let Some(core) = self.leader_core() {
            let (generation, agents) = core.registry();
            self.registry = agents;
            self.published_generation = Some(generation);
            // Written: the status updates that waited for it go out.
            self.master_input(leader, |core, now| core.registry_published(now, generation));
        }
    }

    /// A detector tells `node` who leads now.
    pub(crate) fn detected(&mut self, node: NodeKey) {
        let Some(leader) = self.leader_pid() else {
            return;
        };
        match node {
            NodeKey::Agent(i) => {
                self.agents[i].master = leader.clone();
                self.agent_input(i, |core, now| core.master_detected(now, leader));
            }
            NodeKey::Scheduler(i) => self.scheduler_detected(i, leader),
            _ => {}
        }
    }

    /// One input to master `i` if it leads (a standby drops it); performs the outputs.
    pub(crate) fn master_input(&mut self, i: usize, f: impl FnOnce(&mut MasterCore, Instant)) {
        if self.leader != Some(i) {
            return;
        }
        let now = self.clock(Host::Master(i));
        let Some(core) = self.masters[i].core.as_mut() else {
            return;
        };
        f(core, now);
        let outputs = core.drain_outputs();
        let generation = core.registry_generation();
        self.perform_master(i, outputs);
        if self.published_generation != Some(generation) && !self.publish_pending {
            self.publish_pending = true;
            self.schedule(PUBLISH_PERIOD, Event::Publish);
        }
        self.rearm_master(i);
    }

    pub(crate) fn rearm_master(&mut self, i: usize) {
        let Some(core) = self.masters[i].core.as_ref() else {
            return;
        };
        let now = self.clock(Host::Master(i));
        let at = self.global_at(Host::Master(i), core.next_deadline(now));
        let master = &mut self.masters[i];
        if master
            .armed
            .is_some_and(|(armed, _)| armed <= at && armed >= self.now)
        {
            return;
        }
        master.generation += 1;
        master.armed = Some((at, master.generation));
        let generation = master.generation;
        self.schedule_at(
            at,
            Event::Tick {
                node: NodeKey::Master(i),
                generation,
            },
        );
    }

    pub(crate) fn master_tick(&mut self, i: usize, generation: u64) {
        if self.masters[i].armed.map(|(_, g)| g) != Some(generation) {
            return;
        }
        self.masters[i].armed = None;
        self.master_input(i, |core, now| core.tick(now));
    }

    fn perform_master(&mut self, i: usize, outputs: Vec<Output>) {
        let from = self.masters[i].pid.clone();
        for output in outputs {
            match output {
                Output::Send {
                    to: Endpoint::Pid(to),
                    message,
                } => {
                    let payload = Payload::from(message);
                    self.observe_master_send(&to, &payload);
                    self.send(&from, &to, payload);
                }
                Output::Link {
                    pid,
                    connection: RemoteConnection::Reuse,
                } => self.link(&from, &pid),
                Output::Link {
                    pid,
                    connection: RemoteConnection::Reconnect,
                } => self.relink(&from, &pid),
                Output::Send { .. } | Output::CloseStream { .. } => {}
            }
        }
    }

    /// A message reaches master `i`.
    pub(crate) fn master_message(&mut self, i: usize, from: &Upid, payload: Payload) {
        if !self.masters[i].alive || self.leader != Some(i) {
            return;
        }
        let endpoint = Endpoint::Pid(from.clone());
        match payload {
            Payload::RegisterFrameworkMessage(m) => {
                self.master_input(i, |c, now| c.register_framework(now, from, m))
            }
            Payload::ReregisterFrameworkMessage(m) => {
                self.master_input(i, |c, now| c.reregister_framework(now, from, m))
            }
            Payload::RegisterSlaveMessage(m) => {
                self.master_input(i, |c, now| c.register_agent(now, from, m))
            }
            Payload::ReregisterSlaveMessage(m) => {
                self.master_input(i, |c, now| c.reregister_agent(now, from, m))
            }
            Payload::UnregisterFrameworkMessage(m) => {
                self.master_input(i, |c, now| c.unregister_framework(now, &endpoint, m))
            }
            Payload::DeactivateFrameworkMessage(m) => {
                self.master_input(i, |c, now| c.deactivate_framework(now, &endpoint, m))
            }
            Payload::LaunchTasksMessage(m) => self.master_launch(i, &endpoint, m),
            Payload::ReviveOffersMessage(m) => {
                self.master_input(i, |c, now| c.revive_offers(now, &endpoint, m))
            }
            Payload::SuppressOffersMessage(m) => {
                self.master_input(i, |c, now| c.suppress_offers(now, &endpoint, m))
            }
            Payload::KillTaskMessage(m) => {
                self.master_input(i, |c, now| c.kill_task(now, &endpoint, m))
            }
            Payload::StatusUpdateAcknowledgementMessage(m) => {
                self.master_input(i, |c, now| c.acknowledge(now, &endpoint, m))
            }
            Payload::ReconcileTasksMessage(m) => {
                self.master_input(i, |c, now| c.reconcile_tasks(now, &endpoint, m))
            }
            Payload::FrameworkToExecutorMessage(m) => {
                self.master_input(i, |c, now| c.framework_to_executor(now, &endpoint, m))
            }
            Payload::StatusUpdateMessage(m) => {
                self.master_input(i, |c, now| c.status_update(now, from, m))
            }
            Payload::ExecutorToFrameworkMessage(m) => {
                self.master_input(i, |c, now| c.executor_to_framework(now, from, m))
            }
            Payload::ExitedExecutorMessage(m) => {
                self.master_input(i, |c, now| c.exited_executor(now, from, m))
            }
            Payload::UnregisterSlaveMessage(m) => {
                self.master_input(i, |c, now| c.unregister_agent(now, from, m))
            }
            Payload::PongSlaveMessage(_) => self.master_input(i, |c, now| c.pong(now, from)),
            _ => {}
        }
    }
}
