//! `POST /api/v1` (and `/api/v1/operator`, by prefix): the v1 operator API's synchronous calls,
//! answered from the core in Mesos's v1 JSON (`{"type": "GET_X", "get_x": {...}}`). Calls not
//! implemented here answer `501` naming the call.

use mesos::v1::operator::{decode_call, envelope};
use mesos::v1::{accepts_json, scheduler::event, to_v1_json};
use mesos::{FrameworkId, Resources};
use process::http::{Request, Responder, Response};
use process::Context;
use serde_json::{json, Map, Value as Json};

use crate::core::{Agent, Framework, MasterCore};
use crate::http::agent_used;
use crate::process::MasterProcess;
use crate::snapshot::{answer_off_actor, json_response, Snapshot};

/// Mesos's `TimeInfo`: nanoseconds since the epoch.
fn time_info(secs: f64) -> Json {
    json!({ "nanoseconds": (secs * 1e9) as i64 })
}

fn resources_v1(resources: &Resources) -> Json {
    to_v1_json(resources)
}

/// `master::Response::GetAgents::Agent`.
pub(crate) fn agent(core: &MasterCore, a: &Agent) -> Json {
    let mut offered = Resources::new();
    for id in &a.offers {
        if let Some(o) = core.offers().get(id) {
            offered += &o.offer.resources;
        }
    }
    let mut agent = json!({
        "agent_info": to_v1_json(&a.info),
        "active": a.connected,
        "deactivated": false,
        "pid": a.pid.to_string(),
        "registered_time": time_info(a.registered_time),
        "total_resources": resources_v1(&a.info.resources),
        "allocated_resources": resources_v1(&agent_used(core, a)),
        "offered_resources": resources_v1(&offered),
        "version": a.version,
    });
    if let Some(t) = a.reregistered_time {
        agent["reregistered_time"] = time_info(t);
    }
    agent
}

/// `master::Response::GetFrameworks::Framework`.
pub(crate) fn framework(f: &Framework) -> Json {
    let mut framework = json!({
        "framework_info": to_v1_json(&f.info),
        "active": f.active,
        "connected": f.connected,
        "recovered": f.recovered,
        "registered_time": time_info(f.registered_time),
    });
    if let Some(t) = f.reregistered_time {
        framework["reregistered_time"] = time_info(t);
    }
    if let Some(t) = f.unregistered_time {
        framework["unregistered_time"] = time_info(t);
    }
    framework
}

/// A v1 `Task` (statuses without empty `data`).
pub(crate) fn task(t: &mesos::protocol::Task) -> Json {
    let mut json = to_v1_json(t);
    json["statuses"] = t.statuses.iter().map(event::status).collect();
    mesos::v1::omit_unset(&mut json);
    json
}

/// GET_AGENTS' payload.
pub(crate) fn get_agents(core: &MasterCore) -> Json {
    json!({
        "agents": core.agents().values().map(|a| agent(core, a)).collect::<Vec<_>>(),
    })
}

/// GET_FRAMEWORKS' payload.
pub(crate) fn get_frameworks(core: &MasterCore) -> Json {
    json!({
        "frameworks": core.frameworks().values().map(framework).collect::<Vec<_>>(),
        "completed_frameworks": core.completed_frameworks().iter().map(framework).collect::<Vec<_>>(),
    })
}

/// GET_EXECUTORS' payload.
pub(crate) fn get_executors(core: &MasterCore) -> Json {
    let executors: Vec<Json> = core
        .frameworks()
        .values()
        .flat_map(|f| {
            f.executors.iter().flat_map(|(agent_id, executors)| {
                executors.values().map(move |e| {
                    json!({"agent_id": to_v1_json(agent_id), "executor_info": to_v1_json(&e.info)})
                })
            })
        })
        .collect();
    json!({ "executors": executors })
}

