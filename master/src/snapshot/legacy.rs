//! `/master/state` and `/master/tasks` from a [`Snapshot`], written straight to bytes in the
//! shapes of [`crate::http::state_json`] and [`crate::api::legacy::tasks`] (same keys, same
//! order, nulls stripped).

use mesos::protocol::Task;
use mesos::{Resources, TaskStatus, Value};
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, Serializer};
use serde::Serialize;
use serde_json::{json, Value as Json};

use super::writer::{write_json, Prune};
use super::{FrameworkSnapshot, Index, Snapshot};
use crate::core::Agent;
use crate::leadership::Leadership;

/// Resources as `mesos::json::resources_json` writes them.
pub(crate) struct ResourcesJson<'a>(pub(crate) &'a Resources);

enum Amount {
    Number(f64),
    Text(String),
}

impl<'a> Serialize for ResourcesJson<'a> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let resources: &'a Resources = self.0;
        let mut entries: Vec<(&str, Amount)> = ["cpus", "disk", "gpus", "mem"]
            .into_iter()
            .map(|name| (name, Amount::Number(0.0)))
            .collect();
        let mut set = |name: &'a str, amount: Amount| match entries.iter_mut().find(|e| e.0 == name)
        {
            Some(entry) => entry.1 = amount,
            None => entries.push((name, amount)),
        };
        for (name, _) in resources.scalars() {
            set(name, Amount::Number(resources.scalar(name).as_f64()));
        }
        for resource in resources.iter() {
            match &resource.value {
                Value::Scalar(_) => {}
                Value::Ranges(ranges) => set(&resource.name, Amount::Text(ranges.to_string())),
                Value::Set(items) => {
                    let items: Vec<&str> = items.iter().map(String::as_str).collect();
                    set(
                        &resource.name,
                        Amount::Text(format!("{{{}}}", items.join(","))),
                    );
                }
            }
        }
        let mut map = s.serialize_map(Some(entries.len()))?;
        for (name, amount) in &entries {
            match amount {
                Amount::Number(n) => map.serialize_entry(name, n)?,
                Amount::Text(t) => map.serialize_entry(name, t)?,
            }
        }
        map.end()
    }
}

/// A sequence written from an iterator.
pub(crate) struct Seq<I>(pub(crate) I);

impl<I: Iterator + Clone> Serialize for Seq<I>
where
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for item in self.0.clone() {
            seq.serialize_element(&item)?;
        }
        seq.end()
    }
}

struct StatusJson<'a>(&'a TaskStatus);

impl Serialize for StatusJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let status = self.0;
        let mut m = s.serialize_struct("status", 6)?;
        m.serialize_field("state", status.state.as_str())?;
        m.serialize_field("timestamp", &status.timestamp)?;
        if let Some(message) = &status.message {
            m.serialize_field("message", message)?;
        }
        if let Some(reason) = status.reason {
            m.serialize_field("reason", reason.as_str())?;
        }
        if let Some(source) = status.source {
            m.serialize_field("source", source.as_str())?;
        }
        if let Some(healthy) = status.healthy {
            m.serialize_field("healthy", &healthy)?;
        }
        m.end()
    }
}

/// A task as [`crate::http::task_json`] writes it.
pub(crate) struct TaskJson<'a>(pub(crate) &'a Task, pub(crate) Option<&'a str>);

impl Serialize for TaskJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let TaskJson(task, role) = *self;
        let mut t = s.serialize_struct("task", 9)?;
        t.serialize_field("id", task.task_id.as_str())?;
        t.serialize_field("name", &task.name)?;
        t.serialize_field("framework_id", task.framework_id.as_str())?;
        t.serialize_field(
            "executor_id",
            task.executor_id.as_ref().map_or("", |e| e.as_str()),
        )?;
        t.serialize_field("slave_id", task.agent_id.as_str())?;
        t.serialize_field("state", task.state.as_str())?;
        t.serialize_field("resources", &ResourcesJson(&task.resources))?;
        t.serialize_field("statuses", &Seq(task.statuses.iter().map(StatusJson)))?;
        if let Some(role) = role {
            t.serialize_field("role", role)?;
        }
        t.end()
    }
}

struct FrameworkJson<'a>(&'a Index<'a>, &'a FrameworkSnapshot);

