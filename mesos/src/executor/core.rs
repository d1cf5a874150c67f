//! The executor driver's pure core: registration state, unacknowledged tasks and updates, and
//! waiting for a restarting agent.
//!
//! No I/O and no clock: the driver actor feeds it the agent's messages, its timers and the
//! executor's calls (with the wall-clock time and a fresh uuid when creating an update), and
//! performs the [`Output`]s it returns, in order: the scheduler driver's core has the same shape
//! (see [`crate::driver`]).

use std::collections::BTreeMap;
use std::time::Duration;

use process::Upid;

use crate::protocol::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, ExecutorToFrameworkMessage,
    FrameworkToExecutorMessage, KillTaskMessage, ReconnectExecutorMessage, RegisterExecutorMessage,
    ReregisterExecutorMessage, RunTaskMessage, ShutdownExecutorMessage, StatusUpdate,
    StatusUpdateAcknowledgementMessage, StatusUpdateMessage,
};
use crate::{
    AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, Source, TaskId,
    TaskInfo, TaskState, TaskStatus, Uuid,
};

/// How often a waiting checkpointing executor also knocks on its agent's old address (an agent
/// restarted there answers even if its `ReconnectExecutorMessage` was lost).
pub const REREGISTER_INTERVAL: Duration = Duration::from_secs(1);

/// A message for the agent.
#[derive(Debug, Clone, PartialEq)]
pub enum ToAgent {
    /// Register the executor.
    Register(RegisterExecutorMessage),
    /// Re-register with a (restarted) agent, with what it may not know.
    Reregister(ReregisterExecutorMessage),
    /// A status update (kept until acknowledged).
    StatusUpdate(StatusUpdateMessage),
    /// Data for the scheduler.
    FrameworkMessage(ExecutorToFrameworkMessage),
}

/// A call into the framework's [`Executor`](super::Executor), in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Callback {
    /// `registered`.
    Registered {
        /// The executor's info.
        executor_info: ExecutorInfo,
        /// The framework's info.
        framework_info: FrameworkInfo,
        /// The agent's info.
        agent_info: AgentInfo,
    },
    /// `reregistered`.
    Reregistered {
        /// The agent's info.
        agent_info: AgentInfo,
    },
    /// `disconnected`: the agent went away.
    Disconnected,
    /// `launch_task`.
    LaunchTask(TaskInfo),
    /// `kill_task`.
    KillTask(TaskId),
    /// `framework_message`.
    FrameworkMessage(Vec<u8>),
    /// `shutdown`: the executor should kill its tasks and exit.
    Shutdown,
    /// `error`: the driver cannot go on (it aborts after this).
    Error(String),
}

/// A timer the core sets (an [`Output::Timer`](crate::driver::Output::Timer)) and is told
/// about with [`DriverCore::timer_fired`]. `wait` numbers the waits for the agent (a timer of
/// an earlier wait is stale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The agent did not come back within the recovery timeout: shut down.
    RecoveryTimeout {
        /// The wait it belongs to.
        wait: u64,
    },
    /// Knock on the agent's address again.
    Knock {
        /// The wait it belongs to.
        wait: u64,
    },
}

/// What the actor must do, in order: the shape both driver cores share ([`crate::driver::Output`]).
pub type Output = crate::driver::Output<ToAgent, Callback, Timer>;

/// Why the core refused an update (the executor hears it as an `error` callback).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// Executors may not report `TASK_STAGING` (only the master creates it).
    #[error("executors may not send TASK_STAGING updates (task {0})")]
    Staging(TaskId),
}

/// Settings of an executor driver core.
#[derive(Debug, Clone)]
pub struct CoreOptions {
    /// Whether the framework checkpoints: the executor then waits for a restarted agent instead
    /// of shutting down when the agent goes away.
    pub checkpoint: bool,
    /// How long a checkpointing executor waits for its agent to come back (Mesos: 15 min).
    pub recovery_timeout: Duration,
}

