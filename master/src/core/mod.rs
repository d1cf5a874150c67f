//! [`MasterCore`]: the master's bookkeeping, validation, health and failover logic as a pure state
//! machine.
//!
//! The core does no I/O and reads no clock. Every input carries `now` (the runtime clock's time) and
//! the sender's pid; every effect is an [`Output`] the driver drains with
//! [`MasterCore::drain_outputs`]. [`MasterCore::next_deadline`] says when to call
//! [`MasterCore::tick`] (ping rounds, offer timeouts, failover timeouts, allocation batches).
//!
//! The allocator is owned here rather than run as its own actor: every allocator call is then a
//! plain method call in the same turn (no extra message hop, no second copy of the state), and the
//! allocator's `poll`/`poll_timeout` API already provides Mesos's batching (one run per
//! `allocation_interval`, plus one coalesced run for the events that trigger allocation).
//!
//! ```
//! use std::net::Ipv4Addr;
//! use std::time::{Duration, Instant};
//! use master::{CoreConfig, MasterCore, Outgoing, Output};
//! use mesos::protocol::{RegisterFrameworkMessage, RegisterSlaveMessage};
//! use mesos::{AgentInfo, FrameworkInfo, MasterInfo};
//!
//! let now = Instant::now(); // a driver passes its runtime clock's time
//! let mut core = MasterCore::new(
//!     CoreConfig {
//!         master_info: MasterInfo::new("m1", Ipv4Addr::LOCALHOST, 5050, None),
//!         allocation_interval: Duration::from_secs(1),
//!         agent_ping_timeout: Duration::from_secs(15),
//!         max_agent_ping_timeouts: 5,
//!         offer_timeout: None,
//!         agent_reregister_timeout: Duration::from_secs(600),
//!         agent_reregistration_window: Duration::from_secs(5),
//!         start_wall_secs: 1.7e9,
//!         seed: 1,
//!     },
//!     now,
//! );
//! let agent = AgentInfo::new("node-1").with_resources("cpus:4;mem:4096".parse()?);
//! core.register_agent(now, &"slave(1)@10.0.0.2:5051".parse()?, RegisterSlaveMessage { agent, version: "1".into() });
//! let framework = FrameworkInfo::new("alice", "web").with_role("web");
//! let scheduler: process::Upid = "scheduler-1@10.0.0.3:7000".parse()?;
//! core.register_framework(now, &scheduler, RegisterFrameworkMessage { framework, suppressed_roles: vec![] });
//! assert!(core.next_deadline(now) <= now); // registration triggered an allocation
//! core.tick(now);
//! let offers: Vec<_> = core
//!     .drain_outputs()
//!     .into_iter()
//!     .filter_map(|o| match o {
//!         Output::Send { to, message: Outgoing::ResourceOffers(m) } => Some((to, m.offers)),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(offers.len(), 1);
//! assert_eq!(offers[0].0, master::Endpoint::Pid(scheduler));
//! assert_eq!(offers[0].1[0].resources.to_string(), "cpus:4;mem:4096");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod agents;
mod changes;
mod frameworks;
mod hold;
mod http;
mod recovery;
mod shared;
mod state;
mod tasks;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use allocator::{Allocator, AllocatorConfig, HierarchicalDrfAllocator, OfferGrant};
use mesos::protocol::*;
use mesos::{
    AgentId, ExecutorId, FrameworkId, MasterInfo, Offer, OfferId, Reason, Source, TaskId,
    TaskState, TaskStatus, Uuid,
};

use process::{RemoteConnection, Upid};

use crate::outputs::{Endpoint, Outgoing, Output, StreamId};

pub use changes::Change;
pub use frameworks::validate_framework;
pub use http::Refusal;
pub use recovery::RegisteredAgent;
pub use shared::SharedMap;
pub use state::*;

