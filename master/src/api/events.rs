//! The operator API's SUBSCRIBE: a RecordIO stream per subscriber, opened with SUBSCRIBED
//! (the whole GET_STATE) and then carrying TASK_ADDED, TASK_UPDATED, FRAMEWORK_ADDED,
//! FRAMEWORK_UPDATED, FRAMEWORK_REMOVED, AGENT_ADDED, AGENT_REMOVED and HEARTBEAT.
//!
//! Events come from the core's [`Change`] log, drained after every input on the master actor,
//! so they are in the order the core made the changes, and a new subscriber's snapshot is taken
//! between two inputs: no change is missed or seen twice. Each stream has the same cap on
//! unread bytes as a scheduler's; a reader that falls further behind is disconnected.

use std::collections::BTreeMap;

use mesos::v1::operator::envelope;
use mesos::v1::scheduler::event;
use mesos::v1::to_v1_json;
use process::http::{HttpStream, Response};
use process::Context;
use serde_json::{json, Value as Json};

use super::operator::{agent, framework, task};
use super::record;
use crate::core::{Change, MasterCore};
use crate::process::MasterProcess;
use crate::snapshot::Snapshot;

/// The open operator event streams.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    open: BTreeMap<u64, HttpStream>,
    /// What each subscriber may see, for those the ACLs restrict (`view_*`).
    filters: BTreeMap<u64, crate::acl_view::ViewFilter>,
    /// Subscribers whose SUBSCRIBED is being rendered, with the events since their snapshot.
    pending: BTreeMap<u64, (HttpStream, Vec<Vec<u8>>)>,
    next: u64,
}

impl Subscribers {
    /// Whether nobody is subscribed.
    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_empty() && self.pending.is_empty()
    }

    /// Sends `records` (the `events` rendered) to every subscriber that may see them, dropping
    /// those whose stream is gone or overflowed.
    pub(crate) fn broadcast(&mut self, events: &[Json], records: &[Vec<u8>]) {
        for (id, (_, buffered)) in self.pending.iter_mut() {
            match self.filters.get_mut(id) {
                None => buffered.extend_from_slice(records),
                Some(filter) => {
                    for (event, record) in events.iter().zip(records) {
                        filter.learn(event);
                        if filter.event_visible(event) {
                            buffered.push(record.clone());
                        }
                    }
                }
            }
        }
        let filters = &mut self.filters;
        self.open.retain(|id, stream| {
            let mut filter = filters.get_mut(id);
            for (event, record) in events.iter().zip(records) {
                if let Some(filter) = filter.as_deref_mut() {
                    filter.learn(event);
                    if !filter.event_visible(event) {
                        continue;
                    }
                }
                if let Err(error) = stream.send(record) {
                    tracing::info!(subscriber = id, %error, "operator event stream closed");
                    return false;
                }
            }
            true
        });
    }

    /// Sends one record to one subscriber; false when it is gone.
    fn send(&mut self, id: u64, record: &[u8]) -> bool {
        let Some(stream) = self.open.get(&id) else {
            return false;
        };
        if let Err(error) = stream.send(record) {
            tracing::info!(subscriber = id, %error, "operator event stream closed");
            self.open.remove(&id);
            return false;
        }
        true
    }

    /// Ends every stream (this master stops or starts leading: its state starts over).
    pub(crate) fn close_all(&mut self) {
        self.filters.clear();
        for (_, stream) in std::mem::take(&mut self.open) {
            stream.close();
        }
        for (_, (stream, _)) in std::mem::take(&mut self.pending) {
            stream.close();
        }
    }
}

/// One change as its operator event, or `None` when what it names is gone already (a
/// framework or agent added and removed within one input).
pub(crate) fn render(core: &MasterCore, change: Change) -> Option<Json> {
    let event = match change {
        Change::TaskAdded(t) => envelope("TASK_ADDED", Some(json!({ "task": task(&t) }))),
        Change::TaskUpdated {
            framework_id,
            state,
            status,
        } => envelope(
            "TASK_UPDATED",
            Some(json!({
                "framework_id": to_v1_json(&framework_id),
                "status": event::status(&status),
                "state": state.as_str(),
            })),
        ),
        Change::FrameworkAdded(id) => {
            let f = find_framework(core, &id)?;
            envelope(
                "FRAMEWORK_ADDED",
                Some(json!({ "framework": framework(f) })),
            )
        }
        Change::FrameworkUpdated(id) => {
            let f = find_framework(core, &id)?;
            envelope(
                "FRAMEWORK_UPDATED",
                Some(json!({ "framework": framework(f) })),
            )
        }
        Change::FrameworkRemoved(info) => envelope(
            "FRAMEWORK_REMOVED",
            Some(json!({ "framework_info": to_v1_json(&info) })),
        ),
        Change::AgentAdded(id) => {
            let a = core.agents().get(&id)?;
            envelope("AGENT_ADDED", Some(json!({ "agent": agent(core, a) })))
        }
        Change::AgentRemoved(id) => envelope(
            "AGENT_REMOVED",
            Some(json!({ "agent_id": to_v1_json(&id) })),
        ),
    };
    Some(event)
}

