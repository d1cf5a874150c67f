//! Recovery after an election: a new leader starts from empty soft state, holds offers back while
//! the previous leader's agents re-register, and marks the ones that never return as lost.
//!
//! The only state that outlives a leader is the agent registry: the id, hostname and pid of every
//! admitted agent, which the leader publishes (through ZooKeeper, see `master::ha`) and the next
//! leader reads at election. It tells the new leader whom to wait for, so the hold ends as soon
//! as the last agent is back (usually well before `agent_reregistration_window`), and whom to
//! declare lost after `agent_reregister_timeout`. Tasks and frameworks still come only from the
//! agents and schedulers that re-register, as the paper's soft-state design has it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

use mesos::protocol::LostSlaveMessage;
use mesos::{AgentId, FrameworkId, TaskId};
use process::Upid;

use super::{Deadline, MasterCore, RemovedAgent};

/// One admitted agent as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredAgent {
    /// The agent's id.
    pub id: AgentId,
    /// Its hostname.
    pub hostname: String,
    /// Its pid (`slave(1)@ip:port`); unknown for some removed agents.
    pub pid: Option<Upid>,
    /// Its connection was broken when the registry was published: the tasks of frameworks that
    /// do not checkpoint were reported LOST (or GONE), and must stay so.
    pub disconnected: bool,
    /// The leader removed it (unreachable or unregistered): a new leader must keep its LOST
    /// tasks lost if it comes back, instead of taking its report at face value.
    pub unreachable: bool,
    /// Tasks on it whose schedulers heard LOST (DROPPED, GONE) while they may still run there:
    /// a new leader kills them if the agent reports them, and absorbs their updates (it would
    /// otherwise take them back as running).
    pub lost_tasks: BTreeSet<(FrameworkId, TaskId)>,
}

/// The recovery in progress after this master was elected.
#[derive(Debug)]
pub(super) struct Recovery {
    /// Agents of the previous leader that have not re-registered yet.
    // Ordered: agents never back are declared lost in a stable order.
    expected: BTreeMap<AgentId, RegisteredAgent>,
    /// Whether the registry was read (until then every agent may still be expected).
    known: bool,
    /// Offers wait until then at most.
    hold_until: Instant,
    /// When this master was elected.
    began: Instant,
    /// When the last expected agent came back (the hold ended early).
    completed: Option<Instant>,
    /// Agents the previous leader had disconnected (their non-checkpointing tasks were lost).
    disconnected: HashSet<AgentId>,
}

impl MasterCore {
    /// This master was just elected (its state is fresh): offers wait until the previous leader's
    /// agents have re-registered, or `agent_reregistration_window` has passed; agents that are
    /// still missing after `agent_reregister_timeout` are marked lost. Which agents to wait for
    /// comes with [`MasterCore::recover_agents`]; until then every registration may be one.
    pub fn begin_recovery(&mut self, now: Instant) {
        self.recovery = Some(Recovery {
            expected: BTreeMap::new(),
            known: false,
            hold_until: now + self.config.agent_reregistration_window,
            began: now,
            completed: None,
            disconnected: HashSet::new(),
        });
        let at = now + self.config.agent_reregister_timeout;
        self.deadlines
            .push(Reverse((at, Deadline::ReregisterTimeout)));
        tracing::info!(
            window = ?self.config.agent_reregistration_window,
            "recovering: offers wait for the agents to re-register"
        );
    }