/// The executor driver's bookkeeping.
#[derive(Debug, Clone)]
pub struct DriverCore {
    framework_id: FrameworkId,
    executor_id: ExecutorId,
    /// The agent: the only process that may drive the executor (it moves when a restarted agent
    /// reconnects from a new address).
    agent: Upid,
    agent_id: Option<AgentId>,
    options: CoreOptions,
    connected: bool,
    /// Set once a shutdown or error callback was made: later callbacks are dropped.
    shutting_down: bool,
    /// While waiting for the agent: which wait this is.
    waiting: Option<u64>,
    waits: u64,
    /// Tasks launched and not yet reported by an acknowledged update (re-sent on re-registration).
    unacked_tasks: BTreeMap<TaskId, TaskInfo>,
    /// Updates sent and not yet acknowledged, oldest first.
    unacked_updates: Vec<StatusUpdate>,
}

impl DriverCore {
    /// A core for executor `executor_id` of `framework_id`, started by the agent at `agent`.
    pub fn new(
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        agent: Upid,
        agent_id: Option<AgentId>,
        options: CoreOptions,
    ) -> DriverCore {
        DriverCore {
            framework_id,
            executor_id,
            agent,
            agent_id,
            options,
            connected: false,
            shutting_down: false,
            waiting: None,
            waits: 0,
            unacked_tasks: BTreeMap::new(),
            unacked_updates: Vec::new(),
        }
    }

    /// Whether the agent has (re)registered this executor and not gone away since.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Whether a shutdown (or error) callback was made: the executor is on its way out.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Whether the framework checkpoints (the executor waits for a restarted agent).
    pub fn checkpoint(&self) -> bool {
        self.options.checkpoint
    }

    /// The agent the executor talks to.
    pub fn agent(&self) -> &Upid {
        &self.agent
    }

    /// The agent's id, once known.
    pub fn agent_id(&self) -> Option<&AgentId> {
        self.agent_id.as_ref()
    }

    /// The updates sent and not yet acknowledged, oldest first.
    pub fn unacknowledged_updates(&self) -> &[StatusUpdate] {
        &self.unacked_updates
    }

    /// Queues `callback` unless the executor is shutting down; a shutdown or error is the last.
    fn callback(&mut self, out: &mut Vec<Output>, callback: Callback) {
        if self.shutting_down {
            return;
        }
        if matches!(callback, Callback::Shutdown | Callback::Error(_)) {
            self.shutting_down = true;
        }
        out.push(Output::Callback(callback));
    }

    fn one_callback(&mut self, callback: Callback) -> Vec<Output> {
        let mut out = Vec::new();
        self.callback(&mut out, callback);
        out
    }

    fn to_agent(&self, message: ToAgent) -> Output {
        Output::Send(self.agent.clone(), message)
    }

    /// The re-registration message: tasks and updates the agent may not know about.
    fn reregister_message(&self) -> ToAgent {
        ToAgent::Reregister(ReregisterExecutorMessage {
            framework_id: self.framework_id.clone(),
            executor_id: self.executor_id.clone(),
            tasks: self.unacked_tasks.values().cloned().collect(),
            updates: self.unacked_updates.clone(),
        })
    }

    /// The executor starts: link to the agent first (so losing it is noticed even if it never
    /// answers), then register.
    pub fn start(&mut self) -> Vec<Output> {
        vec![
            Output::Link(self.agent.clone()),
            self.to_agent(ToAgent::Register(RegisterExecutorMessage {
                framework_id: self.framework_id.clone(),
                executor_id: self.executor_id.clone(),
            })),
        ]
    }

    /// Only the agent may drive the executor; anything else is dropped.
    fn is_agent(&self, from: &Upid) -> bool {
        from == &self.agent
    }

    /// `ExecutorRegisteredMessage`: the agent registered the executor.
    pub fn on_registered(
        &mut self,
        from: &Upid,
        message: ExecutorRegisteredMessage,
    ) -> Vec<Output> {
        if !self.is_agent(from) {
            return Vec::new();
        }
        self.connected = true;
        self.agent_id = Some(message.agent_id);
        self.one_callback(Callback::Registered {
            executor_info: message.executor_info,
            framework_info: message.framework_info,
            agent_info: message.agent_info,
        })
    }

