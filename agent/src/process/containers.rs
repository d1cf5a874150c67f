//! The actor's container I/O: starting executors through the isolator and the launcher, resizing
//! containers, asking about limitations, and reporting exits back to the core.

use mesos::{ContainerId, Resources};
use process::Context;

use super::AgentProcess;
use crate::containers::MonitoredExecutor;
use crate::core::KeptContainer;
use crate::isolator::{ContainerConfig, RecoveredContainer};
use crate::launcher::{self, ExecutorEnvironment, ExitInfo};
use crate::state::LaunchSpec;

impl AgentProcess {
    /// Fetches the executor's URIs into its sandbox (on a thread of its own: downloads block),
    /// then starts it; without URIs, starts it at once.
    pub(super) fn launch_executor(&mut self, ctx: &mut Context<Self>, spec: LaunchSpec) {
        if spec.executor.command.uris.is_empty() {
            return self.start_executor(ctx, spec);
        }
        let agent = ctx.pid();
        let handle = ctx.runtime().clone();
        let fetcher = self.fetcher.clone();
        let container_id = spec.container_id.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("fetch-{container_id}"))
            .spawn(move || {
                let fetched = std::fs::create_dir_all(&spec.directory)
                    .map_err(|err| {
                        format!("cannot create sandbox {}: {err}", spec.directory.display())
                    })
                    .and_then(|()| {
                        fetcher
                            .fetch(&spec.executor.command.uris, &spec.directory)
                            .map_err(|err| err.to_string())
                    });
                // Back onto the agent (gone if it stopped meanwhile: nothing to start then).
                drop(handle.dispatch(&agent, move |this, ctx| {
                    match fetched {
                        Ok(()) => this.start_executor(ctx, spec),
                        Err(err) => this.launch_failed(ctx, &spec, err),
                    }
                    // Performs what the core said meanwhile.
                    this.input(ctx, |_, _| {});
                }));
            });
        if let Err(err) = spawned {
            let now = ctx.now();
            self.core.executor_launch_failed(
                now,
                &container_id,
                &format!("cannot start the fetcher thread: {err}"),
            );
        }
    }

    /// A container could not be launched: the core fails its tasks.
    fn launch_failed(&mut self, ctx: &mut Context<Self>, spec: &LaunchSpec, err: String) {
        tracing::error!(framework_id = %spec.framework_id, executor_id = %spec.executor.executor_id, %err, "cannot launch executor");
        let _ = self.containers.lock().isolator.cleanup(&spec.container_id);
        let now = ctx.now();
        self.core
            .executor_launch_failed(now, &spec.container_id, &err);
    }

    /// Prepares the container, starts the executor in it, and tells the core how that went.
    fn start_executor(&mut self, ctx: &mut Context<Self>, spec: LaunchSpec) {
        if !self.core.containers().contains_key(&spec.container_id) {
            // Destroyed while its URIs were being fetched.
            return;
        }
        let prepared = self.containers.lock().isolator.prepare(&ContainerConfig {
            container_id: spec.container_id.clone(),
            directory: spec.directory.clone(),
            resources: spec.resources.clone(),
        });
        let env = ExecutorEnvironment {
            agent_pid: ctx.upid().to_string(),
            agent_id: spec.agent_id.clone(),
            shutdown_grace_period: self.config.executor_shutdown_grace_period,
            recovery_timeout: self.config.recovery_timeout,
            reregistration_timeout: self.config.executor_reregistration_timeout,
            switch_user: self.config.switch_user,
        };
        let agent = ctx.pid();
        let handle = ctx.runtime().clone();
        let container = spec.container_id.clone();
        let launched = prepared.map_err(|e| e.to_string()).and_then(|launch| {
            launcher::launch(&self.config.work_dir, &spec, &env, &launch, move |exit| {
                // From the reaper thread back onto the agent.
                drop(handle.dispatch(&agent, move |this, ctx| {
                    this.executor_exited(ctx, &container, exit)
                }));
            })
            .map_err(|e| e.to_string())
        });
        let now = ctx.now();
        match launched {
            Ok(pid) => {
                tracing::info!(framework_id = %spec.framework_id, executor_id = %spec.executor.executor_id, pid, dir = %spec.directory.display(), "launched executor");
                let mut containers = self.containers.lock();
                if let Err(err) = containers.isolator.isolate(&spec.container_id, pid) {
                    tracing::warn!(%err, "cannot isolate executor");
                }
                containers.executors.insert(
                    spec.container_id.clone(),
                    MonitoredExecutor::of(&spec.framework_id, &spec.executor),
                );
                drop(containers);
                self.core.executor_launched(now, &spec.container_id, pid);
            }
            Err(err) => self.launch_failed(ctx, &spec, err),
        }
    }

    /// An executor process ended (from its reaper thread, which already killed what it left in
    /// its session).
    fn executor_exited(
        &mut self,
        ctx: &mut Context<Self>,
        container_id: &ContainerId,
        exit: ExitInfo,
    ) {
        let limitation = {
            let mut containers = self.containers.lock();
            containers.executors.remove(container_id);
            // Asked before cleanup removes the evidence (e.g. the cgroup's OOM count).
            let limitation = containers.isolator.limitation(container_id);
            let _ = containers.isolator.cleanup(container_id);
            limitation
        };
        self.input(ctx, |core, now| {
            core.executor_exited(now, container_id, exit, limitation)
        });
    }

    /// After a restart: reattaches to the executors that still run (the same processes that were
    /// started), gives their containers back to the isolator, destroys every other container an
    /// earlier agent left, and reports the executors that are gone.
    pub(super) fn recover_containers(&mut self, ctx: &mut Context<Self>, kept: Vec<KeptContainer>) {
        let (alive, gone): (Vec<KeptContainer>, Vec<KeptContainer>) = kept
            .into_iter()
            .partition(|c| launcher::is_same_process(c.pid, c.start_ticks));
        let recovered: Vec<RecoveredContainer> = alive
            .iter()
            .map(|c| RecoveredContainer {
                container_id: c.container_id.clone(),
                pid: c.pid,
                resources: c.resources.clone(),
            })
            .collect();
        if let Err(err) = self.containers.lock().isolator.recover(&recovered) {
            tracing::warn!(%err, "the isolator could not take back every recovered container");
        }
        let keep: Vec<ContainerId> = alive.iter().map(|c| c.container_id.clone()).collect();
        launcher::kill_orphans(&self.config.work_dir, &keep);
        for container in alive {
            let container_id = container.container_id.clone();
            if let Some(monitored) = self.monitored(&container_id) {
                self.containers
                    .lock()
                    .executors
                    .insert(container_id.clone(), monitored);
            }
            let agent = ctx.pid();
            let handle = ctx.runtime().clone();
            let watched = container_id.clone();
            let watching = launcher::watch(container.pid, move |exit| {
                drop(handle.dispatch(&agent, move |this, ctx| {
                    this.executor_exited(ctx, &watched, exit)
                }));
            });
            if let Err(err) = watching {
                tracing::error!(%err, %container_id, "cannot watch a recovered executor; killing it");
                launcher::signal_session(container.pid, nix::sys::signal::Signal::SIGKILL);
            }
            tracing::info!(%container_id, pid = container.pid, "reattached to a recovered executor");
        }
        let now = ctx.now();
        for container in gone {
            tracing::info!(container_id = %container.container_id, "a recovered executor is gone");
            launcher::forget_container(&self.config.work_dir, &container.container_id);
            let exit = ExitInfo {
                wait_status: -1,
                description: "terminated while the agent was down".into(),
            };
            self.core
                .executor_exited(now, &container.container_id, exit, None);
        }
    }

    /// What `/monitor/statistics` says about a container's executor.
    fn monitored(&self, container_id: &ContainerId) -> Option<MonitoredExecutor> {
        let record = self.core.containers().get(container_id)?;
        let executor = self
            .core
            .book()
            .executor(&record.framework_id, &record.executor_id)?;
        Some(MonitoredExecutor::of(&record.framework_id, &executor.info))
    }

    pub(super) fn update_container(&mut self, container_id: &ContainerId, resources: &Resources) {
        if let Err(err) = self
            .containers
            .lock()
            .isolator
            .update(container_id, resources)
        {
            tracing::warn!(%err, "cannot update container resources");
        }
    }

    /// Asks the isolator about each container and reports the limited ones to the core.
    pub(super) fn check_limitations(&mut self, ctx: &mut Context<Self>, ids: Vec<ContainerId>) {
        let now = ctx.now();
        for container_id in ids {
            let limitation = self.containers.lock().isolator.limitation(&container_id);
            if let Some(limitation) = limitation {
                self.core.container_limited(now, &container_id, limitation);
            }
        }
    }
}