impl Serialize for FrameworkJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let FrameworkJson(index, snapshot) = *self;
        let f = &snapshot.meta;
        let (used, offered) = index.framework_resources(snapshot);
        let mut total = used.clone();
        total += &offered;
        let info = &f.info;
        let mut m = s.serialize_struct("framework", 27)?;
        m.serialize_field("id", f.id.as_str())?;
        m.serialize_field("name", &info.name)?;
        m.serialize_field("pid", &f.pid().map(|p| p.to_string()))?;
        m.serialize_field("user", &info.user)?;
        m.serialize_field("hostname", info.hostname.as_deref().unwrap_or_default())?;
        m.serialize_field("webui_url", info.webui_url.as_deref().unwrap_or_default())?;
        m.serialize_field("role", &info.role)?;
        m.serialize_field("roles", &info.effective_roles())?;
        m.serialize_field("principal", &info.principal)?;
        m.serialize_field("failover_timeout", &info.failover_timeout)?;
        m.serialize_field("checkpoint", &info.checkpoint)?;
        m.serialize_field(
            "capabilities",
            &Seq(info.capabilities.iter().map(|c| c.as_str())),
        )?;
        m.serialize_field("active", &f.active)?;
        m.serialize_field("connected", &f.connected)?;
        m.serialize_field("recovered", &f.recovered)?;
        m.serialize_field("registered_time", &f.registered_time)?;
        m.serialize_field(
            "reregistered_time",
            &f.reregistered_time.unwrap_or(f.registered_time),
        )?;
        m.serialize_field("unregistered_time", &f.unregistered_time.unwrap_or(0.0))?;
        m.serialize_field("resources", &ResourcesJson(&total))?;
        m.serialize_field("used_resources", &ResourcesJson(&used))?;
        m.serialize_field("offered_resources", &ResourcesJson(&offered))?;
        m.serialize_field(
            "tasks",
            &Seq(snapshot.tasks().map(|e| TaskJson(&e.task, Some(&e.role)))),
        )?;
        m.serialize_field(
            "unreachable_tasks",
            &Seq(snapshot
                .unreachable_tasks()
                .map(|e| TaskJson(&e.task, Some(&e.role)))),
        )?;
        m.serialize_field(
            "completed_tasks",
            &Seq(snapshot.completed_tasks().map(|t| TaskJson(t, None))),
        )?;
        m.serialize_field(
            "offers",
            &Seq(f
                .offers
                .iter()
                .filter_map(|id| index.offer(id))
                .map(|o| OfferJson {
                    id: o.offer.id.as_str(),
                    framework_id: o.offer.framework_id.as_str(),
                    slave_id: o.offer.agent_id.as_str(),
                    resources: ResourcesJson(&o.offer.resources),
                })),
        )?;
        m.serialize_field(
            "executors",
            &Seq(f.executors.iter().flat_map(|(agent, execs)| {
                execs.values().map(move |e| ExecutorJson {
                    executor_id: e.info.executor_id.as_str(),
                    name: e.info.name.as_deref().unwrap_or_default(),
                    framework_id: f.id.as_str(),
                    slave_id: agent.as_str(),
                    resources: ResourcesJson(&e.info.resources),
                })
            })),
        )?;
        m.serialize_field("completed_executors", &[(); 0])?;
        m.end()
    }
}

#[derive(Serialize)]
struct OfferJson<'a> {
    id: &'a str,
    framework_id: &'a str,
    slave_id: &'a str,
    resources: ResourcesJson<'a>,
}

#[derive(Serialize)]
struct ExecutorJson<'a> {
    executor_id: &'a str,
    name: &'a str,
    framework_id: &'a str,
    slave_id: &'a str,
    resources: ResourcesJson<'a>,
}

struct AgentJson<'a>(&'a Index<'a>, &'a Agent);

impl Serialize for AgentJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let AgentJson(index, a) = *self;
        let mut roles: Vec<&str> = a
            .info
            .resources
            .iter()
            .filter_map(|r| r.reservation.as_deref())
            .collect();
        roles.sort_unstable();
        roles.dedup();
        let reserved: Vec<(&str, Resources)> = roles
            .into_iter()
            .map(|role| (role, a.info.resources.reserved(role)))
            .collect();
        let mut m = s.serialize_struct("agent", 15)?;
        m.serialize_field("id", a.id.as_str())?;
        m.serialize_field("pid", &a.pid.to_string())?;
        m.serialize_field("hostname", &a.info.hostname)?;
        m.serialize_field("port", &a.info.port)?;
        m.serialize_field("registered_time", &a.registered_time)?;
        m.serialize_field("reregistered_time", &a.reregistered_time)?;
        m.serialize_field("resources", &ResourcesJson(&a.info.resources))?;
        m.serialize_field("used_resources", &ResourcesJson(&index.agent_used(a)))?;
        m.serialize_field("offered_resources", &ResourcesJson(&index.agent_offered(a)))?;
        m.serialize_field("reserved_resources", &Pairs(&reserved))?;
        m.serialize_field(
            "unreserved_resources",
            &ResourcesJson(&a.info.resources.unreserved()),
        )?;
        let attributes: Vec<(&str, String)> = a
            .info
            .attributes
            .iter()
            .map(|attr| (attr.name.as_str(), attr.value.to_string()))
            .collect();
        m.serialize_field("attributes", &Attributes(&attributes))?;
        m.serialize_field("active", &a.connected)?;
        m.serialize_field("version", &a.version)?;
        m.serialize_field("capabilities", &[(); 0])?;
        m.end()
    }
}

