//! The agent actor (`slave(1)`): turns messages, child exits and timers into calls on the pure
//! [`AgentCore`] and performs the [`Output`]s it returns (sockets, processes, the isolator). No
//! decisions live here.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mesos::protocol::*;
use mesos::ContainerId;
use process::{Context, Handlers, Process, Timer, Upid};

use crate::checkpoint::{Checkpoint, GroupWriter, MetaWriter, Synced};
use crate::config::AgentConfig;
use crate::containers::SharedContainers;
use crate::core::{AgentCore, ExecutorEndpoint, Output, ToMaster};
use crate::metrics::AgentMetrics;

mod containers;

/// Why the agent stopped on its own (a checkpoint it could not write), for its handle.
pub(crate) type Failure = Arc<Mutex<Option<String>>>;

/// Threads that run one batch's syncs side by side (the disk serves syncs that arrive together
/// in about one round trip; 8-32 threads measured about the same here).
const SYNC_THREADS: usize = 16;

/// The agent process.
pub struct AgentProcess {
    pub(crate) config: AgentConfig,
    pub(crate) core: AgentCore,
    pub(crate) containers: SharedContainers,
    pub(crate) start_time: f64,
    /// Writes checkpoints off the actor, in batches (started in `initialize`).
    writer: Option<GroupWriter>,
    /// Outputs waiting for the checkpoints before them to be durable, in order, each with the
    /// number of the last checkpoint handed to the writer before it.
    held: VecDeque<(u64, Output)>,
    /// The number of the last checkpoint handed to the writer.
    submitted: u64,
    /// Every checkpoint up to this number is on disk.
    durable: u64,
    pub(crate) failure: Failure,
    pub(crate) metrics: Arc<AgentMetrics>,
    timer: Option<(Instant, Timer)>,
    /// The v1 HTTP executors' event streams (`/api/v1/executor`).
    pub(crate) executor_streams: crate::executor_api::ExecutorStreams,
    /// Sandboxes readable through `/files` (see [`crate::sandboxes`]).
    sandboxes: crate::sandboxes::Sandboxes,
    /// Executors the book held when `sandboxes` last looked, and whether a launch or a recovery
    /// happened since: looking costs a hash of every executor's directory, too much to pay on
    /// every input of a 1,000-task burst (it was half the agent's CPU).
    sandboxes_seen: Option<usize>,
    /// Fetches executors' URIs into their sandboxes, on a thread per launch.
    pub(crate) fetcher: Arc<crate::fetcher::Fetcher>,
    /// Authentication with the master (`--credential`): registrations wait for it.
    pub(crate) auth: crate::auth::AgentAuth,
}

