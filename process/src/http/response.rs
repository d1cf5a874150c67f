//! HTTP responses and their serialisation.

use std::io::Write;

use serde::Serialize;

use super::stream::{HttpStream, StreamBody};

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
const OCTETS: &str = "application/octet-stream";

/// An HTTP response. `Content-Length` is always computed when it is written; `Content-Type` defaults to
/// `application/octet-stream` when no header sets it. A streaming response
/// ([`Response::chunked`]) has no length: its body comes from an [`HttpStream`].
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// Extra headers (do not set `Content-Length`: it is derived from the body).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The streamed body of a chunked response.
    stream: Option<StreamBody>,
}

impl Response {
    /// `value` as JSON with `status`; a value that cannot be serialised becomes a 500 naming the error.
    pub fn json<T: Serialize>(status: u16, value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(body) => Response {
                status,
                headers: vec![("Content-Type".into(), JSON.into())],
                body,
                stream: None,
            },
            Err(e) => Response::text(500, format!("cannot serialise the response: {e}")),
        }
    }

    /// `value` as JSON with status 200.
    pub fn ok_json<T: Serialize>(value: &T) -> Response {
        Response::json(200, value)
    }

    /// A plain-text (UTF-8) response.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), TEXT.into())],
            body: body.into().into_bytes(),
            stream: None,
        }
    }

    /// A response with `status`, `headers` and `body`.
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Response {
        Response {
            status,
            headers,
            body,
            stream: None,
        }
    }

    /// A streaming response (`Transfer-Encoding: chunked`) and the writer of its body. The
    /// connection stays open until the writer closes it or the client leaves, whatever the
    /// request's `Connection` header said. More than `max_queued_bytes` waiting for a slow
    /// reader closes the stream (see [`HttpStream`]).
    pub fn chunked(
        status: u16,
        content_type: &str,
        max_queued_bytes: usize,
    ) -> (Response, HttpStream) {
        let (writer, body) = HttpStream::new(max_queued_bytes);
        let response = Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Vec::new(),
            stream: Some(body),
        };
        (response, writer)
    }

    /// Whether this is a streaming response.
    pub fn is_chunked(&self) -> bool {
        self.stream.is_some()
    }

    /// Takes the streamed body out (for the connection that writes it).
    pub(crate) fn take_stream(&mut self) -> Option<StreamBody> {
        self.stream.take()
    }

    /// `405 Method Not Allowed` with the `Allow` header listing `allowed`.
    pub fn method_not_allowed(allowed: &[&str], method: &str) -> Response {
        let allow = allowed.join(", ");
        Response::text(
            405,
            format!("Expecting one of {{ '{allow}' }}, but received '{method}'"),
        )
        .with_header("Allow", allow)
    }

    /// `body` as JSONP: `callback(body);` as `text/javascript` (for `?jsonp=callback`). The
    /// callback must be a JavaScript identifier path; anything else leaves the response as it is.
    pub fn jsonp(mut self, callback: &str) -> Response {
        let valid = !callback.is_empty()
            && callback
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.'));
        if !valid || self.stream.is_some() {
            return self;
        }
        let mut body = Vec::with_capacity(callback.len() + self.body.len() + 3);
        body.extend_from_slice(callback.as_bytes());
        body.push(b'(');
        body.append(&mut self.body);
        body.extend_from_slice(b");");
        self.body = body;
        for (name, value) in &mut self.headers {
            if name.eq_ignore_ascii_case("content-type") {
                *value = "text/javascript".into();
            }
        }
        self
    }

    /// Whether the body is JSON (by its `Content-Type`).
    pub fn is_json(&self) -> bool {
        self.header("content-type")
            .is_some_and(|t| t.starts_with(JSON))
    }

    /// 404 with `msg` as plain text.
    pub fn not_found(msg: &str) -> Response {
        Response::text(404, msg)
    }

    /// 400 with `msg` as plain text.
    pub fn bad_request(msg: &str) -> Response {
        Response::text(400, msg)
    }

    /// The same response with one more header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the handler asked to close the connection (`Connection: close`).
    pub(crate) fn closes_connection(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    /// Appends the HTTP/1.1 wire form to `out`. `keep_alive == false` adds `Connection: close`;
    /// `with_body == false` (for `HEAD`) keeps the `Content-Length` but leaves the body out.
    pub fn write_to(&self, out: &mut Vec<u8>, keep_alive: bool, with_body: bool) {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        if self.stream.is_some() {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        } else {
            let _ = write!(out, "Content-Length: {}\r\n", self.body.len());
        }
        let mut has_type = false;
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding")
                || (!keep_alive && name.eq_ignore_ascii_case("connection"))
            {
                continue;
            }
            has_type |= name.eq_ignore_ascii_case("content-type");
            // Header injection guard: CR/LF in a name or value would start a new header.
            let clean = |s: &str| s.replace(['\r', '\n'], " ");
            let _ = write!(out, "{}: {}\r\n", clean(name), clean(value));
        }
        if !has_type {
            let _ = write!(out, "Content-Type: {OCTETS}\r\n");
        }
        if !keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if with_body {
            out.extend_from_slice(&self.body);
        }
    }
}

/// The standard reason phrase for the statuses we use (clients ignore it; humans read it).
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        507 => "Insufficient Storage",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(r: &Response, keep_alive: bool, with_body: bool) -> String {
        let mut out = Vec::new();
        r.write_to(&mut out, keep_alive, with_body);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_sets_type_and_length() {
        let r = Response::ok_json(&serde_json::json!({"a": 1}));
        assert_eq!(
            wire(&r, true, true),
            "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\n{\"a\":1}"
        );
    }

    #[test]
    fn close_head_and_default_type() {
        let r = Response::new(
            204,
            vec![("Content-Length".into(), "99".into())],
            b"xy".to_vec(),
        );
        assert_eq!(
            wire(&r, false, false),
            "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(Response::not_found("no").status, 404);
        assert_eq!(Response::bad_request("no").body, b"no");
        assert!(Response::text(200, "")
            .with_header("Connection", "close")
            .closes_connection());
    }

    #[test]
    fn chunked_head_jsonp_and_405() {
        let (r, _writer) = Response::chunked(200, "application/json", 1024);
        assert_eq!(
            wire(&r, true, true),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
        );
        let j = Response::ok_json(&serde_json::json!([1])).jsonp("cb.x");
        assert_eq!(j.body, b"cb.x([1]);");
        assert_eq!(j.header("content-type"), Some("text/javascript"));
        let bad = Response::ok_json(&serde_json::json!([1])).jsonp("alert(1)//");
        assert_eq!(bad.body, b"[1]");
        let r = Response::method_not_allowed(&["POST"], "GET");
        assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    }

    #[test]
    fn header_values_cannot_inject_headers() {
        let r = Response::text(200, "").with_header("X", "a\r\nEvil: 1");
        assert!(!wire(&r, true, true).contains("\r\nEvil"));
    }
}
