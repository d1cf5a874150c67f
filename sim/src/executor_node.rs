//! Executors: the executor driver's pure core ([`mesos::executor::DriverCore`]) wired the
//! way the driver actor wires it, plus a tiny task program: report RUNNING, run for the time the
//! scheduler put in the task's data, then report FINISHED or FAILED; report KILLED when killed;
//! kill everything and exit on shutdown. A command executor exits once its task ended.

use std::collections::BTreeMap;
use std::time::Duration;

use agent::state::LaunchSpec;
use mesos::executor::{DriverCore, DriverEvent};
use mesos::{ContainerId, FrameworkId, TaskId, TaskState, TaskStatus, Uuid};
use process::Upid;

use crate::faults::Host;
use crate::payload::Payload;
use crate::world::{Event, NodeKey, World};

/// How long a checkpointing executor waits for its agent to come back (Mesos: 15 min).
pub const RECOVERY_TIMEOUT: Duration = Duration::from_secs(900);
/// How often a waiting executor knocks on its agent's old address.
pub const REREGISTER_INTERVAL: Duration = Duration::from_secs(1);

/// A timer of an executor.
#[derive(Debug, Clone)]
pub enum ExecWake {
    /// The task has started: report RUNNING.
    Started(TaskId),
    /// The task's work is done.
    Finish(TaskId),
    /// The executor process exits.
    Exit,
    /// The agent did not come back in time (wait number).
    RecoveryTimeout(u64),
    /// Knock on the agent's address again (wait number).
    Knock(u64),
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
    agent_pid: Upid,
    pub(crate) container_id: ContainerId,
    pub(crate) framework_id: FrameworkId,
    command: bool,
    /// A custom executor's own resources.
    pub(crate) overhead: (f64, f64),
    core: DriverCore,
    pub(crate) alive: bool,
    shutting_down: bool,
    waiting: Option<u64>,
    waits: u64,
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
            agent_pid,
            container_id: spec.container_id.clone(),
            framework_id: spec.framework_id.clone(),
            command: spec.command_executor,
            overhead,
            core: DriverCore::new(
                spec.framework_id.clone(),
                spec.executor.executor_id.clone(),
                Some(spec.agent_id.clone()),
                spec.framework.checkpoint,
            ),
            alive: true,
            shutting_down: false,
            waiting: None,
            waits: 0,
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

    /// The executor process starts: link to the agent first, then register.
    pub(crate) fn executor_start(&mut self, n: u64) {
        let Some(e) = self.executor(n) else { return };
        let (pid, agent, message) = (
            e.pid.clone(),
            e.agent_pid.clone(),
            e.core.register_message(),
        );
        self.link(&pid, &agent);
        self.send(&pid, &agent, message.into());
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
        for task in e.tasks.values_mut() {
            task.running = false;
        }
        let pid = e.pid.clone();
        self.crashed(&pid);
    }

