//! The heavy read-only views (`/master/state`, the operator API's GET_STATE and GET_TASKS,
//! SUBSCRIBE's SUBSCRIBED, `/master/tasks`) rendered off the master actor.
//!
//! On a cluster of 10,000 agents and 100,000 tasks such an answer is tens of megabytes; rendered
//! under the core's lock it held the master for seconds. Instead the actor takes a [`Snapshot`]
//! between two inputs: the core keeps tasks, agents and offers behind `Arc`s
//! ([`SharedMap`](crate::core::SharedMap)), so the snapshot is a copy of pointers (a write to a
//! record it still holds copies that record first). A renderer thread then writes the JSON
//! straight to bytes ([`writer`]), in exactly the shapes the tree-building views in
//! [`crate::http`] and [`crate::api::operator`] produce, and answers the deferred request.

pub(crate) mod legacy;
pub(crate) mod v1;
pub(crate) mod writer;

use std::collections::HashMap;
use std::sync::Arc;

use mesos::protocol::Task;
use mesos::{FrameworkId, MasterInfo, OfferId, Resources, TaskId};
use process::http::{Responder, Response};

use crate::core::{Agent, Framework, MasterCore, OfferEntry, SharedMap, TaskEntry};

/// A framework as the snapshot holds it: its own fields copied (`meta`, whose task maps are
/// left empty), its tasks shared.
pub(crate) struct FrameworkSnapshot {
    /// Everything but `tasks` and `unreachable_tasks`.
    pub(crate) meta: Framework,
    /// Its tasks, in id order.
    pub(crate) tasks: Vec<Arc<TaskEntry>>,
    /// Its unreachable tasks, in id order.
    pub(crate) unreachable_tasks: Vec<Arc<TaskEntry>>,
}

impl FrameworkSnapshot {
    fn take(f: &Framework) -> FrameworkSnapshot {
        let meta = Framework {
            id: f.id.clone(),
            info: f.info.clone(),
            endpoint: f.endpoint.clone(),
            connected: f.connected,
            active: f.active,
            recovered: f.recovered,
            registered_time: f.registered_time,
            reregistered_time: f.reregistered_time,
            unregistered_time: f.unregistered_time,
            failover_deadline: f.failover_deadline,
            tasks: SharedMap::new(),
            unreachable_tasks: SharedMap::new(),
            completed_tasks: f.completed_tasks.clone(),
            offers: f.offers.clone(),
            executors: f.executors.clone(),
        };
        FrameworkSnapshot {
            meta,
            tasks: f.tasks.shared().cloned().collect(),
            unreachable_tasks: f.unreachable_tasks.shared().cloned().collect(),
        }
    }

    /// Its task `id`.
    pub(crate) fn task(&self, id: &TaskId) -> Option<&TaskEntry> {
        self.tasks
            .binary_search_by(|e| e.task.task_id.cmp(id))
            .ok()
            .map(|i| &*self.tasks[i])
    }

    /// Its tasks, in id order.
    pub(crate) fn tasks(&self) -> impl Iterator<Item = &TaskEntry> + Clone {
        self.tasks.iter().map(|e| &**e)
    }

    /// Its unreachable tasks, in id order.
    pub(crate) fn unreachable_tasks(&self) -> impl Iterator<Item = &TaskEntry> + Clone {
        self.unreachable_tasks.iter().map(|e| &**e)
    }

    /// Its completed tasks, oldest first.
    pub(crate) fn completed_tasks(&self) -> impl Iterator<Item = &Task> + Clone {
        self.meta.completed_tasks.iter()
    }
}

/// What the heavy views read, taken between two inputs of the core (see the
/// [module docs](self)).
pub(crate) struct Snapshot {
    pub(crate) info: MasterInfo,
    /// Wall time of the core's start.
    pub(crate) start: f64,
    /// Removed agents that are not gone.
    pub(crate) unreachable_agents: usize,
    /// Registered and recovered frameworks, in id order.
    pub(crate) frameworks: Vec<FrameworkSnapshot>,
    /// Removed frameworks, oldest first.
    pub(crate) completed_frameworks: Vec<FrameworkSnapshot>,
    /// Registered agents, in id order.
    pub(crate) agents: Vec<Arc<Agent>>,
    /// Outstanding offers.
    pub(crate) offers: Vec<Arc<OfferEntry>>,
}

