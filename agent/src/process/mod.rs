//! The agent actor (`slave(1)`): turns messages, child exits and timers into calls on the pure cores
//! ([`MasterLink`], [`StatusUpdateManager`], [`AgentBook`]) and performs what they decide.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesos::protocol::*;
use mesos::{
    AgentId, AgentInfo, ContainerId, ExecutorId, FrameworkId, Source, TaskId, TaskState,
    TaskStatus, Uuid,
};
use process::{Context, Handlers, Process, Timer, Upid};

use crate::config::AgentConfig;
use crate::containers::{apply_limitation, MonitoredExecutor, SharedContainers};
use crate::isolator::{ContainerConfig, Limitation};
use crate::launcher::{self, ExecutorEnvironment, ExitInfo};
use crate::master_link::{LinkAction, MasterLink};
use crate::state::{AgentBook, KillOutcome, LaunchSpec, RunOutcome};
use crate::status_update_manager::StatusUpdateManager;

mod executors;

/// How often the agent asks the isolator whether the kernel enforced a limit on a live container
/// (an OOM kill), when the isolator can report any.
pub(crate) const LIMITATION_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The agent process.
pub struct AgentProcess {
    pub(crate) config: AgentConfig,
    pub(crate) info: AgentInfo,
    pub(crate) master: Upid,
    pub(crate) link: MasterLink,
    pub(crate) updates: StatusUpdateManager,
    pub(crate) book: AgentBook,
    pub(crate) containers: SharedContainers,
    /// Live executor processes by container: OS pid (= session id).
    children: HashMap<ContainerId, u32>,
    /// Containers the kernel enforced a limit on: being destroyed, their tasks already failed.
    limited: HashSet<ContainerId>,
    /// Whether the isolator can report limitations (then live containers are polled).
    watch_limitations: bool,
    /// When the live containers are next polled for limitations.
    next_limitation_check: Option<Instant>,
    pub(crate) start_time: f64,
    timer: Option<(Instant, Timer)>,
}

