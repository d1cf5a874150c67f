//! The v1 executor API (`POST /api/v1/executor` on the agent): [`decode_call`] turns a JSON body
//! into a validated [`Call`]; [`event`] builds the events an agent streams to an HTTP executor.

use serde::Deserialize;

use super::CallError;
use crate::{ExecutorId, FrameworkId, Source, TaskInfo, TaskState, TaskStatus};

/// A decoded, validated executor call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The executor's framework.
    pub framework_id: FrameworkId,
    /// The calling executor.
    pub executor_id: ExecutorId,
    /// What it asks.
    pub kind: CallKind,
}

/// The calls of Mesos's `executor::Call`, with their payloads.
#[derive(Debug, Clone, PartialEq)]
pub enum CallKind {
    /// Open the event stream; a re-subscribing executor lists what it holds unacknowledged.
    Subscribe {
        /// Tasks it was given and has not seen acknowledged updates for.
        unacknowledged_tasks: Vec<TaskInfo>,
        /// Updates it sent that were not acknowledged.
        unacknowledged_updates: Vec<TaskStatus>,
    },
    /// A task status update (validated: uuid, source, state).
    Update(TaskStatus),
    /// Data for the scheduler.
    Message(Vec<u8>),
    /// The executor is alive.
    Heartbeat,
}

