//! `actor-bench`: our actor runtime against actix (local) and against plain TCP (remote), measured
//! side by side in one run, interleaved, several runs each; prints one line per workload with the
//! medians, then the memory an idle process costs. `remote_one_way_tls` is `remote_one_way`
//! between two mutually verified TLS runtimes, against the plaintext pair (ratio = TLS / plaintext).
//!
//! `cargo run --release -p mesos-benches --bin actor-bench -- [--quick] [--runs N] [--only WORKLOAD]
//! [--ours_only]` (`--help` explains each flag).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Duration;

use clap::Parser;
use mesos_benches::actors::{median, ours, peer, raw_tcp, remote, transport};
use mesos_benches::cli;
use process::testing::certs::TestCa;
use process::{Config, Runtime, TlsMode};

/// Workload sizes.
struct Sizes {
    ping_pong_rounds: u64,
    fan_in_senders: u64,
    fan_in_per_sender: u64,
    one_way_messages: u64,
    rtt_1_rounds: u64,
    rtt_100_rounds: u64,
    idle_processes: usize,
}

impl Sizes {
    fn full() -> Sizes {
        Sizes {
            ping_pong_rounds: 2_000_000,
            fan_in_senders: 100,
            fan_in_per_sender: 50_000,
            one_way_messages: 1_000_000,
            rtt_1_rounds: 20_000,
            rtt_100_rounds: 300_000,
            idle_processes: 100_000,
        }
    }

    fn quick() -> Sizes {
        Sizes {
            ping_pong_rounds: 100_000,
            fan_in_senders: 100,
            fan_in_per_sender: 2_000,
            one_way_messages: 50_000,
            rtt_1_rounds: 1_000,
            rtt_100_rounds: 20_000,
            idle_processes: 10_000,
        }
    }
}

/// Flags of `actor-bench`.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "actor-bench",
    about = "Our actor runtime against actix (local workloads) and raw TCP (remote ones), measured \
             side by side in one run; prints one line per workload with the medians and the ratio."
)]
struct Flags {
    /// Small workloads: a smoke run of a few seconds.
    #[arg(long)]
    quick: bool,
    /// Rounds per workload, ours and the peer interleaved; the medians are printed.
    #[arg(long, default_value_t = 3, value_parser = cli::positive)]
    runs: usize,
    /// Run only the workloads whose names contain this (e.g. `fan_in`), for profiling one.
    #[arg(long)]
    only: Option<String>,
    /// Skip the peer (actix, raw TCP), for profiling our side alone; the peer and ratio print as 0.
    #[arg(long)]
    ours_only: bool,
    /// What rates are measured against: `wall` time (the figures we report), or the process's `cpu`
    /// time, which a shared, noisy machine disturbs much less (for comparing builds; a workload
    /// that keeps both workers busy counts both).
    #[arg(long, value_enum, default_value_t = Clock::Wall)]
    clock: Clock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Clock {
    Wall,
    Cpu,
}

/// The process's CPU time so far (user and system, all threads).
fn cpu_time() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}

impl Clock {
    /// Runs `workload` and returns how long it took on this clock (for `Cpu`, set-up included).
    fn time<E>(self, workload: impl FnOnce() -> Result<Duration, E>) -> Result<Duration, E> {
        match self {
            Clock::Wall => workload(),
            Clock::Cpu => {
                let start = cpu_time();
                workload()?;
                Ok(cpu_time().saturating_sub(start))
            }
        }
    }

    /// Per-second rate of `ops` done by `workload`.
    fn rate(self, ops: u64, workload: impl FnOnce() -> Duration) -> f64 {
        let elapsed = self.time(|| Ok::<_, ()>(workload())).unwrap_or_default();
        rate(ops, elapsed)
    }
}

impl Flags {
    fn wants(&self, workload: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|only| workload.contains(only))
    }
}

