//! [`LocalCluster`]: one master and N agents in this OS process, each on its own runtime and port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agent::{Agent, AgentConfig, AgentHandle};
use master::ha::Election;
use master::{Master, MasterConfig, MasterHandle};
use mesos::scheduler::MasterDetector;
use mesos_zookeeper::{ZkUrl, ZooKeeperDetector};
use process::{Config, Runtime, Upid};

/// Why a cluster could not start (or a node could not restart).
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// A runtime could not start (e.g. the port is taken).
    #[error("cannot start a runtime on {addr}: {source}")]
    Runtime {
        /// The address it tried to listen on.
        addr: SocketAddr,
        /// What went wrong.
        source: process::Error,
    },
    /// The master refused to start.
    #[error("cannot start the master: {0}")]
    Master(String),
    /// An agent refused to start.
    #[error("cannot start agent {index}: {message}")]
    Agent {
        /// Which agent (0-based).
        index: usize,
        /// What went wrong.
        message: String,
    },
    /// ZooKeeper could not be reached, or the master could not join the election.
    #[error("cannot join the election at --zk: {0}")]
    ZooKeeper(#[from] mesos_zookeeper::ZkError),
    /// No master was elected in time (e.g. ZooKeeper is up but every master is fenced).
    #[error("no master was elected under --zk within {0:?}")]
    NoLeader(Duration),
    /// The work directory could not be created.
    #[error("cannot create work dir {path}: {source}")]
    WorkDir {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// No agent with this index is running.
    #[error("no running agent {0}")]
    NoAgent(usize),
}

/// How to build a [`LocalCluster`].
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// How many agents.
    pub num_agents: usize,
    /// The IP every node listens on.
    pub ip: IpAddr,
    /// The master's port (0: any free port).
    pub port: u16,
    /// Where agents keep sandboxes (`<work_dir>/agent-<i>`) and the master its files; a fresh
    /// temporary directory (removed on drop) if `None`.
    pub work_dir: Option<PathBuf>,
    /// Each agent's resources (Mesos text form); detected if `None`.
    pub agent_resources: Option<String>,
    /// The master's settings; `ip`/`port` above win over any listen address in it.
    pub master: MasterConfig,
    /// The agents' settings; `master`, `work_dir` and `resources` are filled in per agent.
    pub agent: AgentConfig,
    /// Worker threads of the master's runtime.
    pub master_workers: usize,
    /// Worker threads of each agent's runtime.
    pub agent_workers: usize,
    /// With ZooKeeper, this cluster's master is one contender among several (`mesos-master
    /// --zk=...` elsewhere): a standby until elected, and the agents follow whoever leads.
    pub zk: Option<LocalZk>,
}

/// Where a [`LocalCluster`]'s master contends for leadership.
#[derive(Debug, Clone)]
pub struct LocalZk {
    /// `zk://host1:2181,host2:2181/path`.
    pub url: ZkUrl,
    /// The ZooKeeper session timeout (Mesos's `--zk_session_timeout`, default 10 s).
    pub session_timeout: Duration,
}

impl LocalConfig {
    /// `num_agents` agents on loopback, master on any free port, defaults elsewhere.
    pub fn new(num_agents: usize) -> LocalConfig {
        LocalConfig {
            num_agents,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            work_dir: None,
            agent_resources: None,
            master: MasterConfig::default(),
            agent: AgentConfig::default(),
            master_workers: 2,
            agent_workers: 1,
            zk: None,
        }
    }
}

/// One node: a runtime and what runs on it.
struct Node<H> {
    handle: H,
    runtime: Runtime,
    /// The master's place in the ZooKeeper election, if it contends.
    election: Option<Election>,
}

/// A master and its agents in one process. Dropping it stops every node (agents kill their
/// executors) and removes a temporary work directory.
pub struct LocalCluster {
    config: LocalConfig,
    master_addr: SocketAddr,
    master: Option<Node<MasterHandle>>,
    agents: Vec<Option<Node<AgentHandle>>>,
    work_dir: PathBuf,
    remove_work_dir: bool,
    /// With `--zk`: who leads, for the agents to follow.
    detector: Option<Arc<ZooKeeperDetector>>,
}

