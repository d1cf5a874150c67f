//! HTTP/1.1 requests and their incremental parser (pure: bytes in, request out; no I/O).

use super::response::Response;

/// One parsed HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The path part of the target, still percent-encoded, e.g. `/master/state`.
    pub path: String,
    /// The raw query string after `?` (empty if none), still percent-encoded.
    pub query: String,
    /// Header names and values in the order received (values decoded lossily as UTF-8).
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

impl Request {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `key`, percent-decoded (`+` as space).
    pub fn query_param(&self, key: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == key).then(|| percent_decode(v))
        })
    }
}

/// Decodes `%XX` escapes and `+` (as space); malformed escapes are kept literally.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a path for a URL's path or query: unreserved characters and `/` stay, every
/// other byte becomes `%XX`.
pub fn percent_encode_path(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Why bytes are not an acceptable request; each maps to the status the connection answers with before
/// closing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpParseError {
    /// Not HTTP/1.x syntax.
    #[error("malformed http request: {0}")]
    Malformed(String),
    /// The request line and headers exceed the limit, or there are too many headers.
    #[error("request headers exceed {0} bytes or {MAX_HEADERS} headers")]
    HeadersTooLarge(usize),
    /// `Content-Length` exceeds the body limit.
    #[error("request body of {len} bytes exceeds the maximum of {max} bytes")]
    BodyTooLarge {
        /// The announced length.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A body with `Transfer-Encoding` (e.g. chunked): uploads must carry `Content-Length`.
    #[error("transfer-encoding is not supported: send a content-length body")]
    LengthRequired,
}

impl HttpParseError {
    /// The response that tells the client what was wrong.
    pub fn response(&self) -> Response {
        let status = match self {
            HttpParseError::Malformed(_) => 400,
            HttpParseError::HeadersTooLarge(_) => 431,
            HttpParseError::BodyTooLarge { .. } => 413,
            HttpParseError::LengthRequired => 411,
        };
        Response::text(status, self.to_string())
    }
}

/// The most headers a request may carry.
pub const MAX_HEADERS: usize = 64;

/// What [`RequestParser::parse`] found at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseOutcome {
    /// A whole request: it used the first `consumed` bytes of the buffer.
    Complete {
        /// The request.
        request: Request,
        /// Bytes of the buffer it occupied (headers and body).
        consumed: usize,
        /// Whether the connection stays open after the response (HTTP/1.1 default, `Connection` header).
        keep_alive: bool,
        /// The client sent `Expect: 100-continue`.
        expects_continue: bool,
    },
    /// More bytes are needed.
    Partial {
        /// The headers are complete and the client waits for `100 Continue` before sending the body.
        expects_continue: bool,
    },
}

/// Parses one request at a time from the front of a connection's input buffer, with size limits.
#[derive(Debug, Clone, Copy)]
pub struct RequestParser {
    /// Limit on the request line plus headers.
    pub max_header_bytes: usize,
    /// Limit on `Content-Length`.
    pub max_body_bytes: usize,
}

impl RequestParser {
    /// Parses the request at the start of `buf`.
    ///
    /// # Errors
    /// An [`HttpParseError`]; answer with its [`response`](HttpParseError::response) and close.
    pub fn parse(&self, buf: &[u8]) -> Result<ParseOutcome, HttpParseError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        let header_len = match parsed.parse(buf) {
            Ok(httparse::Status::Complete(n)) if n > self.max_header_bytes => {
                return Err(HttpParseError::HeadersTooLarge(self.max_header_bytes))
            }
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if buf.len() > self.max_header_bytes => {
                return Err(HttpParseError::HeadersTooLarge(self.max_header_bytes))
            }
            Ok(httparse::Status::Partial) => {
                return Ok(ParseOutcome::Partial {
                    expects_continue: false,
                })
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(HttpParseError::HeadersTooLarge(self.max_header_bytes))
            }
            Err(e) => return Err(HttpParseError::Malformed(e.to_string())),
        };
        // httparse fills these on Complete.
        let method = parsed.method.unwrap_or_default();
        let target = parsed.path.unwrap_or_default();
        let version = parsed.version.unwrap_or(1);

