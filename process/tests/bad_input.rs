//! Bad input from the network never takes down the runtime or its processes.
mod util;

use std::io::{Read, Write};
use std::net::TcpStream;

use process::transport::{encode_frame, Envelope};
use process::{Handlers, MessageMatch, Process, Upid};
use util::{runtime, Ping, PATIENCE};

#[derive(Default)]
struct Counter {
    pings: Vec<u64>,
}

impl Process for Counter {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _ctx, _from, Ping(n)| this.pings.push(n));
    }
}

fn envelope(to: &Upid, name: &str, body: Vec<u8>) -> Envelope {
    Envelope {
        from: "stranger@127.0.0.1:1".parse().unwrap(),
        to: to.clone(),
        name: name.to_string(),
        body,
    }
}

fn frame(envelope: &Envelope) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(envelope, 1 << 20, &mut out).unwrap();
    out
}

fn ping_body(n: u64) -> Vec<u8> {
    bincode::serde::encode_to_vec(Ping(n), bincode::config::standard()).unwrap()
}

/// Sends raw bytes on a fresh connection, then closes it.
fn send_raw(addr: std::net::SocketAddr, bytes: &[u8]) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let _ = stream.write_all(bytes);
}

/// Sends raw bytes on a fresh connection and asserts that the runtime closes it (end of stream or
/// a reset; a read timeout fails the test).
fn assert_closed_after(addr: std::net::SocketAddr, bytes: &[u8]) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let _ = stream.write_all(bytes);
    let mut buf = [0; 16];
    match stream.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("the runtime answered {n} bytes instead of closing"),
        Err(e) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
            ),
            "the connection stayed open: {e}"
        ),
    }
}

/// A good ping over a fresh raw connection must still arrive.
fn assert_still_serving(node: &process::Runtime, counter: &process::Pid<Counter>, n: u64) {
    let arrived = node
        .filters()
        .await_message::<Ping>(MessageMatch::any().to(counter));
    send_raw(
        node.addr(),
        &frame(&envelope(counter.upid(), "test.Ping", ping_body(n))),
    );
    assert_eq!(arrived.wait_timeout(PATIENCE).unwrap().message, Ping(n));
    node.settle();
    let pings = node
        .dispatch(counter, |c, _| c.pings.clone())
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(pings.last(), Some(&n));
}

#[test]
fn garbage_bytes_close_only_that_connection() {
    let node = runtime();
    let counter = node.spawn("counter", Counter::default()).unwrap();
    assert_closed_after(node.addr(), &[0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff]);
    assert_closed_after(node.addr(), b"\x01\x02\x03 not a frame at all \xff\xfe");
    assert_still_serving(&node, &counter, 1);
}

#[test]
fn an_oversized_frame_is_refused() {
    let node = process::Runtime::new(process::Config {
        max_frame_bytes: 1024,
        ..process::Config::default()
    })
    .unwrap();
    let counter = node.spawn("counter", Counter::default()).unwrap();
    // Announce 1 MiB: refused from the length prefix alone.
    assert_closed_after(node.addr(), &(1u32 << 20).to_be_bytes());
    // A real, well-formed ping just over the limit (a long sender id): refused, never handled.
    let mut big = envelope(counter.upid(), "test.Ping", ping_body(7));
    big.from = format!("{}@127.0.0.1:1", "s".repeat(1100)).parse().unwrap();
    assert_closed_after(node.addr(), &frame(&big));
    assert_still_serving(&node, &counter, 2);
    let pings = node
        .dispatch(&counter, |c, _| c.pings.clone())
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(pings, [2], "the oversized ping was not delivered");
}

#[test]
fn unknown_processes_unknown_names_and_undecodable_bodies_are_dropped() {
    let node = runtime();
    let counter = node.spawn("counter", Counter::default()).unwrap();
    let ghost = Upid::new("ghost", node.addr()).unwrap();
    let mut bytes = frame(&envelope(&ghost, "test.Ping", ping_body(9)));
    bytes.extend(frame(&envelope(
        counter.upid(),
        "test.Unknown",
        vec![1, 2, 3],
    )));
    bytes.extend(frame(&envelope(
        counter.upid(),
        "test.Ping",
        vec![0xff; 12],
    )));
    bytes.extend(frame(&envelope(counter.upid(), "test.Ping", Vec::new())));
    send_raw(node.addr(), &bytes);
    assert_still_serving(&node, &counter, 3);
    let pings = node
        .dispatch(&counter, |c, _| c.pings.clone())
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(pings, [3], "only the good ping was handled");
}