    /// `ExecutorReregisteredMessage`: a restarted agent re-registered the executor; the
    /// unacknowledged updates are sent again.
    pub fn on_reregistered(
        &mut self,
        from: &Upid,
        message: ExecutorReregisteredMessage,
    ) -> Vec<Output> {
        if !self.is_agent(from) {
            return Vec::new();
        }
        self.connected = true;
        self.waiting = None;
        self.agent_id = Some(message.agent_id);
        let mut out: Vec<Output> = self
            .unacked_updates
            .iter()
            .map(|update| {
                self.to_agent(ToAgent::StatusUpdate(StatusUpdateMessage {
                    update: update.clone(),
                    pid: None,
                }))
            })
            .collect();
        self.callback(
            &mut out,
            Callback::Reregistered {
                agent_info: message.agent_info,
            },
        );
        out
    }

    /// `ReconnectExecutorMessage`: a restarted agent recovered this executor; re-register with
    /// it, wherever it now listens.
    pub fn on_reconnect(&mut self, from: &Upid, message: ReconnectExecutorMessage) -> Vec<Output> {
        if self.shutting_down || self.waiting.is_none() {
            return Vec::new();
        }
        if let Some(known) = &self.agent_id {
            if known != &message.agent_id {
                tracing::warn!(%from, agent_id = %message.agent_id, "reconnect from another agent; ignored");
                return Vec::new();
            }
        }
        tracing::info!(agent = %from, "the agent came back; re-registering");
        self.agent = from.clone();
        vec![
            Output::Link(self.agent.clone()),
            self.to_agent(self.reregister_message()),
        ]
    }

    /// `RunTaskMessage`: launch the task (ignored for another framework).
    pub fn on_run_task(&mut self, from: &Upid, message: RunTaskMessage) -> Vec<Output> {
        if !self.is_agent(from) || message.framework_id != self.framework_id {
            return Vec::new();
        }
        self.unacked_tasks
            .insert(message.task.task_id.clone(), message.task.clone());
        self.one_callback(Callback::LaunchTask(message.task))
    }

    /// `KillTaskMessage`: kill the task (ignored for another framework).
    pub fn on_kill_task(&mut self, from: &Upid, message: KillTaskMessage) -> Vec<Output> {
        if !self.is_agent(from) || message.framework_id != self.framework_id {
            return Vec::new();
        }
        self.one_callback(Callback::KillTask(message.task_id))
    }

    /// The driver kills a task that failed its health checks, as if the agent asked.
    pub fn kill_unhealthy_task(&mut self, task_id: TaskId) -> Vec<Output> {
        self.one_callback(Callback::KillTask(task_id))
    }

    /// `StatusUpdateAcknowledgementMessage`: forget the update (and its task, since the agent now
    /// knows the task). Nothing to do for the actor.
    pub fn on_acknowledgement(
        &mut self,
        from: &Upid,
        message: StatusUpdateAcknowledgementMessage,
    ) -> Vec<Output> {
        if self.is_agent(from) {
            let before = self.unacked_updates.len();
            self.unacked_updates.retain(|u| u.uuid != message.uuid);
            self.unacked_tasks.remove(&message.task_id);
            if self.unacked_updates.len() == before {
                tracing::debug!(uuid = %message.uuid, "acknowledgement of an unknown update");
            }
        }
        Vec::new()
    }

    /// `FrameworkToExecutorMessage`: data from the scheduler.
    pub fn on_framework_message(
        &mut self,
        from: &Upid,
        message: FrameworkToExecutorMessage,
    ) -> Vec<Output> {
        if !self.is_agent(from) {
            return Vec::new();
        }
        self.one_callback(Callback::FrameworkMessage(message.data))
    }

    /// `ShutdownExecutorMessage`: the agent asks the executor to exit.
    pub fn on_shutdown(&mut self, from: &Upid, _: ShutdownExecutorMessage) -> Vec<Output> {
        if !self.is_agent(from) {
            return Vec::new();
        }
        self.one_callback(Callback::Shutdown)
    }

