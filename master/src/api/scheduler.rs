//! `POST /api/v1/scheduler` (also `/master/api/v1/scheduler`): the v1 scheduler API. SUBSCRIBE
//! opens a RecordIO event stream; every other call is checked against the caller's stream and
//! applied to the core at once (`202`), never behind a stream write.

use mesos::v1::accepts_json;
use mesos::v1::scheduler::{decode_call, event, CallKind};
use mesos::Uuid;
use process::http::{Request, Response};
use process::Context;
use serde_json::Value as Json;

use super::{not_leader, record, StreamWrite};
use crate::core::{validate_framework, MasterCore};
use crate::outputs::{Endpoint, Outgoing, Output, StreamId};
use crate::process::MasterProcess;

/// Splits the core's outputs: messages to processes stay, messages to HTTP schedulers become
/// their v1 events (in order). An ERROR ends its stream, as in Mesos.
pub(crate) fn render(
    core: &MasterCore,
    outputs: Vec<Output>,
    heartbeat_secs: f64,
) -> (Vec<Output>, Vec<StreamWrite>) {
    let mut rest = Vec::with_capacity(outputs.len());
    let mut writes = Vec::new();
    for output in outputs {
        match output {
            Output::Send {
                to: Endpoint::Stream(stream),
                message,
            } => writes.extend(events(core, stream, message, heartbeat_secs)),
            Output::CloseStream { stream } => writes.push(StreamWrite::Close { stream }),
            other => rest.push(other),
        }
    }
    (rest, writes)
}

/// The writes one message to an HTTP scheduler becomes.
fn events(
    core: &MasterCore,
    stream: StreamId,
    message: Outgoing,
    heartbeat_secs: f64,
) -> Vec<StreamWrite> {
    let one = |event: Json| {
        vec![StreamWrite::Record {
            stream,
            record: record(&event),
        }]
    };
    match message {
        Outgoing::FrameworkRegistered(mesos::protocol::FrameworkRegisteredMessage {
            framework_id,
            master_info,
        })
        | Outgoing::FrameworkReregistered(mesos::protocol::FrameworkReregisteredMessage {
            framework_id,
            master_info,
        }) => vec![StreamWrite::Subscribed {
            stream,
            record: record(&event::subscribed(
                &framework_id,
                heartbeat_secs,
                &master_info,
            )),
        }],
        Outgoing::ResourceOffers(m) => one(event::offers(
            m.offers
                .iter()
                .map(|offer| {
                    let role = core
                        .offers()
                        .get(&offer.id)
                        .map_or("*", |entry| entry.role.as_str());
                    event::offer(offer, role)
                })
                .collect(),
        )),
        Outgoing::RescindResourceOffer(m) => one(event::rescind(&m.offer_id)),
        Outgoing::StatusUpdate(m) => {
            let mut status = m.update.status;
            if status.agent_id.is_none() {
                status.agent_id = m.update.agent_id;
            }
            if status.executor_id.is_none() {
                status.executor_id = m.update.executor_id;
            }
            one(event::update(&status))
        }
        Outgoing::ExecutorToFramework(m) => {
            one(event::message(&m.agent_id, &m.executor_id, &m.data))
        }
        Outgoing::LostSlave(m) => one(event::failure(Some(&m.agent_id), None, None)),
        Outgoing::ExitedExecutor(m) => one(event::failure(
            Some(&m.agent_id),
            Some(&m.executor_id),
            Some(m.status),
        )),
        Outgoing::FrameworkError(m) => {
            let mut writes = one(event::error(&m.message));
            writes.push(StreamWrite::Close { stream });
            writes
        }
        other => {
            tracing::warn!(
                message = other.name(),
                "no v1 scheduler event for this message: dropped"
            );
            Vec::new()
        }
    }
}

fn text(status: u16, message: impl Into<String>) -> Response {
    Response::text(status, message)
}

