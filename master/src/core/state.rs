//! The master's soft state: frameworks, agents, offers and tasks, as plain records.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use mesos::protocol::Task;
use process::Upid;

use super::shared::SharedMap;
use crate::outputs::Endpoint;
use mesos::{
    AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkCapability, FrameworkId, FrameworkInfo,
    Offer, OfferId, Resources, TaskId,
};

/// Completed frameworks kept for `/master/state` (Mesos's default).
pub const MAX_COMPLETED_FRAMEWORKS: usize = 50;
/// Completed tasks kept per framework (Mesos's default).
pub const MAX_COMPLETED_TASKS_PER_FRAMEWORK: usize = 1000;
/// Statuses kept per task (the oldest are dropped beyond this).
pub const MAX_STATUSES_PER_TASK: usize = 32;

/// A task the master tracks, with the role its resources were allocated in.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEntry {
    /// The task as Mesos describes it.
    pub task: Task,
    /// The allocation role of its resources (needed to give them back to the allocator).
    pub role: String,
}

/// A custom executor the master knows runs on an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutorEntry {
    /// Its info (with `framework_id` set).
    pub info: ExecutorInfo,
    /// The allocation role of its resources.
    pub role: String,
}

/// A registered (or recovered) framework.
#[derive(Debug, Clone)]
pub struct Framework {
    /// Its id.
    pub id: FrameworkId,
    /// Its info, with `id` set.
    pub info: FrameworkInfo,
    /// Where its scheduler is reached; `None` for a framework only known from re-registering
    /// agents.
    pub endpoint: Option<Endpoint>,
    /// Whether the scheduler is reachable.
    pub connected: bool,
    /// Whether it receives offers.
    pub active: bool,
    /// Known only from agents after a master restart; its scheduler has not re-registered yet.
    pub recovered: bool,
    /// Wall time (Unix seconds) of registration.
    pub registered_time: f64,
    /// Wall time of the latest re-registration.
    pub reregistered_time: Option<f64>,
    /// Wall time of removal.
    pub unregistered_time: Option<f64>,
    /// When a disconnected framework is torn down.
    pub failover_deadline: Option<Instant>,
    /// Non-terminal tasks on registered agents.
    pub tasks: SharedMap<TaskId, TaskEntry>,
    /// Tasks on agents that were removed as unreachable (partition-aware frameworks only).
    pub unreachable_tasks: SharedMap<TaskId, TaskEntry>,
    /// Terminal tasks, newest last, bounded.
    pub completed_tasks: VecDeque<Task>,
    /// Outstanding offers.
    pub offers: BTreeSet<OfferId>,
    /// Custom executors per agent.
    pub executors: BTreeMap<AgentId, BTreeMap<ExecutorId, ExecutorEntry>>,
}

impl Framework {
    /// A new, connected, active framework.
    pub fn new(
        id: FrameworkId,
        info: FrameworkInfo,
        endpoint: Option<Endpoint>,
        time: f64,
    ) -> Framework {
        Framework {
            id,
            info,
            endpoint,
            connected: true,
            active: true,
            recovered: false,
            registered_time: time,
            reregistered_time: None,
            unregistered_time: None,
            failover_deadline: None,
            tasks: SharedMap::new(),
            unreachable_tasks: SharedMap::new(),
            completed_tasks: VecDeque::new(),
            offers: BTreeSet::new(),
            executors: BTreeMap::new(),
        }
    }

    /// The scheduler's pid, for a driver-based framework.
    pub fn pid(&self) -> Option<&Upid> {
        self.endpoint.as_ref().and_then(Endpoint::pid)
    }

    /// Whether its scheduler uses the v1 HTTP API.
    pub fn is_http(&self) -> bool {
        matches!(self.endpoint, Some(Endpoint::Stream(_)))
    }

    /// Whether the framework understands TASK_UNREACHABLE, TASK_DROPPED, TASK_GONE.
    pub fn partition_aware(&self) -> bool {
        self.info
            .has_capability(FrameworkCapability::PartitionAware)
    }

    /// The role used when a task's allocation role is not known (recovered tasks).
    pub fn default_role(&self) -> String {
        self.info
            .effective_roles()
            .first()
            .map_or_else(|| "*".to_string(), |r| r.to_string())
    }

    /// Keeps a terminal task, dropping the oldest beyond the bound.
    pub fn add_completed(&mut self, task: Task) {
        if self.completed_tasks.len() >= MAX_COMPLETED_TASKS_PER_FRAMEWORK {
            self.completed_tasks.pop_front();
        }
        self.completed_tasks.push_back(task);
    }
}

