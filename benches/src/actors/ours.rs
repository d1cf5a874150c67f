//! Local workloads on our runtime: ping-pong between two processes, 100-to-1 fan-in, and the memory
//! an idle process costs.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use process::{Context, Handlers, Pid, Process, Runtime, Upid};
use serde::{Deserialize, Serialize};

/// Request of the ping-pong workload.
#[derive(Serialize, Deserialize)]
pub struct Ping;
/// Answer of the ping-pong workload.
#[derive(Serialize, Deserialize)]
pub struct Pong;
/// Starts a workload's first sender.
#[derive(Serialize, Deserialize)]
pub struct Go;
/// One fan-in message (a counter, as a typical small message).
#[derive(Serialize, Deserialize)]
pub struct Count(pub u64);
process::message!(
    Ping = "bench.Ping",
    Pong = "bench.Pong",
    Go = "bench.Go",
    Count = "bench.Count"
);

struct Ponger;
impl Process for Ponger {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|_: &mut Self, ctx, _, _: Ping| ctx.reply(Pong));
    }
}

struct Pinger {
    ponger: Pid<Ponger>,
    left: u64,
    done: mpsc::Sender<()>,
}
impl Pinger {
    fn pong(&mut self, ctx: &mut Context<Self>, _: &Upid, _: Pong) {
        self.left -= 1;
        if self.left == 0 {
            let _ = self.done.send(());
        } else {
            ctx.send(&self.ponger, Ping);
        }
    }
}
impl Process for Pinger {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(Self::pong);
        handlers.on(|this: &mut Self, ctx, _, _: Go| ctx.send(&this.ponger, Ping));
    }
}

/// `rounds` request/response round trips between two processes, one in flight.
pub fn ping_pong(runtime: &Runtime, rounds: u64) -> Duration {
    let (done, finished) = mpsc::channel();
    let ponger = runtime
        .spawn(&runtime.unique_id("ponger"), Ponger)
        .expect("spawn ponger");
    let pinger = runtime
        .spawn(
            &runtime.unique_id("pinger"),
            Pinger {
                ponger: ponger.clone(),
                left: rounds.max(1),
                done,
            },
        )
        .expect("spawn pinger");
    runtime.settle();
    let start = Instant::now();
    runtime.send(&pinger, Go);
    finished.recv().expect("pinger finished");
    let elapsed = start.elapsed();
    runtime.terminate(&pinger);
    runtime.terminate(&ponger);
    runtime.wait(&pinger);
    runtime.wait(&ponger);
    elapsed
}

struct Receiver {
    left: u64,
    done: mpsc::Sender<()>,
}
impl Process for Receiver {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _, _, Count(n): Count| {
            this.left -= n.min(1);
            if this.left == 0 {
                let _ = this.done.send(());
            }
        });
    }
}

struct Sender {
    receiver: Pid<Receiver>,
    count: u64,
}
impl Process for Sender {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _, _: Go| {
            for i in 0..this.count {
                ctx.send(&this.receiver, Count(i | 1));
            }
        });
    }
}

/// `senders` processes each send `per_sender` messages to one receiver; timed until it has all.
pub fn fan_in(runtime: &Runtime, senders: u64, per_sender: u64) -> Duration {
    let (done, finished) = mpsc::channel();
    let receiver = runtime
        .spawn(
            &runtime.unique_id("receiver"),
            Receiver {
                left: senders * per_sender,
                done,
            },
        )
        .expect("spawn receiver");
    let pids: Vec<_> = (0..senders)
        .map(|_| {
            let sender = Sender {
                receiver: receiver.clone(),
                count: per_sender,
            };
            runtime
                .spawn(&runtime.unique_id("sender"), sender)
                .expect("spawn sender")
        })
        .collect();
    runtime.settle();
    let start = Instant::now();
    for pid in &pids {
        runtime.send(pid, Go);
    }
    finished.recv().expect("receiver finished");
    let elapsed = start.elapsed();
    for pid in &pids {
        runtime.terminate(pid);
    }
    runtime.terminate(&receiver);
    for pid in &pids {
        runtime.wait(pid);
    }
    runtime.wait(&receiver);
    elapsed
}

/// A typical small idle process: a counter.
struct Idle {
    count: u64,
}
impl Process for Idle {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _, _, Count(n): Count| this.count += n);
    }
}

/// Resident bytes per idle process: spawns `count` processes (all initialized, then idle) and divides
/// the growth of the resident set by `count`. Includes the pid handles the caller keeps.
pub fn idle_process_bytes(runtime: &Runtime, count: usize) -> usize {
    let warm = runtime
        .spawn(&runtime.unique_id("idle-warm"), Idle { count: 0 })
        .expect("spawn");
    runtime.send(&warm, Count(1));
    runtime.settle();
    let mut pids = Vec::with_capacity(count);
    let before = super::rss_bytes();
    for i in 0..count {
        let pid = runtime
            .spawn(&format!("idle-{i}"), Idle { count: 0 })
            .expect("spawn idle process");
        pids.push(pid);
    }
    runtime.settle();
    let after = super::rss_bytes();
    for pid in pids.iter().chain(std::iter::once(&warm)) {
        runtime.terminate(pid);
    }
    for pid in &pids {
        runtime.wait(pid);
    }
    after.saturating_sub(before) / count.max(1)
}
