//! The v1 scheduler API (`POST /api/v1/scheduler`): [`decode_call`] turns a JSON body into a
//! validated [`Call`]; [`event`] builds the events a master streams back.

use serde::Deserialize;
use serde_json::Value as Json;

use super::CallError;
use crate::{
    AgentId, ExecutorId, Filters, FrameworkId, FrameworkInfo, KillPolicy, OfferId, TaskId,
    TaskInfo, Uuid,
};

/// A decoded, validated scheduler call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The calling framework (absent only on a first SUBSCRIBE).
    pub framework_id: Option<FrameworkId>,
    /// What it asks.
    pub kind: CallKind,
}

/// One task to reconcile (`Call.Reconcile.Task`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileTask {
    /// The task.
    pub task_id: TaskId,
    /// Where the scheduler believes it runs.
    pub agent_id: Option<AgentId>,
}

/// An offer operation of ACCEPT (`Offer.Operation`).
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// LAUNCH: run these tasks.
    Launch(Vec<TaskInfo>),
    /// Any other type (LAUNCH_GROUP, RESERVE, CREATE, ...), by name: not supported here.
    Unsupported(String),
}

/// The calls of Mesos's `scheduler::Call`, with their payloads.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum CallKind {
    Subscribe {
        framework_info: FrameworkInfo,
        suppressed_roles: Vec<String>,
    },
    Teardown,
    Accept {
        offer_ids: Vec<OfferId>,
        operations: Vec<Operation>,
        filters: Filters,
    },
    Decline {
        offer_ids: Vec<OfferId>,
        filters: Filters,
    },
    AcceptInverseOffers {
        inverse_offer_ids: Vec<String>,
        filters: Filters,
    },
    DeclineInverseOffers {
        inverse_offer_ids: Vec<String>,
        filters: Filters,
    },
    Revive {
        roles: Vec<String>,
    },
    Suppress {
        roles: Vec<String>,
    },
    Kill {
        task_id: TaskId,
        agent_id: Option<AgentId>,
        kill_policy: Option<KillPolicy>,
    },
    Shutdown {
        executor_id: ExecutorId,
        agent_id: AgentId,
    },
    Acknowledge {
        agent_id: AgentId,
        task_id: TaskId,
        uuid: Uuid,
    },
    Reconcile {
        tasks: Vec<ReconcileTask>,
    },
    ReconcileOperations,
    Message {
        agent_id: AgentId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    },
    Request,
    UpdateFramework {
        framework_info: FrameworkInfo,
        suppressed_roles: Vec<String>,
    },
}

