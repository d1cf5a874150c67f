//! [`MasterChild`]: the master under test as a `mesos-master` child process, so that its CPU time
//! and memory are its own (the emulated agents and the frameworks run in the bench's process).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::macro_bench::sampler::http_get;

/// A running `mesos-master`; killed on drop.
#[derive(Debug)]
pub struct MasterChild {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl MasterChild {
    /// Starts `binary` on a free loopback port and waits (at most `limit`) until it answers
    /// `/health`.
    ///
    /// # Errors
    /// The binary cannot be started, exits, or does not answer within `limit`.
    pub fn start(binary: &Path, limit: Duration) -> Result<MasterChild, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        drop(listener);
        let child = Command::new(binary)
            .args([
                "--ip=127.0.0.1".to_string(),
                format!("--port={}", addr.port()),
            ])
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let mut master = MasterChild { child, addr };
        let deadline = Instant::now() + limit;
        loop {
            if http_get(addr, "/health", Duration::from_secs(1)).is_ok() {
                return Ok(master);
            }
            if let Ok(Some(status)) = master.child.try_wait() {
                return Err(format!("mesos-master exited at start: {status}"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "mesos-master did not answer /health within {limit:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The master's pid (`master@127.0.0.1:port`).
    pub fn upid(&self) -> String {
        format!("master@{}", self.addr)
    }

    /// CPU time its threads have used so far.
    ///
    /// # Errors
    /// As [`cpu_time_of`].
    pub fn cpu_time(&self) -> Result<Duration, String> {
        cpu_time_of(self.child.id())
    }

    /// Its resident memory now, in MB (`VmRSS`).
    ///
    /// # Errors
    /// `/proc` could not be read, or holds no `VmRSS` line.
    pub fn rss_mb(&self) -> Result<f64, String> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .ok_or_else(|| format!("no VmRSS in {path}"))
    }

    /// `/metrics/snapshot` as JSON.
    ///
    /// # Errors
    /// The request failed or the answer is not JSON.
    pub fn metrics(&self, timeout: Duration) -> Result<serde_json::Value, String> {
        let body = http_get(self.addr, "/metrics/snapshot", timeout)
            .map_err(|e| format!("/metrics/snapshot: {e}"))?;
        serde_json::from_slice(&body).map_err(|e| format!("/metrics/snapshot: {e}"))
    }
}

impl Drop for MasterChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time the live threads of process `pid` have used (`/proc/<pid>/task/*/schedstat`,
/// nanoseconds; threads that already ended are not counted).
///
/// # Errors
/// `/proc` could not be read (the process is gone).
pub fn cpu_time_of(pid: u32) -> Result<Duration, String> {
    let dir = format!("/proc/{pid}/task");
    let mut total = 0u64;
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("{dir}: {e}"))? {
        let path = entry.map_err(|e| e.to_string())?.path().join("schedstat");
        // A thread may end between the listing and the read: it no longer counts.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        total += text
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(Duration::from_nanos(total))
}

#[cfg(test)]
mod tests {
    use super::cpu_time_of;

    #[test]
    fn this_process_cpu_time_grows_with_work() {
        let before = cpu_time_of(std::process::id()).expect("own /proc");
        let mut x = 1u64;
        let spin = std::time::Instant::now();
        while spin.elapsed() < std::time::Duration::from_millis(50) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let after = cpu_time_of(std::process::id()).expect("own /proc");
        assert!(after > before, "{before:?} -> {after:?}");
        assert!(cpu_time_of(u32::MAX).is_err());
    }
}
