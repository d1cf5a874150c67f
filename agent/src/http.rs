//! The agent's HTTP views in Mesos's JSON shapes: `/slave(1)/state`, `/slave(1)/health` and the
//! `/monitor/statistics` data.

use mesos::json::{resources_json, to_mesos_json};
use mesos::protocol::Task;

use process::http::Response;
use process::Handlers;
use serde_json::{json, Value};

use crate::process::AgentProcess;
use crate::state::{ExecutorRecord, FrameworkRecord};

/// Installs the agent's HTTP routes: `/slave(1)/state` (also `/state.json`) and `/slave(1)/health`.
pub(crate) fn install(handlers: &mut Handlers<AgentProcess>) {
    for path in ["/state", "/state.json"] {
        handlers.route(path, |agent: &mut AgentProcess, ctx, _request| {
            Response::ok_json(&state_json(agent, &ctx.upid().to_string()))
        });
    }
    handlers.route("/health", |agent: &mut AgentProcess, _ctx, _request| {
        Response::ok_json(&health_json(agent))
    });
    handlers.route(
        "/api/v1/executor",
        |agent: &mut AgentProcess, ctx, request| agent.executor_api(ctx, request),
    );
    handlers.route("/api/v1", |agent: &mut AgentProcess, _ctx, request| {
        agent.operator_api(request)
    });
    handlers.route("/flags", |agent: &mut AgentProcess, _ctx, _request| {
        Response::ok_json(&json!({ "flags": crate::operator_api::flags(agent) }))
    });
    handlers.route(
        "/state-summary",
        |agent: &mut AgentProcess, ctx, _request| {
            Response::ok_json(&crate::operator_api::state_summary(
                agent,
                &ctx.upid().to_string(),
            ))
        },
    );
}

fn json_or_null<T: serde::Serialize>(value: &T) -> Value {
    to_mesos_json(value).unwrap_or(Value::Null)
}

/// A task as Mesos's agent `/state` shows it.
fn task_json(task: &Task) -> Value {
    let statuses: Vec<Value> = task
        .statuses
        .iter()
        .map(|s| {
            let mut status = json!({ "state": s.state.as_str(), "timestamp": s.timestamp });
            if let Some(message) = &s.message {
                status["message"] = json!(message);
            }
            status
        })
        .collect();
    json!({
        "id": task.task_id.as_str(),
        "name": task.name,
        "framework_id": task.framework_id.as_str(),
        "executor_id": task.executor_id.as_ref().map_or("", |e| e.as_str()),
        "slave_id": task.agent_id.as_str(),
        "state": task.state.as_str(),
        "resources": resources_json(&task.resources),
        "statuses": statuses,
    })
}

fn executor_json(executor: &ExecutorRecord, agent_id: &str) -> Value {
    let tasks: Vec<Value> = executor
        .tasks
        .values()
        .filter(|t| !executor.queued.iter().any(|q| q.task_id == t.task_id))
        .map(|t| {
            let mut task = task_json(t);
            task["slave_id"] = json!(agent_id);
            task
        })
        .collect();
    let queued: Vec<Value> = executor.queued.iter().map(json_or_null).collect();
    json!({
        "id": executor.info.executor_id.as_str(),
        "name": executor.info.name.clone().unwrap_or_default(),
        "source": executor.info.source.clone().unwrap_or_default(),
        "container": executor.container_id.as_str(),
        "directory": executor.directory.display().to_string(),
        "resources": resources_json(&executor.resources()),
        "framework_id": executor.framework_id.as_str(),
        "tasks": tasks,
        "queued_tasks": queued,
        "completed_tasks": [],
    })
}

fn framework_json(framework: &FrameworkRecord, agent_id: &str) -> Value {
    let executors: Vec<Value> = framework
        .executors
        .values()
        .map(|e| executor_json(e, agent_id))
        .collect();
    let completed: Vec<Value> = framework
        .completed
        .iter()
        .chain(framework.terminated.values())
        .map(task_json)
        .collect();
    json!({
        "id": framework.id.as_str(),
        "name": framework.info.name,
        "user": framework.info.user,
        "role": framework.info.role,
        "checkpoint": framework.info.checkpoint,
        "failover_timeout": framework.info.failover_timeout,
        "hostname": framework.info.hostname.clone().unwrap_or_default(),
        "executors": executors,
        "completed_executors": [],
        "completed_tasks": completed,
    })
}

/// `/slave(1)/state`: the agent, its resources, and its frameworks with executors and tasks.
pub fn state_json(agent: &AgentProcess, pid: &str) -> Value {
    let core = &agent.core;
    let agent_id = core
        .agent_id()
        .map(|id| id.as_str().to_string())
        .unwrap_or_default();
    let (frameworks, completed): (Vec<&FrameworkRecord>, Vec<&FrameworkRecord>) =
        core.book().frameworks().partition(|f| !f.terminating);
    // The master it follows now (a detector may have moved it), not the one it started with.
    let master = core
        .link()
        .is_registered()
        .then(|| (core.master().ip().to_string(), core.master().to_string()));
    json!({
        "version": mesos::VERSION,
        "id": agent_id,
        "pid": pid,
        "hostname": core.info().hostname,
        "port": core.info().port,
        "start_time": agent.start_time,
        "log_dir": agent.config.log_dir.as_ref().map(|d| d.display().to_string()),
        "master_hostname": master.as_ref().map(|(host, _)| host.clone()).unwrap_or_default(),
        "master_pid": master.map(|(_, pid)| pid),
        "resources": resources_json(&core.info().resources),
        "used_resources": resources_json(&core.book().used_resources()),
        "attributes": attributes_json(agent),
        "flags": {
            "work_dir": agent.config.work_dir.display().to_string(),
            "executor_registration_timeout": mesos::duration::MesosDuration(agent.config.executor_registration_timeout).to_string(),
            "executor_shutdown_grace_period": mesos::duration::MesosDuration(agent.config.executor_shutdown_grace_period).to_string(),
            "isolation": agent.containers.lock().isolator.name(),
            "log_dir": agent.config.log_dir.as_ref().map(|d| d.display().to_string()),
        },
        "frameworks": frameworks.iter().map(|f| framework_json(f, &agent_id)).collect::<Vec<_>>(),
        "completed_frameworks": completed.iter().map(|f| framework_json(f, &agent_id)).collect::<Vec<_>>(),
    })
}

fn attributes_json(agent: &AgentProcess) -> Value {
    let mut out = serde_json::Map::new();
    for attribute in agent.core.info().attributes.iter() {
        out.insert(attribute.name.clone(), json_or_null(&attribute.value));
    }
    Value::Object(out)
}

/// `/slave(1)/health`: the agent answers, so it is healthy.
pub fn health_json(agent: &AgentProcess) -> Value {
    json!({ "healthy": true, "registered": agent.core.link().is_registered() })
}
