//! The core's master side: registration, pings, and what the master asks (run, kill, shut down,
//! relay).

use std::time::{Duration, Instant};

use mesos::protocol::*;
use mesos::{AgentId, FrameworkId, TaskId};
use process::Upid;

use super::{same_process, AgentCore, Output};
use crate::checkpoint::Checkpoint;
use crate::master_link::LinkAction;
use crate::state::{KillOutcome, RunOutcome};

impl AgentCore {
    /// A detector reports a new leading master: re-register with it at once (the same one again
    /// is a no-op).
    pub fn master_detected(&mut self, now: Instant, master: Upid) {
        if same_process(&master, &self.master) {
            return;
        }
        tracing::info!(old = %self.master, new = %master, "new leading master detected");
        self.master = master;
        self.master_lost(now);
    }

    /// The connection to a linked pid broke: if it is our registered master, re-register.
    pub fn exited(&mut self, now: Instant, pid: &Upid) {
        if same_process(pid, &self.master) && self.link.is_registered() {
            tracing::warn!(master = %pid, "lost the connection to the master; re-registering");
            self.master_lost(now);
        }
    }

    fn master_lost(&mut self, now: Instant) {
        let action = self.link.master_lost(now);
        self.updates.pause();
        self.send_registration(action);
    }

    pub(super) fn send_registration(&mut self, action: LinkAction) {
        self.outbox.push(Output::Link(self.master.clone()));
        match action {
            LinkAction::Register => {
                let mut agent = self.info.clone();
                agent.id = None;
                tracing::info!(master = %self.master, "registering with master");
                self.send_master(RegisterSlaveMessage {
                    agent,
                    version: mesos::VERSION.to_string(),
                });
            }
            LinkAction::Reregister => {
                let (executors, mut tasks, frameworks) = self.book.reregistration();
                // As Mesos's agent: a task's status update state is that of the update in flight
                // to the master (the head of its stream), not its latest state. A task that ended
                // with earlier updates still unacknowledged is reported at the state its
                // scheduler hears next, so a master that did not know it keeps it until its
                // terminal update arrives.
                for task in &mut tasks {
                    if let Some(head) = self.updates.head(&task.framework_id, &task.task_id) {
                        task.status_update_state = Some(head.status.state);
                        task.status_update_uuid = Some(head.uuid);
                    }
                }
                tracing::info!(master = %self.master, tasks = tasks.len(), "re-registering with master");
                let agent = self.info.clone();
                self.send_master(ReregisterSlaveMessage {
                    agent,
                    executors,
                    tasks,
                    frameworks,
                    version: mesos::VERSION.to_string(),
                });
            }
        }
    }

    fn on_registered(&mut self, now: Instant, agent_id: AgentId, ping_timeout: f64) {
        let ping = Duration::try_from_secs_f64(ping_timeout).unwrap_or_default();
        if !self.link.registered(now, agent_id.clone(), ping) {
            tracing::error!(%agent_id, "master registered us under a different id; ignoring");
            return;
        }
        tracing::info!(%agent_id, "registered with master");
        self.info.id = Some(agent_id.clone());
        self.book.set_agent_id(agent_id);
        self.checkpoint(Checkpoint::Agent(self.info.clone()));
        for update in self.updates.resume(now) {
            self.forward_to_master(update);
        }
    }

    /// `SlaveRegisteredMessage`.
    pub fn registered(&mut self, now: Instant, from: &Upid, m: SlaveRegisteredMessage) {
        if self.is_master(from, "SlaveRegisteredMessage") {
            self.on_registered(now, m.agent_id, m.ping_timeout_secs);
        }
    }

    /// `SlaveReregisteredMessage`.
    pub fn reregistered(&mut self, now: Instant, from: &Upid, m: SlaveReregisteredMessage) {
        if self.is_master(from, "SlaveReregisteredMessage") {
            self.on_registered(now, m.agent_id, m.ping_timeout_secs);
        }
    }

    /// `PingSlaveMessage`: answered with a pong; a master that says it lost track of us
    /// (`connected: false`, e.g. it restarted) gets a re-registration.
    pub fn ping(&mut self, now: Instant, from: &Upid, m: PingSlaveMessage) {
        if !self.is_master(from, "PingSlaveMessage") {
            return;
        }
        if !m.connected && self.link.is_registered() {
            self.master_lost(now);
        } else {
            self.link.pinged(now);
        }
        self.outbox.push(Output::Master {
            to: from.clone(),
            message: PongSlaveMessage {}.into(),
        });
    }

