//! The pure scheduler-driver core: registration state, offers, acknowledgements and every rule about
//! which message is accepted when. No I/O and no clock: the actor feeds it inputs and performs the
//! [`Output`]s it returns, in order (the executor driver's core has the same shape; see
//! [`crate::driver`]).

use std::collections::HashMap;
use std::time::Duration;

use process::{Message, Upid};

use crate::protocol::*;
use crate::{
    AgentId, ExecutorId, Filters, FrameworkCapability, FrameworkId, FrameworkInfo, MasterInfo,
    Offer, OfferId, Reason, Source, TaskId, TaskInfo, TaskState, TaskStatus,
};

use super::backoff::RegistrationBackoff;
use super::DriverStatus;

/// A message for the leading master.
#[derive(Debug, Clone, PartialEq)]
pub enum ToMaster {
    /// Register a new framework.
    Register(RegisterFrameworkMessage),
    /// Re-register (after a master change, or as a failed-over scheduler).
    Reregister(ReregisterFrameworkMessage),
    /// Tear the framework down.
    Unregister(UnregisterFrameworkMessage),
    /// Disconnect, keeping tasks until the failover timeout.
    Deactivate(DeactivateFrameworkMessage),
    /// Launch tasks on offers, or decline them.
    Launch(LaunchTasksMessage),
    /// Kill a task.
    Kill(KillTaskMessage),
    /// Resume offers.
    Revive(ReviveOffersMessage),
    /// Stop offers.
    Suppress(SuppressOffersMessage),
    /// Acknowledge a status update.
    Acknowledge(StatusUpdateAcknowledgementMessage),
    /// Reconcile task states.
    Reconcile(ReconcileTasksMessage),
    /// Data for an executor.
    FrameworkMessage(FrameworkToExecutorMessage),
}

/// A call into the framework's [`Scheduler`](super::Scheduler).
#[derive(Debug, Clone, PartialEq)]
pub enum Callback {
    /// `registered`.
    Registered(FrameworkId, MasterInfo),
    /// `reregistered`.
    Reregistered(MasterInfo),
    /// `disconnected`.
    Disconnected,
    /// `resource_offers`.
    ResourceOffers(Vec<Offer>),
    /// `offer_rescinded`.
    OfferRescinded(OfferId),
    /// `status_update`.
    StatusUpdate(TaskStatus),
    /// `framework_message`.
    FrameworkMessage(ExecutorId, AgentId, Vec<u8>),
    /// `agent_lost`.
    AgentLost(AgentId),
    /// `executor_lost`.
    ExecutorLost(ExecutorId, AgentId, i32),
    /// `error`.
    Error(String),
}

/// A timer the core sets (an [`Output::Timer`](crate::driver::Output::Timer)) and is told
/// about with [`DriverCore::timer_fired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Try registering again; `generation` identifies the retry chain (stale chains are ignored).
    RetryRegistration {
        /// The retry chain this timer belongs to.
        generation: u64,
    },
}

/// What the actor must do, in order: the shape both driver cores share ([`crate::driver::Output`]).
pub type Output = crate::driver::Output<ToMaster, Callback, Timer>;

/// Settings of a driver core.
#[derive(Debug, Clone)]
pub struct CoreOptions {
    /// Whether the driver acknowledges updates itself after `status_update` returns (Mesos's default).
    pub implicit_acknowledgements: bool,
    /// The first registration backoff cap (Mesos: 2 s).
    pub backoff_factor: Duration,
    /// Seeds the backoff jitter.
    pub seed: u64,
}

/// The driver's bookkeeping.
#[derive(Debug)]
pub struct DriverCore {
    framework: FrameworkInfo,
    options: CoreOptions,
    status: DriverStatus,
    master: Option<Upid>,
    connected: bool,
    /// True while this instance has not registered yet but carries an existing FrameworkID: it is a
    /// failed-over scheduler, and the master must move the framework to it.
    failover: bool,
    backoff: RegistrationBackoff,
    generation: u64,
    /// (Re)registration attempts sent to the current master without an answer.
    attempts: u32,
    /// The link to the master broke since the last attempt (it cannot be reached).
    link_lost: bool,
    /// Offers the scheduler may still use, with their agents.
    offers: HashMap<OfferId, AgentId>,
    suppressed_roles: Vec<String>,
}

