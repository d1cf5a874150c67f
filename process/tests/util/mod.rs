//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

use process::{Config, Runtime};
use serde::{Deserialize, Serialize};

/// Generous real-time bound for waits that should finish in microseconds (guards against hangs only).
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A runtime with two workers on a free loopback port.
pub fn runtime() -> Runtime {
    init_tracing();
    Runtime::new(Config {
        workers: 2,
        ..Config::default()
    })
    .expect("runtime starts")
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal executor: polls `future` on this thread, parking between wake-ups.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// A request carrying a number.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Ping(pub u64);
/// The answer to [`Ping`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Pong(pub u64);
process::message!(Ping = "test.Ping", Pong = "test.Pong");

/// A runtime listening on `listen` (to restart a "node" on the same port).
pub fn runtime_on(listen: std::net::SocketAddr) -> Runtime {
    init_tracing();
    Runtime::new(Config {
        listen,
        workers: 2,
        ..Config::default()
    })
    .expect("runtime starts")
}

/// Sends one raw HTTP/1.1 request and returns the status code and body.
pub fn http_request(addr: std::net::SocketAddr, raw: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(raw.as_bytes()).expect("write request");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// `GET path` with `Connection: close`.
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    http_request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
    )
}