impl CallKind {
    /// Mesos's name of the call type, e.g. `SUBSCRIBE`.
    pub fn name(&self) -> &'static str {
        match self {
            CallKind::Subscribe { .. } => "SUBSCRIBE",
            CallKind::Teardown => "TEARDOWN",
            CallKind::Accept { .. } => "ACCEPT",
            CallKind::Decline { .. } => "DECLINE",
            CallKind::AcceptInverseOffers { .. } => "ACCEPT_INVERSE_OFFERS",
            CallKind::DeclineInverseOffers { .. } => "DECLINE_INVERSE_OFFERS",
            CallKind::Revive { .. } => "REVIVE",
            CallKind::Suppress { .. } => "SUPPRESS",
            CallKind::Kill { .. } => "KILL",
            CallKind::Shutdown { .. } => "SHUTDOWN",
            CallKind::Acknowledge { .. } => "ACKNOWLEDGE",
            CallKind::Reconcile { .. } => "RECONCILE",
            CallKind::ReconcileOperations => "RECONCILE_OPERATIONS",
            CallKind::Message { .. } => "MESSAGE",
            CallKind::Request => "REQUEST",
            CallKind::UpdateFramework { .. } => "UPDATE_FRAMEWORK",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawCall {
    framework_id: Option<FrameworkId>,
    #[serde(rename = "type")]
    kind: Option<String>,
    subscribe: Option<RawSubscribe>,
    accept: Option<RawAccept>,
    decline: Option<RawDecline>,
    accept_inverse_offers: Option<RawInverse>,
    decline_inverse_offers: Option<RawInverse>,
    revive: Option<RawRoles>,
    suppress: Option<RawRoles>,
    kill: Option<RawKill>,
    shutdown: Option<RawShutdown>,
    acknowledge: Option<RawAcknowledge>,
    reconcile: Option<RawReconcile>,
    message: Option<RawMessage>,
    request: Option<Json>,
    update_framework: Option<RawSubscribe>,
}

#[derive(Deserialize)]
struct RawSubscribe {
    framework_info: FrameworkInfo,
    #[serde(default)]
    suppressed_roles: Vec<String>,
}

#[derive(Deserialize)]
struct RawAccept {
    #[serde(default)]
    offer_ids: Vec<OfferId>,
    #[serde(default)]
    operations: Vec<RawOperation>,
    #[serde(default)]
    filters: Option<Filters>,
}

#[derive(Deserialize)]
struct RawOperation {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    launch: Option<RawLaunch>,
}

#[derive(Deserialize)]
struct RawLaunch {
    #[serde(default)]
    task_infos: Vec<TaskInfo>,
}

#[derive(Deserialize)]
struct RawDecline {
    #[serde(default)]
    offer_ids: Vec<OfferId>,
    #[serde(default)]
    filters: Option<Filters>,
}

#[derive(Deserialize)]
struct RawInverse {
    #[serde(default)]
    inverse_offer_ids: Vec<Json>,
    #[serde(default)]
    filters: Option<Filters>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRoles {
    roles: Vec<String>,
    /// Mesos ≤ 1.8 revived one `role`.
    role: Option<String>,
}

#[derive(Deserialize)]
struct RawKill {
    task_id: TaskId,
    #[serde(default, alias = "slave_id")]
    agent_id: Option<AgentId>,
    #[serde(default)]
    kill_policy: Option<KillPolicy>,
}

#[derive(Deserialize)]
struct RawShutdown {
    executor_id: ExecutorId,
    #[serde(alias = "slave_id")]
    agent_id: AgentId,
}

#[derive(Deserialize)]
struct RawAcknowledge {
    #[serde(alias = "slave_id")]
    agent_id: AgentId,
    task_id: TaskId,
    #[serde(with = "crate::encoding::bytes")]
    uuid: Vec<u8>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawReconcile {
    tasks: Vec<RawReconcileTask>,
}

#[derive(Deserialize)]
struct RawReconcileTask {
    task_id: TaskId,
    #[serde(default, alias = "slave_id")]
    agent_id: Option<AgentId>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(alias = "slave_id")]
    agent_id: AgentId,
    executor_id: ExecutorId,
    #[serde(with = "crate::encoding::bytes")]
    data: Vec<u8>,
}

fn invalid(message: impl Into<String>) -> CallError {
    CallError::Invalid {
        api: "scheduler",
        message: message.into(),
    }
}

fn required<T>(value: Option<T>, call: &str, field: &str) -> Result<T, CallError> {
    value.ok_or_else(|| invalid(format!("Expecting '{field}' to be present for {call}")))
}

fn roles(raw: Option<RawRoles>) -> Vec<String> {
    let raw = raw.unwrap_or_default();
    let mut roles = raw.roles;
    if let Some(role) = raw.role {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles
}

/// Decodes and validates a scheduler call from its JSON body. Unknown fields are ignored.
///
/// # Errors
/// [`CallError::Parse`] when the body is not JSON or does not fit the call's shape;
/// [`CallError::Invalid`] when a required part is missing or inconsistent (Mesos's messages).
pub fn decode_call(body: &[u8]) -> Result<Call, CallError> {
    let raw: RawCall = serde_json::from_slice(body).map_err(|e| CallError::Parse(e.to_string()))?;
    let kind = raw
        .kind
        .ok_or_else(|| invalid("Expecting 'type' to be present"))?;
    let framework_id = raw.framework_id;
    let needs_framework = |framework_id: &Option<FrameworkId>| {
        if framework_id.is_none() {
            Err(invalid(format!(
                "Expecting 'framework_id' to be present for {kind}"
            )))
        } else {
            Ok(())
        }
    };
    let call = match kind.as_str() {
        "SUBSCRIBE" => {
            let s = required(raw.subscribe, "SUBSCRIBE", "subscribe")?;
            if let Some(id) = &framework_id {
                if s.framework_info.id.as_ref() != Some(id) {
                    return Err(invalid(
                        "'framework_id' differs from 'subscribe.framework_info.id'",
                    ));
                }
            }
            CallKind::Subscribe {
                framework_info: s.framework_info,
                suppressed_roles: s.suppressed_roles,
            }
        }
        "TEARDOWN" => CallKind::Teardown,
        "ACCEPT" => {
            let a = required(raw.accept, "ACCEPT", "accept")?;
            let operations = a
                .operations
                .into_iter()
                .map(|op| match op.kind.as_deref() {
                    Some("LAUNCH") => Ok(Operation::Launch(
                        op.launch.map(|l| l.task_infos).unwrap_or_default(),
                    )),
                    Some(other) => Ok(Operation::Unsupported(other.to_string())),
                    None => Err(invalid("Expecting 'type' to be present for an operation")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            CallKind::Accept {
                offer_ids: a.offer_ids,
                operations,
                filters: a.filters.unwrap_or_default(),
            }
        }
        "DECLINE" => {
            let d = required(raw.decline, "DECLINE", "decline")?;
            CallKind::Decline {
                offer_ids: d.offer_ids,
                filters: d.filters.unwrap_or_default(),
            }
        }
        "ACCEPT_INVERSE_OFFERS" | "DECLINE_INVERSE_OFFERS" => {
            let field = kind.to_ascii_lowercase();
            let accept = kind == "ACCEPT_INVERSE_OFFERS";
            let i = if accept {
                raw.accept_inverse_offers
            } else {
                raw.decline_inverse_offers
            };
            let i = required(i, &kind, &field)?;
            let inverse_offer_ids = i
                .inverse_offer_ids
                .iter()
                .map(|id| id["value"].as_str().unwrap_or_default().to_string())
                .collect();
            let filters = i.filters.unwrap_or_default();
            if accept {
                CallKind::AcceptInverseOffers {
                    inverse_offer_ids,
                    filters,
                }
            } else {
                CallKind::DeclineInverseOffers {
                    inverse_offer_ids,
                    filters,
                }
            }
        }
        "REVIVE" => CallKind::Revive {
            roles: roles(raw.revive),
        },
        "SUPPRESS" => CallKind::Suppress {
            roles: roles(raw.suppress),
        },
        "KILL" => {
            let k = required(raw.kill, "KILL", "kill")?;
            CallKind::Kill {
                task_id: k.task_id,
                agent_id: k.agent_id,
                kill_policy: k.kill_policy,
            }
        }
        "SHUTDOWN" => {
            let s = required(raw.shutdown, "SHUTDOWN", "shutdown")?;
            CallKind::Shutdown {
                executor_id: s.executor_id,
                agent_id: s.agent_id,
            }
        }
        "ACKNOWLEDGE" => {
            let a = required(raw.acknowledge, "ACKNOWLEDGE", "acknowledge")?;
            let uuid = Uuid::from_slice(&a.uuid).map_err(|len| {
                invalid(format!("'acknowledge.uuid' must be 16 bytes, got {len}"))
            })?;
            CallKind::Acknowledge {
                agent_id: a.agent_id,
                task_id: a.task_id,
                uuid,
            }
        }
        "RECONCILE" => {
            let r = required(raw.reconcile, "RECONCILE", "reconcile")?;
            CallKind::Reconcile {
                tasks: r
                    .tasks
                    .into_iter()
                    .map(|t| ReconcileTask {
                        task_id: t.task_id,
                        agent_id: t.agent_id,
                    })
                    .collect(),
            }
        }
        "RECONCILE_OPERATIONS" => CallKind::ReconcileOperations,
        "MESSAGE" => {
            let m = required(raw.message, "MESSAGE", "message")?;
            CallKind::Message {
                agent_id: m.agent_id,
                executor_id: m.executor_id,
                data: m.data,
            }
        }
        "REQUEST" => {
            required(raw.request, "REQUEST", "request")?;
            CallKind::Request
        }
        "UPDATE_FRAMEWORK" => {
            let u = required(raw.update_framework, "UPDATE_FRAMEWORK", "update_framework")?;
            if u.framework_info.id.is_none() || u.framework_info.id != framework_id {
                return Err(invalid(
                    "'update_framework.framework_info.id' must equal 'framework_id'",
                ));
            }
            CallKind::UpdateFramework {
                framework_info: u.framework_info,
                suppressed_roles: u.suppressed_roles,
            }
        }
        other => return Err(invalid(format!("Unknown call type '{other}'"))),
    };
    if !matches!(call, CallKind::Subscribe { .. }) {
        needs_framework(&framework_id)?;
    }
    Ok(Call {
        framework_id,
        kind: call,
    })
}

/// The events of `scheduler::Event`, as JSON envelopes `{"type": T, "<t>": {...}}`.
pub mod event {
    use serde_json::{json, Value as Json};

    use crate::v1::to_v1_json;
    use crate::{AgentId, ExecutorId, FrameworkId, MasterInfo, Offer, OfferId, TaskStatus};

    /// SUBSCRIBED: the framework's id, the heartbeat period, the master.
    pub fn subscribed(
        framework_id: &FrameworkId,
        heartbeat_interval_seconds: f64,
        master_info: &MasterInfo,
    ) -> Json {
        json!({
            "type": "SUBSCRIBED",
            "subscribed": {
                "framework_id": to_v1_json(framework_id),
                "heartbeat_interval_seconds": heartbeat_interval_seconds,
                "master_info": to_v1_json(master_info),
            }
        })
    }

    /// HEARTBEAT (no payload).
    pub fn heartbeat() -> Json {
        json!({"type": "HEARTBEAT"})
    }

    /// One offer as Mesos writes it: every resource carries `role` (`*` when unreserved) and
    /// the `allocation_info` of the role it is offered in.
    pub fn offer(offer: &Offer, allocation_role: &str) -> Json {
        let mut json = to_v1_json(offer);
        if let Some(resources) = json.get_mut("resources").and_then(Json::as_array_mut) {
            for resource in resources {
                if let Some(map) = resource.as_object_mut() {
                    map.entry("role").or_insert_with(|| json!("*"));
                    map.insert("allocation_info".into(), json!({"role": allocation_role}));
                }
            }
        }
        json
    }

    /// OFFERS: nested twice, `{"offers": {"offers": [...]}}` (Event.Offers holds the list).
    pub fn offers(offers: Vec<Json>) -> Json {
        json!({"type": "OFFERS", "offers": {"offers": offers}})
    }

    /// RESCIND of one offer.
    pub fn rescind(offer_id: &OfferId) -> Json {
        json!({"type": "RESCIND", "rescind": {"offer_id": to_v1_json(offer_id)}})
    }

    /// A task status in the v1 mapping (`uuid` only when it needs an acknowledgement, `data`
    /// only when there is some).
    pub fn status(status: &TaskStatus) -> Json {
        let mut json = to_v1_json(status);
        if status.data.is_empty() {
            if let Some(map) = json.as_object_mut() {
                map.remove("data");
            }
        }
        json
    }

    /// UPDATE of one task status.
    pub fn update(status: &TaskStatus) -> Json {
        json!({"type": "UPDATE", "update": {"status": self::status(status)}})
    }

    /// MESSAGE from an executor.
    pub fn message(agent_id: &AgentId, executor_id: &ExecutorId, data: &[u8]) -> Json {
        json!({
            "type": "MESSAGE",
            "message": {
                "agent_id": to_v1_json(agent_id),
                "executor_id": to_v1_json(executor_id),
                "data": crate::base64_encode(data),
            }
        })
    }

    /// FAILURE: an agent was lost (`executor_id` absent), or an executor exited with `status`.
    pub fn failure(
        agent_id: Option<&AgentId>,
        executor_id: Option<&ExecutorId>,
        status: Option<i32>,
    ) -> Json {
        let mut failure = serde_json::Map::new();
        if let Some(agent_id) = agent_id {
            failure.insert("agent_id".into(), to_v1_json(agent_id));
        }
        if let Some(executor_id) = executor_id {
            failure.insert("executor_id".into(), to_v1_json(executor_id));
        }
        if let Some(status) = status {
            failure.insert("status".into(), json!(status));
        }
        json!({"type": "FAILURE", "failure": failure})
    }

    /// ERROR: the framework is told why the master will not serve it any more.
    pub fn error(message: &str) -> Json {
        json!({"type": "ERROR", "error": {"message": message}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::to_ascii_json;

    fn kind(json: &str) -> CallKind {
        decode_call(json.as_bytes()).unwrap().kind
    }

    fn error(json: &str) -> CallError {
        decode_call(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn subscribe_with_unknown_fields_and_string_doubles() {
        let call = decode_call(
            br#"{"type":"SUBSCRIBE","bogus":1,"subscribe":{"framework_info":{"user":"u","name":"n",
            "failover_timeout":"3600","capabilities":[{"type":"PARTITION_AWARE"},{"type":"NEW_THING"}],
            "whatever":{"x":1}},"suppressed_roles":["a"]}}"#,
        )
        .unwrap();
        assert_eq!(call.framework_id, None);
        let CallKind::Subscribe {
            framework_info,
            suppressed_roles,
        } = call.kind
        else {
            panic!("not a subscribe");
        };
        assert_eq!(framework_info.failover_timeout, 3600.0);
        assert_eq!(framework_info.capabilities.len(), 1);
        assert_eq!(suppressed_roles, vec!["a"]);
    }

    #[test]
    fn accept_launch_with_slave_id_and_refuse_seconds_cap() {
        let call = kind(
            r#"{"type":"ACCEPT","framework_id":{"value":"f"},"accept":{"offer_ids":[{"value":"o1"}],
            "operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t1"},
            "slave_id":{"value":"a1"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":"0.5"}}],
            "command":{"value":"true"}}]}},{"type":"RESERVE","reserve":{}}],
            "filters":{"refuse_seconds":4294967295}}}"#,
        );
        let CallKind::Accept {
            offer_ids,
            operations,
            filters,
        } = call
        else {
            panic!("not an accept");
        };
        assert_eq!(offer_ids, vec![OfferId::new("o1")]);
        let Operation::Launch(tasks) = &operations[0] else {
            panic!("not a launch");
        };
        assert_eq!(tasks[0].agent_id, AgentId::new("a1"));
        assert_eq!(tasks[0].resources.cpus(), Some(0.5));
        assert_eq!(operations[1], Operation::Unsupported("RESERVE".into()));
        assert_eq!(filters.refuse_duration(), crate::filters::MAX_REFUSE);
    }

    #[test]
    fn every_call_type_decodes() {
        let f = r#""framework_id":{"value":"f"}"#;
        let cases = [
            format!(r#"{{"type":"TEARDOWN",{f}}}"#),
            format!(r#"{{"type":"DECLINE",{f},"decline":{{"offer_ids":[{{"value":"o"}}]}}}}"#),
            format!(r#"{{"type":"REVIVE",{f},"revive":{{"roles":["r"]}}}}"#),
            format!(r#"{{"type":"REVIVE",{f}}}"#),
            format!(r#"{{"type":"SUPPRESS",{f},"suppress":{{"role":"r"}}}}"#),
            format!(r#"{{"type":"KILL",{f},"kill":{{"task_id":{{"value":"t"}}}}}}"#),
            format!(
                r#"{{"type":"SHUTDOWN",{f},"shutdown":{{"executor_id":{{"value":"e"}},"agent_id":{{"value":"a"}}}}}}"#
            ),
            format!(
                r#"{{"type":"ACKNOWLEDGE",{f},"acknowledge":{{"agent_id":{{"value":"a"}},"task_id":{{"value":"t"}},"uuid":"AAAAAAAAAAAAAAAAAAAAAA=="}}}}"#
            ),
            format!(r#"{{"type":"RECONCILE",{f},"reconcile":{{"tasks":[]}}}}"#),
            format!(r#"{{"type":"RECONCILE_OPERATIONS",{f},"reconcile_operations":{{}}}}"#),
            format!(
                r#"{{"type":"MESSAGE",{f},"message":{{"agent_id":{{"value":"a"}},"executor_id":{{"value":"e"}},"data":"aGk="}}}}"#
            ),
            format!(r#"{{"type":"REQUEST",{f},"request":{{"requests":[]}}}}"#),
            format!(
                r#"{{"type":"ACCEPT_INVERSE_OFFERS",{f},"accept_inverse_offers":{{"inverse_offer_ids":[{{"value":"i"}}]}}}}"#
            ),
            format!(
                r#"{{"type":"DECLINE_INVERSE_OFFERS",{f},"decline_inverse_offers":{{"inverse_offer_ids":[]}}}}"#
            ),
            format!(
                r#"{{"type":"UPDATE_FRAMEWORK",{f},"update_framework":{{"framework_info":{{"user":"u","name":"n","id":{{"value":"f"}}}}}}}}"#
            ),
        ];
        let names: Vec<&str> = cases
            .iter()
            .map(|c| {
                decode_call(c.as_bytes())
                    .unwrap_or_else(|e| panic!("{c}: {e}"))
                    .kind
                    .name()
            })
            .collect();
        assert_eq!(names.len(), cases.len());
        assert_eq!(
            kind(&cases[4]),
            CallKind::Suppress {
                roles: vec!["r".into()]
            }
        );
    }

    #[test]
    fn bad_calls_say_what_is_wrong() {
        let cases = [
            ("not json", "Failed to convert"),
            (r#"{"framework_id":{"value":"f"}}"#, "'type'"),
            (r#"{"type":"TEARDOWN"}"#, "'framework_id'"),
            (r#"{"type":"FLY","framework_id":{"value":"f"}}"#, "FLY"),
            (r#"{"type":"SUBSCRIBE"}"#, "'subscribe'"),
            (
                r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"aGk="}}"#,
                "16 bytes",
            ),
            (
                r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"!!"}}"#,
                "Failed to convert",
            ),
            (
                r#"{"type":"SUBSCRIBE","framework_id":{"value":"f"},"subscribe":{"framework_info":{"user":"u","name":"n"}}}"#,
                "differs",
            ),
            (
                r#"{"type":"KILL","framework_id":{"value":"f"},"kill":{}}"#,
                "task_id",
            ),
        ];
        for (json, needle) in cases {
            let e = error(json).to_string();
            assert!(e.contains(needle), "{json}: {e}");
        }
    }

    #[test]
    fn event_shapes() {
        use crate::{AgentId, Offer, TaskState, TaskStatus};
        let offer = Offer {
            id: OfferId::new("o"),
            agent_id: AgentId::new("a"),
            resources: "cpus:1".parse().unwrap(),
            ..Offer::default()
        };
        let e = event::offers(vec![event::offer(&offer, "web")]);
        let r = &e["offers"]["offers"][0]["resources"][0];
        assert_eq!(r["role"], "*");
        assert_eq!(r["allocation_info"]["role"], "web");
        assert!(e["offers"]["offers"][0].get("executor_ids").is_none());
        let status = TaskStatus::new(TaskId::new("t"), TaskState::Running);
        let u = event::update(&status);
        assert!(u["update"]["status"].get("uuid").is_none());
        assert!(u["update"]["status"].get("data").is_none());
        assert_eq!(
            String::from_utf8(to_ascii_json(&event::heartbeat())).unwrap(),
            r#"{"type":"HEARTBEAT"}"#
        );
        assert_eq!(
            event::failure(Some(&AgentId::new("a")), None, None),
            serde_json::json!({"type":"FAILURE","failure":{"agent_id":{"value":"a"}}})
        );
    }
}
