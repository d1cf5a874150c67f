//! The actor's container I/O: starting executors through the isolator and the launcher, resizing
//! containers, asking about limitations, and reporting exits back to the core.

use mesos::{ContainerId, Resources};
use process::Context;

use super::AgentProcess;
use crate::containers::MonitoredExecutor;
use crate::isolator::ContainerConfig;
use crate::launcher::{self, ExecutorEnvironment, ExitInfo};
use crate::state::LaunchSpec;

impl AgentProcess {
    /// Prepares the container, starts the executor in it, and tells the core how that went.
    pub(super) fn launch_executor(&mut self, ctx: &mut Context<Self>, spec: LaunchSpec) {
        let prepared = self.containers.lock().isolator.prepare(&ContainerConfig {
            container_id: spec.container_id.clone(),
            directory: spec.directory.clone(),
            resources: spec.resources.clone(),
        });
        let env = ExecutorEnvironment {
            agent_pid: ctx.upid().to_string(),
            agent_id: spec.agent_id.clone(),
            shutdown_grace_period: self.config.executor_shutdown_grace_period,
        };
        let agent = ctx.pid();
        let handle = ctx.runtime().clone();
        let container = spec.container_id.clone();
        let launched = prepared.map_err(|e| e.to_string()).and_then(|launch| {
            launcher::launch(&spec, &env, &launch, move |exit| {
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
                    MonitoredExecutor {
                        executor_id: spec.executor.executor_id.clone(),
                        executor_name: spec.executor.name.clone().unwrap_or_default(),
                        framework_id: spec.framework_id.clone(),
                        source: spec.executor.source.clone().unwrap_or_default(),
                    },
                );
                drop(containers);
                self.core.executor_launched(now, &spec.container_id, pid);
            }
            Err(err) => {
                tracing::error!(framework_id = %spec.framework_id, executor_id = %spec.executor.executor_id, %err, "cannot launch executor");
                let _ = self.containers.lock().isolator.cleanup(&spec.container_id);
                let exit = ExitInfo {
                    wait_status: -1,
                    description: format!("failed to launch: {err}"),
                };
                self.core
                    .executor_exited(now, &spec.container_id, exit, None);
            }
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
