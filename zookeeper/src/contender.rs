//! [`MasterContender`]: a master's place in the election, with fencing on session loss.

use std::time::Duration;

use mesos::MasterInfo;
use tokio::sync::oneshot;
use zookeeper_client::{Acls, Client, CreateMode, SessionState};

use crate::election::{encode_info, INFO_PREFIX};
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
    /// acting as leader at once. Terminal: the contender has stopped; contend again with a new
    /// [`MasterContender`] or exit, as Mesos does.
    Fenced {
        /// What happened, for the log.
        reason: String,
    },
}

/// A master's candidacy: an ephemeral sequential `json.info_*` znode and a thread watching the
/// election. Dropping it (or [`MasterContender::withdraw`]) deletes the znode and closes the
/// session, so a standby takes over at once.
#[derive(Debug)]
pub struct MasterContender {
    node: String,
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
        let url = url.clone();
        let thread = std::thread::Builder::new()
            .name("zk-contender".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let joined = join(&url, &data, session_timeout).await;
                    let (client, node) = match joined {
                        Ok(joined) => joined,
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(node.clone()));
                    contend(
                        client,
                        &url.path,
                        &node,
                        session_timeout,
                        stop_rx,
                        &on_event,
                    )
                    .await;
                })
            })?;
        match ready_rx.recv() {
            Ok(Ok(node)) => Ok(MasterContender {
                node,
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

    /// This contender's znode name (`json.info_NNNNNNNNNN`).
    pub fn node(&self) -> &str {
        &self.node
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
/// session one full timeout after it last heard from us. Stepping down a third of the timeout
/// after the disconnect is noticed keeps this master from leading past its session.
fn disconnect_grace(session_timeout: Duration) -> Duration {
    session_timeout / 3
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
    mut stop: oneshot::Receiver<()>,
    on_event: &(impl Fn(ContenderEvent) + Send),
) {
    let mut states = client.state_watcher();
    let mut last: Option<(Option<MasterInfo>, bool)> = None;
    let fenced = |reason: String| {
        tracing::warn!(%node, %reason, "fenced: no longer contending for leadership");
        on_event(ContenderEvent::Fenced { reason });
    };
    loop {
        let view = tokio::select! {
            view = read_election(&client, path) => view,
            _ = &mut stop => break,
        };
        let view = match view {
            Ok(view) => view,
            Err(error) => {
                let state = client.state();
                if terminal(state) {
                    return fenced(format!("zookeeper session {state:?}: {error}"));
                }
                // Connection trouble: the state watcher below decides whether we are fenced.
                tracing::debug!(%error, "reading the election failed; waiting for the session");
                if !wait_connected(&mut states, session_timeout, &mut stop, &fenced).await {
                    return;
                }
                continue;
            }
        };
        if !view.children.iter().any(|c| c == node) {
            return fenced(format!("our znode {node} is gone"));
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
        }
        tokio::select! {
            _ = view.watcher.changed() => {}
            state = states.changed() => {
                if terminal(state) {
                    return fenced(format!("zookeeper session {state:?}"));
                }
                if state == SessionState::Disconnected
                    && !wait_connected(&mut states, session_timeout, &mut stop, &fenced).await
                {
                    return;
                }
            }
            _ = &mut stop => break,
        }
    }
    // Graceful: delete our node so a standby is elected now, not one session timeout later.
    let own = format!("{path}/{node}");
    if let Err(error) = client.delete(&own, None).await {
        tracing::warn!(node = %own, %error, "could not delete our znode; the session close removes it");
    }
    tracing::info!(%node, "left the master election");
}

/// After a disconnect: `true` once reconnected; `false` when fenced (reported) or stopped.
async fn wait_connected(
    states: &mut zookeeper_client::StateWatcher,
    session_timeout: Duration,
    stop: &mut oneshot::Receiver<()>,
    fenced: &impl Fn(String),
) -> bool {
    let deadline = tokio::time::Instant::now() + disconnect_grace(session_timeout);
    loop {
        let state = states.peek_state();
        if terminal(state) {
            fenced(format!("zookeeper session {state:?}"));
            return false;
        }
        // A read-only server cannot keep our node alive: only a full connection counts.
        if state == SessionState::SyncConnected {
            return true;
        }
        tokio::select! {
            _ = states.changed() => {}
            _ = tokio::time::sleep_until(deadline) => {
                fenced("disconnected from zookeeper for too long to be sure of the session".into());
                return false;
            }
            _ = &mut *stop => return false,
        }
    }
}
