//! Remote workloads on our runtime: two runtimes in one OS process, talking over loopback TCP.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use process::{Context, Handlers, Process, Runtime, Upid};
use serde::{Deserialize, Serialize};

/// Bytes of every remote message body on the wire (a 99-byte string plus its one-byte length; a
/// string rather than a `Vec<u8>`, which serde would encode and decode one byte per call).
pub const MESSAGE_BYTES: usize = 100;

/// Messages a streamer sends per acknowledgement window (two windows are in flight), which bounds
/// what the stream buffers without stalling the pipe.
const WINDOW: u64 = 10_000;

/// A remote message with a 100-byte body.
#[derive(Serialize, Deserialize)]
pub struct Blob(pub String);
/// The streamer's flow-control acknowledgement.
#[derive(Serialize, Deserialize)]
pub struct Ack;
/// Starts the sender.
#[derive(Serialize, Deserialize)]
pub struct Start;
/// A round trip's request (100-byte body).
#[derive(Serialize, Deserialize)]
pub struct RemotePing(pub String);
/// A round trip's answer: the request's body, echoed.
#[derive(Serialize, Deserialize)]
pub struct RemotePong(pub String);
process::message!(
    Blob = "bench.Blob",
    Ack = "bench.Ack",
    Start = "bench.Start",
    RemotePing = "bench.RemotePing",
    RemotePong = "bench.RemotePong"
);

/// A body that serialises to exactly [`MESSAGE_BYTES`] bytes.
pub fn body() -> String {
    "x".repeat(MESSAGE_BYTES - 1)
}

struct Sink {
    received: u64,
    since_ack: u64,
    total: u64,
    done: mpsc::Sender<()>,
}
impl Process for Sink {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _, _: Blob| {
            this.received += 1;
            this.since_ack += 1;
            if this.received == this.total {
                let _ = this.done.send(());
            } else if this.since_ack == WINDOW {
                this.since_ack = 0;
                ctx.reply(Ack);
            }
        });
    }
}

struct Streamer {
    sink: Upid,
    left: u64,
    body: String,
}
impl Streamer {
    fn send_window(&mut self, ctx: &mut Context<Self>) {
        let n = self.left.min(WINDOW);
        for _ in 0..n {
            ctx.send(&self.sink, Blob(self.body.clone()));
        }
        self.left -= n;
    }
}
impl Process for Streamer {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _, _: Start| {
            this.send_window(ctx);
            this.send_window(ctx);
        });
        handlers.on(|this: &mut Self, ctx, _, _: Ack| this.send_window(ctx));
    }
}

/// A stream of `count` 100-byte messages from a process on `a` to one on `b`; timed until the last
/// one is handled.
pub fn one_way(a: &Runtime, b: &Runtime, count: u64) -> Duration {
    let count = count.max(1);
    let (done, finished) = mpsc::channel();
    let sink = b
        .spawn(
            &b.unique_id("sink"),
            Sink {
                received: 0,
                since_ack: 0,
                total: count,
                done,
            },
        )
        .expect("spawn sink");
    let streamer = a
        .spawn(
            &a.unique_id("streamer"),
            Streamer {
                sink: sink.upid().clone(),
                left: count,
                body: body(),
            },
        )
        .expect("spawn streamer");
    a.settle();
    b.settle();
    let start = Instant::now();
    a.send(&streamer, Start);
    finished.recv().expect("sink finished");
    let elapsed = start.elapsed();
    a.terminate(&streamer);
    b.terminate(&sink);
    a.wait(&streamer);
    b.wait(&sink);
    elapsed
}

struct Echo;
impl Process for Echo {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers
            .on(|_: &mut Self, ctx, _, RemotePing(body): RemotePing| ctx.reply(RemotePong(body)));
    }
}

struct RoundTripper {
    echo: Upid,
    in_flight: u64,
    to_send: u64,
    to_receive: u64,
    done: mpsc::Sender<()>,
}
impl Process for RoundTripper {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _, _: Start| {
            let n = this.in_flight.min(this.to_send);
            for _ in 0..n {
                ctx.send(&this.echo, RemotePing(body()));
            }
            this.to_send -= n;
        });
        handlers.on(|this: &mut Self, ctx, _, RemotePong(body): RemotePong| {
            this.to_receive -= 1;
            if this.to_send > 0 {
                this.to_send -= 1;
                ctx.send(&this.echo, RemotePing(body));
            } else if this.to_receive == 0 {
                let _ = this.done.send(());
            }
        });
    }
}

/// `count` round trips of 100-byte messages between a process on `a` and one on `b`, with
/// `in_flight` requests outstanding at a time.
pub fn round_trips(a: &Runtime, b: &Runtime, in_flight: u64, count: u64) -> Duration {
    let count = count.max(1);
    let (done, finished) = mpsc::channel();
    let echo = b.spawn(&b.unique_id("echo"), Echo).expect("spawn echo");
    let pinger = a
        .spawn(
            &a.unique_id("round-tripper"),
            RoundTripper {
                echo: echo.upid().clone(),
                in_flight: in_flight.max(1),
                to_send: count,
                to_receive: count,
                done,
            },
        )
        .expect("spawn round-tripper");
    a.settle();
    b.settle();
    let start = Instant::now();
    a.send(&pinger, Start);
    finished.recv().expect("round trips finished");
    let elapsed = start.elapsed();
    a.terminate(&pinger);
    b.terminate(&echo);
    a.wait(&pinger);
    b.wait(&echo);
    elapsed
}
