//! `POST /api/v1/executor`: Mesos's v1 executor API, a second door into the same
//! [`AgentCore`](crate::core::AgentCore) that driver-based executors use.
//!
//! SUBSCRIBE opens a RecordIO event stream; the core addresses it as
//! [`ExecutorEndpoint::Http`] and the actor renders the core's executor messages as v1 events
//! on it (SUBSCRIBED, LAUNCH, KILL, ACKNOWLEDGED, MESSAGE, SHUTDOWN). UPDATE, MESSAGE and
//! HEARTBEAT are answered `202` at once, never behind a stream write. An executor that does not
//! subscribe within `--executor_registration_timeout` is destroyed by the core, whichever door it
//! was meant to use.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use mesos::protocol::*;
use mesos::v1::executor::{decode_call, event, CallKind};
use mesos::v1::{accepts_json, recordio, to_ascii_json};
use mesos::{ExecutorId, FrameworkId, Uuid};
use process::http::{HttpStream, Request, Response};
use process::Context;
use serde_json::Value as Json;

use crate::core::{AgentCore, ExecutorEndpoint, ToExecutor};
use crate::process::AgentProcess;
use crate::state::ExecutorState;

/// Time between HEARTBEAT events on an executor's stream.
pub const EXECUTOR_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// Bytes an HTTP executor may leave unread before its stream is closed.
pub const MAX_EXECUTOR_STREAM_QUEUED_BYTES: usize = 16 << 20;

/// The HTTP executors' event streams, by the id the core knows them by. A running executor
/// that subscribes again keeps its id (the core's endpoint); its new stream gets a new serial.
#[derive(Debug, Default)]
pub(crate) struct ExecutorStreams {
    /// Endpoint id → (serial of the stream, the stream).
    open: HashMap<u64, (u64, HttpStream)>,
    next: u64,
    /// Updates acknowledged on each stream. The core tells an executor again when the master
    /// acknowledges; Mesos sends ACKNOWLEDGED once, so the second is dropped (and forgotten).
    acknowledged: HashMap<u64, HashSet<Uuid>>,
}

impl ExecutorStreams {
    /// A fresh number (endpoint ids and stream serials).
    fn fresh(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Sends one event; false when the stream is gone.
    fn send(&mut self, id: u64, event: &Json) -> bool {
        let Some((_, stream)) = self.open.get(&id) else {
            return false;
        };
        match stream.send(&recordio::encode(&to_ascii_json(event))) {
            Ok(()) => true,
            Err(error) => {
                tracing::info!(stream = id, %error, "http executor stream closed");
                self.open.remove(&id);
                false
            }
        }
    }

    fn close(&mut self, id: u64) {
        self.acknowledged.remove(&id);
        if let Some((_, stream)) = self.open.remove(&id) {
            stream.close();
        }
    }

    /// Forgets stream `serial` of endpoint `id` if it is still the current one.
    fn closed(&mut self, id: u64, serial: u64) {
        if self.open.get(&id).is_some_and(|(s, _)| *s == serial) {
            self.open.remove(&id);
            self.acknowledged.remove(&id);
        }
    }

    fn is_current(&self, id: u64, serial: u64) -> bool {
        self.open.get(&id).is_some_and(|(s, _)| *s == serial)
    }

    /// Whether ACKNOWLEDGED of `uuid` is news on stream `id` (its first time).
    fn first_acknowledgement(&mut self, id: u64, uuid: Uuid) -> bool {
        let seen = self.acknowledged.entry(id).or_default();
        if seen.remove(&uuid) {
            return false;
        }
        seen.insert(uuid);
        true
    }
}

/// The v1 event for a message the core sends an HTTP executor on stream `id` (`None`: the
/// message has no v1 meaning, e.g. a driver reconnect request).
fn render(core: &AgentCore, id: u64, message: ToExecutor) -> Option<Json> {
    let endpoint = Some(ExecutorEndpoint::Http(id));
    let subscribed = |core: &AgentCore| {
        let executor = core.book().executors().find(|e| e.endpoint == endpoint)?;
        let framework = core.book().framework(&executor.framework_id)?;
        let mut agent_info = core.info().clone();
        agent_info.id = core.agent_id().cloned();
        let mut info = executor.info.clone();
        info.framework_id = Some(executor.framework_id.clone());
        let mut framework_info = framework.info.clone();
        framework_info.id = Some(framework.id.clone());
        Some(event::subscribed(
            &info,
            &framework_info,
            &agent_info,
            &executor.container_id,
        ))
    };
    match message {
        ToExecutor::ExecutorRegistered(_) | ToExecutor::ExecutorReregistered(_) => subscribed(core),
        ToExecutor::RunTask(m) => {
            let mut launch = event::launch(&m.task);
            if m.task.data.is_empty() {
                if let Some(task) = launch["launch"]["task"].as_object_mut() {
                    task.remove("data");
                }
            }
            Some(launch)
        }
        ToExecutor::KillTask(m) => Some(event::kill(&m.task_id)),
        ToExecutor::StatusUpdateAcknowledgement(m) => {
            Some(event::acknowledged(&m.task_id, &m.uuid))
        }
        ToExecutor::FrameworkToExecutor(m) => Some(event::message(&m.data)),
        ToExecutor::ShutdownExecutor(_) => Some(event::shutdown()),
        ToExecutor::ReconnectExecutor(_) => None,
    }
}

fn text(status: u16, message: impl Into<String>) -> Response {
    Response::text(status, message)
}

impl AgentProcess {
    /// Sends a core message to an HTTP executor as its v1 event.
    pub(crate) fn send_http_executor(&mut self, id: u64, message: ToExecutor) {
        if let ToExecutor::StatusUpdateAcknowledgement(m) = &message {
            if !self.executor_streams.first_acknowledgement(id, m.uuid) {
                return;
            }
        }
        let shutdown = matches!(message, ToExecutor::ShutdownExecutor(_));
        let name = message.name();
        match render(&self.core, id, message) {
            Some(event) => {
                if !self.executor_streams.send(id, &event) {
                    tracing::debug!(stream = id, message = name, "http executor gone; dropped");
                }
            }
            None => tracing::debug!(stream = id, message = name, "no v1 executor event; dropped"),
        }
        if shutdown {
            // Nothing follows SHUTDOWN; the executor exits (or is killed after the grace
            // period).
            self.executor_streams.close(id);
        }
    }

