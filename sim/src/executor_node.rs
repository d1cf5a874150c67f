//! Executors: the executor driver's pure core ([`mesos::executor::DriverCore`]), its outputs
//! performed as the scheduler's (`World::perform_driver`), plus a tiny task program: report
//! RUNNING, run for the time the scheduler put in the task's data, then report FINISHED or FAILED;
//! report KILLED when killed; kill everything and exit on shutdown. A command executor exits once
//! its task ended.

use std::collections::BTreeMap;
use std::time::Duration;

use agent::state::LaunchSpec;
use mesos::executor::{Callback, CoreOptions, DriverCore, Output, Timer};
use mesos::{ContainerId, FrameworkId, TaskId, TaskState, TaskStatus, Uuid};
use process::Upid;

use crate::faults::Host;
use crate::payload::Payload;
use crate::world::{Event, NodeKey, World};

/// How long a checkpointing executor waits for its agent to come back (Mesos: 15 min).
pub const RECOVERY_TIMEOUT: Duration = Duration::from_secs(900);

/// A timer of an executor.
#[derive(Debug, Clone)]
pub enum ExecWake {
    /// The task has started: report RUNNING.
    Started(TaskId),
    /// The task's work is done.
    Finish(TaskId),
    /// The executor process exits.
    Exit,
    /// A timer of the driver core.
    Driver(Timer),
}

/// One task as it physically runs.
#[derive(Debug, Clone)]
pub struct PhysicalTask {
    /// Its cpus.
    pub cpus: f64,
    /// Its memory.
    pub mem: f64,
    /// Between launch and its terminal update.
    pub running: bool,
    /// Seconds of work (0: until killed) and whether it fails at the end.
    plan: (u64, bool),
}

/// A simulated executor process.
pub struct ExecutorNode {
    pub(crate) pid: Upid,
    pub(crate) agent: usize,
    pub(crate) container_id: ContainerId,
    pub(crate) framework_id: FrameworkId,
    command: bool,
    /// A custom executor's own resources.
    pub(crate) overhead: (f64, f64),
    core: DriverCore,
    pub(crate) alive: bool,
    pub(crate) tasks: BTreeMap<TaskId, PhysicalTask>,
}

impl ExecutorNode {
    pub(crate) fn new(n: u64, agent: usize, agent_pid: Upid, spec: &LaunchSpec) -> ExecutorNode {
        let addr = std::net::SocketAddr::new(agent_pid.ip(), 20000 + (n % 40000) as u16);
        let overhead = if spec.command_executor {
            (0.0, 0.0)
        } else {
            (
                spec.executor.resources.cpus().unwrap_or(0.0),
                spec.executor.resources.mem().unwrap_or(0.0),
            )
        };
        ExecutorNode {
            pid: Upid::new(&format!("executor-{n}"), addr).expect("a valid pid"),
            agent,
            container_id: spec.container_id.clone(),
            framework_id: spec.framework_id.clone(),
            command: spec.command_executor,
            overhead,
            core: DriverCore::new(
                spec.framework_id.clone(),
                spec.executor.executor_id.clone(),
                agent_pid,
                Some(spec.agent_id.clone()),
                CoreOptions {
                    checkpoint: spec.framework.checkpoint,
                    recovery_timeout: RECOVERY_TIMEOUT,
                },
            ),
            alive: true,
            tasks: BTreeMap::new(),
        }
    }

    /// Resources in use: its own and its running tasks'.
    pub(crate) fn usage(&self) -> (f64, f64) {
        let mut used = self.overhead;
        for task in self.tasks.values().filter(|t| t.running) {
            used.0 += task.cpus;
            used.1 += task.mem;
        }
        used
    }
}

/// The plan a scheduler puts in a task's data: `<seconds>:<ok|fail>` (0 seconds: until killed).
pub fn task_plan(secs: u64, fail: bool) -> Vec<u8> {
    format!("{secs}:{}", if fail { "fail" } else { "ok" }).into_bytes()
}

fn parse_plan(data: &[u8]) -> (u64, bool) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split(':');
    let secs = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (secs, parts.next() == Some("fail"))
}

impl World {
    fn executor(&mut self, n: u64) -> Option<&mut ExecutorNode> {
        self.executors.get_mut(&n).filter(|e| e.alive)
    }

