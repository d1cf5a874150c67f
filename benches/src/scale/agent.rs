//! [`LaunchingAgent`]: an emulated agent (a lightweight actor, real TCP to the master) that runs the
//! tasks it is given for a while: it registers, answers pings, reports every task it is sent as
//! TASK_RUNNING at once and as TASK_FINISHED after the task's duration (so the master gives its
//! resources back), and a killed task as TASK_KILLED.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mesos::protocol::*;
use mesos::{AgentInfo, FrameworkId, Source, TaskId, TaskState, TaskStatus, Uuid};
use process::{Context, Handlers, Process, Timer, Upid};

/// Task durations: uniform in `[mean / 2, 3 * mean / 2]`, from a seeded generator (the same run
/// twice gives the same durations).
#[derive(Debug, Clone)]
pub struct Durations {
    mean: Duration,
    state: u64,
}

impl Durations {
    /// Durations of mean `mean`, seeded with `seed`.
    pub fn new(mean: Duration, seed: u64) -> Durations {
        Durations {
            mean,
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    /// The next duration.
    pub fn next_duration(&mut self) -> Duration {
        // xorshift64*: plenty for spreading task ends.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let bits = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        let unit = bits as f64 / (1u64 << 53) as f64;
        self.mean.mul_f64(0.5 + unit)
    }
}

/// An emulated agent that runs tasks (see the [module docs](self)).
pub struct LaunchingAgent {
    master: Upid,
    info: AgentInfo,
    durations: Durations,
    /// Running tasks: their framework and the timer that finishes them.
    running: HashMap<TaskId, (FrameworkId, Timer)>,
    next_uuid: u64,
    registered: Arc<AtomicUsize>,
}

impl LaunchingAgent {
    /// An agent described by `info` that registers with `master` and counts its registration in
    /// `registered`.
    pub fn new(
        master: Upid,
        info: AgentInfo,
        durations: Durations,
        registered: Arc<AtomicUsize>,
    ) -> LaunchingAgent {
        LaunchingAgent {
            master,
            info,
            durations,
            running: HashMap::new(),
            next_uuid: 0,
            registered,
        }
    }

    fn report(
        &mut self,
        ctx: &Context<'_, Self>,
        framework_id: FrameworkId,
        task_id: TaskId,
        state: TaskState,
    ) {
        let Some(agent_id) = self.info.id.clone() else {
            return;
        };
        self.next_uuid += 1;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_uuid.to_le_bytes());
        let uuid = Uuid::v4_from(bytes);
        let timestamp = 0.0;
        let status = TaskStatus {
            source: Some(Source::Executor),
            uuid: Some(uuid),
            timestamp,
            agent_id: Some(agent_id.clone()),
            ..TaskStatus::new(task_id, state)
        };
        let update = StatusUpdate {
            framework_id,
            executor_id: None,
            agent_id: Some(agent_id),
            status,
            timestamp,
            uuid,
        };
        ctx.send(
            &self.master,
            StatusUpdateMessage {
                update,
                pid: Some(ctx.upid().to_string()),
            },
        );
    }
}

impl Process for LaunchingAgent {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(|this: &mut Self, _, _, m: SlaveRegisteredMessage| {
            if this.info.id.is_none() {
                this.registered.fetch_add(1, Ordering::Relaxed);
            }
            this.info.id = Some(m.agent_id);
        });
        h.on(|_: &mut Self, ctx, _, _: PingSlaveMessage| {
            ctx.reply(PongSlaveMessage {});
        });
        h.on(|this: &mut Self, ctx, _, m: RunTaskMessage| {
            let task_id = m.task.task_id;
            this.report(
                ctx,
                m.framework_id.clone(),
                task_id.clone(),
                TaskState::Running,
            );
            let after = this.durations.next_duration();
            let finishing = task_id.clone();
            let timer = ctx.delay(after, move |this: &mut Self, ctx| {
                if let Some((framework_id, _)) = this.running.remove(&finishing) {
                    this.report(ctx, framework_id, finishing, TaskState::Finished);
                }
            });
            this.running.insert(task_id, (m.framework_id, timer));
        });
        h.on(|this: &mut Self, ctx, _, m: KillTaskMessage| {
            if let Some((framework_id, timer)) = this.running.remove(&m.task_id) {
                timer.cancel();
                this.report(ctx, framework_id, m.task_id, TaskState::Killed);
            }
        });
        // The framework is gone (its scheduler stopped): its tasks end with it, unreported, as
        // a real agent's do when it shuts the framework's executors down.
        h.on(|this: &mut Self, _, _, m: ShutdownFrameworkMessage| {
            this.running.retain(|_, (framework_id, timer)| {
                let keep = *framework_id != m.framework_id;
                if !keep {
                    timer.cancel();
                }
                keep
            });
        });
        // Acknowledgements need no action: an emulated agent keeps no update stream to retry.
        h.on(|_: &mut Self, _, _, _: StatusUpdateAcknowledgementMessage| {});
    }

    fn initialize(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.link(&self.master);
        ctx.send(
            &self.master,
            RegisterSlaveMessage {
                agent: self.info.clone(),
                version: mesos::VERSION.to_string(),
            },
        );
    }
}

/// Starts `count` launching agents on `runtime`, each with `resources`, registering with
/// `master`; their registrations are counted in `registered`.
///
/// # Errors
/// The runtime refused a process (its message).
pub fn spawn_agents(
    runtime: &process::Handle,
    master: &Upid,
    count: usize,
    resources: &mesos::Resources,
    mean_task: Duration,
    registered: &Arc<AtomicUsize>,
) -> Result<(), String> {
    for i in 0..count {
        let info = AgentInfo::new(format!("agent-{i}")).with_resources(resources.clone());
        let agent = LaunchingAgent::new(
            master.clone(),
            info,
            Durations::new(mean_task, i as u64 + 1),
            registered.clone(),
        );
        runtime
            .spawn(&format!("slave({})", i + 1), agent)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_spread_around_the_mean_and_repeat_per_seed() {
        let mean = Duration::from_millis(1000);
        let mut a = Durations::new(mean, 7);
        let draws: Vec<Duration> = (0..10_000).map(|_| a.next_duration()).collect();
        assert!(draws.iter().all(|d| *d >= mean / 2 && *d <= mean * 3 / 2));
        let average = draws.iter().sum::<Duration>() / draws.len() as u32;
        assert!(
            average > Duration::from_millis(980) && average < Duration::from_millis(1020),
            "{average:?}"
        );
        let mut b = Durations::new(mean, 7);
        assert_eq!(b.next_duration(), draws[0]);
        let mut c = Durations::new(mean, 8);
        assert_ne!(c.next_duration(), draws[0]);
    }
}
