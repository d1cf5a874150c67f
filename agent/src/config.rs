//! [`AgentConfig`]: the agent's settings (the parsed `mesos-agent` flags), with Mesos's defaults.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use isolation::IsolationFlags;
use mesos::Attributes;
use process::Upid;

use crate::error::AgentError;
use crate::master_link::{DEFAULT_MAX_PING_TIMEOUTS, DEFAULT_REGISTRATION_BACKOFF};
use crate::status_update_manager::{DEFAULT_RETRY_MAX, DEFAULT_RETRY_MIN};

/// Mesos's `EXECUTOR_REGISTRATION_TIMEOUT`.
pub const DEFAULT_EXECUTOR_REGISTRATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Mesos's `EXECUTOR_SHUTDOWN_GRACE_PERIOD`.
pub const DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);

/// Mesos's default `--recovery_timeout`.
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Mesos's default `--executor_reregistration_timeout`.
pub const DEFAULT_EXECUTOR_REREGISTRATION_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest `--executor_reregistration_timeout` (recovery must fit in the master's window).
pub const MAX_EXECUTOR_REREGISTRATION_TIMEOUT: Duration = Duration::from_secs(15);
/// Mesos's default `--gc_delay`.
pub const DEFAULT_GC_DELAY: Duration = Duration::from_secs(7 * 24 * 3600);

/// `--recover`: what a restarted agent does with the executors an earlier one left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecoverMode {
    /// Reconnect to the live executors of checkpointing frameworks (the default).
    #[default]
    Reconnect,
    /// Kill every old executor and exit without registering (for incompatible upgrades).
    Cleanup,
}

impl std::str::FromStr for RecoverMode {
    type Err = String;

    fn from_str(text: &str) -> Result<RecoverMode, String> {
        match text {
            "reconnect" => Ok(RecoverMode::Reconnect),
            "cleanup" => Ok(RecoverMode::Cleanup),
            other => Err(format!(
                "'{other}' is not a recovery mode (use reconnect or cleanup)"
            )),
        }
    }
}

/// `--reconfiguration_policy`: which changes of `--resources`/`--attributes` a restarted agent
/// accepts while keeping its id and its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReconfigurationPolicy {
    /// None at all (the default).
    #[default]
    Equal,
    /// Additions: more of a resource, new resources, new attributes.
    Additive,
}

impl std::str::FromStr for ReconfigurationPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<ReconfigurationPolicy, String> {
        match text {
            "equal" => Ok(ReconfigurationPolicy::Equal),
            "additive" => Ok(ReconfigurationPolicy::Additive),
            other => Err(format!(
                "'{other}' is not a reconfiguration policy (use equal or additive)"
            )),
        }
    }
}

/// Everything the agent needs to run; `Default` gives Mesos's defaults (but no master).
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The master to register with (`master@ip:port`).
    pub master: Option<Upid>,
    /// The hostname to report; default: the system's hostname.
    pub hostname: Option<String>,
    /// Where sandboxes live.
    pub work_dir: PathBuf,
    /// Total resources in Mesos's text form; whatever is missing is detected.
    pub resources: Option<String>,
    /// Attributes to advertise.
    pub attributes: Attributes,
    /// The directory holding `mesos-executor`; default: next to the running binary (or its parent
    /// when that is cargo's `deps` directory).
    pub launcher_dir: Option<PathBuf>,
    /// How long an executor may take to register before it is killed.
    pub executor_registration_timeout: Duration,
    /// How long an executor gets to exit after being told to shut down, before SIGKILL.
    pub executor_shutdown_grace_period: Duration,
    /// The first status update retry wait.
    pub status_update_retry_interval_min: Duration,
    /// The longest status update retry wait.
    pub status_update_retry_interval_max: Duration,
    /// The first registration retry wait (doubling up to a minute).
    pub registration_backoff_factor: Duration,
    /// Missed pings (of the master's ping timeout) before the agent considers its master gone.
    pub max_ping_timeouts: u32,
    /// `--isolation`, `--cgroups_root`, `--cgroups_enable_cfs`: which isolator runs executors.
    pub isolation: IsolationFlags,
    /// `--recover`: reconnect to old executors, or clean them up and exit.
    pub recover: RecoverMode,
    /// `--strict`: any unreadable checkpoint stops the agent (else it is counted and skipped).
    pub strict: bool,
    /// `--recovery_timeout`: how long executors of checkpointing frameworks wait for a restarted
    /// agent before they exit.
    pub recovery_timeout: Duration,
    /// `--executor_reregistration_timeout`: how long recovered executors get to re-register.
    pub executor_reregistration_timeout: Duration,
    /// `--reconfiguration_policy`: which resource/attribute changes keep the agent's id.
    pub reconfiguration_policy: ReconfigurationPolicy,
    /// `--gc_delay`: how long finished executors' sandboxes and checkpoints are kept.
    pub gc_delay: Duration,
    /// `--log_dir`: where the agent's log file is (served as `/slave/log` by `/files`).
    pub log_dir: Option<PathBuf>,
    /// `--fetcher_cache_dir`: where cached downloads go (emptied when the agent starts); default
    /// `<work_dir>/fetch`, so that agents sharing a machine do not empty each other's cache.
    pub fetcher_cache_dir: Option<PathBuf>,
    /// `--fetcher_cache_size`: bytes the fetcher cache may hold.
    pub fetcher_cache_size: u64,
    /// Extra CA files the fetcher trusts for `https://` URIs, besides the system bundle (the
    /// agent binary reads them from `SSL_CERT_FILE` and `LIBPROCESS_SSL_CA_FILE`; see
    /// [`crate::fetcher::trust`]).
    pub fetcher_ca_files: Vec<PathBuf>,
    /// `--credential`: the principal and secret to authenticate with the master as.
    pub credential: Option<mesos::auth::Credential>,
    /// `--authenticate_http_readonly`, `--authenticate_http_readwrite`, `--http_credentials`.
    pub http_auth: mesos::auth::http::HttpAuth,
    /// `--switch_user` (default true, as Mesos): executors run as `CommandInfo.user`, else
    /// `FrameworkInfo.user` (needs root; an empty user runs as the agent's).
    pub switch_user: bool,
    /// `--acls`: `access_sandboxes` and `get_endpoints` on this agent's files API and endpoints.
    pub acls: std::sync::Arc<mesos::acl::Acls>,
}

