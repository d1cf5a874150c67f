//! TLS on every port (issue 14), end to end: the `mesos-master`, `mesos-agent`, `mesos-execute`
//! and `mesos-executor` binaries with libprocess's `LIBPROCESS_SSL_*` variables and certificates
//! generated here; `curl` over HTTPS to the master; mutual TLS refusing strangers; downgrade
//! letting a plaintext agent in; unusable certificate files stopping the master.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use process::testing::certs::{self, CertFiles, TestCa};
use process::testing::{holds_within, wait_until, BoundedCommand, ChildGuard, Lines};
use util::*;

/// The certificates of one test, in a scratch directory.
struct Pki {
    dir: PathBuf,
    ca: TestCa,
    node: CertFiles,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("sec-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ca = TestCa::new(&dir).unwrap();
        // One certificate for every node of this one-machine cluster: its address is 127.0.0.1.
        let node = ca.issue("node", &["127.0.0.1", "localhost"]).unwrap();
        Pki { dir, ca, node }
    }

    /// TLS on, verifying peers against the CA, and requiring client certificates (mutual TLS).
    fn mutual_env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.node.env();
        env.push((
            "LIBPROCESS_SSL_CA_FILE",
            self.ca.ca_file().display().to_string(),
        ));
        env.push(("LIBPROCESS_SSL_VERIFY_CERT", "true".into()));
        env.push(("LIBPROCESS_SSL_REQUIRE_CERT", "true".into()));
        env
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A command with no `LIBPROCESS_SSL_*` from the test's own environment, then `env`.
fn command(bin: &Path, env: &[(&'static str, String)]) -> Command {
    let mut command = Command::new(bin);
    for var in process::transport::tls::vars::ALL {
        command.env_remove(var);
    }
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    command
}

/// A `mesos-master` on a free port; returns it, its `ip:port` and its banner.
fn start_master(env: &[(&'static str, String)]) -> (ChildGuard, String, String) {
    let bin = ensure_binary("master", "mesos-master");
    let mut child = command(&bin, env)
        .args(["--ip=127.0.0.1", "--port=0", "--allocation_interval=50ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mesos-master starts");
    let lines = Lines::new(child.stdout.take().unwrap());
    let banner = lines.expect_within("the master's banner", WAIT);
    let addr = banner
        .split("master@")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_string();
    (ChildGuard::new(child), addr, banner)
}

fn start_agent(master: &str, work_dir: &Path, env: &[(&'static str, String)]) -> ChildGuard {
    let bin = ensure_binary("agent", "mesos-agent");
    ensure_command_executor();
    let child = command(&bin, env)
        .arg(format!("--master={master}"))
        .args([
            "--port=0",
            "--resources=cpus:2;mem:1024",
            "--registration_backoff_factor=50ms",
        ])
        .arg(format!("--work_dir={}", work_dir.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mesos-agent starts");
    ChildGuard::collecting(child)
}

/// `curl` with `args`: its exit code and output.
fn curl(args: &[String]) -> (Option<i32>, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output_within("curl", WAIT);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// One metric over HTTPS with the node's certificate (mutual TLS), `-1` when unreadable.
fn https_metric(pki: &Pki, addr: &str, name: &str) -> f64 {
    let (code, body) = curl(&[
        "--cacert".into(),
        pki.ca.ca_file().display().to_string(),
        "--cert".into(),
        pki.node.cert.display().to_string(),
        "--key".into(),
        pki.node.key.display().to_string(),
        format!("https://{addr}/metrics/snapshot"),
    ]);
    if code != Some(0) {
        return -1.0;
    }
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v[name].as_f64())
        .unwrap_or(-1.0)
}

fn execute(master: &str, env: &[(&'static str, String)]) -> std::process::Output {
    command(Path::new(env!("CARGO_BIN_EXE_mesos-execute")), env)
        .args([
            "--master",
            master,
            "--name",
            "tls-task",
            "--command",
            "echo over tls",
        ])
        .args(["--resources", "cpus:0.1;mem:32"])
        .output_within("mesos-execute", WAIT * 2)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Master, agent, `mesos-execute` and the command executor all on mutual TLS: the task finishes;
/// `curl --cacert` reads the master's state over HTTPS; curl without a client certificate, plain
/// HTTP, and an agent with a self-signed or an expired certificate are refused while the master
/// keeps serving.
#[test]
fn a_task_runs_end_to_end_over_mutual_tls() {
    let pki = Pki::new("mutual");
    let env = pki.mutual_env();
    let (_master, addr, banner) = start_master(&env);
    assert!(banner.contains("https://"), "{banner}");
    let _agent = start_agent(&addr, &pki.dir.join("agent-work"), &env);
    wait_until("the agent registers over TLS", WAIT, || {
        https_metric(&pki, &addr, "master/slaves_active") == 1.0
    });

    let out = execute(&addr, &env);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("TASK_FINISHED"),
        "{}",
        text(&out.stdout)
    );

    // The issue's own command, plus the client certificate mutual TLS asks for.
    let (code, state) = curl(&[
        "--cacert".into(),
        pki.ca.ca_file().display().to_string(),
        "--cert".into(),
        pki.node.cert.display().to_string(),
        "--key".into(),
        pki.node.key.display().to_string(),
        format!("https://{addr}/master/state"),
    ]);
    assert_eq!(code, Some(0), "{state}");
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["activated_slaves"].as_f64(), Some(1.0), "{state}");

    // No client certificate: the handshake is refused.
    let (code, output) = curl(&[
        "--cacert".into(),
        pki.ca.ca_file().display().to_string(),
        format!("https://{addr}/master/state"),
    ]);
    assert_ne!(code, Some(0), "{output}");
    // Plain HTTP on the TLS port: closed without an answer.
    let (code, output) = curl(&[format!("http://{addr}/master/state")]);
    assert_ne!(code, Some(0), "{output}");
    assert!(!output.contains("slaves"), "{output}");

    // Agents whose certificate the master does not trust never register.
    let stranger = certs::self_signed(&pki.dir, "stranger", &["127.0.0.1"]).unwrap();
    let expired = pki.ca.issue_expired("expired", &["127.0.0.1"]).unwrap();
    let mut refused = Vec::new();
    for (name, files) in [("stranger", &stranger), ("expired", &expired)] {
        let mut bad_env = files.env();
        bad_env.push((
            "LIBPROCESS_SSL_CA_FILE",
            pki.ca.ca_file().display().to_string(),
        ));
        refused.push(start_agent(&addr, &pki.dir.join(name), &bad_env));
    }
    assert!(
        !holds_within(Duration::from_secs(3), || {
            https_metric(&pki, &addr, "master/slaves_active") > 1.0
        }),
        "an agent with an untrusted certificate registered"
    );
    assert_eq!(https_metric(&pki, &addr, "master/slaves_active"), 1.0);
    let again = execute(&addr, &env);
    assert!(again.status.success(), "{}", text(&again.stderr));
}

/// With LIBPROCESS_SSL_SUPPORT_DOWNGRADE the TLS master also takes a plaintext agent and
/// plaintext HTTP (the first byte decides); a task runs on the plaintext agent.
#[test]
fn downgrade_lets_a_plaintext_agent_join_a_tls_master() {
    let pki = Pki::new("downgrade");
    let mut env = pki.node.env();
    env.push(("LIBPROCESS_SSL_SUPPORT_DOWNGRADE", "true".into()));
    let (_master, addr, _) = start_master(&env);
    let _agent = start_agent(&addr, &pki.dir.join("agent-work"), &[]);
    let plain_metric = || {
        let (code, body) = curl(&[format!("http://{addr}/metrics/snapshot")]);
        if code != Some(0) {
            return -1.0;
        }
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["master/slaves_active"].as_f64())
            .unwrap_or(-1.0)
    };
    wait_until("the plaintext agent registers", WAIT, || {
        plain_metric() == 1.0
    });
    // HTTPS works too.
    let (code, output) = curl(&[
        "--cacert".into(),
        pki.ca.ca_file().display().to_string(),
        format!("https://{addr}/master/state"),
    ]);
    assert_eq!(code, Some(0), "{output}");
    // A TLS framework runs its task on the plaintext agent.
    let out = execute(&addr, &env);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    // Without downgrade, the same plaintext agent is refused.
    let strict = Pki::new("strict");
    let (_strict_master, strict_addr, _) = start_master(&strict.node.env());
    let _plain_agent = start_agent(&strict_addr, &strict.dir.join("agent-work"), &[]);
    assert!(
        !holds_within(Duration::from_secs(3), || {
            let (code, body) = curl(&[
                "--cacert".into(),
                strict.ca.ca_file().display().to_string(),
                format!("https://{strict_addr}/metrics/snapshot"),
            ]);
            code == Some(0) && body.contains("\"master/slaves_active\":1")
        }),
        "a plaintext agent registered with a TLS master without downgrade"
    );
}

/// Unusable TLS settings stop the master at once, naming the file or variable.
#[test]
fn master_refuses_to_start_with_unusable_tls_files() {
    let pki = Pki::new("badfiles");
    let bin = ensure_binary("master", "mesos-master");
    let garbage = pki.dir.join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n").unwrap();
    let missing = pki.dir.join("missing.key");
    let cases: Vec<(Vec<(&'static str, String)>, String)> = vec![
        (
            vec![
                ("LIBPROCESS_SSL_ENABLED", "true".into()),
                ("LIBPROCESS_SSL_CERT_FILE", garbage.display().to_string()),
                (
                    "LIBPROCESS_SSL_KEY_FILE",
                    pki.node.key.display().to_string(),
                ),
            ],
            garbage.display().to_string(),
        ),
        (
            vec![
                ("LIBPROCESS_SSL_ENABLED", "true".into()),
                (
                    "LIBPROCESS_SSL_CERT_FILE",
                    pki.node.cert.display().to_string(),
                ),
                ("LIBPROCESS_SSL_KEY_FILE", missing.display().to_string()),
            ],
            missing.display().to_string(),
        ),
        (
            vec![("LIBPROCESS_SSL_ENABLED", "true".into())],
            "LIBPROCESS_SSL_CERT_FILE".into(),
        ),
        (
            vec![("LIBPROCESS_SSL_ENABLED", "sure".into())],
            "LIBPROCESS_SSL_ENABLED".into(),
        ),
    ];
    for (env, named) in cases {
        let out = command(&bin, &env)
            .args(["--ip=127.0.0.1", "--port=0"])
            .output_within("mesos-master with bad TLS settings", WAIT);
        assert_eq!(out.status.code(), Some(1), "{env:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&named), "{stderr} should name {named}");
    }
}
