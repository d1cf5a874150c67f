//! Schedulers: the scheduler driver's pure core ([`mesos::scheduler::DriverCore`]) wired the way
//! the driver actor wires it, under a small framework that launches, kills and reconciles tasks.
//! What a framework would persist (its id, its tasks, its task counter) outlives a scheduler
//! crash; the driver does not.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use mesos::scheduler::{Callback, CoreOptions, DriverCore, Output, Timer};
use mesos::{
    CommandInfo, ExecutorId, ExecutorInfo, Filters, FrameworkCapability, FrameworkId,
    FrameworkInfo, Offer, TaskId, TaskInfo, TaskState, TaskStatus,
};
use process::Upid;

use crate::executor_node::task_plan;
use crate::payload::Payload;
use crate::trace::TraceKind;
use crate::world::{Event, NodeKey, Phase, World};

/// The frameworks of every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameworkKind {
    /// `PARTITION_AWARE`: hears UNREACHABLE, and its tasks may come back.
    PartitionAware,
    /// Neither partition-aware nor checkpointing: LOST means lost.
    Plain,
    /// Checkpointing, with a custom executor per agent running several tasks.
    Checkpointing,
}

impl FrameworkKind {
    /// Every kind, one framework each.
    pub const ALL: [FrameworkKind; 3] = [
        FrameworkKind::PartitionAware,
        FrameworkKind::Plain,
        FrameworkKind::Checkpointing,
    ];

    fn info(self) -> FrameworkInfo {
        let base = FrameworkInfo::new("sim", format!("{self:?}"))
            .with_role(format!("{self:?}").to_lowercase())
            .with_failover_timeout(Duration::from_secs(86_400));
        match self {
            FrameworkKind::PartitionAware => {
                base.with_capability(FrameworkCapability::PartitionAware)
            }
            FrameworkKind::Plain => base,
            FrameworkKind::Checkpointing => base.with_checkpoint(true),
        }
    }
}

/// What the framework knows of one of its tasks.
#[derive(Debug, Clone, Default)]
pub struct TaskView {
    /// The latest state heard (None: launched, nothing heard yet).
    pub last: Option<TaskState>,
    /// A terminal state was heard.
    pub terminal: bool,
    /// The framework was torn down and started over: nobody will hear of it.
    pub abandoned: bool,
    /// Where it was launched (reconciliation names it, as Mesos asks frameworks to).
    pub agent_id: Option<mesos::AgentId>,
    /// When the scheduler launched it (simulated time).
    pub launched_at: std::time::Duration,
}

/// One framework and its scheduler process.
pub struct SchedulerNode {
    pub(crate) kind: FrameworkKind,
    pub(crate) framework_id: Option<FrameworkId>,
    pub(crate) incarnation: u32,
    pub(crate) pid: Upid,
    pub(crate) driver: Option<DriverCore>,
    next_task: u64,
    pub(crate) tasks: BTreeMap<TaskId, TaskView>,
    /// Tasks heard LOST (a non-partition-aware framework): they must never run again.
    pub(crate) lost: BTreeSet<TaskId>,
    /// Per task, the position (in its agent's stream) of the latest update heard.
    pub(crate) heard: BTreeMap<TaskId, u64>,
    errors: u32,
    seed: u64,
}

impl SchedulerNode {
    pub(crate) fn new(index: usize, kind: FrameworkKind, seed: u64) -> SchedulerNode {
        SchedulerNode {
            kind,
            framework_id: None,
            incarnation: 0,
            pid: Upid::new(&format!("scheduler-{index}"), World::addr(2, index, 7000))
                .expect("a valid pid"),
            driver: None,
            next_task: 0,
            tasks: BTreeMap::new(),
            lost: BTreeSet::new(),
            heard: BTreeMap::new(),
            errors: 0,
            seed: seed ^ ((index as u64) << 24),
        }
    }

    /// Whether the framework is partition-aware.
    pub(crate) fn partition_aware(&self) -> bool {
        self.kind == FrameworkKind::PartitionAware
    }

