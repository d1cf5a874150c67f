//! Marathon's app definition (`/v2/apps` JSON), as its clients send and expect it: camelCase
//! field names, Marathon's defaults, and nothing Marathon would not say.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One port an app's tasks get (`portDefinitions[]`); port 0 means "any offered port".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PortDefinition {
    /// The port (0: any).
    pub port: u64,
    /// `tcp`.
    pub protocol: String,
    /// A name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// A URI to fetch (`fetch[]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FetchUri {
    /// The URI.
    pub uri: String,
    /// Extract archives (Marathon's default: true).
    #[serde(default = "yes")]
    pub extract: bool,
    /// Make it executable.
    pub executable: bool,
    /// Use the agent's fetcher cache.
    pub cache: bool,
    /// Rename it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_path: Option<String>,
}

fn yes() -> bool {
    true
}

/// A Marathon health check (`healthChecks[]`), run by the tasks' executor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppHealthCheck {
    /// HTTP, HTTPS, TCP, COMMAND (and the MESOS_ forms).
    pub protocol: String,
    /// HTTP path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Which of the task's ports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_index: Option<usize>,
    /// A fixed port instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u64>,
    /// The command of a COMMAND check: `{"value": "..."}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandCheck>,
    /// Failures ignored for this long from the start, until the first success.
    pub grace_period_seconds: f64,
    /// Between checks.
    pub interval_seconds: f64,
    /// One check's limit.
    pub timeout_seconds: f64,
    /// Failures in a row that kill the task (0: never).
    pub max_consecutive_failures: u32,
    /// Before the first check.
    pub delay_seconds: f64,
    /// Whether 1xx answers are ignored.
    pub ignore_http1xx: bool,
}

/// A COMMAND health check's command.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandCheck {
    /// The shell command.
    pub value: String,
}

impl Default for AppHealthCheck {
    fn default() -> AppHealthCheck {
        AppHealthCheck {
            protocol: "HTTP".into(),
            path: None,
            port_index: None,
            port: None,
            command: None,
            grace_period_seconds: 300.0,
            interval_seconds: 60.0,
            timeout_seconds: 20.0,
            max_consecutive_failures: 3,
            delay_seconds: 15.0,
            ignore_http1xx: false,
        }
    }
}

/// How a new version replaces the old (`upgradeStrategy`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UpgradeStrategy {
    /// The share of `instances` that must stay healthy during a deployment.
    pub minimum_health_capacity: f64,
    /// The share of `instances` that may run on top of them during a deployment.
    pub maximum_over_capacity: f64,
}

impl Default for UpgradeStrategy {
    fn default() -> UpgradeStrategy {
        UpgradeStrategy {
            minimum_health_capacity: 1.0,
            maximum_over_capacity: 1.0,
        }
    }
}

/// A Marathon app (`/v2/apps` item), as defined by its user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppDefinition {
    /// `/group/name`.
    pub id: String,
    /// A shell command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    /// An argv (instead of `cmd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// How many tasks to keep running.
    pub instances: u32,
    /// Per task.
    pub cpus: f64,
    /// Per task, MB.
    pub mem: f64,
    /// Per task, MB.
    pub disk: f64,
    /// Marathon's older form of `portDefinitions` (read only).
    #[serde(skip_serializing)]
    pub ports: Option<Vec<u64>>,
    /// The ports each task gets.
    pub port_definitions: Vec<PortDefinition>,
    /// Environment variables.
    pub env: BTreeMap<String, String>,
    /// Marathon's older form of `fetch` (read only).
    #[serde(skip_serializing)]
    pub uris: Option<Vec<String>>,
    /// URIs fetched into each task's sandbox.
    pub fetch: Vec<FetchUri>,
    /// Health checks (the first is run by the executor).
    pub health_checks: Vec<AppHealthCheck>,
    /// Placement: `[field, operator, value?]`.
    pub constraints: Vec<Vec<String>>,
    /// Rolling restart bounds.
    pub upgrade_strategy: UpgradeStrategy,
    /// The first delay before relaunching after a failure.
    pub backoff_seconds: f64,
    /// How the delay grows with each failure.
    pub backoff_factor: f64,
    /// The longest delay.
    pub max_launch_delay_seconds: f64,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// The version (a timestamp), set by the scheduler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Default for AppDefinition {
    fn default() -> AppDefinition {
        AppDefinition {
            id: String::new(),
            cmd: None,
            args: None,
            instances: 1,
            cpus: 1.0,
            mem: 128.0,
            disk: 0.0,
            ports: None,
            port_definitions: Vec::new(),
            env: BTreeMap::new(),
            uris: None,
            fetch: Vec::new(),
            health_checks: Vec::new(),
            constraints: Vec::new(),
            upgrade_strategy: UpgradeStrategy::default(),
            backoff_seconds: 1.0,
            backoff_factor: 1.15,
            max_launch_delay_seconds: 3600.0,
            labels: BTreeMap::new(),
            version: None,
        }
    }
}