impl DriverCore {
    /// A core for `framework` (with `id` set for a failed-over scheduler).
    pub fn new(framework: FrameworkInfo, options: CoreOptions) -> DriverCore {
        let backoff = RegistrationBackoff::new(
            options.backoff_factor,
            framework.failover_timeout(),
            options.seed,
        );
        let failover = framework
            .id
            .as_ref()
            .is_some_and(|id| !id.as_str().is_empty());
        DriverCore {
            framework,
            options,
            status: DriverStatus::NotStarted,
            master: None,
            connected: false,
            failover,
            backoff,
            generation: 0,
            attempts: 0,
            link_lost: false,
            offers: HashMap::new(),
            suppressed_roles: Vec::new(),
        }
    }

    /// The driver's status.
    pub fn status(&self) -> DriverStatus {
        self.status
    }

    /// Whether the framework is registered with the current master.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The framework id, once registered (or given for failover).
    pub fn framework_id(&self) -> Option<&FrameworkId> {
        self.framework.id.as_ref()
    }

    /// The master the driver talks to.
    pub fn master(&self) -> Option<&Upid> {
        self.master.as_ref()
    }

    /// Offers the scheduler has not used, declined or seen rescinded.
    pub fn outstanding_offers(&self) -> usize {
        self.offers.len()
    }

    /// `start`: the driver runs; `leader` is the detected master, if any.
    pub fn start(&mut self, leader: Option<Upid>) -> Vec<Output> {
        if self.status != DriverStatus::NotStarted {
            return Vec::new();
        }
        self.status = DriverStatus::Running;
        self.new_master(leader)
    }

    /// The detector reports a (new) leading master, or none.
    pub fn new_master(&mut self, leader: Option<Upid>) -> Vec<Output> {
        let mut out = Vec::new();
        if self.status != DriverStatus::Running {
            return out;
        }
        if self.connected {
            self.connected = false;
            out.push(Output::Callback(Callback::Disconnected));
        }
        self.offers.clear();
        self.master = leader;
        self.backoff.reset();
        self.generation += 1;
        self.attempts = 0;
        self.link_lost = false;
        if self.master.is_some() {
            self.attempt_registration(&mut out);
        } else {
            tracing::warn!("no master is leading; waiting for one to be elected");
        }
        out
    }

    /// A timer set by an [`Output::Timer`](crate::driver::Output::Timer) fired.
    pub fn timer_fired(&mut self, timer: Timer) -> Vec<Output> {
        match timer {
            Timer::RetryRegistration { generation } => self.retry_registration(generation),
        }
    }

    /// A registration retry timer fired.
    fn retry_registration(&mut self, generation: u64) -> Vec<Output> {
        let mut out = Vec::new();
        if generation == self.generation
            && self.status == DriverStatus::Running
            && !self.connected
            && self.master.is_some()
        {
            self.attempt_registration(&mut out);
        }
        out
    }

    fn attempt_registration(&mut self, out: &mut Vec<Output>) {
        let Some(master) = self.master.clone() else {
            return;
        };
        self.attempts += 1;
        if self.attempts > 1 {
            // A wrong address or a master that is down must not look like a silent hang.
            let why = if std::mem::take(&mut self.link_lost) {
                "cannot connect to it"
            } else {
                "no answer yet"
            };
            tracing::warn!(
                "the master {master} cannot be reached ({why}); still trying to register \
                 (attempt {})",
                self.attempts
            );
        }
        out.push(Output::Link(master.clone()));
        let message = match &self.framework.id {
            Some(_) => ToMaster::Reregister(ReregisterFrameworkMessage {
                framework: self.framework.clone(),
                failover: self.failover,
                suppressed_roles: self.suppressed_roles.clone(),
            }),
            None => ToMaster::Register(RegisterFrameworkMessage {
                framework: self.framework.clone(),
                suppressed_roles: self.suppressed_roles.clone(),
            }),
        };
        out.push(Output::Send(master, message));
        out.push(Output::Timer {
            after: self.backoff.next_delay(),
            timer: Timer::RetryRegistration {
                generation: self.generation,
            },
        });
    }

    /// The link to `pid` broke (it terminated, or the connection to it did).
    pub fn exited(&mut self, pid: &Upid) -> Vec<Output> {
        let mut out = Vec::new();
        if self.status != DriverStatus::Running || self.master.as_ref() != Some(pid) {
            return out;
        }
        if self.connected {
            // The master (or our connection to it) is gone: offers die with it, and we keep trying
            // to re-register (a restarted master comes back on the same address).
            tracing::warn!(master = %pid, "lost the connection to the master; re-registering");
            self.connected = false;
            self.attempts = 0;
            self.offers.clear();
            out.push(Output::Callback(Callback::Disconnected));
            self.backoff.reset();
            self.generation += 1;
            out.push(Output::Timer {
                after: self.backoff.next_delay(),
                timer: Timer::RetryRegistration {
                    generation: self.generation,
                },
            });
        } else {
            // Not connected: the running retry chain tries again (and re-links).
            self.link_lost = true;
        }
        out
    }

