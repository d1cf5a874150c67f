//! [`MasterContender`]: a master's place in the election, with fencing on session loss.

use std::time::Duration;

use mesos::MasterInfo;
use std::sync::Arc;

use tokio::sync::{oneshot, watch};
use zookeeper_client::{Acls, Client, CreateMode, SessionState};

use crate::election::{encode_info, INFO_PREFIX};
use crate::registry::{self, AgentRecord};
use crate::url::ZkUrl;
use crate::watch::{read_election, runtime};
use crate::ZkError;

/// What the election tells its master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContenderEvent {
    /// The leader changed (or was first seen): `elected` says whether it is this master.
    LeaderChanged {
        /// The leading master's info, `None` while nobody leads.
        leader: Option<MasterInfo>,
        /// This master leads.
        elected: bool,
    },
    /// This master lost its ZooKeeper session (or cannot prove it still has it): it must stop
    /// acting as leader at once. The contender then rejoins the election with a new session and
    /// node (as a Mesos standby re-contends), so `LeaderChanged` events follow; a master that was
    /// leading may instead exit, as Mesos's does.
    Fenced {
        /// What happened, for the log.
        reason: String,
        /// This master was the elected leader when it was fenced.
        was_leading: bool,
    },
    /// Right after this master is elected: the agent registry its predecessor published
    /// ([`MasterContender::publish`]), i.e. the agents to wait for before making offers. `None`
    /// when it could not be read. Only after this does the contender write the registry itself.
    Recovered {
        /// The previous leader's agents (empty for a new cluster).
        agents: Option<Vec<AgentRecord>>,
    },
}

/// The latest registry the owner asked to publish, with the owner's generation for it.
type Published = Option<(u64, Arc<Vec<AgentRecord>>)>;

