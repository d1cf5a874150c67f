//! Criterion suite: local ping-pong and 100-to-1 fan-in, ours and actix (`actor-bench` prints the
//! side-by-side table; this suite gives criterion's statistics for the same workloads).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mesos_benches::actors::{ours, peer};
use process::{Config, Runtime};

const ROUNDS: u64 = 10_000;
const SENDERS: u64 = 100;
const PER_SENDER: u64 = 1_000;

/// Runs `workload(iters)` style measurements: each iteration is one whole workload run.
fn total(iters: u64, mut run: impl FnMut() -> Duration) -> Duration {
    (0..iters).map(|_| run()).sum()
}

fn ping_pong(c: &mut Criterion) {
    let runtime = Runtime::new(Config::default()).expect("runtime");
    let mut group = c.benchmark_group("ping_pong");
    group.throughput(Throughput::Elements(ROUNDS));
    group.bench_function(format!("ours/rounds={ROUNDS}"), |b| {
        b.iter_custom(|iters| total(iters, || ours::ping_pong(&runtime, ROUNDS)))
    });
    group.bench_function(format!("actix/rounds={ROUNDS}"), |b| {
        b.iter_custom(|iters| total(iters, || peer::ping_pong(ROUNDS)))
    });
    group.finish();
}

fn fan_in(c: &mut Criterion) {
    let runtime = Runtime::new(Config::default()).expect("runtime");
    let mut group = c.benchmark_group("fan_in");
    group.throughput(Throughput::Elements(SENDERS * PER_SENDER));
    let id = format!("senders={SENDERS}/per_sender={PER_SENDER}");
    group.bench_function(format!("ours/{id}"), |b| {
        b.iter_custom(|iters| total(iters, || ours::fan_in(&runtime, SENDERS, PER_SENDER)))
    });
    group.bench_function(format!("actix/{id}"), |b| {
        b.iter_custom(|iters| total(iters, || peer::fan_in(SENDERS, PER_SENDER)))
    });
    group.finish();
}

criterion_group! {
    name = actors;
    config = Criterion::default().sample_size(10);
    targets = ping_pong, fan_in
}
criterion_main!(actors);
