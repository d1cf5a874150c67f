//! High availability for the Mesos master: leader election and leader detection through
//! ZooKeeper, as Mesos's `ZooKeeperMasterContender` and `ZooKeeperMasterDetector` do it.
//!
//! # How the election works
//! Every master creates an ephemeral sequential znode `json.info_NNNNNNNNNN` under the path of
//! its `zk://host1:2181,host2:2181/mesos` URL, holding its `MasterInfo` as JSON. The node with the
//! lowest sequence number (compared as numbers: 10 or 19 digits) is the leader. Agents,
//! schedulers and tools watch the same children ([`ZooKeeperDetector`]) and follow the leader.
//!
//! # Fencing
//! A leader must never believe it leads after its session expired. [`MasterContender`] reports
//! [`ContenderEvent::Fenced`] when the client reports the terminal `Expired` (or
//! `Closed`/`AuthFailed`) state, when its node is gone, and also when the connection has been
//! down too long (a third of the session timeout after the client noticed) to be sure the server
//! has not expired the session yet. It then rejoins with a new session and node, deleting the old
//! node so followers do not wait for its session to expire.
//!
//! # Threads
//! Each contender and detector runs a small single-threaded tokio runtime on its own thread; the
//! actor runtime never sees tokio.
//!
//! ```no_run
//! use std::time::Duration;
//! use mesos_zookeeper::{ContenderEvent, MasterContender, ZkUrl};
//! let url: ZkUrl = "zk://127.0.0.1:2181/mesos".parse()?;
//! let info = mesos::MasterInfo::new("id", std::net::Ipv4Addr::LOCALHOST, 5050, None);
//! let contender = MasterContender::start(&url, info, Duration::from_secs(10), |event| {
//!     if let ContenderEvent::Fenced { reason, .. } = event {
//!         eprintln!("lost leadership: {reason}");
//!     }
//! })?;
//! contender.withdraw(); // graceful: deletes the znode, closes the session
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod contender;
mod detector;
mod election;
mod node_store;
mod registry;
pub mod testing;
mod url;
mod watch;

pub use crate::contender::{ContenderEvent, MasterContender};
pub use crate::detector::ZooKeeperDetector;
pub use crate::election::{leader_node, parse_info, sequence_of, INFO_PREFIX};
pub use crate::node_store::{NodeStore, MAX_NODE_BYTES};
pub use crate::registry::AgentRecord;
pub use crate::url::{ZkUrl, ZkUrlError};

/// The detector for a `--master` value as Mesos's tools take it: `zk://host:port[,..]/path` follows
/// the election ([`ZooKeeperDetector`], Mesos's 10 s session), `host:port` or `master@host:port`
/// names a fixed master ([`mesos::scheduler::StandaloneDetector`]). Hand it to
/// `SchedulerDriver::with_detector`.
///
/// ```
/// let fixed = mesos_zookeeper::detector("127.0.0.1:5050")?;
/// assert_eq!(fixed.leader().unwrap().to_string(), "master@127.0.0.1:5050");
/// assert!(mesos_zookeeper::detector("zk://nowhere").is_err());
/// # Ok::<(), mesos_zookeeper::ZkError>(())
/// ```
///
/// # Errors
/// A malformed address or URL, or [`ZkError::Thread`].
pub fn detector(
    master: &str,
) -> Result<std::sync::Arc<dyn mesos::scheduler::MasterDetector>, ZkError> {
    if master.trim().starts_with("zk://") {
        return Ok(std::sync::Arc::new(ZooKeeperDetector::from_url(
            master.trim(),
        )?));
    }
    let fixed: mesos::scheduler::StandaloneDetector = master.parse()?;
    Ok(std::sync::Arc::new(fixed))
}

/// Why an election or detection could not start.
#[derive(Debug, thiserror::Error)]
pub enum ZkError {
    /// The URL is malformed.
    #[error(transparent)]
    Url(#[from] ZkUrlError),
    /// The MasterInfo could not be encoded.
    #[error("cannot encode the master info: {0}")]
    Encode(#[from] serde_json::Error),
    /// The election or detector thread could not start.
    #[error("cannot start the zookeeper thread: {0}")]
    Thread(#[from] std::io::Error),
    /// A `host:port` master address is malformed.
    #[error(transparent)]
    Master(#[from] mesos::scheduler::DetectorError),
    /// ZooKeeper refused an operation or the connection failed.
    #[error("zookeeper: {0}")]
    ZooKeeper(#[from] zookeeper_client::Error),
    /// Data too large for one node.
    #[error("{bytes} bytes do not fit in one zookeeper node (at most {limit})")]
    TooLarge {
        /// The data's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

/// Reads the agent registry the leading master published under `url`'s path (empty for a new
/// cluster): what a newly elected master waits for. For operators and tests; blocks.
///
/// # Errors
/// [`ZkError`] when ZooKeeper cannot be reached within `session_timeout` or the read fails.
pub fn read_agent_registry(
    url: &ZkUrl,
    session_timeout: std::time::Duration,
) -> Result<Vec<AgentRecord>, ZkError> {
    watch::runtime()?.block_on(async {
        let client = zookeeper_client::Client::connector()
            .with_session_timeout(session_timeout)
            .connect(&url.servers)
            .await?;
        Ok(registry::read(&client, &url.path).await?)
    })
}
