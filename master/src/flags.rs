//! `mesos-master` flags: Mesos's names (`--agent_ping_timeout`), each also settable as
//! `MESOS_<FLAG>`; durations in Mesos's form (`15secs`, `500ms`, `2mins`).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mesos::duration::parse_duration;

use crate::config::MasterConfig;

fn duration(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    let d = duration(text)?;
    if d.is_zero() {
        return Err("must be more than 0 (e.g. 1secs)".to_string());
    }
    Ok(d)
}

fn ping_timeout(text: &str) -> Result<Duration, String> {
    let d = duration(text)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(15 * 60) {
        return Err(format!(
            "'{text}' is out of range: must be between 1secs and 15mins"
        ));
    }
    Ok(d)
}

fn zk_url(text: &str) -> Result<String, String> {
    if !text.starts_with("zk://") {
        return Err(format!(
            "'{text}' is not a zookeeper url: expected zk://host1:2181,host2:2181/path"
        ));
    }
    Ok(text.to_string())
}

/// `--credentials`: a path (or `file:///path`) to Mesos's JSON or text credentials.
fn credentials(text: &str) -> Result<mesos::auth::Credentials, String> {
    mesos::auth::Credentials::load(std::path::Path::new(text)).map_err(|e| e.to_string())
}

/// `--acls`: Mesos's ACL JSON, inline or in a file (a path or `file:///path`).
fn acls(text: &str) -> Result<std::sync::Arc<mesos::acl::Acls>, String> {
    mesos::acl::Acls::load(text)
        .map(std::sync::Arc::new)
        .map_err(|e| e.to_string())
}

fn reregister_timeout(text: &str) -> Result<Duration, String> {
    let d = duration(text)?;
    if d < Duration::from_secs(600) {
        return Err(format!("'{text}' is too short: must be at least 10mins"));
    }
    Ok(d)
}