    /// Performs the outputs of executor `n`'s driver core (nothing once the process is dead).
    fn perform_executor(&mut self, n: u64, outputs: Vec<Output>) {
        self.perform_driver(
            outputs,
            |w| {
                w.executors
                    .get(&n)
                    .filter(|e| e.alive)
                    .map(|e| e.pid.clone())
            },
            |w, after, timer| {
                w.schedule(
                    after,
                    Event::ExecutorWake {
                        executor: n,
                        what: ExecWake::Driver(timer),
                    },
                )
            },
            |w, callback| {
                w.executor_callback(n, callback);
                Vec::new()
            },
        );
    }

    fn executor_call(&mut self, n: u64, f: impl FnOnce(&mut DriverCore) -> Vec<Output>) {
        let Some(e) = self.executor(n) else { return };
        let outputs = f(&mut e.core);
        self.perform_executor(n, outputs);
    }

    /// The executor process starts: link to the agent first, then register.
    pub(crate) fn executor_start(&mut self, n: u64) {
        self.executor_call(n, DriverCore::start);
    }

    /// The process dies (killed, crashed, or exited): the agent's reaper hears it, if that agent
    /// process still runs.
    pub(crate) fn kill_executor(&mut self, n: u64, wait_status: i32, description: &'static str) {
        let Some(e) = self.executor(n) else { return };
        let (agent, container_id) = (e.agent, e.container_id.clone());
        self.kill_executor_silently(n);
        if self.agents[agent].core.is_some() {
            let incarnation = self.agents[agent].incarnation;
            let delay = self.net_rng.millis(1, 10);
            self.schedule(
                delay,
                Event::Reap {
                    agent,
                    incarnation,
                    container_id,
                    wait_status,
                    description,
                },
            );
        }
    }

    /// The process dies and nobody watches it (an orphan killed by a restarted agent).
    pub(crate) fn kill_executor_silently(&mut self, n: u64) {
        let Some(e) = self.executor(n) else { return };
        e.alive = false;
        let framework_id = e.framework_id.clone();
        let mut stopped = Vec::new();
        for (task_id, task) in e.tasks.iter_mut() {
            if task.running {
                stopped.push(task_id.clone());
            }
            task.running = false;
        }
        let pid = e.pid.clone();
        for task_id in &stopped {
            self.observe_task_stopped(&framework_id, task_id);
        }
        self.crashed(&pid);
    }

    /// The task program reports `state` through the driver (which sends it at once, as the real
    /// driver's actor does when the executor calls `send_status_update`).
    fn send_task_update(&mut self, n: u64, task_id: &TaskId, state: TaskState) {
        let uuid = Uuid::v4_from(self.work_rng.bytes16());
        let wall = 1.7e9
            + self
                .clock(Host::Agent(0))
                .duration_since(self.base)
                .as_secs_f64();
        let Some(e) = self.executor(n) else { return };
        if state.is_terminal() {
            if let Some(task) = e.tasks.get_mut(task_id) {
                task.running = false;
            }
            let framework_id = e.framework_id.clone();
            self.observe_task_stopped(&framework_id, task_id);
        }
        let status = TaskStatus::new(task_id.clone(), state);
        self.executor_call(n, |core| core.send_status_update(status, wall, uuid));
    }

    /// The task program's reaction to a driver callback.
    fn executor_callback(&mut self, n: u64, callback: Callback) {
        let Some(e) = self.executor(n) else { return };
        match callback {
            Callback::LaunchTask(task) => {
                let plan = parse_plan(&task.data);
                e.tasks.insert(
                    task.task_id.clone(),
                    PhysicalTask {
                        cpus: task.resources.cpus().unwrap_or(0.0),
                        mem: task.resources.mem().unwrap_or(0.0),
                        running: true,
                        plan,
                    },
                );
                let delay = self.work_rng.millis(0, 500);
                self.schedule(
                    delay,
                    Event::ExecutorWake {
                        executor: n,
                        what: ExecWake::Started(task.task_id),
                    },
                );
            }
            Callback::KillTask(task_id) => {
                if e.tasks.get(&task_id).is_some_and(|t| t.running) {
                    self.send_task_update(n, &task_id, TaskState::Killed);
                    self.exit_if_idle(n);
                }
            }
            Callback::Shutdown => {
                let live: Vec<TaskId> = e
                    .tasks
                    .iter()
                    .filter(|(_, t)| t.running)
                    .map(|(id, _)| id.clone())
                    .collect();
                for task_id in live {
                    self.send_task_update(n, &task_id, TaskState::Killed);
                }
                let delay = self.work_rng.millis(100, 1000);
                self.schedule(
                    delay,
                    Event::ExecutorWake {
                        executor: n,
                        what: ExecWake::Exit,
                    },
                );
            }
            Callback::Error(message) => {
                // The task program only sends valid updates: the driver refusing one is a bug.
                self.violate("executor_updates_valid", message);
                self.kill_executor(n, 256, "exited with status 1");
            }
            Callback::Registered { .. }
            | Callback::Reregistered { .. }
            | Callback::Disconnected
            | Callback::FrameworkMessage(_) => {}
        }
    }

