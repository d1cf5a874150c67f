//! The agent's handlers for executors and frameworks: registration, shutdown, framework messages.

use mesos::protocol::*;
use mesos::{ContainerId, ExecutorId, FrameworkId};
use nix::sys::signal::Signal;
use process::{Context, Upid};

use super::AgentProcess;
use crate::launcher;

impl AgentProcess {
    // ---- executors and frameworks ----

    /// Asks an executor to shut down (if `graceful` and registered), and kills its process tree after
    /// the grace period (at once otherwise).
    pub(super) fn shutdown_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        graceful: bool,
    ) {
        let Some(pid) = self.book.shutdown_executor(framework_id, executor_id) else {
            return;
        };
        let Some(container_id) = self
            .book
            .executor(framework_id, executor_id)
            .map(|e| e.container_id.clone())
        else {
            return;
        };
        match pid {
            Some(pid) if graceful => {
                ctx.send(
                    &pid,
                    ShutdownExecutorMessage {
                        framework_id: framework_id.clone(),
                        executor_id: executor_id.clone(),
                    },
                );
                let grace = self.config.executor_shutdown_grace_period;
                ctx.delay(grace, move |this: &mut Self, _ctx| {
                    this.kill_container(&container_id);
                });
            }
            _ => self.kill_container(&container_id),
        }
    }

    pub(super) fn kill_container(&mut self, container_id: &ContainerId) {
        if let Some(&session) = self.children.get(container_id) {
            let killed = launcher::signal_session(session, Signal::SIGKILL);
            tracing::info!(%container_id, session, killed, "killed executor process tree");
        }
    }

    pub(super) fn shutdown_executor_message(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: ShutdownExecutorMessage,
    ) {
        if self.is_master(from, "ShutdownExecutorMessage") {
            self.shutdown_executor(ctx, &m.framework_id, &m.executor_id, true);
            self.schedule(ctx);
        }
    }

    pub(super) fn shutdown_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: ShutdownFrameworkMessage,
    ) {
        if !self.is_master(from, "ShutdownFrameworkMessage") {
            return;
        }
        tracing::info!(framework_id = %m.framework_id, "shutting down framework");
        for (executor_id, _) in self.book.shutdown_framework(&m.framework_id) {
            self.shutdown_executor(ctx, &m.framework_id, &executor_id, true);
        }
        self.updates.remove_framework(&m.framework_id);
        self.schedule(ctx);
    }

    pub(super) fn update_framework(
        &mut self,
        _: &mut Context<Self>,
        from: &Upid,
        m: UpdateFrameworkMessage,
    ) {
        if self.is_master(from, "UpdateFrameworkMessage") {
            self.book.update_framework_pid(&m.framework_id, &m.pid);
        }
    }

    pub(super) fn shutdown(&mut self, ctx: &mut Context<Self>, from: &Upid, m: ShutdownMessage) {
        if !self.is_master(from, "ShutdownMessage") {
            return;
        }
        tracing::warn!(reason = %m.message, "master asked this agent to shut down; starting over as a new agent");
        let frameworks: Vec<FrameworkId> = self.book.frameworks().map(|f| f.id.clone()).collect();
        for framework_id in frameworks {
            for (executor_id, _) in self.book.shutdown_framework(&framework_id) {
                self.shutdown_executor(ctx, &framework_id, &executor_id, false);
            }
        }
        self.updates.clear();
        self.updates.pause();
        self.info.id = None;
        self.link.forget(ctx.now());
        self.schedule(ctx);
    }

    pub(super) fn register_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: RegisterExecutorMessage,
    ) {
        let agent_id = self.agent_id();
        let agent_info = self.info.clone();
        let registered =
            self.book
                .executor_registered(&m.framework_id, &m.executor_id, from.clone());
        let Some((framework, queued)) = registered else {
            tracing::warn!(%from, executor_id = %m.executor_id, "unexpected executor registration; shutting it down");
            ctx.reply(ShutdownExecutorMessage {
                framework_id: m.framework_id,
                executor_id: m.executor_id,
            });
            return;
        };
        let Some(executor) = framework.executors.get(&m.executor_id) else {
            return;
        };
        let has_work = !executor.tasks.is_empty();
        ctx.reply(ExecutorRegisteredMessage {
            executor_info: executor.info.clone(),
            framework_id: m.framework_id.clone(),
            framework_info: framework.info.clone(),
            agent_id,
            agent_info,
        });
        let forwarded = !queued.is_empty();
        for task in queued {
            ctx.reply(RunTaskMessage {
                framework_id: m.framework_id.clone(),
                framework: framework.info.clone(),
                pid: framework.pid.clone(),
                task,
            });
        }
        if forwarded {
            // The container must hold every task the executor now runs.
            self.update_container(&m.framework_id, Some(&m.executor_id));
        }
        if !has_work {
            // Everything it was started for was killed meanwhile.
            self.shutdown_executor(ctx, &m.framework_id, &m.executor_id, true);
        }
        self.schedule(ctx);
    }

    pub(super) fn reregister_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: ReregisterExecutorMessage,
    ) {
        let registered = self
            .book
            .executor_registered(&m.framework_id, &m.executor_id, from.clone())
            .is_some();
        if !registered {
            ctx.reply(ShutdownExecutorMessage {
                framework_id: m.framework_id,
                executor_id: m.executor_id,
            });
            return;
        }
        ctx.reply(ExecutorReregisteredMessage {
            agent_id: self.agent_id(),
            agent_info: self.info.clone(),
        });
        for update in m.updates {
            self.handle_update(ctx, update);
        }
        self.schedule(ctx);
    }

    pub(super) fn executor_to_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: ExecutorToFrameworkMessage,
    ) {
        let known = self
            .book
            .executor(&m.framework_id, &m.executor_id)
            .and_then(|e| e.pid.as_ref())
            == Some(from);
        if known {
            ctx.send(&self.master, m);
        }
    }

    pub(super) fn framework_to_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &Upid,
        m: FrameworkToExecutorMessage,
    ) {
        if !self.is_master(from, "FrameworkToExecutorMessage") {
            return;
        }
        match self
            .book
            .executor(&m.framework_id, &m.executor_id)
            .and_then(|e| e.pid.clone())
        {
            Some(pid) => ctx.send(&pid, m),
            None => {
                tracing::warn!(executor_id = %m.executor_id, "framework message for an unknown executor; dropped")
            }
        }
    }

    /// Kills every executor's process tree (the agent is going away and cannot recover them).
    pub(super) fn kill_all(&mut self) {
        let containers: Vec<ContainerId> = self.children.keys().cloned().collect();
        for container_id in containers {
            self.kill_container(&container_id);
        }
    }
}