    /// Whether a message from `from` should be handled: only the leading master's, while running.
    fn is_from_leader(&self, from: &Upid, what: &str) -> bool {
        if self.status != DriverStatus::Running {
            return false;
        }
        if self.master.as_ref() != Some(from) {
            tracing::warn!(%from, message = what, "ignoring a message from a master that is not the leader");
            return false;
        }
        true
    }

    fn registered_with(
        &mut self,
        from: &Upid,
        id: FrameworkId,
        master: MasterInfo,
        re: bool,
    ) -> Vec<Output> {
        let what = if re {
            FrameworkReregisteredMessage::NAME
        } else {
            FrameworkRegisteredMessage::NAME
        };
        if !self.is_from_leader(from, what) || self.connected {
            return Vec::new();
        }
        if let Some(known) = &self.framework.id {
            if *known != id {
                tracing::warn!(%id, %known, "master answered for another framework id: ignored");
                return Vec::new();
            }
        }
        self.framework.id = Some(id.clone());
        self.connected = true;
        self.failover = false;
        self.attempts = 0;
        self.backoff.reset();
        self.generation += 1;
        // As Mesos: the master answers a failed-over scheduler with FrameworkRegisteredMessage and a
        // master change with FrameworkReregisteredMessage; each maps to its own callback.
        let callback = if re {
            Callback::Reregistered(master)
        } else {
            Callback::Registered(id, master)
        };
        vec![Output::Callback(callback)]
    }

    /// `FrameworkRegisteredMessage` from `from`.
    pub fn on_registered(&mut self, from: &Upid, msg: FrameworkRegisteredMessage) -> Vec<Output> {
        self.registered_with(from, msg.framework_id, msg.master_info, false)
    }

    /// `FrameworkReregisteredMessage` from `from`.
    pub fn on_reregistered(
        &mut self,
        from: &Upid,
        msg: FrameworkReregisteredMessage,
    ) -> Vec<Output> {
        self.registered_with(from, msg.framework_id, msg.master_info, true)
    }

    /// Messages that only count while registered with the leader.
    fn accept(&self, from: &Upid, what: &str) -> bool {
        if !self.is_from_leader(from, what) {
            return false;
        }
        if !self.connected {
            tracing::warn!(%from, message = what, "ignoring a message while not registered");
            return false;
        }
        true
    }

    /// `ResourceOffersMessage`.
    pub fn on_offers(&mut self, from: &Upid, msg: ResourceOffersMessage) -> Vec<Output> {
        if !self.accept(from, ResourceOffersMessage::NAME) {
            return Vec::new();
        }
        for offer in &msg.offers {
            self.offers.insert(offer.id.clone(), offer.agent_id.clone());
        }
        vec![Output::Callback(Callback::ResourceOffers(msg.offers))]
    }

    /// `RescindResourceOfferMessage`.
    pub fn on_rescind(&mut self, from: &Upid, msg: RescindResourceOfferMessage) -> Vec<Output> {
        if !self.accept(from, RescindResourceOfferMessage::NAME) {
            return Vec::new();
        }
        self.offers.remove(&msg.offer_id);
        vec![Output::Callback(Callback::OfferRescinded(msg.offer_id))]
    }

    /// `StatusUpdateMessage`: the scheduler hears it; with implicit acknowledgements the driver then
    /// acknowledges it (after the callback returns, as Mesos).
    pub fn on_status_update(&mut self, from: &Upid, msg: StatusUpdateMessage) -> Vec<Output> {
        if !self.accept(from, StatusUpdateMessage::NAME) {
            return Vec::new();
        }
        let update = msg.update;
        let mut status = update.status;
        if status.agent_id.is_none() {
            status.agent_id = update.agent_id.clone();
        }
        if status.executor_id.is_none() {
            status.executor_id = update.executor_id.clone();
        }
        let mut out = vec![Output::Callback(Callback::StatusUpdate(status.clone()))];
        if self.options.implicit_acknowledgements {
            if let Some(ack) = self.acknowledgement(&status) {
                out.push(ack);
            }
        }
        out
    }

