//! A Chronos job as its clients post and read it (`/scheduler/iso8601`, `/scheduler/dependency`,
//! `/scheduler/jobs`): Chronos's camelCase fields and defaults.

use serde::{Deserialize, Serialize};

/// An environment variable of a job.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvironmentVariable {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
}

/// A Chronos job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Job {
    /// Its name (unique).
    pub name: String,
    /// The shell command.
    pub command: String,
    /// `R[n]/<start>/<period>` (empty for a dependent job).
    pub schedule: String,
    /// The time zone of the schedule (only UTC offsets in the start are honoured).
    pub schedule_time_zone: String,
    /// How late a run may start (ISO 8601 duration) before it is skipped.
    pub epsilon: String,
    /// Per run.
    pub cpus: f64,
    /// Per run, MB.
    pub mem: f64,
    /// Per run, MB.
    pub disk: f64,
    /// Retries of a failed run.
    pub retries: u32,
    /// Who to tell.
    pub owner: String,
    /// The owner's name.
    pub owner_name: String,
    /// A description.
    pub description: String,
    /// Not scheduled while true.
    pub disabled: bool,
    /// URIs fetched into the run's sandbox.
    pub uris: Vec<String>,
    /// Environment variables.
    pub environment_variables: Vec<EnvironmentVariable>,
    /// Jobs that must all succeed before this one runs (a dependent job).
    pub parents: Vec<String>,
    /// Run with `sh -c` (else `command` with `arguments`).
    pub shell: bool,
    /// Arguments when `shell` is false.
    pub arguments: Vec<String>,
    /// Successful runs.
    pub success_count: u64,
    /// Failed runs (after their retries).
    pub error_count: u64,
    /// Failures since the last success.
    pub errors_since_last_success: u64,
    /// When it last succeeded (ISO 8601, empty if never).
    pub last_success: String,
    /// When it last failed (ISO 8601, empty if never).
    pub last_error: String,
}

impl Default for Job {
    fn default() -> Job {
        Job {
            name: String::new(),
            command: String::new(),
            schedule: String::new(),
            schedule_time_zone: String::new(),
            epsilon: "PT60S".into(),
            cpus: 0.1,
            mem: 128.0,
            disk: 256.0,
            retries: 2,
            owner: String::new(),
            owner_name: String::new(),
            description: String::new(),
            disabled: false,
            uris: Vec::new(),
            environment_variables: Vec::new(),
            parents: Vec::new(),
            shell: true,
            arguments: Vec::new(),
            success_count: 0,
            error_count: 0,
            errors_since_last_success: 0,
            last_success: String::new(),
            last_error: String::new(),
        }
    }
}