/// Reserved resources by role, as an object (a later duplicate name replaces an earlier one
/// in place, as a JSON map does).
struct Pairs<'a>(&'a [(&'a str, Resources)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (role, resources) in self.0 {
            map.serialize_entry(role, &ResourcesJson(resources))?;
        }
        map.end()
    }
}

/// Attributes as an object, `name: value text`; a repeated name keeps its first place and its
/// last value, as a JSON map built by inserting them in turn.
struct Attributes<'a>(&'a [(&'a str, String)]);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut names: Vec<&str> = Vec::with_capacity(self.0.len());
        for (name, _) in self.0 {
            if !names.contains(name) {
                names.push(name);
            }
        }
        let mut map = s.serialize_map(Some(names.len()))?;
        for name in names {
            let value = self
                .0
                .iter()
                .rev()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v);
            map.serialize_entry(name, &value)?;
        }
        map.end()
    }
}

/// `/master/state`'s body: [`crate::http::state_json`] with the leadership applied, as bytes.
pub(crate) fn state(snapshot: &Snapshot, flags: &Json, leadership: &Leadership) -> Vec<u8> {
    let index = Index::new(snapshot);
    let info = &snapshot.info;
    let active = snapshot.agents.iter().filter(|a| a.connected).count();
    let start = snapshot.start;
    let leader_info = mesos::json::to_mesos_json(info).unwrap_or(Json::Null);
    // The small fields as a tree (the leadership edits it); the three big lists are written in
    // their places from the snapshot.
    let mut header = json!({
        "version": mesos::VERSION,
        "start_time": start,
        "elected_time": start,
        "id": info.id,
        "pid": info.pid,
        "hostname": info.hostname,
        "activated_slaves": active,
        "deactivated_slaves": snapshot.agents.len() - active,
        "unreachable_slaves": snapshot.unreachable_agents,
        "leader": info.pid,
        "leader_info": leader_info,
        "flags": flags,
        "slaves": [],
        "frameworks": [],
        "completed_frameworks": [],
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    });
    mesos::json::strip_nulls(&mut header);
    leadership.apply_to_state(&mut header);
    let body = StateJson {
        index: &index,
        header: &header,
    };
    let mut out = Vec::with_capacity(snapshot.agents.len() * 700 + 1024);
    if let Err(error) = write_json(&mut out, &body, Prune::Nulls, false) {
        tracing::error!(%error, "cannot write /master/state");
        out.clear();
        out.extend_from_slice(b"{}");
    }
    out
}

struct StateJson<'a> {
    index: &'a Index<'a>,
    header: &'a Json,
}

impl Serialize for StateJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = self.index;
        let snapshot = index.snapshot;
        let empty = serde_json::Map::new();
        let header = self.header.as_object().unwrap_or(&empty);
        let mut map = s.serialize_map(Some(header.len()))?;
        for (key, value) in header {
            match key.as_str() {
                "slaves" => map.serialize_entry(
                    key,
                    &Seq(snapshot.agents.iter().map(|a| AgentJson(index, a))),
                )?,
                "frameworks" => map.serialize_entry(
                    key,
                    &Seq(snapshot.frameworks.iter().map(|f| FrameworkJson(index, f))),
                )?,
                "completed_frameworks" => map.serialize_entry(
                    key,
                    &Seq(snapshot
                        .completed_frameworks
                        .iter()
                        .rev()
                        .map(|f| FrameworkJson(index, f))),
                )?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// `/master/tasks`' page of `tasks` (see [`crate::api::legacy::tasks`]), as bytes.
pub(crate) fn tasks_page(page: &[(&Task, Option<&str>)]) -> Vec<u8> {
    struct Page<'a>(&'a [(&'a Task, Option<&'a str>)]);
    impl Serialize for Page<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_struct("tasks", 1)?;
            m.serialize_field(
                "tasks",
                &Seq(self.0.iter().map(|(t, role)| TaskJson(t, *role))),
            )?;
            m.end()
        }
    }
    let body = Page(page);
    let mut out = Vec::with_capacity(page.len() * 400 + 16);
    if let Err(error) = write_json(&mut out, &body, Prune::Nulls, false) {
        tracing::error!(%error, "cannot write /master/tasks");
        out.clear();
        out.extend_from_slice(b"{}");
    }
    out
}

