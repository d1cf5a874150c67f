//! [`ResourceStatistics`]: a container's usage in Mesos's JSON form.

use serde::Serialize;

/// Usage of one container, as Mesos's `ResourceStatistics` (JSON field names as Mesos; the
/// cgroups-only ones are left out of the JSON when unknown).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ResourceStatistics {
    /// When measured, seconds since the Unix epoch.
    pub timestamp: f64,
    /// User CPU time of the whole container.
    pub cpus_user_time_secs: f64,
    /// System CPU time of the whole container.
    pub cpus_system_time_secs: f64,
    /// The container's cpus.
    pub cpus_limit: f64,
    /// Resident memory of the whole container.
    pub mem_rss_bytes: u64,
    /// The container's memory.
    pub mem_limit_bytes: u64,
    /// Processes in the container.
    pub processes: u32,
    /// CFS periods in which the container was throttled (cgroups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_nr_throttled: Option<u64>,
    /// CFS periods the container ran in (cgroups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_nr_periods: Option<u64>,
    /// Time the container was throttled (cgroups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_throttled_time_secs: Option<f64>,
    /// The most memory the container ever used (cgroups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_max_usage_bytes: Option<u64>,
}

/// Seconds since the Unix epoch, for `timestamp`.
pub(crate) fn wall_clock() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
