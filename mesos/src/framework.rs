//! `FrameworkInfo`: what a scheduler tells the master about itself.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::FrameworkId;
use crate::labels::Labels;

wire_enum! {
    /// Optional behaviours a framework opts into (`FrameworkInfo.Capability.Type`).
    pub enum FrameworkCapability {
        /// Receive revocable (oversubscribed) resources.
        RevocableResources = "REVOCABLE_RESOURCES",
        /// Understands TASK_KILLING.
        TaskKillingState = "TASK_KILLING_STATE",
        /// May be offered GPUs.
        GpuResources = "GPU_RESOURCES",
        /// May be offered shared resources.
        SharedResources = "SHARED_RESOURCES",
        /// Understands TASK_UNREACHABLE, TASK_DROPPED, TASK_GONE, ... instead of TASK_LOST.
        PartitionAware = "PARTITION_AWARE",
        /// Subscribes with several roles (`roles`, not `role`).
        MultiRole = "MULTI_ROLE",
        /// Understands reservation refinement.
        ReservationRefinement = "RESERVATION_REFINEMENT",
        /// May be offered resources of agents in other regions.
        RegionAware = "REGION_AWARE",
    }
}

/// A scheduler's description of itself (Mesos's `FrameworkInfo`).
///
/// Defaults follow Mesos: `role` is `*`, `failover_timeout` is 0 (tasks are
/// killed as soon as the scheduler disconnects), no checkpointing.
///
/// ```
/// use std::time::Duration;
/// use mesos::{FrameworkCapability, FrameworkInfo};
/// let info = FrameworkInfo::new("alice", "analytics")
///     .with_role("analytics")
///     .with_failover_timeout(Duration::from_secs(3600))
///     .with_capability(FrameworkCapability::PartitionAware);
/// assert!(info.has_capability(FrameworkCapability::PartitionAware));
/// assert_eq!(info.effective_roles(), vec!["analytics"]);
/// ```
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct FrameworkInfo {
    /// The Unix user tasks run as, unless a task's command says otherwise.
    pub user: String,
    /// A human-readable name.
    pub name: String,
    /// Set by the master at first registration; a scheduler that fails over
    /// re-registers with it.
    pub id: Option<FrameworkId>,
    /// Seconds the master waits for a disconnected scheduler before killing
    /// its tasks (default 0).
    #[serde(deserialize_with = "crate::encoding::lenient_f64")]
    pub failover_timeout: f64,
    /// Whether agents checkpoint this framework's tasks for agent recovery.
    pub checkpoint: bool,
    /// The role (used unless the framework has `MULTI_ROLE`); default `*`.
    pub role: String,
    /// The roles, for `MULTI_ROLE` frameworks.
    pub roles: Vec<String>,
    /// The scheduler's host name.
    pub hostname: Option<String>,
    /// The principal used for authentication and quota.
    pub principal: Option<String>,
    /// A link to the framework's web UI.
    pub webui_url: Option<String>,
    /// Opted-in behaviours; JSON `[{"type": "PARTITION_AWARE"}, ...]`.
    #[serde(with = "capability_list")]
    pub capabilities: Vec<FrameworkCapability>,
    /// Free-form labels.
    pub labels: Labels,
}

impl Default for FrameworkInfo {
    fn default() -> FrameworkInfo {
        FrameworkInfo {
            user: String::new(),
            name: String::new(),
            id: None,
            failover_timeout: 0.0,
            checkpoint: false,
            role: "*".to_string(),
            roles: Vec::new(),
            hostname: None,
            principal: None,
            webui_url: None,
            capabilities: Vec::new(),
            labels: Labels::default(),
        }
    }
}

impl FrameworkInfo {
    /// A framework run by `user` named `name`, with Mesos's defaults.
    pub fn new(user: impl Into<String>, name: impl Into<String>) -> FrameworkInfo {
        FrameworkInfo {
            user: user.into(),
            name: name.into(),
            ..FrameworkInfo::default()
        }
    }

    /// Sets the (single) role.
    pub fn with_role(mut self, role: impl Into<String>) -> FrameworkInfo {
        self.role = role.into();
        self
    }

    /// Opts into checkpointing: agents write this framework's executors, tasks and status
    /// updates to disk, so its tasks keep running across an agent restart (agent recovery).
    pub fn with_checkpoint(mut self, checkpoint: bool) -> FrameworkInfo {
        self.checkpoint = checkpoint;
        self
    }

    /// Sets the failover timeout.
    pub fn with_failover_timeout(mut self, timeout: Duration) -> FrameworkInfo {
        self.failover_timeout = timeout.as_secs_f64();
        self
    }

