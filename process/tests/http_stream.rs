//! Streaming (chunked) responses pushed from a process, libprocess routing (trailing `/`,
//! longest prefix, the delegate) and `?jsonp=`.
mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use process::http::{HttpStream, Response};
use process::testing::wait_until;
use process::{Handlers, Process};
use util::{http_get, runtime, PATIENCE};

/// Opens a stream on `/events/subscribe`; `push` sends to every open stream.
#[derive(Default)]
struct Events {
    streams: Vec<HttpStream>,
    closed: Arc<AtomicUsize>,
}

impl Process for Events {
    fn handlers(h: &mut Handlers<Self>) {
        h.route("/subscribe", |this: &mut Self, _, _| {
            let (response, stream) = Response::chunked(200, "application/json", 4096);
            let closed = this.closed.clone();
            stream.on_close(move || {
                closed.fetch_add(1, Ordering::SeqCst);
            });
            stream.send(b"first").unwrap();
            this.streams.push(stream);
            response
        });
        h.route("/api/v1", |_: &mut Self, _, request| {
            Response::ok_json(&serde_json::json!({"path": request.path}))
        });
    }
}

fn subscribe(addr: std::net::SocketAddr, close: bool) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let connection = if close { "Connection: close\r\n" } else { "" };
    write!(
        stream,
        "GET /events/subscribe HTTP/1.1\r\nHost: x\r\n{connection}\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Transfer-Encoding: chunked"), "{head}");
    assert!(!head.contains("Content-Length"), "{head}");
    assert!(!head.contains("Connection: close"), "{head}");
    reader
}

fn chunk(reader: &mut BufReader<TcpStream>) -> Vec<u8> {
    let mut size = String::new();
    reader.read_line(&mut size).unwrap();
    let len = usize::from_str_radix(size.trim_end(), 16).unwrap();
    let mut data = vec![0; len + 2];
    reader.read_exact(&mut data).unwrap();
    assert_eq!(&data[len..], b"\r\n");
    data.truncate(len);
    data
}

#[test]
fn a_stream_stays_open_carries_pushed_chunks_and_ends_when_closed() {
    let node = runtime();
    let events = node.spawn("events", Events::default()).unwrap();
    let mut reader = subscribe(node.addr(), true);
    assert_eq!(chunk(&mut reader), b"first");
    node.dispatch(&events, |this, _| {
        for stream in &this.streams {
            stream.send(b"second").unwrap();
        }
    })
    .wait()
    .unwrap();
    assert_eq!(chunk(&mut reader), b"second");
    node.dispatch(&events, |this, _| this.streams[0].close())
        .wait()
        .unwrap();
    assert_eq!(chunk(&mut reader), b"");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "the connection ends after the last chunk");
    let closed = node
        .dispatch(&events, |this, _| this.closed.load(Ordering::SeqCst))
        .wait()
        .unwrap();
    assert_eq!(closed, 0, "closing it ourselves runs no callback");
}

#[test]
fn a_client_that_leaves_or_stops_reading_closes_its_stream_only() {
    let node = runtime();
    let events = node.spawn("events", Events::default()).unwrap();
    let closed = node
        .dispatch(&events, |this, _| this.closed.clone())
        .wait()
        .unwrap();
    let mut leaving = subscribe(node.addr(), false);
    assert_eq!(chunk(&mut leaving), b"first");
    drop(leaving);
    wait_until("the stream is seen closed", PATIENCE, || {
        closed.load(Ordering::SeqCst) == 1
    });

    // A reader that never reads: the queued bytes exceed the cap and the stream is closed.
    let slow = subscribe(node.addr(), false);
    let mut alive = subscribe(node.addr(), false);
    assert_eq!(chunk(&mut alive), b"first");
    let payload = vec![b'x'; 1024];
    wait_until("the slow reader's stream overflows", PATIENCE, || {
        node.dispatch(&events, {
            let payload = payload.clone();
            move |this, _| {
                // Keep the live reader's share small: only the slow stream fills up.
                let slow = &this.streams[1];
                for _ in 0..64 {
                    if slow.send(&payload).is_err() {
                        return;
                    }
                }
            }
        })
        .wait()
        .unwrap();
        closed.load(Ordering::SeqCst) == 2
    });
    drop(slow);
    node.dispatch(&events, |this, _| {
        this.streams[2].send(b"still here").unwrap()
    })
    .wait()
    .unwrap();
    assert_eq!(chunk(&mut alive), b"still here");
    assert_eq!(http_get(node.addr(), "/events/api/v1").0, 200);
}

#[test]
fn routing_tolerates_trailing_slashes_falls_back_to_prefixes_and_delegates() {
    let node = runtime();
    node.spawn("events", Events::default()).unwrap();
    let (status, body) = http_get(node.addr(), "/events/api/v1/operator");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("/events/api/v1/operator"), "{body}");
    assert_eq!(http_get(node.addr(), "/events/api/v1/").0, 200);
    assert_eq!(http_get(node.addr(), "/api/v1").0, 404);
    node.set_http_delegate(Some("events"));
    let (status, body) = http_get(node.addr(), "/api/v1/scheduler");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"path":"/api/v1/scheduler"}"#)
    );
    let (status, body) = http_get(node.addr(), "/api/v1?jsonp=cb");
    assert_eq!((status, body.as_str()), (200, r#"cb({"path":"/api/v1"});"#));
    assert_eq!(http_get(node.addr(), "/nobody/here").0, 404);
}
