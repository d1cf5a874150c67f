//! Transport tests over real loopback sockets: two transports in one process, raw clients for bad input.
//!
//! Waits use `recv_timeout` only as a guard against hanging forever; no test depends on timing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::*;
use crate::http::{Request, Responder, Response};

const GUARD: Duration = Duration::from_secs(20);

/// Records everything the transport reports; answers HTTP from another thread, echoing the request.
struct Recorder {
    delivered: Sender<Envelope>,
    lost: Sender<SocketAddr>,
}

impl TransportHandler for Recorder {
    fn deliver(&self, envelope: BorrowedEnvelope<'_>) {
        let _ = self.delivered.send(envelope.to_owned());
    }

    fn http(&self, request: Request, responder: Responder) {
        std::thread::spawn(move || match request.path.as_str() {
            "/drop" => drop(responder),
            "/close" => {
                responder.respond(Response::text(200, "bye").with_header("Connection", "close"))
            }
            _ => responder.respond(Response::ok_json(&serde_json::json!({
                "method": request.method,
                "path": request.path,
                "q": request.query_param("q"),
                "body": String::from_utf8_lossy(&request.body),
            }))),
        });
    }

    fn peer_lost(&self, peer: SocketAddr) {
        let _ = self.lost.send(peer);
    }
}

struct Node {
    transport: Transport,
    delivered: Receiver<Envelope>,
    lost: Receiver<SocketAddr>,
}

fn node_at(addr: SocketAddr, config: TransportConfig) -> Node {
    let (delivered_tx, delivered) = crossbeam_channel::unbounded();
    let (lost_tx, lost) = crossbeam_channel::unbounded();
    let handler = Arc::new(Recorder {
        delivered: delivered_tx,
        lost: lost_tx,
    });
    let transport = Transport::start(addr, config, handler).unwrap();
    Node {
        transport,
        delivered,
        lost,
    }
}

fn node() -> Node {
    node_at(any_port(), TransportConfig::default())
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn envelope(from: &Node, to: &Node, name: &str, body: &[u8]) -> Envelope {
    Envelope {
        from: Upid::new("sender", from.transport.local_addr()).unwrap(),
        to: Upid::new("receiver", to.transport.local_addr()).unwrap(),
        name: name.into(),
        body: body.to_vec(),
    }
}

fn send(from: &Node, to: &Node, name: &str, body: &[u8]) -> Envelope {
    let e = envelope(from, to, name, body);
    from.transport.send(to.transport.local_addr(), &e);
    e
}

#[test]
fn handles_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Transport>();
    send::<Responder>();
    send_sync::<Envelope>();
}

#[test]
fn envelopes_round_trip_through_self_describing_formats_too() {
    let e = Envelope {
        from: "a@127.0.0.1:1".parse().unwrap(),
        to: "b@[::1]:2".parse().unwrap(),
        name: "m".into(),
        body: vec![0, 1, 255],
    };
    let json = serde_json::to_string(&e).unwrap();
    assert!(json.contains("[0,1,255]"), "{json}");
    assert_eq!(serde_json::from_str::<Envelope>(&json).unwrap(), e);
}

#[test]
fn two_transports_exchange_envelopes_both_ways() {
    let (a, b) = (node(), node());
    let sent = send(&a, &b, "ping", b"hello");
    assert_eq!(b.delivered.recv_timeout(GUARD).unwrap(), sent);
    let reply = send(&b, &a, "pong", b"");
    assert_eq!(a.delivered.recv_timeout(GUARD).unwrap(), reply);
    // A transport can also send to itself over TCP.
    let own = send(&a, &a, "self", b"x");
    assert_eq!(a.delivered.recv_timeout(GUARD).unwrap(), own);
}

#[test]
fn many_small_messages_arrive_complete_and_in_order() {
    let (a, b) = (node(), node());
    let count = 100_000u32;
    let mut e = envelope(&a, &b, "seq", &[7; 100]);
    for i in 0..count {
        e.body[..4].copy_from_slice(&i.to_be_bytes());
        a.transport.send(b.transport.local_addr(), &e);
    }
    for i in 0..count {
        let got = b.delivered.recv_timeout(GUARD).unwrap();
        assert_eq!(got.body[..4], i.to_be_bytes());
        assert_eq!(got.body.len(), 100);
    }
}