/// Wall-clock seconds since the epoch (for the core's timestamps and `/state`).
pub(crate) fn wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl AgentProcess {
    /// The sandboxes' users (`access_sandboxes` in `--acls`).
    pub(crate) fn sandbox_owners(&self) -> crate::sandbox_acl::SandboxOwners {
        self.sandboxes.owners()
    }

    pub(crate) fn new(
        config: AgentConfig,
        core: AgentCore,
        containers: SharedContainers,
        failure: Failure,
        metrics: Arc<AgentMetrics>,
        files: files::Files,
    ) -> AgentProcess {
        let cache_dir = config.fetcher_cache_dir();
        let cache = match crate::fetcher::FetcherCache::new(&cache_dir, config.fetcher_cache_size) {
            Ok(cache) => Some(cache),
            Err(err) => {
                tracing::warn!(%err, dir = %cache_dir.display(), "cannot create the fetcher cache; URIs are fetched uncached");
                None
            }
        };
        AgentProcess {
            writer: None,
            held: VecDeque::new(),
            submitted: 0,
            durable: 0,
            fetcher: Arc::new(crate::fetcher::Fetcher::trusting(
                cache,
                &config.fetcher_ca_files,
            )),
            core,
            containers,
            start_time: wall_clock(),
            failure,
            metrics,
            timer: None,
            executor_streams: Default::default(),
            sandboxes: crate::sandboxes::Sandboxes::new(files),
            sandboxes_seen: None,
            auth: crate::auth::agent_auth(config.credential.as_ref()),
            config,
        }
    }

    fn update_metrics(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        let core = &self.core;
        let m = &self.metrics;
        m.recovery_errors.store(core.recovery_errors(), Relaxed);
        m.registered.store(core.link().is_registered(), Relaxed);
        m.recovering.store(core.is_recovering(), Relaxed);
        m.executors_running
            .store(core.book().executors().count() as u64, Relaxed);
        let tasks: usize = core.book().executors().map(|e| e.tasks.len()).sum();
        m.tasks_running.store(tasks as u64, Relaxed);
    }

    fn failed(&self) -> bool {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// A checkpoint could not be written: what follows it must not happen (an executor would
    /// forget an update that is not on disk), so the agent stops at once, as Mesos aborts. Its
    /// executors keep running for a restarted agent to recover.
    fn fail(&mut self, ctx: &mut Context<Self>, error: String) {
        tracing::error!(%error, "stopping the agent: a checkpoint could not be written");
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
        ctx.terminate();
    }

    /// Runs one input on the core, performs what it produced (and what those produced), and
    /// re-arms the timer.
    pub(crate) fn input(
        &mut self,
        ctx: &mut Context<Self>,
        f: impl FnOnce(&mut AgentCore, Instant),
    ) {
        if self.failed() {
            return;
        }
        f(&mut self.core, ctx.now());
        self.after_core(ctx);
    }

    fn after_core(&mut self, ctx: &mut Context<Self>) {
        self.perform_outputs(ctx);
        self.update_metrics();
        let executors = self.core.book().executors().count();
        if self.sandboxes_seen != Some(executors) {
            self.sandboxes.update(self.core.book());
            self.sandboxes_seen = Some(executors);
        }
        self.schedule(ctx);
    }

    /// Starts the checkpoint writer; its reports come back to this actor as
    /// [`checkpoints_synced`](Self::checkpoints_synced).
    fn start_writer(&mut self, ctx: &mut Context<Self>) {
        let agent = ctx.pid();
        let handle = ctx.runtime().clone();
        let started = GroupWriter::spawn(
            MetaWriter::new(&self.config.work_dir),
            SYNC_THREADS,
            move |synced| {
                drop(handle.dispatch(&agent, move |this: &mut Self, ctx| {
                    this.checkpoints_synced(ctx, synced)
                }));
            },
        );
        match started {
            Ok(writer) => self.writer = Some(writer),
            Err(err) => self.fail(ctx, format!("cannot start the checkpoint writer: {err}")),
        }
    }

    /// A batch of checkpoints is on disk: what waited for it happens now.
    fn checkpoints_synced(&mut self, ctx: &mut Context<Self>, synced: Synced) {
        if self.failed() {
            return;
        }
        if let Err(err) = synced.result {
            self.fail(ctx, err.to_string());
            return;
        }
        self.durable = self.durable.max(synced.through);
        self.after_core(ctx);
    }

    /// Performs the core's outputs in order. A checkpoint goes to the writer at once (so the
    /// checkpoints of one burst share a batch); every other output waits, in order, until the
    /// checkpoints before it are durable. Pongs alone skip the line: they say nothing about
    /// the agent's state, and the master must not lose the agent while its disk is busy.
    fn perform_outputs(&mut self, ctx: &mut Context<Self>) {
        loop {
            let outputs = self.core.drain_outputs();
            let fresh = !outputs.is_empty();
            for output in outputs {
                self.hold(ctx, output);
            }
            let mut released = false;
            while self
                .held
                .front()
                .is_some_and(|(after, _)| *after <= self.durable)
            {
                if self.failed() {
                    return;
                }
                if let Some((_, output)) = self.held.pop_front() {
                    released = true;
                    self.perform(ctx, output);
                }
            }
            if !fresh && !released {
                return;
            }
        }
    }

    fn hold(&mut self, ctx: &mut Context<Self>, output: Output) {
        match output {
            Output::Checkpoint(checkpoint) => self.submit(ctx, checkpoint),
            Output::Master {
                message: ToMaster::PongSlave(_),
                ..
            } => self.perform(ctx, output),
            output => self.held.push_back((self.submitted, output)),
        }
    }

    fn submit(&mut self, ctx: &mut Context<Self>, checkpoint: Checkpoint) {
        if self.failed() {
            return;
        }
        self.submitted += 1;
        let handed = self
            .writer
            .as_ref()
            .is_some_and(|writer| writer.submit(self.submitted, checkpoint));
        if !handed {
            self.fail(ctx, "the checkpoint writer stopped".to_string());
        }
    }

    fn perform(&mut self, ctx: &mut Context<Self>, output: Output) {
        match output {
            Output::Master { to, message } => self.send_to_master(ctx, &to, message),
            Output::Executor { to, message } => match to {
                ExecutorEndpoint::Pid(pid) => message.send_from(ctx, &pid),
                ExecutorEndpoint::Http(stream) => self.send_http_executor(stream, message),
            },
            Output::Link(pid) => ctx.link(&pid),
            Output::Launch(spec) => {
                self.sandboxes_seen = None;
                self.launch_executor(ctx, *spec)
            }
            Output::UpdateContainer {
                container_id,
                resources,
            } => self.update_container(&container_id, &resources),
            Output::DestroyContainer { container_id } => self.destroy_container(&container_id),
            Output::CheckLimitations(ids) => self.check_limitations(ctx, ids),
            // Handed to the writer by `hold`; never held.
            Output::Checkpoint(checkpoint) => self.submit(ctx, checkpoint),
            Output::RecoverContainers(kept) => {
                self.sandboxes_seen = None;
                self.recover_containers(ctx, kept)
            }
            Output::RemoveDirectory(path) => match std::fs::remove_dir_all(&path) {
                Ok(()) => {
                    self.sandboxes.removed(&path);
                    tracing::info!(path = %path.display(), "garbage collected")
                }
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => tracing::warn!(path = %path.display(), %err, "cannot garbage collect"),
            },
            Output::Terminate => {
                tracing::info!("every old executor is gone (--recover=cleanup): stopping");
                ctx.terminate();
            }
        }
    }

    /// Arms one timer for the core's next deadline.
    fn schedule(&mut self, ctx: &mut Context<Self>) {
        let next = self.core.next_deadline();
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
            this.input(ctx, |core, now| core.tick(now));
        });
        self.timer = Some((next, timer));
    }

    /// A detector reports a new leading master.
    pub(crate) fn master_detected(&mut self, ctx: &mut Context<Self>, master: Upid) {
        self.input(ctx, |core, now| core.master_detected(now, master));
    }

    // ---- messages: each is one core call ----

    fn registered(&mut self, ctx: &mut Context<Self>, from: &Upid, m: SlaveRegisteredMessage) {
        self.input(ctx, |core, now| core.registered(now, from, m));
    }

    fn reregistered(&mut self, ctx: &mut Context<Self>, from: &Upid, m: SlaveReregisteredMessage) {
        self.input(ctx, |core, now| core.reregistered(now, from, m));
    }

    fn ping(&mut self, ctx: &mut Context<Self>, from: &Upid, m: PingSlaveMessage) {
        self.input(ctx, |core, now| core.ping(now, from, m));
    }

    fn run_task(&mut self, ctx: &mut Context<Self>, from: &Upid, m: RunTaskMessage) {
        self.input(ctx, |core, now| core.run_task(now, from, m));
    }

    fn kill_task(&mut self, ctx: &mut Context<Self>, from: &Upid, m: KillTaskMessage) {
        self.input(ctx, |core, now| core.kill_task(now, from, m));
    }

    fn acknowledgement(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: StatusUpdateAcknowledgementMessage,
    ) {
        self.input(ctx, |core, now| core.acknowledgement(now, from, m));
    }

    fn kill_tasks_on_reregistration(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: KillTasksOnReregistrationMessage,
    ) {
        self.input(ctx, |core, now| {
            core.kill_tasks_on_reregistration(now, from, m)
        });
    }

    fn shutdown_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: ShutdownExecutorMessage,
    ) {
        self.input(ctx, |core, now| {
            core.shutdown_executor_message(now, from, m)
        });
    }

    fn shutdown_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: ShutdownFrameworkMessage,
    ) {
        self.input(ctx, |core, now| core.shutdown_framework(now, from, m));
    }

    fn update_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: UpdateFrameworkMessage,
    ) {
        self.input(ctx, |core, now| core.update_framework(now, from, m));
    }

    fn shutdown(&mut self, ctx: &mut Context<Self>, from: &Upid, m: ShutdownMessage) {
        self.input(ctx, |core, now| core.shutdown(now, from, m));
    }

    fn framework_to_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: FrameworkToExecutorMessage,
    ) {
        self.input(ctx, |core, now| core.framework_to_executor(now, from, m));
    }

    fn register_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: RegisterExecutorMessage,
    ) {
        let from = ExecutorEndpoint::Pid(from.clone());
        self.input(ctx, |core, now| core.register_executor(now, from, m));
    }

    fn reregister_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: ReregisterExecutorMessage,
    ) {
        let from = ExecutorEndpoint::Pid(from.clone());
        self.input(ctx, |core, now| core.reregister_executor(now, from, m));
    }

    fn status_update(&mut self, ctx: &mut Context<Self>, from: &Upid, m: StatusUpdateMessage) {
        let from = ExecutorEndpoint::Pid(from.clone());
        // The core says which container's limitation matters; asking the isolator is I/O.
        let limitation = self
            .core
            .limitation_container(&m.update)
            .and_then(|id| self.containers.lock().isolator.limitation(&id));
        self.input(ctx, |core, now| {
            core.status_update(now, &from, m.update, limitation)
        });
    }

    fn executor_to_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: ExecutorToFrameworkMessage,
    ) {
        let from = ExecutorEndpoint::Pid(from.clone());
        self.input(ctx, |core, now| core.executor_to_framework(now, &from, m));
    }

    /// Kills every live container (the agent is going away for good).
    fn kill_all(&mut self) {
        for container_id in self.core.live_containers() {
            self.destroy_container(&container_id);
        }
    }

    fn destroy_container(&mut self, container_id: &ContainerId) {
        if let Some(session) = self
            .core
            .containers()
            .get(container_id)
            .and_then(|c| c.os_pid)
        {
            let killed =
                crate::launcher::signal_session(session, nix::sys::signal::Signal::SIGKILL);
            tracing::info!(%container_id, session, killed, "killed executor process tree");
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
            .on(Self::shutdown_executor)
            .on(Self::shutdown_framework)
            .on(Self::update_framework)
            .on(Self::shutdown)
            .on(Self::register_executor)
            .on(Self::reregister_executor)
            .on(Self::executor_to_framework)
            .on(Self::framework_to_executor)
            .on(Self::authentication_challenge)
            .on(Self::authentication_completed)
            .on(Self::authentication_failed);
        crate::http::install(h);
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.start_writer(ctx);
        self.input(ctx, |core, now| core.tick(now));
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: &Upid) {
        if let Some(auth) = &mut self.auth {
            auth.reset(pid);
        }
        self.input(ctx, |core, now| core.exited(now, pid));
    }

    fn finalize(&mut self, _ctx: &mut Context<Self>) {
        if !self.failed() {
            self.kill_all();
        }
    }
}