    /// The registry the previous leader left: the agents to wait for. `None` when it could not
    /// be read: offers then wait the whole window and nobody can be declared lost.
    pub fn recover_agents(&mut self, now: Instant, agents: Option<Vec<RegisteredAgent>>) {
        if self.recovery.is_none() {
            self.begin_recovery(now);
        }
        let Some(agents) = agents else {
            tracing::warn!("the agent registry could not be read: offers wait the whole window");
            return;
        };
        let total = agents.len();
        let (removed, agents): (Vec<RegisteredAgent>, Vec<RegisteredAgent>) =
            agents.into_iter().partition(|a| a.unreachable);
        for agent in removed {
            if !self.agents.contains_key(&agent.id) {
                self.removed_agents
                    .entry(agent.id)
                    .or_insert_with(|| RemovedAgent {
                        recovered: true,
                        disconnected: agent.disconnected,
                        lost_tasks: agent.lost_tasks,
                        // A new agent registering there later means this one is gone for good.
                        pid: agent.pid,
                        ..RemovedAgent::default()
                    });
            }
        }
        let expected: BTreeMap<AgentId, RegisteredAgent> = agents
            .into_iter()
            .filter(|a| {
                !self.agents.contains_key(&a.id) && !self.removed_agents.contains_key(&a.id)
            })
            .map(|a| (a.id.clone(), a))
            .collect();
        tracing::info!(
            registry = total,
            back = total - expected.len(),
            "recovered the agent registry"
        );
        if let Some(recovery) = &mut self.recovery {
            recovery.disconnected = expected
                .values()
                .filter(|a| a.disconnected)
                .map(|a| a.id.clone())
                .collect();
            recovery.expected = expected;
            recovery.known = true;
        }
        self.registry_generation += 1;
        self.check_recovery_complete(now);
    }

    /// An agent with a registry id is admitted again.
    pub(super) fn agent_returned(&mut self, now: Instant, id: &AgentId) {
        let expected = self
            .recovery
            .as_mut()
            .and_then(|recovery| recovery.expected.remove(id));
        // The registry lists an expected agent as the previous leader had it: one back at the same
        // address and connected leaves the published registry as it was, so a failover's tens of
        // thousands of re-registrations do not rewrite it to ZooKeeper over and over.
        let unchanged = match (&expected, self.agents.get(id)) {
            (Some(was), Some(now)) => {
                !was.disconnected
                    && was.pid.as_ref() == Some(&now.pid)
                    && was.hostname == now.info.hostname
                    && now.connected
            }
            _ => false,
        };
        if !unchanged {
            self.registry_generation += 1;
        }
        self.check_recovery_complete(now);
    }

    fn check_recovery_complete(&mut self, now: Instant) {
        let Some(recovery) = &mut self.recovery else {
            return;
        };
        if recovery.known && recovery.expected.is_empty() && recovery.completed.is_none() {
            recovery.completed = Some(now);
            tracing::info!(
                after = ?now.saturating_duration_since(recovery.began),
                "every agent of the previous leader re-registered: offers resume"
            );
        }
    }

    /// A new agent registers at `pid`: an agent of the previous leader still expected there
    /// will never re-register (its address is taken by an agent without its state). It is
    /// gone: frameworks hear `agent_lost`, and its tasks reconcile GONE (LOST), not UNREACHABLE
    /// forever.
    pub(super) fn expected_gone_at(&mut self, now: Instant, pid: &Upid) {
        let Some(recovery) = &mut self.recovery else {
            return;
        };
        let gone: Vec<RegisteredAgent> = recovery
            .expected
            .values()
            .filter(|a| a.pid.as_ref() == Some(pid))
            .cloned()
            .collect();
        if gone.is_empty() {
            return;
        }
        for agent in &gone {
            recovery.expected.remove(&agent.id);
        }
        let pids = self.connected_endpoints();
        for agent in gone {
            tracing::info!(agent = %agent.id, %pid, "a new agent registers where an expected agent was: it is gone");
            self.removed_agents.insert(
                agent.id.clone(),
                RemovedAgent {
                    recovered: true,
                    gone: true,
                    disconnected: agent.disconnected,
                    lost_tasks: agent.lost_tasks,
                    pid: agent.pid,
                },
            );
            self.counters.slave_removals += 1;
            for endpoint in &pids {
                self.send_to(
                    endpoint,
                    LostSlaveMessage {
                        agent_id: agent.id.clone(),
                    },
                );
            }
        }
        self.registry_generation += 1;
        self.check_recovery_complete(now);
    }

    /// The tasks on `id` that the previous leader had reported lost while they might still run
    /// (see [`RegisteredAgent::lost_tasks`]), if it is still expected.
    pub(super) fn expected_lost_tasks(&self, id: &AgentId) -> BTreeSet<(FrameworkId, TaskId)> {
        self.recovery
            .as_ref()
            .and_then(|r| r.expected.get(id))
            .map(|a| a.lost_tasks.clone())
            .unwrap_or_default()
    }

    /// Whether the previous leader had `id` disconnected (see [`RegisteredAgent::disconnected`]).
    pub(super) fn was_disconnected(&self, id: &AgentId) -> bool {
        self.recovery
            .as_ref()
            .is_some_and(|r| r.disconnected.contains(id))
    }