impl Default for AgentConfig {
    fn default() -> AgentConfig {
        AgentConfig {
            master: None,
            hostname: None,
            work_dir: std::env::temp_dir().join("mesos-agent"),
            resources: None,
            attributes: Attributes::new(),
            launcher_dir: None,
            executor_registration_timeout: DEFAULT_EXECUTOR_REGISTRATION_TIMEOUT,
            executor_shutdown_grace_period: DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD,
            status_update_retry_interval_min: DEFAULT_RETRY_MIN,
            status_update_retry_interval_max: DEFAULT_RETRY_MAX,
            registration_backoff_factor: DEFAULT_REGISTRATION_BACKOFF,
            max_ping_timeouts: DEFAULT_MAX_PING_TIMEOUTS,
            isolation: IsolationFlags::default(),
            recover: RecoverMode::Reconnect,
            strict: true,
            recovery_timeout: DEFAULT_RECOVERY_TIMEOUT,
            executor_reregistration_timeout: DEFAULT_EXECUTOR_REREGISTRATION_TIMEOUT,
            reconfiguration_policy: ReconfigurationPolicy::Equal,
            gc_delay: DEFAULT_GC_DELAY,
            log_dir: None,
            fetcher_cache_dir: None,
            fetcher_cache_size: crate::fetcher::DEFAULT_CACHE_SIZE,
            fetcher_ca_files: Vec::new(),
            credential: None,
            http_auth: Default::default(),
            switch_user: true,
            acls: Default::default(),
        }
    }
}

impl AgentConfig {
    /// A default config registering with `master`.
    pub fn new(master: Upid) -> AgentConfig {
        AgentConfig {
            master: Some(master),
            ..AgentConfig::default()
        }
    }

    /// The fetcher cache's directory.
    pub fn fetcher_cache_dir(&self) -> PathBuf {
        self.fetcher_cache_dir
            .clone()
            .unwrap_or_else(|| self.work_dir.join("fetch"))
    }

    /// The directory holding `mesos-executor`.
    pub fn launcher_dir(&self) -> PathBuf {
        if let Some(dir) = &self.launcher_dir {
            return dir.clone();
        }
        let exe = std::env::current_exe().unwrap_or_default();
        let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
        // cargo puts test binaries in target/<profile>/deps, the binaries one level up.
        if dir.file_name().is_some_and(|name| name == "deps") {
            if let Some(parent) = dir.parent() {
                return parent.to_path_buf();
            }
        }
        dir
    }
}

/// Parses `--master`: `host:port` or `master@host:port` (a host name is resolved).
///
/// # Errors
/// [`AgentError::BadMaster`] naming what is wrong.
pub fn parse_master(value: &str) -> Result<Upid, AgentError> {
    let bad = |reason: &str| AgentError::BadMaster {
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = value.trim();
    if trimmed.starts_with("zk://") {
        return Err(bad("ZooKeeper detection is not supported yet"));
    }
    let (id, address) = match trimmed.split_once('@') {
        Some((id, address)) => (id, address),
        None => ("master", trimmed),
    };
    let addr: SocketAddr = match address.parse() {
        Ok(addr) => addr,
        Err(_) => address
            .to_socket_addrs()
            .map_err(|e| bad(&e.to_string()))?
            .find(SocketAddr::is_ipv4)
            .ok_or_else(|| bad("host has no IPv4 address"))?,
    };
    Upid::new(id, addr).map_err(|e| bad(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_forms() {
        assert_eq!(
            parse_master("127.0.0.1:5050").unwrap().to_string(),
            "master@127.0.0.1:5050"
        );
        assert_eq!(
            parse_master("master@127.0.0.1:5055").unwrap().to_string(),
            "master@127.0.0.1:5055"
        );
        assert_eq!(parse_master("localhost:5050").unwrap().port(), 5050);
        for bad in ["nonsense", "127.0.0.1", "zk://h:2181/mesos", "a@b@c"] {
            let err = parse_master(bad).unwrap_err();
            assert!(err.to_string().contains("--master"), "{err}");
        }
    }

    #[test]
    fn launcher_dir_skips_cargo_deps() {
        let config = AgentConfig::default();
        let dir = config.launcher_dir();
        assert_ne!(dir.file_name().unwrap(), "deps");
        let explicit = AgentConfig {
            launcher_dir: Some(PathBuf::from("/opt/mesos")),
            ..AgentConfig::default()
        };
        assert_eq!(explicit.launcher_dir(), PathBuf::from("/opt/mesos"));
    }
}