    /// Answers one executor API request.
    pub(crate) fn executor_api(&mut self, ctx: &mut Context<Self>, request: &Request) -> Response {
        if request.method != "POST" {
            return Response::method_not_allowed(&["POST"], &request.method);
        }
        if let Err((status, message)) =
            mesos::v1::check_content_type(request.header("content-type"))
        {
            return text(status, message);
        }
        if !accepts_json(request.header("accept"), request.header("message-accept")) {
            return text(
                406,
                "Expecting 'Accept' to allow application/json: only JSON is supported",
            );
        }
        let call = match decode_call(&request.body) {
            Ok(call) => call,
            Err(error) => return text(400, error.to_string()),
        };
        if self.core.is_recovering() {
            return text(503, "Agent has not finished recovery");
        }
        let Some(executor) = self
            .core
            .book()
            .executor(&call.framework_id, &call.executor_id)
        else {
            return text(
                400,
                format!(
                    "Executor {} of framework {} cannot be found",
                    call.executor_id, call.framework_id
                ),
            );
        };
        let (state, endpoint) = (executor.state, executor.endpoint.clone());
        let (framework_id, executor_id) = (call.framework_id, call.executor_id);
        match call.kind {
            CallKind::Subscribe {
                unacknowledged_tasks,
                unacknowledged_updates,
            } => self.subscribe_executor(
                ctx,
                framework_id,
                executor_id,
                state,
                endpoint,
                unacknowledged_tasks,
                unacknowledged_updates,
            ),
            kind => {
                let Some(endpoint) = endpoint.filter(|_| state != ExecutorState::Registering)
                else {
                    return text(403, "Executor is not subscribed");
                };
                match kind {
                    CallKind::Update(status) => {
                        self.executor_update(ctx, &endpoint, framework_id, executor_id, status)
                    }
                    CallKind::Message(data) => {
                        let agent_id = self.core.agent_id().cloned().unwrap_or_default();
                        self.input(ctx, |core, now| {
                            core.executor_to_framework(
                                now,
                                &endpoint,
                                ExecutorToFrameworkMessage {
                                    agent_id,
                                    framework_id,
                                    executor_id,
                                    data,
                                },
                            )
                        });
                    }
                    CallKind::Heartbeat | CallKind::Subscribe { .. } => {}
                }
                Response::new(202, Vec::new(), Vec::new())
            }
        }
    }