    fn executor_send(&mut self, n: u64, payload: Payload) {
        let Some(e) = self.executor(n) else { return };
        let (pid, agent) = (e.pid.clone(), e.agent_pid.clone());
        self.send(&pid, &agent, payload);
    }

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
        }
        match e
            .core
            .status_update(TaskStatus::new(task_id.clone(), state), wall, uuid)
        {
            Ok(message) => self.executor_send(n, message.into()),
            Err(error) => self.violate("executor_updates_valid", error.to_string()),
        }
    }

    fn emit(&mut self, n: u64, event: DriverEvent) {
        let Some(e) = self.executor(n) else { return };
        if e.shutting_down {
            return;
        }
        if matches!(event, DriverEvent::Shutdown | DriverEvent::Error(_)) {
            e.shutting_down = true;
        }
        match event {
            DriverEvent::LaunchTask(task) => {
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
            DriverEvent::KillTask(task_id) => {
                if e.tasks.get(&task_id).is_some_and(|t| t.running) {
                    self.send_task_update(n, &task_id, TaskState::Killed);
                    self.exit_if_idle(n);
                }
            }
            DriverEvent::Shutdown => {
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
            DriverEvent::Error(_) => self.kill_executor(n, 256, "exited with status 1"),
            DriverEvent::Registered { .. }
            | DriverEvent::Reregistered { .. }
            | DriverEvent::Disconnected
            | DriverEvent::FrameworkMessage(_) => {}
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
                if e.shutting_down {
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
                if e.shutting_down {
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
            ExecWake::RecoveryTimeout(wait) => {
                if e.waiting == Some(wait) {
                    self.emit(n, DriverEvent::Shutdown);
                }
            }
            ExecWake::Knock(wait) => {
                if e.waiting != Some(wait) || e.shutting_down {
                    return;
                }
                let (pid, agent, message) = (
                    e.pid.clone(),
                    e.agent_pid.clone(),
                    e.core.reregister_message(),
                );
                self.link(&pid, &agent);
                self.send(&pid, &agent, message.into());
                self.schedule(
                    REREGISTER_INTERVAL,
                    Event::ExecutorWake {
                        executor: n,
                        what: ExecWake::Knock(wait),
                    },
                );
            }
        }
    }

    /// The link to the agent broke.
    pub(crate) fn executor_exited_agent(&mut self, n: u64, pid: &Upid) {
        let Some(e) = self.executor(n) else { return };
        if pid != &e.agent_pid {
            return;
        }
        let events = e.core.agent_exited();
        let checkpoint = e.core.checkpoint();
        for event in events {
            self.emit(n, event);
        }
        let Some(e) = self.executor(n) else { return };
        if checkpoint && e.waiting.is_none() && !e.shutting_down {
            e.waits += 1;
            let wait = e.waits;
            e.waiting = Some(wait);
            self.schedule(
                RECOVERY_TIMEOUT,
                Event::ExecutorWake {
                    executor: n,
                    what: ExecWake::RecoveryTimeout(wait),
                },
            );
            self.schedule(
                REREGISTER_INTERVAL,
                Event::ExecutorWake {
                    executor: n,
                    what: ExecWake::Knock(wait),
                },
            );
        }
    }

    /// A message reaches executor `n` (only its agent may drive it).
    pub(crate) fn executor_message(&mut self, n: u64, from: &Upid, payload: Payload) {
        let Some(e) = self.executor(n) else { return };
        let from_agent = from == &e.agent_pid;
        match payload {
            Payload::ExecutorRegisteredMessage(m) if from_agent => {
                let event = e.core.registered(m);
                self.emit(n, event);
            }
            Payload::ExecutorReregisteredMessage(m) if from_agent => {
                let (event, resend) = e.core.reregistered(m);
                e.waiting = None;
                for message in resend {
                    self.executor_send(n, message.into());
                }
                self.emit(n, event);
            }
            Payload::ReconnectExecutorMessage(m) => {
                if e.shutting_down || e.waiting.is_none() {
                    return;
                }
                if e.core.agent_id().is_some_and(|known| known != &m.agent_id) {
                    return;
                }
                e.agent_pid = from.clone();
                let (pid, message) = (e.pid.clone(), e.core.reregister_message());
                self.link(&pid, from);
                self.send(&pid, from, message.into());
            }
            Payload::RunTaskMessage(m) if from_agent => {
                if let Some(event) = e.core.run_task(m) {
                    self.emit(n, event);
                }
            }
            Payload::KillTaskMessage(m) if from_agent => {
                if let Some(event) = e.core.kill_task(m) {
                    self.emit(n, event);
                }
            }
            Payload::StatusUpdateAcknowledgementMessage(m) if from_agent => {
                e.core.acknowledged(&m);
            }
            Payload::ShutdownExecutorMessage(_) if from_agent => {
                self.emit(n, DriverEvent::Shutdown);
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