/// The `mesos-master` command line.
#[derive(Parser, Debug, Clone, PartialEq)]
#[command(
    name = "mesos-master",
    version,
    about = "The Mesos master: offers agents' resources to frameworks and tracks their tasks."
)]
pub struct Flags {
    /// IPv4 address to listen on.
    #[arg(long = "ip", env = "MESOS_IP", default_value = "127.0.0.1")]
    pub ip: Ipv4Addr,
    /// Port to listen on.
    #[arg(long = "port", env = "MESOS_PORT", default_value_t = 5050)]
    pub port: u16,
    /// Directory for the master's files.
    #[arg(long = "work_dir", env = "MESOS_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// Time between batch allocations, e.g. 1secs or 500ms.
    #[arg(long = "allocation_interval", env = "MESOS_ALLOCATION_INTERVAL", default_value = "1secs", value_parser = positive_duration)]
    pub allocation_interval: Duration,
    /// Time between pings to an agent (1secs to 15mins).
    #[arg(long = "agent_ping_timeout", alias = "slave_ping_timeout", env = "MESOS_AGENT_PING_TIMEOUT", default_value = "15secs", value_parser = ping_timeout)]
    pub agent_ping_timeout: Duration,
    /// Missed pings before an agent is removed (at least 1).
    #[arg(long = "max_agent_ping_timeouts", alias = "max_slave_ping_timeouts", env = "MESOS_MAX_AGENT_PING_TIMEOUTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_agent_ping_timeouts: u32,
    /// Rescind offers not used within this time (default: never).
    #[arg(long = "offer_timeout", env = "MESOS_OFFER_TIMEOUT", value_parser = positive_duration)]
    pub offer_timeout: Option<Duration>,
    /// Host name to advertise (default: this machine's).
    #[arg(long = "hostname", env = "MESOS_HOSTNAME")]
    pub hostname: Option<String>,
    /// Time agents have to re-register after a master restart (at least 10mins).
    #[arg(long = "agent_reregister_timeout", alias = "slave_reregister_timeout", env = "MESOS_AGENT_REREGISTER_TIMEOUT", default_value = "10mins", value_parser = reregister_timeout)]
    pub agent_reregister_timeout: Duration,
    /// After an election, how long offers wait at most for the previous leader's agents to
    /// re-register (the hold ends once every agent in the registry is back).
    #[arg(long = "agent_reregistration_window", env = "MESOS_AGENT_REREGISTRATION_WINDOW", default_value = "5secs", value_parser = positive_duration)]
    pub agent_reregistration_window: Duration,
    /// Time between HEARTBEAT events on v1 HTTP scheduler event streams (ours; Mesos uses 15secs).
    #[arg(long = "scheduler_heartbeat_interval", env = "MESOS_SCHEDULER_HEARTBEAT_INTERVAL", default_value = "15secs", value_parser = positive_duration)]
    pub scheduler_heartbeat_interval: Duration,
    /// ZooKeeper URL for leader election among masters, e.g. zk://host1:2181,host2:2181/mesos
    /// (default: a standalone master).
    #[arg(long = "zk", env = "MESOS_ZK", value_parser = zk_url, requires = "quorum")]
    pub zk: Option<String>,
    /// Size of the masters' quorum (required with --zk, as in Mesos; the soft-state master keeps no
    /// replicated log, so it is only checked to be at least 1).
    #[arg(long = "quorum", env = "MESOS_QUORUM", value_parser = clap::value_parser!(u32).range(1..))]
    pub quorum: Option<u32>,
    /// ZooKeeper session timeout: a crashed leader is replaced after about this long.
    #[arg(long = "zk_session_timeout", env = "MESOS_ZK_SESSION_TIMEOUT", default_value = "10secs", value_parser = positive_duration)]
    pub zk_session_timeout: Duration,
    /// Where the master writes its log file (mesos-master.INFO), besides stderr; served as
    /// /master/log by the files API and linked from the web UI.
    #[arg(long = "log_dir", env = "MESOS_LOG_DIR")]
    pub log_dir: Option<PathBuf>,
    /// Principals and secrets frameworks and agents authenticate with: a file in Mesos's JSON
    /// form (`{"credentials":[{"principal":..,"secret":..}]}`) or text form (`principal secret`
    /// per line).
    #[arg(long = "credentials", env = "MESOS_CREDENTIALS", value_parser = credentials)]
    pub credentials: Option<mesos::auth::Credentials>,
    /// Only authenticated frameworks may register (needs --credentials).
    #[arg(long = "authenticate_frameworks", alias = "authenticate", env = "MESOS_AUTHENTICATE_FRAMEWORKS", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, requires = "credentials")]
    pub authenticate_frameworks: bool,
    /// Only authenticated agents may register (needs --credentials).
    #[arg(long = "authenticate_agents", alias = "authenticate_slaves", env = "MESOS_AUTHENTICATE_AGENTS", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, requires = "credentials")]
    pub authenticate_agents: bool,
    /// Principals and secrets for HTTP Basic authentication (same forms as --credentials).
    #[arg(long = "http_credentials", env = "MESOS_HTTP_CREDENTIALS", value_parser = credentials)]
    pub http_credentials: Option<mesos::auth::Credentials>,
    /// Endpoints that change nothing (state, metrics, files) need HTTP authentication.
    #[arg(long = "authenticate_http_readonly", env = "MESOS_AUTHENTICATE_HTTP_READONLY", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, requires = "http_credentials")]
    pub authenticate_http_readonly: bool,
    /// Endpoints that change the cluster (/api/v1 operator calls, teardown) need HTTP
    /// authentication.
    #[arg(long = "authenticate_http_readwrite", env = "MESOS_AUTHENTICATE_HTTP_READWRITE", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, requires = "http_credentials")]
    pub authenticate_http_readwrite: bool,
    /// The v1 scheduler API (/api/v1/scheduler) needs HTTP authentication.
    #[arg(long = "authenticate_http_frameworks", env = "MESOS_AUTHENTICATE_HTTP_FRAMEWORKS", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, requires = "http_credentials")]
    pub authenticate_http_frameworks: bool,
    /// Access control lists in Mesos's JSON form, inline or a file path: register_frameworks,
    /// run_tasks, teardown_frameworks, view_frameworks, view_tasks, view_executors,
    /// access_sandboxes, get_endpoints; "permissive" (default true) decides what no rule matches.
    #[arg(long = "acls", env = "MESOS_ACLS", value_parser = acls)]
    pub acls: Option<std::sync::Arc<mesos::acl::Acls>>,
}

