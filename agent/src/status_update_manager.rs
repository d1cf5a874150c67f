//! [`StatusUpdateManager`]: delivers every task's status updates to the master reliably and in order.
//!
//! One stream per task. Only the head of a stream is in flight: the next update of a task goes out
//! after the previous one is acknowledged, so a scheduler sees a task's states in order. The head is
//! resent with exponential backoff (first after `retry_min`, doubling up to `retry_max`) until it is
//! acknowledged — never dropped. Pure: the caller passes `now` and sends what comes back.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use mesos::protocol::StatusUpdate;
use mesos::{FrameworkId, TaskId, Uuid};

/// Mesos's `STATUS_UPDATE_RETRY_INTERVAL_MIN`.
pub const DEFAULT_RETRY_MIN: Duration = Duration::from_secs(10);
/// Mesos's `STATUS_UPDATE_RETRY_INTERVAL_MAX`.
pub const DEFAULT_RETRY_MAX: Duration = Duration::from_secs(600);

/// An acknowledgement that does not match what the manager holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// No updates are pending for the task.
    #[error("no status update stream for task {task_id} of framework {framework_id}")]
    UnknownStream {
        /// The framework.
        framework_id: FrameworkId,
        /// The task.
        task_id: TaskId,
    },
    /// The uuid is not the update in flight (a duplicate or stale acknowledgement).
    #[error("unexpected acknowledgement {uuid} for task {task_id}")]
    UnexpectedUuid {
        /// The task.
        task_id: TaskId,
        /// The acknowledged uuid.
        uuid: Uuid,
    },
}

/// What an acknowledgement did.
#[derive(Debug, Clone, PartialEq)]
pub struct Acknowledged {
    /// The update acknowledged.
    pub update: StatusUpdate,
    /// The next update of the task, to send now.
    pub next: Option<StatusUpdate>,
    /// The acknowledged update was terminal: the task's stream is closed and its resources can go.
    pub terminal: bool,
}

#[derive(Debug)]
struct Stream {
    /// Every uuid this stream took (pending or acknowledged): a second copy is a duplicate.
    received: HashSet<Uuid>,
    pending: VecDeque<StatusUpdate>,
    /// When the head is due again, and the wait after that.
    retry_at: Option<Instant>,
    backoff: Duration,
}

/// Per-task streams of status updates awaiting the master's acknowledgement.
#[derive(Debug)]
pub struct StatusUpdateManager {
    retry_min: Duration,
    retry_max: Duration,
    // Ordered: `due` and `resume` resend in a stable order, so a run replays exactly.
    streams: BTreeMap<(FrameworkId, TaskId), Stream>,
    /// Whether updates can reach a master now; while not, nothing is sent or retried.
    paused: bool,
}

impl Default for StatusUpdateManager {
    fn default() -> StatusUpdateManager {
        StatusUpdateManager::new(DEFAULT_RETRY_MIN, DEFAULT_RETRY_MAX)
    }
}

impl StatusUpdateManager {
    /// A manager that retries after `retry_min`, doubling up to `retry_max`. Starts paused (no master).
    pub fn new(retry_min: Duration, retry_max: Duration) -> StatusUpdateManager {
        StatusUpdateManager {
            retry_min,
            retry_max: retry_max.max(retry_min),
            streams: BTreeMap::new(),
            paused: true,
        }
    }

    /// Whether `update` was taken already (pending, or acknowledged while its stream is open).
    pub fn is_duplicate(&self, update: &StatusUpdate) -> bool {
        self.streams
            .get(&(update.framework_id.clone(), update.status.task_id.clone()))
            .is_some_and(|s| s.received.contains(&update.uuid))
    }

    /// Takes a new update. Returns it if it should be sent now (it heads its stream and a master is
    /// connected). A duplicate (a uuid the stream took before) is ignored.
    pub fn update(&mut self, now: Instant, update: StatusUpdate) -> Option<StatusUpdate> {
        let key = (update.framework_id.clone(), update.status.task_id.clone());
        let stream = self.streams.entry(key).or_insert_with(|| Stream {
            received: HashSet::new(),
            pending: VecDeque::new(),
            retry_at: None,
            backoff: self.retry_min,
        });
        if !stream.received.insert(update.uuid) {
            return None;
        }
        stream.pending.push_back(update);
        if stream.pending.len() == 1 && !self.paused {
            stream.retry_at = Some(now + self.retry_min);
            stream.backoff = self.retry_min;
            return stream.pending.front().cloned();
        }
        None
    }