#[test]
fn many_senders_to_one_peer_interleave_whole_frames() {
    let (a, b) = (Arc::new(node()), node());
    let to = b.transport.local_addr();
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let a = Arc::clone(&a);
            let e = envelope(&a, &b, "t", &[t; 50]);
            std::thread::spawn(move || {
                for _ in 0..5_000 {
                    a.transport.send(to, &e);
                }
            })
        })
        .collect();
    for t in threads {
        crate::testing::join_within(t, "a sending thread", GUARD);
    }
    let mut per_thread = [0; 4];
    for _ in 0..20_000 {
        let got = b.delivered.recv_timeout(GUARD).unwrap();
        per_thread[got.body[0] as usize] += 1;
    }
    assert_eq!(per_thread, [5_000; 4]);
}

#[test]
fn frames_larger_than_the_read_buffer_arrive_whole() {
    let (a, b) = (node(), node());
    let big: Vec<u8> = (0..(3 << 20)).map(|i: u32| (i % 251) as u8).collect();
    let sent = [
        send(&a, &b, "small", b"1"),
        send(&a, &b, "big", &big),
        send(&a, &b, "small", b"2"),
    ];
    for e in sent {
        assert_eq!(b.delivered.recv_timeout(GUARD).unwrap(), e);
    }
}

#[test]
fn the_sender_notices_when_the_receiver_shuts_down() {
    let (a, b) = (node(), node());
    let b_addr = b.transport.local_addr();
    send(&a, &b, "m", b"");
    b.delivered.recv_timeout(GUARD).unwrap();
    b.transport.shutdown();
    assert_eq!(a.lost.recv_timeout(GUARD).unwrap(), b_addr);
}

#[test]
fn the_receiver_notices_when_the_sender_shuts_down() {
    // Only b -> a carries traffic: a learns b's listen address from the hello and still notices.
    let (a, b) = (node(), node());
    let b_addr = b.transport.local_addr();
    send(&b, &a, "m", b"");
    a.delivered.recv_timeout(GUARD).unwrap();
    drop(b);
    assert_eq!(a.lost.recv_timeout(GUARD).unwrap(), b_addr);
}

#[test]
fn connect_alone_makes_both_sides_aware_of_each_other() {
    let (a, b) = (node(), node());
    let a_addr = a.transport.local_addr();
    b.transport.connect(a_addr);
    // The connection is up once a message sent after it arrives; then a goes away.
    send(&b, &a, "m", b"");
    a.delivered.recv_timeout(GUARD).unwrap();
    a.transport.shutdown();
    assert_eq!(b.lost.recv_timeout(GUARD).unwrap(), a_addr);
}

#[test]
fn unreachable_peers_are_reported_for_connect_and_send() {
    let a = node();
    let dead = {
        let listener = std::net::TcpListener::bind(any_port()).unwrap();
        listener.local_addr().unwrap()
    };
    a.transport.connect(dead);
    assert_eq!(a.lost.recv_timeout(GUARD).unwrap(), dead);
    let e = Envelope {
        from: Upid::new("x", a.transport.local_addr()).unwrap(),
        to: Upid::new("y", dead).unwrap(),
        name: "m".into(),
        body: vec![],
    };
    a.transport.send(dead, &e);
    assert_eq!(a.lost.recv_timeout(GUARD).unwrap(), dead);
}

#[test]
fn the_next_send_reconnects_after_the_peer_restarts_on_the_same_port() {
    let (a, b) = (node(), node());
    let b_addr = b.transport.local_addr();
    send(&a, &b, "before", b"");
    b.delivered.recv_timeout(GUARD).unwrap();
    drop(b);
    assert_eq!(a.lost.recv_timeout(GUARD).unwrap(), b_addr);
    let b2 = node_at(b_addr, TransportConfig::default());
    let after = send(&a, &b2, "after", b"again");
    assert_eq!(b2.delivered.recv_timeout(GUARD).unwrap(), after);
}

#[test]
fn oversized_outgoing_envelopes_are_dropped_not_sent() {
    let config = TransportConfig {
        max_frame_bytes: 1000,
        ..TransportConfig::default()
    };
    let a = node_at(any_port(), config);
    let b = node();
    send(&a, &b, "big", &[0; 2000]);
    let small = send(&a, &b, "small", b"ok");
    assert_eq!(b.delivered.recv_timeout(GUARD).unwrap(), small);
}