impl Snapshot {
    /// Copies the pointers (cheap: no task is copied).
    pub(crate) fn take(core: &MasterCore) -> Snapshot {
        Snapshot {
            info: core.info().clone(),
            start: core.wall(core.start()),
            unreachable_agents: core.removed_agents().values().filter(|r| !r.gone).count(),
            frameworks: core
                .frameworks()
                .values()
                .map(FrameworkSnapshot::take)
                .collect(),
            completed_frameworks: core
                .completed_frameworks()
                .iter()
                .map(FrameworkSnapshot::take)
                .collect(),
            agents: core.agents().shared().cloned().collect(),
            offers: core.offers().shared().cloned().collect(),
        }
    }
}

/// Look-ups the views need, built on the renderer's thread.
pub(crate) struct Index<'a> {
    snapshot: &'a Snapshot,
    offers: HashMap<&'a OfferId, &'a OfferEntry>,
    frameworks: HashMap<&'a FrameworkId, &'a FrameworkSnapshot>,
}

impl<'a> Index<'a> {
    pub(crate) fn new(snapshot: &'a Snapshot) -> Index<'a> {
        Index {
            snapshot,
            offers: snapshot
                .offers
                .iter()
                .map(|o| (&o.offer.id, &**o))
                .collect(),
            frameworks: snapshot
                .frameworks
                .iter()
                .map(|f| (&f.meta.id, f))
                .collect(),
        }
    }

    /// An outstanding offer.
    pub(crate) fn offer(&self, id: &OfferId) -> Option<&'a OfferEntry> {
        self.offers.get(id).copied()
    }

    /// As [`crate::http::agent_used`]: its tasks, the custom executors on it, its zombies.
    pub(crate) fn agent_used(&self, agent: &Agent) -> Resources {
        let mut used = Resources::new();
        for (framework, task) in &agent.tasks {
            if let Some(e) = self.frameworks.get(framework).and_then(|f| f.task(task)) {
                used += &e.task.resources;
            }
        }
        for f in &self.snapshot.frameworks {
            if let Some(executors) = f.meta.executors.get(&agent.id) {
                for e in executors.values() {
                    used += &e.info.resources;
                }
            }
        }
        for z in agent.zombies.values() {
            used += &z.resources;
        }
        used
    }

    /// As [`crate::http::agent_offered`].
    pub(crate) fn agent_offered(&self, agent: &Agent) -> Resources {
        let mut offered = Resources::new();
        for id in &agent.offers {
            if let Some(o) = self.offer(id) {
                offered += &o.offer.resources;
            }
        }
        offered
    }

    /// As [`crate::http::framework_resources`]: used and offered.
    pub(crate) fn framework_resources(&self, f: &FrameworkSnapshot) -> (Resources, Resources) {
        let mut used = Resources::new();
        for e in f.tasks() {
            used += &e.task.resources;
        }
        for executors in f.meta.executors.values() {
            for e in executors.values() {
                used += &e.info.resources;
            }
        }
        let mut offered = Resources::new();
        for id in &f.meta.offers {
            if let Some(o) = self.offer(id) {
                offered += &o.offer.resources;
            }
        }
        (used, offered)
    }
}

/// A JSON body as `Response::ok_json` answers it.
pub(crate) fn json_response(body: Vec<u8>) -> Response {
    Response::new(
        200,
        vec![("Content-Type".into(), "application/json".into())],
        body,
    )
}

/// Runs `render` on a renderer thread and answers `responder` with what it returns (a `500`
/// naming the problem if the thread cannot start).
pub(crate) fn answer_off_actor(
    responder: Responder,
    render: impl FnOnce() -> Response + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("state-render".into())
        .spawn(move || responder.respond(render()));
    if let Err(error) = spawned {
        // The responder went with the closure: dropped, it answers 500.
        tracing::warn!(%error, "cannot start a state renderer thread");
    }
}

#[cfg(test)]
mod tests;
