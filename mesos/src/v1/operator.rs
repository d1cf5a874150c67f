//! The v1 operator API (`POST /api/v1`): calls are `{"type": "GET_X", "get_x": {...}}` and
//! answers `{"type": "GET_X", "get_x": {...}}`; SUBSCRIBE streams events.

use serde_json::{json, Value as Json};

use super::CallError;
use crate::FrameworkId;

/// A decoded operator call: its type and its payload (under the lower-cased type name).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The call type, e.g. `GET_STATE`.
    pub kind: String,
    /// The payload object, `Null` when absent.
    pub payload: Json,
}

impl Call {
    /// TEARDOWN's `framework_id`.
    ///
    /// # Errors
    /// [`CallError::Invalid`] when it is missing.
    pub fn teardown_framework(&self) -> Result<FrameworkId, CallError> {
        serde_json::from_value::<FrameworkId>(self.payload["framework_id"].clone()).map_err(|_| {
            CallError::Invalid {
                api: "master",
                message: "Expecting 'teardown.framework_id' to be present".into(),
            }
        })
    }
}

/// Decodes an operator call. Unknown fields are ignored; the type is kept as text so the caller
/// can answer `501` naming a call it does not implement.
///
/// # Errors
/// [`CallError::Parse`] for a body that is not a JSON object; [`CallError::Invalid`] without a
/// `type`.
pub fn decode_call(body: &[u8]) -> Result<Call, CallError> {
    let json: Json = serde_json::from_slice(body).map_err(|e| CallError::Parse(e.to_string()))?;
    if !json.is_object() {
        return Err(CallError::Parse("expected a JSON object".into()));
    }
    let kind = json["type"]
        .as_str()
        .ok_or_else(|| CallError::Invalid {
            api: "master",
            message: "Expecting 'type' to be present".into(),
        })?
        .to_string();
    let payload = json[kind.to_ascii_lowercase().as_str()].clone();
    Ok(Call { kind, payload })
}

/// The answer or event envelope `{"type": kind, "<kind>": payload}` (no payload: type only).
pub fn envelope(kind: &str, payload: Option<Json>) -> Json {
    match payload {
        Some(payload) => json!({"type": kind, kind.to_ascii_lowercase(): payload}),
        None => json!({ "type": kind }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_type_and_payload() {
        let call =
            decode_call(br#"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"f"}},"x":1}"#)
                .unwrap();
        assert_eq!(call.kind, "TEARDOWN");
        assert_eq!(call.teardown_framework().unwrap(), FrameworkId::new("f"));
        let call = decode_call(br#"{"type":"GET_HEALTH"}"#).unwrap();
        assert!(call.payload.is_null());
        assert!(call.teardown_framework().is_err());
        assert!(matches!(decode_call(b"[]"), Err(CallError::Parse(_))));
        assert!(matches!(decode_call(b"{}"), Err(CallError::Invalid { .. })));
        assert_eq!(
            envelope("GET_HEALTH", Some(json!({"healthy": true}))),
            json!({"type":"GET_HEALTH","get_health":{"healthy":true}})
        );
    }
}
