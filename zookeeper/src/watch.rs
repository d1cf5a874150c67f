//! Reading the election from ZooKeeper: the leading contender and a watch on the children.

use mesos::MasterInfo;
use zookeeper_client::{Client, Error, OneshotWatcher};

use crate::election::{leader_node, parse_info};

/// One read of the election: every `json.info_*` child, the leader (node name and info), and a
/// watch that fires on the next change of the children.
pub(crate) struct ElectionView {
    pub(crate) children: Vec<String>,
    pub(crate) leader: Option<(String, MasterInfo)>,
    pub(crate) watcher: OneshotWatcher,
}

/// Reads the election under `path`. A leader whose node vanished between the listing and the read
/// is retried; a leader whose data does not decode is reported as no leader (and logged), as
/// Mesos's detector does.
///
/// # Errors
/// ZooKeeper errors (a missing `path` is an empty election, not an error, for the detector's sake:
/// it is watched until a contender creates it).
pub(crate) async fn read_election(client: &Client, path: &str) -> Result<ElectionView, Error> {
    loop {
        let (children, watcher) = match client.list_and_watch_children(path).await {
            Ok(found) => found,
            Err(Error::NoNode) => {
                // Watch for the path's creation, then list again.
                let (stat, watcher) = client.check_and_watch_stat(path).await?;
                if stat.is_some() {
                    continue;
                }
                return Ok(ElectionView {
                    children: Vec::new(),
                    leader: None,
                    watcher,
                });
            }
            Err(error) => return Err(error),
        };
        let Some(node) = leader_node(&children).map(str::to_string) else {
            return Ok(ElectionView {
                children,
                leader: None,
                watcher,
            });
        };
        let data = match client.get_data(&format!("{path}/{node}")).await {
            Ok((data, _)) => data,
            // The leader left while we looked: the watch has fired already; read again.
            Err(Error::NoNode) => continue,
            Err(error) => return Err(error),
        };
        let leader = match parse_info(&data) {
            Ok(info) => Some((node, info)),
            Err(error) => {
                tracing::warn!(%node, %error, "leading znode holds no MasterInfo JSON");
                None
            }
        };
        return Ok(ElectionView {
            children,
            leader,
            watcher,
        });
    }
}

/// A single-threaded tokio runtime for one election or detector thread.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