    /// Adds a capability (once).
    pub fn with_capability(mut self, capability: FrameworkCapability) -> FrameworkInfo {
        if !self.has_capability(capability) {
            self.capabilities.push(capability);
        }
        self
    }

    /// Sets the principal.
    pub fn with_principal(mut self, principal: impl Into<String>) -> FrameworkInfo {
        self.principal = Some(principal.into());
        self
    }

    /// Whether the framework opted into `capability`.
    pub fn has_capability(&self, capability: FrameworkCapability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// The roles the framework subscribes with: `roles` for a `MULTI_ROLE`
    /// framework, else `role` (as Mesos's `getRoles`).
    pub fn effective_roles(&self) -> Vec<&str> {
        if self.has_capability(FrameworkCapability::MultiRole) {
            self.roles.iter().map(String::as_str).collect()
        } else {
            vec![self.role.as_str()]
        }
    }

    /// The failover timeout as a `Duration`; negative or NaN is zero, and
    /// values too large for a `Duration` saturate.
    pub fn failover_timeout(&self) -> Duration {
        Duration::try_from_secs_f64(self.failover_timeout.max(0.0)).unwrap_or(
            if self.failover_timeout > 0.0 {
                Duration::MAX
            } else {
                Duration::ZERO
            },
        )
    }
}

/// Capabilities as Mesos's JSON `[{"type": "..."}]`; plain names in binary formats.
mod capability_list {
    use super::*;

    #[derive(Serialize)]
    struct CapabilityJson {
        #[serde(rename = "type")]
        kind: FrameworkCapability,
    }

    /// On input the type is kept as text: capabilities this master does not know are ignored,
    /// as Mesos ignores unknown optional enum values.
    #[derive(Deserialize)]
    struct CapabilityIn {
        #[serde(rename = "type", default)]
        kind: String,
    }

    pub fn serialize<S: Serializer>(caps: &[FrameworkCapability], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_seq(caps.iter().map(|&kind| CapabilityJson { kind }))
        } else {
            s.collect_seq(caps)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<FrameworkCapability>, D::Error> {
        if d.is_human_readable() {
            Ok(Vec::<CapabilityIn>::deserialize(d)?
                .into_iter()
                .filter_map(|c| c.kind.parse().ok())
                .collect())
        } else {
            Vec::deserialize(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_mesos() {
        let info: FrameworkInfo = serde_json::from_str(r#"{"user":"u","name":"n"}"#).unwrap();
        assert_eq!(info.role, "*");
        assert_eq!(info.failover_timeout(), Duration::ZERO);
        assert!(!info.checkpoint);
        assert_eq!(info, FrameworkInfo::new("u", "n"));
    }

    #[test]
    fn capabilities_json_shape() {
        let json = r#"{"user":"u","name":"n","capabilities":[{"type":"PARTITION_AWARE"},{"type":"MULTI_ROLE"}],"roles":["a","b"]}"#;
        let info: FrameworkInfo = serde_json::from_str(json).unwrap();
        assert_eq!(
            info.capabilities,
            vec![
                FrameworkCapability::PartitionAware,
                FrameworkCapability::MultiRole
            ]
        );
        assert_eq!(info.effective_roles(), vec!["a", "b"]);
        let out = serde_json::to_string(&info).unwrap();
        assert!(
            out.contains(r#""capabilities":[{"type":"PARTITION_AWARE"},{"type":"MULTI_ROLE"}]"#),
            "{out}"
        );
        // Unknown capabilities are ignored (clients send ones newer than this master).
        let info: FrameworkInfo = serde_json::from_str(
            r#"{"capabilities":[{"type":"FLYING"},{"type":"MULTI_ROLE"}],"failover_timeout":"60"}"#,
        )
        .unwrap();
        assert_eq!(info.capabilities, vec![FrameworkCapability::MultiRole]);
        assert_eq!(info.failover_timeout, 60.0);
    }

    #[test]
    fn bincode_round_trip() {
        let info = FrameworkInfo::new("u", "n")
            .with_capability(FrameworkCapability::GpuResources)
            .with_failover_timeout(Duration::from_secs(10));
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&info, cfg).unwrap();
        assert_eq!(
            bincode::serde::decode_from_slice::<FrameworkInfo, _>(&bytes, cfg)
                .unwrap()
                .0,
            info
        );
    }

    #[test]
    fn failover_timeout_saturates() {
        let mut info = FrameworkInfo::new("u", "n");
        info.failover_timeout = -3.0;
        assert_eq!(info.failover_timeout(), Duration::ZERO);
        info.failover_timeout = 1e300;
        assert_eq!(info.failover_timeout(), Duration::MAX);
        info.failover_timeout = f64::NAN;
        assert_eq!(info.failover_timeout(), Duration::ZERO);
    }
}