#[test]
fn start_rejects_ambiguous_frame_limits_and_busy_ports() {
    let handler = Arc::new(Recorder {
        delivered: crossbeam_channel::unbounded().0,
        lost: crossbeam_channel::unbounded().0,
    });
    let config = TransportConfig {
        max_frame_bytes: MAX_FRAME_LIMIT + 1,
        ..TransportConfig::default()
    };
    let err = Transport::start(any_port(), config, handler.clone()).unwrap_err();
    assert!(matches!(err, TransportError::InvalidConfig(_)), "{err}");
    let a = node();
    let err = Transport::start(
        a.transport.local_addr(),
        TransportConfig::default(),
        handler,
    )
    .unwrap_err();
    assert!(matches!(err, TransportError::Bind { .. }), "{err}");
}

/// Writes `bytes` on a fresh connection to `node` and returns whether the transport closed it.
fn is_closed_after(node: &Node, bytes: &[u8]) -> bool {
    let mut raw = TcpStream::connect(node.transport.local_addr()).unwrap();
    raw.set_read_timeout(Some(GUARD)).unwrap();
    raw.write_all(bytes).unwrap();
    let mut buf = [0; 16];
    // End of stream or a reset: the transport closed it. A read timeout is not a close.
    match raw.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
        ),
    }
}

#[test]
fn bad_frames_close_only_their_connection() {
    let (a, b) = (node(), node());
    send(&a, &b, "first", b"");
    b.delivered.recv_timeout(GUARD).unwrap();

    let mut oversized = (16u32 << 20).to_be_bytes().to_vec();
    oversized[0] = 1; // 16 MiB + a bit: over the default maximum
    oversized[3] = 1;
    let mut undecodable = 5u32.to_be_bytes().to_vec();
    undecodable.extend_from_slice(b"hello");
    for bad in [&[0xFF; 64][..], &oversized, &undecodable, &[0, 0, 0, 0]] {
        assert!(is_closed_after(&b, bad), "{bad:?}");
        let still = send(&a, &b, "still", b"working");
        assert_eq!(b.delivered.recv_timeout(GUARD).unwrap(), still);
    }
    // The bad connections were never runtime peers, and a's link is intact: nobody was lost.
    assert!(a.lost.try_recv().is_err());
    assert!(b.lost.try_recv().is_err());
}

/// Reads one HTTP response: (status, headers, body).
fn read_response(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>, String) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(": ").unwrap();
        headers.push((n.to_lowercase(), v.to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    (status, headers, String::from_utf8(body).unwrap())
}

fn http_client(node: &Node) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(node.transport.local_addr()).unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    let reader = BufReader::new(stream.try_clone().unwrap());
    (stream, reader)
}

fn at_eof(reader: &mut impl BufRead) -> bool {
    matches!(reader.fill_buf(), Ok([]) | Err(_))
}

#[test]
fn http_keep_alive_serves_sequential_and_pipelined_requests_in_order() {
    let b = node();
    let (mut stream, mut reader) = http_client(&b);
    stream
        .write_all(b"GET /a/b?q=1%202 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, headers, body) = read_response(&mut reader);
    assert_eq!(status, 200);
    assert!(headers.contains(&("content-type".into(), "application/json".into())));
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["path"], "/a/b");
    assert_eq!(json["q"], "1 2");
    // Same connection, three pipelined requests in one write: answered in order.
    stream
        .write_all(
            b"POST /one HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /two HTTP/1.1\r\n\r\nGET /three HTTP/1.1\r\n\r\n",
        )
        .unwrap();
    for (path, body) in [("/one", "abc"), ("/two", ""), ("/three", "")] {
        let (status, _, text) = read_response(&mut reader);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (status, json["path"].as_str(), json["body"].as_str()),
            (200, Some(path), Some(body))
        );
    }
}