    /// Whether an agent this master does not know may still re-register with its tasks: the
    /// previous leader's agents are not all back and `agent_reregister_timeout` has not passed.
    pub(super) fn agents_may_return(&self, now: Instant) -> bool {
        self.recovery.as_ref().is_some_and(|r| {
            (!r.known || !r.expected.is_empty())
                && now < r.began + self.config.agent_reregister_timeout
        })
    }

    /// Whether offers are held back now.
    pub fn holding_offers(&self, now: Instant) -> bool {
        self.recovery.as_ref().is_some_and(|r| {
            r.completed.is_none() && now < r.hold_until && (!r.known || !r.expected.is_empty())
        })
    }

    /// When the hold on offers ends at the latest, while it lasts.
    pub(super) fn hold_deadline(&self, now: Instant) -> Option<Instant> {
        self.holding_offers(now)
            .then(|| self.recovery.as_ref().map(|r| r.hold_until))
            .flatten()
    }

    /// How many agents of the previous leader have not re-registered yet.
    pub fn agents_expected(&self) -> usize {
        self.recovery.as_ref().map_or(0, |r| r.expected.len())
    }

    /// `agent_reregister_timeout` after the election: agents that never came back are lost.
    /// The master does not know their tasks (only the agents do); frameworks learn of them
    /// through `agent_lost` and, for tasks they ask about, through reconciliation.
    pub(super) fn reregister_timeout_due(&mut self, _now: Instant) {
        let Some(recovery) = &mut self.recovery else {
            return;
        };
        let lost: Vec<RegisteredAgent> = std::mem::take(&mut recovery.expected)
            .into_values()
            .collect();
        if lost.is_empty() {
            return;
        }
        tracing::warn!(
            agents = lost.len(),
            "agents did not re-register within agent_reregister_timeout: marking them lost"
        );
        let pids = self.connected_endpoints();
        for agent in lost {
            tracing::warn!(agent = %agent.id, hostname = %agent.hostname, "agent lost: never re-registered");
            // Its tasks were never reported to anyone: a framework that asks is told LOST (or
            // GONE), so they must stay lost if the agent comes back.
            self.removed_agents.insert(
                agent.id.clone(),
                RemovedAgent {
                    recovered: true,
                    disconnected: agent.disconnected,
                    lost_tasks: agent.lost_tasks.clone(),
                    // A new agent registering there later means this one is gone for good.
                    pid: agent.pid.clone(),
                    ..RemovedAgent::default()
                },
            );
            self.counters.slave_removals += 1;
            self.counters.slave_unreachable_completed += 1;
            for pid in &pids {
                self.send_to(
                    pid,
                    LostSlaveMessage {
                        agent_id: agent.id.clone(),
                    },
                );
            }
        }
        self.registry_generation += 1;
    }

    /// The agent registry to publish: every admitted agent plus those still expected (so a
    /// second failover in a row still waits for them), and the removed ones (marked
    /// `unreachable`, so a later leader keeps their LOST tasks lost), with a generation that
    /// changes whenever the set does.
    pub fn registry(&self) -> (u64, Vec<RegisteredAgent>) {
        let mut agents: Vec<RegisteredAgent> = self
            .agents
            .values()
            .map(|a| RegisteredAgent {
                id: a.id.clone(),
                hostname: a.info.hostname.clone(),
                pid: Some(a.pid.clone()),
                disconnected: !a.connected,
                unreachable: false,
                lost_tasks: a
                    .zombies
                    .keys()
                    .chain(a.lost_on_disconnect.iter())
                    .cloned()
                    .collect(),
            })
            .collect();
        if let Some(recovery) = &self.recovery {
            agents.extend(recovery.expected.values().cloned());
        }
        agents.extend(self.removed_agents.iter().map(|(id, r)| RegisteredAgent {
            id: id.clone(),
            hostname: String::new(),
            pid: r.pid.clone(),
            disconnected: r.disconnected,
            unreachable: true,
            lost_tasks: r.lost_tasks.clone(),
        }));
        (self.registry_generation, agents)
    }

    /// The registry's generation alone (cheap: to decide whether to publish).
    pub fn registry_generation(&self) -> u64 {
        self.registry_generation
    }
}
