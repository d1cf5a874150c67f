//! Marathon's REST API (v2) over the [`ServiceCore`]: the subset its clients and deploy tools
//! use, with Marathon's JSON shapes and status codes.

use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};

use super::app::AppDefinition;
use super::core::{ApiError, Change, ServiceCore, TaskRecord};
use super::http::{Request, Response};
use super::time::{iso8601, now_secs};

/// The scheduler's state shared by the driver's callbacks, the ticker and the API.
pub struct Shared {
    /// The decisions.
    pub core: ServiceCore,
    /// The master the driver follows (for `/v2/info`).
    pub master: String,
    /// The API's own address (for `/v2/info`).
    pub http: String,
    /// The ZooKeeper node the state is kept in, with `--zk` (for `/v2/info`).
    pub zk: Option<String>,
}

pub use crate::long_running::lock;

fn error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "message": message }))
}

fn api_error(err: &ApiError) -> Response {
    match err {
        ApiError::NoApp(_) | ApiError::NoTask(_) => error(404, &err.to_string()),
        ApiError::Exists(_) => error(409, &err.to_string()),
        ApiError::Invalid(invalid) => Response::json(
            422,
            &json!({
                "message": "Object is not valid",
                "details": [{ "path": invalid.path, "errors": [invalid.message] }],
            }),
        ),
    }
}

fn change(status: u16, change: &Change) -> Response {
    Response::json(
        status,
        &json!({ "version": change.version, "deploymentId": change.deployment_id }),
    )
}

/// A task as Marathon shows it.
pub fn task_json(task: &TaskRecord, checked: bool) -> Value {
    let mut value = json!({
        "id": task.id.as_str(),
        "appId": task.app_id,
        "host": task.host,
        "ports": task.ports,
        "slaveId": task.agent_id.as_str(),
        "stagedAt": iso8601(task.staged_at),
        "startedAt": task.started_at.map(iso8601),
        "version": task.version,
        "state": task.state.as_str(),
        "ipAddresses": [],
    });
    if checked && task.healthy.is_some() {
        let health = &task.health;
        value["healthCheckResults"] = json!([{
            "alive": task.healthy == Some(true),
            "consecutiveFailures": health.consecutive_failures,
            "firstSuccess": health.first_success.map(iso8601),
            "lastFailure": health.last_failure.map(iso8601),
            "lastSuccess": health.last_success.map(iso8601),
            "lastFailureCause": health.last_failure_cause,
            "taskId": task.id.as_str(),
        }]);
    }
    value
}

fn app_json(core: &ServiceCore, def: &AppDefinition, embed_tasks: bool) -> Value {
    let mut value = serde_json::to_value(def).unwrap_or(Value::Null);
    let (staged, running, healthy, unhealthy) = core.counts(&def.id);
    value["tasksStaged"] = json!(staged);
    value["tasksRunning"] = json!(running);
    value["tasksHealthy"] = json!(healthy);
    value["tasksUnhealthy"] = json!(unhealthy);
    value["deployments"] = json!(core
        .deployments()
        .iter()
        .filter(|d| d.app_id == def.id)
        .map(|d| json!({ "id": d.id }))
        .collect::<Vec<_>>());
    if embed_tasks {
        let checked = !def.health_checks.is_empty();
        value["tasks"] = json!(core
            .tasks(Some(&def.id))
            .iter()
            .map(|t| task_json(t, checked))
            .collect::<Vec<_>>());
    }
    value
}

fn parse_app(body: &[u8]) -> Result<AppDefinition, Response> {
    serde_json::from_slice::<AppDefinition>(body).map_err(|e| {
        Response::json(
            400,
            &json!({ "message": format!("Invalid JSON: {e}"), "details": [] }),
        )
    })
}

/// Marathon's partial update (`PUT /v2/apps/{id}` with some fields, as clients scale with
/// `{"instances": n}`): the body's keys over the app's current definition.
fn partial_update(current: Option<&AppDefinition>, body: &[u8]) -> Result<Vec<u8>, Response> {
    let Some(current) = current else {
        return Ok(body.to_vec());
    };
    let invalid =
        |message: String| Response::json(400, &json!({ "message": message, "details": [] }));
    let update: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("Invalid JSON: {e}")))?;
    let Value::Object(update) = update else {
        return Err(invalid("an app update must be a JSON object".into()));
    };
    let mut merged = serde_json::to_value(current).map_err(|e| invalid(e.to_string()))?;
    if let Value::Object(fields) = &mut merged {
        fields.remove("version");
        fields.extend(update);
    }
    Ok(merged.to_string().into_bytes())
}