    /// UPDATE: the status, completed with the agent and executor, goes to the same
    /// status-update path as a driver executor's; the core sends ACKNOWLEDGED once it is taken
    /// (checkpointed first for a checkpointing framework).
    fn executor_update(
        &mut self,
        ctx: &mut Context<Self>,
        endpoint: &ExecutorEndpoint,
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        mut status: mesos::TaskStatus,
    ) {
        let agent_id = self.core.agent_id().cloned();
        status.agent_id = agent_id.clone();
        status.executor_id = Some(executor_id.clone());
        let Some(uuid) = status.uuid else {
            return;
        };
        let update = StatusUpdate {
            framework_id,
            executor_id: Some(executor_id),
            agent_id,
            timestamp: status.timestamp,
            uuid,
            status,
        };
        let limitation = self
            .core
            .limitation_container(&update)
            .and_then(|id| self.containers.lock().isolator.limitation(&id));
        self.input(ctx, |core, now| {
            core.status_update(now, endpoint, update, limitation)
        });
    }

    /// SUBSCRIBE: a new stream, registered with the core as the executor's endpoint. A first
    /// subscription registers the executor; one after an agent restart re-registers it with
    /// what it holds unacknowledged. A running executor subscribing again (its connection
    /// broke) gets SUBSCRIBED on the new stream, which replaces the old one; the updates it
    /// lists go through again (the status-update manager drops duplicates).
    #[allow(clippy::too_many_arguments)]
    fn subscribe_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        state: ExecutorState,
        old: Option<ExecutorEndpoint>,
        tasks: Vec<mesos::TaskInfo>,
        updates: Vec<mesos::TaskStatus>,
    ) -> Response {
        let resubscribe = match (state, &old) {
            (ExecutorState::Terminating, _) => return text(400, "Executor is terminating"),
            (ExecutorState::Running, Some(ExecutorEndpoint::Http(id))) => Some(*id),
            (ExecutorState::Running, _) => {
                return text(400, "Executor is registered through the executor driver")
            }
            _ => None,
        };
        let id = resubscribe.unwrap_or_else(|| self.executor_streams.fresh());
        let serial = self.executor_streams.fresh();
        let (response, stream) =
            Response::chunked(200, "application/json", MAX_EXECUTOR_STREAM_QUEUED_BYTES);
        let (runtime, pid) = (ctx.runtime().clone(), ctx.pid());
        stream.on_close(move || {
            drop(runtime.dispatch(&pid, move |this: &mut AgentProcess, _| {
                this.executor_streams.closed(id, serial);
            }));
        });
        if let Some((_, previous)) = self.executor_streams.open.insert(id, (serial, stream)) {
            previous.close();
        }
        if let Some(ExecutorEndpoint::Http(old)) = old.filter(|_| resubscribe.is_none()) {
            self.executor_streams.close(old);
        }
        let from = ExecutorEndpoint::Http(id);
        let agent_id = self.core.agent_id().cloned();
        let updates: Vec<StatusUpdate> = updates
            .into_iter()
            .filter_map(|mut status| {
                let uuid = status.uuid?;
                status.agent_id = agent_id.clone();
                status.executor_id = Some(executor_id.clone());
                Some(StatusUpdate {
                    framework_id: framework_id.clone(),
                    executor_id: Some(executor_id.clone()),
                    agent_id: agent_id.clone(),
                    timestamp: status.timestamp,
                    uuid,
                    status,
                })
            })
            .collect();
        match state {
            ExecutorState::Registering => self.input(ctx, |core, now| {
                core.register_executor(
                    now,
                    from,
                    RegisterExecutorMessage {
                        framework_id,
                        executor_id,
                    },
                )
            }),
            ExecutorState::Running => {
                if let Some(event) = render(
                    &self.core,
                    id,
                    ToExecutor::ExecutorReregistered(ExecutorReregisteredMessage {
                        agent_id: agent_id.unwrap_or_default(),
                        agent_info: self.core.info().clone(),
                    }),
                ) {
                    self.executor_streams.send(id, &event);
                }
                for update in updates {
                    self.input(ctx, |core, now| {
                        core.status_update(now, &from, update, None)
                    });
                }
            }
            _ => self.input(ctx, |core, now| {
                core.reregister_executor(
                    now,
                    from,
                    ReregisterExecutorMessage {
                        executor_id,
                        framework_id,
                        tasks,
                        updates,
                    },
                )
            }),
        }
        // Clients that deliver an event only once the next one starts see SUBSCRIBED (and
        // the tasks that follow it) at once.
        if self.executor_streams.send(id, &event::heartbeat()) {
            self.schedule_executor_heartbeat(ctx, id, serial);
        }
        response
    }

    fn schedule_executor_heartbeat(&mut self, ctx: &mut Context<Self>, id: u64, serial: u64) {
        ctx.delay(EXECUTOR_HEARTBEAT_INTERVAL, move |this: &mut Self, ctx| {
            if this.executor_streams.is_current(id, serial)
                && this.executor_streams.send(id, &event::heartbeat())
            {
                this.schedule_executor_heartbeat(ctx, id, serial);
            }
        });
    }
}