    /// A new status update from the executor: sent, and kept until acknowledged. `timestamp` is
    /// the wall-clock time (seconds since the epoch), `uuid` a fresh uuid. A `TASK_STAGING` update
    /// is refused with an `error` callback ([`UpdateError::Staging`]).
    pub fn send_status_update(
        &mut self,
        status: TaskStatus,
        timestamp: f64,
        uuid: Uuid,
    ) -> Vec<Output> {
        if status.state == TaskState::Staging {
            let error = UpdateError::Staging(status.task_id);
            return self.one_callback(Callback::Error(error.to_string()));
        }
        let mut status = status;
        status.uuid = Some(uuid);
        status.timestamp = timestamp;
        status.source = Some(Source::Executor);
        status.executor_id = Some(self.executor_id.clone());
        if status.agent_id.is_none() {
            status.agent_id = self.agent_id.clone();
        }
        let update = StatusUpdate {
            framework_id: self.framework_id.clone(),
            executor_id: Some(self.executor_id.clone()),
            agent_id: self.agent_id.clone(),
            status,
            timestamp,
            uuid,
        };
        self.unacked_updates.push(update.clone());
        vec![self.to_agent(ToAgent::StatusUpdate(StatusUpdateMessage {
            update,
            pid: None,
        }))]
    }

    /// A message from the executor to its scheduler (best effort).
    pub fn send_framework_message(&mut self, data: Vec<u8>) -> Vec<Output> {
        vec![
            self.to_agent(ToAgent::FrameworkMessage(ExecutorToFrameworkMessage {
                agent_id: self.agent_id.clone().unwrap_or_default(),
                framework_id: self.framework_id.clone(),
                executor_id: self.executor_id.clone(),
                data,
            })),
        ]
    }

    /// The link to `pid` broke. For the agent: without checkpointing the executor cannot be
    /// recovered, so it shuts down (as Mesos's driver does); with checkpointing it waits for the
    /// agent to come back (a `ReconnectExecutorMessage`, or an answer to its knocks on the old
    /// address) for the recovery timeout, then shuts down.
    pub fn exited(&mut self, pid: &Upid) -> Vec<Output> {
        let mut out = Vec::new();
        if !self.is_agent(pid) {
            return out;
        }
        if self.options.checkpoint && self.waiting.is_none() && !self.shutting_down {
            // Timers first: a callback holds back the outputs after it until it returned.
            self.waits += 1;
            let wait = self.waits;
            self.waiting = Some(wait);
            out.push(Output::Timer {
                after: self.options.recovery_timeout,
                timer: Timer::RecoveryTimeout { wait },
            });
            out.push(Output::Timer {
                after: REREGISTER_INTERVAL,
                timer: Timer::Knock { wait },
            });
        }
        if !self.connected && self.options.checkpoint {
            return out;
        }
        self.connected = false;
        self.callback(&mut out, Callback::Disconnected);
        if !self.options.checkpoint {
            self.callback(&mut out, Callback::Shutdown);
        }
        out
    }