        let mut content_length: Option<usize> = None;
        let mut connection_close = version == 0;
        let mut expects_continue = false;
        let mut header_list = Vec::with_capacity(parsed.headers.len());
        for h in parsed.headers.iter() {
            let value = String::from_utf8_lossy(h.value).trim().to_string();
            if h.name.eq_ignore_ascii_case("content-length") {
                let len: usize = value.parse().map_err(|_| {
                    HttpParseError::Malformed(format!("bad content-length '{value}'"))
                })?;
                if content_length.is_some_and(|l| l != len) {
                    return Err(HttpParseError::Malformed(
                        "conflicting content-length headers".into(),
                    ));
                }
                content_length = Some(len);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(HttpParseError::LengthRequired);
            } else if h.name.eq_ignore_ascii_case("connection") {
                for token in value.split(',').map(str::trim) {
                    if token.eq_ignore_ascii_case("close") {
                        connection_close = true;
                    } else if token.eq_ignore_ascii_case("keep-alive") {
                        connection_close = false;
                    }
                }
            } else if h.name.eq_ignore_ascii_case("expect") {
                expects_continue = value.eq_ignore_ascii_case("100-continue");
            }
            header_list.push((h.name.to_string(), value));
        }
        let body_len = content_length.unwrap_or(0);
        if body_len > self.max_body_bytes {
            return Err(HttpParseError::BodyTooLarge {
                len: body_len,
                max: self.max_body_bytes,
            });
        }
        let total = header_len + body_len;
        if buf.len() < total {
            return Ok(ParseOutcome::Partial { expects_continue });
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Ok(ParseOutcome::Complete {
            request: Request {
                method: method.to_string(),
                path: path.to_string(),
                query: query.to_string(),
                headers: header_list,
                body: buf[header_len..total].to_vec(),
            },
            consumed: total,
            keep_alive: !connection_close,
            expects_continue,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARSER: RequestParser = RequestParser {
        max_header_bytes: 1024,
        max_body_bytes: 100,
    };

    fn complete(buf: &[u8]) -> (Request, usize, bool) {
        match PARSER.parse(buf).unwrap() {
            ParseOutcome::Complete {
                request,
                consumed,
                keep_alive,
                ..
            } => (request, consumed, keep_alive),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn parses_path_query_headers_and_body() {
        let raw = b"POST /master/state?jsonp=f%20x&a=1+2&flag HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloNEXT";
        let (req, consumed, keep_alive) = complete(raw);
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/master/state");
        assert_eq!(req.query, "jsonp=f%20x&a=1+2&flag");
        assert_eq!(req.query_param("jsonp").as_deref(), Some("f x"));
        assert_eq!(req.query_param("a").as_deref(), Some("1 2"));
        assert_eq!(req.query_param("flag").as_deref(), Some(""));
        assert_eq!(req.query_param("missing"), None);
        assert_eq!(req.header("HOST"), Some("h"));
        assert_eq!(req.body, b"hello");
        assert_eq!(consumed, raw.len() - 4);
        assert!(keep_alive);
    }

    #[test]
    fn partial_until_headers_and_body_are_complete() {
        let raw = b"PUT /x HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc";
        for cut in 0..raw.len() {
            let outcome = PARSER.parse(&raw[..cut]).unwrap();
            let headers_done = cut >= raw.len() - 3;
            assert_eq!(
                outcome,
                ParseOutcome::Partial {
                    expects_continue: headers_done
                },
                "cut {cut}"
            );
        }
        assert_eq!(complete(raw).0.body, b"abc");
    }

    #[test]
    fn connection_header_and_version_decide_keep_alive() {
        assert!(!complete(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").2);
        assert!(!complete(b"GET / HTTP/1.0\r\n\r\n").2);
        assert!(complete(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").2);
    }

    #[test]
    fn rejections_map_to_statuses() {
        let cases: [(&[u8], u16); 6] = [
            (b"\x00\x01garbage\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                411,
            ),
            (b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413),
            (&[b'G'; 1025], 431),
        ];
        for (raw, status) in cases {
            let err = PARSER.parse(raw).unwrap_err();
            assert_eq!(err.response().status, status, "{err}");
        }
        let many: String = (0..=MAX_HEADERS).map(|i| format!("h{i}: v\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\n{many}\r\n");
        let parser = RequestParser {
            max_header_bytes: 1 << 20,
            ..PARSER
        };
        assert_eq!(
            parser.parse(raw.as_bytes()).unwrap_err().response().status,
            431
        );
    }

    #[test]
    fn percent_encoding_a_path_round_trips() {
        let path = "/tmp/a dir/caf\u{e9}+100%&x=1";
        let encoded = percent_encode_path(path);
        assert_eq!(encoded, "/tmp/a%20dir/caf%C3%A9%2B100%25%26x%3D1");
        assert_eq!(percent_decode(&encoded), path);
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
        assert_eq!(percent_decode("%41%42+c"), "AB c");
        assert_eq!(percent_decode("%"), "%");
    }
}