    /// `RunTaskMessage`: launch an executor for the task, queue the task for one that is starting,
    /// hand it to a registered one, or refuse it.
    pub fn run_task(&mut self, now: Instant, from: &Upid, m: RunTaskMessage) {
        if !self.is_master(from, "RunTaskMessage") {
            return;
        }
        if self.agent_id() != Some(&m.task.agent_id) {
            // Launched on an agent id this agent does not have: it has not heard its registration
            // answer (lost with its connection) and may register anew under another id, the
            // master removing the one the task was launched on. Run, the task would hold
            // resources no master counts. Ignored, as Mesos's agent ignores a launch it cannot
            // take; the master settles the task when this agent (re-)registers without it.
            tracing::warn!(task = %m.task.task_id, to = %m.task.agent_id, agent = ?self.agent_id(), "ignoring a task launched on another agent id");
            return;
        }
        let container_id = mesos::ContainerId::new(self.make_uuid().to_string());
        let new_framework = self.book.framework(&m.framework_id).is_none();
        let outcome = self.book.run_task(
            now,
            &m.framework,
            &m.framework_id,
            &m.pid,
            m.task.clone(),
            container_id,
        );
        if !matches!(outcome, RunOutcome::Rejected(_)) && self.checkpoints(&m.framework_id) {
            self.checkpoint_task(&m, new_framework, &outcome);
        }
        let executor_id = m.task.executor.as_ref().map(|e| e.executor_id.clone());
        match outcome {
            RunOutcome::Launch(spec) => self.launch(*spec),
            RunOutcome::Queued => {
                // The executor is still registering, but its container already holds the task.
                self.resize_container(&m.framework_id, executor_id.as_ref());
            }
            RunOutcome::Send(endpoint) => {
                self.resize_container(&m.framework_id, executor_id.as_ref());
                self.send_executor(&endpoint, m);
            }
            RunOutcome::Rejected(status) => {
                self.agent_update(now, &m.framework_id, None, status);
            }
        }
    }

    /// Checkpoints what a task of a checkpointing framework needs to be recovered, before it is
    /// launched or delivered: its framework (the first time), its executor's new run, the task.
    fn checkpoint_task(&mut self, m: &RunTaskMessage, new_framework: bool, outcome: &RunOutcome) {
        let agent_id = self.agent_id_or_default();
        if new_framework {
            let mut info = m.framework.clone();
            info.id = Some(m.framework_id.clone());
            self.checkpoint(Checkpoint::Framework {
                agent_id,
                info,
                pid: m.pid.clone(),
            });
        }
        let Some((executor_id, _)) = self.book.task(&m.framework_id, &m.task.task_id) else {
            return;
        };
        let task = m.task.clone();
        let Some(run) = self.run_ref(&m.framework_id, &executor_id) else {
            return;
        };
        if let RunOutcome::Launch(spec) = outcome {
            self.runs.add_run(run.clone());
            self.checkpoint(Checkpoint::Executor {
                run: run.clone(),
                info: spec.executor.clone(),
                command_executor: spec.command_executor,
            });
        }
        self.runs.add_task(&run.container_id, &task.task_id);
        self.checkpoint(Checkpoint::Task { run, task });
    }

    /// `KillTaskMessage`.
    pub fn kill_task(&mut self, now: Instant, from: &Upid, m: KillTaskMessage) {
        if self.is_master(from, "KillTaskMessage") {
            self.kill(now, &m.framework_id, &m.task_id);
        }
    }

    /// `KillTasksOnReregistrationMessage`: tasks the master declared lost (LOST, DROPPED or
    /// GONE) while we were away. Their schedulers were told: the updates saying they run that
    /// wait for an acknowledgement are retired (a later master, which does not know the tasks
    /// were declared lost, would forward them), then the tasks are killed; their end is still
    /// reported.
    pub fn kill_tasks_on_reregistration(
        &mut self,
        now: Instant,
        from: &Upid,
        m: KillTasksOnReregistrationMessage,
    ) {
        if self.is_master(from, "KillTasksOnReregistrationMessage") {
            for (framework_id, task_id) in m.tasks {
                let (retired, next) =
                    self.updates
                        .retire_non_terminal(now, &framework_id, &task_id);
                for uuid in retired {
                    self.checkpoint_ack(&framework_id, &task_id, uuid);
                }
                if let Some(next) = next {
                    self.forward_to_master(next);
                }
                self.kill(now, &framework_id, &task_id);
            }
        }
    }

