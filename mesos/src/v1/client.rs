//! A small blocking HTTP/1.1 client for the v1 APIs: JSON calls on a kept-alive connection
//! ([`Client::post`]) and RecordIO event streams ([`subscribe`]). For tests, benchmarks and
//! tools; frameworks in Rust use the scheduler driver.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value as Json;

use super::recordio::Decoder;

/// Largest body or record the client reads.
const MAX_BODY: usize = 256 << 20;

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for a stream, whose body is read separately).
    pub body: Vec<u8>,
}

impl Reply {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    ///
    /// # Errors
    /// When it is not JSON.
    pub fn json(&self) -> serde_json::Result<Json> {
        serde_json::from_slice(&self.body)
    }
}

fn bad(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn write_request(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
        stream.peer_addr()?,
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)
}

/// Reads a status line and headers; returns the reply without its body, and whether the body
/// is chunked.
fn read_head(reader: &mut impl BufRead) -> io::Result<(Reply, bool)> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before an answer",
        ));
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line '{}'", line.trim_end())))?;
    let mut headers = Vec::new();
    let mut chunked = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(bad("connection closed in the headers"));
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            chunked |= name.eq_ignore_ascii_case("transfer-encoding")
                && value.eq_ignore_ascii_case("chunked");
            headers.push((name, value));
        }
    }
    Ok((
        Reply {
            status,
            headers,
            body: Vec::new(),
        },
        chunked,
    ))
}

/// Reads one chunk of a chunked body; `None` after the last.
fn read_chunk(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "stream closed",
        ));
    }
    let size = line.trim_end().split(';').next().unwrap_or("");
    let len = usize::from_str_radix(size, 16)
        .map_err(|_| bad(format!("bad chunk size '{}'", line.trim_end())))?;
    if len > MAX_BODY {
        return Err(bad("chunk too large"));
    }
    let mut data = vec![0; len + 2];
    reader.read_exact(&mut data)?;
    data.truncate(len);
    Ok((len > 0).then_some(data))
}

fn read_body(reader: &mut impl BufRead, reply: &mut Reply, chunked: bool) -> io::Result<()> {
    if chunked {
        while let Some(chunk) = read_chunk(reader)? {
            reply.body.extend_from_slice(&chunk);
        }
        return Ok(());
    }
    let len: usize = reply
        .header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    if len > MAX_BODY {
        return Err(bad("body too large"));
    }
    reply.body = vec![0; len];
    reader.read_exact(&mut reply.body)
}

/// A kept-alive connection for calls (reconnects after the server closes it).
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    timeout: Duration,
    connection: Option<BufReader<TcpStream>>,
}

impl Client {
    /// A client of the server at `addr`; every read and write waits at most `timeout`.
    pub fn new(addr: SocketAddr, timeout: Duration) -> Client {
        Client {
            addr,
            timeout,
            connection: None,
        }
    }

    fn connect(&self) -> io::Result<BufReader<TcpStream>> {
        let stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        stream.set_nodelay(true)?;
        Ok(BufReader::new(stream))
    }

    /// Sends one request and reads the whole answer.
    ///
    /// # Errors
    /// I/O errors, a malformed answer.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Reply> {
        // A kept-alive connection the server has closed fails the first write or read: retry
        // once on a fresh one (calls are not sent twice: a failed write sent nothing usable).
        for attempt in 0..2 {
            let fresh = self.connection.is_none();
            let mut connection = match self.connection.take() {
                Some(c) => c,
                None => self.connect()?,
            };
            let result = write_request(connection.get_mut(), method, path, headers, body)
                .and_then(|()| read_head(&mut connection))
                .and_then(|(mut reply, chunked)| {
                    read_body(&mut connection, &mut reply, chunked)?;
                    Ok(reply)
                });
            match result {
                Ok(reply) => {
                    let closes = reply
                        .header("connection")
                        .is_some_and(|c| c.eq_ignore_ascii_case("close"));
                    if !closes {
                        self.connection = Some(connection);
                    }
                    return Ok(reply);
                }
                Err(e) if !fresh && attempt == 0 && e.kind() == io::ErrorKind::UnexpectedEof => {}
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("unreachable retry"))
    }

    /// POSTs a JSON body with `Content-Type: application/json` plus `headers`.
    ///
    /// # Errors
    /// As [`Client::request`].
    pub fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &Json) -> io::Result<Reply> {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        self.request("POST", path, &all, &serde_json::to_vec(body)?)
    }
}

/// An open event stream: the subscription's head and its records.
#[derive(Debug)]
pub struct Subscription {
    /// The answer's head (status, `Mesos-Stream-Id`, ...).
    pub head: Reply,
    reader: BufReader<TcpStream>,
    decoder: Decoder,
    pending: std::collections::VecDeque<Vec<u8>>,
}

impl Subscription {
    /// The `Mesos-Stream-Id` header, if any.
    pub fn stream_id(&self) -> Option<&str> {
        self.head.header("mesos-stream-id")
    }

    /// The next event; `None` when the server ended the stream. Waits at most the timeout given
    /// to [`subscribe`] for each read.
    ///
    /// # Errors
    /// I/O errors (a timeout included), a malformed stream, a record that is not JSON.
    pub fn next_event(&mut self) -> io::Result<Option<Json>> {
        loop {
            if let Some(record) = self.pending.pop_front() {
                return serde_json::from_slice(&record)
                    .map(Some)
                    .map_err(|e| bad(e.to_string()));
            }
            let Some(chunk) = read_chunk(&mut self.reader)? else {
                return Ok(None);
            };
            let records = self.decoder.feed(&chunk).map_err(|e| bad(e.to_string()))?;
            self.pending.extend(records);
        }
    }

    /// Changes how long each read waits.
    ///
    /// # Errors
    /// When the socket refuses the setting.
    pub fn set_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.reader.get_ref().set_read_timeout(Some(timeout))
    }

    /// Closes the stream from this side.
    pub fn close(self) {
        let _ = self.reader.get_ref().shutdown(std::net::Shutdown::Both);
    }
}

/// POSTs a SUBSCRIBE `call` to `path`. A `200` chunked answer gives the open stream; any other
/// answer is returned whole as the error value.
///
/// # Errors
/// I/O errors, a malformed answer.
pub fn subscribe(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    call: &Json,
    timeout: Duration,
) -> io::Result<Result<Subscription, Reply>> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream);
    let mut all = vec![("Content-Type", "application/json")];
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
    {
        all.push(("Accept", "application/json"));
    }
    all.extend_from_slice(headers);
    write_request(
        reader.get_mut(),
        "POST",
        path,
        &all,
        &serde_json::to_vec(call)?,
    )?;
    let (mut head, chunked) = read_head(&mut reader)?;
    if head.status != 200 || !chunked {
        read_body(&mut reader, &mut head, chunked)?;
        return Ok(Err(head));
    }
    Ok(Ok(Subscription {
        head,
        reader,
        decoder: Decoder::new(MAX_BODY),
        pending: Default::default(),
    }))
}
