//! The `mesos-agent` flags: Mesos's names, `--flag=value` or `--flag value`, each also settable as
//! `MESOS_<FLAG>`; durations in Mesos's form.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mesos::Attributes;

use crate::config::{
    parse_master, AgentConfig, ReconfigurationPolicy, RecoverMode,
    MAX_EXECUTOR_REREGISTRATION_TIMEOUT,
};

fn duration(text: &str) -> Result<Duration, String> {
    mesos::duration::parse_duration(text)
        .map_err(|_| format!("'{text}' is not a duration (use e.g. 10secs, 500ms, 2mins)"))
}

fn resources(text: &str) -> Result<String, String> {
    text.parse::<mesos::Resources>()
        .map(|_| text.to_string())
        .map_err(|e| format!("{e} (use e.g. cpus:2;mem:1024;disk:4096;ports:[31000-32000])"))
}

fn attributes(text: &str) -> Result<Attributes, String> {
    Attributes::parse(text).map_err(|e| format!("{e} (use e.g. rack:r1;zone:a)"))
}

fn master(text: &str) -> Result<String, String> {
    if text.trim().starts_with("zk://") {
        // Followed through ZooKeeper (issue 5): the binary starts a detector.
        return text
            .trim()
            .parse::<mesos_zookeeper::ZkUrl>()
            .map(|_| text.trim().to_string())
            .map_err(|e| e.to_string());
    }
    parse_master(text)
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

/// `mesos-agent` command-line flags.
#[derive(Debug, Parser)]
#[command(
    name = "mesos-agent",
    version,
    rename_all = "snake_case",
    about = "The Mesos agent: offers this node's resources and runs tasks."
)]
pub struct Flags {
    /// The master: host:port, master@host:port, or zk://host1:2181,host2:2181/mesos to follow the
    /// leading master through ZooKeeper.
    #[arg(long, env = "MESOS_MASTER", value_parser = master)]
    pub master: String,
    /// The IP to listen on.
    #[arg(long, env = "MESOS_IP", default_value = "127.0.0.1")]
    pub ip: IpAddr,
    /// The port to listen on.
    #[arg(long, env = "MESOS_PORT", default_value_t = mesos::agent::DEFAULT_AGENT_PORT)]
    pub port: u16,
    /// Where sandboxes go.
    #[arg(long, env = "MESOS_WORK_DIR", default_value_os_t = std::env::temp_dir().join("mesos-agent"))]
    pub work_dir: PathBuf,
    /// Total resources (missing ones are detected), e.g. cpus:2;mem:1024.
    #[arg(long, env = "MESOS_RESOURCES", value_parser = resources)]
    pub resources: Option<String>,
    /// Attributes, e.g. rack:r1;zone:a.
    #[arg(long, env = "MESOS_ATTRIBUTES", value_parser = attributes)]
    pub attributes: Option<Attributes>,
    /// The directory holding mesos-executor.
    #[arg(long, env = "MESOS_LAUNCHER_DIR")]
    pub launcher_dir: Option<PathBuf>,
    /// How long an executor may take to register.
    #[arg(long, env = "MESOS_EXECUTOR_REGISTRATION_TIMEOUT", default_value = "1mins", value_parser = duration)]
    pub executor_registration_timeout: Duration,
    /// How long an executor gets to shut down before it is killed.
    #[arg(long, env = "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", default_value = "5secs", value_parser = duration)]
    pub executor_shutdown_grace_period: Duration,
    /// The first status update retry wait.
    #[arg(long, env = "MESOS_STATUS_UPDATE_RETRY_INTERVAL_MIN", default_value = "10secs", value_parser = duration)]
    pub status_update_retry_interval_min: Duration,
    /// The longest status update retry wait.
    #[arg(long, env = "MESOS_STATUS_UPDATE_RETRY_INTERVAL_MAX", default_value = "10mins", value_parser = duration)]
    pub status_update_retry_interval_max: Duration,
    /// The first registration retry wait.
    #[arg(long, env = "MESOS_REGISTRATION_BACKOFF_FACTOR", default_value = "1secs", value_parser = duration)]
    pub registration_backoff_factor: Duration,
    /// Isolators, comma-separated: posix/cpu,posix/mem (default), cgroups/cpu, cgroups/mem,
    /// namespaces/pid, linux/capabilities.
    #[arg(long, env = "MESOS_ISOLATION", default_value = isolation::DEFAULT_ISOLATION)]
    pub isolation: String,
    /// The cgroup (under the agent's own) holding the containers' cgroups.
    #[arg(long, env = "MESOS_CGROUPS_ROOT", default_value = "mesos")]
    pub cgroups_root: String,
    /// Hard cpu limits through CFS quota (cgroups/cpu).
    #[arg(long, env = "MESOS_CGROUPS_ENABLE_CFS", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub cgroups_enable_cfs: bool,
    /// The hostname to advertise.
    #[arg(long, env = "MESOS_HOSTNAME")]
    pub hostname: Option<String>,
    /// What to do with the executors a previous agent left: reconnect (to those of checkpointing
    /// frameworks) or cleanup (kill them all and exit without registering).
    #[arg(long, env = "MESOS_RECOVER", default_value = "reconnect", value_parser = recover_mode)]
    pub recover: RecoverMode,
    /// Whether any unreadable checkpoint stops the agent (else it is counted in
    /// slave/recovery_errors and skipped).
    #[arg(long, env = "MESOS_STRICT", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub strict: bool,
    /// How long executors of checkpointing frameworks wait for a restarted agent.
    #[arg(long, env = "MESOS_RECOVERY_TIMEOUT", default_value = "15mins", value_parser = duration)]
    pub recovery_timeout: Duration,
    /// How long recovered executors get to re-register (at most 15secs).
    #[arg(long, env = "MESOS_EXECUTOR_REREGISTRATION_TIMEOUT", default_value = "2secs", value_parser = reregistration_timeout)]
    pub executor_reregistration_timeout: Duration,
    /// Which changes of --resources/--attributes a restart accepts while keeping the agent's id:
    /// equal (none) or additive (more resources, new attributes).
    #[arg(long, env = "MESOS_RECONFIGURATION_POLICY", default_value = "equal", value_parser = reconfiguration_policy)]
    pub reconfiguration_policy: ReconfigurationPolicy,
    /// How long finished executors' sandboxes and checkpoints are kept.
    #[arg(long, env = "MESOS_GC_DELAY", default_value = "1weeks", value_parser = duration)]
    pub gc_delay: Duration,
    /// Where the agent writes its log file (mesos-agent.INFO), besides stderr; served as
    /// /slave/log by the files API.
    #[arg(long, env = "MESOS_LOG_DIR")]
    pub log_dir: Option<PathBuf>,
    /// Where the fetcher caches downloads of URIs with `cache` set (emptied at start; default
    /// <work_dir>/fetch).
    #[arg(long, env = "MESOS_FETCHER_CACHE_DIR")]
    pub fetcher_cache_dir: Option<PathBuf>,
    /// How many bytes the fetcher cache may hold, e.g. 2GB, 512MB.
    #[arg(long, env = "MESOS_FETCHER_CACHE_SIZE", default_value = "2GB", value_parser = bytes)]
    pub fetcher_cache_size: u64,
    /// The principal and secret to authenticate with the master as: a file holding JSON
    /// `{"principal":..,"secret":..}` or one line `principal secret`.
    #[arg(long, env = "MESOS_CREDENTIAL", value_parser = credential)]
    pub credential: Option<mesos::auth::Credential>,
    /// Principals and secrets for HTTP Basic authentication (Mesos's JSON or text form).
    #[arg(long, env = "MESOS_HTTP_CREDENTIALS", value_parser = credentials)]
    pub http_credentials: Option<mesos::auth::Credentials>,
    /// Endpoints that change nothing (state, metrics, files) need HTTP authentication.
    #[arg(long, env = "MESOS_AUTHENTICATE_HTTP_READONLY", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, requires = "http_credentials")]
    pub authenticate_http_readonly: bool,
    /// Operator calls (/api/v1) need HTTP authentication.
    #[arg(long, env = "MESOS_AUTHENTICATE_HTTP_READWRITE", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, requires = "http_credentials")]
    pub authenticate_http_readwrite: bool,
    /// Run each executor and its tasks as CommandInfo.user, else FrameworkInfo.user, with that
    /// user's groups and HOME, its sandbox owned by it (the agent must be root); false: as the
    /// agent's user.
    #[arg(long, env = "MESOS_SWITCH_USER", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub switch_user: bool,
    /// Access control lists in Mesos's JSON form, inline or a file path (access_sandboxes,
    /// get_endpoints).
    #[arg(long, env = "MESOS_ACLS", value_parser = acls)]
    pub acls: Option<std::sync::Arc<mesos::acl::Acls>>,
}