#[test]
fn http_connection_close_and_dropped_responders() {
    let b = node();
    let (mut stream, mut reader) = http_client(&b);
    stream.write_all(b"GET /drop HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut reader).0, 500);
    stream
        .write_all(b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (status, headers, _) = read_response(&mut reader);
    assert_eq!(status, 200);
    assert!(headers.contains(&("connection".into(), "close".into())));
    assert!(at_eof(&mut reader));

    // The handler may close too; HEAD gets headers only.
    let (mut stream, mut reader) = http_client(&b);
    stream
        .write_all(b"HEAD /x HTTP/1.1\r\n\r\nGET /close HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
    }
    assert_eq!(read_response(&mut reader).2, "bye");
    assert!(at_eof(&mut reader));
}

#[test]
fn http_bodies_arrive_across_many_reads_and_writes() {
    let b = node();
    let (mut stream, mut reader) = http_client(&b);
    let body = "x".repeat(600_000);
    let request = format!(
        "POST /big HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    for piece in request.as_bytes().chunks(100_003) {
        stream.write_all(piece).unwrap();
    }
    let (status, _, text) = read_response(&mut reader);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (status, json["body"].as_str().map(str::len)),
        (200, Some(body.len()))
    );
}

#[test]
fn http_expect_continue_gets_100_before_the_body() {
    let b = node();
    let (mut stream, mut reader) = http_client(&b);
    stream
        .write_all(b"PUT /up HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
    line.clear();
    reader.read_line(&mut line).unwrap();
    stream.write_all(b"data").unwrap();
    let (status, _, body) = read_response(&mut reader);
    assert_eq!(status, 200);
    assert!(body.contains("\"body\":\"data\""), "{body}");
}

#[test]
fn malformed_http_gets_an_error_status_then_close_while_others_keep_working() {
    let (a, b) = (node(), node());
    let config = TransportConfig {
        max_http_body_bytes: 10,
        ..TransportConfig::default()
    };
    let c = node_at(any_port(), config);
    for (node, raw, status) in [
        (&b, &b"HELLO WORLD\r\n\r\n"[..], 400),
        (&b, b"GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n", 400),
        (
            &b,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            411,
        ),
        (&c, b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 413),
    ] {
        let (mut stream, mut reader) = http_client(node);
        stream.write_all(raw).unwrap();
        assert_eq!(read_response(&mut reader).0, status);
        assert!(at_eof(&mut reader));
        let still = send(&a, node, "still", b"");
        assert_eq!(node.delivered.recv_timeout(GUARD).unwrap(), still);
    }
    // A valid request on a new connection is still served.
    let (mut stream, mut reader) = http_client(&b);
    stream.write_all(b"GET /ok HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut reader).0, 200);
}

/// Hands every HTTP responder to the test, so it decides when requests are answered.
struct Parked {
    requests: Sender<(Request, Responder)>,
}

impl TransportHandler for Parked {
    fn deliver(&self, _: BorrowedEnvelope<'_>) {}
    fn http(&self, request: Request, responder: Responder) {
        let _ = self.requests.send((request, responder));
    }
    fn peer_lost(&self, _: SocketAddr) {}
}

#[test]
fn http_input_beyond_the_limits_pauses_reading_until_the_response() {
    let (requests_tx, requests) = crossbeam_channel::unbounded();
    let config = TransportConfig {
        max_http_header_bytes: 256,
        max_http_body_bytes: 256,
        ..TransportConfig::default()
    };
    let handler = Arc::new(Parked {
        requests: requests_tx,
    });
    let t = Transport::start(any_port(), config, handler).unwrap();
    let mut stream = TcpStream::connect(t.local_addr()).unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    // ~700 KB of pipelined requests: more than one 256 KiB read, far more than may be buffered while a
    // request is in flight. Reading pauses and must resume although no new readiness edge arrives.
    let count = 15_000;
    let padding = "p".repeat(30);
    let pipelined: String = (0..count)
        .map(|i| format!("GET /{i}/{padding} HTTP/1.1\r\n\r\n"))
        .collect();
    let writer = std::thread::spawn(move || stream.write_all(pipelined.as_bytes()));
    for i in 0..count {
        let (request, responder) = requests.recv_timeout(GUARD).unwrap();
        assert_eq!(request.path, format!("/{i}/{padding}"));
        responder.respond(Response::text(200, i.to_string()));
        assert_eq!(read_response(&mut reader).2, i.to_string());
    }
    crate::testing::join_within(writer, "the pipelining writer", GUARD).unwrap();
}
