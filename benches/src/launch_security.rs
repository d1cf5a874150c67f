//! `launch-bench --security off|on|both` (issue 14): the same launches with authentication and TLS
//! on, to measure what security costs.
//!
//! - `on`: [`SecureCluster::prepare`] generates a CA and a node certificate (rcgen, as the TLS
//!   tests do), writes a credentials file and an agent credential file, and turns mutual TLS on
//!   for the whole process through libprocess's `LIBPROCESS_SSL_*` variables, so the master, the
//!   agent, the scheduler driver and every command executor the agent starts (they inherit the
//!   environment) speak TLS only. [`SecureCluster::configure`] loads the files as the master's
//!   `--credentials`/`--authenticate_frameworks`/`--authenticate_agents`/`--http_credentials`/
//!   `--authenticate_http_*` and the agent's `--credential`/`--http_credentials` do; the framework
//!   authenticates with [`SecureCluster::driver_options`]. After the run
//!   [`SecureCluster::verify`] checks that it really was secure (both nodes serve `https`, a
//!   plaintext request to either is refused, the master counted the agent's and the framework's
//!   authentications) and prints `security=on tls=mutual auth_successes=<n>
//!   plaintext_refused=true`; if not, the bench fails instead of reporting an insecure run.
//! - `both`: [`alternate`] runs this binary once per mode per round, in fresh processes, off and
//!   on alternating (ABBA), prints each round's line and then the medians of each mode and the
//!   ratio `on / off`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use mesos::auth::{Credential, Credentials};
use mesos::scheduler::DriverOptions;
use mesos_local::{LocalCluster, LocalConfig};
use process::testing::certs::TestCa;
use process::transport::tls::vars;

/// The framework's principal in the secure mode.
pub const FRAMEWORK_PRINCIPAL: &str = "launch-bench";
/// The agent's principal in the secure mode.
pub const AGENT_PRINCIPAL: &str = "agent";
/// An operator principal for HTTP Basic authentication.
pub const OPERATOR_PRINCIPAL: &str = "ops";

/// `--security`: whether the cluster runs with authentication and TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// Plaintext, no authentication (as the environment says for TLS).
    Off,
    /// Mutual TLS everywhere, authenticated frameworks and agents, authenticated HTTP.
    On,
    /// Alternating off and on rounds in fresh processes; prints both and the ratio.
    Both,
}

impl Security {
    /// The flag's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Off => "off",
            Security::On => "on",
            Security::Both => "both",
        }
    }
}