    /// A command executor exits once its task is over.
    fn exit_if_idle(&mut self, n: u64) {
        let Some(e) = self.executor(n) else { return };
        if e.command && !e.tasks.is_empty() && e.tasks.values().all(|t| !t.running) {
            let delay = self.work_rng.millis(500, 2000);
            self.schedule(
                delay,
                Event::ExecutorWake {
                    executor: n,
                    what: ExecWake::Exit,
                },
            );
        }
    }

    pub(crate) fn executor_wake(&mut self, n: u64, what: ExecWake) {
        let Some(e) = self.executor(n) else { return };
        match what {
            ExecWake::Started(task_id) => {
                let Some(task) = e.tasks.get(&task_id).filter(|t| t.running) else {
                    return;
                };
                if e.core.is_shutting_down() {
                    return;
                }
                let (secs, _) = task.plan;
                self.send_task_update(n, &task_id, TaskState::Running);
                if secs > 0 {
                    self.schedule(
                        Duration::from_secs(secs),
                        Event::ExecutorWake {
                            executor: n,
                            what: ExecWake::Finish(task_id),
                        },
                    );
                }
            }
            ExecWake::Finish(task_id) => {
                let Some(task) = e.tasks.get(&task_id).filter(|t| t.running) else {
                    return;
                };
                if e.core.is_shutting_down() {
                    return;
                }
                let state = if task.plan.1 {
                    TaskState::Failed
                } else {
                    TaskState::Finished
                };
                self.send_task_update(n, &task_id, state);
                self.exit_if_idle(n);
            }
            ExecWake::Exit => self.kill_executor(n, 0, "exited with status 0"),
            ExecWake::Driver(timer) => self.executor_call(n, |core| core.timer_fired(timer)),
        }
    }

    /// A link of executor `n` broke.
    pub(crate) fn executor_exited_agent(&mut self, n: u64, pid: &Upid) {
        self.executor_call(n, |core| core.exited(pid));
    }

    /// A message reaches executor `n` (its driver core lets only its agent drive it).
    pub(crate) fn executor_message(&mut self, n: u64, from: &Upid, payload: Payload) {
        match payload {
            Payload::ExecutorRegisteredMessage(m) => {
                self.executor_call(n, |d| d.on_registered(from, m))
            }
            Payload::ExecutorReregisteredMessage(m) => {
                self.executor_call(n, |d| d.on_reregistered(from, m))
            }
            Payload::ReconnectExecutorMessage(m) => {
                self.executor_call(n, |d| d.on_reconnect(from, m))
            }
            Payload::RunTaskMessage(m) => self.executor_call(n, |d| d.on_run_task(from, m)),
            Payload::KillTaskMessage(m) => self.executor_call(n, |d| d.on_kill_task(from, m)),
            Payload::StatusUpdateAcknowledgementMessage(m) => {
                self.executor_call(n, |d| d.on_acknowledgement(from, m))
            }
            Payload::FrameworkToExecutorMessage(m) => {
                self.executor_call(n, |d| d.on_framework_message(from, m))
            }
            Payload::ShutdownExecutorMessage(m) => {
                self.executor_call(n, |d| d.on_shutdown(from, m))
            }
            _ => {}
        }
    }
}

impl World {
    /// Physical use of each agent host: (cpus, mem) of live executors and their running tasks.
    pub(crate) fn physical_usage(&self, agent: usize) -> (f64, f64) {
        let mut used = (0.0, 0.0);
        for e in self
            .executors
            .values()
            .filter(|e| e.alive && e.agent == agent)
        {
            let (c, m) = e.usage();
            used.0 += c;
            used.1 += m;
        }
        used
    }

    /// Whether `task_id` of `framework_id` runs anywhere, and where.
    pub(crate) fn running_on(&self, framework_id: &FrameworkId, task_id: &TaskId) -> Option<usize> {
        self.executors
            .values()
            .filter(|e| e.alive && &e.framework_id == framework_id)
            .find(|e| e.tasks.get(task_id).is_some_and(|t| t.running))
            .map(|e| e.agent)
    }

    #[allow(dead_code)]
    pub(crate) fn executor_key(&self, n: u64) -> NodeKey {
        NodeKey::Executor(n)
    }
}