/// A master's candidacy: an ephemeral sequential `json.info_*` znode and a thread watching the
/// election. Dropping it (or [`MasterContender::withdraw`]) deletes the znode and closes the
/// session, so a standby takes over at once.
#[derive(Debug)]
pub struct MasterContender {
    node: Arc<parking_lot::Mutex<String>>,
    publish: watch::Sender<Published>,
    written: watch::Receiver<Option<u64>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MasterContender {
    /// Joins the election under `url`'s path with `info` as the znode's data. Blocks until the
    /// session is open and the znode exists; events then arrive on `on_event`, called from the
    /// election thread (keep it short: hand off to your own process).
    ///
    /// # Errors
    /// [`ZkError`] when ZooKeeper cannot be reached within `session_timeout`, or the node cannot
    /// be created.
    pub fn start(
        url: &ZkUrl,
        info: MasterInfo,
        session_timeout: Duration,
        on_event: impl Fn(ContenderEvent) + Send + 'static,
    ) -> Result<MasterContender, ZkError> {
        let data = encode_info(&info)?;
        let runtime = runtime()?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let (publish, mut published) = watch::channel(Published::None);
        let (written_tx, written) = watch::channel(None);
        let url = url.clone();
        let thread = std::thread::Builder::new()
            .name("zk-contender".into())
            .spawn(move || {
                crate::watch::favour_session_thread();
                runtime.block_on(async move {
                    let joined = join(&url, &data, session_timeout).await;
                    let (client, node) = match joined {
                        Ok(joined) => joined,
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                            return;
                        }
                    };
                    let shared = Arc::new(parking_lot::Mutex::new(node.clone()));
                    let _ = ready_tx.send(Ok(shared.clone()));
                    let mut stop = stop_rx;
                    let (mut client, mut node) = (client, node);
                    loop {
                        let ended = contend(
                            client,
                            &url.path,
                            &node,
                            session_timeout,
                            &mut stop,
                            (&mut published, &written_tx),
                            &on_event,
                        )
                        .await;
                        if ended == Ended::Stopped {
                            break;
                        }
                        match rejoin(&url, &data, session_timeout, &node, &mut stop).await {
                            Some((new_client, new_node)) => {
                                shared.lock().clone_from(&new_node);
                                (client, node) = (new_client, new_node);
                            }
                            None => break,
                        }
                    }
                })
            })?;
        match ready_rx.recv() {
            Ok(Ok(node)) => Ok(MasterContender {
                node,
                publish,
                written,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => Err(ZkError::Thread(std::io::Error::other(
                "the election thread ended before joining",
            ))),
        }
    }

    /// This contender's current znode name (`json.info_NNNNNNNNNN`); a new one after a rejoin.
    pub fn node(&self) -> String {
        self.node.lock().clone()
    }

    /// Publishes the agent registry (every agent this master admitted) for the next leader.
    /// Written to ZooKeeper only while this master leads and after it has read its
    /// predecessor's; the latest call wins (publish on change, not per agent).
    pub fn publish(&self, generation: u64, agents: Vec<AgentRecord>) {
        self.publish
            .send_replace(Some((generation, Arc::new(agents))));
    }

    /// The generation (as given to [`MasterContender::publish`]) of the latest registry written
    /// to ZooKeeper, if any: what it implies may be told to frameworks now.
    pub fn written(&self) -> Option<u64> {
        *self.written.borrow()
    }

    /// Leaves the election: deletes the znode and closes the session (a standby is elected at
    /// once), then returns.
    pub fn withdraw(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MasterContender {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Opens the session, makes sure the path exists, creates this master's node.
async fn join(
    url: &ZkUrl,
    data: &[u8],
    session_timeout: Duration,
) -> Result<(Client, String), ZkError> {
    let client = Client::connector()
        .with_session_timeout(session_timeout)
        .connect(&url.servers)
        .await?;
    client
        .mkdir(
            &url.path,
            &CreateMode::Persistent.with_acls(Acls::anyone_all()),
        )
        .await?;
    let prefix = format!("{}/{INFO_PREFIX}", url.path);
    let (_, sequence) = client
        .create(
            &prefix,
            data,
            &CreateMode::EphemeralSequential.with_acls(Acls::anyone_all()),
        )
        .await?;
    let node = format!("{INFO_PREFIX}{sequence}");
    tracing::info!(%node, zk = %url, "joined the master election");
    Ok((client, node))
}

/// How long a disconnected leader keeps leading: the client notices a dead connection after
/// about two thirds of the session timeout without answers, and the server may expire the
/// session one full timeout after it last heard from us. Stepping down a tenth of the timeout
/// after the disconnect is noticed leaves this master a fifth of the timeout of margin before
/// the session can expire and a standby be elected: it never leads past its session.
fn disconnect_grace(session_timeout: Duration) -> Duration {
    session_timeout / 10
}

/// Joins again after being fenced: a new session and node, retried until it works or the owner
/// stops. Our previous node is deleted (best effort) so nobody follows a leader that stepped
/// down until its old session expires.
async fn rejoin(
    url: &ZkUrl,
    data: &[u8],
    session_timeout: Duration,
    old_node: &str,
    stop: &mut oneshot::Receiver<()>,
) -> Option<(Client, String)> {
    let backoff = (session_timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(2));
    loop {
        tokio::select! {
            joined = join(url, data, session_timeout) => match joined {
                Ok((client, node)) => {
                    let old = format!("{}/{old_node}", url.path);
                    match client.delete(&old, None).await {
                        Ok(()) => tracing::info!(node = %old, "deleted our node from before the fence"),
                        Err(error) => tracing::debug!(node = %old, %error, "our old node is already gone"),
                    }
                    return Some((client, node));
                }
                Err(error) => tracing::warn!(%error, "rejoining the master election failed; retrying"),
            },
            _ = &mut *stop => return None,
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = &mut *stop => return None,
        }
    }
}

/// Why [`contend`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The owner stopped the contender (our node was deleted).
    Stopped,
    /// Fenced (reported to the owner): rejoin.
    Fenced,
}

/// What [`wait_connected`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Connected,
    Stopped,
}

fn terminal(state: SessionState) -> bool {
    matches!(
        state,
        SessionState::Expired | SessionState::Closed | SessionState::AuthFailed
    )
}

/// Watches the election until fenced or stopped.
async fn contend(
    client: Client,
    path: &str,
    node: &str,
    session_timeout: Duration,
    stop: &mut oneshot::Receiver<()>,
    (published, written): (&mut watch::Receiver<Published>, &watch::Sender<Option<u64>>),
    on_event: &(impl Fn(ContenderEvent) + Send),
) -> Ended {
    let mut states = client.state_watcher();
    let mut last: Option<(Option<MasterInfo>, bool)> = None;
    // Set once elected and the predecessor's registry was read: only then may we overwrite it.
    let mut may_write = false;
    let fenced = |reason: String, was_leading: bool| {
        tracing::warn!(%node, %reason, was_leading, "fenced: no longer leading; rejoining the election");
        on_event(ContenderEvent::Fenced {
            reason,
            was_leading,
        });
        Ended::Fenced
    };
    loop {
        let leading = last.as_ref().is_some_and(|(_, elected)| *elected);
        let view = tokio::select! {
            view = read_election(&client, path) => view,
            _ = &mut *stop => break,
        };
        let view = match view {
            Ok(view) => view,
            Err(error) => {
                let state = client.state();
                if terminal(state) {
                    return fenced(format!("zookeeper session {state:?}: {error}"), leading);
                }
                // Connection trouble: the state watcher below decides whether we are fenced.
                tracing::debug!(%error, "reading the election failed; waiting for the session");
                match wait_connected(&mut states, session_timeout, stop).await {
                    Ok(Wait::Connected) => continue,
                    Ok(_) => return Ended::Stopped,
                    Err(reason) => return fenced(reason, leading),
                }
            }
        };
        if !view.children.iter().any(|c| c == node) {
            return fenced(format!("our znode {node} is gone"), leading);
        }
        let elected = view.leader.as_ref().is_some_and(|(n, _)| n == node);
        let leader = view.leader.map(|(_, info)| info);
        let current = (leader.clone(), elected);
        if last.as_ref() != Some(&current) {
            if elected {
                tracing::info!(%node, "elected leading master");
            }
            on_event(ContenderEvent::LeaderChanged { leader, elected });
            last = Some(current);
            if elected && !may_write {
                let agents = match registry::read(&client, path).await {
                    Ok(agents) => Some(agents),
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the agent registry");
                        None
                    }
                };
                on_event(ContenderEvent::Recovered { agents });
                may_write = true;
            }
        }
        let leading = elected;
        tokio::select! {
            _ = view.watcher.changed() => {}
            changed = published.changed(), if may_write => {
                if changed.is_err() {
                    may_write = false; // the owner is gone; stop is on its way
                    continue;
                }
                let agents = published.borrow_and_update().clone();
                if let Some((generation, agents)) = agents {
                    if write_registry(&client, path, &agents).await {
                        written.send_replace(Some(generation));
                    }
                }
            }
            state = states.changed() => {
                if terminal(state) {
                    return fenced(format!("zookeeper session {state:?}"), leading);
                }
                if state == SessionState::Disconnected {
                    match wait_connected(&mut states, session_timeout, stop).await {
                        Ok(Wait::Connected) => {}
                        Ok(_) => return Ended::Stopped,
                        Err(reason) => return fenced(reason, leading),
                    }
                }
            }
            _ = &mut *stop => break,
        }
    }
    // Graceful: delete our node so a standby is elected now, not one session timeout later.
    let own = format!("{path}/{node}");
    if let Err(error) = client.delete(&own, None).await {
        tracing::warn!(node = %own, %error, "could not delete our znode; the session close removes it");
    }
    tracing::info!(%node, "left the master election");
    Ended::Stopped
}

/// Writes the registry under a fresh generation; failures are logged (the next publish retries).
async fn write_registry(client: &Client, path: &str, agents: &[AgentRecord]) -> bool {
    // Unique and increasing across masters: the wall clock in nanoseconds.
    #[allow(clippy::disallowed_methods)]
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let generation = format!("{nanos:032x}");
    match registry::write(client, path, &generation, agents).await {
        Ok(()) => {
            tracing::debug!(agents = agents.len(), "published the agent registry");
            true
        }
        Err(error) => {
            tracing::warn!(%error, "cannot publish the agent registry");
            false
        }
    }
}

/// After a disconnect: `Connected` once reconnected, `Stopped` when the owner stops, and the
/// fencing reason as the error when the session is gone or cannot be proven alive.
async fn wait_connected(
    states: &mut zookeeper_client::StateWatcher,
    session_timeout: Duration,
    stop: &mut oneshot::Receiver<()>,
) -> Result<Wait, String> {
    let deadline = tokio::time::Instant::now() + disconnect_grace(session_timeout);
    loop {
        let state = states.peek_state();
        if terminal(state) {
            return Err(format!("zookeeper session {state:?}"));
        }
        // A read-only server cannot keep our node alive: only a full connection counts.
        if state == SessionState::SyncConnected {
            return Ok(Wait::Connected);
        }
        tokio::select! {
            _ = states.changed() => {}
            _ = tokio::time::sleep_until(deadline) => {
                return Err("disconnected from zookeeper for too long to be sure of the session".into());
            }
            _ = &mut *stop => return Ok(Wait::Stopped),
        }
    }
}