/// `--acls`: Mesos's ACL JSON, inline or in a file (a path or `file:///path`).
fn acls(text: &str) -> Result<std::sync::Arc<mesos::acl::Acls>, String> {
    mesos::acl::Acls::load(text)
        .map(std::sync::Arc::new)
        .map_err(|e| e.to_string())
}

/// Parses a byte count in Mesos's form: `1024`, `512B`, `64KB`, `512MB`, `2GB`, `1TB`.
fn bytes(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return Err(format!("'{text}' is not a size (use e.g. 512MB, 2GB)")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("'{text}' is not a size (use e.g. 512MB, 2GB)"))
}

fn credentials(text: &str) -> Result<mesos::auth::Credentials, String> {
    mesos::auth::Credentials::load(std::path::Path::new(text)).map_err(|e| e.to_string())
}

fn credential(text: &str) -> Result<mesos::auth::Credential, String> {
    mesos::auth::Credential::load(std::path::Path::new(text)).map_err(|e| e.to_string())
}

fn recover_mode(text: &str) -> Result<RecoverMode, String> {
    text.parse()
}

fn reconfiguration_policy(text: &str) -> Result<ReconfigurationPolicy, String> {
    text.parse()
}

fn reregistration_timeout(text: &str) -> Result<Duration, String> {
    let value = duration(text)?;
    if value > MAX_EXECUTOR_REREGISTRATION_TIMEOUT {
        return Err(format!("'{text}' is longer than the maximum, 15secs"));
    }
    Ok(value)
}