    /// Rebuilds a task's stream from its checkpointed log (agent recovery): updates are taken in
    /// order, each acknowledgement retires the head. A stream whose terminal update was
    /// acknowledged is closed. Nothing is sent: the manager stays paused until the agent
    /// re-registers, then [`resume`](Self::resume) sends each head.
    pub fn replay(
        &mut self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        records: &[crate::checkpoint::UpdateRecord],
    ) {
        use crate::checkpoint::UpdateRecord;
        let key = (framework_id.clone(), task_id.clone());
        let mut stream = Stream {
            received: HashSet::new(),
            pending: VecDeque::new(),
            retry_at: None,
            backoff: self.retry_min,
        };
        for record in records {
            match record {
                UpdateRecord::Update(update) => {
                    if stream.received.insert(update.uuid) {
                        stream.pending.push_back(update.clone());
                    }
                }
                UpdateRecord::Ack(uuid) => {
                    if stream.pending.front().map(|u| u.uuid) != Some(*uuid) {
                        continue;
                    }
                    let acked = stream.pending.pop_front();
                    if acked.is_some_and(|u| u.status.state.is_terminal()) {
                        self.streams.remove(&key);
                        return;
                    }
                }
            }
        }
        if !stream.received.is_empty() {
            self.streams.insert(key, stream);
        }
    }

    /// The master acknowledged `uuid` for a task. Closes the stream after a terminal update.
    ///
    /// # Errors
    /// [`AckError`] if nothing is pending for the task or `uuid` is not the update in flight.
    pub fn acknowledge(
        &mut self,
        now: Instant,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        uuid: Uuid,
    ) -> Result<Acknowledged, AckError> {
        let key = (framework_id.clone(), task_id.clone());
        let Some(stream) = self.streams.get_mut(&key) else {
            return Err(AckError::UnknownStream {
                framework_id: framework_id.clone(),
                task_id: task_id.clone(),
            });
        };
        if stream.pending.front().map(|u| u.uuid) != Some(uuid) {
            return Err(AckError::UnexpectedUuid {
                task_id: task_id.clone(),
                uuid,
            });
        }
        let update = stream.pending.pop_front().ok_or(AckError::UnexpectedUuid {
            task_id: task_id.clone(),
            uuid,
        })?;
        let terminal = update.status.state.is_terminal();
        stream.backoff = self.retry_min;
        stream.retry_at = None;
        let mut next = None;
        if terminal {
            // After a terminal update nothing more can follow: the stream is done (later updates of a
            // finished task would be bogus and are discarded, as in Mesos). An open stream stays,
            // empty or not, to recognize an update sent again.
            self.streams.remove(&key);
        } else if !self.paused && !stream.pending.is_empty() {
            stream.retry_at = Some(now + self.retry_min);
            next = stream.pending.front().cloned();
        }
        Ok(Acknowledged {
            update,
            next,
            terminal,
        })
    }

    /// The updates whose retry time has come; each is rescheduled with a doubled wait.
    pub fn due(&mut self, now: Instant) -> Vec<StatusUpdate> {
        if self.paused {
            return Vec::new();
        }
        let mut out = Vec::new();
        for stream in self.streams.values_mut() {
            if let (Some(at), Some(head)) = (stream.retry_at, stream.pending.front()) {
                if at <= now {
                    stream.backoff = (stream.backoff * 2).min(self.retry_max);
                    stream.retry_at = Some(now + stream.backoff);
                    out.push(head.clone());
                }
            }
        }
        out.sort_by(|a, b| a.timestamp.total_cmp(&b.timestamp));
        out
    }

