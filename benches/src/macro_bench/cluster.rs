//! Scaled-down in-process clusters for the experiments.
//!
//! The paper ran on EC2 nodes with tasks of tens of seconds; here a whole cluster shares two
//! cores, so every agent advertises a small slice (`cpus:2;mem:2048` by default) and the
//! frameworks' tasks are mostly sleeping or throttled I/O. The allocation interval is scaled from
//! Mesos's 1 s to 250 ms in step with the shorter tasks.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mesos_local::{LocalCluster, LocalConfig};

use super::child::Toolbox;
use super::sampler::http_get;
use super::MacroBenchError;

/// What each experiment cluster looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterShape {
    /// How many agents.
    pub agents: usize,
    /// Each agent's resources (Mesos text form).
    pub agent_resources: String,
    /// The master's batch allocation interval.
    pub allocation_interval: Duration,
}

impl ClusterShape {
    /// `agents` agents of `cpus:2;mem:2048`, allocating every 250 ms.
    pub fn scaled(agents: usize) -> ClusterShape {
        ClusterShape {
            agents,
            agent_resources: "cpus:2;mem:2048;disk:10000;ports:[31000-32000]".to_string(),
            allocation_interval: Duration::from_millis(250),
        }
    }

    /// The same agents, `agents` of them.
    pub fn with_agents(&self, agents: usize) -> ClusterShape {
        ClusterShape {
            agents,
            ..self.clone()
        }
    }

    /// Starts the cluster and waits until every agent has registered. Agents find the command
    /// executor (`mesos-executor`, for shell tasks) in `tools`' directory.
    ///
    /// # Errors
    /// [`MacroBenchError::Cluster`] if it cannot start or the agents do not register in 20 s.
    pub fn start(&self, tools: &Toolbox) -> Result<LocalCluster, MacroBenchError> {
        let mut config = LocalConfig::new(self.agents);
        config.agent_resources = Some(self.agent_resources.clone());
        config.agent.launcher_dir = Some(tools.dir().to_path_buf());
        config.master.allocation_interval = self.allocation_interval;
        let cluster =
            LocalCluster::start(config).map_err(|e| MacroBenchError::Cluster(e.to_string()))?;
        wait_for_agents(master_addr(&cluster)?, self.agents, Duration::from_secs(20))?;
        Ok(cluster)
    }
}

/// The master's HTTP address.
///
/// # Errors
/// [`MacroBenchError::Cluster`] if the address does not parse (it always should).
pub fn master_addr(cluster: &LocalCluster) -> Result<SocketAddr, MacroBenchError> {
    cluster
        .master_address()
        .parse()
        .map_err(|e| MacroBenchError::Cluster(format!("bad master address: {e}")))
}

/// Polls the master's `/metrics/snapshot` until `master/slaves_active` reaches `agents`.
///
/// # Errors
/// [`MacroBenchError::Cluster`] when `patience` runs out first.
pub fn wait_for_agents(
    master: SocketAddr,
    agents: usize,
    patience: Duration,
) -> Result<(), MacroBenchError> {
    let deadline = Instant::now() + patience;
    let mut active = 0;
    while Instant::now() < deadline {
        if let Ok(body) = http_get(master, "/metrics/snapshot", Duration::from_secs(2)) {
            active = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|m| m.get("master/slaves_active")?.as_f64())
                .unwrap_or(0.0) as usize;
            if active >= agents {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(MacroBenchError::Cluster(format!(
        "only {active} of {agents} agents registered with {master} within {} s",
        patience.as_secs()
    )))
}
