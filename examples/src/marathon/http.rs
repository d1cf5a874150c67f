//! A small HTTP/1.1 server for the frameworks' REST APIs: one thread per connection, requests
//! parsed with `httparse`, bodies bounded, `Connection: close` after each answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// The largest request body accepted (an app definition is a few KB).
const MAX_BODY: usize = 1 << 20;

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    /// GET, POST...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query's `key=value` pairs, decoded.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The content type.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON answer.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response {
            status,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
        }
    }

    /// A plain-text answer.
    pub fn text(status: u16, text: &str) -> Response {
        Response {
            status,
            content_type: "text/plain",
            body: text.as_bytes().to_vec(),
        }
    }

    /// An HTML page.
    pub fn html(body: String) -> Response {
        Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: body.into_bytes(),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        _ => "Status",
    }
}

/// Decodes `%xx` and `+`.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves `handler` on `listener` until the process ends (a thread per connection).
pub fn serve(
    listener: TcpListener,
    handler: Arc<dyn Fn(Request) -> Response + Send + Sync>,
) -> std::io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name("http-accept".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = handler.clone();
                let _ = std::thread::Builder::new()
                    .name("http-conn".into())
                    .spawn(move || connection(stream, &*handler));
            }
        })?;
    Ok(addr)
}

fn connection(mut stream: TcpStream, handler: &(dyn Fn(Request) -> Response + Send + Sync)) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let response = match read_request(&mut stream) {
        Ok(request) => handler(request),
        Err(response) => response,
    };
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&response.body));
}

fn read_request(stream: &mut TcpStream) -> Result<Request, Response> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream
            .read(&mut chunk)
            .map_err(|_| Response::text(400, "cannot read the request"))?;
        if n == 0 {
            return Err(Response::text(400, "incomplete request"));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(head_len)) => {
                let method = parsed.method.unwrap_or("GET").to_string();
                let target = parsed.path.unwrap_or("/").to_string();
                let length = parsed
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if length > MAX_BODY {
                    return Err(Response::text(413, "request body too large"));
                }
                let mut body = buf[head_len..].to_vec();
                while body.len() < length {
                    let n = stream
                        .read(&mut chunk)
                        .map_err(|_| Response::text(400, "cannot read the body"))?;
                    if n == 0 {
                        return Err(Response::text(400, "incomplete body"));
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                body.truncate(length);
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                let query = query
                    .split('&')
                    .filter(|p| !p.is_empty())
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        (percent_decode(k), percent_decode(v))
                    })
                    .collect();
                return Ok(Request {
                    method,
                    path: percent_decode(path),
                    query,
                    body,
                });
            }
            Ok(httparse::Status::Partial) if buf.len() < 64 * 1024 => continue,
            _ => return Err(Response::text(400, "malformed request")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(percent_decode("a%2Fb+c"), "a/b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