/// The pure core's settings (the master's flags, minus the network ones).
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Who this master is (id, pid, hostname, version, address).
    pub master_info: MasterInfo,
    /// Period of batch allocations.
    pub allocation_interval: Duration,
    /// Time between pings to an agent; an unanswered ping counts as missed after it.
    pub agent_ping_timeout: Duration,
    /// Missed pings after which an agent is removed.
    pub max_agent_ping_timeouts: u32,
    /// Offers are rescinded after this long, if set.
    pub offer_timeout: Option<Duration>,
    /// How long after this master started unknown agents are treated as possibly re-registering
    /// (reconciliation does not answer for them), and how long a framework recovered from agents
    /// waits for its scheduler at least.
    pub agent_reregister_timeout: Duration,
    /// After an election, offers wait at most this long for the previous leader's agents to
    /// re-register (less when they are all back sooner).
    pub agent_reregistration_window: Duration,
    /// Wall time (Unix seconds) at the `now` given to [`MasterCore::new`]; timestamps derive from it.
    pub start_wall_secs: f64,
    /// Seed of the allocator's agent shuffle and of the update uuids the master makes.
    pub seed: u64,
}

/// A timer the core wants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Deadline {
    Ping(AgentId),
    OfferTimeout(OfferId),
    Failover(FrameworkId),
    ReregisterTimeout,
    /// Runs the allocator on the agents in `MasterCore::freed_agents`.
    FreedResources,
}

/// How long resources that finished tasks freed wait before their agents get an allocation run of
/// their own (at most `allocation_interval`): a burst of task ends costs one run, and a framework
/// waiting for the resources does not wait for the next batch.
pub const FREED_RESOURCES_DELAY: Duration = Duration::from_millis(5);

/// The master's state machine; see the [module docs](self).
pub struct MasterCore {
    config: CoreConfig,
    start: Instant,
    allocator: HierarchicalDrfAllocator,
    frameworks: BTreeMap<FrameworkId, Framework>,
    framework_by_pid: HashMap<Upid, FrameworkId>,
    completed_frameworks: VecDeque<Framework>,
    removed_framework_ids: HashSet<FrameworkId>,
    agents: SharedMap<AgentId, Agent>,
    agent_by_pid: HashMap<Upid, AgentId>,
    removed_agents: BTreeMap<AgentId, RemovedAgent>,
    offers: SharedMap<OfferId, OfferEntry>,
    deadlines: BinaryHeap<Reverse<(Instant, Deadline)>>,
    /// Agents where finished tasks or executors freed resources since the last
    /// `Deadline::FreedResources` (armed while this is not empty).
    freed_agents: std::collections::BTreeSet<AgentId>,
    outbox: Vec<Output>,
    changes: changes::ChangeLog,
    counters: Counters,
    next_framework: u64,
    next_agent: u64,
    next_offer: u64,
    next_uuid: u64,
    recovery: Option<recovery::Recovery>,
    registry_generation: u64,
    /// Status updates waiting for the registry to be published (see [`hold`]).
    hold: hold::UpdateHold,
    /// Allocator runs started (a batch run the allocator skipped as unchanged counts too).
    allocation_runs_started: u64,
    allocation_run_times: crate::allocation_runs::AllocationRunTimes,
    /// `--acls`: `run_tasks` is checked for every task launched (see [`crate::acl`]).
    acls: std::sync::Arc<mesos::acl::Acls>,
}

impl std::fmt::Debug for MasterCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterCore")
            .field("id", &self.config.master_info.id)
            .field("frameworks", &self.frameworks.len())
            .field("agents", &self.agents.len())
            .field("offers", &self.offers.len())
            .finish()
    }
}

impl MasterCore {
    /// A master with no agents and no frameworks, started at `now`.
    pub fn new(config: CoreConfig, now: Instant) -> MasterCore {
        let allocator = HierarchicalDrfAllocator::new(AllocatorConfig {
            allocation_interval: config.allocation_interval,
            seed: config.seed,
            ..AllocatorConfig::default()
        });
        let config_start_ms = config.start_wall_secs * 1e3;
        MasterCore {
            config,
            start: now,
            allocator,
            frameworks: BTreeMap::new(),
            framework_by_pid: HashMap::new(),
            completed_frameworks: VecDeque::new(),
            removed_framework_ids: HashSet::new(),
            agents: SharedMap::new(),
            agent_by_pid: HashMap::new(),
            removed_agents: BTreeMap::new(),
            offers: SharedMap::new(),
            deadlines: BinaryHeap::new(),
            freed_agents: std::collections::BTreeSet::new(),
            outbox: Vec::new(),
            changes: changes::ChangeLog::default(),
            counters: Counters::default(),
            next_framework: 0,
            next_agent: 0,
            next_offer: 0,
            next_uuid: 0,
            recovery: None,
            // Distinct per core (a new one per election), so a publisher comparing generations
            // never mistakes a new leader's registry for the old one's.
            registry_generation: ((config_start_ms) as u64) << 20,
            hold: hold::UpdateHold::default(),
            allocation_runs_started: 0,
            allocation_run_times: Default::default(),
            acls: Default::default(),
        }
    }

