//! [`MasterConfig`]: the master's settings (its flags), with Mesos's defaults.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// The master's settings; `Default` gives Mesos's defaults (see `MESOS-SEMANTICS.md` §0).
#[derive(Debug, Clone, PartialEq)]
pub struct MasterConfig {
    /// The address the binary listens on (an embedder creates the runtime itself).
    pub ip: Ipv4Addr,
    /// The port the binary listens on (5050).
    pub port: u16,
    /// The host name advertised in `MasterInfo` (clients connect to it after a redirect);
    /// default: the IP the master listens on, which always resolves.
    pub hostname: Option<String>,
    /// Where the master may keep files (unused by the soft-state master; kept for the flag).
    pub work_dir: Option<PathBuf>,
    /// Period of batch allocations (1 s).
    pub allocation_interval: Duration,
    /// Time between pings to each agent (15 s).
    pub agent_ping_timeout: Duration,
    /// Pings an agent may miss in a row before it is removed (5).
    pub max_agent_ping_timeouts: u32,
    /// Offers are rescinded after this long (default: never).
    pub offer_timeout: Option<Duration>,
    /// How long agents have to re-register after this master starts (10 min).
    pub agent_reregister_timeout: Duration,
    /// After an election, how long offers wait at most for the previous leader's agents to
    /// re-register (5 s; the hold ends as soon as every agent in the registry is back).
    pub agent_reregistration_window: Duration,
    /// Seed of the allocator's agent shuffle; default: derived from the master's random id.
    pub seed: Option<u64>,
    /// Time between HEARTBEAT events on v1 HTTP scheduler streams (ours; Mesos: 15 s).
    pub scheduler_heartbeat_interval: Duration,
    /// Unread bytes an HTTP event stream may hold before it is closed (a reader too slow).
    pub max_stream_queued_bytes: usize,
    /// Start as a standby that answers nothing until elected (`MasterHandle::set_leadership`);
    /// `false` (the default) is a standalone master, the leader from the start.
    pub standby: bool,
    /// `--log_dir`: where the master's log file is (served as `/master/log` by `/files`).
    pub log_dir: Option<PathBuf>,
    /// Authentication of frameworks and agents (`--credentials`, `--authenticate_*`).
    pub auth: crate::auth::AuthConfig,
}

impl Default for MasterConfig {
    fn default() -> MasterConfig {
        MasterConfig {
            ip: Ipv4Addr::LOCALHOST,
            port: mesos::master::DEFAULT_MASTER_PORT,
            hostname: None,
            work_dir: None,
            allocation_interval: Duration::from_secs(1),
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            offer_timeout: None,
            agent_reregister_timeout: Duration::from_secs(600),
            agent_reregistration_window: Duration::from_secs(5),
            seed: None,
            standby: false,
            scheduler_heartbeat_interval: crate::api::DEFAULT_HEARTBEAT_INTERVAL,
            max_stream_queued_bytes: crate::api::DEFAULT_MAX_STREAM_QUEUED_BYTES,
            log_dir: None,
            auth: crate::auth::AuthConfig::default(),
        }
    }
}

impl MasterConfig {
    /// The flags as `/master/state` shows them (Mesos's names, string values).
    pub fn flags_json(&self) -> serde_json::Value {
        let secs = |d: Duration| format!("{}secs", d.as_secs_f64());
        let mut flags = serde_json::json!({
            "ip": self.ip.to_string(),
            "port": self.port.to_string(),
            "allocation_interval": secs(self.allocation_interval),
            "agent_ping_timeout": secs(self.agent_ping_timeout),
            "max_agent_ping_timeouts": self.max_agent_ping_timeouts.to_string(),
            "agent_reregister_timeout": secs(self.agent_reregister_timeout),
            "agent_reregistration_window": secs(self.agent_reregistration_window),
            "scheduler_heartbeat_interval": secs(self.scheduler_heartbeat_interval),
        });
        flags["authenticate_frameworks"] = self.auth.authenticate_frameworks.to_string().into();
        flags["authenticate_agents"] = self.auth.authenticate_agents.to_string().into();
        let http = &self.auth.http;
        flags["authenticate_http_readonly"] = http.readonly.to_string().into();
        flags["authenticate_http_readwrite"] = http.readwrite.to_string().into();
        flags["authenticate_http_frameworks"] = http.frameworks.to_string().into();
        if let Some(h) = &self.hostname {
            flags["hostname"] = h.clone().into();
        }
        if let Some(dir) = &self.log_dir {
            flags["log_dir"] = dir.display().to_string().into();
        }
        if let Some(w) = &self.work_dir {
            flags["work_dir"] = w.display().to_string().into();
        }
        if let Some(t) = self.offer_timeout {
            flags["offer_timeout"] = secs(t).into();
        }
        flags
    }
}
