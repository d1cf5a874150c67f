//! [`ZooKeeperDetector`]: follows the election for agents, schedulers and tools.

use std::sync::Arc;
use std::time::Duration;

use mesos::scheduler::{LeaderCallback, MasterDetector};
use mesos::MasterInfo;
use parking_lot::{Condvar, Mutex};
use process::Upid;
use tokio::sync::oneshot;
use zookeeper_client::{Client, SessionState};

use crate::url::ZkUrl;
use crate::watch::{read_election, runtime};
use crate::ZkError;

#[derive(Default)]
struct Shared {
    leader: Mutex<Option<MasterInfo>>,
    changed: Condvar,
    watchers: Mutex<Vec<LeaderCallback>>,
}

impl Shared {
    fn publish(&self, leader: Option<MasterInfo>) {
        {
            let mut current = self.leader.lock();
            if *current == leader {
                return;
            }
            tracing::info!(leader = ?leader.as_ref().and_then(|l| l.pid.as_deref()), "leading master changed");
            *current = leader.clone();
            self.changed.notify_all();
        }
        let pid = leader.as_ref().and_then(pid_of);
        let watchers = self.watchers.lock().clone();
        for watcher in watchers {
            watcher(pid.clone());
        }
    }
}

fn pid_of(info: &MasterInfo) -> Option<Upid> {
    info.pid.as_deref().and_then(|pid| pid.parse().ok())
}

/// Finds the leading master through ZooKeeper, as Mesos's `ZooKeeperMasterDetector`: watches the
/// `json.info_*` children of the URL's path and reports every change of leader (or its absence)
/// to the callbacks given to [`MasterDetector::watch`]. It reconnects by itself (with a new
/// session) when its session expires: it holds no znode, so nothing is lost.
pub struct ZooKeeperDetector {
    shared: Arc<Shared>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl std::fmt::Debug for ZooKeeperDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZooKeeperDetector")
            .field("leader", &*self.shared.leader.lock())
            .finish()
    }
}

impl ZooKeeperDetector {
    /// Starts watching the election under `url` on a thread of its own; returns at once (the
    /// first leader arrives through [`ZooKeeperDetector::wait_for_leader`] or the callbacks).
    ///
    /// # Errors
    /// [`ZkError::Thread`] when the thread cannot start.
    pub fn start(url: &ZkUrl, session_timeout: Duration) -> Result<ZooKeeperDetector, ZkError> {
        let shared = Arc::new(Shared::default());
        let (stop_tx, stop_rx) = oneshot::channel();
        let runtime = runtime()?;
        let url = url.clone();
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name("zk-detector".into())
            .spawn(move || {
                crate::watch::favour_session_thread();
                runtime.block_on(detect(url, session_timeout, thread_shared, stop_rx));
            })?;
        Ok(ZooKeeperDetector {
            shared,
            stop: Mutex::new(Some(stop_tx)),
        })
    }

    /// Parses `zk://...` and starts a detector with Mesos's 10 s session timeout.
    ///
    /// # Errors
    /// A malformed URL, or [`ZkError::Thread`].
    pub fn from_url(url: &str) -> Result<ZooKeeperDetector, ZkError> {
        ZooKeeperDetector::start(&url.parse()?, Duration::from_secs(10))
    }

    /// The leading master's info, if one is known.
    pub fn leader_info(&self) -> Option<MasterInfo> {
        self.shared.leader.lock().clone()
    }

    /// Blocks until a leader is known (or `timeout` passes) and returns it.
    pub fn wait_for_leader(&self, timeout: Duration) -> Option<Upid> {
        self.wait_until(timeout, |leader| leader.is_some())
            .as_ref()
            .and_then(pid_of)
    }

    /// Blocks until the leader is not `old` (a new one, or none) or `timeout` passes; returns the
    /// leader then.
    pub fn wait_for_change(&self, old: Option<&Upid>, timeout: Duration) -> Option<Upid> {
        let old = old.cloned();
        self.wait_until(timeout, |leader| leader.as_ref().and_then(pid_of) != old)
            .as_ref()
            .and_then(pid_of)
    }

    fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&Option<MasterInfo>) -> bool,
    ) -> Option<MasterInfo> {
        let mut leader = self.shared.leader.lock();
        // Waiting on a condvar with a timeout: a wall-clock wait, on purpose (ZooKeeper is real).
        let _ = self
            .shared
            .changed
            .wait_while_for(&mut leader, |l| !done(l), timeout);
        leader.clone()
    }

    /// Stops watching (also on drop).
    pub fn stop(&self) {
        if let Some(stop) = self.stop.lock().take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for ZooKeeperDetector {
    fn drop(&mut self) {
        self.stop();
    }
}

impl MasterDetector for ZooKeeperDetector {
    fn leader(&self) -> Option<Upid> {
        self.shared.leader.lock().as_ref().and_then(pid_of)
    }

    fn watch(&self, on_change: LeaderCallback) {
        self.shared.watchers.lock().push(on_change);
    }
}

/// Connects (again after every lost session) and follows the election until stopped.
async fn detect(
    url: ZkUrl,
    session_timeout: Duration,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let connect = Client::connector()
            .with_session_timeout(session_timeout)
            .connect(&url.servers);
        let client = tokio::select! {
            client = connect => client,
            _ = &mut stop => return,
        };
        match client {
            Ok(client) => {
                backoff = Duration::from_millis(100);
                if follow(&client, &url.path, &shared, &mut stop).await {
                    return;
                }
            }
            Err(error) => tracing::warn!(zk = %url, %error, "cannot reach zookeeper; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = &mut stop => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Follows the election on one session; `true` when stopped, `false` when the session ended.
async fn follow(
    client: &Client,
    path: &str,
    shared: &Shared,
    stop: &mut oneshot::Receiver<()>,
) -> bool {
    let mut states = client.state_watcher();
    loop {
        let view = tokio::select! {
            view = read_election(client, path) => view,
            _ = &mut *stop => return true,
        };
        match view {
            Ok(view) => {
                shared.publish(view.leader.map(|(_, info)| info));
                tokio::select! {
                    _ = view.watcher.changed() => {}
                    state = states.changed() => {
                        if matches!(state, SessionState::Expired | SessionState::Closed | SessionState::AuthFailed) {
                            tracing::warn!(?state, "detector session ended; reconnecting");
                            return false;
                        }
                    }
                    _ = &mut *stop => return true,
                }
            }
            Err(error) => {
                let state = client.state();
                if matches!(
                    state,
                    SessionState::Expired | SessionState::Closed | SessionState::AuthFailed
                ) {
                    tracing::warn!(?state, %error, "detector session ended; reconnecting");
                    return false;
                }
                // Disconnected: keep the last leader (as Mesos does) and wait for the session.
                tokio::select! {
                    _ = states.changed() => {}
                    _ = &mut *stop => return true,
                }
            }
        }
    }
}