    /// The ACLs tasks are authorized against (`run_tasks`; default: everything allowed).
    pub fn acls(&self) -> &std::sync::Arc<mesos::acl::Acls> {
        &self.acls
    }

    /// Sets the ACLs tasks are authorized against.
    pub fn set_acls(&mut self, acls: std::sync::Arc<mesos::acl::Acls>) {
        self.acls = acls;
    }

    /// This master's description.
    pub fn info(&self) -> &MasterInfo {
        &self.config.master_info
    }

    /// The settings in use.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// Takes the outputs produced so far, in order.
    pub fn drain_outputs(&mut self) -> Vec<Output> {
        // The outbox keeps its capacity: it is not grown again from empty for every input (a
        // failover's thousands of re-registrations each produce a handful of outputs).
        let mut outputs = Vec::with_capacity(self.outbox.len());
        outputs.append(&mut self.outbox);
        self.hold.filter(self.registry_generation, &mut outputs);
        outputs
    }

    /// Registered and recovered frameworks.
    pub fn frameworks(&self) -> &BTreeMap<FrameworkId, Framework> {
        &self.frameworks
    }

    /// Removed frameworks, oldest first (bounded).
    pub fn completed_frameworks(&self) -> &VecDeque<Framework> {
        &self.completed_frameworks
    }

    /// Registered agents.
    pub fn agents(&self) -> &SharedMap<AgentId, Agent> {
        &self.agents
    }

    /// Agents removed as unreachable (or unregistered), remembered so LOST stays lost.
    pub fn removed_agents(&self) -> &BTreeMap<AgentId, RemovedAgent> {
        &self.removed_agents
    }

    /// Outstanding offers.
    pub fn offers(&self) -> &SharedMap<OfferId, OfferEntry> {
        &self.offers
    }

    /// The counters behind `/metrics/snapshot`.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The allocator (read-only: for inspection in tests and endpoints).
    pub fn allocator(&self) -> &HierarchicalDrfAllocator {
        &self.allocator
    }

    /// When this master started (the `now` given to [`MasterCore::new`]).
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Wall time (Unix seconds) at `now`.
    pub fn wall(&self, now: Instant) -> f64 {
        self.config.start_wall_secs + now.saturating_duration_since(self.start).as_secs_f64()
    }

    /// How many allocation runs [`MasterCore::tick`] has started: the driver compares it before
    /// and after a tick to know whether to time it as an allocation run.
    pub fn allocation_runs_started(&self) -> u64 {
        self.allocation_runs_started
    }

    /// Records how long a tick that ran the allocator took (measured by the driver).
    pub fn record_allocation_run(&mut self, took: Duration) {
        self.allocation_run_times.record(took);
    }

    /// The allocation runs measured so far.
    pub fn allocation_run_times(&self) -> &crate::allocation_runs::AllocationRunTimes {
        &self.allocation_run_times
    }

    /// Counts one received message (for `master/messages_received`).
    pub fn count_message(&mut self) {
        self.counters.messages_received += 1;
    }

    /// When [`MasterCore::tick`] next has work: the earliest ping, offer timeout, failover timeout
    /// or allocation. At or before `now` means "call `tick` now".
    pub fn next_deadline(&self, now: Instant) -> Instant {
        // While offers are held back the allocator waits for the hold to end, not its batch.
        let allocation = match self.hold_deadline(now) {
            Some(until) => until,
            None => now + self.allocator.poll_timeout(now),
        };
        match self.deadlines.peek() {
            Some(Reverse((at, _))) => allocation.min(*at),
            None => allocation,
        }
    }