/// Why an app definition is refused (HTTP 422, Marathon's shape).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct InvalidApp {
    /// The field (`/id`, `/cmd`...).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn invalid(path: &str, message: &str) -> InvalidApp {
    InvalidApp {
        path: path.into(),
        message: message.into(),
    }
}

/// Makes an app id absolute (`name` → `/name`) and checks its segments.
///
/// # Errors
/// An id with an empty or bad segment.
pub fn normalize_id(id: &str) -> Result<String, InvalidApp> {
    let trimmed = id.trim_matches('/');
    if trimmed.is_empty() {
        return Err(invalid("/id", "must not be empty"));
    }
    for segment in trimmed.split('/') {
        let ok = !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && !segment.starts_with('-')
            && !segment.ends_with('-');
        if !ok && segment != "." && segment != ".." {
            return Err(invalid(
                "/id",
                "must be fully qualified path segments of lower-case letters, digits, '-' and '.'",
            ));
        }
        if segment == "." || segment == ".." {
            return Err(invalid("/id", "relative segments are not allowed"));
        }
    }
    Ok(format!("/{trimmed}"))
}

impl AppDefinition {
    /// Normalizes the definition (absolute id, old `ports`/`uris` forms folded in) and checks it.
    ///
    /// # Errors
    /// [`InvalidApp`] naming the bad field.
    pub fn normalized(mut self) -> Result<AppDefinition, InvalidApp> {
        self.id = normalize_id(&self.id)?;
        if let Some(ports) = self.ports.take() {
            if self.port_definitions.is_empty() {
                self.port_definitions = ports
                    .into_iter()
                    .map(|port| PortDefinition {
                        port,
                        protocol: "tcp".into(),
                        ..PortDefinition::default()
                    })
                    .collect();
            }
        }
        if let Some(uris) = self.uris.take() {
            if self.fetch.is_empty() {
                self.fetch = uris
                    .into_iter()
                    .map(|uri| FetchUri {
                        uri,
                        extract: true,
                        ..FetchUri::default()
                    })
                    .collect();
            }
        }
        for port in &mut self.port_definitions {
            if port.protocol.is_empty() {
                port.protocol = "tcp".into();
            }
        }
        let has_cmd = self.cmd.as_ref().is_some_and(|c| !c.trim().is_empty());
        let has_args = self.args.as_ref().is_some_and(|a| !a.is_empty());
        if has_cmd == has_args {
            return Err(invalid("/cmd", "exactly one of cmd or args must be set"));
        }
        if !(self.cpus >= 0.0 && self.mem >= 0.0 && self.disk >= 0.0) {
            return Err(invalid("/cpus", "resources must not be negative"));
        }
        let strategy = self.upgrade_strategy;
        if !(0.0..=1.0).contains(&strategy.minimum_health_capacity)
            || !(0.0..=1.0).contains(&strategy.maximum_over_capacity)
        {
            return Err(invalid(
                "/upgradeStrategy",
                "capacities must be between 0 and 1",
            ));
        }
        if strategy.minimum_health_capacity == 1.0 && strategy.maximum_over_capacity == 0.0 {
            return Err(invalid(
                "/upgradeStrategy",
                "minimumHealthCapacity 1 with maximumOverCapacity 0 cannot make progress",
            ));
        }
        if self.backoff_seconds < 0.0 || self.backoff_factor < 1.0 {
            return Err(invalid(
                "/backoffFactor",
                "backoffSeconds must be >= 0 and backoffFactor >= 1",
            ));
        }
        for (i, check) in self.health_checks.iter().enumerate() {
            let protocol = check.protocol.trim_start_matches("MESOS_");
            let ok = match protocol {
                "HTTP" | "HTTPS" | "TCP" => {
                    check.port.is_some()
                        || check.port_index.unwrap_or(0) < self.port_definitions.len()
                }
                "COMMAND" => check.command.is_some(),
                _ => false,
            };
            if !ok {
                return Err(invalid(
                    &format!("/healthChecks({i})"),
                    "needs a known protocol and, for HTTP/TCP, a port or a portIndex within portDefinitions",
                ));
            }
        }
        for (i, constraint) in self.constraints.iter().enumerate() {
            crate::marathon::constraints::Constraint::parse(constraint)
                .map_err(|message| invalid(&format!("/constraints({i})"), &message))?;
        }
        Ok(self)
    }

