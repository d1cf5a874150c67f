//! What the web UI reads on a big cluster, where `/master/state` (every task of every
//! framework) is tens of megabytes: `/webui/summary` (the dashboard: counts by state, resources,
//! the latest tasks of each kind, and only the agents those tasks name) and `/webui/tasks`
//! (every task, filtered, sorted and paged on the server). Pure functions of a snapshot of the
//! core (see [`crate::snapshot`]), rendered off the master actor.

use std::collections::{BTreeMap, BTreeSet};

use mesos::protocol::Task;
use mesos::Resources;
use serde_json::{json, Map, Value as Json};

use crate::http::task_json;
use crate::snapshot::{FrameworkSnapshot, Index, Snapshot};

/// The resources the page shows, as plain sums: adding whole `Resources` values for every task
/// of a big cluster would hold the master's core for half a second per request.
#[derive(Debug, Clone, Copy, Default)]
struct Sums([f64; 4]);

const NAMES: [&str; 4] = ["cpus", "gpus", "mem", "disk"];

impl Sums {
    fn add(&mut self, resources: &Resources) {
        for (name, value) in resources.scalars() {
            if let Some(i) = NAMES.iter().position(|n| *n == name) {
                self.0[i] += value.as_f64();
            }
        }
    }

    fn json(&self) -> Json {
        Json::Object(
            NAMES
                .iter()
                .zip(self.0)
                .map(|(name, value)| (name.to_string(), json!(value)))
                .collect(),
        )
    }
}

/// The most tasks one answer lists.
pub const MAX_LIMIT: usize = 500;

/// Which list a task is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Active,
    Unreachable,
    Completed,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Active => "active",
            Kind::Unreachable => "unreachable",
            Kind::Completed => "completed",
        }
    }
}

/// Every task with its list and role, in no particular order.
fn every_task(snapshot: &Snapshot) -> Vec<(Kind, &Task, Option<&str>)> {
    let mut out = Vec::new();
    for f in snapshot
        .frameworks
        .iter()
        .chain(&snapshot.completed_frameworks)
    {
        out.extend(
            f.tasks()
                .map(|e| (Kind::Active, &e.task, Some(e.role.as_str()))),
        );
        out.extend(
            f.unreachable_tasks()
                .map(|e| (Kind::Unreachable, &e.task, Some(e.role.as_str()))),
        );
        out.extend(f.completed_tasks().map(|t| (Kind::Completed, t, None)));
    }
    out
}

/// A framework's shown tasks: active, unreachable, completed.
type Lists = (Vec<Json>, Vec<Json>, Vec<Json>);

/// The time of a task's latest status (0 without any): newest first in every list.
fn last_change(task: &Task) -> f64 {
    task.statuses.last().map_or(0.0, |s| s.timestamp)
}

/// The `limit` most recently changed of `tasks`, newest first.
fn latest<'a>(
    mut tasks: Vec<(Kind, &'a Task, Option<&'a str>)>,
    limit: usize,
) -> Vec<(Kind, &'a Task, Option<&'a str>)> {
    let newest_first = |a: &(Kind, &Task, Option<&str>), b: &(Kind, &Task, Option<&str>)| {
        last_change(b.1)
            .total_cmp(&last_change(a.1))
            .then_with(|| a.1.task_id.as_str().cmp(b.1.task_id.as_str()))
    };
    if tasks.len() > limit && limit > 0 {
        tasks.select_nth_unstable_by(limit - 1, newest_first);
        tasks.truncate(limit);
    } else if limit == 0 {
        tasks.clear();
    }
    tasks.sort_by(newest_first);
    tasks
}

