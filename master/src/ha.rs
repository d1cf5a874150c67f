//! A master in a ZooKeeper election (issue 5): [`join_election`] wires a
//! [`mesos_zookeeper::MasterContender`] to a [`MasterHandle`] so that the master leads exactly
//! while elected, recovers from the agent registry its predecessor published, and publishes its
//! own registry while it leads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use mesos::{AgentId, FrameworkId, TaskId};
use mesos_zookeeper::{AgentRecord, ContenderEvent, MasterContender, ZkError, ZkUrl};

use crate::{MasterHandle, RegisteredAgent};

/// How often the publisher looks for a changed agent set (a write happens only on change).
const PUBLISH_PERIOD: Duration = Duration::from_millis(200);

/// A master's candidacy plus the thread that publishes its agent registry. Dropping it (or
/// [`Election::withdraw`]) leaves the election gracefully: a standby takes over at once.
pub struct Election {
    contender: Option<Arc<MasterContender>>,
    publisher: Option<JoinHandle<()>>,
    applier: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Election")
            .field("node", &self.contender.as_ref().map(|c| c.node()))
            .finish()
    }
}

/// Joins the election at `url` for `master` (spawned with `MasterConfig::standby`): it leads
/// while elected, holds offers until its predecessor's agents re-registered, and is fenced (made
/// a standby at once) when its session is lost; `on_lost_leadership` is then called if it was
/// leading (`mesos-master` exits there, as Mesos's does; a fenced standby just rejoins).
///
/// # Errors
/// [`ZkError`] when ZooKeeper cannot be reached or the node cannot be created.
pub fn join_election(
    url: &ZkUrl,
    master: &MasterHandle,
    session_timeout: Duration,
    on_lost_leadership: impl Fn(&str) + Send + 'static,
) -> Result<Election, ZkError> {
    // The contender's callback runs on the thread that keeps the ZooKeeper session alive: it
    // must never wait for the master process (its mailbox may hold tens of thousands of
    // re-registrations). Fencing takes effect there at once; everything else is applied, in
    // order, by a thread of its own.
    // Each event carries the number of fences before it: an election queued for the applier
    // before a fence must not make the fenced master lead again once the applier gets to it.
    let fences = Arc::new(AtomicU64::new(0));
    let (events, applier_rx) = std::sync::mpsc::channel::<(u64, ContenderEvent)>();
    let applier = {
        let (handle, fences) = (master.clone(), fences.clone());
        std::thread::Builder::new()
            .name("election-events".into())
            .spawn(move || {
                for (fenced_before, event) in applier_rx {
                    let stale = fenced_before != fences.load(Ordering::Acquire);
                    if stale && matches!(event, ContenderEvent::LeaderChanged { elected: true, .. })
                    {
                        tracing::info!("an election from before a fence: ignored");
                        continue;
                    }
                    apply(&handle, event, &on_lost_leadership);
                }
            })?
    };
    let fence = master.clone();
    let contender = Arc::new(MasterContender::start(
        url,
        master.info().clone(),
        session_timeout,
        move |event| {
            if matches!(event, ContenderEvent::Fenced { .. }) {
                fences.fetch_add(1, Ordering::AcqRel);
                fence.fence();
            }
            let _ = events.send((fences.load(Ordering::Acquire), event));
        },
    )?);
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (contender, master, stop) = (contender.clone(), master.clone(), stop.clone());
        std::thread::Builder::new()
            .name("registry-publisher".into())
            .spawn(move || publish_loop(&contender, &master, &stop))?
    };
    Ok(Election {
        contender: Some(contender),
        publisher: Some(publisher),
        applier: Some(applier),
        stop,
    })
}

/// Applies one election event to the master (blocking: runs on the applier thread).
fn apply(handle: &MasterHandle, event: ContenderEvent, on_lost_leadership: &impl Fn(&str)) {
    match event {
        ContenderEvent::LeaderChanged { leader, elected } => {
            handle.set_leadership(elected, leader);
        }
        ContenderEvent::Recovered { agents } => {
            handle.recover_agents(agents.map(|list| {
                list.into_iter()
                    .filter_map(|a| {
                        let pid = match a.pid.parse::<process::Upid>() {
                            Ok(pid) => Some(pid),
                            // A removed agent is remembered without its pid (it may never have
                            // been known); an admitted one cannot re-register under a bad pid.
                            Err(_) if a.unreachable => None,
                            Err(error) => {
                                tracing::warn!(agent = %a.id, pid = %a.pid, %error, "skipping a registry entry with a bad pid");
                                return None;
                            }
                        };
                        Some(RegisteredAgent {
                            id: AgentId::new(a.id),
                            hostname: a.hostname,
                            pid,
                            disconnected: a.disconnected,
                            unreachable: a.unreachable,
                            lost_tasks: a
                                .lost_tasks
                                .into_iter()
                                .map(|(f, t)| (FrameworkId::new(f), TaskId::new(t)))
                                .collect(),
                        })
                    })
                    .collect()
            }));
        }
        ContenderEvent::Fenced {
            reason,
            was_leading,
        } => {
            handle.set_leadership(false, None);
            if was_leading {
                on_lost_leadership(&reason);
            }
        }
    }
}

/// Publishes the registry whenever the leader's agent set changed.
fn publish_loop(contender: &MasterContender, master: &MasterHandle, stop: &AtomicBool) {
    let mut published: Option<u64> = None;
    let mut released: Option<u64> = None;
    while !stop.load(Ordering::Acquire) {
        if master.is_elected() {
            // What the written registry implies may be told now (held status updates go out).
            if let Some(written) = contender.written().filter(|w| released != Some(*w)) {
                master.registry_published(written);
                released = Some(written);
            }
            let generation = master.registry_generation();
            if published != Some(generation) {
                let (generation, agents) = master.registry();
                contender.publish(
                    generation,
                    agents
                        .into_iter()
                        .map(|a| AgentRecord {
                            id: a.id.as_str().to_string(),
                            hostname: a.hostname,
                            pid: a.pid.as_ref().map(ToString::to_string).unwrap_or_default(),
                            disconnected: a.disconnected,
                            unreachable: a.unreachable,
                            lost_tasks: a
                                .lost_tasks
                                .iter()
                                .map(|(f, t)| (f.to_string(), t.to_string()))
                                .collect(),
                        })
                        .collect(),
                );
                published = Some(generation);
            }
        } else {
            published = None;
            released = None;
        }
        std::thread::park_timeout(PUBLISH_PERIOD);
    }
}

impl Election {
    /// This master's current znode (`json.info_NNNNNNNNNN`).
    pub fn node(&self) -> String {
        self.contender
            .as_ref()
            .map(|c| c.node())
            .unwrap_or_default()
    }

    /// Leaves the election (deletes the znode so a standby is elected at once).
    pub fn withdraw(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(publisher) = self.publisher.take() {
            publisher.thread().unpark();
            let _ = publisher.join();
        }
        // The last reference: dropping it deletes the node and closes the session; its callback
        // (the applier's sender) goes with it, so the applier ends after the last event.
        drop(self.contender.take());
        if let Some(applier) = self.applier.take() {
            let _ = applier.join();
        }
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        self.shutdown();
    }
}
