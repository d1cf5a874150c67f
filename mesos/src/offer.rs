//! `Offer`: resources on one agent offered to one framework.

use serde::{Deserialize, Serialize};

use crate::attributes::Attributes;
use crate::ids::{AgentId, ExecutorId, FrameworkId, OfferId};
use crate::resources::Resources;

/// Resources on one agent offered to one framework (Mesos's `Offer`).
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Offer {
    /// The offer's id; use it to launch tasks or decline.
    pub id: OfferId,
    /// The framework the offer is for.
    pub framework_id: FrameworkId,
    /// The agent the resources are on; v0 JSON `slave_id` is accepted.
    #[serde(alias = "slave_id")]
    pub agent_id: AgentId,
    /// The agent's host name.
    pub hostname: String,
    /// The offered resources.
    pub resources: Resources,
    /// The agent's attributes.
    pub attributes: Attributes,
    /// This framework's executors already running on the agent.
    pub executor_ids: Vec<ExecutorId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_and_round_trip() {
        let offer = Offer {
            id: OfferId::new("o1"),
            framework_id: FrameworkId::new("f1"),
            agent_id: AgentId::new("a1"),
            hostname: "h".into(),
            resources: "cpus:4;mem:1024".parse().unwrap(),
            attributes: "rack:r1".parse().unwrap(),
            executor_ids: vec![ExecutorId::new("e1")],
        };
        let json = serde_json::to_value(&offer).unwrap();
        assert_eq!(json["id"]["value"], "o1");
        assert_eq!(json["framework_id"]["value"], "f1");
        assert_eq!(json["executor_ids"][0]["value"], "e1");
        assert_eq!(json["attributes"][0]["text"]["value"], "r1");
        assert_eq!(serde_json::from_value::<Offer>(json).unwrap(), offer);
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&offer, cfg).unwrap();
        assert_eq!(
            bincode::serde::decode_from_slice::<Offer, _>(&bytes, cfg)
                .unwrap()
                .0,
            offer
        );
    }
}