/// GET_TASKS' payload.
pub(crate) fn get_tasks(core: &MasterCore) -> Json {
    let frameworks = core.frameworks().values();
    let completed = frameworks
        .clone()
        .chain(core.completed_frameworks())
        .flat_map(|f| f.completed_tasks.iter().map(task));
    json!({
        "tasks": frameworks.clone().flat_map(|f| f.tasks.values().map(|e| task(&e.task))).collect::<Vec<_>>(),
        "unreachable_tasks": frameworks.flat_map(|f| f.unreachable_tasks.values().map(|e| task(&e.task))).collect::<Vec<_>>(),
        "completed_tasks": completed.collect::<Vec<_>>(),
    })
}

/// GET_STATE's payload: tasks, executors, frameworks and agents at once.
pub(crate) fn get_state(core: &MasterCore) -> Json {
    json!({
        "get_tasks": get_tasks(core),
        "get_executors": get_executors(core),
        "get_frameworks": get_frameworks(core),
        "get_agents": get_agents(core),
    })
}

/// The roles frameworks subscribed with, their frameworks and what they use: GET_ROLES'
/// payload, and `/master/roles` with `legacy` (ids as strings, resources as a map).
pub(crate) fn roles(core: &MasterCore, legacy: bool) -> Json {
    let mut roles: std::collections::BTreeMap<String, (Vec<FrameworkId>, Resources)> =
        Default::default();
    for f in core.frameworks().values() {
        for role in f.info.effective_roles() {
            roles
                .entry(role.to_string())
                .or_default()
                .0
                .push(f.id.clone());
        }
        for e in f.tasks.values() {
            roles.entry(e.role.clone()).or_default().1 += &e.task.resources;
        }
    }
    let list: Vec<Json> = roles
        .into_iter()
        .map(|(name, (frameworks, resources))| {
            if legacy {
                json!({
                    "name": name,
                    "weight": 1.0,
                    "frameworks": frameworks.iter().map(FrameworkId::as_str).collect::<Vec<_>>(),
                    "resources": mesos::json::resources_json(&resources),
                })
            } else {
                json!({
                    "name": name,
                    "weight": 1.0,
                    "frameworks": frameworks.iter().map(to_v1_json).collect::<Vec<_>>(),
                    "resources": resources_v1(&resources),
                })
            }
        })
        .collect();
    json!({ "roles": list })
}

/// Flags as `[{"name", "value"}]`.
fn flag_list(flags: &Json) -> Json {
    let list: Vec<Json> = flags
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, value)| {
                    let value = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_string);
                    json!({"name": name, "value": value})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({ "flags": list })
}

/// Metrics as `[{"name", "value"}]`.
fn metric_list(metrics: &Json) -> Json {
    let empty = Map::new();
    let list: Vec<Json> = metrics
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    json!({ "metrics": list })
}

/// GET_VERSION's `version_info` (and `/version`).
pub(crate) fn version_info() -> Json {
    json!({
        "version": mesos::VERSION,
        "build_date": "",
        "build_time": 0.0,
        "build_user": "",
    })
}

fn text(status: u16, message: impl Into<String>) -> Response {
    Response::text(status, message)
}

impl MasterProcess {
    /// Answers one operator API request: the heavy reads (GET_STATE, GET_TASKS, SUBSCRIBE's
    /// SUBSCRIBED) from a snapshot rendered on another thread (see [`crate::snapshot`]), the
    /// others at once.
    pub(crate) fn operator_api(
        &mut self,
        ctx: &mut Context<'_, Self>,
        request: &Request,
        responder: Responder,
    ) {
        if matches!(request.method.as_str(), "POST") {
            if let Ok(call) = decode_call(&request.body) {
                let render: Option<fn(&Snapshot) -> Vec<u8>> = match call.kind.as_str() {
                    "GET_STATE" => Some(crate::snapshot::v1::get_state),
                    "GET_TASKS" => Some(crate::snapshot::v1::get_tasks),
                    _ => None,
                };
                if let Some(render) = render {
                    if self.admit_call(ctx, request, true).is_ok()
                        && accepts_json(request.header("accept"), request.header("message-accept"))
                    {
                        let snapshot = Snapshot::take(&self.core.lock());
                        return answer_off_actor(responder, move || {
                            json_response(render(&snapshot))
                        });
                    }
                }
            }
        }
        responder.respond(self.operator_call(ctx, request));
    }