    /// The acknowledgement for `status`, if it needs one (it carries a uuid and an agent).
    fn acknowledgement(&self, status: &TaskStatus) -> Option<Output> {
        let (Some(uuid), Some(agent_id), Some(master), Some(framework_id)) = (
            status.uuid,
            status.agent_id.clone(),
            self.master.clone(),
            self.framework.id.clone(),
        ) else {
            return None;
        };
        Some(Output::Send(
            master,
            ToMaster::Acknowledge(StatusUpdateAcknowledgementMessage {
                agent_id,
                framework_id,
                task_id: status.task_id.clone(),
                uuid,
            }),
        ))
    }

    /// `LostSlaveMessage`.
    pub fn on_agent_lost(&mut self, from: &Upid, msg: LostSlaveMessage) -> Vec<Output> {
        if !self.accept(from, LostSlaveMessage::NAME) {
            return Vec::new();
        }
        self.offers.retain(|_, agent| *agent != msg.agent_id);
        vec![Output::Callback(Callback::AgentLost(msg.agent_id))]
    }

    /// `ExitedExecutorMessage`.
    pub fn on_executor_exited(&mut self, from: &Upid, msg: ExitedExecutorMessage) -> Vec<Output> {
        if !self.accept(from, ExitedExecutorMessage::NAME) {
            return Vec::new();
        }
        vec![Output::Callback(Callback::ExecutorLost(
            msg.executor_id,
            msg.agent_id,
            msg.status,
        ))]
    }

    /// `ExecutorToFrameworkMessage`.
    pub fn on_framework_message(
        &mut self,
        from: &Upid,
        msg: ExecutorToFrameworkMessage,
    ) -> Vec<Output> {
        if !self.accept(from, ExecutorToFrameworkMessage::NAME) {
            return Vec::new();
        }
        vec![Output::Callback(Callback::FrameworkMessage(
            msg.executor_id,
            msg.agent_id,
            msg.data,
        ))]
    }

    /// `FrameworkErrorMessage`: the driver aborts, then the scheduler hears the error.
    pub fn on_error(&mut self, from: &Upid, msg: FrameworkErrorMessage) -> Vec<Output> {
        if !self.is_from_leader(from, FrameworkErrorMessage::NAME) {
            return Vec::new();
        }
        self.status = DriverStatus::Aborted;
        self.connected = false;
        vec![Output::Callback(Callback::Error(msg.message))]
    }

    /// Sends `message` to the master if registered; `None` when it cannot go out.
    fn to_master(&self, message: ToMaster) -> Vec<Output> {
        match (&self.master, self.connected) {
            (Some(master), true) => vec![Output::Send(master.clone(), message)],
            _ => {
                tracing::warn!("not registered with a master: request dropped");
                Vec::new()
            }
        }
    }

    /// `launch_tasks`. Disconnected, the tasks never reach a master: the scheduler hears TASK_LOST
    /// (TASK_DROPPED if partition-aware) with REASON_MASTER_DISCONNECTED, as Mesos's driver does.
    pub fn launch_tasks(
        &mut self,
        offer_ids: Vec<OfferId>,
        tasks: Vec<TaskInfo>,
        filters: Filters,
    ) -> Vec<Output> {
        if self.status != DriverStatus::Running {
            return Vec::new();
        }
        for offer_id in &offer_ids {
            if self.offers.remove(offer_id).is_none() {
                // The master decides (TASK_DROPPED / TASK_LOST with REASON_INVALID_OFFERS).
                tracing::warn!(%offer_id, "launching on an unknown offer");
            }
        }
        let (Some(framework_id), true) = (self.framework.id.clone(), self.connected) else {
            let state = if self
                .framework
                .has_capability(FrameworkCapability::PartitionAware)
            {
                TaskState::Dropped
            } else {
                TaskState::Lost
            };
            return tasks
                .into_iter()
                .map(|task| {
                    Output::Callback(Callback::StatusUpdate(
                        TaskStatus::new(task.task_id, state)
                            .with_message("Master disconnected")
                            .with_reason(Reason::MasterDisconnected)
                            .with_source(Source::Master)
                            .with_agent_id(task.agent_id),
                    ))
                })
                .collect();
        };
        self.to_master(ToMaster::Launch(LaunchTasksMessage {
            framework_id,
            tasks,
            filters,
            offer_ids,
        }))
    }

