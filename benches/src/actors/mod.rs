//! Actor-runtime workloads for `actor-bench` and the `actors` criterion suite: the same workload
//! written for our runtime ([`ours`]), for actix ([`peer`]), across two runtimes over loopback TCP
//! ([`remote`]), through our transport alone ([`transport`]) and as a plain TCP writer/reader of
//! the same frames ([`raw_tcp`]).
//!
//! Every workload returns the wall time of its measured part only (set-up and tear-down excluded).

pub mod ours;
pub mod peer;
pub mod raw_tcp;
pub mod remote;
pub mod transport;

/// The median of `samples` (0 for none).
pub fn median(samples: &mut [f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let mid = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2.0
    }
}

/// This process's resident set size in bytes (0 where `/proc` is unavailable).
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or(0);
    pages * 4096
}