    pub(super) fn kill(&mut self, now: Instant, framework_id: &FrameworkId, task_id: &TaskId) {
        match self.book.kill_task(framework_id, task_id) {
            KillOutcome::Ignored => {}
            KillOutcome::Report(status) => self.agent_update(now, framework_id, None, status),
            KillOutcome::Forward(endpoint) => self.send_executor(
                &endpoint,
                KillTaskMessage {
                    framework_id: framework_id.clone(),
                    task_id: task_id.clone(),
                },
            ),
            KillOutcome::Dequeued {
                status,
                shutdown_executor,
            } => {
                self.agent_update(now, framework_id, shutdown_executor.clone(), status);
                if let Some(executor_id) = shutdown_executor {
                    self.shutdown_executor(now, framework_id, &executor_id, true);
                }
            }
        }
    }

    /// `ShutdownExecutorMessage` from the master.
    pub fn shutdown_executor_message(
        &mut self,
        now: Instant,
        from: &Upid,
        m: ShutdownExecutorMessage,
    ) {
        if self.is_master(from, "ShutdownExecutorMessage") {
            self.shutdown_executor(now, &m.framework_id, &m.executor_id, true);
        }
    }

    /// `ShutdownFrameworkMessage`: every executor of the framework is shut down; its updates are
    /// dropped from now on (nobody will acknowledge them).
    pub fn shutdown_framework(&mut self, now: Instant, from: &Upid, m: ShutdownFrameworkMessage) {
        if !self.is_master(from, "ShutdownFrameworkMessage") {
            return;
        }
        tracing::info!(framework_id = %m.framework_id, "shutting down framework");
        for (executor_id, _) in self.book.shutdown_framework(&m.framework_id) {
            self.shutdown_executor(now, &m.framework_id, &executor_id, true);
        }
        self.updates.remove_framework(&m.framework_id);
    }

    /// `UpdateFrameworkMessage`: the framework's scheduler moved.
    pub fn update_framework(&mut self, _now: Instant, from: &Upid, m: UpdateFrameworkMessage) {
        if self.is_master(from, "UpdateFrameworkMessage") {
            self.book.update_framework_pid(&m.framework_id, &m.pid);
            if self.checkpoints(&m.framework_id) {
                let agent_id = self.agent_id_or_default();
                self.checkpoint(Checkpoint::FrameworkPid {
                    agent_id,
                    framework_id: m.framework_id,
                    pid: m.pid,
                });
            }
        }
    }

    /// `ShutdownMessage`: the master removed this agent. Everything is killed and the agent
    /// registers anew, as a new agent.
    pub fn shutdown(&mut self, now: Instant, from: &Upid, m: ShutdownMessage) {
        if !self.is_master(from, "ShutdownMessage") {
            return;
        }
        tracing::warn!(reason = %m.message, "master asked this agent to shut down; starting over as a new agent");
        let frameworks: Vec<FrameworkId> = self.book.frameworks().map(|f| f.id.clone()).collect();
        for framework_id in frameworks {
            for (executor_id, _) in self.book.shutdown_framework(&framework_id) {
                self.shutdown_executor(now, &framework_id, &executor_id, false);
            }
        }
        self.updates.clear();
        self.updates.pause();
        self.info.id = None;
        self.link.forget(now);
        // The next start must not recover this agent's id either.
        self.checkpoint(Checkpoint::ForgetAgent);
    }

    /// `FrameworkToExecutorMessage`: relayed to the executor.
    pub fn framework_to_executor(
        &mut self,
        _now: Instant,
        from: &Upid,
        m: FrameworkToExecutorMessage,
    ) {
        if !self.is_master(from, "FrameworkToExecutorMessage") {
            return;
        }
        match self
            .book
            .executor(&m.framework_id, &m.executor_id)
            .and_then(|e| e.endpoint.clone())
        {
            Some(endpoint) => self.send_executor(&endpoint, m),
            None => {
                tracing::warn!(executor_id = %m.executor_id, "framework message for an unknown executor; dropped")
            }
        }
    }
}