/// Per-second rate of `ops` done in `elapsed`.
fn rate(ops: u64, elapsed: Duration) -> f64 {
    ops as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// Medians of two interleaved measurements, `runs` times each (the peer's is 0 when skipped).
fn side_by_side(
    runs: usize,
    mut ours: impl FnMut() -> f64,
    mut peer: Option<impl FnMut() -> f64>,
) -> (f64, f64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        a.push(ours());
        if let Some(peer) = peer.as_mut() {
            b.push(peer());
        }
    }
    (median(&mut a), median(&mut b))
}

fn line(workload: &str, peer_name: &str, ours: f64, peer: f64) -> String {
    let ratio = if peer > 0.0 { ours / peer } else { 0.0 };
    format!("{workload} ours={ours:.0} {peer_name}={peer:.0} ratio={ratio:.2}")
}

fn run(flags: &Flags) -> Result<(), String> {
    let sizes = if flags.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    let runs = flags.runs;
    let clock = flags.clock;
    let runtime = Runtime::new(Config::default()).map_err(|e| format!("runtime: {e}"))?;
    let other = Runtime::new(Config::default()).map_err(|e| format!("second runtime: {e}"))?;

    // Memory first, while the heap holds nothing freed by other workloads that spawning could reuse
    // without growing the resident set.
    if flags.wants("idle_process_bytes") {
        let bytes = ours::idle_process_bytes(&runtime, sizes.idle_processes);
        println!(
            "idle_process_bytes={bytes} processes={}",
            sizes.idle_processes
        );
    }

    // Warm-up: first-touch costs (thread start, allocator pools) stay out of the medians.
    ours::ping_pong(&runtime, sizes.ping_pong_rounds / 10);
    if !flags.ours_only {
        peer::ping_pong(sizes.ping_pong_rounds / 10);
    }
    let with_peer = !flags.ours_only;

    if flags.wants("ping_pong") {
        let n = sizes.ping_pong_rounds;
        let (a, b) = side_by_side(
            runs,
            || clock.rate(n, || ours::ping_pong(&runtime, n)),
            with_peer.then_some(|| clock.rate(n, || peer::ping_pong(n))),
        );
        println!("{}", line("ping_pong", "actix", a, b));
    }

    if flags.wants("fan_in") {
        let (senders, per) = (sizes.fan_in_senders, sizes.fan_in_per_sender);
        let total = senders * per;
        let (a, b) = side_by_side(
            runs,
            || clock.rate(total, || ours::fan_in(&runtime, senders, per)),
            with_peer.then_some(|| clock.rate(total, || peer::fan_in(senders, per))),
        );
        println!("{}", line("fan_in", "actix", a, b));
    }

    let one_way_frame = raw_tcp::frame("bench.Blob", blob_body());
    let mut raw_error = None;
    let mut raw = |f: &dyn Fn() -> std::io::Result<Duration>, ops: u64| match clock.time(f) {
        Ok(elapsed) => rate(ops, elapsed),
        Err(e) => {
            raw_error.get_or_insert(e.to_string());
            0.0
        }
    };
    if flags.wants("remote_one_way") {
        let n = sizes.one_way_messages;
        let (a, b) = side_by_side(
            runs,
            || clock.rate(n, || remote::one_way(&runtime, &other, n)),
            with_peer.then_some(|| raw(&|| raw_tcp::one_way(&one_way_frame, n), n)),
        );
        println!(
            "{} ours_mb_s={:.1} frame_bytes={}",
            line("remote_one_way", "raw", a, b),
            a * remote::MESSAGE_BYTES as f64 / 1e6,
            one_way_frame.len()
        );
    }

    if flags.wants("remote_one_way_tls") {
        // The same workload between two TLS runtimes (mutually verified, as a secured cluster
        // runs), against the plaintext pair above, interleaved.
        let n = sizes.one_way_messages;
        let dir = std::env::temp_dir().join(format!("actor-bench-tls-{}", std::process::id()));
        let (tls_a, tls_b) = tls_pair(&dir)?;
        let (a, b) = side_by_side(
            runs,
            || clock.rate(n, || remote::one_way(&tls_a, &tls_b, n)),
            Some(|| clock.rate(n, || remote::one_way(&runtime, &other, n))),
        );
        println!(
            "{} ours_mb_s={:.1}",
            line("remote_one_way_tls", "plaintext", a, b),
            a * remote::MESSAGE_BYTES as f64 / 1e6,
        );
        tls_b.shutdown();
        tls_a.shutdown();
        let _ = std::fs::remove_dir_all(&dir);
    }

    let ping_frame = raw_tcp::frame("bench.RemotePing", blob_body());
    for (name, in_flight, n) in [
        ("remote_rtt_1", 1, sizes.rtt_1_rounds),
        ("remote_rtt_100", 100, sizes.rtt_100_rounds),
    ] {
        if !flags.wants(name) {
            continue;
        }
        let (a, b) = side_by_side(
            runs,
            || clock.rate(n, || remote::round_trips(&runtime, &other, in_flight, n)),
            with_peer.then_some(|| raw(&|| raw_tcp::round_trips(&ping_frame, in_flight, n), n)),
        );
        println!("{}", line(name, "raw", a, b));
    }
    // The transport alone (event loops delivering to a handler, no runtime), against the same
    // raw TCP baseline.
    let mut transport_error = None;
    let mut transport = |f: &dyn Fn() -> Result<Duration, transport::TransportBenchError>,
                         ops: u64| match clock.time(f) {
        Ok(elapsed) => rate(ops, elapsed),
        Err(e) => {
            transport_error.get_or_insert(e.to_string());
            0.0
        }
    };
    if flags.wants("transport_one_way") {
        let n = sizes.one_way_messages;
        let (a, b) = side_by_side(
            runs,
            || transport(&|| transport::one_way(n), n),
            with_peer.then_some(|| raw(&|| raw_tcp::one_way(&one_way_frame, n), n)),
        );
        println!("{}", line("transport_one_way", "raw", a, b));
    }
    for (name, in_flight, n) in [
        ("transport_rtt_1", 1, sizes.rtt_1_rounds),
        ("transport_rtt_100", 100, sizes.rtt_100_rounds),
    ] {
        if !flags.wants(name) {
            continue;
        }
        let (a, b) = side_by_side(
            runs,
            || transport(&|| transport::round_trips(in_flight, n), n),
            with_peer.then_some(|| raw(&|| raw_tcp::round_trips(&ping_frame, in_flight, n), n)),
        );
        println!("{}", line(name, "raw", a, b));
    }
    if let Some(error) = raw_error {
        return Err(format!("raw tcp baseline failed: {error}"));
    }
    if let Some(error) = transport_error {
        return Err(format!("transport workload failed: {error}"));
    }

    other.shutdown();
    runtime.shutdown();
    Ok(())
}