fn runtime_on(addr: SocketAddr, workers: usize) -> Result<Runtime, LocalError> {
    Runtime::new(Config {
        listen: addr,
        workers: workers.max(1),
        ..Config::default()
    })
    .map_err(|source| LocalError::Runtime { addr, source })
}

impl LocalCluster {
    /// Starts the master, then the agents (they register on their own).
    ///
    /// # Errors
    /// [`LocalError`] naming the node that could not start.
    pub fn start(config: LocalConfig) -> Result<LocalCluster, LocalError> {
        let (work_dir, remove_work_dir) = match &config.work_dir {
            Some(dir) => (dir.clone(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "mesos-local-{}-{}",
                    std::process::id(),
                    mesos::Uuid::random()
                )),
                true,
            ),
        };
        std::fs::create_dir_all(&work_dir).map_err(|source| LocalError::WorkDir {
            path: work_dir.clone(),
            source,
        })?;
        let mut cluster = LocalCluster {
            master_addr: SocketAddr::new(config.ip, config.port),
            config,
            master: None,
            agents: Vec::new(),
            work_dir,
            remove_work_dir,
            detector: None,
        };
        if let Some(zk) = &cluster.config.zk {
            cluster.detector = Some(Arc::new(ZooKeeperDetector::start(
                &zk.url,
                zk.session_timeout,
            )?));
        }
        cluster.start_master()?;
        for _ in 0..cluster.config.num_agents {
            cluster.add_agent()?;
        }
        Ok(cluster)
    }

    fn start_master(&mut self) -> Result<(), LocalError> {
        let runtime = runtime_on(self.master_addr, self.config.master_workers)?;
        self.master_addr = runtime.addr();
        let mut config = self.config.master.clone();
        config.work_dir = Some(self.work_dir.join("master"));
        config.standby |= self.config.zk.is_some();
        let handle =
            Master::spawn(&runtime, config).map_err(|e| LocalError::Master(e.to_string()))?;
        let election = match &self.config.zk {
            Some(zk) => Some(master::ha::join_election(
                &zk.url,
                &handle,
                zk.session_timeout,
                |reason| tracing::error!(%reason, "the local master lost its leadership"),
            )?),
            None => None,
        };
        self.master = Some(Node {
            handle,
            runtime,
            election,
        });
        Ok(())
    }

    /// Starts one more agent; returns its index.
    ///
    /// # Errors
    /// [`LocalError`] if its runtime or the agent cannot start.
    pub fn add_agent(&mut self) -> Result<usize, LocalError> {
        let resources = self.config.agent_resources.clone();
        self.add_agent_with_resources(resources)
    }

    /// Starts one more agent with its own `resources` (Mesos text form; detected if `None`),
    /// e.g. a port range of its own, since every local agent shares one host; returns its index.
    ///
    /// # Errors
    /// [`LocalError`] if its runtime or the agent cannot start.
    pub fn add_agent_with_resources(
        &mut self,
        resources: Option<String>,
    ) -> Result<usize, LocalError> {
        let index = self.agents.len();
        let runtime = runtime_on(
            SocketAddr::new(self.config.ip, 0),
            self.config.agent_workers,
        )?;
        let mut config = self.config.agent.clone();
        config.master = Some(self.leader()?);
        config.work_dir = self.work_dir.join(format!("agent-{index}"));
        if let Some(resources) = resources {
            config.resources = Some(resources);
        }
        // Every local agent shares one hostname; a `node` attribute names each one so
        // frameworks can tell them apart (e.g. where a data block lives).
        if config.attributes.get("node").is_none() {
            config.attributes.push(
                "node",
                mesos::AttributeValue::Text(format!("agent-{index}")),
            );
        }
        let handle = Agent::spawn(&runtime, config).map_err(|e| LocalError::Agent {
            index,
            message: e.to_string(),
        })?;
        if let Some(detector) = &self.detector {
            let follower = handle.clone();
            detector.watch(Arc::new(move |leader| {
                if let Some(leader) = leader {
                    // A stopped agent no longer follows anyone.
                    let _ = follower.set_master(leader);
                }
            }));
            // A change between reading the leader and watching is not missed.
            if let Some(leader) = detector.leader() {
                let _ = handle.set_master(leader);
            }
        }
        self.agents.push(Some(Node {
            handle,
            runtime,
            election: None,
        }));
        Ok(index)
    }

    /// The master agents register with: this cluster's own, or with `--zk` whoever leads.
    fn leader(&self) -> Result<Upid, LocalError> {
        let (Some(detector), Some(zk)) = (&self.detector, &self.config.zk) else {
            return Ok(self.master_pid());
        };
        // Our own master contends, so a leader appears within about one session timeout.
        let patience = zk.session_timeout * 3;
        detector
            .wait_for_leader(patience)
            .ok_or(LocalError::NoLeader(patience))
    }

    /// The elected master's pid; this cluster's master when it runs without ZooKeeper.
    pub fn leading_master(&self) -> Option<Upid> {
        match &self.detector {
            Some(detector) => detector.leader(),
            None => Some(self.master_pid()),
        }
    }

    /// The master's pid (`master@ip:port`).
    pub fn master_pid(&self) -> Upid {
        Upid::new("master", self.master_addr).expect("'master' is a valid process id")
    }

    /// `ip:port` of the master, as `--master` takes it.
    pub fn master_address(&self) -> String {
        self.master_addr.to_string()
    }

    /// Where the master's state is served.
    pub fn state_url(&self) -> String {
        format!("{}://{}/master/state", self.http_scheme(), self.master_addr)
    }

    /// `https` when the nodes run TLS (`LIBPROCESS_SSL_ENABLED`), else `http`.
    pub fn http_scheme(&self) -> &'static str {
        self.master
            .as_ref()
            .map_or("http", |node| node.runtime.http_scheme())
    }

    /// The master, while running.
    pub fn master(&self) -> Option<&MasterHandle> {
        self.master.as_ref().map(|n| &n.handle)
    }

    /// Agent `index`, while running.
    pub fn agent(&self, index: usize) -> Option<&AgentHandle> {
        self.agents.get(index)?.as_ref().map(|n| &n.handle)
    }

    /// How many agents were started (stopped ones included).
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// The work directory (agents' sandboxes live under `agent-<i>`).
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// Stops agent `index` as a node failure would: its runtime shuts down (connections close,
    /// executors are killed). The master notices through missed pings.
    ///
    /// # Errors
    /// [`LocalError::NoAgent`] if it is not running.
    pub fn stop_agent(&mut self, index: usize) -> Result<(), LocalError> {
        let node = self
            .agents
            .get_mut(index)
            .and_then(Option::take)
            .ok_or(LocalError::NoAgent(index))?;
        node.handle.stop();
        node.runtime.shutdown();
        Ok(())
    }

    /// Stops the master (its runtime and connections go away), as a master crash would.
    pub fn stop_master(&mut self) {
        if let Some(mut node) = self.master.take() {
            // The runtime dies first so the master never answers again; then it leaves the
            // election (its znode goes), so a standby elsewhere takes over at once.
            let election = node.election.take();
            node.runtime.shutdown();
            drop(election);
        }
    }

    /// Starts a fresh master on the same address (after [`stop_master`](Self::stop_master), or
    /// stopping the running one first). Agents and frameworks re-register with it.
    ///
    /// # Errors
    /// [`LocalError`] if the new master cannot start.
    pub fn restart_master(&mut self) -> Result<(), LocalError> {
        self.stop_master();
        self.start_master()
    }

    /// Blocks until the master terminates.
    pub fn wait(&self) {
        if let Some(master) = &self.master {
            master.handle.wait();
        }
    }

    /// Stops every agent, then the master.
    pub fn shutdown(&mut self) {
        for node in self.agents.iter_mut().filter_map(Option::take) {
            node.handle.stop();
            node.runtime.shutdown();
        }
        self.stop_master();
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.shutdown();
        if self.remove_work_dir {
            if let Err(error) = std::fs::remove_dir_all(&self.work_dir) {
                tracing::warn!(dir = %self.work_dir.display(), %error, "cannot remove work dir");
            }
        }
    }
}
