//! Our transport alone (no runtime, no actors): one-way throughput and round trips of 100-byte
//! bodies over loopback, the event loops delivering straight to a handler. Moved here from
//! `#[ignore]`d tests in `process/src/transport/tests.rs`; `actor-bench` prints them against the
//! raw TCP baseline (`transport_one_way`, `transport_rtt_1`, `transport_rtt_100`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use process::http::{Request, Responder};
use process::transport::{
    BorrowedEnvelope, Envelope, Transport, TransportConfig, TransportError, TransportHandler,
};
use process::Upid;

/// How long one workload may take before it counts as failed (a lost message would hang it).
const PATIENCE: Duration = Duration::from_secs(120);

/// Why a workload could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum TransportBenchError {
    /// A transport did not start.
    #[error("transport: {0}")]
    Start(#[from] TransportError),
    /// The messages did not all arrive in time.
    #[error("not every message arrived within {0:?}")]
    Incomplete(Duration),
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn envelope(from: SocketAddr, to: SocketAddr, name: &str) -> Envelope {
    Envelope {
        from: Upid::new("sender", from).expect("a valid pid"),
        to: Upid::new("receiver", to).expect("a valid pid"),
        name: name.into(),
        body: vec![1; 100],
    }
}

/// Counts deliveries; signals when `target` is reached.
struct Counter {
    count: AtomicUsize,
    target: usize,
    done: Mutex<Sender<()>>,
}

impl TransportHandler for Counter {
    fn deliver(&self, _: BorrowedEnvelope<'_>) {
        if self.count.fetch_add(1, Ordering::Relaxed) + 1 == self.target {
            let _ = self.done.lock().map(|done| done.send(()));
        }
    }
    fn http(&self, _: Request, _: Responder) {}
    fn peer_lost(&self, _: SocketAddr) {}
}

/// Ignores everything (the sending side of `one_way`).
struct Quiet;

impl TransportHandler for Quiet {
    fn deliver(&self, _: BorrowedEnvelope<'_>) {}
    fn http(&self, _: Request, _: Responder) {}
    fn peer_lost(&self, _: SocketAddr) {}
}

/// Sends `count` messages from one transport to another; the time until the last arrived.
///
/// # Errors
/// When a transport cannot start or the messages do not all arrive within two minutes.
pub fn one_way(count: u64) -> Result<Duration, TransportBenchError> {
    let (done_tx, done) = mpsc::channel();
    let counter = Arc::new(Counter {
        count: AtomicUsize::new(0),
        target: count as usize,
        done: Mutex::new(done_tx),
    });
    let b = Transport::start(loopback(), TransportConfig::default(), counter)?;
    let a = Transport::start(loopback(), TransportConfig::default(), Arc::new(Quiet))?;
    let e = envelope(a.local_addr(), b.local_addr(), "bench");
    let to = b.local_addr();
    let start = Instant::now();
    for _ in 0..count {
        a.send(to, &e);
    }
    let arrived = done.recv_timeout(PATIENCE).is_ok();
    let elapsed = start.elapsed();
    a.shutdown();
    b.shutdown();
    arrived
        .then_some(elapsed)
        .ok_or(TransportBenchError::Incomplete(PATIENCE))
}

/// Sends every arriving envelope back to its sender until `stop_after` arrivals (`usize::MAX`:
/// always), keeping `in_flight` messages outstanding; signals `done` at `stop_after`.
struct Bouncer {
    me: OnceLock<Arc<Transport>>,
    arrivals: AtomicUsize,
    stop_after: usize,
    in_flight: usize,
    done: Mutex<Sender<()>>,
}

impl TransportHandler for Bouncer {
    fn deliver(&self, e: BorrowedEnvelope<'_>) {
        let e = e.to_owned();
        let n = self.arrivals.fetch_add(1, Ordering::Relaxed) + 1;
        if n == self.stop_after {
            let _ = self.done.lock().map(|done| done.send(()));
        }
        if n.saturating_add(self.in_flight) <= self.stop_after {
            if let Some(t) = self.me.get() {
                let back = Envelope {
                    from: e.to,
                    to: e.from,
                    ..e
                };
                t.send(back.to.addr(), &back);
            }
        }
    }
    fn http(&self, _: Request, _: Responder) {}
    fn peer_lost(&self, _: SocketAddr) {}
}

fn bouncer(
    stop_after: usize,
    in_flight: usize,
    done: Sender<()>,
) -> Result<Arc<Transport>, TransportError> {
    let handler = Arc::new(Bouncer {
        me: OnceLock::new(),
        arrivals: AtomicUsize::new(0),
        stop_after,
        in_flight,
        done: Mutex::new(done),
    });
    let t = Arc::new(Transport::start(
        loopback(),
        TransportConfig::default(),
        handler.clone(),
    )?);
    let _ = handler.me.set(Arc::clone(&t));
    Ok(t)
}

/// `count` round trips with `in_flight` messages outstanding, bounced by the event loops
/// themselves; the time until the last came back.
///
/// # Errors
/// As [`one_way`].
pub fn round_trips(in_flight: u64, count: u64) -> Result<Duration, TransportBenchError> {
    let (done_tx, done) = mpsc::channel();
    let ponger = bouncer(usize::MAX, 0, mpsc::channel().0)?;
    let pinger = bouncer(count as usize, in_flight as usize, done_tx)?;
    let e = envelope(pinger.local_addr(), ponger.local_addr(), "ping");
    let start = Instant::now();
    for _ in 0..in_flight {
        pinger.send(ponger.local_addr(), &e);
    }
    let arrived = done.recv_timeout(PATIENCE).is_ok();
    let elapsed = start.elapsed();
    // The handlers hold their transports: break the cycle explicitly.
    pinger.shutdown();
    ponger.shutdown();
    arrived
        .then_some(elapsed)
        .ok_or(TransportBenchError::Incomplete(PATIENCE))
}
