//! The operator API's GET_STATE and GET_TASKS (and SUBSCRIBE's SUBSCRIBED) from a [`Snapshot`],
//! written straight to bytes in the shapes of [`crate::api::operator`]'s views: protobuf's JSON
//! mapping (unset fields omitted) inside each message, as `mesos::v1::to_v1_json` makes it.

use mesos::protocol::Task;
use mesos::{Resources, TaskStatus};
use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use serde::Serialize;

use super::legacy::Seq;
use super::writer::{write_json, Prune, V1};
use super::{FrameworkSnapshot, Index, Snapshot};
use crate::core::Agent;

/// Mesos's `TimeInfo`.
#[derive(Serialize)]
struct TimeInfo {
    nanoseconds: i64,
}

fn time_info(secs: f64) -> TimeInfo {
    TimeInfo {
        nanoseconds: (secs * 1e9) as i64,
    }
}

/// A status as `mesos::v1::scheduler::event::status` writes it (`data` only when set).
struct V1Status<'a>(&'a TaskStatus);

impl Serialize for V1Status<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let status = self.0;
        let mut m = s.serialize_struct("TaskStatus", 11)?;
        m.serialize_field("task_id", &status.task_id)?;
        m.serialize_field("state", &status.state)?;
        m.serialize_field("message", &status.message)?;
        m.serialize_field("source", &status.source)?;
        m.serialize_field("reason", &status.reason)?;
        m.serialize_field("uuid", &status.uuid)?;
        m.serialize_field("timestamp", &status.timestamp)?;
        m.serialize_field("agent_id", &status.agent_id)?;
        m.serialize_field("executor_id", &status.executor_id)?;
        m.serialize_field("healthy", &status.healthy)?;
        if !status.data.is_empty() {
            m.serialize_field("data", &mesos::base64_encode(&status.data))?;
        }
        m.end()
    }
}

/// A task as [`crate::api::operator::task`] writes it.
struct TaskFields<'a>(&'a Task);

impl Serialize for TaskFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut m = s.serialize_struct("Task", 10)?;
        m.serialize_field("name", &t.name)?;
        m.serialize_field("task_id", &t.task_id)?;
        m.serialize_field("framework_id", &t.framework_id)?;
        m.serialize_field("executor_id", &t.executor_id)?;
        m.serialize_field("agent_id", &t.agent_id)?;
        m.serialize_field("state", &t.state)?;
        m.serialize_field("resources", &t.resources)?;
        m.serialize_field("statuses", &Seq(t.statuses.iter().map(V1Status)))?;
        m.serialize_field("status_update_state", &t.status_update_state)?;
        m.serialize_field("status_update_uuid", &t.status_update_uuid)?;
        m.end()
    }
}

fn task(t: &Task) -> V1<TaskFields<'_>> {
    V1(TaskFields(t))
}

/// `master::Response::GetFrameworks::Framework`.
struct FrameworkV1<'a>(&'a FrameworkSnapshot);

impl Serialize for FrameworkV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = &self.0.meta;
        let mut m = s.serialize_struct("Framework", 7)?;
        m.serialize_field("framework_info", &V1(&f.info))?;
        m.serialize_field("active", &f.active)?;
        m.serialize_field("connected", &f.connected)?;
        m.serialize_field("recovered", &f.recovered)?;
        m.serialize_field("registered_time", &time_info(f.registered_time))?;
        if let Some(t) = f.reregistered_time {
            m.serialize_field("reregistered_time", &time_info(t))?;
        }
        if let Some(t) = f.unregistered_time {
            m.serialize_field("unregistered_time", &time_info(t))?;
        }
        m.end()
    }
}

/// `master::Response::GetAgents::Agent`.
struct AgentV1<'a>(&'a Index<'a>, &'a Agent);

impl Serialize for AgentV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let AgentV1(index, a) = *self;
        let allocated: Resources = index.agent_used(a);
        let offered = index.agent_offered(a);
        let mut m = s.serialize_struct("Agent", 10)?;
        m.serialize_field("agent_info", &V1(&a.info))?;
        m.serialize_field("active", &a.connected)?;
        m.serialize_field("deactivated", &false)?;
        m.serialize_field("pid", &a.pid.to_string())?;
        m.serialize_field("registered_time", &time_info(a.registered_time))?;
        m.serialize_field("total_resources", &V1(&a.info.resources))?;
        m.serialize_field("allocated_resources", &V1(&allocated))?;
        m.serialize_field("offered_resources", &V1(&offered))?;
        m.serialize_field("version", &a.version)?;
        if let Some(t) = a.reregistered_time {
            m.serialize_field("reregistered_time", &time_info(t))?;
        }
        m.end()
    }
}

/// GET_TASKS' payload.
struct GetTasks<'a>(&'a Snapshot);

