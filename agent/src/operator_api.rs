//! `POST /api/v1` on the agent: Mesos's v1 operator API calls an agent answers (GET_HEALTH,
//! GET_FLAGS, GET_VERSION, GET_METRICS, GET_STATE, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS,
//! GET_CONTAINERS), in v1 JSON (`{"type": "GET_X", "get_x": {...}}`); any other call answers
//! `501` naming it. Also the legacy `/flags` and `/state-summary`.

use mesos::protocol::Task;
use mesos::v1::operator::{decode_call, envelope};
use mesos::v1::scheduler::event;
use mesos::v1::{accepts_json, to_v1_json};
use process::http::{Request, Response};
use serde_json::{json, Map, Value as Json};

use crate::process::AgentProcess;
use crate::state::{ExecutorRecord, FrameworkRecord};

/// The agent's flags, by name, as strings (Mesos's `/flags` values).
pub(crate) fn flags(agent: &AgentProcess) -> Map<String, Json> {
    let config = &agent.config;
    let duration = |d| mesos::duration::MesosDuration(d).to_string();
    let mut flags = Map::new();
    let mut set = |name: &str, value: String| {
        flags.insert(name.to_string(), Json::String(value));
    };
    if let Some(master) = &config.master {
        set("master", master.to_string());
    }
    set("hostname", agent.core.info().hostname.clone());
    set("port", agent.core.info().port.to_string());
    set("work_dir", config.work_dir.display().to_string());
    if let Some(resources) = &config.resources {
        set("resources", resources.clone());
    }
    set(
        "attributes",
        agent
            .core
            .info()
            .attributes
            .iter()
            .map(|a| {
                let value = serde_json::to_value(&a.value).unwrap_or(Json::Null);
                let text = value
                    .get("value")
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .unwrap_or_default();
                format!("{}:{text}", a.name)
            })
            .collect::<Vec<_>>()
            .join(";"),
    );
    set("launcher_dir", config.launcher_dir().display().to_string());
    set(
        "executor_registration_timeout",
        duration(config.executor_registration_timeout),
    );
    set(
        "executor_shutdown_grace_period",
        duration(config.executor_shutdown_grace_period),
    );
    set(
        "status_update_retry_interval_min",
        duration(config.status_update_retry_interval_min),
    );
    set(
        "status_update_retry_interval_max",
        duration(config.status_update_retry_interval_max),
    );
    set(
        "registration_backoff_factor",
        duration(config.registration_backoff_factor),
    );
    set(
        "isolation",
        agent.containers.lock().isolator.name().to_string(),
    );
    set(
        "recover",
        match config.recover {
            crate::config::RecoverMode::Reconnect => "reconnect",
            crate::config::RecoverMode::Cleanup => "cleanup",
        }
        .to_string(),
    );
    set("strict", config.strict.to_string());
    set("recovery_timeout", duration(config.recovery_timeout));
    set(
        "executor_reregistration_timeout",
        duration(config.executor_reregistration_timeout),
    );
    set("gc_delay", duration(config.gc_delay));
    flags
}

/// A v1 `Task` (statuses without empty `data`).
fn task(t: &Task) -> Json {
    let mut json = to_v1_json(t);
    json["statuses"] = t.statuses.iter().map(event::status).collect();
    mesos::v1::omit_unset(&mut json);
    json
}

fn framework_info(f: &FrameworkRecord) -> Json {
    let mut info = f.info.clone();
    info.id = Some(f.id.clone());
    json!({ "framework_info": to_v1_json(&info) })
}

fn executor_info(e: &ExecutorRecord) -> Json {
    let mut info = e.info.clone();
    info.framework_id = Some(e.framework_id.clone());
    json!({ "executor_info": to_v1_json(&info) })
}

fn get_frameworks(agent: &AgentProcess) -> Json {
    let (live, completed): (Vec<&FrameworkRecord>, Vec<&FrameworkRecord>) =
        agent.core.book().frameworks().partition(|f| !f.terminating);
    json!({
        "frameworks": live.into_iter().map(framework_info).collect::<Vec<_>>(),
        "completed_frameworks": completed.into_iter().map(framework_info).collect::<Vec<_>>(),
    })
}

fn get_executors(agent: &AgentProcess) -> Json {
    json!({
        "executors": agent.core.book().executors().map(executor_info).collect::<Vec<_>>(),
    })
}

