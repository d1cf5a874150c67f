//! Master detection: which master a scheduler (or agent) should talk to.
//!
//! Mesos finds the leading master through a `MasterDetector`; a standalone deployment names the master
//! directly (`host:port` or `master@host:port`), a replicated one asks ZooKeeper (`zk://`, through
//! `mesos_zookeeper::ZooKeeperDetector`, which implements [`MasterDetector`] too). Both answer the
//! same question, so drivers take any [`MasterDetector`].

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use process::Upid;

/// The process id every master runs under (`master@ip:port`).
pub const MASTER_PROCESS_ID: &str = "master";

/// Why a master address could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectorError {
    /// The text is not `host:port` or `master@host:port`.
    #[error("bad master address '{0}': expected host:port or master@host:port")]
    BadAddress(String),
    /// The host name does not resolve to an IPv4 address.
    #[error("cannot resolve master host '{0}'")]
    Unresolvable(String),
    /// The scheme (e.g. `zk://`) is not one a standalone detector reads.
    #[error(
        "unsupported master address '{0}': a standalone master is host:port or master@host:port \
         (for zk:// use mesos_zookeeper::ZooKeeperDetector)"
    )]
    Unsupported(String),
}

/// Called with the new leading master (`None`: no leader known) whenever it changes.
pub type LeaderCallback = Arc<dyn Fn(Option<Upid>) + Send + Sync>;

/// Finds the leading master and reports when it changes.
pub trait MasterDetector: Send + Sync {
    /// The leading master now, if one is known.
    fn leader(&self) -> Option<Upid>;

    /// Asks to be told about later leader changes. A standalone detector never changes leader, so the
    /// default does nothing.
    fn watch(&self, on_change: LeaderCallback) {
        let _ = on_change;
    }
}

/// A fixed master named on the command line (`--master host:port`), as Mesos's
/// `StandaloneMasterDetector`.
///
/// ```
/// use mesos::scheduler::{MasterDetector, StandaloneDetector};
/// let detector: StandaloneDetector = "127.0.0.1:5050".parse()?;
/// assert_eq!(detector.leader().unwrap().to_string(), "master@127.0.0.1:5050");
/// let same: StandaloneDetector = "master@127.0.0.1:5050".parse()?;
/// assert_eq!(same.master(), detector.master());
/// assert!("localhost".parse::<StandaloneDetector>().is_err());
/// # Ok::<(), mesos::scheduler::DetectorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandaloneDetector {
    master: Upid,
}

impl StandaloneDetector {
    /// A detector that always answers `master`.
    pub fn new(master: Upid) -> StandaloneDetector {
        StandaloneDetector { master }
    }

    /// The master this detector names.
    pub fn master(&self) -> &Upid {
        &self.master
    }
}

impl std::str::FromStr for StandaloneDetector {
    type Err = DetectorError;

    fn from_str(text: &str) -> Result<StandaloneDetector, DetectorError> {
        parse_master(text).map(StandaloneDetector::new)
    }
}

impl MasterDetector for StandaloneDetector {
    fn leader(&self) -> Option<Upid> {
        Some(self.master.clone())
    }
}

/// Parses `host:port` or `id@host:port` (id defaults to `master`) into the master's pid, resolving the
/// host name to an IPv4 address (the runtime's pids carry IPs, so replies compare equal).
///
/// # Errors
/// [`DetectorError`] naming the bad text.
pub fn parse_master(text: &str) -> Result<Upid, DetectorError> {
    let text = text.trim();
    if text.contains("://") {
        return Err(DetectorError::Unsupported(text.to_string()));
    }
    let (id, host_port) = match text.split_once('@') {
        Some((id, rest)) if !id.is_empty() => (id, rest),
        Some(_) => return Err(DetectorError::BadAddress(text.to_string())),
        None => (MASTER_PROCESS_ID, text),
    };
    let Some((host, port)) = host_port.rsplit_once(':') else {
        return Err(DetectorError::BadAddress(text.to_string()));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| DetectorError::BadAddress(text.to_string()))?;
    if host.is_empty() {
        return Err(DetectorError::BadAddress(text.to_string()));
    }
    let addr = resolve(host, port)?;
    Upid::new(id, addr).map_err(|_| DetectorError::BadAddress(text.to_string()))
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, DetectorError> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|_| DetectorError::Unresolvable(host.to_string()))?;
    let mut first = None;
    for addr in addrs {
        if addr.is_ipv4() {
            return Ok(addr);
        }
        first.get_or_insert(addr);
    }
    first.ok_or_else(|| DetectorError::Unresolvable(host.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_accepted_forms() {
        let plain = parse_master("127.0.0.1:5050").unwrap();
        assert_eq!(plain.to_string(), "master@127.0.0.1:5050");
        assert_eq!(parse_master("master@127.0.0.1:5050").unwrap(), plain);
        assert_eq!(parse_master(" localhost:5050 ").unwrap(), plain);
        assert_eq!(
            parse_master("other@127.0.0.1:1").unwrap().to_string(),
            "other@127.0.0.1:1"
        );
    }

    #[test]
    fn rejects_bad_forms_naming_them() {
        for bad in [
            "127.0.0.1",
            "127.0.0.1:x",
            ":5050",
            "@127.0.0.1:5050",
            "1.2.3.4:99999",
        ] {
            let err = parse_master(bad).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
        let zk = parse_master("zk://127.0.0.1:2181/mesos").unwrap_err();
        assert!(matches!(zk, DetectorError::Unsupported(_)));
        assert!(zk.to_string().contains("ZooKeeperDetector"), "{zk}");
        assert!(!zk.to_string().contains("later"), "{zk}");
        assert!(matches!(
            parse_master("no-such-host.invalid:5050"),
            Err(DetectorError::Unresolvable(_))
        ));
    }
}
