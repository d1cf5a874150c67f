//! `HealthCheck`: how an executor checks that a task is healthy (Mesos's `HealthCheck`), with
//! Mesos's defaults and JSON shape.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::command::CommandInfo;

wire_enum! {
    /// The kind of a health check (`HealthCheck.Type`).
    #[derive(Default)]
    pub enum HealthCheckType {
        /// Not set (an error when the task is launched).
        #[default]
        Unknown = "UNKNOWN",
        /// Run a command in the task's sandbox: healthy when it exits 0.
        Command = "COMMAND",
        /// GET a URL on the task's host: healthy on a status in 200..=399.
        Http = "HTTP",
        /// Connect to a port on the task's host: healthy when the connection is accepted.
        Tcp = "TCP",
    }
}

/// An HTTP health check (`HealthCheck.HTTPCheckInfo`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpCheckInfo {
    /// `http` (default) or `https`.
    pub scheme: Option<String>,
    /// The port to GET on 127.0.0.1.
    pub port: u32,
    /// The path (default `/`).
    pub path: Option<String>,
}

/// A TCP health check (`HealthCheck.TCPCheckInfo`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpCheckInfo {
    /// The port to connect to on 127.0.0.1.
    pub port: u32,
}

/// A task's health check (Mesos's `HealthCheck`). Absent timing fields take Mesos's defaults
/// (see the accessors).
///
/// ```
/// use mesos::{HealthCheck, HealthCheckType};
/// let check: HealthCheck = serde_json::from_str(
///     r#"{"type":"HTTP","http":{"port":8080,"path":"/health"},"interval_seconds":2}"#,
/// ).unwrap();
/// assert_eq!(check.kind, HealthCheckType::Http);
/// assert_eq!(check.interval().as_secs(), 2);
/// assert_eq!(check.consecutive_failures(), 3);
/// ```
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthCheck {
    /// The kind of check.
    #[serde(rename = "type")]
    pub kind: HealthCheckType,
    /// Seconds to wait before the first check (default 15).
    pub delay_seconds: Option<f64>,
    /// Seconds between checks (default 10).
    pub interval_seconds: Option<f64>,
    /// Seconds a check may take (default 20; 0 for none).
    pub timeout_seconds: Option<f64>,
    /// Failures in a row, after the grace period, that kill the task (default 3).
    pub consecutive_failures: Option<u32>,
    /// Seconds from the task's start during which failures are ignored, until a first success
    /// (default 10).
    pub grace_period_seconds: Option<f64>,
    /// The command of a COMMAND check.
    pub command: Option<CommandInfo>,
    /// The HTTP check.
    pub http: Option<HttpCheckInfo>,
    /// The TCP check.
    pub tcp: Option<TcpCheckInfo>,
}

fn seconds(value: Option<f64>, default: f64) -> Duration {
    let value = value.unwrap_or(default);
    if value.is_finite() && value > 0.0 {
        Duration::from_secs_f64(value)
    } else {
        Duration::ZERO
    }
}

impl HealthCheck {
    /// The delay before the first check.
    pub fn delay(&self) -> Duration {
        seconds(self.delay_seconds, 15.0)
    }

    /// The time between checks.
    pub fn interval(&self) -> Duration {
        seconds(self.interval_seconds, 10.0)
    }

    /// How long one check may take (zero: no limit).
    pub fn timeout(&self) -> Duration {
        seconds(self.timeout_seconds, 20.0)
    }

    /// Failures in a row that kill the task.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures.unwrap_or(3)
    }

    /// The grace period from the task's start.
    pub fn grace_period(&self) -> Duration {
        seconds(self.grace_period_seconds, 10.0)
    }

    /// Why this check cannot run, if it cannot (a missing part for its type).
    pub fn validate(&self) -> Result<(), String> {
        match self.kind {
            HealthCheckType::Unknown => Err("health check type is not set".into()),
            HealthCheckType::Command
                if self
                    .command
                    .as_ref()
                    .and_then(|c| c.value.as_ref())
                    .is_none() =>
            {
                Err("COMMAND health check without a command".into())
            }
            HealthCheckType::Http
                if self
                    .http
                    .as_ref()
                    .is_none_or(|h| h.port == 0 || h.port > 65535) =>
            {
                Err("HTTP health check without a valid http.port".into())
            }
            HealthCheckType::Tcp
                if self
                    .tcp
                    .as_ref()
                    .is_none_or(|t| t.port == 0 || t.port > 65535) =>
            {
                Err("TCP health check without a valid tcp.port".into())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_defaults_and_validation() {
        let check = HealthCheck {
            kind: HealthCheckType::Tcp,
            tcp: Some(TcpCheckInfo { port: 80 }),
            ..HealthCheck::default()
        };
        assert_eq!(check.delay(), Duration::from_secs(15));
        assert_eq!(check.interval(), Duration::from_secs(10));
        assert_eq!(check.timeout(), Duration::from_secs(20));
        assert_eq!(check.grace_period(), Duration::from_secs(10));
        assert_eq!(check.consecutive_failures(), 3);
        assert!(check.validate().is_ok());
        assert!(HealthCheck::default().validate().is_err());
        let no_port = HealthCheck {
            kind: HealthCheckType::Http,
            ..HealthCheck::default()
        };
        assert!(no_port.validate().unwrap_err().contains("http.port"));
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["type"], "TCP");
        assert_eq!(json["tcp"]["port"], 80);
    }
}