/// Task counts by state name, every state present, as `/master/state-summary` writes them
/// after an object's own fields.
fn counts(states: impl Iterator<Item = mesos::TaskState>) -> Vec<(&'static str, u64)> {
    let mut counts: Vec<(&'static str, u64)> = mesos::TaskState::ALL
        .iter()
        .map(|s| (s.as_str(), 0))
        .collect();
    for state in states {
        if let Some(entry) = counts.iter_mut().find(|(name, _)| *name == state.as_str()) {
            entry.1 += 1;
        }
    }
    counts
}

struct SummaryAgent<'a>(&'a Index<'a>, &'a Agent);

impl Serialize for SummaryAgent<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let SummaryAgent(index, a) = *self;
        let framework_ids: std::collections::BTreeSet<&str> =
            a.tasks.iter().map(|(f, _)| f.as_str()).collect();
        let states = a.tasks.iter().filter_map(|(f, t)| {
            index
                .frameworks
                .get(f)
                .and_then(|f| f.task(t))
                .map(|e| e.task.state)
        });
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", a.id.as_str())?;
        m.serialize_entry("pid", &a.pid.to_string())?;
        m.serialize_entry("hostname", &a.info.hostname)?;
        m.serialize_entry("registered_time", &a.registered_time)?;
        m.serialize_entry("resources", &ResourcesJson(&a.info.resources))?;
        m.serialize_entry("used_resources", &ResourcesJson(&index.agent_used(a)))?;
        m.serialize_entry("offered_resources", &ResourcesJson(&index.agent_offered(a)))?;
        m.serialize_entry(
            "unreserved_resources",
            &ResourcesJson(&a.info.resources.unreserved()),
        )?;
        m.serialize_entry("active", &a.connected)?;
        m.serialize_entry("version", &a.version)?;
        m.serialize_entry("framework_ids", &framework_ids)?;
        for (state, n) in counts(states) {
            m.serialize_entry(state, &n)?;
        }
        m.end()
    }
}

struct SummaryFramework<'a>(&'a Index<'a>, &'a FrameworkSnapshot);

impl Serialize for SummaryFramework<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let SummaryFramework(index, snapshot) = *self;
        let f = &snapshot.meta;
        let (used, offered) = index.framework_resources(snapshot);
        let slave_ids: std::collections::BTreeSet<&str> =
            snapshot.tasks().map(|e| e.task.agent_id.as_str()).collect();
        let states = snapshot
            .tasks()
            .map(|e| e.task.state)
            .chain(snapshot.completed_tasks().map(|t| t.state));
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", f.id.as_str())?;
        m.serialize_entry("name", &f.info.name)?;
        m.serialize_entry("pid", &f.pid().map(|p| p.to_string()))?;
        m.serialize_entry("used_resources", &ResourcesJson(&used))?;
        m.serialize_entry("offered_resources", &ResourcesJson(&offered))?;
        m.serialize_entry(
            "capabilities",
            &Seq(f.info.capabilities.iter().map(|c| c.as_str())),
        )?;
        m.serialize_entry("hostname", f.info.hostname.as_deref().unwrap_or_default())?;
        m.serialize_entry("webui_url", f.info.webui_url.as_deref().unwrap_or_default())?;
        m.serialize_entry("active", &f.active)?;
        m.serialize_entry("connected", &f.connected)?;
        m.serialize_entry("slave_ids", &slave_ids)?;
        for (state, n) in counts(states) {
            m.serialize_entry(state, &n)?;
        }
        m.end()
    }
}

/// `/master/state-summary`'s body (see [`crate::api::legacy::state_summary`]), as bytes.
pub(crate) fn state_summary(snapshot: &Snapshot) -> Vec<u8> {
    struct Summary<'a>(&'a Index<'a>);
    impl Serialize for Summary<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let index = self.0;
            let snapshot = index.snapshot;
            let mut m = s.serialize_struct("summary", 3)?;
            m.serialize_field("hostname", &snapshot.info.hostname)?;
            m.serialize_field(
                "slaves",
                &Seq(snapshot.agents.iter().map(|a| SummaryAgent(index, a))),
            )?;
            m.serialize_field(
                "frameworks",
                &Seq(snapshot
                    .frameworks
                    .iter()
                    .map(|f| SummaryFramework(index, f))),
            )?;
            m.end()
        }
    }
    let index = Index::new(snapshot);
    let mut out = Vec::with_capacity(snapshot.agents.len() * 800 + 1024);
    if let Err(error) = write_json(&mut out, &Summary(&index), Prune::Nulls, false) {
        tracing::error!(%error, "cannot write /master/state-summary");
        out.clear();
        out.extend_from_slice(b"{}");
    }
    out
}