/// Answers one request.
pub fn handle(shared: &Mutex<Shared>, request: Request) -> Response {
    let now = Instant::now();
    let wall = now_secs();
    let path = request.path.trim_end_matches('/');
    let method = request.method.as_str();
    let mut state = lock(shared);
    let core = &mut state.core;
    let embed = request
        .query
        .iter()
        .any(|(k, v)| k == "embed" && v.ends_with("tasks"));
    match (method, path) {
        ("GET", "/ping") => return Response::text(200, "pong"),
        ("GET", "" | "/ui") => return Response::html(page(core)),
        ("GET", "/v2/info") => {
            return Response::json(
                200,
                &json!({
                    "name": "marathon",
                    "version": "1.11.0",
                    "frameworkId": core.framework_id().map(|f| f.as_str().to_string()),
                    "leader": state.http,
                    "elected": true,
                    "marathon_config": {
                        "master": state.master,
                        "framework_name": "marathon",
                        "checkpoint": true,
                    },
                    "http_config": {
                        "http_port": state.http.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()),
                    },
                    "zookeeper_config": match &state.zk {
                        Some(zk) => json!({ "zk": zk }),
                        None => json!({}),
                    },
                }),
            )
        }
        ("GET", "/v2/apps") => {
            let id_filter = request.param("id").map(str::to_string);
            let apps: Vec<Value> = core
                .apps()
                .filter(|a| id_filter.as_ref().is_none_or(|f| a.id.contains(f.as_str())))
                .map(|a| app_json(core, a, embed))
                .collect();
            return Response::json(200, &json!({ "apps": apps }));
        }
        ("POST", "/v2/apps") => {
            let def = match parse_app(&request.body) {
                Ok(def) => def,
                Err(response) => return response,
            };
            let id = format!("/{}", def.id.trim_matches('/'));
            return match core.put_app(now, wall, def, true) {
                Ok(_) => match core.app(&id).cloned() {
                    // The created app itself, as Marathon answers.
                    Some(def) => Response::json(201, &app_json(core, &def, false)),
                    None => error(500, "the app vanished"),
                },
                Err(err) => api_error(&err),
            };
        }
        ("GET", "/v2/tasks") => {
            let tasks: Vec<Value> = core
                .tasks(None)
                .iter()
                .map(|t| task_json(t, core.has_health_checks(&t.app_id)))
                .collect();
            return Response::json(200, &json!({ "tasks": tasks }));
        }
        ("GET", "/v2/deployments") => {
            let deployments: Vec<Value> = core
                .deployments()
                .iter()
                .map(|d| {
                    json!({
                        "id": d.id,
                        "version": d.version,
                        "affectedApps": [d.app_id],
                        "affectedPods": [],
                        "steps": [{ "actions": [{ "action": d.action, "app": d.app_id }] }],
                        "currentActions": [{ "action": d.action, "app": d.app_id, "readinessCheckResults": [] }],
                        "currentStep": 1,
                        "totalSteps": 1,
                    })
                })
                .collect();
            return Response::json(200, &Value::Array(deployments));
        }
        _ => {}
    }
    let Some(rest) = path.strip_prefix("/v2/apps/") else {
        return error(404, "not found");
    };
    // /v2/apps/{id}[/restart|/tasks[/{taskId}]]; ids may have several segments.
    if let Some((app_id, task_id)) = rest.split_once("/tasks/") {
        if method != "DELETE" {
            return error(405, "use DELETE");
        }
        // Python clients send `True`.
        let scale = request
            .param("scale")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        return match core.kill_app_task(now, wall, app_id, task_id, scale) {
            Ok((_, Some(change_made))) => change(200, &change_made),
            Ok((task, None)) => Response::json(
                200,
                &json!({ "task": task_json(&task, core.has_health_checks(&task.app_id)) }),
            ),
            Err(err) => api_error(&err),
        };
    }
    if let Some(app_id) = rest.strip_suffix("/tasks") {
        let Some(def) = core.app(app_id) else {
            return api_error(&ApiError::NoApp(format!("/{}", app_id.trim_matches('/'))));
        };
        let checked = !def.health_checks.is_empty();
        let tasks: Vec<Value> = core
            .tasks(Some(app_id))
            .iter()
            .map(|t| task_json(t, checked))
            .collect();
        return Response::json(200, &json!({ "tasks": tasks }));
    }
    if let Some(app_id) = rest.strip_suffix("/restart") {
        if method != "POST" {
            return error(405, "use POST");
        }
        return match core.restart_app(now, wall, app_id) {
            Ok(c) => change(200, &c),
            Err(err) => api_error(&err),
        };
    }
    match method {
        "GET" => match core.app(rest).cloned() {
            Some(def) => Response::json(200, &json!({ "app": app_json(core, &def, true) })),
            None => api_error(&ApiError::NoApp(format!("/{}", rest.trim_matches('/')))),
        },
        "PUT" => {
            let body = match partial_update(core.app(rest), &request.body) {
                Ok(body) => body,
                Err(response) => return response,
            };
            let mut def = match parse_app(&body) {
                Ok(def) => def,
                Err(response) => return response,
            };
            if def.id.is_empty() {
                def.id = rest.to_string();
            }
            if def.id.trim_matches('/') != rest.trim_matches('/') {
                return error(422, "the app id in the body does not match the path");
            }
            match core.put_app(now, wall, def, false) {
                Ok((true, c)) => change(201, &c),
                Ok((false, c)) => change(200, &c),
                Err(err) => api_error(&err),
            }
        }
        "DELETE" => match core.delete_app(wall, rest) {
            Ok(c) => change(200, &c),
            Err(err) => api_error(&err),
        },
        _ => error(405, "method not allowed"),
    }
}

/// A small page listing the apps.
fn page(core: &ServiceCore) -> String {
    let mut rows = String::new();
    for app in core.apps() {
        let (staged, running, healthy, unhealthy) = core.counts(&app.id);
        let escape = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{running}</td><td>{staged}</td><td>{healthy}</td><td>{unhealthy}</td><td>{}</td></tr>",
            escape(&app.id),
            app.instances,
            escape(app.version.as_deref().unwrap_or("")),
        ));
    }
    format!(
        "<!doctype html><html><head><title>service-framework</title></head><body><h1>Apps</h1>\
         <table border=1><tr><th>id</th><th>instances</th><th>running</th><th>staged</th>\
         <th>healthy</th><th>unhealthy</th><th>version</th></tr>{rows}</table></body></html>"
    )
}