    fn live_tasks(&self) -> Vec<TaskId> {
        self.tasks
            .iter()
            .filter(|(_, v)| !v.terminal && !v.abandoned)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

impl World {
    /// Starts (or fails over to) a new scheduler process for framework `i`.
    pub(crate) fn start_scheduler(&mut self, i: usize) {
        if self.schedulers[i].driver.is_some() {
            return;
        }
        let s = &mut self.schedulers[i];
        s.incarnation += 1;
        s.pid = Upid::new(
            &format!("scheduler-{i}"),
            World::addr(2, i, 7000 + s.incarnation as u16),
        )
        .expect("a valid pid");
        let mut info = s.kind.info();
        info.id = s.framework_id.clone();
        let mut driver = DriverCore::new(
            info,
            CoreOptions {
                implicit_acknowledgements: true,
                backoff_factor: Duration::from_secs(2),
                seed: s.seed ^ u64::from(s.incarnation),
            },
        );
        let leader = self.leader_pid();
        let outputs = driver.start(leader);
        let s = &mut self.schedulers[i];
        s.driver = Some(driver);
        let (pid, incarnation) = (s.pid.clone(), s.incarnation);
        self.routes.insert(pid, NodeKey::Scheduler(i));
        self.trace.note(
            self.now,
            TraceKind::Start,
            None,
            Some(NodeKey::Scheduler(i)),
            "",
        );
        self.perform_scheduler(i, outputs);
        let delay = self.work_rng.millis(1000, 3000);
        self.schedule(
            delay,
            Event::SchedulerThink {
                scheduler: i,
                incarnation,
            },
        );
    }

    /// Framework `i`'s scheduler process dies.
    pub(crate) fn crash_scheduler(&mut self, i: usize) {
        if self.schedulers[i].driver.take().is_none() {
            return;
        }
        let pid = self.schedulers[i].pid.clone();
        self.trace.note(
            self.now,
            TraceKind::Crash,
            None,
            Some(NodeKey::Scheduler(i)),
            "",
        );
        self.crashed(&pid);
    }

    fn driver_call(&mut self, i: usize, f: impl FnOnce(&mut DriverCore) -> Vec<Output>) {
        let Some(driver) = self.schedulers[i].driver.as_mut() else {
            return;
        };
        let outputs = f(driver);
        self.perform_scheduler(i, outputs);
    }

    pub(crate) fn scheduler_detected(&mut self, i: usize, leader: Upid) {
        self.driver_call(i, |d| d.new_master(Some(leader)));
    }

    pub(crate) fn scheduler_timer(&mut self, i: usize, incarnation: u32, timer: Timer) {
        if self.schedulers[i].incarnation == incarnation {
            self.driver_call(i, |d| d.timer_fired(timer));
        }
    }

    pub(crate) fn scheduler_exited(&mut self, i: usize, pid: &Upid) {
        self.driver_call(i, |d| d.exited(pid));
    }

    /// A message reaches the scheduler process at `to`.
    pub(crate) fn scheduler_message(&mut self, i: usize, to: &Upid, from: &Upid, payload: Payload) {
        if &self.schedulers[i].pid != to {
            return;
        }
        match payload {
            Payload::FrameworkRegisteredMessage(m) => {
                self.driver_call(i, |d| d.on_registered(from, m))
            }
            Payload::FrameworkReregisteredMessage(m) => {
                self.driver_call(i, |d| d.on_reregistered(from, m))
            }
            Payload::ResourceOffersMessage(m) => self.driver_call(i, |d| d.on_offers(from, m)),
            Payload::RescindResourceOfferMessage(m) => {
                self.driver_call(i, |d| d.on_rescind(from, m))
            }
            Payload::StatusUpdateMessage(m) => self.driver_call(i, |d| d.on_status_update(from, m)),
            Payload::LostSlaveMessage(m) => self.driver_call(i, |d| d.on_agent_lost(from, m)),
            Payload::ExitedExecutorMessage(m) => {
                self.driver_call(i, |d| d.on_executor_exited(from, m))
            }
            Payload::ExecutorToFrameworkMessage(m) => {
                self.driver_call(i, |d| d.on_framework_message(from, m))
            }
            Payload::FrameworkErrorMessage(m) => self.driver_call(i, |d| d.on_error(from, m)),
            _ => {}
        }
    }

    fn perform_scheduler(&mut self, i: usize, outputs: Vec<Output>) {
        self.perform_driver(
            outputs,
            |w| Some(w.schedulers[i].pid.clone()),
            |w, after, timer| {
                let incarnation = w.schedulers[i].incarnation;
                w.schedule(
                    after,
                    Event::SchedulerTimer {
                        scheduler: i,
                        incarnation,
                        timer,
                    },
                );
            },
            |w, callback| w.scheduler_callback(i, callback),
        );
    }

    /// The framework's reaction to a callback; returns the driver's outputs for its calls.
    fn scheduler_callback(&mut self, i: usize, callback: Callback) -> Vec<Output> {
        match callback {
            Callback::Registered(id, _) => {
                self.schedulers[i].framework_id = Some(id);
                Vec::new()
            }
            Callback::Reregistered(_) => {
                let mut out = Vec::new();
                if let Some(d) = self.schedulers[i].driver.as_mut() {
                    out = d.reconcile_tasks(Vec::new());
                }
                out
            }
            Callback::ResourceOffers(offers) => self.use_offers(i, offers),
            Callback::StatusUpdate(status) => {
                self.observe_scheduler_update(i, &status);
                Vec::new()
            }
            Callback::Error(message) => {
                // The driver aborted: the process exits and a supervisor restarts it.
                let s = &mut self.schedulers[i];
                s.errors += 1;
                if s.errors > 3 || message.contains("removed") || message.contains("torn down") {
                    // The framework is gone: start over as a new one.
                    s.framework_id = None;
                    s.errors = 0;
                    for view in s.tasks.values_mut() {
                        view.abandoned = true;
                    }
                }
                self.crash_scheduler(i);
                let delay = self.work_rng.millis(2000, 5000);
                self.schedule(delay, Event::SchedulerRestart(i));
                Vec::new()
            }
            Callback::Disconnected
            | Callback::OfferRescinded(_)
            | Callback::FrameworkMessage(..)
            | Callback::AgentLost(_)
            | Callback::ExecutorLost(..) => Vec::new(),
        }
    }

    fn use_offers(&mut self, i: usize, offers: Vec<Offer>) -> Vec<Output> {
        let mut out = Vec::new();
        for offer in offers {
            let tasks = self.tasks_for(i, &offer);
            let refuse = match self.phase {
                Phase::Greedy => 1.0,
                _ => [1.0, 5.0, 10.0][self.work_rng.below(3) as usize],
            };
            let filters = Filters {
                refuse_seconds: refuse,
            };
            let Some(d) = self.schedulers[i].driver.as_mut() else {
                break;
            };
            if tasks.is_empty() {
                out.extend(d.decline_offer(offer.id, filters));
            } else {
                self.stats.tasks += tasks.len() as u64;
                out.extend(d.launch_tasks(vec![offer.id], tasks, filters));
            }
        }
        out
    }

    /// The tasks framework `i` launches on `offer` (none: decline it).
    fn tasks_for(&mut self, i: usize, offer: &Offer) -> Vec<TaskInfo> {
        let mut cpus = offer.resources.cpus().unwrap_or(0.0);
        let mut mem = offer.resources.mem().unwrap_or(0.0);
        let kind = self.schedulers[i].kind;
        let executor = (kind == FrameworkKind::Checkpointing).then(|| {
            ExecutorInfo::new(
                ExecutorId::new(format!("exec-{}", offer.agent_id)),
                CommandInfo::shell("sim-executor"),
            )
            .with_resources("cpus:0.1;mem:32".parse().expect("valid resources"))
        });
        if let Some(e) = &executor {
            if !offer.executor_ids.contains(&e.executor_id) {
                cpus -= 0.1;
                mem -= 32.0;
            }
        }
        let (count, greedy) = match self.phase {
            Phase::Greedy => (usize::MAX, true),
            Phase::Done => (0, false),
            _ => {
                let live = self.schedulers[i].live_tasks().len();
                if live >= 8 || !self.work_rng.chance(0.7) {
                    (0, false)
                } else {
                    (self.work_rng.between(1, 3) as usize, false)
                }
            }
        };
        let mut tasks = Vec::new();
        for _ in 0..count {
            let (c, m) = if greedy {
                (1.0, 256.0)
            } else {
                (
                    [0.5, 1.0][self.work_rng.below(2) as usize],
                    [128.0, 256.0, 512.0][self.work_rng.below(3) as usize],
                )
            };
            if c > cpus + 1e-9 || m > mem + 1e-9 {
                break;
            }
            cpus -= c;
            mem -= m;
            let (secs, fail) = if greedy {
                // Short tasks, relaunched at once: DRF decides who gets what frees up.
                (self.work_rng.between(15, 30), false)
            } else if self.work_rng.chance(0.2) {
                (0, false)
            } else {
                (self.work_rng.between(3, 90), self.work_rng.chance(0.2))
            };
            let s = &mut self.schedulers[i];
            s.next_task += 1;
            let task_id = TaskId::new(format!("t{}", s.next_task));
            s.tasks.insert(
                task_id.clone(),
                TaskView {
                    agent_id: Some(offer.agent_id.clone()),
                    launched_at: self.now,
                    ..TaskView::default()
                },
            );
            let resources = format!("cpus:{c};mem:{m}")
                .parse()
                .expect("valid resources");
            let task = TaskInfo::new(task_id, "sim", offer.agent_id.clone(), resources)
                .with_data(task_plan(secs, fail));
            tasks.push(match &executor {
                Some(e) => task.with_executor(e.clone()),
                None => task.with_command(CommandInfo::shell("sleep")),
            });
        }
        tasks
    }

    /// The framework's periodic work: kills, reconciliation, revives.
    pub(crate) fn scheduler_think(&mut self, i: usize, incarnation: u32) {
        let s = &self.schedulers[i];
        if s.incarnation != incarnation || s.driver.is_none() {
            return;
        }
        let live = s.live_tasks();
        let reconcile: Vec<TaskStatus> = live
            .iter()
            .map(|id| {
                let view = &s.tasks[id];
                let status = TaskStatus::new(id.clone(), view.last.unwrap_or(TaskState::Staging));
                match &view.agent_id {
                    Some(agent) => status.with_agent_id(agent.clone()),
                    None => status,
                }
            })
            .collect();
        match self.phase {
            Phase::Chaos => {
                let roll = self.work_rng.below(100);
                if roll < 20 && !live.is_empty() {
                    let task = live[self.work_rng.below(live.len() as u64) as usize].clone();
                    self.driver_call(i, |d| d.kill_task(task));
                } else if roll < 35 {
                    self.driver_call(i, |d| d.reconcile_tasks(reconcile));
                } else if roll < 42 {
                    self.driver_call(i, |d| d.reconcile_tasks(Vec::new()));
                } else if roll < 45 {
                    self.driver_call(i, |d| d.revive_offers());
                }
            }
            Phase::Quiet | Phase::Greedy => {
                if !reconcile.is_empty() {
                    self.driver_call(i, |d| d.reconcile_tasks(reconcile));
                }
                self.driver_call(i, |d| d.reconcile_tasks(Vec::new()));
            }
            Phase::Done => return,
        }
        let delay = match self.phase {
            Phase::Chaos => self.work_rng.millis(2000, 6000),
            _ => self.work_rng.millis(8000, 15000),
        };
        self.schedule(
            delay,
            Event::SchedulerThink {
                scheduler: i,
                incarnation,
            },
        );
    }

    /// The greedy phase begins: kill every task, then take every offer.
    pub(crate) fn scheduler_go_greedy(&mut self, i: usize) {
        for task in self.schedulers[i].live_tasks() {
            self.driver_call(i, |d| d.kill_task(task));
        }
        self.driver_call(i, |d| d.revive_offers());
    }
}