    /// Answers an operator API request at once.
    fn operator_call(&mut self, ctx: &mut Context<'_, Self>, request: &Request) -> Response {
        if let Err(answer) = self.admit_call(ctx, request, true) {
            return answer;
        }
        if !accepts_json(request.header("accept"), request.header("message-accept")) {
            return text(
                406,
                "Expecting 'Accept' to allow application/json: only JSON is supported",
            );
        }
        let call = match decode_call(&request.body) {
            Ok(call) => call,
            Err(error) => return text(400, error.to_string()),
        };
        if call.kind == "SUBSCRIBE" {
            return self.subscribe_operator(ctx);
        }
        let now = ctx.now();
        let answer = |kind: &str, payload: Json| Response::ok_json(&envelope(kind, Some(payload)));
        let core = self.core.clone();
        let core = core.lock();
        match call.kind.as_str() {
            "GET_HEALTH" => answer("GET_HEALTH", json!({"healthy": true})),
            "GET_FLAGS" => answer("GET_FLAGS", flag_list(&self.flags)),
            "GET_VERSION" => answer("GET_VERSION", json!({"version_info": version_info()})),
            "GET_METRICS" => answer(
                "GET_METRICS",
                metric_list(&crate::process::metrics_with_leader(
                    &core,
                    now,
                    &self.leadership,
                    &self.auth.metrics,
                )),
            ),
            "GET_LOGGING_LEVEL" => answer("GET_LOGGING_LEVEL", json!({"level": 0})),
            "GET_MASTER" => {
                let start = core.wall(core.start());
                answer(
                    "GET_MASTER",
                    json!({
                        "master_info": to_v1_json(core.info()),
                        "start_time": start,
                        "elected_time": start,
                    }),
                )
            }
            "GET_STATE" => answer("GET_STATE", get_state(&core)),
            "GET_AGENTS" => answer("GET_AGENTS", get_agents(&core)),
            "GET_FRAMEWORKS" => answer("GET_FRAMEWORKS", get_frameworks(&core)),
            "GET_EXECUTORS" => answer("GET_EXECUTORS", get_executors(&core)),
            "GET_TASKS" => answer("GET_TASKS", get_tasks(&core)),
            "GET_ROLES" => answer("GET_ROLES", roles(&core, false)),
            "TEARDOWN" => {
                let framework_id = match call.teardown_framework() {
                    Ok(id) => id,
                    Err(error) => return text(400, error.to_string()),
                };
                drop(core);
                self.teardown(ctx, request, &framework_id)
            }
            other => text(
                501,
                format!("The operator call {other} is not implemented by this master"),
            ),
        }
    }

    /// Tears a framework down for an operator: `200`, or `400` for an unknown framework.
    pub(crate) fn teardown(
        &mut self,
        ctx: &mut Context<'_, Self>,
        request: &Request,
        framework_id: &FrameworkId,
    ) -> Response {
        // `teardown_frameworks`: the operator's principal against the framework's.
        let framework_principal = self
            .core
            .lock()
            .frameworks()
            .get(framework_id)
            .map(|f| f.info.principal.clone());
        if let Some(framework_principal) = framework_principal {
            let principal = self.auth.http_principal(request);
            if let Err(refusal) = crate::acl::authorize_teardown(
                self.auth.acls(),
                principal.as_deref(),
                framework_principal.as_deref(),
            ) {
                tracing::warn!(%framework_id, %refusal, "teardown refused");
                return text(403, refusal);
            }
        }
        let found = self.input(ctx, |core, now| core.teardown(now, framework_id));
        match found {
            Some(true) => Response::new(200, Vec::new(), Vec::new()),
            Some(false) => text(
                400,
                format!("No framework found with specified ID {framework_id}"),
            ),
            None => text(503, "No leader elected"),
        }
    }
}
