//! Quick local throughput check: ping-pong round trips and 100-to-1 fan-in.
//!
//! `cargo run --release -p process --example throughput` (`ONLY=pingpong` or `ONLY=fanin` to pick one).
//! Besides wall-clock rates it prints the rate per CPU-second the process used, which stays meaningful
//! on a machine shared with other work.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use process::{Config, Context, Handlers, Pid, Process, Runtime, Upid};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Ping;
#[derive(Serialize, Deserialize)]
struct Pong;
#[derive(Serialize, Deserialize)]
struct Go;
#[derive(Serialize, Deserialize)]
struct Count(u64);
process::message!(
    Ping = "bench.Ping",
    Pong = "bench.Pong",
    Go = "bench.Go",
    Count = "bench.Count"
);

struct Ponger;
impl Process for Ponger {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(|_: &mut Self, ctx, _, _: Ping| ctx.reply(Pong));
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
    fn handlers(h: &mut Handlers<Self>) {
        h.on(Self::pong);
        h.on(|this: &mut Self, ctx, _, _: Go| ctx.send(&this.ponger, Ping));
    }
}

struct Receiver {
    left: u64,
    done: mpsc::Sender<()>,
}
impl Process for Receiver {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(|this: &mut Self, _, _, Count(n): Count| {
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
    fn handlers(h: &mut Handlers<Self>) {
        h.on(|this: &mut Self, ctx, _, _: Go| {
            for i in 0..this.count {
                ctx.send(&this.receiver, Count(i | 1));
            }
        });
    }
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the ')'.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn report(name: &str, ops: u64, start: Instant, cpu_start: Duration) {
    let wall = start.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu_start).as_secs_f64().max(0.01);
    println!(
        "{name}: {:.2} M/s wall, {:.2} M per CPU-second ({:.2} CPUs busy)",
        ops as f64 / wall / 1e6,
        ops as f64 / cpu / 1e6,
        cpu / wall
    );
}

fn main() {
    let runtime = Runtime::new(Config::default()).expect("runtime");
    let only = std::env::var("ONLY").unwrap_or_default();
    for round in 0..3 {
        if only != "fanin" {
            let rounds = 2_000_000;
            let (done, finished) = mpsc::channel();
            let ponger = runtime.spawn(&format!("ponger{round}"), Ponger).unwrap();
            let pinger = runtime
                .spawn(
                    &format!("pinger{round}"),
                    Pinger {
                        ponger,
                        left: rounds,
                        done,
                    },
                )
                .unwrap();
            runtime.settle();
            let (start, cpu_start) = (Instant::now(), cpu_time());
            runtime.send(&pinger, Go);
            finished.recv().unwrap();
            report("ping-pong round trips", rounds, start, cpu_start);
        }
        if only != "pingpong" {
            let senders = 100;
            let per_sender = 100_000;
            let (done, finished) = mpsc::channel();
            let receiver = runtime
                .spawn(
                    &format!("receiver{round}"),
                    Receiver {
                        left: senders * per_sender,
                        done,
                    },
                )
                .unwrap();
            let pids: Vec<_> = (0..senders)
                .map(|i| {
                    let sender = Sender {
                        receiver: receiver.clone(),
                        count: per_sender,
                    };
                    runtime
                        .spawn(&format!("sender{round}-{i}"), sender)
                        .unwrap()
                })
                .collect();
            runtime.settle();
            let (start, cpu_start) = (Instant::now(), cpu_time());
            for pid in &pids {
                runtime.send(pid, Go);
            }
            finished.recv().unwrap();
            report("fan-in messages", senders * per_sender, start, cpu_start);
        }
    }
}