/// `/webui/summary?limit=N`: the header of `/master/state`, a `summary` of counts and resources,
/// frameworks with only their `limit` latest tasks of each kind, and the agents those tasks run
/// on.
pub(crate) fn summary(snapshot: &Snapshot, flags: &Json, limit: usize) -> Json {
    let limit = limit.min(MAX_LIMIT);
    let index = Index::new(snapshot);
    let info = &snapshot.info;
    let start = snapshot.start;
    let active_agents = snapshot.agents.iter().filter(|a| a.connected).count();
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    let tasks = every_task(snapshot);
    for (kind, task, _) in &tasks {
        let state = match kind {
            Kind::Unreachable => "TASK_UNREACHABLE",
            _ => task.state.as_str(),
        };
        *by_state.entry(state).or_default() += 1;
    }
    // Used: tasks, custom executors and tasks being killed; offered: outstanding offers.
    let (mut total, mut used, mut offered) = (Sums::default(), Sums::default(), Sums::default());
    let mut by_framework: BTreeMap<&str, (Sums, Sums)> = BTreeMap::new();
    for a in &snapshot.agents {
        total.add(&a.info.resources);
        for zombie in a.zombies.values() {
            used.add(&zombie.resources);
        }
    }
    for f in &snapshot.frameworks {
        let mine = by_framework.entry(f.meta.id.as_str()).or_default();
        for e in f.tasks() {
            mine.0.add(&e.task.resources);
        }
        for executors in f.meta.executors.values() {
            for e in executors.values() {
                mine.0.add(&e.info.resources);
            }
        }
        for id in &f.meta.offers {
            if let Some(o) = index.offer(id) {
                mine.1.add(&o.offer.resources);
            }
        }
        for i in 0..4 {
            used.0[i] += mine.0 .0[i];
        }
    }
    for o in &snapshot.offers {
        offered.add(&o.offer.resources);
    }
    let mut shown: BTreeMap<&str, Lists> = BTreeMap::new();
    let mut agents: BTreeSet<&str> = BTreeSet::new();
    for kind in [Kind::Active, Kind::Unreachable, Kind::Completed] {
        let of_kind = tasks
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .copied()
            .collect();
        for (_, task, role) in latest(of_kind, limit) {
            agents.insert(task.agent_id.as_str());
            let lists = shown.entry(task.framework_id.as_str()).or_default();
            let list = match kind {
                Kind::Active => &mut lists.0,
                Kind::Unreachable => &mut lists.1,
                Kind::Completed => &mut lists.2,
            };
            list.push(task_json(task, role));
        }
    }
    let framework = |framework: &FrameworkSnapshot| {
        let f = &framework.meta;
        let (f_used, f_offered) = by_framework.get(f.id.as_str()).copied().unwrap_or_default();
        let (active, unreachable, completed) =
            shown.get(f.id.as_str()).cloned().unwrap_or_default();
        json!({
            "id": f.id.as_str(),
            "name": f.info.name,
            "user": f.info.user,
            "hostname": f.info.hostname.clone().unwrap_or_default(),
            "webui_url": f.info.webui_url.clone().unwrap_or_default(),
            "role": f.info.role,
            "roles": f.info.effective_roles(),
            "principal": f.info.principal,
            "active": f.active,
            "registered_time": f.registered_time,
            "reregistered_time": f.reregistered_time.unwrap_or(f.registered_time),
            "unregistered_time": f.unregistered_time.unwrap_or(0.0),
            "used_resources": f_used.json(),
            "offered_resources": f_offered.json(),
            "task_count": framework.tasks.len(),
            "tasks": active,
            "unreachable_tasks": unreachable,
            "completed_tasks": completed,
        })
    };
    let slaves: Vec<Json> = agents
        .iter()
        .filter_map(|id| {
            snapshot
                .agents
                .binary_search_by(|a| a.id.as_str().cmp(id))
                .ok()
                .map(|i| &snapshot.agents[i])
        })
        .map(|a| {
            json!({
                "id": a.id.as_str(),
                "pid": a.pid.to_string(),
                "hostname": a.info.hostname,
                "active": a.connected,
            })
        })
        .collect();
    let counts: Map<String, Json> = by_state
        .into_iter()
        .map(|(state, n)| (state.to_string(), json!(n)))
        .collect();
    json!({
        "version": mesos::VERSION,
        "start_time": start,
        "elected_time": start,
        "id": info.id,
        "pid": info.pid,
        "hostname": info.hostname,
        "leader": info.pid,
        "leader_info": mesos::json::to_mesos_json(info).unwrap_or(Json::Null),
        "activated_slaves": active_agents,
        "deactivated_slaves": snapshot.agents.len() - active_agents,
        "unreachable_slaves": snapshot.unreachable_agents,
        "flags": flags,
        "summary": {
            "limit": limit,
            "tasks": counts,
            "total": total.json(),
            "used": used.json(),
            "offered": offered.json(),
        },
        "slaves": slaves,
        "frameworks": snapshot.frameworks.iter().map(framework).collect::<Vec<_>>(),
        "completed_frameworks": snapshot.completed_frameworks.iter().rev().map(framework).collect::<Vec<_>>(),
    })
}

/// What `/webui/tasks` was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    /// Only tasks in this state (`TASK_UNREACHABLE`: the unreachable list).
    pub state: Option<String>,
    /// Only tasks whose id, name, framework id or agent id contains this (case-insensitive).
    pub text: Option<String>,
    /// Skip this many.
    pub offset: usize,
    /// At most this many (capped at [`MAX_LIMIT`]).
    pub limit: usize,
}

/// `/webui/tasks?state=&q=&offset=&limit=`: `{"total": matching, "offset", "tasks": [...]}`,
/// newest change first; each task carries `"kind"` (active, unreachable or completed).
pub(crate) fn tasks(snapshot: &Snapshot, query: &TaskQuery) -> Json {
    let text = query.text.as_ref().map(|t| t.to_lowercase());
    let matching: Vec<_> = every_task(snapshot)
        .into_iter()
        .filter(|(kind, task, _)| match query.state.as_deref() {
            None | Some("") => true,
            Some("TASK_UNREACHABLE") => *kind == Kind::Unreachable,
            Some(state) => *kind != Kind::Unreachable && task.state.as_str() == state,
        })
        .filter(|(_, task, _)| {
            text.as_deref().is_none_or(|t| {
                [
                    task.task_id.as_str(),
                    task.name.as_str(),
                    task.framework_id.as_str(),
                    task.agent_id.as_str(),
                ]
                .iter()
                .any(|field| field.to_lowercase().contains(t))
            })
        })
        .collect();
    let total = matching.len();
    let wanted = (query.offset + query.limit.min(MAX_LIMIT)).min(total);
    let page: Vec<Json> = latest(matching, wanted)
        .into_iter()
        .skip(query.offset)
        .map(|(kind, task, role)| {
            let mut t = task_json(task, role);
            t["kind"] = json!(kind.as_str());
            t
        })
        .collect();
    json!({ "total": total, "offset": query.offset, "tasks": page })
}