    /// A timer set by an [`Output::Timer`](crate::driver::Output::Timer) fired.
    pub fn timer_fired(&mut self, timer: Timer) -> Vec<Output> {
        match timer {
            Timer::RecoveryTimeout { wait } if self.waiting == Some(wait) => {
                tracing::warn!(timeout = ?self.options.recovery_timeout, "the agent did not come back within the recovery timeout; shutting down");
                self.one_callback(Callback::Shutdown)
            }
            Timer::Knock { wait } if self.waiting == Some(wait) && !self.shutting_down => vec![
                Output::Link(self.agent.clone()),
                self.to_agent(self.reregister_message()),
                Output::Timer {
                    after: REREGISTER_INTERVAL,
                    timer: Timer::Knock { wait },
                },
            ],
            Timer::RecoveryTimeout { .. } | Timer::Knock { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CommandInfo;

    const RECOVERY: Duration = Duration::from_secs(900);

    fn agent() -> Upid {
        "slave(1)@127.0.0.1:5051".parse().unwrap()
    }

    fn moved_agent() -> Upid {
        "slave(1)@127.0.0.1:5052".parse().unwrap()
    }

    fn stranger() -> Upid {
        "scheduler@127.0.0.1:7000".parse().unwrap()
    }

    fn core(checkpoint: bool) -> DriverCore {
        DriverCore::new(
            FrameworkId::new("f"),
            ExecutorId::new("e"),
            agent(),
            None,
            CoreOptions {
                checkpoint,
                recovery_timeout: RECOVERY,
            },
        )
    }

    fn registered_message() -> ExecutorRegisteredMessage {
        ExecutorRegisteredMessage {
            executor_info: ExecutorInfo::new("e", CommandInfo::shell("x")),
            framework_id: FrameworkId::new("f"),
            framework_info: FrameworkInfo::new("u", "n"),
            agent_id: AgentId::new("a"),
            agent_info: AgentInfo::new("h"),
        }
    }

    fn registered(core: &mut DriverCore) {
        let out = core.on_registered(&agent(), registered_message());
        assert_eq!(
            out,
            vec![Output::Callback(Callback::Registered {
                executor_info: ExecutorInfo::new("e", CommandInfo::shell("x")),
                framework_info: FrameworkInfo::new("u", "n"),
                agent_info: AgentInfo::new("h"),
            })]
        );
    }

    fn task(id: &str) -> TaskInfo {
        TaskInfo::new(id, id, AgentId::new("a"), crate::Resources::new())
    }

    fn run(id: &str) -> RunTaskMessage {
        RunTaskMessage {
            framework_id: FrameworkId::new("f"),
            framework: FrameworkInfo::new("u", "n"),
            pid: String::new(),
            task: task(id),
        }
    }

    fn ack(task: &str, uuid: Uuid) -> StatusUpdateAcknowledgementMessage {
        StatusUpdateAcknowledgementMessage {
            agent_id: AgentId::new("a"),
            framework_id: FrameworkId::new("f"),
            task_id: TaskId::new(task),
            uuid,
        }
    }

    fn reregister(tasks: Vec<TaskInfo>, updates: Vec<StatusUpdate>) -> ToAgent {
        ToAgent::Reregister(ReregisterExecutorMessage {
            framework_id: FrameworkId::new("f"),
            executor_id: ExecutorId::new("e"),
            tasks,
            updates,
        })
    }

    /// The one update `out` sends to `to`.
    fn sent_update(out: &[Output], to: &Upid) -> StatusUpdate {
        match out {
            [Output::Send(dest, ToAgent::StatusUpdate(m))] if dest == to => m.update.clone(),
            other => panic!("expected one update to {to}, got {other:?}"),
        }
    }

    #[test]
    fn start_links_then_registers() {
        assert_eq!(
            core(false).start(),
            vec![
                Output::Link(agent()),
                Output::Send(
                    agent(),
                    ToAgent::Register(RegisterExecutorMessage {
                        framework_id: FrameworkId::new("f"),
                        executor_id: ExecutorId::new("e"),
                    })
                ),
            ]
        );
    }

    #[test]
    fn updates_carry_ids_and_wait_for_acknowledgement() {
        let mut core = core(false);
        registered(&mut core);
        assert!(core.is_connected());
        let uuid = Uuid::v4_from([1; 16]);
        let out = core.send_status_update(
            TaskStatus::new(TaskId::new("t"), TaskState::Running),
            7.0,
            uuid,
        );
        let update = sent_update(&out, &agent());
        assert_eq!(update.uuid, uuid);
        assert_eq!(update.status.uuid, Some(uuid));
        assert_eq!(update.agent_id, Some(AgentId::new("a")));
        assert_eq!(update.status.source, Some(Source::Executor));
        assert_eq!(update.status.executor_id, Some(ExecutorId::new("e")));
        assert_eq!(update.status.timestamp, 7.0);
        assert_eq!(core.unacknowledged_updates(), &[update]);
        // A stranger's acknowledgement, and one of another uuid, change nothing.
        assert_eq!(core.on_acknowledgement(&stranger(), ack("t", uuid)), vec![]);
        assert_eq!(
            core.on_acknowledgement(&agent(), ack("t", Uuid::v4_from([2; 16]))),
            vec![]
        );
        assert_eq!(core.unacknowledged_updates().len(), 1);
        assert_eq!(core.on_acknowledgement(&agent(), ack("t", uuid)), vec![]);
        assert!(core.unacknowledged_updates().is_empty());
    }

    #[test]
    fn staging_updates_are_an_error_and_the_last_callback() {
        let mut core = core(false);
        registered(&mut core);
        let out = core.send_status_update(
            TaskStatus::new(TaskId::new("t"), TaskState::Staging),
            0.0,
            Uuid::v4_from([0; 16]),
        );
        assert_eq!(
            out,
            vec![Output::Callback(Callback::Error(
                "executors may not send TASK_STAGING updates (task t)".to_string()
            ))]
        );
        assert!(core.unacknowledged_updates().is_empty());
        assert!(core.is_shutting_down());
        assert_eq!(core.on_run_task(&agent(), run("t")), vec![]);
    }

    #[test]
    fn only_the_agent_drives_the_executor() {
        let mut core = core(false);
        assert_eq!(
            core.on_registered(&stranger(), registered_message()),
            vec![]
        );
        assert!(!core.is_connected());
        assert_eq!(core.on_run_task(&stranger(), run("t")), vec![]);
        assert_eq!(
            core.on_shutdown(
                &stranger(),
                ShutdownExecutorMessage {
                    framework_id: FrameworkId::new("f"),
                    executor_id: ExecutorId::new("e"),
                }
            ),
            vec![]
        );
        assert_eq!(core.exited(&stranger()), vec![]);
        registered(&mut core);
        assert_eq!(
            core.on_run_task(&agent(), run("t")),
            vec![Output::Callback(Callback::LaunchTask(task("t")))]
        );
        assert_eq!(
            core.on_framework_message(
                &agent(),
                FrameworkToExecutorMessage {
                    agent_id: AgentId::new("a"),
                    framework_id: FrameworkId::new("f"),
                    executor_id: ExecutorId::new("e"),
                    data: b"hi".to_vec(),
                }
            ),
            vec![Output::Callback(Callback::FrameworkMessage(b"hi".to_vec()))]
        );
        assert_eq!(
            core.send_framework_message(b"yo".to_vec()),
            vec![Output::Send(
                agent(),
                ToAgent::FrameworkMessage(ExecutorToFrameworkMessage {
                    agent_id: AgentId::new("a"),
                    framework_id: FrameworkId::new("f"),
                    executor_id: ExecutorId::new("e"),
                    data: b"yo".to_vec(),
                })
            )]
        );
    }

    #[test]
    fn a_checkpointing_executor_waits_knocks_and_resends_after_reregistering() {
        let mut core = core(true);
        registered(&mut core);
        assert_eq!(
            core.on_run_task(&agent(), run("t1")),
            vec![Output::Callback(Callback::LaunchTask(task("t1")))]
        );
        core.on_run_task(&agent(), run("t2"));
        let uuid = Uuid::v4_from([3; 16]);
        let update = sent_update(
            &core.send_status_update(
                TaskStatus::new(TaskId::new("t1"), TaskState::Running),
                1.0,
                uuid,
            ),
            &agent(),
        );
        assert_eq!(
            core.exited(&agent()),
            vec![
                Output::Timer {
                    after: RECOVERY,
                    timer: Timer::RecoveryTimeout { wait: 1 },
                },
                Output::Timer {
                    after: REREGISTER_INTERVAL,
                    timer: Timer::Knock { wait: 1 },
                },
                Output::Callback(Callback::Disconnected),
            ]
        );
        assert!(!core.is_connected());
        // A second break while waiting starts no second wait, and says nothing.
        assert_eq!(core.exited(&agent()), vec![]);
        let knock = reregister(vec![task("t1"), task("t2")], vec![update.clone()]);
        assert_eq!(
            core.timer_fired(Timer::Knock { wait: 1 }),
            vec![
                Output::Link(agent()),
                Output::Send(agent(), knock.clone()),
                Output::Timer {
                    after: REREGISTER_INTERVAL,
                    timer: Timer::Knock { wait: 1 },
                },
            ]
        );
        // The agent restarted elsewhere and says so.
        assert_eq!(
            core.on_reconnect(
                &moved_agent(),
                ReconnectExecutorMessage {
                    agent_id: AgentId::new("other")
                }
            ),
            vec![]
        );
        assert_eq!(
            core.on_reconnect(
                &moved_agent(),
                ReconnectExecutorMessage {
                    agent_id: AgentId::new("a")
                }
            ),
            vec![
                Output::Link(moved_agent()),
                Output::Send(moved_agent(), knock)
            ]
        );
        assert_eq!(core.agent(), &moved_agent());
        assert_eq!(
            core.on_reregistered(
                &moved_agent(),
                ExecutorReregisteredMessage {
                    agent_id: AgentId::new("a"),
                    agent_info: AgentInfo::new("h"),
                }
            ),
            vec![
                Output::Send(
                    moved_agent(),
                    ToAgent::StatusUpdate(StatusUpdateMessage { update, pid: None })
                ),
                Output::Callback(Callback::Reregistered {
                    agent_info: AgentInfo::new("h")
                }),
            ]
        );
        // The wait is over: its timers are stale, and a reconnect is not expected.
        assert_eq!(core.timer_fired(Timer::Knock { wait: 1 }), vec![]);
        assert_eq!(core.timer_fired(Timer::RecoveryTimeout { wait: 1 }), vec![]);
        core.on_acknowledgement(&moved_agent(), ack("t1", uuid));
        assert!(core.unacknowledged_updates().is_empty());
        // The next break is wait 2; the agent never comes back.
        let out = core.exited(&moved_agent());
        assert_eq!(out.len(), 3);
        assert_eq!(
            core.timer_fired(Timer::Knock { wait: 2 })[1],
            Output::Send(moved_agent(), reregister(vec![task("t2")], vec![]))
        );
        assert_eq!(
            core.timer_fired(Timer::RecoveryTimeout { wait: 2 }),
            vec![Output::Callback(Callback::Shutdown)]
        );
        assert_eq!(core.timer_fired(Timer::Knock { wait: 2 }), vec![]);
    }

    #[test]
    fn losing_the_agent_without_checkpointing_shuts_down_once() {
        let mut core = core(false);
        registered(&mut core);
        assert_eq!(
            core.exited(&agent()),
            vec![
                Output::Callback(Callback::Disconnected),
                Output::Callback(Callback::Shutdown),
            ]
        );
        assert!(core.is_shutting_down());
        assert_eq!(core.exited(&agent()), vec![]);
        assert_eq!(core.kill_unhealthy_task(TaskId::new("t")), vec![]);
        assert_eq!(
            core.on_reconnect(
                &agent(),
                ReconnectExecutorMessage {
                    agent_id: AgentId::new("a")
                }
            ),
            vec![]
        );
    }

    #[test]
    fn messages_of_other_frameworks_are_ignored() {
        let mut core = core(false);
        let mut message = run("t");
        message.framework_id = FrameworkId::new("other");
        assert_eq!(core.on_run_task(&agent(), message), vec![]);
        assert_eq!(
            core.on_kill_task(
                &agent(),
                KillTaskMessage {
                    framework_id: FrameworkId::new("other"),
                    task_id: TaskId::new("t"),
                }
            ),
            vec![]
        );
        assert_eq!(
            core.on_kill_task(
                &agent(),
                KillTaskMessage {
                    framework_id: FrameworkId::new("f"),
                    task_id: TaskId::new("t"),
                }
            ),
            vec![Output::Callback(Callback::KillTask(TaskId::new("t")))]
        );
    }
}
