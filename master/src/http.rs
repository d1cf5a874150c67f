//! The master's HTTP views in Mesos's JSON shapes: `/master/state`, `/master/frameworks`,
//! `/master/slaves` and `/metrics/snapshot`. Pure functions of the core's state.

use std::time::Instant;

use mesos::json::resources_json;
use mesos::protocol::Task;
use mesos::{Resources, TaskState, TaskStatus};
use serde_json::{json, Map, Value as Json};

use crate::core::{Agent, Framework, MasterCore};

fn status_json(status: &TaskStatus) -> Json {
    let mut s = json!({
        "state": status.state.as_str(),
        "timestamp": status.timestamp,
    });
    if let Some(m) = &status.message {
        s["message"] = json!(m);
    }
    if let Some(r) = status.reason {
        s["reason"] = json!(r.as_str());
    }
    if let Some(src) = status.source {
        s["source"] = json!(src.as_str());
    }
    if let Some(h) = status.healthy {
        s["healthy"] = json!(h);
    }
    s
}

pub(crate) fn task_json(task: &Task, role: Option<&str>) -> Json {
    let mut t = json!({
        "id": task.task_id.as_str(),
        "name": task.name,
        "framework_id": task.framework_id.as_str(),
        "executor_id": task.executor_id.as_ref().map_or("", |e| e.as_str()),
        "slave_id": task.agent_id.as_str(),
        "state": task.state.as_str(),
        "resources": resources_json(&task.resources),
        "statuses": task.statuses.iter().map(status_json).collect::<Vec<_>>(),
    });
    if let Some(role) = role {
        t["role"] = json!(role);
    }
    t
}

/// What a framework uses (tasks and executors) and has on offer.
pub(crate) fn framework_resources(core: &MasterCore, f: &Framework) -> (Resources, Resources) {
    let mut used = Resources::new();
    for e in f.tasks.values() {
        used += &e.task.resources;
    }
    for executors in f.executors.values() {
        for e in executors.values() {
            used += &e.info.resources;
        }
    }
    let mut offered = Resources::new();
    for id in &f.offers {
        if let Some(o) = core.offers().get(id) {
            offered += &o.offer.resources;
        }
    }
    (used, offered)
}

fn framework_json(core: &MasterCore, f: &Framework) -> Json {
    let (used, offered) = framework_resources(core, f);
    let mut total = used.clone();
    total += &offered;
    let executors: Vec<Json> = f
        .executors
        .iter()
        .flat_map(|(agent, execs)| {
            execs.values().map(move |e| {
                json!({
                    "executor_id": e.info.executor_id.as_str(),
                    "name": e.info.name.clone().unwrap_or_default(),
                    "framework_id": f.id.as_str(),
                    "slave_id": agent.as_str(),
                    "resources": resources_json(&e.info.resources),
                })
            })
        })
        .collect();
    json!({
        "id": f.id.as_str(),
        "name": f.info.name,
        "pid": f.pid().map(|p| p.to_string()),
        "user": f.info.user,
        "hostname": f.info.hostname.clone().unwrap_or_default(),
        "webui_url": f.info.webui_url.clone().unwrap_or_default(),
        "role": f.info.role,
        "roles": f.info.effective_roles(),
        "principal": f.info.principal,
        "failover_timeout": f.info.failover_timeout,
        "checkpoint": f.info.checkpoint,
        "capabilities": f.info.capabilities.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "active": f.active,
        "connected": f.connected,
        "recovered": f.recovered,
        "registered_time": f.registered_time,
        "reregistered_time": f.reregistered_time.unwrap_or(f.registered_time),
        "unregistered_time": f.unregistered_time.unwrap_or(0.0),
        "resources": resources_json(&total),
        "used_resources": resources_json(&used),
        "offered_resources": resources_json(&offered),
        "tasks": f.tasks.values().map(|e| task_json(&e.task, Some(&e.role))).collect::<Vec<_>>(),
        "unreachable_tasks": f.unreachable_tasks.values().map(|e| task_json(&e.task, Some(&e.role))).collect::<Vec<_>>(),
        "completed_tasks": f.completed_tasks.iter().map(|t| task_json(t, None)).collect::<Vec<_>>(),
        "offers": f.offers.iter().filter_map(|id| core.offers().get(id)).map(|o| json!({
            "id": o.offer.id.as_str(),
            "framework_id": o.offer.framework_id.as_str(),
            "slave_id": o.offer.agent_id.as_str(),
            "resources": resources_json(&o.offer.resources),
        })).collect::<Vec<_>>(),
        "executors": executors,
        "completed_executors": [],
    })
}

