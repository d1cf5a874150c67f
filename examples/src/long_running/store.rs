//! Where a long-running scheduler saves its state: a JSON file written atomically, or one
//! ZooKeeper node (`--zk=zk://host:port/path`), as Marathon and Chronos keep theirs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mesos_zookeeper::{NodeStore, ZkUrl};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// How long connecting to ZooKeeper may take (also the session timeout).
pub const ZK_SESSION: Duration = Duration::from_secs(10);

/// Why the state cannot be loaded (a flag is at fault: the message names it).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file cannot be read or parsed.
    #[error("--state_file: {0}")]
    File(String),
    /// The `--zk` URL is malformed, ZooKeeper cannot be reached, or the node does not parse.
    #[error("--zk: {0}")]
    ZooKeeper(String),
}

/// A place for the state.
#[derive(Debug, Clone)]
pub enum Store {
    /// A JSON file (written to `<file>.tmp`, synced, renamed).
    File(PathBuf),
    /// The node at a `zk://` URL's path.
    ZooKeeper(Arc<NodeStore>),
}

impl Store {
    /// The ZooKeeper node at `zk` when given, else `state_file`.
    ///
    /// # Errors
    /// [`StoreError::ZooKeeper`] for a malformed URL or an unreachable ZooKeeper.
    pub fn open(state_file: PathBuf, zk: Option<&str>) -> Result<Store, StoreError> {
        let Some(zk) = zk else {
            return Ok(Store::File(state_file));
        };
        let url: ZkUrl = zk
            .parse()
            .map_err(|e| StoreError::ZooKeeper(format!("{e}")))?;
        let node = NodeStore::connect(&url, ZK_SESSION)
            .map_err(|e| StoreError::ZooKeeper(format!("{url}: {e}")))?;
        Ok(Store::ZooKeeper(Arc::new(node)))
    }

    /// The saved state; the default when nothing was saved yet.
    ///
    /// # Errors
    /// [`StoreError`] for an unreadable or corrupt state.
    pub fn load<T: DeserializeOwned + Default>(&self) -> Result<T, StoreError> {
        match self {
            Store::File(path) => match std::fs::read(path) {
                Ok(bytes) => serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::File(format!("cannot parse {}: {e}", path.display()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
                Err(e) => Err(StoreError::File(format!(
                    "cannot read {}: {e}",
                    path.display()
                ))),
            },
            Store::ZooKeeper(node) => match node.read() {
                Ok(Some(bytes)) if !bytes.is_empty() => {
                    serde_json::from_slice(&bytes).map_err(|e| {
                        StoreError::ZooKeeper(format!("cannot parse {}: {e}", node.url()))
                    })
                }
                Ok(_) => Ok(T::default()),
                Err(e) => Err(StoreError::ZooKeeper(format!(
                    "cannot read {}: {e}",
                    node.url()
                ))),
            },
        }
    }

    /// Saves `state`; a failure is logged (the scheduler goes on, as Marathon does while its
    /// store is unavailable).
    pub fn save<T: Serialize>(&self, state: &T) {
        if let Err(err) = self.try_save(state) {
            tracing::error!(%err, "cannot save the scheduler's state");
        }
    }

    /// Saves `state`.
    ///
    /// # Errors
    /// Why it could not be written (names the file or node).
    pub fn try_save<T: Serialize>(&self, state: &T) -> Result<(), String> {
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| e.to_string())?;
        match self {
            Store::File(path) => {
                let temp = path.with_extension("tmp");
                let write = || -> std::io::Result<()> {
                    use std::io::Write;
                    let mut file = std::fs::File::create(&temp)?;
                    file.write_all(&bytes)?;
                    file.sync_all()?;
                    std::fs::rename(&temp, path)
                };
                write().map_err(|e| format!("{}: {e}", path.display()))
            }
            Store::ZooKeeper(node) => node
                .write(&bytes)
                .map_err(|e| format!("{}: {e}", node.url())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_store_round_trips_and_a_missing_file_is_the_default() {
        let dir = std::env::temp_dir().join(format!("long-running-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::File(dir.join("state.json"));
        let empty: Vec<String> = store.load().unwrap();
        assert!(empty.is_empty());
        store
            .try_save(&vec!["a".to_string(), "b".to_string()])
            .unwrap();
        let back: Vec<String> = store.load().unwrap();
        assert_eq!(back, ["a", "b"]);
        std::fs::write(dir.join("state.json"), b"{not json").unwrap();
        let err = store.load::<Vec<String>>().unwrap_err().to_string();
        assert!(err.starts_with("--state_file: cannot parse"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_malformed_zk_url_names_the_flag() {
        let err = Store::open("x.json".into(), Some("zk://nowhere")).unwrap_err();
        assert!(err.to_string().starts_with("--zk: "), "{err}");
    }
}