    /// Runs everything due at `now`: pings (and removal of agents that missed too many), offer
    /// timeouts, failover timeouts, then the allocator's batch or triggered run.
    pub fn tick(&mut self, now: Instant) {
        while let Some(Reverse((at, _))) = self.deadlines.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, deadline))) = self.deadlines.pop() else {
                break;
            };
            match deadline {
                Deadline::Ping(agent) => self.ping_due(now, at, &agent),
                Deadline::OfferTimeout(offer) => {
                    if self
                        .offers
                        .get(&offer)
                        .is_some_and(|o| o.expires == Some(at))
                    {
                        tracing::info!(%offer, "offer timed out: rescinding");
                        self.rescind_offer(now, &offer, true);
                    }
                }
                Deadline::Failover(framework) => self.failover_due(now, at, &framework),
                Deadline::ReregisterTimeout => self.reregister_timeout_due(now),
                Deadline::FreedResources => {
                    for agent in std::mem::take(&mut self.freed_agents) {
                        self.allocator.trigger_allocation(agent.as_str());
                    }
                }
            }
        }
        self.allocate(now);
    }

    /// A finished task or executor gave `agent`'s resources back: its agent gets an allocation
    /// run of its own after [`FREED_RESOURCES_DELAY`] (coalescing the ends that follow), rather
    /// than at the next batch.
    fn resources_freed(&mut self, now: Instant, agent: &AgentId) {
        if self.freed_agents.is_empty() {
            let delay = FREED_RESOURCES_DELAY.min(self.config.allocation_interval);
            self.deadlines
                .push(Reverse((now + delay, Deadline::FreedResources)));
        }
        self.freed_agents.insert(agent.clone());
    }

    fn allocate(&mut self, now: Instant) {
        if self.holding_offers(now) || !self.allocator.poll_timeout(now).is_zero() {
            return;
        }
        self.allocation_runs_started += 1;
        let grants = self.allocator.poll(now);
        if grants.is_empty() {
            return;
        }
        self.make_offers(now, grants);
    }

    /// Turns allocator grants into offers, one `ResourceOffersMessage` per framework.
    fn make_offers(&mut self, now: Instant, grants: Vec<OfferGrant>) {
        let mut by_framework: BTreeMap<FrameworkId, (Vec<Offer>, Vec<String>)> = BTreeMap::new();
        for grant in grants {
            let framework_id = FrameworkId::new(&*grant.framework);
            let agent_id = AgentId::new(&*grant.agent);
            let usable = self
                .frameworks
                .get(&framework_id)
                .is_some_and(|f| f.active && f.connected && f.endpoint.is_some())
                && self.agents.get(&agent_id).is_some_and(|a| a.connected);
            if !usable {
                self.recover(
                    now,
                    &framework_id,
                    &grant.role,
                    &agent_id,
                    &grant.resources,
                    None,
                );
                continue;
            }
            let offer_id = OfferId::new(format!(
                "{}-O{}",
                self.config.master_info.id, self.next_offer
            ));
            self.next_offer += 1;
            let (Some(framework), Some(agent)) = (
                self.frameworks.get_mut(&framework_id),
                self.agents.get_mut(&agent_id),
            ) else {
                continue;
            };
            let offer = Offer {
                id: offer_id.clone(),
                framework_id: framework_id.clone(),
                agent_id: agent_id.clone(),
                hostname: agent.info.hostname.clone(),
                resources: grant.resources,
                attributes: agent.info.attributes.clone(),
                executor_ids: framework
                    .executors
                    .get(&agent_id)
                    .map(|e| e.keys().cloned().collect())
                    .unwrap_or_default(),
            };
            framework.offers.insert(offer_id.clone());
            agent.offers.insert(offer_id.clone());
            let expires = self.config.offer_timeout.map(|t| now + t);
            if let Some(at) = expires {
                self.deadlines
                    .push(Reverse((at, Deadline::OfferTimeout(offer_id.clone()))));
            }
            let entry = by_framework.entry(framework_id).or_default();
            entry.0.push(offer.clone());
            entry.1.push(agent.pid.to_string());
            self.offers.insert(
                offer_id,
                OfferEntry {
                    offer,
                    role: grant.role.to_string(),
                    expires,
                },
            );
            self.counters.offers_sent += 1;
        }
        for (framework_id, (offers, pids)) in by_framework {
            if let Some(endpoint) = self
                .frameworks
                .get(&framework_id)
                .and_then(|f| f.endpoint.clone())
            {
                self.send_to(&endpoint, ResourceOffersMessage { offers, pids });
            }
        }
    }

    /// Removes an offer, gives its resources back (with no filter), and tells the framework if
    /// `notify`.
    fn rescind_offer(&mut self, now: Instant, offer_id: &OfferId, notify: bool) {
        let Some(entry) = self.remove_offer(offer_id) else {
            return;
        };
        self.counters.offers_rescinded += 1;
        self.recover(
            now,
            &entry.offer.framework_id,
            &entry.role,
            &entry.offer.agent_id,
            &entry.offer.resources,
            None,
        );
        if notify {
            if let Some(endpoint) = self.connected_endpoint(&entry.offer.framework_id) {
                self.send_to(
                    &endpoint,
                    RescindResourceOfferMessage {
                        offer_id: offer_id.clone(),
                    },
                );
            }
        }
    }

    /// Forgets an offer (resources not recovered).
    fn remove_offer(&mut self, offer_id: &OfferId) -> Option<OfferEntry> {
        let entry = self.offers.remove(offer_id)?;
        if let Some(f) = self.frameworks.get_mut(&entry.offer.framework_id) {
            f.offers.remove(offer_id);
        }
        if let Some(a) = self.agents.get_mut(&entry.offer.agent_id) {
            a.offers.remove(offer_id);
        }
        Some(entry)
    }

    /// Gives resources back to the allocator; an error (a bookkeeping bug) is logged, not fatal.
    fn recover(
        &mut self,
        now: Instant,
        framework: &FrameworkId,
        role: &str,
        agent: &AgentId,
        resources: &mesos::Resources,
        refuse_seconds: Option<f64>,
    ) {
        if resources.is_empty() {
            return;
        }
        if let Err(error) = self.allocator.recover_resources(
            framework.as_str(),
            role,
            agent.as_str(),
            resources,
            refuse_seconds,
            now,
        ) {
            tracing::warn!(%framework, %agent, %error, "allocator refused recovered resources");
        }
    }

    /// Sends to a process (an agent, or a driver-based scheduler).
    fn send(&mut self, to: &Upid, message: impl Into<Outgoing>) {
        self.outbox.push(Output::Send {
            to: Endpoint::Pid(to.clone()),
            message: message.into(),
        });
    }

    /// Sends to a scheduler, wherever it is reached.
    fn send_to(&mut self, to: &Endpoint, message: impl Into<Outgoing>) {
        self.outbox.push(Output::Send {
            to: to.clone(),
            message: message.into(),
        });
    }

    /// Watches a scheduler: a pid is linked; a stream is watched by its driver anyway.
    fn watch(&mut self, endpoint: &Endpoint, connection: RemoteConnection) {
        if let Endpoint::Pid(pid) = endpoint {
            self.link_over(pid, connection);
        }
    }

    fn link(&mut self, pid: &Upid) {
        self.link_over(pid, RemoteConnection::Reuse);
    }

    /// Links to `pid` over a fresh connection (libprocess's `link(pid, RECONNECT)`): `pid` has
    /// just reconnected to us, so the connection we had may be stale, and its breakage, noticed
    /// late, must not be taken for the loss of the process that is back.
    fn relink(&mut self, pid: &Upid) {
        self.link_over(pid, RemoteConnection::Reconnect);
    }

    fn link_over(&mut self, pid: &Upid, connection: RemoteConnection) {
        self.outbox.push(Output::Link {
            pid: pid.clone(),
            connection,
        });
    }

    fn close_stream(&mut self, endpoint: &Endpoint) {
        if let Endpoint::Stream(stream) = endpoint {
            self.outbox.push(Output::CloseStream { stream: *stream });
        }
    }

    /// Where every connected framework's scheduler is reached.
    fn connected_endpoints(&self) -> Vec<Endpoint> {
        self.frameworks
            .values()
            .filter(|f| f.connected)
            .filter_map(|f| f.endpoint.clone())
            .collect()
    }

    /// Where a connected framework's scheduler is reached.
    fn connected_endpoint(&self, framework: &FrameworkId) -> Option<Endpoint> {
        self.frameworks
            .get(framework)
            .filter(|f| f.connected)
            .and_then(|f| f.endpoint.clone())
    }

    /// A deterministic uuid for updates the master creates.
    fn make_uuid(&mut self) -> Uuid {
        self.next_uuid += 1;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.config.seed.to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_uuid.to_le_bytes());
        Uuid::v4_from(bytes)
    }

    /// A status the master generates (no `uuid`: schedulers do not acknowledge it).
    #[allow(clippy::too_many_arguments)]
    fn master_status(
        &self,
        now: Instant,
        task_id: &TaskId,
        state: TaskState,
        reason: Reason,
        message: impl Into<String>,
        agent_id: Option<&AgentId>,
        executor_id: Option<&ExecutorId>,
    ) -> TaskStatus {
        TaskStatus {
            task_id: task_id.clone(),
            state,
            message: Some(message.into()),
            source: Some(Source::Master),
            reason: Some(reason),
            uuid: None,
            timestamp: self.wall(now),
            agent_id: agent_id.cloned(),
            executor_id: executor_id.cloned(),
            healthy: None,
            data: Vec::new(),
        }
    }

    /// Sends a master-generated status to the framework's scheduler, if it is connected.
    fn send_master_status(&mut self, now: Instant, framework: &FrameworkId, status: TaskStatus) {
        let Some(endpoint) = self.connected_endpoint(framework) else {
            return;
        };
        let uuid = self.make_uuid();
        let update = StatusUpdate {
            framework_id: framework.clone(),
            executor_id: status.executor_id.clone(),
            agent_id: status.agent_id.clone(),
            timestamp: self.wall(now),
            uuid,
            status,
        };
        self.send_to(&endpoint, StatusUpdateMessage { update, pid: None });
    }

    /// The framework registered at `from`, if `from` is its current scheduler; otherwise `None`
    /// and the message is counted as dropped (the master never trusts a claimed framework id).
    fn framework_from(
        &mut self,
        from: &Endpoint,
        framework_id: &FrameworkId,
    ) -> Option<&mut Framework> {
        let matches = self
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.endpoint.as_ref() == Some(from));
        if !matches {
            tracing::warn!(%framework_id, %from, "message from a pid that is not the framework's scheduler: dropped");
            self.counters.dropped_messages += 1;
            return None;
        }
        self.frameworks.get_mut(framework_id)
    }

    fn count_terminal(&mut self, state: TaskState) {
        if state.is_terminal() {
            *self
                .counters
                .tasks_terminal
                .entry(state.as_str())
                .or_default() += 1;
        }
    }

    /// Handles the termination (or broken connection) of a linked pid: a scheduler disconnects
    /// (its failover timeout starts), an agent is marked disconnected (its offers are rescinded;
    /// pings continue and decide its removal).
    pub fn exited(&mut self, now: Instant, pid: &Upid) {
        if let Some(framework) = self.framework_by_pid.get(pid).cloned() {
            tracing::info!(%framework, %pid, "scheduler disconnected");
            self.disconnect_framework(now, &framework);
        }
        if let Some(agent) = self.agent_by_pid.get(pid).cloned() {
            tracing::info!(%agent, %pid, "agent disconnected");
            self.disconnect_agent(now, &agent);
        }
    }

    /// An HTTP scheduler's stream broke: its framework disconnects (its failover timeout
    /// starts), unless the stream was already replaced by a newer subscription.
    pub fn stream_closed(&mut self, now: Instant, stream: StreamId) {
        let endpoint = Some(Endpoint::Stream(stream));
        let framework = self
            .frameworks
            .values()
            .find(|f| f.endpoint == endpoint && f.connected)
            .map(|f| f.id.clone());
        if let Some(framework) = framework {
            tracing::info!(%framework, %stream, "http scheduler disconnected");
            self.disconnect_framework(now, &framework);
        }
    }
}

#[cfg(test)]
mod tests;
