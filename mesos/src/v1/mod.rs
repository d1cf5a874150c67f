//! Mesos's v1 HTTP APIs in their exact JSON mapping: calls and events of the scheduler API
//! ([`scheduler`]) and the operator API ([`operator`]), RecordIO framing ([`recordio`]), and a
//! small blocking client ([`client`]) for tests, benchmarks and tools.
//!
//! The mapping is protobuf's JSON as Mesos writes it: field names in snake_case, ids as
//! `{"value": ...}`, enums as their names, `bytes` as padded base64, unset fields omitted (and
//! empty repeated ones), unknown fields ignored on input, doubles also accepted as numeric
//! strings. Output is ASCII only ([`to_ascii_json`]): some clients cut RecordIO records by
//! characters, not bytes.
//!
//! ```
//! use mesos::v1::{recordio, scheduler, to_ascii_json};
//!
//! let call = scheduler::decode_call(br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"caf\u00e9"}}}"#)?;
//! let scheduler::CallKind::Subscribe { framework_info, .. } = call.kind else { unreachable!() };
//! assert_eq!(framework_info.name, "café");
//!
//! let event = scheduler::event::error("caf\u{e9} failed over");
//! let record = recordio::encode(&to_ascii_json(&event));
//! assert_eq!(record, b"60\n{\"type\":\"ERROR\",\"error\":{\"message\":\"caf\\u00e9 failed over\"}}".to_vec());
//! # Ok::<(), mesos::v1::CallError>(())
//! ```

pub mod client;
pub mod executor;
pub mod operator;
pub mod recordio;
pub mod scheduler;

use serde::Serialize;
use serde_json::Value as Json;

/// The one media type these APIs speak.
pub const JSON_MEDIA_TYPE: &str = "application/json";

/// Why a call was refused; each maps to Mesos's status code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The body is not JSON or does not convert into a call (missing required field, bad
    /// base64, wrong type): `400`.
    #[error("Failed to convert JSON into Call protobuf: {0}")]
    Parse(String),
    /// The call converted but is not valid: `400`.
    #[error("Failed to validate {api}::Call: {message}")]
    Invalid {
        /// `scheduler`, `executor` or `master`.
        api: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Serializes `value` as compact JSON with every non-ASCII character escaped as `\uXXXX`.
pub fn to_ascii_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
    if let Err(error) = value.serialize(&mut serializer) {
        // Our values are JSON trees and plain data: this cannot happen, but never panic.
        tracing::error!(%error, "cannot serialize a v1 message");
        out.clear();
        out.extend_from_slice(b"{}");
    }
    out
}

/// serde_json's compact formatter, escaping non-ASCII characters.
struct AsciiFormatter;

impl serde_json::ser::Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (index, c) in fragment.char_indices() {
            if c.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..index])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = index + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Makes a JSON tree look like protobuf's JSON: `null` fields and empty arrays are removed
/// (unset optional and empty repeated fields are omitted), recursively.
pub fn omit_unset(json: &mut Json) {
    match json {
        Json::Object(map) => {
            map.retain(|_, v| !v.is_null() && !matches!(v, Json::Array(a) if a.is_empty()));
            map.values_mut().for_each(omit_unset);
        }
        Json::Array(items) => items.iter_mut().for_each(omit_unset),
        _ => {}
    }
}

/// `value` in the v1 JSON mapping (see [`omit_unset`]).
pub fn to_v1_json<T: Serialize + ?Sized>(value: &T) -> Json {
    let mut json = serde_json::to_value(value).unwrap_or(Json::Null);
    omit_unset(&mut json);
    json
}

/// Checks a request's `Content-Type` for a v1 call: JSON (parameters such as `charset`
/// tolerated). Returns the status and message to answer with otherwise: `400` when missing,
/// `415` for anything else (protobuf included: this API speaks JSON only).
///
/// # Errors
/// The status and message of the refusal.
pub fn check_content_type(value: Option<&str>) -> Result<(), (u16, String)> {
    let Some(value) = value else {
        return Err((400, "Expecting 'Content-Type' to be present".to_string()));
    };
    let media = value.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case(JSON_MEDIA_TYPE) {
        Ok(())
    } else {
        Err((
            415,
            format!("Expecting 'Content-Type' of application/json (only JSON is supported), got '{value}'"),
        ))
    }
}

/// Whether a request's `Accept` admits JSON: absent, `application/json`, `application/*`,
/// `*/*`, or `application/recordio` (streamed records, with JSON messages unless
/// `Message-Accept` excludes them).
pub fn accepts_json(accept: Option<&str>, message_accept: Option<&str>) -> bool {
    let admits = |header: &str, recordio: bool| {
        header.split(',').any(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f64>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            !refused
                && (media == JSON_MEDIA_TYPE
                    || media == "application/*"
                    || media == "*/*"
                    || (recordio && media == "application/recordio"))
        })
    };
    match accept {
        None => true,
        Some(accept) if accept.trim().is_empty() => true,
        Some(accept) => {
            admits(accept, false)
                || (admits(accept, true) && message_accept.is_none_or(|m| admits(m, false)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_escapes_non_ascii_including_astral() {
        let out = to_ascii_json(&serde_json::json!({"k": "é😀\"x", "n": 1.5}));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"k":"\u00e9\ud83d\ude00\"x","n":1.5}"#
        );
    }

    #[test]
    fn omits_nulls_and_empty_arrays() {
        let mut j = serde_json::json!({"a": null, "b": [], "c": [{"d": null, "e": 0}], "f": ""});
        omit_unset(&mut j);
        assert_eq!(j, serde_json::json!({"c": [{"e": 0}], "f": ""}));
    }

    #[test]
    fn content_type_and_accept_rules() {
        assert_eq!(check_content_type(None).unwrap_err().0, 400);
        assert!(check_content_type(Some("application/json; charset=UTF-8")).is_ok());
        assert!(check_content_type(Some("Application/JSON")).is_ok());
        assert_eq!(
            check_content_type(Some("application/x-protobuf"))
                .unwrap_err()
                .0,
            415
        );
        assert!(accepts_json(None, None));
        assert!(accepts_json(Some("application/json"), None));
        assert!(accepts_json(Some("text/html, */*;q=0.8"), None));
        assert!(accepts_json(
            Some("application/recordio"),
            Some("application/json")
        ));
        assert!(!accepts_json(Some("application/x-protobuf"), None));
        assert!(!accepts_json(Some("application/json;q=0"), None));
        assert!(!accepts_json(
            Some("application/recordio"),
            Some("application/x-protobuf")
        ));
    }
}