/// Resources in use on an agent: its tasks, the custom executors on it, and tasks being killed.
pub fn agent_used(core: &MasterCore, agent: &Agent) -> Resources {
    let mut used = Resources::new();
    for (framework, task) in &agent.tasks {
        if let Some(e) = core
            .frameworks()
            .get(framework)
            .and_then(|f| f.tasks.get(task))
        {
            used += &e.task.resources;
        }
    }
    for f in core.frameworks().values() {
        if let Some(executors) = f.executors.get(&agent.id) {
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

pub(crate) fn agent_offered(core: &MasterCore, agent: &Agent) -> Resources {
    let mut offered = Resources::new();
    for id in &agent.offers {
        if let Some(o) = core.offers().get(id) {
            offered += &o.offer.resources;
        }
    }
    offered
}

fn agent_json(core: &MasterCore, a: &Agent) -> Json {
    let attributes: Map<String, Json> = a
        .info
        .attributes
        .iter()
        .map(|attr| (attr.name.clone(), json!(attr.value.to_string())))
        .collect();
    let reserved: Map<String, Json> = {
        let mut roles: Vec<&str> = a
            .info
            .resources
            .iter()
            .filter_map(|r| r.reservation.as_deref())
            .collect();
        roles.sort_unstable();
        roles.dedup();
        roles
            .into_iter()
            .map(|role| {
                (
                    role.to_string(),
                    resources_json(&a.info.resources.reserved(role)),
                )
            })
            .collect()
    };
    json!({
        "id": a.id.as_str(),
        "pid": a.pid.to_string(),
        "hostname": a.info.hostname,
        "port": a.info.port,
        "registered_time": a.registered_time,
        "reregistered_time": a.reregistered_time,
        "resources": resources_json(&a.info.resources),
        "used_resources": resources_json(&agent_used(core, a)),
        "offered_resources": resources_json(&agent_offered(core, a)),
        "reserved_resources": reserved,
        "unreserved_resources": resources_json(&a.info.resources.unreserved()),
        "attributes": attributes,
        "active": a.connected,
        "version": a.version,
        "capabilities": [],
    })
}

/// `/master/frameworks`.
pub fn frameworks_json(core: &MasterCore) -> Json {
    json!({
        "frameworks": core.frameworks().values().map(|f| framework_json(core, f)).collect::<Vec<_>>(),
        "completed_frameworks": core.completed_frameworks().iter().rev().map(|f| framework_json(core, f)).collect::<Vec<_>>(),
        "unregistered_frameworks": [],
    })
}

/// `/master/slaves`.
pub fn slaves_json(core: &MasterCore) -> Json {
    json!({
        "slaves": core.agents().values().map(|a| agent_json(core, a)).collect::<Vec<_>>(),
        "recovered_slaves": [],
    })
}

/// `/master/state` (and `/state`, `/state.json`): everything, as Mesos's `/master/state`.
pub fn state_json(core: &MasterCore, flags: &Json) -> Json {
    let info = core.info();
    let active = core.agents().values().filter(|a| a.connected).count();
    let start = core.wall(core.start());
    let leader_info = mesos::json::to_mesos_json(info).unwrap_or(Json::Null);
    let mut state = json!({
        "version": mesos::VERSION,
        "start_time": start,
        "elected_time": start,
        "id": info.id,
        "pid": info.pid,
        "hostname": info.hostname,
        "activated_slaves": active,
        "deactivated_slaves": core.agents().len() - active,
        "unreachable_slaves": core.removed_agents().values().filter(|r| !r.gone).count(),
        "leader": info.pid,
        "leader_info": leader_info,
        "flags": flags,
        "slaves": core.agents().values().map(|a| agent_json(core, a)).collect::<Vec<_>>(),
        "frameworks": core.frameworks().values().map(|f| framework_json(core, f)).collect::<Vec<_>>(),
        "completed_frameworks": core.completed_frameworks().iter().rev().map(|f| framework_json(core, f)).collect::<Vec<_>>(),
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    });
    mesos::json::strip_nulls(&mut state);
    state
}

/// `/metrics/snapshot`: Mesos's metric names, flat, numbers only.
pub fn metrics_json(core: &MasterCore, now: Instant) -> Json {
    let c = core.counters();
    let mut m = Map::new();
    let mut put = |name: &str, value: f64| {
        m.insert(format!("master/{name}"), json!(value));
    };
    let agents = core.agents();
    let connected = agents.values().filter(|a| a.connected).count();
    put(
        "uptime_secs",
        now.saturating_duration_since(core.start()).as_secs_f64(),
    );
    put("elected", 1.0);
    put("slaves_active", connected as f64);
    put("slaves_inactive", (agents.len() - connected) as f64);
    put("slaves_connected", connected as f64);
    put("slaves_disconnected", (agents.len() - connected) as f64);
    put(
        "slaves_unreachable",
        core.removed_agents().values().filter(|r| !r.gone).count() as f64,
    );
    put("slave_registrations", c.slave_registrations as f64);
    put("slave_reregistrations", c.slave_reregistrations as f64);
    put("slave_removals", c.slave_removals as f64);
    put(
        "slave_unreachable_completed",
        c.slave_unreachable_completed as f64,
    );
    let frameworks = core.frameworks();
    let active = frameworks.values().filter(|f| f.active).count();
    let fw_connected = frameworks.values().filter(|f| f.connected).count();
    put("frameworks_active", active as f64);
    put("frameworks_inactive", (frameworks.len() - active) as f64);
    put("frameworks_connected", fw_connected as f64);
    put(
        "frameworks_disconnected",
        (frameworks.len() - fw_connected) as f64,
    );
    put("outstanding_offers", core.offers().len() as f64);
    let mut by_state = std::collections::HashMap::new();
    let mut unreachable = 0usize;
    for f in frameworks.values() {
        for e in f.tasks.values() {
            *by_state.entry(e.task.state).or_insert(0usize) += 1;
        }
        unreachable += f.unreachable_tasks.len();
    }
    for (name, state) in [
        ("tasks_staging", TaskState::Staging),
        ("tasks_starting", TaskState::Starting),
        ("tasks_running", TaskState::Running),
        ("tasks_killing", TaskState::Killing),
    ] {
        put(name, by_state.get(&state).copied().unwrap_or(0) as f64);
    }
    put("tasks_unreachable", unreachable as f64);
    for (name, state) in [
        ("tasks_finished", TaskState::Finished),
        ("tasks_failed", TaskState::Failed),
        ("tasks_killed", TaskState::Killed),
        ("tasks_lost", TaskState::Lost),
        ("tasks_error", TaskState::Error),
        ("tasks_dropped", TaskState::Dropped),
        ("tasks_gone", TaskState::Gone),
    ] {
        put(
            name,
            c.tasks_terminal.get(state.as_str()).copied().unwrap_or(0) as f64,
        );
    }
    let mut total = Resources::new();
    let mut used = Resources::new();
    for a in agents.values() {
        total += &a.info.resources;
        used += &agent_used(core, a);
    }
    for name in ["cpus", "mem", "disk", "gpus"] {
        let t = total.scalar(name).as_f64();
        let u = used.scalar(name).as_f64();
        put(&format!("{name}_total"), t);
        put(&format!("{name}_used"), u);
        put(
            &format!("{name}_percent"),
            if t > 0.0 { u / t } else { 0.0 },
        );
    }
    put("messages_received", c.messages_received as f64);
    put(
        "valid_status_updates",
        (c.status_updates_received - c.invalid_status_updates) as f64,
    );
    put("invalid_status_updates", c.invalid_status_updates as f64);
    put(
        "messages_framework_to_executor_and_back",
        c.framework_messages as f64,
    );
    put("messages_dropped_wrong_sender", c.dropped_messages as f64);
    put("offers_sent", c.offers_sent as f64);
    put("offers_rescinded", c.offers_rescinded as f64);
    put("offers_declined", c.offers_declined as f64);
    put("invalid_tasks", c.invalid_tasks as f64);
    Json::Object(m)
}