/// Two runtimes on TLS with certificates of a CA generated in `dir`, each verifying the other.
fn tls_pair(dir: &std::path::Path) -> Result<(Runtime, Runtime), String> {
    let ca = TestCa::new(dir).map_err(|e| format!("test CA: {e}"))?;
    let mut nodes = Vec::new();
    for name in ["a", "b"] {
        let files = ca
            .issue(name, &["127.0.0.1"])
            .map_err(|e| format!("certificate: {e}"))?;
        let mut tls = files.tls_config(Some(ca.ca_file()));
        tls.require_cert = true;
        let runtime = Runtime::new(Config {
            tls: TlsMode::On(tls),
            ..Config::default()
        })
        .map_err(|e| format!("tls runtime: {e}"))?;
        nodes.push(runtime);
    }
    let b = nodes.pop().ok_or("no runtime")?;
    let a = nodes.pop().ok_or("no runtime")?;
    Ok((a, b))
}

/// The 100-byte body of every remote message, as bincode encodes `remote::Blob`.
fn blob_body() -> Vec<u8> {
    let mut body = vec![(remote::MESSAGE_BYTES - 1) as u8];
    body.extend(remote::body().into_bytes());
    body
}

fn main() -> ExitCode {
    let flags: Flags = cli::parse();
    match run(&flags) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("actor-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