impl CallKind {
    /// Mesos's name of the call type.
    pub fn name(&self) -> &'static str {
        match self {
            CallKind::Subscribe { .. } => "SUBSCRIBE",
            CallKind::Update(_) => "UPDATE",
            CallKind::Message(_) => "MESSAGE",
            CallKind::Heartbeat => "HEARTBEAT",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawCall {
    #[serde(rename = "type")]
    kind: Option<String>,
    framework_id: Option<FrameworkId>,
    executor_id: Option<ExecutorId>,
    subscribe: Option<RawSubscribe>,
    update: Option<RawUpdate>,
    message: Option<RawMessage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSubscribe {
    unacknowledged_tasks: Vec<TaskInfo>,
    unacknowledged_updates: Vec<RawUpdate>,
}

#[derive(Deserialize)]
struct RawUpdate {
    status: TaskStatus,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(with = "crate::encoding::bytes")]
    data: Vec<u8>,
}

fn invalid(message: impl Into<String>) -> CallError {
    CallError::Invalid {
        api: "executor",
        message: message.into(),
    }
}

/// Mesos's checks of an executor's status update (`validation::executor::call`): a uuid, sent by
/// the executor, not STAGING, about this executor.
fn validate_status(status: &TaskStatus, executor_id: &ExecutorId) -> Result<(), CallError> {
    if status.uuid.is_none() {
        return Err(invalid("'TaskStatus.uuid' must be present"));
    }
    if status.source != Some(Source::Executor) {
        return Err(invalid(
            "Received Call from executor with invalid source: must be SOURCE_EXECUTOR",
        ));
    }
    if status.state == TaskState::Staging {
        return Err(invalid(
            "Received TASK_STAGING from executor which is not allowed",
        ));
    }
    if status
        .executor_id
        .as_ref()
        .is_some_and(|id| id != executor_id)
    {
        return Err(invalid(format!(
            "ExecutorID in Call: {executor_id} does not match ExecutorID in TaskStatus"
        )));
    }
    Ok(())
}

/// Decodes and validates an executor call from its JSON body. Unknown fields are ignored.
///
/// # Errors
/// [`CallError::Parse`] when the body is not JSON or does not fit the call's shape (a uuid that
/// is not 16 bytes, bad base64); [`CallError::Invalid`] when a required part is missing or the
/// update breaks Mesos's rules.
pub fn decode_call(body: &[u8]) -> Result<Call, CallError> {
    let raw: RawCall = serde_json::from_slice(body).map_err(|e| CallError::Parse(e.to_string()))?;
    let kind = raw
        .kind
        .ok_or_else(|| invalid("Expecting 'type' to be present"))?;
    let framework_id = raw
        .framework_id
        .ok_or_else(|| invalid("Expecting 'framework_id' to be present"))?;
    let executor_id = raw
        .executor_id
        .ok_or_else(|| invalid("Expecting 'executor_id' to be present"))?;
    let call = match kind.as_str() {
        "SUBSCRIBE" => {
            let s = raw
                .subscribe
                .ok_or_else(|| invalid("Expecting 'subscribe' to be present"))?;
            CallKind::Subscribe {
                unacknowledged_tasks: s.unacknowledged_tasks,
                unacknowledged_updates: s
                    .unacknowledged_updates
                    .into_iter()
                    .map(|u| u.status)
                    .collect(),
            }
        }
        "UPDATE" => {
            let u = raw
                .update
                .ok_or_else(|| invalid("Expecting 'update' to be present"))?;
            validate_status(&u.status, &executor_id)?;
            CallKind::Update(u.status)
        }
        "MESSAGE" => {
            let m = raw
                .message
                .ok_or_else(|| invalid("Expecting 'message' to be present"))?;
            CallKind::Message(m.data)
        }
        "HEARTBEAT" => CallKind::Heartbeat,
        other => return Err(invalid(format!("Unknown call type '{other}'"))),
    };
    Ok(Call {
        framework_id,
        executor_id,
        kind: call,
    })
}

/// The events of `executor::Event`, as JSON envelopes `{"type": T, "<t>": {...}}`.
pub mod event {
    use serde_json::{json, Value as Json};

    use crate::v1::to_v1_json;
    use crate::{AgentInfo, ContainerId, ExecutorInfo, FrameworkInfo, TaskId, TaskInfo, Uuid};

    /// SUBSCRIBED: who the executor is, its framework, the agent, its container.
    pub fn subscribed(
        executor_info: &ExecutorInfo,
        framework_info: &FrameworkInfo,
        agent_info: &AgentInfo,
        container_id: &ContainerId,
    ) -> Json {
        json!({
            "type": "SUBSCRIBED",
            "subscribed": {
                "executor_info": to_v1_json(executor_info),
                "framework_info": to_v1_json(framework_info),
                "agent_info": to_v1_json(agent_info),
                "container_id": to_v1_json(container_id),
            }
        })
    }

    /// LAUNCH of one task.
    pub fn launch(task: &TaskInfo) -> Json {
        json!({"type": "LAUNCH", "launch": {"task": to_v1_json(task)}})
    }

    /// KILL of one task.
    pub fn kill(task_id: &TaskId) -> Json {
        json!({"type": "KILL", "kill": {"task_id": to_v1_json(task_id)}})
    }

    /// ACKNOWLEDGED: the agent took the update `uuid` of `task_id`.
    pub fn acknowledged(task_id: &TaskId, uuid: &Uuid) -> Json {
        json!({
            "type": "ACKNOWLEDGED",
            "acknowledged": {
                "task_id": to_v1_json(task_id),
                "uuid": crate::base64_encode(uuid.as_bytes()),
            }
        })
    }

    /// MESSAGE from the scheduler.
    pub fn message(data: &[u8]) -> Json {
        json!({"type": "MESSAGE", "message": {"data": crate::base64_encode(data)}})
    }

    /// SHUTDOWN (no payload).
    pub fn shutdown() -> Json {
        json!({"type": "SHUTDOWN"})
    }

    /// ERROR with a message.
    pub fn error(message: &str) -> Json {
        json!({"type": "ERROR", "error": {"message": message}})
    }

    /// HEARTBEAT (no payload).
    pub fn heartbeat() -> Json {
        json!({"type": "HEARTBEAT"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{base64_encode, TaskId, Uuid};
    use serde_json::json;

    fn update(status: serde_json::Value) -> Result<Call, CallError> {
        decode_call(
            json!({"type": "UPDATE", "framework_id": {"value": "f"}, "executor_id": {"value": "e"},
                   "update": {"status": status}})
            .to_string()
            .as_bytes(),
        )
    }

    #[test]
    fn decodes_every_call_and_validates_updates() {
        let uuid = base64_encode(Uuid::random().as_bytes());
        let ok = update(json!({"task_id": {"value": "t"}, "state": "TASK_RUNNING",
            "source": "SOURCE_EXECUTOR", "uuid": uuid, "timestamp": 1, "unknown": 1}))
        .unwrap();
        assert_eq!(ok.executor_id, ExecutorId::new("e"));
        let CallKind::Update(status) = ok.kind else {
            panic!("an update")
        };
        assert_eq!(status.task_id, TaskId::new("t"));
        for (bad, says) in [
            (
                json!({"task_id": {"value": "t"}, "state": "TASK_RUNNING", "source": "SOURCE_EXECUTOR"}),
                "uuid",
            ),
            (
                json!({"task_id": {"value": "t"}, "state": "TASK_RUNNING", "uuid": uuid}),
                "source",
            ),
            (
                json!({"task_id": {"value": "t"}, "state": "TASK_STAGING", "source": "SOURCE_EXECUTOR", "uuid": uuid}),
                "TASK_STAGING",
            ),
            (
                json!({"task_id": {"value": "t"}, "state": "TASK_RUNNING", "source": "SOURCE_EXECUTOR", "uuid": uuid,
                       "executor_id": {"value": "other"}}),
                "does not match",
            ),
        ] {
            let error = update(bad).unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        }
        let short = update(json!({"task_id": {"value": "t"}, "state": "TASK_RUNNING",
            "source": "SOURCE_EXECUTOR", "uuid": "AAAA"}));
        assert!(matches!(short, Err(CallError::Parse(_))));

        let subscribe = decode_call(
            br#"{"type":"SUBSCRIBE","framework_id":{"value":"f"},"executor_id":{"value":"e"},
                "subscribe":{"unacknowledged_tasks":[],"unacknowledged_updates":[]}}"#,
        )
        .unwrap();
        assert_eq!(subscribe.kind.name(), "SUBSCRIBE");
        let message = decode_call(
            br#"{"type":"MESSAGE","framework_id":{"value":"f"},"executor_id":{"value":"e"},
                "message":{"data":"aGk="}}"#,
        )
        .unwrap();
        assert_eq!(message.kind, CallKind::Message(b"hi".to_vec()));
        let heartbeat = decode_call(
            br#"{"type":"HEARTBEAT","framework_id":{"value":"f"},"executor_id":{"value":"e"}}"#,
        )
        .unwrap();
        assert_eq!(heartbeat.kind, CallKind::Heartbeat);
        assert!(decode_call(br#"{"type":"HEARTBEAT","framework_id":{"value":"f"}}"#).is_err());
        assert!(decode_call(b"nope").is_err());
        assert!(decode_call(
            br#"{"type":"LAUNCH","framework_id":{"value":"f"},"executor_id":{"value":"e"}}"#
        )
        .is_err());
    }

    #[test]
    fn events_are_envelopes() {
        let uuid = Uuid::random();
        let acked = event::acknowledged(&TaskId::new("t"), &uuid);
        assert_eq!(acked["acknowledged"]["task_id"]["value"], "t");
        assert_eq!(
            acked["acknowledged"]["uuid"],
            base64_encode(uuid.as_bytes())
        );
        assert_eq!(event::message(b"hi")["message"]["data"], "aGk=");
        assert_eq!(event::shutdown(), json!({"type": "SHUTDOWN"}));
    }
}