impl MasterProcess {
    /// Answers one scheduler API request.
    pub(crate) fn scheduler_api(
        &mut self,
        ctx: &mut Context<'_, Self>,
        request: &Request,
    ) -> Response {
        if let Err(answer) = self.admit_call(ctx, request, true) {
            return answer;
        }
        let call = match decode_call(&request.body) {
            Ok(call) => call,
            Err(error) => return text(400, error.to_string()),
        };
        let json_accepted =
            accepts_json(request.header("accept"), request.header("message-accept"));
        match call.kind {
            CallKind::Subscribe {
                framework_info,
                suppressed_roles,
            } => {
                if !json_accepted {
                    return text(
                        406,
                        "Expecting 'Accept' to allow application/json: only JSON is supported",
                    );
                }
                if request.header("mesos-stream-id").is_some() {
                    return text(
                        400,
                        "Subscribe calls should not include the 'Mesos-Stream-Id' header",
                    );
                }
                if let Err(error) = validate_framework(&framework_info) {
                    return text(400, format!("Failed to validate scheduler::Call: {error}"));
                }
                if let Err(refusal) = self.auth.check_http_framework(request, &framework_info) {
                    return text(403, refusal.to_string());
                }
                self.subscribe(ctx, framework_info, suppressed_roles)
            }
            kind => {
                let reconcile_operations = matches!(kind, CallKind::ReconcileOperations);
                if reconcile_operations && !json_accepted {
                    return text(
                        406,
                        "Expecting 'Accept' to allow application/json: only JSON is supported",
                    );
                }
                let Some(framework_id) = call.framework_id else {
                    return text(400, "Expecting 'framework_id' to be present");
                };
                let stream_header = request.header("mesos-stream-id").map(str::to_string);
                let outcome = self.input(ctx, |core, now| {
                    let from = core.http_caller(&framework_id, stream_header.as_deref())?;
                    core.scheduler_call(now, &from, &framework_id, kind)
                });
                match outcome {
                    None => not_leader(&self.leadership, request, true),
                    Some(Err(refusal)) => text(refusal.status, refusal.message),
                    Some(Ok(())) if reconcile_operations => Response::ok_json(&serde_json::json!({
                        "type": "RECONCILE_OPERATIONS",
                        "reconcile_operations": {},
                    })),
                    Some(Ok(())) => Response::new(202, Vec::new(), Vec::new()),
                }
            }
        }
    }

    /// SUBSCRIBE: a new stream, registered with the core as the framework's endpoint.
    fn subscribe(
        &mut self,
        ctx: &mut Context<'_, Self>,
        framework_info: mesos::FrameworkInfo,
        suppressed_roles: Vec<String>,
    ) -> Response {
        let id = StreamId(Uuid::random());
        let (response, stream) =
            Response::chunked(200, "application/json", self.streams.max_queued_bytes);
        // The reader leaving (or falling too far behind) disconnects the framework: its
        // failover timeout starts.
        let (runtime, pid) = (ctx.runtime().clone(), ctx.pid());
        stream.on_close(move || {
            drop(
                runtime.dispatch(&pid, move |this: &mut MasterProcess, ctx| {
                    this.streams.remove(id);
                    this.input(ctx, |core, now| core.stream_closed(now, id));
                }),
            );
        });
        self.streams.insert(id, stream);
        self.input(ctx, |core, now| {
            core.count_message();
            core.subscribe(now, Endpoint::Stream(id), framework_info, suppressed_roles)
        });
        // The stream stays open whatever the request's `Connection` header said.
        response.with_header("Mesos-Stream-Id", id.to_string())
    }

    /// Sends `stream` a HEARTBEAT every heartbeat interval while it is open.
    pub(crate) fn schedule_heartbeat(&mut self, ctx: &mut Context<'_, Self>, stream: StreamId) {
        let interval = self.streams.heartbeat;
        ctx.delay(interval, move |this: &mut MasterProcess, ctx| {
            if this.streams.heartbeat(stream) {
                this.schedule_heartbeat(ctx, stream);
            }
        });
    }
}
