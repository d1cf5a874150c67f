//! Criterion suite for the allocator grid (ids carry the grid parameters). The full grid with the
//! exact table lives in the `allocator-bench` binary; this suite covers the cells where criterion's
//! statistics are affordable.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mesos_benches::allocator_grid::Grid;
use std::time::Duration;

fn first_cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocator/first_cycle");
    group.sample_size(10);
    for (agents, frameworks) in [(1_000, 100), (10_000, 100), (10_000, 1_000)] {
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("agents={agents}/frameworks={frameworks}")),
            &(agents, frameworks),
            |b, &(agents, frameworks)| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (mut grid, _) = Grid::build(agents, frameworks);
                        total += grid.allocate_cycle();
                    }
                    total
                })
            },
        );
    }
    group.finish();
}

fn decline_cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocator/decline_cycle");
    group.sample_size(10);
    for (agents, frameworks) in [(1_000, 100), (10_000, 100), (10_000, 1_000)] {
        let (mut grid, _) = Grid::build(agents, frameworks);
        grid.allocate_cycle();
        for _ in 0..6 {
            grid.decline_cycle();
        }
        group.bench_function(
            BenchmarkId::from_parameter(format!("agents={agents}/frameworks={frameworks}")),
            |b| b.iter_custom(|iters| (0..iters).map(|_| grid.decline_cycle()).sum()),
        );
    }
    group.finish();
}

/// Every framework has refused every agent for a year (Mesos's DeclineOffers with a long filter,
/// run to the end): a cycle must cost O(agents × roles), not a scan of all frameworks per agent.
fn saturated_cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocator/saturated_cycle");
    group.sample_size(10);
    for (agents, frameworks) in [(1_000, 100), (10_000, 100)] {
        let (mut grid, _) = Grid::build(agents, frameworks);
        grid.allocate_cycle();
        while !grid.outstanding.is_empty() {
            grid.decline_cycle_with(365.0 * 24.0 * 3600.0);
        }
        group.bench_function(
            BenchmarkId::from_parameter(format!("agents={agents}/frameworks={frameworks}")),
            |b| b.iter_custom(|iters| (0..iters).map(|_| grid.allocate_cycle()).sum()),
        );
    }
    group.finish();
}

criterion_group!(benches, first_cycle, decline_cycle, saturated_cycle);
criterion_main!(benches);