impl Flags {
    /// The agent configuration these flags describe.
    pub fn config(&self) -> AgentConfig {
        AgentConfig {
            master: parse_master(&self.master).ok(),
            hostname: self.hostname.clone(),
            work_dir: self.work_dir.clone(),
            resources: self.resources.clone(),
            attributes: self.attributes.clone().unwrap_or_default(),
            launcher_dir: self.launcher_dir.clone(),
            executor_registration_timeout: self.executor_registration_timeout,
            executor_shutdown_grace_period: self.executor_shutdown_grace_period,
            status_update_retry_interval_min: self.status_update_retry_interval_min,
            status_update_retry_interval_max: self.status_update_retry_interval_max,
            registration_backoff_factor: self.registration_backoff_factor,
            isolation: isolation::IsolationFlags {
                isolation: self.isolation.clone(),
                cgroups_root: self.cgroups_root.clone(),
                cgroups_enable_cfs: self.cgroups_enable_cfs,
            },
            recover: self.recover,
            strict: self.strict,
            recovery_timeout: self.recovery_timeout,
            executor_reregistration_timeout: self.executor_reregistration_timeout,
            reconfiguration_policy: self.reconfiguration_policy,
            gc_delay: self.gc_delay,
            log_dir: self.log_dir.clone(),
            fetcher_cache_dir: self.fetcher_cache_dir.clone(),
            fetcher_cache_size: self.fetcher_cache_size,
            fetcher_ca_files: crate::fetcher::trust::ca_files_from(|name| std::env::var(name).ok()),
            credential: self.credential.clone(),
            http_auth: mesos::auth::http::HttpAuth {
                credentials: self.http_credentials.clone(),
                readonly: self.authenticate_http_readonly,
                readwrite: self.authenticate_http_readwrite,
                frameworks: false,
            },
            switch_user: self.switch_user,
            acls: self.acls.clone().unwrap_or_default(),
            ..AgentConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_in_both_forms() {
        let flags = Flags::try_parse_from([
            "mesos-agent",
            "--master=127.0.0.1:5050",
            "--port",
            "5099",
            "--resources=cpus:2;mem:512",
            "--attributes=rack:r1",
            "--executor_shutdown_grace_period=2secs",
        ])
        .unwrap();
        assert_eq!(flags.port, 5099);
        let config = flags.config();
        assert_eq!(config.master.unwrap().to_string(), "master@127.0.0.1:5050");
        assert_eq!(
            config.executor_shutdown_grace_period,
            Duration::from_secs(2)
        );
        assert_eq!(
            config.executor_registration_timeout,
            Duration::from_secs(60)
        );
        assert_eq!(config.attributes.text("rack"), Some("r1"));
        assert_eq!(config.isolation, isolation::IsolationFlags::default());
        let cgroups = Flags::try_parse_from([
            "mesos-agent",
            "--master=127.0.0.1:5050",
            "--isolation=cgroups/cpu,cgroups/mem",
            "--cgroups_root=test",
            "--cgroups_enable_cfs",
        ])
        .unwrap()
        .config();
        assert_eq!(cgroups.isolation.isolation, "cgroups/cpu,cgroups/mem");
        assert_eq!(cgroups.isolation.cgroups_root, "test");
        assert!(cgroups.isolation.cgroups_enable_cfs);
    }

    #[test]
    fn recovery_flags_default_as_mesos_and_parse() {
        let defaults = Flags::try_parse_from(["mesos-agent", "--master=127.0.0.1:5050"])
            .unwrap()
            .config();
        assert_eq!(defaults.recover, RecoverMode::Reconnect);
        assert!(defaults.strict);
        assert_eq!(defaults.recovery_timeout, Duration::from_secs(900));
        assert_eq!(
            defaults.executor_reregistration_timeout,
            Duration::from_secs(2)
        );
        assert_eq!(
            defaults.reconfiguration_policy,
            ReconfigurationPolicy::Equal
        );
        assert_eq!(defaults.gc_delay, Duration::from_secs(7 * 24 * 3600));
        let set = Flags::try_parse_from([
            "mesos-agent",
            "--master=127.0.0.1:5050",
            "--recover=cleanup",
            "--strict=false",
            "--recovery_timeout=1mins",
            "--executor_reregistration_timeout=5secs",
            "--reconfiguration_policy=additive",
            "--gc_delay=1hrs",
        ])
        .unwrap()
        .config();
        assert_eq!(set.recover, RecoverMode::Cleanup);
        assert!(!set.strict);
        assert_eq!(set.recovery_timeout, Duration::from_secs(60));
        assert_eq!(set.executor_reregistration_timeout, Duration::from_secs(5));
        assert_eq!(set.reconfiguration_policy, ReconfigurationPolicy::Additive);
        assert_eq!(set.gc_delay, Duration::from_secs(3600));
    }

    #[test]
    fn fetcher_cache_flags() {
        let defaults = Flags::try_parse_from(["mesos-agent", "--master=127.0.0.1:5050"])
            .unwrap()
            .config();
        assert_eq!(defaults.fetcher_cache_size, 2 << 30);
        assert_eq!(
            defaults.fetcher_cache_dir(),
            defaults.work_dir.join("fetch")
        );
        let set = Flags::try_parse_from([
            "mesos-agent",
            "--master=127.0.0.1:5050",
            "--fetcher_cache_dir=/var/cache/fetch",
            "--fetcher_cache_size=512MB",
        ])
        .unwrap()
        .config();
        assert_eq!(set.fetcher_cache_size, 512 << 20);
        assert_eq!(set.fetcher_cache_dir(), PathBuf::from("/var/cache/fetch"));
        assert_eq!(bytes("100"), Ok(100));
        let err = Flags::try_parse_from([
            "mesos-agent",
            "--master=127.0.0.1:5050",
            "--fetcher_cache_size=lots",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("--fetcher_cache_size"), "{err}");
    }

    #[test]
    fn zookeeper_masters_are_followed_by_the_binary() {
        let flags =
            Flags::try_parse_from(["mesos-agent", "--master=zk://h1:2181,h2:2181/mesos"]).unwrap();
        assert_eq!(flags.master, "zk://h1:2181,h2:2181/mesos");
        // The binary fills in the leader its detector finds.
        assert!(flags.config().master.is_none());
        let err = Flags::try_parse_from(["mesos-agent", "--master=zk://h1/mesos"]).unwrap_err();
        assert!(err.to_string().contains("--master"), "{err}");
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (args, flag) in [
            (vec!["--master=nonsense"], "--master"),
            (
                vec!["--master=127.0.0.1:5050", "--resources=cpus:x"],
                "--resources",
            ),
            (
                vec![
                    "--master=127.0.0.1:5050",
                    "--executor_registration_timeout=soon",
                ],
                "--executor_registration_timeout",
            ),
            (vec!["--master=127.0.0.1:5050", "--port=http"], "--port"),
            (
                vec!["--master=127.0.0.1:5050", "--recover=maybe"],
                "--recover",
            ),
            (
                vec!["--master=127.0.0.1:5050", "--strict=sometimes"],
                "--strict",
            ),
            (
                vec![
                    "--master=127.0.0.1:5050",
                    "--executor_reregistration_timeout=1mins",
                ],
                "--executor_reregistration_timeout",
            ),
            (
                vec!["--master=127.0.0.1:5050", "--reconfiguration_policy=any"],
                "--reconfiguration_policy",
            ),
            (
                vec!["--master=127.0.0.1:5050", "--gc_delay=later"],
                "--gc_delay",
            ),
        ] {
            let err =
                Flags::try_parse_from(std::iter::once("mesos-agent").chain(args)).unwrap_err();
            assert!(err.to_string().contains(flag), "{err}");
        }
    }
}
