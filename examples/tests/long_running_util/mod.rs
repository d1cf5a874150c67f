//! What the service and cron frameworks' end-to-end tests share: a cluster tuned for quick
//! failure detection, the scheduler binary as a child process, and calls to its REST API.
#![allow(dead_code)]

use std::ffi::OsString;
use std::process::{Command, Stdio};
use std::time::Duration;

use mesos_local::LocalConfig;
use process::testing::{ChildGuard, Lines};

/// How long each step may take.
pub const WAIT: Duration = Duration::from_secs(60);

/// A cluster config with `agents` agents (the command executor built), quick allocation,
/// status update retries and agent loss detection.
pub fn quick_config(agents: usize) -> LocalConfig {
    process::testing::ensure_binary("agent", "mesos-executor");
    let mut config = LocalConfig::new(agents);
    config.master.allocation_interval = Duration::from_millis(50);
    config.master.agent_ping_timeout = Duration::from_millis(200);
    config.master.max_agent_ping_timeouts = 3;
    config.agent.status_update_retry_interval_min = Duration::from_millis(200);
    config.agent.registration_backoff_factor = Duration::from_millis(50);
    config.agent.executor_shutdown_grace_period = Duration::from_millis(500);
    config
}

/// Starts scheduler binary `binary` (a path) against `master` with an API on any port, a
/// failover timeout of 120 s and `args`; returns it and its API's base URL.
pub fn start_scheduler(binary: &str, master: &str, args: &[OsString]) -> (ChildGuard, String) {
    let mut child = Command::new(binary)
        .args([
            "--master",
            master,
            "--http_port",
            "0",
            "--failover_timeout",
            "120",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{binary} starts: {e}"));
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    let line = lines.expect_within("the API's address", WAIT);
    let url = line
        .rsplit(' ')
        .next()
        .expect("an address")
        .trim()
        .to_string();
    (ChildGuard::new(child), url)
}

/// An HTTP client with a 5 s timeout.
pub fn client() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(5))
        .build()
}

/// `method url` with an optional JSON body: the status and the body's text (any status).
pub fn call_text(method: &str, url: &str, body: Option<&serde_json::Value>) -> (u16, String) {
    let request = client().request(method, url);
    let result = match body {
        Some(body) => request
            .set("Content-Type", "application/json")
            .send_string(&body.to_string()),
        None => request.call(),
    };
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(err) => panic!("{method} {url}: {err}"),
    };
    (
        response.status(),
        response.into_string().unwrap_or_default(),
    )
}

/// As [`call_text`], the body parsed as JSON (a string when it is not JSON).
pub fn call_json(
    method: &str,
    url: &str,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let (status, text) = call_text(method, url, body);
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}