    /// Whether `other` differs from this definition only in `instances` (a scale, not a new
    /// version of the tasks).
    pub fn same_tasks(&self, other: &AppDefinition) -> bool {
        let strip = |d: &AppDefinition| AppDefinition {
            instances: 0,
            version: None,
            ..d.clone()
        };
        strip(self) == strip(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marathon_json_with_defaults() {
        let app: AppDefinition = serde_json::from_str(
            r#"{"id":"web/front","cmd":"python3 -m http.server $PORT0","instances":3,
                "ports":[0],"uris":["http://x/app.tgz"],
                "healthChecks":[{"protocol":"HTTP","path":"/","portIndex":0}]}"#,
        )
        .unwrap();
        let app = app.normalized().unwrap();
        assert_eq!(app.id, "/web/front");
        assert_eq!(app.port_definitions.len(), 1);
        assert_eq!(app.fetch[0].uri, "http://x/app.tgz");
        assert!(app.fetch[0].extract);
        assert_eq!(app.health_checks[0].grace_period_seconds, 300.0);
        assert_eq!(app.upgrade_strategy.minimum_health_capacity, 1.0);
        let json = serde_json::to_value(&app).unwrap();
        assert!(json.get("ports").is_none() && json.get("uris").is_none());
        assert_eq!(json["portDefinitions"][0]["protocol"], "tcp");
        assert_eq!(json["backoffFactor"], 1.15);
    }

    #[test]
    fn bad_definitions_name_the_field() {
        let bad = |json: &str| {
            serde_json::from_str::<AppDefinition>(json)
                .unwrap()
                .normalized()
                .unwrap_err()
                .path
        };
        assert_eq!(bad(r#"{"id":"Bad_Name","cmd":"x"}"#), "/id");
        assert_eq!(bad(r#"{"id":"a"}"#), "/cmd");
        assert_eq!(
            bad(
                r#"{"id":"a","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":1,"maximumOverCapacity":0}}"#
            ),
            "/upgradeStrategy"
        );
        assert_eq!(
            bad(r#"{"id":"a","cmd":"x","healthChecks":[{"protocol":"HTTP","portIndex":0}]}"#),
            "/healthChecks(0)"
        );
        assert_eq!(
            bad(r#"{"id":"a","cmd":"x","constraints":[["hostname","NEAR"]]}"#),
            "/constraints(0)"
        );
    }
}