/// GET_TASKS: queued tasks wait for their executor to register, launched ones run, terminated
/// ones wait for the master's acknowledgement, completed ones are done.
fn get_tasks(agent: &AgentProcess) -> Json {
    let book = agent.core.book();
    let mut queued = Vec::new();
    let mut launched = Vec::new();
    for executor in book.executors() {
        for t in executor.tasks.values() {
            if executor.queued.iter().any(|q| q.task_id == t.task_id) {
                queued.push(task(t));
            } else {
                launched.push(task(t));
            }
        }
    }
    let terminated: Vec<Json> = book
        .frameworks()
        .flat_map(|f| f.terminated.values().map(task))
        .collect();
    let completed: Vec<Json> = book
        .frameworks()
        .flat_map(|f| f.completed.iter().map(task))
        .collect();
    let mut tasks = json!({
        "queued_tasks": queued,
        "launched_tasks": launched,
        "terminated_tasks": terminated,
        "completed_tasks": completed,
    });
    mesos::v1::omit_unset(&mut tasks);
    tasks
}

fn get_containers(agent: &AgentProcess) -> Json {
    let book = agent.core.book();
    let containers: Vec<Json> = agent
        .core
        .containers()
        .iter()
        .map(|(container_id, c)| {
            let mut container = json!({
                "framework_id": to_v1_json(&c.framework_id),
                "executor_id": to_v1_json(&c.executor_id),
                "container_id": to_v1_json(container_id),
            });
            if let Some(e) = book.executor(&c.framework_id, &c.executor_id) {
                if let Some(name) = &e.info.name {
                    container["executor_name"] = json!(name);
                }
            }
            if let Some(pid) = c.os_pid {
                container["container_status"] =
                    json!({ "container_id": to_v1_json(container_id), "executor_pid": pid });
            }
            container
        })
        .collect();
    json!({ "containers": containers })
}

fn list(map: Map<String, Json>, key: &str) -> Json {
    let items: Vec<Json> = map
        .into_iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    json!({ key: items })
}

/// `/state-summary`: the agent and, per framework, how many executors and tasks it runs.
pub(crate) fn state_summary(agent: &AgentProcess, pid: &str) -> Json {
    let core = &agent.core;
    let frameworks: Vec<Json> = core
        .book()
        .frameworks()
        .filter(|f| !f.terminating)
        .map(|f| {
            json!({
                "id": f.id.as_str(),
                "name": f.info.name,
                "executors": f.executors.len(),
                "tasks": f.executors.values().map(|e| e.tasks.len()).sum::<usize>(),
            })
        })
        .collect();
    json!({
        "id": core.agent_id().map(|id| id.as_str().to_string()).unwrap_or_default(),
        "pid": pid,
        "hostname": core.info().hostname,
        "version": mesos::VERSION,
        "registered": core.link().is_registered(),
        "resources": mesos::json::resources_json(&core.info().resources),
        "used_resources": mesos::json::resources_json(&core.book().used_resources()),
        "frameworks": frameworks,
    })
}

impl AgentProcess {
    /// Answers one operator API request.
    pub(crate) fn operator_api(&mut self, request: &Request) -> Response {
        if request.method != "POST" {
            return Response::method_not_allowed(&["POST"], &request.method);
        }
        if let Err((status, message)) =
            mesos::v1::check_content_type(request.header("content-type"))
        {
            return Response::text(status, message);
        }
        if !accepts_json(request.header("accept"), request.header("message-accept")) {
            return Response::text(
                406,
                "Expecting 'Accept' to allow application/json: only JSON is supported",
            );
        }
        let call = match decode_call(&request.body) {
            Ok(call) => call,
            Err(error) => return Response::text(400, error.to_string()),
        };
        let answer = |kind: &str, payload: Json| Response::ok_json(&envelope(kind, Some(payload)));
        match call.kind.as_str() {
            "GET_HEALTH" => answer("GET_HEALTH", json!({"healthy": true})),
            "GET_FLAGS" => answer("GET_FLAGS", list(flags(self), "flags")),
            "GET_VERSION" => answer(
                "GET_VERSION",
                json!({"version_info": {
                    "version": mesos::VERSION, "build_date": "", "build_time": 0.0, "build_user": "",
                }}),
            ),
            "GET_METRICS" => {
                let metrics = match self.metrics.snapshot() {
                    Json::Object(map) => map,
                    _ => Map::new(),
                };
                answer("GET_METRICS", list(metrics, "metrics"))
            }
            "GET_STATE" => answer(
                "GET_STATE",
                json!({
                    "get_tasks": get_tasks(self),
                    "get_executors": get_executors(self),
                    "get_frameworks": get_frameworks(self),
                }),
            ),
            "GET_FRAMEWORKS" => answer("GET_FRAMEWORKS", get_frameworks(self)),
            "GET_EXECUTORS" => answer("GET_EXECUTORS", get_executors(self)),
            "GET_TASKS" => answer("GET_TASKS", get_tasks(self)),
            "GET_CONTAINERS" => answer("GET_CONTAINERS", get_containers(self)),
            other => Response::text(
                501,
                format!("The operator call {other} is not implemented by this agent"),
            ),
        }
    }
}
