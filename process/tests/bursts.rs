//! Bursts of sends: a handler's sends to one process travel as a batch, a batch is handled in runs of
//! one message type, and neither changes what a process sees: per-sender order, the right sender,
//! nothing after a termination, every message of a many-to-one stream.
mod util;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use process::{Context, Handlers, Pid, Process, Upid};
use serde::{Deserialize, Serialize};
use util::{runtime, PATIENCE};

#[derive(Serialize, Deserialize)]
struct Even(u64);
#[derive(Serialize, Deserialize)]
struct Odd(u64);
#[derive(Serialize, Deserialize)]
struct Burst {
    count: u64,
    /// Also send every message to this process, interleaved (another destination).
    other: bool,
}
process::message!(
    Even = "bursts.Even",
    Odd = "bursts.Odd",
    Burst = "bursts.Burst"
);

type Journal = Arc<Mutex<Vec<(Upid, u64)>>>;

/// Records `(sender, n)` for every message; terminates itself on message `stop_at`.
struct Sink {
    seen: Journal,
    stop_at: Option<u64>,
}

impl Sink {
    fn new(stop_at: Option<u64>) -> (Sink, Journal) {
        let seen = Journal::default();
        (
            Sink {
                seen: seen.clone(),
                stop_at,
            },
            seen,
        )
    }

    fn record(&mut self, ctx: &mut Context<Self>, from: &Upid, n: u64) {
        self.seen.lock().unwrap().push((from.clone(), n));
        if self.stop_at == Some(n) {
            ctx.terminate();
        }
    }
}

impl Process for Sink {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, from, Even(n)| this.record(ctx, from, n));
        handlers.on(|this: &mut Self, ctx, from, Odd(n)| this.record(ctx, from, n));
    }
}

/// On `Burst`, sends `count` numbered messages to the sink, alternating types in runs of three
/// (so a batch holds several runs), optionally some to a second sink in between, and now and then
/// one through the runtime handle (another sender).
struct Source {
    sink: Pid<Sink>,
    other: Pid<Sink>,
}

impl Process for Source {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _, burst: Burst| {
            for n in 0..burst.count {
                if (n / 3) % 2 == 0 {
                    ctx.send(&this.sink, Even(n));
                } else {
                    ctx.send(&this.sink, Odd(n));
                }
                if burst.other && n % 10 == 0 {
                    ctx.send(&this.other, Even(n));
                }
                if n % 50 == 25 {
                    ctx.runtime().send(&this.sink, Odd(1_000_000 + n));
                }
            }
        });
    }
}

#[test]
fn many_senders_bursts_keep_each_senders_order_and_identity() {
    const SOURCES: usize = 8;
    const COUNT: u64 = 5_000;
    let runtime = runtime();
    let (sink, seen) = Sink::new(None);
    let sink = runtime.spawn("sink", sink).unwrap();
    let (other, other_seen) = Sink::new(None);
    let other = runtime.spawn("other", other).unwrap();
    let sources: Vec<_> = (0..SOURCES)
        .map(|i| {
            let source = Source {
                sink: sink.clone(),
                other: other.clone(),
            };
            runtime.spawn(&format!("source-{i}"), source).unwrap()
        })
        .collect();
    runtime.settle();
    for source in &sources {
        let burst = Burst {
            count: COUNT,
            other: true,
        };
        runtime.send(source, burst);
    }
    runtime.settle();

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let through_handle = (0..COUNT).filter(|n| n % 50 == 25).count() * SOURCES;
    assert_eq!(seen.len(), SOURCES * COUNT as usize + through_handle);
    let mut by_sender: HashMap<Upid, Vec<u64>> = HashMap::new();
    for (from, n) in seen {
        by_sender.entry(from).or_default().push(n);
    }
    for source in &sources {
        let numbers = &by_sender[source.upid()];
        assert_eq!(
            *numbers,
            (0..COUNT).collect::<Vec<_>>(),
            "{}",
            source.upid()
        );
    }
    // The handle's sends carry the runtime's own sender: one more sender, all its messages there.
    assert_eq!(by_sender.len(), SOURCES + 1);
    let handle_sends = by_sender
        .iter()
        .find(|(from, _)| !sources.iter().any(|s| s.upid() == *from))
        .map(|(_, numbers)| numbers.len());
    assert_eq!(handle_sends, Some(through_handle));
    assert_eq!(
        other_seen.lock().unwrap().len(),
        SOURCES * COUNT.div_ceil(10) as usize
    );
}

#[test]
fn a_process_that_terminates_in_the_middle_of_a_batch_handles_nothing_after() {
    let runtime = runtime();
    let (sink, seen) = Sink::new(Some(40));
    let sink = runtime.spawn("sink", sink).unwrap();
    let (other, _) = Sink::new(None);
    let other = runtime.spawn("other", other).unwrap();
    let source = Source {
        sink: sink.clone(),
        other,
    };
    let source = runtime.spawn("source", source).unwrap();
    runtime.settle();
    let burst = Burst {
        count: 200,
        other: false,
    };
    runtime.send(&source, burst);
    assert!(runtime.wait_timeout(&sink, PATIENCE));
    runtime.settle();
    let from_source: Vec<u64> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(from, _)| from == source.upid())
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(from_source, (0..=40).collect::<Vec<_>>());
}