/// A task of a non-partition-aware framework that the master declared LOST, found running on its
/// agent when the agent came back: the master kills it and never reports it as running again.
#[derive(Debug, Clone, PartialEq)]
pub struct ZombieTask {
    /// The resources it still holds on the agent until the kill completes.
    pub resources: Resources,
    /// The role they are allocated in.
    pub role: String,
    /// It was still STAGING: its launch may be on its way to the agent, so an agent that does not
    /// report it yet may still start it.
    pub launching: bool,
    /// The executor it was launched on (`None`: a command task, or not known).
    pub executor_id: Option<ExecutorId>,
}

/// A registered agent.
#[derive(Debug, Clone)]
pub struct Agent {
    /// Its id.
    pub id: AgentId,
    /// Its info, with `id` set.
    pub info: AgentInfo,
    /// Its pid (`slave(1)@ip:port`).
    pub pid: Upid,
    /// The agent's version string.
    pub version: String,
    /// Whether its connection is up (a broken link marks it disconnected until it re-registers).
    pub connected: bool,
    /// Wall time of registration.
    pub registered_time: f64,
    /// Wall time of the latest re-registration.
    pub reregistered_time: Option<f64>,
    /// Tasks on it, by framework.
    pub tasks: BTreeSet<(FrameworkId, TaskId)>,
    /// Outstanding offers of its resources.
    pub offers: BTreeSet<OfferId>,
    /// Tasks being killed because they were declared LOST.
    pub zombies: BTreeMap<(FrameworkId, TaskId), ZombieTask>,
    /// Kills a scheduler asked for while the agent was disconnected: sent when it re-registers.
    pub pending_kills: BTreeSet<(FrameworkId, TaskId)>,
    /// Tasks of non-checkpointing frameworks reported LOST when the agent disconnected: killed if
    /// it comes back with them (its connection broke, its process did not).
    pub lost_on_disconnect: BTreeSet<(FrameworkId, TaskId)>,
    /// When the next ping is due (and the previous one counts as missed if unanswered).
    pub next_ping: Instant,
    /// Whether a pong arrived since the last ping.
    pub pong_received: bool,
    /// Consecutive pings without a pong.
    pub missed_pings: u32,
}

/// What the master remembers of a removed agent, so that LOST stays lost if it comes back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemovedAgent {
    /// Tasks that were reported LOST or GONE (must be killed if the agent returns).
    pub lost_tasks: BTreeSet<(FrameworkId, TaskId)>,
    /// True if the agent unregistered (it is gone, not partitioned).
    pub gone: bool,
    /// Where it was (a new agent registering there means this one is gone for good).
    pub pid: Option<Upid>,
    /// Known only from the registry a previous leader published: which tasks were reported LOST
    /// is not known, but every task of a framework that is not partition-aware was (removal
    /// reports them all LOST).
    pub recovered: bool,
    /// Known from the registry as disconnected when the previous leader stopped: every task of
    /// a framework that does not checkpoint was reported LOST (or GONE) then.
    pub disconnected: bool,
}

impl RemovedAgent {
    /// Whether a task of a framework (partition-aware or not, checkpointing or not) on this agent
    /// was reported LOST or GONE to its scheduler, so it must never run again.
    pub fn lost(
        &self,
        key: &(FrameworkId, TaskId),
        partition_aware: bool,
        checkpoint: bool,
    ) -> bool {
        self.gone
            || self.lost_tasks.contains(key)
            || (self.recovered && !partition_aware)
            || (self.disconnected && !checkpoint)
    }
}

/// An outstanding offer.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferEntry {
    /// The offer as sent.
    pub offer: Offer,
    /// The allocation role.
    pub role: String,
    /// When `--offer_timeout` rescinds it.
    pub expires: Option<Instant>,
}

/// Counters behind `/metrics/snapshot` (gauges are computed from the state).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// Messages handled.
    pub messages_received: u64,
    /// Terminal task transitions, by state name.
    pub tasks_terminal: HashMap<&'static str, u64>,
    /// Tasks that became unreachable.
    pub tasks_unreachable: u64,
    /// Agents registered.
    pub slave_registrations: u64,
    /// Agents re-registered.
    pub slave_reregistrations: u64,
    /// Agents removed (any reason).
    pub slave_removals: u64,
    /// Agents removed for missing pings.
    pub slave_unreachable_completed: u64,
    /// Offers sent.
    pub offers_sent: u64,
    /// Offers rescinded.
    pub offers_rescinded: u64,
    /// Offers declined.
    pub offers_declined: u64,
    /// Status updates received from agents.
    pub status_updates_received: u64,
    /// Invalid status updates (unknown agent or sender).
    pub invalid_status_updates: u64,
    /// Launches refused with TASK_ERROR or TASK_DROPPED/LOST.
    pub invalid_tasks: u64,
    /// Framework messages relayed (both ways).
    pub framework_messages: u64,
    /// Messages dropped because the sender is not who it claims to be.
    pub dropped_messages: u64,
}