impl Flags {
    /// The master's settings from these flags.
    pub fn to_config(&self) -> MasterConfig {
        MasterConfig {
            ip: self.ip,
            port: self.port,
            hostname: self.hostname.clone(),
            work_dir: self.work_dir.clone(),
            allocation_interval: self.allocation_interval,
            agent_ping_timeout: self.agent_ping_timeout,
            max_agent_ping_timeouts: self.max_agent_ping_timeouts,
            offer_timeout: self.offer_timeout,
            agent_reregister_timeout: self.agent_reregister_timeout,
            agent_reregistration_window: self.agent_reregistration_window,
            seed: None,
            standby: self.zk.is_some(),
            scheduler_heartbeat_interval: self.scheduler_heartbeat_interval,
            log_dir: self.log_dir.clone(),
            auth: crate::auth::AuthConfig {
                credentials: self.credentials.clone(),
                authenticate_frameworks: self.authenticate_frameworks,
                authenticate_agents: self.authenticate_agents,
                http: mesos::auth::http::HttpAuth {
                    credentials: self.http_credentials.clone(),
                    readonly: self.authenticate_http_readonly,
                    readwrite: self.authenticate_http_readwrite,
                    frameworks: self.authenticate_http_frameworks,
                },
                acls: self.acls.clone().unwrap_or_default(),
            },
            ..MasterConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Flags, clap::Error> {
        Flags::try_parse_from(std::iter::once("mesos-master").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_mesos_defaults() {
        let config = parse(&[]).unwrap().to_config();
        assert_eq!(config, MasterConfig::default());
    }

    #[test]
    fn both_flag_forms_and_durations() {
        let f = parse(&[
            "--port=6060",
            "--agent_ping_timeout",
            "2secs",
            "--max_agent_ping_timeouts=3",
            "--offer_timeout=500ms",
            "--allocation_interval=100ms",
            "--hostname=h1",
            "--scheduler_heartbeat_interval=1secs",
        ])
        .unwrap();
        assert_eq!(f.scheduler_heartbeat_interval, Duration::from_secs(1));
        assert_eq!(f.port, 6060);
        assert_eq!(f.agent_ping_timeout, Duration::from_secs(2));
        assert_eq!(f.max_agent_ping_timeouts, 3);
        assert_eq!(f.offer_timeout, Some(Duration::from_millis(500)));
        assert_eq!(f.allocation_interval, Duration::from_millis(100));
        assert_eq!(f.hostname.as_deref(), Some("h1"));
        assert_eq!(
            parse(&["--slave_ping_timeout=3secs"])
                .unwrap()
                .agent_ping_timeout,
            Duration::from_secs(3)
        );
    }

    #[test]
    fn authentication_flags() {
        let path = std::env::temp_dir().join(format!("master-flags-creds-{}", std::process::id()));
        std::fs::write(&path, "alice s1\n").unwrap();
        let creds = format!("--credentials={}", path.display());
        let f = parse(&[
            &creds,
            "--authenticate_frameworks",
            "--authenticate_agents=true",
        ])
        .unwrap();
        let auth = f.to_config().auth;
        assert!(auth.authenticate_frameworks && auth.authenticate_agents);
        assert_eq!(auth.credentials.unwrap().secret("alice"), Some("s1"));
        let f = parse(&[&creds, "--authenticate=false"]).unwrap();
        assert!(!f.authenticate_frameworks);
        let http = format!("--http_credentials={}", path.display());
        let f = parse(&[
            &http,
            "--authenticate_http_readonly",
            "--authenticate_http_frameworks=true",
        ])
        .unwrap();
        let auth = f.to_config().auth.http;
        assert!(auth.readonly && auth.frameworks && !auth.readwrite);
        assert!(parse(&["--authenticate_http_readwrite"])
            .unwrap_err()
            .to_string()
            .contains("--http_credentials"));
        std::fs::write(&path, "alice\n").unwrap();
        let error = parse(&[&creds]).unwrap_err().to_string();
        assert!(
            error.contains("--credentials") && error.contains("line 1"),
            "{error}"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn zookeeper_flags() {
        let f = parse(&[
            "--zk=zk://h1:2181,h2:2181/mesos",
            "--quorum=2",
            "--zk_session_timeout=2secs",
        ])
        .unwrap();
        assert_eq!(f.zk.as_deref(), Some("zk://h1:2181,h2:2181/mesos"));
        assert_eq!(f.quorum, Some(2));
        assert_eq!(f.zk_session_timeout, Duration::from_secs(2));
        assert!(f.to_config().standby);
        let standalone = parse(&[]).unwrap();
        assert_eq!(standalone.zk_session_timeout, Duration::from_secs(10));
        assert!(!standalone.to_config().standby);
    }

    #[test]
    fn bad_values_name_the_flag_and_the_form() {
        let cases = [
            (
                &["--agent_ping_timeout=100ms"][..],
                "between 1secs and 15mins",
            ),
            (
                &["--agent_ping_timeout=16mins"][..],
                "between 1secs and 15mins",
            ),
            (
                &["--max_agent_ping_timeouts=0"][..],
                "max_agent_ping_timeouts",
            ),
            (
                &["--allocation_interval=soon"][..],
                "expected a number and a unit",
            ),
            (&["--agent_reregister_timeout=1mins"][..], "at least 10mins"),
            (&["--port=http"][..], "--port"),
            (&["--scheduler_heartbeat_interval=0secs"][..], "more than 0"),
            (&["--zk=host:2181/mesos", "--quorum=1"][..], "zk://"),
            (&["--zk=zk://h:2181/mesos"][..], "--quorum"),
            (&["--quorum=0"][..], "--quorum"),
            (&["--bogus=1"][..], "--bogus"),
            (&["--authenticate_frameworks"][..], "--credentials"),
            (&["--credentials=/nonexistent/creds"][..], "cannot read"),
        ];
        for (args, expected) in cases {
            let error = parse(args).unwrap_err().to_string();
            assert!(error.contains(expected), "{args:?}: {error}");
            let flag = args[0].split('=').next().unwrap();
            assert!(error.contains(flag), "{args:?} names the flag: {error}");
        }
    }
}