fn find_framework<'a>(
    core: &'a MasterCore,
    id: &mesos::FrameworkId,
) -> Option<&'a crate::core::Framework> {
    core.frameworks().get(id).or_else(|| {
        core.completed_frameworks()
            .iter()
            .rev()
            .find(|f| f.id == *id)
    })
}

impl MasterProcess {
    /// Operator SUBSCRIBE: `200` chunked, SUBSCRIBED with the whole state, a HEARTBEAT at
    /// once (clients that hand over an event only when the next one starts see SUBSCRIBED
    /// without waiting an interval), then one every heartbeat interval and every change.
    ///
    /// SUBSCRIBED is rendered from a snapshot on another thread (see [`crate::snapshot`]); the
    /// changes made meanwhile wait with the subscriber and follow it, in order.
    pub(crate) fn subscribe_operator(
        &mut self,
        ctx: &mut Context<'_, Self>,
        filter: Option<crate::acl_view::ViewFilter>,
    ) -> Response {
        let (response, stream) =
            Response::chunked(200, "application/json", self.streams.max_queued_bytes);
        let heartbeat = self.streams.heartbeat.as_secs_f64();
        let snapshot = {
            let mut core = self.core.lock();
            core.observe_changes(true);
            Snapshot::take(&core)
        };
        let id = self.subscribers.next;
        self.subscribers.next += 1;
        let (runtime, pid) = (ctx.runtime().clone(), ctx.pid());
        stream.on_close(move || {
            drop(runtime.dispatch(&pid, move |this: &mut MasterProcess, _| {
                this.subscribers.open.remove(&id);
                this.subscribers.pending.remove(&id);
                this.subscribers.filters.remove(&id);
                this.stop_observing_if_idle();
            }));
        });
        self.subscribers
            .pending
            .insert(id, (stream.clone(), Vec::new()));
        if let Some(filter) = &filter {
            self.subscribers.filters.insert(id, filter.clone());
        }
        let (runtime, pid) = (ctx.runtime().clone(), ctx.pid());
        let spawned = std::thread::Builder::new()
            .name("state-render".into())
            .spawn(move || {
                // Written from here: tens of megabytes are not copied on the master actor.
                let subscribed = crate::snapshot::v1::subscribed(&snapshot, heartbeat);
                let subscribed = match &filter {
                    Some(filter) => filter.apply_record(subscribed),
                    None => subscribed,
                };
                let sent = stream.send(&subscribed).is_ok()
                    && stream.send(&record(&event::heartbeat())).is_ok();
                drop(
                    runtime.dispatch(&pid, move |this: &mut MasterProcess, ctx| {
                        this.operator_subscribed(ctx, id, sent)
                    }),
                );
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start a state renderer thread: operator stream closed");
            if let Some((stream, _)) = self.subscribers.pending.remove(&id) {
                stream.close();
            }
            self.stop_observing_if_idle();
        }
        response
    }

    /// A subscriber's SUBSCRIBED and first HEARTBEAT were sent (`sent`): the changes made since
    /// its snapshot follow, then it gets every change as it happens.
    fn operator_subscribed(&mut self, ctx: &mut Context<'_, Self>, id: u64, sent: bool) {
        let Some((stream, since)) = self.subscribers.pending.remove(&id) else {
            // The subscriber left, or this master's leadership changed, meanwhile.
            return;
        };
        if !sent || !since.iter().all(|r| stream.send(r).is_ok()) {
            // The state alone exceeds the cap (or the reader left): the stream is closed.
            tracing::warn!("operator SUBSCRIBED could not be sent: stream closed");
            stream.close();
            self.stop_observing_if_idle();
            return;
        }
        self.subscribers.open.insert(id, stream);
        self.schedule_operator_heartbeat(ctx, id);
    }

    fn schedule_operator_heartbeat(&mut self, ctx: &mut Context<'_, Self>, id: u64) {
        let interval = self.streams.heartbeat;
        ctx.delay(interval, move |this: &mut MasterProcess, ctx| {
            if this.subscribers.send(id, &record(&event::heartbeat())) {
                this.schedule_operator_heartbeat(ctx, id);
            } else {
                this.stop_observing_if_idle();
            }
        });
    }

    /// The core stops recording changes once the last subscriber has gone.
    pub(crate) fn stop_observing_if_idle(&mut self) {
        if self.subscribers.is_empty() {
            self.core.lock().observe_changes(false);
        }
    }
}
