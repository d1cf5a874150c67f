//! The pre-v1 endpoints tools still read: `/master/tasks` (paged and filtered),
//! `/master/state-summary`, `/master/roles`, `/master/flags`, `POST /master/teardown` and
//! `/master/redirect`; each is also served at the top level (`/tasks`, `/redirect`, ...).

use mesos::protocol::Task;
use mesos::FrameworkId;
use process::http::{percent_decode, Request, Response};
use process::Context;
#[cfg(test)]
use {
    crate::core::MasterCore,
    crate::http::{agent_offered, agent_used, framework_resources},
    mesos::json::resources_json,
    mesos::TaskState,
    serde_json::{json, Map, Value as Json},
};

use super::not_leader;
use crate::process::MasterProcess;
use crate::snapshot::Snapshot;

/// What `/master/tasks?limit=&offset=&order=&framework_id=&task_id=` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TasksQuery {
    limit: i64,
    offset: usize,
    descending: bool,
    framework_id: Option<String>,
    task_id: Option<String>,
}

impl TasksQuery {
    /// The query of a `/master/tasks` request.
    ///
    /// # Errors
    /// A message naming the bad query parameter.
    pub(crate) fn parse(request: &Request) -> Result<TasksQuery, String> {
        let number = |key: &str, default: i64| -> Result<i64, String> {
            match request.query_param(key) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| format!("Failed to parse '{key}': '{v}' is not a number")),
            }
        };
        let limit = number("limit", 100)?;
        let offset = number("offset", 0)?.max(0) as usize;
        let descending = match request.query_param("order").as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(format!(
                    "Failed to parse 'order': '{other}' is not asc or desc"
                ))
            }
        };
        Ok(TasksQuery {
            limit,
            offset,
            descending,
            framework_id: request.query_param("framework_id"),
            task_id: request.query_param("task_id"),
        })
    }
}

/// `/master/tasks`' body: every task the master knows (running, unreachable and completed),
/// ordered by id, `limit` 100 by default (`-1`: all), written from a snapshot.
pub(crate) fn tasks(snapshot: &Snapshot, query: &TasksQuery) -> Vec<u8> {
    let mut tasks: Vec<(&str, &str, &Task, Option<&str>)> = Vec::new();
    for f in snapshot
        .frameworks
        .iter()
        .chain(&snapshot.completed_frameworks)
    {
        let id = f.meta.id.as_str();
        if query.framework_id.as_deref().is_some_and(|want| want != id) {
            continue;
        }
        let live = f
            .tasks()
            .chain(f.unreachable_tasks())
            .map(|e| (&e.task, Some(e.role.as_str())));
        let done = f.completed_tasks().map(|t| (t, None));
        for (task, role) in live.chain(done) {
            if query
                .task_id
                .as_deref()
                .is_some_and(|want| want != task.task_id.as_str())
            {
                continue;
            }
            tasks.push((id, task.task_id.as_str(), task, role));
        }
    }
    tasks.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    if query.descending {
        tasks.reverse();
    }
    let take = if query.limit < 0 {
        usize::MAX
    } else {
        query.limit as usize
    };
    let page: Vec<(&Task, Option<&str>)> = tasks
        .into_iter()
        .skip(query.offset)
        .take(take)
        .map(|(_, _, task, role)| (task, role))
        .collect();
    crate::snapshot::legacy::tasks_page(&page)
}

/// Task counts by state, as `/master/state-summary` writes them.
#[cfg(test)]
fn counts(states: impl Iterator<Item = TaskState>, into: &mut Map<String, Json>) {
    for state in TaskState::ALL {
        into.insert(state.as_str().to_string(), json!(0));
    }
    for state in states {
        if let Some(n) = into.get_mut(state.as_str()) {
            *n = json!(n.as_u64().unwrap_or(0) + 1);
        }
    }
}

/// `/master/state-summary`: agents and frameworks with their resources and task counts, as a
/// tree: the reference `crate::snapshot::legacy::state_summary` (which serves it) is checked
/// against.
#[cfg(test)]
pub(crate) fn state_summary(core: &MasterCore) -> Json {
    let slaves: Vec<Json> = core
        .agents()
        .values()
        .map(|a| {
            let mut s = json!({
                "id": a.id.as_str(),
                "pid": a.pid.to_string(),
                "hostname": a.info.hostname,
                "registered_time": a.registered_time,
                "resources": resources_json(&a.info.resources),
                "used_resources": resources_json(&agent_used(core, a)),
                "offered_resources": resources_json(&agent_offered(core, a)),
                "unreserved_resources": resources_json(&a.info.resources.unreserved()),
                "active": a.connected,
                "version": a.version,
                "framework_ids": a.tasks.iter().map(|(f, _)| f.as_str()).collect::<std::collections::BTreeSet<_>>(),
            });
            let states = a.tasks.iter().filter_map(|(f, t)| {
                core.frameworks().get(f).and_then(|f| f.tasks.get(t)).map(|e| e.task.state)
            });
            if let Some(map) = s.as_object_mut() {
                counts(states, map);
            }
            s
        })
        .collect();
    let frameworks: Vec<Json> = core
        .frameworks()
        .values()
        .map(|f| {
            let (used, offered) = framework_resources(core, f);
            let mut j = json!({
                "id": f.id.as_str(),
                "name": f.info.name,
                "pid": f.pid().map(|p| p.to_string()),
                "used_resources": resources_json(&used),
                "offered_resources": resources_json(&offered),
                "capabilities": f.info.capabilities.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "hostname": f.info.hostname.clone().unwrap_or_default(),
                "webui_url": f.info.webui_url.clone().unwrap_or_default(),
                "active": f.active,
                "connected": f.connected,
                "slave_ids": f.tasks.values().map(|e| e.task.agent_id.as_str()).collect::<std::collections::BTreeSet<_>>(),
            });
            let states = f
                .tasks
                .values()
                .map(|e| e.task.state)
                .chain(f.completed_tasks.iter().map(|t| t.state));
            if let Some(map) = j.as_object_mut() {
                counts(states, map);
            }
            j
        })
        .collect();
    let mut summary = json!({
        "hostname": core.info().hostname,
        "slaves": slaves,
        "frameworks": frameworks,
    });
    mesos::json::strip_nulls(&mut summary);
    summary
}

impl MasterProcess {
    /// `/master/redirect` and `/redirect` (GET, HEAD): `307` to the leader's `//host:port`
    /// (this master, when it leads).
    pub(crate) fn redirect(&mut self, ctx: &mut Context<'_, Self>, request: &Request) -> Response {
        if !matches!(request.method.as_str(), "GET" | "HEAD") {
            return Response::method_not_allowed(&["GET", "HEAD"], &request.method);
        }
        self.leads(ctx);
        not_leader(&self.leadership, request, false)
    }

    /// `POST /master/teardown` with the form body `frameworkId=<id>`.
    pub(crate) fn teardown_form(
        &mut self,
        ctx: &mut Context<'_, Self>,
        request: &Request,
    ) -> Response {
        if let Err(answer) = self.admit_call(ctx, request, false) {
            return answer;
        }
        let body = String::from_utf8_lossy(&request.body);
        let id = body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (percent_decode(k) == "frameworkId").then(|| percent_decode(v))
        });
        match id {
            Some(id) if !id.is_empty() => self.teardown(ctx, request, &FrameworkId::new(id)),
            _ => Response::text(
                400,
                "Missing 'frameworkId' query parameter in the request body",
            ),
        }
    }
}
