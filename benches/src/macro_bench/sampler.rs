//! Cluster utilization over time: a thread polls masters' `/metrics/snapshot` (Mesos's
//! `master/cpus_used`, `master/cpus_total`, `master/mem_used`, `master/mem_total`) and records one
//! [`Sample`] per tick, summed over every master it watches (a statically partitioned "cluster"
//! is several masters).
//!
//! Averaging is a pure function of the samples ([`utilization`]): the integral of used over the
//! integral of total, each sample holding until the next one, so a tick that came late or an agent
//! that registered mid-run weighs in by the time it covered.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the masters reported at one moment, summed over them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    /// Seconds since the experiment's start.
    pub at_s: f64,
    /// CPUs held by tasks and executors.
    pub cpus_used: f64,
    /// CPUs of every registered agent.
    pub cpus_total: f64,
    /// Memory (MB) held by tasks and executors.
    pub mem_used: f64,
    /// Memory (MB) of every registered agent.
    pub mem_total: f64,
}

impl Sample {
    /// Adds another master's figures to this one (same moment).
    pub fn add(&mut self, other: &Sample) {
        self.cpus_used += other.cpus_used;
        self.cpus_total += other.cpus_total;
        self.mem_used += other.mem_used;
        self.mem_total += other.mem_total;
    }

    /// Used over total CPUs, 0..=1 (0 with no agents).
    pub fn cpu_fraction(&self) -> f64 {
        ratio(self.cpus_used, self.cpus_total)
    }

    /// Used over total memory, 0..=1 (0 with no agents).
    pub fn mem_fraction(&self) -> f64 {
        ratio(self.mem_used, self.mem_total)
    }
}

fn ratio(used: f64, total: f64) -> f64 {
    if total > 0.0 {
        used / total
    } else {
        0.0
    }
}

/// Which resource [`utilization`] averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `cpus`.
    Cpus,
    /// `mem`.
    Mem,
}

/// Time-averaged utilization (0..=1) of `resource` over `[from_s, to_s]`: the integral of used
/// over the integral of total, each sample holding until the next one (the last until `to_s`).
/// Samples before `from_s` count from `from_s` on; `None` when the window holds no capacity.
pub fn utilization(samples: &[Sample], resource: Resource, from_s: f64, to_s: f64) -> Option<f64> {
    let (mut used, mut total) = (0.0, 0.0);
    for (i, sample) in samples.iter().enumerate() {
        let start = sample.at_s.max(from_s);
        let end = samples.get(i + 1).map_or(to_s, |next| next.at_s).min(to_s);
        if end <= start {
            continue;
        }
        let dt = end - start;
        let (u, t) = match resource {
            Resource::Cpus => (sample.cpus_used, sample.cpus_total),
            Resource::Mem => (sample.mem_used, sample.mem_total),
        };
        used += u * dt;
        total += t * dt;
    }
    (total > 0.0).then(|| used / total)
}

/// Reads one master's figures from its `/metrics/snapshot` JSON.
pub fn sample_from_metrics(metrics: &serde_json::Value, at_s: f64) -> Option<Sample> {
    let get = |name: &str| metrics.get(format!("master/{name}"))?.as_f64();
    Some(Sample {
        at_s,
        cpus_used: get("cpus_used")?,
        cpus_total: get("cpus_total")?,
        mem_used: get("mem_used")?,
        mem_total: get("mem_total")?,
    })
}

/// `GET http://<addr><path>` with `Connection: close`; the body of a 200 answer.
///
/// # Errors
/// The connection failed, timed out, or the answer was not a 200.
pub fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(body) = complete_body(&answer)? {
            return Ok(body);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return complete_body(&answer)?.ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed mid-answer",
                )
            });
        }
        answer.extend_from_slice(&chunk[..n]);
    }
}

/// The body once the whole answer (head plus `Content-Length` bytes) is in `answer`.
fn complete_body(answer: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&answer[..end]);
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(std::io::Error::other(format!(
            "answer {status:?} instead of 200"
        )));
    }
    let length = head
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let body = &answer[end + 4..];
    Ok((body.len() >= length).then(|| body[..length].to_vec()))
}

/// One master's figures now.
///
/// # Errors
/// The request failed or the answer lacks the four metrics.
pub fn poll_master(addr: SocketAddr, at_s: f64) -> std::io::Result<Sample> {
    let body = http_get(addr, "/metrics/snapshot", Duration::from_secs(2))?;
    let json: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    sample_from_metrics(&json, at_s).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the snapshot lacks master/cpus_* or master/mem_*",
        )
    })
}

/// A running sampler; [`Sampler::finish`] stops it and hands back the series.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Sample>>,
}

impl Sampler {
    /// Polls every master in `masters` each `period`, stamping samples relative to `start`. A
    /// tick where some master did not answer is skipped (the previous sample holds).
    pub fn start(masters: Vec<SocketAddr>, period: Duration, start: Instant) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            let mut next = Instant::now();
            loop {
                let at_s = start.elapsed().as_secs_f64();
                let mut sum = Sample {
                    at_s,
                    ..Sample::default()
                };
                let mut complete = true;
                for &addr in &masters {
                    match poll_master(addr, at_s) {
                        Ok(sample) => sum.add(&sample),
                        Err(error) => {
                            tracing::debug!(%addr, %error, "metrics poll failed");
                            complete = false;
                        }
                    }
                }
                if complete {
                    samples.push(sum);
                }
                if stopping.load(Ordering::Acquire) {
                    return samples;
                }
                next += period;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    next = now;
                }
            }
        });
        Sampler { stop, thread }
    }

    /// Stops polling (after one last sample) and returns the series.
    pub fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at_s: f64, cpus_used: f64, cpus_total: f64) -> Sample {
        Sample {
            at_s,
            cpus_used,
            cpus_total,
            mem_used: cpus_used * 100.0,
            mem_total: cpus_total * 100.0,
        }
    }

    #[test]
    fn each_sample_weighs_by_the_time_it_covers() {
        // 1 s at 100%, then 3 s at 0%: 25%.
        let samples = [at(0.0, 4.0, 4.0), at(1.0, 0.0, 4.0)];
        let cpu = utilization(&samples, Resource::Cpus, 0.0, 4.0).expect("capacity");
        assert!((cpu - 0.25).abs() < 1e-9, "{cpu}");
    }

    #[test]
    fn a_complete_http_answer_yields_its_body() {
        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(complete_body(answer).expect("ok"), Some(b"{}".to_vec()));
        let partial = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}";
        assert_eq!(complete_body(partial).expect("ok"), None);
        assert!(complete_body(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
    }
}