/// Why the secure mode could not be set up, or why a run was not secure after all.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// A certificate or credentials file could not be written.
    #[error("cannot write the security files in {dir}: {source}")]
    Files {
        /// The scratch directory.
        dir: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A credentials file this module wrote does not load.
    #[error("credentials: {0}")]
    Credentials(#[from] mesos::auth::CredentialsError),
    /// The run was not secure (TLS off, plaintext answered, nobody authenticated).
    #[error("the secure run was not secure: {0}")]
    NotSecure(String),
    /// A round of `--security both` failed.
    #[error("round {round} ({mode}): {reason}")]
    Round {
        /// 1-based.
        round: usize,
        /// `off` or `on`.
        mode: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// The certificates and credential files of one secure run; removed on drop.
pub struct SecureCluster {
    dir: PathBuf,
    credentials: PathBuf,
    agent_credential: PathBuf,
    framework: Credential,
}

fn secret() -> String {
    mesos::Uuid::random().to_string()
}

impl SecureCluster {
    /// Writes a CA, a node certificate for 127.0.0.1, `credentials.json` (framework, agent and
    /// operator principals with random secrets) and `agent-credential` (text form) to a scratch
    /// directory, and sets `LIBPROCESS_SSL_ENABLED`, `_CERT_FILE`, `_KEY_FILE`, `_CA_FILE`,
    /// `_VERIFY_CERT` and `_REQUIRE_CERT` (removing `_SUPPORT_DOWNGRADE` and `_CA_DIR`) in this
    /// process's environment.
    ///
    /// Call it before any thread starts (it changes the environment) and before the cluster and
    /// driver create their runtimes (they read the variables then).
    ///
    /// # Errors
    /// [`SecurityError::Files`] when the scratch directory cannot be written.
    pub fn prepare() -> Result<SecureCluster, SecurityError> {
        let dir = std::env::temp_dir().join(format!(
            "launch-bench-security-{}-{}",
            std::process::id(),
            mesos::Uuid::random()
        ));
        let files = |source| SecurityError::Files {
            dir: dir.clone(),
            source,
        };
        let ca = TestCa::new(&dir).map_err(files)?;
        let node = ca
            .issue("node", &["127.0.0.1", "localhost"])
            .map_err(files)?;
        let framework = Credential::new(FRAMEWORK_PRINCIPAL, secret());
        let agent = Credential::new(AGENT_PRINCIPAL, secret());
        let operator = Credential::new(OPERATOR_PRINCIPAL, secret());
        let entries: Vec<serde_json::Value> = [&framework, &agent, &operator]
            .iter()
            .map(|c| serde_json::json!({"principal": c.principal, "secret": c.secret}))
            .collect();
        let json = serde_json::json!({ "credentials": entries });
        let credentials = dir.join("credentials.json");
        std::fs::write(&credentials, json.to_string()).map_err(files)?;
        let agent_credential = dir.join("agent-credential");
        std::fs::write(
            &agent_credential,
            format!("{} {}\n", agent.principal, agent.secret),
        )
        .map_err(files)?;
        for (name, value) in node.env() {
            std::env::set_var(name, value);
        }
        std::env::set_var(vars::CA_FILE, ca.ca_file());
        std::env::set_var(vars::VERIFY_CERT, "true");
        std::env::set_var(vars::REQUIRE_CERT, "true");
        std::env::remove_var(vars::SUPPORT_DOWNGRADE);
        std::env::remove_var(vars::CA_DIR);
        Ok(SecureCluster {
            dir,
            credentials,
            agent_credential,
            framework,
        })
    }

    /// Authentication on the master (frameworks, agents, every HTTP realm) and the agent (its
    /// credential, HTTP), from the files [`SecureCluster::prepare`] wrote.
    ///
    /// # Errors
    /// [`SecurityError::Credentials`] if a file does not load.
    pub fn configure(&self, config: &mut LocalConfig) -> Result<(), SecurityError> {
        let credentials = Credentials::load(&self.credentials)?;
        let auth = &mut config.master.auth;
        auth.credentials = Some(credentials.clone());
        auth.authenticate_frameworks = true;
        auth.authenticate_agents = true;
        auth.http.credentials = Some(credentials.clone());
        auth.http.readonly = true;
        auth.http.readwrite = true;
        auth.http.frameworks = true;
        config.agent.credential = Some(Credential::load(&self.agent_credential)?);
        config.agent.http_auth.credentials = Some(credentials);
        config.agent.http_auth.readonly = true;
        config.agent.http_auth.readwrite = true;
        Ok(())
    }

    /// The driver authenticates as [`FRAMEWORK_PRINCIPAL`] (its `FrameworkInfo.principal`).
    pub fn driver_options(&self) -> DriverOptions {
        DriverOptions::default().with_credential(self.framework.clone())
    }

    /// Checks that the run was secure, while the cluster still runs: the master and the agent
    /// serve `https`, a plaintext HTTP request to either gets no answer, and the master counted
    /// at least two successful authentications (the agent and the framework). Returns the
    /// `key=value` line to print.
    ///
    /// # Errors
    /// [`SecurityError::NotSecure`] naming the check that failed.
    pub fn verify(&self, cluster: &LocalCluster) -> Result<String, SecurityError> {
        let not_secure = |reason: String| Err(SecurityError::NotSecure(reason));
        let master = cluster
            .master()
            .ok_or_else(|| SecurityError::NotSecure("the master is gone".into()))?;
        let agent = cluster
            .agent(0)
            .ok_or_else(|| SecurityError::NotSecure("the agent is gone".into()))?;
        if cluster.http_scheme() != "https" {
            return not_secure("the master's runtime is not on TLS".into());
        }
        for (node, addr) in [
            ("master", master.pid().addr()),
            ("agent", agent.pid().addr()),
        ] {
            if let Some(answer) = plaintext_answer(addr) {
                return not_secure(format!(
                    "the {node} at {addr} answered plaintext HTTP: {answer:?}"
                ));
            }
        }
        let metrics = master.metrics();
        let count = |name: &str| metrics[name].as_f64().unwrap_or(0.0);
        let successes = count("master/authentication_successes");
        if successes < 2.0 {
            return not_secure(format!(
                "the master counted {successes} authentications (the agent and the framework: 2)"
            ));
        }
        Ok(format!(
            "security=on tls=mutual auth_successes={successes} plaintext_refused=true"
        ))
    }
}

impl Drop for SecureCluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a plaintext `GET /health` to `addr` got back, if anything (a TLS-only port closes the
/// connection).
fn plaintext_answer(addr: SocketAddr) -> Option<String> {
    let within = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, within).ok()?;
    stream.set_read_timeout(Some(within)).ok()?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer.starts_with("HTTP/").then_some(answer)
}

/// The command line without `--security`/`--rounds` (either form), for the rounds' children.
pub fn args_without_mode(args: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if skip_value {
            skip_value = false;
        } else if arg == "--security" || arg == "--rounds" {
            skip_value = true;
        } else if !(arg.starts_with("--security=") || arg.starts_with("--rounds=")) {
            kept.push(arg.clone());
        }
    }
    kept
}

/// Which numbers of a round are summarized (medians) and compared (`cpu_s`: the round's user +
/// system CPU time, its executors included, as the round itself prints it).
const MEASURED: [&str; 5] = [
    "seconds",
    "tasks_per_s",
    "launch_p50_ms",
    "launch_p99_ms",
    "cpu_s",
];

/// `--security both`: `rounds` rounds of `off` and `on` (ABBA order), each a fresh run of this
/// binary with `args` (the command line without the program, `--security` and `--rounds`);
/// prints each round's `key=value` line, then one `security=<mode> rounds=<n> <key>_median=...`
/// line per mode and `ratio_seconds=<on/off> ratio_tasks_per_s=<on/off>
/// ratio_launch_p50_ms=... ratio_launch_p99_ms=... ratio_cpu_s=...` (medians over medians;
/// `cpu_s` is the round's user + system CPU time, its executors included).
///
/// # Errors
/// [`SecurityError::Round`] when a round fails or prints no numbers.
pub fn alternate(rounds: usize, args: &[String]) -> Result<(), SecurityError> {
    let exe = std::env::current_exe().map_err(|e| SecurityError::Round {
        round: 0,
        mode: "off",
        reason: format!("cannot find this binary: {e}"),
    })?;
    let mut samples: [Vec<Vec<f64>>; 2] = Default::default();
    for round in 1..=rounds {
        let order = if round % 2 == 1 {
            [Security::Off, Security::On]
        } else {
            [Security::On, Security::Off]
        };
        for mode in order {
            let fail = |reason: String| SecurityError::Round {
                round,
                mode: mode.as_str(),
                reason,
            };
            let mut command = Command::new(&exe);
            for var in vars::ALL {
                command.env_remove(var);
            }
            let output = command
                .args(args)
                .args(["--security", mode.as_str()])
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| fail(format!("cannot start {}: {e}", exe.display())))?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                return Err(fail(format!("exited with {}: {stdout}", output.status)));
            }
            // Every line's pairs (a later line's value wins).
            let pairs = crate::macro_bench::report::parse_pairs(&stdout);
            let value = |key: &str| pairs.get(key).and_then(|v| v.parse::<f64>().ok());
            let numbers: Vec<f64> = MEASURED
                .iter()
                .map(|key| value(key).ok_or_else(|| fail(format!("no {key}= in {stdout:?}"))))
                .collect::<Result<_, _>>()?;
            let line: Vec<&str> = stdout.lines().map(str::trim).collect();
            println!("round={round} {}", line.join(" "));
            samples[usize::from(mode == Security::On)].push(numbers);
        }
    }
    let medians: Vec<Vec<f64>> = samples
        .iter()
        .map(|runs| {
            (0..MEASURED.len())
                .map(|i| {
                    let mut column: Vec<f64> = runs.iter().map(|run| run[i]).collect();
                    crate::actors::median(&mut column)
                })
                .collect()
        })
        .collect();
    for (mode, medians) in [Security::Off, Security::On].iter().zip(&medians) {
        let fields: Vec<String> = MEASURED
            .iter()
            .zip(medians)
            .map(|(key, m)| format!("{key}_median={m:.3}"))
            .collect();
        println!(
            "security={} rounds={rounds} {}",
            mode.as_str(),
            fields.join(" ")
        );
    }
    let ratios: Vec<String> = MEASURED
        .iter()
        .enumerate()
        .map(|(i, key)| format!("ratio_{key}={:.3}", medians[1][i] / medians[0][i]))
        .collect();
    println!("{}", ratios.join(" "));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::args_without_mode;

    #[test]
    fn the_mode_flags_are_left_out_of_a_rounds_command_line() {
        let args: Vec<String> = [
            "--tasks",
            "5",
            "--security",
            "both",
            "--rounds=3",
            "--role",
            "r",
            "--security=both",
            "--rounds",
            "2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            args_without_mode(&args),
            vec!["--tasks", "5", "--role", "r"]
        );
    }
}