impl Serialize for GetTasks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let snapshot = self.0;
        let frameworks = snapshot.frameworks.iter();
        let mut m = s.serialize_struct("GetTasks", 3)?;
        m.serialize_field(
            "tasks",
            &Seq(frameworks
                .clone()
                .flat_map(|f| f.tasks().map(|e| task(&e.task)))),
        )?;
        m.serialize_field(
            "unreachable_tasks",
            &Seq(frameworks
                .clone()
                .flat_map(|f| f.unreachable_tasks().map(|e| task(&e.task)))),
        )?;
        m.serialize_field(
            "completed_tasks",
            &Seq(frameworks
                .chain(&snapshot.completed_frameworks)
                .flat_map(|f| f.completed_tasks().map(task))),
        )?;
        m.end()
    }
}

/// GET_STATE's payload.
struct GetState<'a>(&'a Index<'a>);

impl Serialize for GetState<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = self.0;
        let snapshot = index.snapshot;
        let mut m = s.serialize_struct("GetState", 4)?;
        m.serialize_field("get_tasks", &GetTasks(snapshot))?;
        m.serialize_field("get_executors", &GetExecutors(snapshot))?;
        m.serialize_field("get_frameworks", &GetFrameworks(snapshot))?;
        m.serialize_field("get_agents", &GetAgents(index))?;
        m.end()
    }
}

struct GetExecutors<'a>(&'a Snapshot);

#[derive(Serialize)]
struct ExecutorV1<'a> {
    agent_id: V1<&'a mesos::AgentId>,
    executor_info: V1<&'a mesos::ExecutorInfo>,
}

impl Serialize for GetExecutors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let executors = self.0.frameworks.iter().flat_map(|f| {
            f.meta.executors.iter().flat_map(|(agent_id, executors)| {
                executors.values().map(move |e| ExecutorV1 {
                    agent_id: V1(agent_id),
                    executor_info: V1(&e.info),
                })
            })
        });
        let mut m = s.serialize_struct("GetExecutors", 1)?;
        m.serialize_field("executors", &Seq(executors))?;
        m.end()
    }
}

struct GetFrameworks<'a>(&'a Snapshot);

impl Serialize for GetFrameworks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let snapshot = self.0;
        let mut m = s.serialize_struct("GetFrameworks", 2)?;
        m.serialize_field(
            "frameworks",
            &Seq(snapshot.frameworks.iter().map(FrameworkV1)),
        )?;
        m.serialize_field(
            "completed_frameworks",
            &Seq(snapshot.completed_frameworks.iter().map(FrameworkV1)),
        )?;
        m.end()
    }
}

struct GetAgents<'a>(&'a Index<'a>);

impl Serialize for GetAgents<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = self.0;
        let mut m = s.serialize_struct("GetAgents", 1)?;
        m.serialize_field(
            "agents",
            &Seq(index.snapshot.agents.iter().map(|a| AgentV1(index, a))),
        )?;
        m.end()
    }
}

/// `{"type": kind, "<kind>": payload}` (`mesos::v1::operator::envelope`).
struct Envelope<'a, P> {
    kind: &'a str,
    payload: P,
}

impl<P: Serialize> Serialize for Envelope<'_, P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", self.kind)?;
        m.serialize_entry(&self.kind.to_ascii_lowercase(), &self.payload)?;
        m.end()
    }
}

fn bytes<T: Serialize>(value: &T, ascii: bool, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    if let Err(error) = write_json(&mut out, value, Prune::Keep, ascii) {
        tracing::error!(%error, "cannot write an operator answer");
        out.clear();
        out.extend_from_slice(b"{}");
    }
    out
}

fn estimate(snapshot: &Snapshot) -> usize {
    let tasks: usize = snapshot.frameworks.iter().map(|f| f.tasks.len()).sum();
    tasks * 300 + snapshot.agents.len() * 500 + 1024
}

/// GET_STATE's answer body.
pub(crate) fn get_state(snapshot: &Snapshot) -> Vec<u8> {
    let index = Index::new(snapshot);
    let body = Envelope {
        kind: "GET_STATE",
        payload: GetState(&index),
    };
    bytes(&body, false, estimate(snapshot))
}

/// GET_TASKS' answer body.
pub(crate) fn get_tasks(snapshot: &Snapshot) -> Vec<u8> {
    let body = Envelope {
        kind: "GET_TASKS",
        payload: GetTasks(snapshot),
    };
    bytes(&body, false, estimate(snapshot))
}

/// SUBSCRIBE's first event, SUBSCRIBED (the whole GET_STATE), as one RecordIO record of
/// ASCII-only JSON.
pub(crate) fn subscribed(snapshot: &Snapshot, heartbeat_interval_seconds: f64) -> Vec<u8> {
    #[derive(Serialize)]
    struct Subscribed<'a> {
        get_state: GetState<'a>,
        heartbeat_interval_seconds: f64,
    }
    let index = Index::new(snapshot);
    let body = Envelope {
        kind: "SUBSCRIBED",
        payload: Subscribed {
            get_state: GetState(&index),
            heartbeat_interval_seconds,
        },
    };
    mesos::v1::recordio::encode(&bytes(&body, true, estimate(snapshot)))
}