    /// `decline_offer`: an accept with no tasks.
    pub fn decline_offer(&mut self, offer_id: OfferId, filters: Filters) -> Vec<Output> {
        if self.status != DriverStatus::Running || !self.connected {
            self.offers.remove(&offer_id);
            return Vec::new();
        }
        self.launch_tasks(vec![offer_id], Vec::new(), filters)
    }

    fn framework_message<F: FnOnce(FrameworkId) -> ToMaster>(&self, make: F) -> Vec<Output> {
        if self.status != DriverStatus::Running {
            return Vec::new();
        }
        match self.framework.id.clone() {
            Some(id) => self.to_master(make(id)),
            None => Vec::new(),
        }
    }

    /// `kill_task`.
    pub fn kill_task(&mut self, task_id: TaskId) -> Vec<Output> {
        self.framework_message(|framework_id| {
            ToMaster::Kill(KillTaskMessage {
                framework_id,
                task_id,
            })
        })
    }

    /// `revive_offers`: filters cleared and suppression lifted for every role.
    pub fn revive_offers(&mut self) -> Vec<Output> {
        if self.status == DriverStatus::Running {
            self.suppressed_roles.clear();
        }
        self.framework_message(|framework_id| {
            ToMaster::Revive(ReviveOffersMessage {
                framework_id,
                roles: Vec::new(),
            })
        })
    }

    /// `suppress_offers`: no offers for any role until revived (remembered across re-registration).
    pub fn suppress_offers(&mut self) -> Vec<Output> {
        if self.status == DriverStatus::Running {
            self.suppressed_roles = self
                .framework
                .effective_roles()
                .into_iter()
                .map(String::from)
                .collect();
        }
        self.framework_message(|framework_id| {
            ToMaster::Suppress(SuppressOffersMessage {
                framework_id,
                roles: Vec::new(),
            })
        })
    }

    /// `reconcile_tasks`: empty for implicit reconciliation.
    pub fn reconcile_tasks(&mut self, statuses: Vec<TaskStatus>) -> Vec<Output> {
        self.framework_message(|framework_id| {
            ToMaster::Reconcile(ReconcileTasksMessage {
                framework_id,
                statuses,
            })
        })
    }

    /// `acknowledge_status_update`: only with explicit acknowledgements (Mesos refuses otherwise).
    pub fn acknowledge(&mut self, status: TaskStatus) -> Vec<Output> {
        if self.status != DriverStatus::Running || !self.connected {
            return Vec::new();
        }
        if self.options.implicit_acknowledgements {
            tracing::error!("acknowledge_status_update needs explicit acknowledgements: ignored");
            return Vec::new();
        }
        self.acknowledgement(&status).into_iter().collect()
    }

    /// `send_framework_message` (relayed by the master).
    pub fn send_framework_message(
        &mut self,
        executor_id: ExecutorId,
        agent_id: AgentId,
        data: Vec<u8>,
    ) -> Vec<Output> {
        self.framework_message(|framework_id| {
            ToMaster::FrameworkMessage(FrameworkToExecutorMessage {
                agent_id,
                framework_id,
                executor_id,
                data,
            })
        })
    }

    /// `stop(failover)`: without failover the framework is torn down; with it, the master keeps its
    /// tasks until the failover timeout.
    pub fn stop(&mut self, failover: bool) -> Vec<Output> {
        let out = match (self.status, &self.framework.id) {
            (DriverStatus::Running, Some(framework_id)) if self.connected => {
                let framework_id = framework_id.clone();
                let message = if failover {
                    ToMaster::Deactivate(DeactivateFrameworkMessage { framework_id })
                } else {
                    ToMaster::Unregister(UnregisterFrameworkMessage { framework_id })
                };
                self.to_master(message)
            }
            _ => Vec::new(),
        };
        if matches!(
            self.status,
            DriverStatus::Running | DriverStatus::NotStarted
        ) {
            self.status = DriverStatus::Stopped;
        }
        self.connected = false;
        out
    }

    /// `abort`: the scheduler stops hearing anything; the master keeps the framework for failover.
    pub fn abort(&mut self) -> Vec<Output> {
        let out = match (&self.framework.id, self.connected) {
            (Some(framework_id), true) if self.status == DriverStatus::Running => {
                self.to_master(ToMaster::Deactivate(DeactivateFrameworkMessage {
                    framework_id: framework_id.clone(),
                }))
            }
            _ => Vec::new(),
        };
        if matches!(
            self.status,
            DriverStatus::Running | DriverStatus::NotStarted
        ) {
            self.status = DriverStatus::Aborted;
        }
        self.connected = false;
        out
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
