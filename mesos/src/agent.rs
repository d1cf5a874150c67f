//! `AgentInfo`: what an agent tells the master about itself.

use serde::{Deserialize, Serialize};

use crate::attributes::Attributes;
use crate::ids::AgentId;
use crate::resources::Resources;

/// Mesos's default agent port.
pub const DEFAULT_AGENT_PORT: u16 = 5051;

/// An agent's description (Mesos's `SlaveInfo`).
///
/// ```
/// use mesos::AgentInfo;
/// let info = AgentInfo::new("node-1")
///     .with_resources("cpus:16;mem:65536".parse().unwrap())
///     .with_attributes("rack:r1;zone:a".parse().unwrap());
/// assert_eq!(info.port, 5051);
/// assert_eq!(info.attributes.text("rack"), Some("r1"));
/// ```
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentInfo {
    /// The host name frameworks use to reach tasks.
    pub hostname: String,
    /// The agent's port (default 5051).
    pub port: u16,
    /// Total resources (from `--resources` or detected).
    pub resources: Resources,
    /// Attributes (from `--attributes`).
    pub attributes: Attributes,
    /// Set by the master at registration.
    pub id: Option<AgentId>,
}

impl Default for AgentInfo {
    fn default() -> AgentInfo {
        AgentInfo {
            hostname: String::new(),
            port: DEFAULT_AGENT_PORT,
            resources: Resources::new(),
            attributes: Attributes::new(),
            id: None,
        }
    }
}

impl AgentInfo {
    /// An agent on `hostname` with Mesos's defaults and no resources yet.
    pub fn new(hostname: impl Into<String>) -> AgentInfo {
        AgentInfo {
            hostname: hostname.into(),
            ..AgentInfo::default()
        }
    }

    /// Sets the total resources.
    pub fn with_resources(mut self, resources: Resources) -> AgentInfo {
        self.resources = resources;
        self
    }

    /// Sets the attributes.
    pub fn with_attributes(mut self, attributes: Attributes) -> AgentInfo {
        self.attributes = attributes;
        self
    }

    /// Sets the port.
    pub fn with_port(mut self, port: u16) -> AgentInfo {
        self.port = port;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_and_round_trips() {
        let mut info =
            AgentInfo::new("node-1").with_resources("cpus:2;ports:[1-2]".parse().unwrap());
        info.id = Some(AgentId::new("a-1"));
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["id"]["value"], "a-1");
        assert_eq!(json["resources"][0]["name"], "cpus");
        assert_eq!(json["port"], 5051);
        assert_eq!(serde_json::from_value::<AgentInfo>(json).unwrap(), info);
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&info, cfg).unwrap();
        assert_eq!(
            bincode::serde::decode_from_slice::<AgentInfo, _>(&bytes, cfg)
                .unwrap()
                .0,
            info
        );
        let minimal: AgentInfo = serde_json::from_str(r#"{"hostname":"h"}"#).unwrap();
        assert_eq!(minimal, AgentInfo::new("h"));
    }
}