/// Whether `a` and `b` name the same process. A master listening on a wildcard address (0.0.0.0)
/// signs its messages with it while agents reach it through a concrete IP: that counts as the same.
pub(crate) fn same_process(a: &Upid, b: &Upid) -> bool {
    a.id() == b.id()
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

fn wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl AgentProcess {
    pub(crate) fn new(
        config: AgentConfig,
        info: AgentInfo,
        master: Upid,
        launcher: PathBuf,
        containers: SharedContainers,
        now: Instant,
    ) -> AgentProcess {
        let link = MasterLink::new(
            now,
            config.registration_backoff_factor,
            config.max_ping_timeouts,
        );
        let updates = StatusUpdateManager::new(
            config.status_update_retry_interval_min,
            config.status_update_retry_interval_max,
        );
        let book = AgentBook::new(&config.work_dir, &launcher);
        let watch_limitations = containers.lock().isolator.watches_limitations();
        AgentProcess {
            config,
            info,
            master,
            link,
            updates,
            book,
            containers,
            children: HashMap::new(),
            limited: HashSet::new(),
            watch_limitations,
            next_limitation_check: None,
            start_time: wall_clock(),
            timer: None,
        }
    }

    fn is_master(&self, from: &Upid, what: &str) -> bool {
        if same_process(from, &self.master) {
            return true;
        }
        tracing::warn!(%from, message = what, "ignoring a master message from a process that is not our master");
        false
    }

    fn agent_id(&self) -> AgentId {
        self.link.agent_id().cloned().unwrap_or_default()
    }

    // ---- timers ----

    /// Arms one timer for the earliest thing any core waits for.
    fn schedule(&mut self, ctx: &mut Context<Self>) {
        let mut next = self.link.poll_timeout();
        if let Some(at) = self.updates.poll_timeout() {
            next = next.min(at);
        }
        if let Some(at) = self.book.oldest_registering() {
            next = next.min(at + self.config.executor_registration_timeout);
        }
        if let Some(at) = self.next_limitation_check {
            next = next.min(at);
        }
        if let Some((at, _)) = &self.timer {
            if *at == next {
                return;
            }
        }
        if let Some((_, timer)) = self.timer.take() {
            timer.cancel();
        }
        let wait = next.saturating_duration_since(ctx.now());
        let timer = ctx.delay(wait, |this: &mut Self, ctx| {
            this.timer = None;
            this.on_timer(ctx);
        });
        self.timer = Some((next, timer));
    }

    fn on_timer(&mut self, ctx: &mut Context<Self>) {
        let now = ctx.now();
        if let Some(action) = self.link.tick(now) {
            if !self.link.is_registered() {
                self.updates.pause();
            }
            self.send_registration(ctx, action);
        }
        for update in self.updates.due(now) {
            tracing::info!(task = %update.status.task_id, state = %update.status.state, "resending unacknowledged status update");
            self.forward_to_master(ctx, update);
        }
        let stale = now.checked_sub(self.config.executor_registration_timeout);
        if let Some(stale) = stale {
            for (framework_id, executor_id) in self.book.registering_since(stale) {
                tracing::warn!(%framework_id, %executor_id, "executor did not register in time; killing it");
                self.book.set_termination_reason(
                    &framework_id,
                    &executor_id,
                    mesos::Reason::ExecutorRegistrationTimeout,
                );
                self.shutdown_executor(ctx, &framework_id, &executor_id, false);
            }
        }
        if self.next_limitation_check.is_some_and(|at| at <= now) {
            self.next_limitation_check = None;
            self.check_limitations(ctx);
        }
        self.arm_limitation_watch(now);
        self.schedule(ctx);
    }

    // ---- limitations (OOM) ----

    /// Polls live containers again in [`LIMITATION_POLL_INTERVAL`] (if the isolator can report
    /// limitations and there is any).
    fn arm_limitation_watch(&mut self, now: Instant) {
        if self.watch_limitations
            && self.next_limitation_check.is_none()
            && self.children.keys().any(|id| !self.limited.contains(id))
        {
            self.next_limitation_check = Some(now + LIMITATION_POLL_INTERVAL);
        }
    }

    /// Asks the isolator about every live container not already being destroyed for a limitation.
    fn check_limitations(&mut self, ctx: &mut Context<Self>) {
        let live: Vec<ContainerId> = self
            .children
            .keys()
            .filter(|id| !self.limited.contains(*id))
            .cloned()
            .collect();
        for container_id in live {
            let limitation = self.containers.lock().isolator.limitation(&container_id);
            if let Some(limitation) = limitation {
                self.container_limited(ctx, &container_id, limitation);
            }
        }
    }

    /// The kernel enforced a limit on a container (e.g. OOM-killed one of its processes): destroy
    /// it and fail its live tasks with the limitation (as Mesos does), whatever its processes that
    /// are left would have reported.
    fn container_limited(
        &mut self,
        ctx: &mut Context<Self>,
        container_id: &ContainerId,
        limitation: Limitation,
    ) {
        let Some(executor) = self
            .book
            .executors()
            .find(|e| &e.container_id == container_id)
        else {
            return;
        };
        let framework_id = executor.framework_id.clone();
        let executor_id = executor.info.executor_id.clone();
        let tasks: Vec<TaskId> = executor.tasks.keys().cloned().collect();
        tracing::warn!(%framework_id, %executor_id, %container_id, message = %limitation.message, "container limitation; destroying the container");
        self.limited.insert(container_id.clone());
        let reason = apply_limitation(
            &limitation,
            TaskStatus::new(TaskId::new(""), TaskState::Failed),
        )
        .reason;
        if let Some(reason) = reason {
            self.book
                .set_termination_reason(&framework_id, &executor_id, reason);
        }
        self.book.shutdown_executor(&framework_id, &executor_id);
        // The session now; what left it goes with the cgroup when the executor's exit is reaped.
        self.kill_container(container_id);
        for task_id in tasks {
            let status = apply_limitation(&limitation, TaskStatus::new(task_id, TaskState::Failed));
            self.agent_update(ctx, &framework_id, Some(executor_id.clone()), status);
        }
    }

    // ---- master ----

    /// A detector reports a new leading master: re-register with it at once.
    pub(crate) fn master_detected(&mut self, ctx: &mut Context<Self>, master: Upid) {
        if same_process(&master, &self.master) {
            return;
        }
        tracing::info!(old = %self.master, new = %master, "new leading master detected");
        self.master = master;
        let action = self.link.master_lost(ctx.now());
        self.updates.pause();
        self.send_registration(ctx, action);
        self.schedule(ctx);
    }

    fn send_registration(&mut self, ctx: &mut Context<Self>, action: LinkAction) {
        ctx.link(&self.master);
        match action {
            LinkAction::Register => {
                let mut agent = self.info.clone();
                agent.id = None;
                tracing::info!(master = %self.master, "registering with master");
                ctx.send(
                    &self.master,
                    RegisterSlaveMessage {
                        agent,
                        version: mesos::VERSION.to_string(),
                    },
                );
            }
            LinkAction::Reregister => {
                let (executors, tasks, frameworks) = self.book.reregistration();
                tracing::info!(master = %self.master, tasks = tasks.len(), "re-registering with master");
                ctx.send(
                    &self.master,
                    ReregisterSlaveMessage {
                        agent: self.info.clone(),
                        executors,
                        tasks,
                        frameworks,
                        version: mesos::VERSION.to_string(),
                    },
                );
            }
        }
    }

    fn on_registered(&mut self, ctx: &mut Context<Self>, agent_id: AgentId, ping_timeout: f64) {
        let now = ctx.now();
        let ping = std::time::Duration::try_from_secs_f64(ping_timeout).unwrap_or_default();
        if !self.link.registered(now, agent_id.clone(), ping) {
            tracing::error!(%agent_id, "master registered us under a different id; ignoring");
            return;
        }
        tracing::info!(%agent_id, "registered with master");
        self.info.id = Some(agent_id.clone());
        self.book.set_agent_id(agent_id);
        for update in self.updates.resume(now) {
            self.forward_to_master(ctx, update);
        }
        self.schedule(ctx);
    }

    fn registered(&mut self, ctx: &mut Context<Self>, from: &Upid, m: SlaveRegisteredMessage) {
        if self.is_master(from, "SlaveRegisteredMessage") {
            self.on_registered(ctx, m.agent_id, m.ping_timeout_secs);
        }
    }

    fn reregistered(&mut self, ctx: &mut Context<Self>, from: &Upid, m: SlaveReregisteredMessage) {
        if self.is_master(from, "SlaveReregisteredMessage") {
            self.on_registered(ctx, m.agent_id, m.ping_timeout_secs);
        }
    }

    fn ping(&mut self, ctx: &mut Context<Self>, from: &Upid, m: PingSlaveMessage) {
        if !self.is_master(from, "PingSlaveMessage") {
            return;
        }
        let now = ctx.now();
        if !m.connected && self.link.is_registered() {
            // The master lost track of us (e.g. it restarted): re-register.
            let action = self.link.master_lost(now);
            self.updates.pause();
            self.send_registration(ctx, action);
        } else {
            self.link.pinged(now);
        }
        ctx.reply(PongSlaveMessage {});
        self.schedule(ctx);
    }

    fn forward_to_master(&self, ctx: &Context<Self>, update: StatusUpdate) {
        ctx.send(
            &self.master,
            StatusUpdateMessage {
                update,
                pid: Some(ctx.upid().to_string()),
            },
        );
    }

    // ---- tasks ----

    fn run_task(&mut self, ctx: &mut Context<Self>, from: &Upid, m: RunTaskMessage) {
        if !self.is_master(from, "RunTaskMessage") {
            return;
        }
        let container_id = ContainerId::new(Uuid::random().to_string());
        let outcome = self.book.run_task(
            ctx.now(),
            &m.framework,
            &m.framework_id,
            &m.pid,
            m.task.clone(),
            container_id,
        );
        match outcome {
            RunOutcome::Launch(spec) => self.launch_executor(ctx, *spec),
            RunOutcome::Queued => {
                // The executor is still registering, but its container already holds the task.
                self.update_container(
                    &m.framework_id,
                    m.task.executor.as_ref().map(|e| &e.executor_id),
                );
            }
            RunOutcome::Send(pid) => {
                self.update_container(
                    &m.framework_id,
                    m.task.executor.as_ref().map(|e| &e.executor_id),
                );
                ctx.send(&pid, m);
            }
            RunOutcome::Rejected(status) => {
                self.agent_update(ctx, &m.framework_id, None, status);
            }
        }
        self.schedule(ctx);
    }

    /// Makes the executor's container's limits follow its resources (executor and live tasks): called
    /// whenever a task is added to it (sent or queued), forwarded to it, or ends.
    pub(super) fn update_container(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: Option<&ExecutorId>,
    ) {
        let Some(executor_id) = executor_id else {
            return;
        };
        if let Some(executor) = self.book.executor(framework_id, executor_id) {
            if self.limited.contains(&executor.container_id)
                || !self.children.contains_key(&executor.container_id)
            {
                // Being destroyed, or never started: nothing to resize.
                return;
            }
            let resources = executor.resources();
            if let Err(err) = self
                .containers
                .lock()
                .isolator
                .update(&executor.container_id, &resources)
            {
                tracing::warn!(%err, "cannot update container resources");
            }
        }
    }

    fn launch_executor(&mut self, ctx: &mut Context<Self>, spec: LaunchSpec) {
        let framework_id = spec.framework_id.clone();
        let executor_id = spec.executor.executor_id.clone();
        let resources = self
            .book
            .executor(&framework_id, &executor_id)
            .map(|e| e.resources())
            .unwrap_or_default();
        let prepared = self.containers.lock().isolator.prepare(&ContainerConfig {
            container_id: spec.container_id.clone(),
            directory: spec.directory.clone(),
            resources,
        });
        let env = ExecutorEnvironment {
            agent_pid: ctx.upid().to_string(),
            agent_id: self.agent_id(),
            shutdown_grace_period: self.config.executor_shutdown_grace_period,
        };
        let agent = ctx.pid();
        let handle = ctx.runtime().clone();
        let (fw, ex, container) = (
            framework_id.clone(),
            executor_id.clone(),
            spec.container_id.clone(),
        );
        let launched = prepared.map_err(|e| e.to_string()).and_then(|launch| {
            launcher::launch(&spec, &env, &launch, move |exit| {
                // From the reaper thread back onto the agent.
                drop(handle.dispatch(&agent, move |this, ctx| {
                    this.executor_exited(ctx, &fw, &ex, &container, exit)
                }));
            })
            .map_err(|e| e.to_string())
        });
        match launched {
            Ok(pid) => {
                tracing::info!(%framework_id, %executor_id, pid, dir = %spec.directory.display(), "launched executor");
                let mut containers = self.containers.lock();
                if let Err(err) = containers.isolator.isolate(&spec.container_id, pid) {
                    tracing::warn!(%err, "cannot isolate executor");
                }
                containers.executors.insert(
                    spec.container_id.clone(),
                    MonitoredExecutor {
                        executor_id: executor_id.clone(),
                        executor_name: spec.executor.name.clone().unwrap_or_default(),
                        framework_id: framework_id.clone(),
                        source: spec.executor.source.clone().unwrap_or_default(),
                    },
                );
                drop(containers);
                self.children.insert(spec.container_id, pid);
                self.arm_limitation_watch(ctx.now());
            }
            Err(err) => {
                tracing::error!(%framework_id, %executor_id, %err, "cannot launch executor");
                let _ = self.containers.lock().isolator.cleanup(&spec.container_id);
                let exit = ExitInfo {
                    wait_status: -1,
                    description: format!("failed to launch: {err}"),
                };
                self.executor_exited(ctx, &framework_id, &executor_id, &spec.container_id, exit);
            }
        }
    }

    /// An executor process ended (from its reaper thread).
    fn executor_exited(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        container_id: &ContainerId,
        exit: ExitInfo,
    ) {
        // The reaper already killed what the executor left running in its session.
        self.children.remove(container_id);
        self.limited.remove(container_id);
        let limitation = {
            let mut containers = self.containers.lock();
            containers.executors.remove(container_id);
            // Asked before cleanup removes the evidence (e.g. the cgroup's OOM count).
            let limitation = containers.isolator.limitation(container_id);
            let _ = containers.isolator.cleanup(container_id);
            limitation
        };
        let Some(exited) = self
            .book
            .executor_exited(framework_id, executor_id, &exit.description)
        else {
            return;
        };
        tracing::info!(%framework_id, %executor_id, how = %exit.description, "executor terminated");
        for status in exited.statuses {
            let status = match &limitation {
                Some(limitation) => apply_limitation(limitation, status),
                None => status,
            };
            self.agent_update(ctx, framework_id, Some(executor_id.clone()), status);
        }
        if exited.notify_master {
            ctx.send(
                &self.master,
                ExitedExecutorMessage {
                    agent_id: self.agent_id(),
                    framework_id: framework_id.clone(),
                    executor_id: executor_id.clone(),
                    status: exit.wait_status,
                },
            );
        }
        if self.book.framework(framework_id).is_none() {
            self.updates.remove_framework(framework_id);
        }
        self.schedule(ctx);
    }

    /// A status update the agent itself generates.
    fn agent_update(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &FrameworkId,
        executor_id: Option<ExecutorId>,
        status: TaskStatus,
    ) {
        let uuid = Uuid::random();
        let timestamp = wall_clock();
        let mut status = status
            .with_source(Source::Agent)
            .with_uuid(uuid)
            .with_timestamp(timestamp)
            .with_agent_id(self.agent_id());
        status.executor_id = executor_id.clone();
        let update = StatusUpdate {
            framework_id: framework_id.clone(),
            executor_id,
            agent_id: Some(self.agent_id()),
            status,
            timestamp,
            uuid,
        };
        self.handle_update(ctx, update);
    }

    fn handle_update(&mut self, ctx: &mut Context<Self>, mut update: StatusUpdate) {
        let executor = update
            .executor_id
            .as_ref()
            .and_then(|id| self.book.executor(&update.framework_id, id));
        let container = executor.map(|e| e.container_id.clone());
        if let (Some(executor), Some(container_id)) = (executor, &container) {
            if self.limited.contains(container_id)
                && !executor.tasks.contains_key(&update.status.task_id)
            {
                // The agent already failed this task with the container's limitation.
                tracing::debug!(task = %update.status.task_id, state = %update.status.state, "dropping an update of a task failed for its container's limitation");
                return;
            }
        }
        let terminal = update.status.state.is_terminal();
        // A task that ended because the kernel enforced a container limit (OOM) fails with it.
        if terminal {
            if let Some(container_id) = &container {
                update.status = self.containers.limited(container_id, update.status);
            }
        }
        self.book.update_task(&update);
        if terminal {
            // Its resources leave the container: the limits shrink.
            let executor_id = update.executor_id.clone();
            self.update_container(&update.framework_id, executor_id.as_ref());
        }
        let terminating = self
            .book
            .framework(&update.framework_id)
            .is_some_and(|f| f.terminating);
        if terminating {
            // The framework is being shut down: nobody will acknowledge (as in Mesos).
            tracing::info!(task = %update.status.task_id, state = %update.status.state, "dropping an update of a framework being shut down");
            return;
        }
        if let Some(update) = self.updates.update(ctx.now(), update) {
            self.forward_to_master(ctx, update);
        }
    }

    fn status_update(&mut self, ctx: &mut Context<Self>, from: &Upid, m: StatusUpdateMessage) {
        let update = m.update;
        let known = update.executor_id.as_ref().and_then(|id| {
            self.book
                .executor(&update.framework_id, id)
                .and_then(|e| e.pid.clone())
        });
        if known.as_ref() != Some(from) {
            tracing::warn!(%from, task = %update.status.task_id, "status update from an unknown executor; dropped");
            return;
        }
        // The agent now holds the update reliably: acknowledge it to the executor at once.
        ctx.reply(StatusUpdateAcknowledgementMessage {
            agent_id: self.agent_id(),
            framework_id: update.framework_id.clone(),
            task_id: update.status.task_id.clone(),
            uuid: update.uuid,
        });
        self.handle_update(ctx, update);
        self.schedule(ctx);
    }

    fn acknowledgement(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: StatusUpdateAcknowledgementMessage,
    ) {
        if !self.is_master(from, "StatusUpdateAcknowledgementMessage") {
            return;
        }
        match self
            .updates
            .acknowledge(ctx.now(), &m.framework_id, &m.task_id, m.uuid)
        {
            Ok(acked) => {
                if let Some(next) = acked.next {
                    self.forward_to_master(ctx, next);
                }
                if acked.terminal {
                    self.book.terminal_acknowledged(&m.framework_id, &m.task_id);
                }
                // Executors keep updates until acknowledged; ours were acknowledged on receipt, so
                // this is a no-op for them, but an executor that waits for the scheduler's word gets it.
                let executor = acked.update.executor_id.as_ref().and_then(|id| {
                    self.book
                        .executor(&m.framework_id, id)
                        .and_then(|e| e.pid.clone())
                });
                if let (Some(pid), Source::Executor) = (
                    executor,
                    acked.update.status.source.unwrap_or(Source::Agent),
                ) {
                    ctx.send(&pid, m);
                }
            }
            Err(err) => tracing::debug!(%err, "ignoring acknowledgement"),
        }
        self.schedule(ctx);
    }

    fn kill_task(&mut self, ctx: &mut Context<Self>, from: &Upid, m: KillTaskMessage) {
        if self.is_master(from, "KillTaskMessage") {
            self.kill(ctx, &m.framework_id, &m.task_id);
            self.schedule(ctx);
        }
    }

    fn kill(&mut self, ctx: &mut Context<Self>, framework_id: &FrameworkId, task_id: &TaskId) {
        match self.book.kill_task(framework_id, task_id) {
            KillOutcome::Ignored => {}
            KillOutcome::Report(status) => self.agent_update(ctx, framework_id, None, status),
            KillOutcome::Forward(pid) => ctx.send(
                &pid,
                KillTaskMessage {
                    framework_id: framework_id.clone(),
                    task_id: task_id.clone(),
                },
            ),
            KillOutcome::Dequeued {
                status,
                shutdown_executor,
            } => {
                self.agent_update(ctx, framework_id, shutdown_executor.clone(), status);
                if let Some(executor_id) = shutdown_executor {
                    self.shutdown_executor(ctx, framework_id, &executor_id, true);
                }
            }
        }
    }

    fn kill_tasks_on_reregistration(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: KillTasksOnReregistrationMessage,
    ) {
        if self.is_master(from, "KillTasksOnReregistrationMessage") {
            for (framework_id, task_id) in m.tasks {
                self.kill(ctx, &framework_id, &task_id);
            }
            self.schedule(ctx);
        }
    }
}

impl Process for AgentProcess {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(Self::registered)
            .on(Self::reregistered)
            .on(Self::ping)
            .on(Self::run_task)
            .on(Self::kill_task)
            .on(Self::status_update)
            .on(Self::acknowledgement)
            .on(Self::kill_tasks_on_reregistration)
            .on(Self::shutdown_executor_message)
            .on(Self::shutdown_framework)
            .on(Self::update_framework)
            .on(Self::shutdown)
            .on(Self::register_executor)
            .on(Self::reregister_executor)
            .on(Self::executor_to_framework)
            .on(Self::framework_to_executor);
        crate::http::install(h);
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.info.port = ctx.upid().port();
        self.on_timer(ctx);
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: &Upid) {
        if same_process(pid, &self.master) && self.link.is_registered() {
            tracing::warn!(master = %pid, "lost the connection to the master; re-registering");
            let action = self.link.master_lost(ctx.now());
            self.updates.pause();
            self.send_registration(ctx, action);
            self.schedule(ctx);
        }
    }

    fn finalize(&mut self, _ctx: &mut Context<Self>) {
        self.kill_all();
    }
}

#[cfg(test)]
mod tests {
    use super::same_process;

    #[test]
    fn a_wildcard_master_address_matches_a_concrete_one() {
        let concrete: process::Upid = "master@127.0.0.1:5050".parse().unwrap();
        let wildcard: process::Upid = "master@0.0.0.0:5050".parse().unwrap();
        assert!(same_process(&concrete, &wildcard));
        assert!(same_process(&concrete, &concrete));
        assert!(!same_process(
            &concrete,
            &"master@127.0.0.2:5050".parse().unwrap()
        ));
        assert!(!same_process(
            &concrete,
            &"master@127.0.0.1:5051".parse().unwrap()
        ));
        assert!(!same_process(
            &concrete,
            &"other@127.0.0.1:5050".parse().unwrap()
        ));
    }
}
