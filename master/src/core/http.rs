//! The v1 scheduler API's calls as core inputs: an HTTP scheduler is one more kind of
//! [`Endpoint`] (its event stream), and every call becomes the same core input a driver's message
//! does, with the same validation, offers, updates and failover.

use std::time::Instant;

use mesos::protocol::*;
use mesos::v1::scheduler::{CallKind, Operation};
use mesos::{FrameworkId, TaskStatus};

use super::MasterCore;
use crate::outputs::Endpoint;

/// Why an HTTP call is refused: the status code and the message for the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status (400, 403, ...).
    pub status: u16,
    /// What is wrong.
    pub message: String,
}

impl Refusal {
    fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

impl MasterCore {
    /// The endpoint of `framework_id` when the request's `Mesos-Stream-Id` (`stream_header`)
    /// names its current subscription, in Mesos's order of checks.
    ///
    /// # Errors
    /// `400 Framework cannot be found`, `403 Framework is not subscribed` (disconnected, or a
    /// driver-based framework), `400` for a missing or different stream id.
    pub fn http_caller(
        &self,
        framework_id: &FrameworkId,
        stream_header: Option<&str>,
    ) -> Result<Endpoint, Refusal> {
        let Some(framework) = self.frameworks.get(framework_id) else {
            return Err(Refusal::new(400, "Framework cannot be found"));
        };
        let stream = match &framework.endpoint {
            Some(Endpoint::Stream(stream)) if framework.connected => *stream,
            _ => return Err(Refusal::new(403, "Framework is not subscribed")),
        };
        let Some(header) = stream_header else {
            return Err(Refusal::new(
                400,
                "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
            ));
        };
        if header.trim() != stream.to_string() {
            return Err(Refusal::new(
                400,
                format!(
                    "The stream ID '{header}' included in this request didn't match the stream ID currently associated with framework ID {framework_id}"
                ),
            ));
        }
        Ok(Endpoint::Stream(stream))
    }

    /// Applies a call (anything but SUBSCRIBE) of the subscribed HTTP scheduler `from`
    /// (see [`MasterCore::http_caller`]) for `framework_id`.
    ///
    /// # Errors
    /// `400` for an ACCEPT with an operation this master does not support (nothing is
    /// applied), or an UPDATE_FRAMEWORK whose `FrameworkInfo` is refused.
    pub fn scheduler_call(
        &mut self,
        now: Instant,
        from: &Endpoint,
        framework_id: &FrameworkId,
        call: CallKind,
    ) -> Result<(), Refusal> {
        self.count_message();
        let framework_id = framework_id.clone();
        match call {
            CallKind::Subscribe { .. } => {
                return Err(Refusal::new(400, "SUBSCRIBE opens a stream of its own"))
            }
            CallKind::Teardown => {
                self.unregister_framework(now, from, UnregisterFrameworkMessage { framework_id })
            }
            CallKind::Accept {
                offer_ids,
                operations,
                filters,
            } => {
                let mut tasks = Vec::new();
                for operation in operations {
                    match operation {
                        Operation::Launch(launch) => tasks.extend(launch),
                        Operation::Unsupported(kind) => {
                            return Err(Refusal::new(
                                400,
                                format!("Offer operation '{kind}' is not supported by this master (supported: LAUNCH); nothing was accepted"),
                            ))
                        }
                    }
                }
                self.launch_tasks(
                    now,
                    from,
                    LaunchTasksMessage {
                        framework_id,
                        tasks,
                        filters,
                        offer_ids,
                    },
                );
            }
            CallKind::Decline { offer_ids, filters } => self.launch_tasks(
                now,
                from,
                LaunchTasksMessage {
                    framework_id,
                    tasks: Vec::new(),
                    filters,
                    offer_ids,
                },
            ),
            CallKind::Revive { roles } => self.revive_offers(
                now,
                from,
                ReviveOffersMessage {
                    framework_id,
                    roles,
                },
            ),
            CallKind::Suppress { roles } => self.suppress_offers(
                now,
                from,
                SuppressOffersMessage {
                    framework_id,
                    roles,
                },
            ),
            CallKind::Kill { task_id, .. } => self.kill_task(
                now,
                from,
                KillTaskMessage {
                    framework_id,
                    task_id,
                },
            ),
            CallKind::Shutdown {
                executor_id,
                agent_id,
            } => self.shutdown_executor(now, from, &framework_id, &agent_id, &executor_id),
            CallKind::Acknowledge {
                agent_id,
                task_id,
                uuid,
            } => self.acknowledge(
                now,
                from,
                StatusUpdateAcknowledgementMessage {
                    agent_id,
                    framework_id,
                    task_id,
                    uuid,
                },
            ),
            CallKind::Reconcile { tasks } => {
                let statuses = tasks
                    .into_iter()
                    .map(|t| TaskStatus {
                        agent_id: t.agent_id,
                        ..TaskStatus::new(t.task_id, mesos::TaskState::Staging)
                    })
                    .collect();
                self.reconcile_tasks(
                    now,
                    from,
                    ReconcileTasksMessage {
                        framework_id,
                        statuses,
                    },
                );
            }
            CallKind::Message {
                agent_id,
                executor_id,
                data,
            } => self.framework_to_executor(
                now,
                from,
                FrameworkToExecutorMessage {
                    agent_id,
                    framework_id,
                    executor_id,
                    data,
                },
            ),
            CallKind::UpdateFramework {
                framework_info,
                suppressed_roles,
            } => {
                self.update_framework_info(now, from, framework_info, suppressed_roles)
                    .map_err(|e| Refusal::new(400, format!("Invalid FrameworkInfo: {e}")))?;
            }
            // This master makes no inverse offers and runs no offer operations but LAUNCH:
            // there is nothing to accept, decline or reconcile; REQUEST has no effect in Mesos.
            CallKind::AcceptInverseOffers { .. }
            | CallKind::DeclineInverseOffers { .. }
            | CallKind::ReconcileOperations
            | CallKind::Request => {}
        }
        Ok(())
    }
}