    /// When [`due`](Self::due) next has something, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.paused {
            return None;
        }
        self.streams.values().filter_map(|s| s.retry_at).min()
    }

    /// The master is gone: stop sending until [`resume`](Self::resume). Nothing is dropped.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// A master is (re)connected: returns every stream's head to send now, and restarts retries.
    pub fn resume(&mut self, now: Instant) -> Vec<StatusUpdate> {
        self.paused = false;
        let mut out = Vec::new();
        for stream in self.streams.values_mut() {
            if let Some(head) = stream.pending.front() {
                stream.backoff = self.retry_min;
                stream.retry_at = Some(now + self.retry_min);
                out.push(head.clone());
            }
        }
        out.sort_by(|a, b| a.timestamp.total_cmp(&b.timestamp));
        out
    }

    /// Whether updates are held back because no master is connected.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The update in flight for a task (for `status_update_state` when re-registering).
    pub fn head(&self, framework_id: &FrameworkId, task_id: &TaskId) -> Option<&StatusUpdate> {
        self.streams
            .get(&(framework_id.clone(), task_id.clone()))
            .and_then(|s| s.pending.front())
    }

    /// How many updates are pending, per framework.
    pub fn pending_counts(&self) -> BTreeMap<FrameworkId, usize> {
        let mut counts = BTreeMap::new();
        for ((framework_id, _), stream) in &self.streams {
            if !stream.pending.is_empty() {
                *counts.entry(framework_id.clone()).or_default() += stream.pending.len();
            }
        }
        counts
    }

    /// The master declared the task LOST (its scheduler was told and must never hear it run):
    /// the non-terminal updates at the head of its stream are retired as if acknowledged, so no
    /// later master (one that does not know the task was declared lost) forwards them. A
    /// terminal update, and whatever follows it, stays: the task's end must still be reported.
    /// Returns the retired uuids (to checkpoint as acknowledged, in order) and the new head to
    /// send now, if any.
    pub fn retire_non_terminal(
        &mut self,
        now: Instant,
        framework_id: &FrameworkId,
        task_id: &TaskId,
    ) -> (Vec<Uuid>, Option<StatusUpdate>) {
        let key = (framework_id.clone(), task_id.clone());
        let Some(stream) = self.streams.get_mut(&key) else {
            return (Vec::new(), None);
        };
        let mut retired = Vec::new();
        while let Some(head) = stream.pending.front() {
            if head.status.state.is_terminal() {
                break;
            }
            retired.push(head.uuid);
            stream.pending.pop_front();
        }
        if retired.is_empty() {
            return (retired, None);
        }
        stream.backoff = self.retry_min;
        stream.retry_at = None;
        let mut next = None;
        if !self.paused && !stream.pending.is_empty() {
            stream.retry_at = Some(now + self.retry_min);
            next = stream.pending.front().cloned();
        }
        (retired, next)
    }

    /// Forgets every stream of a framework that was shut down (its scheduler will never acknowledge).
    pub fn remove_framework(&mut self, framework_id: &FrameworkId) {
        self.streams.retain(|(f, _), _| f != framework_id);
    }

    /// Forgets everything (the agent was removed by the master and starts over).
    pub fn clear(&mut self) {
        self.streams.clear();
    }

    /// Whether any update of `task_id` is still pending.
    pub fn has_pending(&self, framework_id: &FrameworkId, task_id: &TaskId) -> bool {
        self.streams
            .get(&(framework_id.clone(), task_id.clone()))
            .is_some_and(|s| !s.pending.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos::{TaskState, TaskStatus};

    fn update(task: &str, state: TaskState, n: u8, ts: f64) -> StatusUpdate {
        StatusUpdate {
            framework_id: FrameworkId::new("f"),
            executor_id: None,
            agent_id: None,
            status: TaskStatus::new(TaskId::new(task), state),
            timestamp: ts,
            uuid: Uuid::v4_from([n; 16]),
        }
    }

    fn manager(now: Instant) -> StatusUpdateManager {
        let mut m = StatusUpdateManager::default();
        assert!(m.resume(now).is_empty());
        m
    }

    fn ack(m: &mut StatusUpdateManager, now: Instant, task: &str, n: u8) -> Acknowledged {
        m.acknowledge(
            now,
            &FrameworkId::new("f"),
            &TaskId::new(task),
            Uuid::v4_from([n; 16]),
        )
        .unwrap()
    }

    #[test]
    fn a_task_s_updates_go_out_one_at_a_time_in_order() {
        let t0 = Instant::now();
        let mut m = manager(t0);
        assert_eq!(
            m.update(t0, update("t", TaskState::Starting, 1, 1.0))
                .unwrap()
                .uuid,
            Uuid::v4_from([1; 16])
        );
        assert_eq!(m.update(t0, update("t", TaskState::Running, 2, 2.0)), None);
        assert_eq!(m.update(t0, update("t", TaskState::Finished, 3, 3.0)), None);
        // Another task's stream is independent.
        assert!(m
            .update(t0, update("u", TaskState::Running, 9, 1.5))
            .is_some());
        let a = ack(&mut m, t0, "t", 1);
        assert_eq!(a.next.unwrap().status.state, TaskState::Running);
        assert!(!a.terminal);
        let a = ack(&mut m, t0, "t", 2);
        assert_eq!(a.next.unwrap().status.state, TaskState::Finished);
        let a = ack(&mut m, t0, "t", 3);
        assert!(a.terminal);
        assert_eq!(a.next, None);
        assert!(!m.has_pending(&FrameworkId::new("f"), &TaskId::new("t")));
    }

    #[test]
    fn a_lost_task_s_non_terminal_updates_are_retired_and_its_end_still_goes_out() {
        let t0 = Instant::now();
        let mut m = manager(t0);
        let (f, t) = (FrameworkId::new("f"), TaskId::new("t"));
        assert!(m
            .update(t0, update("t", TaskState::Starting, 1, 1.0))
            .is_some());
        assert_eq!(m.update(t0, update("t", TaskState::Running, 2, 2.0)), None);
        assert_eq!(m.update(t0, update("t", TaskState::Killed, 3, 3.0)), None);
        let (retired, next) = m.retire_non_terminal(t0, &f, &t);
        assert_eq!(
            retired,
            vec![Uuid::v4_from([1; 16]), Uuid::v4_from([2; 16])]
        );
        assert_eq!(next.unwrap().status.state, TaskState::Killed);
        // A retired update sent again by its executor is a duplicate, not a new one.
        assert!(m.is_duplicate(&update("t", TaskState::Running, 2, 2.0)));
        // Only the terminal update is retried now.
        let due = m.due(t0 + Duration::from_secs(10));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].status.state, TaskState::Killed);
        assert!(ack(&mut m, t0, "t", 3).terminal);
        // Nothing pending: nothing to retire.
        assert!(m
            .update(t0, update("u", TaskState::Running, 4, 1.0))
            .is_some());
        ack(&mut m, t0, "u", 4);
        assert_eq!(
            m.retire_non_terminal(t0, &f, &TaskId::new("u")),
            (Vec::new(), None)
        );
    }

    #[test]
    fn unacknowledged_updates_are_retried_with_doubling_backoff_up_to_the_max() {
        let t0 = Instant::now();
        let mut m = StatusUpdateManager::new(Duration::from_secs(10), Duration::from_secs(35));
        m.resume(t0);
        m.update(t0, update("t", TaskState::Running, 1, 1.0))
            .unwrap();
        assert_eq!(m.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        assert!(m.due(t0 + Duration::from_secs(9)).is_empty());
        let mut at = t0 + Duration::from_secs(10);
        let mut waits = Vec::new();
        for _ in 0..5 {
            assert_eq!(m.due(at).len(), 1, "resent at {:?}", at - t0);
            let next = m.poll_timeout().unwrap();
            waits.push((next - at).as_secs());
            at = next;
        }
        assert_eq!(waits, vec![20, 35, 35, 35, 35]);
        // Still there after all those retries: never dropped.
        assert!(m.has_pending(&FrameworkId::new("f"), &TaskId::new("t")));
        ack(&mut m, at, "t", 1);
        assert_eq!(m.poll_timeout(), None);
        assert!(m.due(at + Duration::from_secs(3600)).is_empty());
    }

    #[test]
    fn nothing_is_dropped_while_no_master_is_connected() {
        let t0 = Instant::now();
        let mut m = manager(t0);
        m.update(t0, update("t", TaskState::Running, 1, 1.0))
            .unwrap();
        m.pause();
        assert_eq!(m.update(t0, update("u", TaskState::Running, 2, 2.0)), None);
        assert!(m.due(t0 + Duration::from_secs(1000)).is_empty());
        assert_eq!(m.poll_timeout(), None);
        let resent = m.resume(t0 + Duration::from_secs(1000));
        assert_eq!(
            resent.iter().map(|u| u.uuid).collect::<Vec<_>>(),
            vec![Uuid::v4_from([1; 16]), Uuid::v4_from([2; 16])]
        );
    }

    #[test]
    fn a_replayed_log_resumes_where_it_stopped() {
        use crate::checkpoint::UpdateRecord;
        let t0 = Instant::now();
        let mut m = StatusUpdateManager::default();
        let (f, t) = (FrameworkId::new("f"), TaskId::new("t"));
        m.replay(
            &f,
            &t,
            &[
                UpdateRecord::Update(update("t", TaskState::Starting, 1, 1.0)),
                UpdateRecord::Ack(Uuid::v4_from([1; 16])),
                UpdateRecord::Update(update("t", TaskState::Running, 2, 2.0)),
                UpdateRecord::Update(update("t", TaskState::Finished, 3, 3.0)),
            ],
        );
        // Paused until re-registered; then the head goes first, the rest after its ack.
        assert!(m.due(t0 + Duration::from_secs(100)).is_empty());
        let resent = m.resume(t0);
        assert_eq!(resent.len(), 1);
        assert_eq!(resent[0].status.state, TaskState::Running);
        // What was taken before the restart is still recognized.
        assert!(m.is_duplicate(&update("t", TaskState::Starting, 1, 1.0)));
        assert!(m.is_duplicate(&update("t", TaskState::Finished, 3, 3.0)));
        let a = ack(&mut m, t0, "t", 2);
        assert_eq!(a.next.unwrap().status.state, TaskState::Finished);
        // A log ending with an acknowledged terminal update leaves no stream.
        let u = TaskId::new("u");
        m.replay(
            &f,
            &u,
            &[
                UpdateRecord::Update(update("u", TaskState::Finished, 9, 1.0)),
                UpdateRecord::Ack(Uuid::v4_from([9; 16])),
            ],
        );
        assert!(!m.has_pending(&f, &u));
        assert_eq!(m.pending_counts()[&f], 1);
    }

    #[test]
    fn bad_acknowledgements_are_refused_and_change_nothing() {
        let t0 = Instant::now();
        let mut m = manager(t0);
        m.update(t0, update("t", TaskState::Running, 1, 1.0))
            .unwrap();
        m.update(t0, update("t", TaskState::Finished, 2, 2.0));
        let err = m
            .acknowledge(
                t0,
                &FrameworkId::new("f"),
                &TaskId::new("t"),
                Uuid::v4_from([2; 16]),
            )
            .unwrap_err();
        assert!(matches!(err, AckError::UnexpectedUuid { .. }));
        let err = m
            .acknowledge(
                t0,
                &FrameworkId::new("f"),
                &TaskId::new("x"),
                Uuid::v4_from([1; 16]),
            )
            .unwrap_err();
        assert!(matches!(err, AckError::UnknownStream { .. }));
        assert_eq!(
            m.head(&FrameworkId::new("f"), &TaskId::new("t"))
                .unwrap()
                .uuid,
            Uuid::v4_from([1; 16])
        );
        // A duplicate update is not queued twice.
        assert!(m.is_duplicate(&update("t", TaskState::Running, 1, 1.0)));
        assert_eq!(m.update(t0, update("t", TaskState::Running, 1, 1.0)), None);
        assert_eq!(m.pending_counts()[&FrameworkId::new("f")], 2);
        // Nor one already acknowledged while the stream is open (an executor resending it).
        ack(&mut m, t0, "t", 1);
        assert!(m.is_duplicate(&update("t", TaskState::Running, 1, 1.0)));
        assert_eq!(m.update(t0, update("t", TaskState::Running, 1, 1.0)), None);
        assert_eq!(m.pending_counts()[&FrameworkId::new("f")], 1);
    }
}
