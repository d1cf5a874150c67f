//! One blob in one ZooKeeper node: what a framework saves to survive its own restart (the
//! service and cron schedulers' `--zk`, as Marathon and Chronos keep their state in ZooKeeper).
//!
//! A thread of its own runs the client (a current-thread tokio runtime that also keeps the
//! session alive between calls); [`NodeStore::read`] and [`NodeStore::write`] block the caller
//! until ZooKeeper answered. A session that expired is replaced once per call.

use std::sync::mpsc;
use std::time::Duration;

use zookeeper_client::{Acls, Client, CreateMode, Error};

use crate::{ZkError, ZkUrl};

/// ZooKeeper's default limit on a node's data (`jute.maxbuffer`), less room for the request.
pub const MAX_NODE_BYTES: usize = 1_000_000;

enum Request {
    Read(mpsc::Sender<Result<Option<Vec<u8>>, Error>>),
    Write(Vec<u8>, mpsc::Sender<Result<(), Error>>),
}

/// A blob kept in the node at a `zk://` URL's path (created with its parents on first write).
#[derive(Debug)]
pub struct NodeStore {
    requests: tokio::sync::mpsc::UnboundedSender<Request>,
    url: String,
}

async fn connect(url: &ZkUrl, session_timeout: Duration) -> Result<Client, Error> {
    Client::connector()
        .with_session_timeout(session_timeout)
        .connect(&url.servers)
        .await
}

async fn read(client: &Client, path: &str) -> Result<Option<Vec<u8>>, Error> {
    match client.get_data(path).await {
        Ok((data, _)) => Ok(Some(data)),
        Err(Error::NoNode) => Ok(None),
        Err(error) => Err(error),
    }
}

async fn write(client: &Client, path: &str, data: &[u8]) -> Result<(), Error> {
    match client.set_data(path, data, None).await {
        Ok(_) => Ok(()),
        Err(Error::NoNode) => {
            let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
            if let Some((parent, _)) = path.rsplit_once('/') {
                if !parent.is_empty() {
                    client.mkdir(parent, &persistent).await?;
                }
            }
            match client.create(path, data, &persistent).await {
                Ok(_) => Ok(()),
                // Another writer created it between our calls: ours is the later write.
                Err(Error::NodeExists) => client.set_data(path, data, None).await.map(|_| ()),
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}

fn session_lost(error: &Error) -> bool {
    matches!(
        error,
        Error::SessionExpired | Error::ClientClosed | Error::ConnectionLoss
    )
}

impl NodeStore {
    /// Connects to the servers of `url` (waiting up to `session_timeout`) and keeps the node at
    /// its path.
    ///
    /// # Errors
    /// [`ZkError`] when ZooKeeper cannot be reached or the thread cannot start.
    pub fn connect(url: &ZkUrl, session_timeout: Duration) -> Result<NodeStore, ZkError> {
        let (requests, mut inbox) = tokio::sync::mpsc::unbounded_channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), ZkError>>();
        let zk = url.clone();
        std::thread::Builder::new()
            .name("zk-node-store".into())
            .spawn(move || {
                let runtime = match crate::watch::runtime() {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(ZkError::Thread(error)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let mut client = match connect(&zk, session_timeout).await {
                        Ok(client) => client,
                        Err(error) => {
                            let _ = ready_tx.send(Err(ZkError::ZooKeeper(error)));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    while let Some(request) = inbox.recv().await {
                        // One reconnect per request when the session is gone.
                        for attempt in 0..2 {
                            let result = match &request {
                                Request::Read(reply) => {
                                    let result = read(&client, &zk.path).await;
                                    let lost = result.as_ref().err().is_some_and(session_lost);
                                    if !lost || attempt == 1 {
                                        let _ = reply.send(result);
                                    }
                                    lost
                                }
                                Request::Write(data, reply) => {
                                    let result = write(&client, &zk.path, data).await;
                                    let lost = result.as_ref().err().is_some_and(session_lost);
                                    if !lost || attempt == 1 {
                                        let _ = reply.send(result);
                                    }
                                    lost
                                }
                            };
                            if !result {
                                break;
                            }
                            tracing::warn!(url = %zk, "zookeeper session lost; reconnecting");
                            match connect(&zk, session_timeout).await {
                                Ok(fresh) => client = fresh,
                                Err(error) => {
                                    tracing::warn!(%error, "cannot reconnect to zookeeper");
                                }
                            }
                        }
                    }
                });
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(NodeStore {
                requests,
                url: url.to_string(),
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(ZkError::Thread(std::io::Error::other(
                "the zookeeper thread ended before connecting",
            ))),
        }
    }

    /// The node's data; `None` when the node does not exist yet.
    ///
    /// # Errors
    /// [`ZkError::ZooKeeper`] when the read fails.
    pub fn read(&self) -> Result<Option<Vec<u8>>, ZkError> {
        let (reply, answer) = mpsc::channel();
        self.send(Request::Read(reply))?;
        answer.recv().map_err(|_| gone())?.map_err(ZkError::from)
    }

    /// Replaces the node's data with `data` (creating it and its parents).
    ///
    /// # Errors
    /// [`ZkError::TooLarge`] past [`MAX_NODE_BYTES`]; [`ZkError::ZooKeeper`] when the write fails.
    pub fn write(&self, data: &[u8]) -> Result<(), ZkError> {
        if data.len() > MAX_NODE_BYTES {
            return Err(ZkError::TooLarge {
                bytes: data.len(),
                limit: MAX_NODE_BYTES,
            });
        }
        let (reply, answer) = mpsc::channel();
        self.send(Request::Write(data.to_vec(), reply))?;
        answer.recv().map_err(|_| gone())?.map_err(ZkError::from)
    }

    /// The `zk://` URL of the node.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn send(&self, request: Request) -> Result<(), ZkError> {
        self.requests.send(request).map_err(|_| gone())
    }
}

fn gone() -> ZkError {
    ZkError::Thread(std::io::Error::other("the zookeeper thread has ended"))
}
