//! The simulated world: one event queue, one clock, a network with partitions and lossy
//! windows, links (who is told when a connection breaks), and the phases of a run.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use mesos::ContainerId;
use process::Upid;

use crate::agent_node::AgentNode;
use crate::executor_node::{ExecWake, ExecutorNode};
use crate::faults::{Direction, Fault, Host, PlannedFault};
use crate::invariants::{Observer, Violation};
use crate::master_node::MasterNode;
use crate::payload::Payload;
use crate::rng::Rng;
use crate::scheduler_node::SchedulerNode;
use crate::trace::{Trace, TraceKind};

/// A process of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKey {
    /// Master candidate `i`.
    Master(usize),
    /// Agent `i`.
    Agent(usize),
    /// The scheduler of framework `i`.
    Scheduler(usize),
    /// Executor number `n`.
    Executor(u64),
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Workload and faults.
    Chaos,
    /// Faults healed, crashed nodes back; the cluster settles.
    Quiet,
    /// Frameworks kill their tasks and then take every offer: DRF shares must even out.
    Greedy,
    /// Over.
    Done,
}

/// Something that happens at a point of simulated time.
// Events live in the queue only; boxing each message would cost an allocation per send.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Event {
    Deliver {
        from: Upid,
        to: Upid,
        payload: Payload,
        /// The connection it travels on; a message whose connection broke is lost.
        connection: Connection,
    },
    Exited {
        to: Upid,
        pid: Upid,
    },
    Tick {
        node: NodeKey,
        generation: u64,
    },
    Fault(usize),
    Heal(u64),
    LossyEnd(u64),
    AgentRestart(usize),
    SchedulerRestart(usize),
    MasterRestart(usize),
    Elect,
    Publish,
    Detected(NodeKey),
    SchedulerTimer {
        scheduler: usize,
        incarnation: u32,
        timer: mesos::scheduler::Timer,
    },
    SchedulerThink {
        scheduler: usize,
        incarnation: u32,
    },
    ExecutorWake {
        executor: u64,
        what: ExecWake,
    },
    Reap {
        agent: usize,
        incarnation: u64,
        container_id: ContainerId,
        wait_status: i32,
        description: &'static str,
    },
    Quiet,
    Greedy,
    /// Measure the frameworks' dominant shares (during the last part of the greedy phase).
    Sample,
    End,
}

/// Which connection a message travels on: the pair's generation and both ends' generations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Connection(u64, u64, u64);

struct Scheduled {
    at: Duration,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    // A max-heap: the earliest (then the first scheduled) is the greatest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// How long each phase lasts and how big the cluster is.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Workload and faults.
    pub chaos: Duration,
    /// Settling time before the quiet-cluster invariants are checked.
    pub quiet: Duration,
    /// The greedy phase at the end (DRF convergence).
    pub greedy: Duration,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            chaos: Duration::from_secs(120),
            quiet: Duration::from_secs(200),
            greedy: Duration::from_secs(120),
        }
    }
}

/// Counters of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events processed.
    pub steps: u64,
    /// Messages sent.
    pub messages: u64,
    /// Messages lost (partitions, lossy windows, dead receivers).
    pub dropped: u64,
    /// Faults applied.
    pub faults: u64,
    /// Tasks launched by schedulers.
    pub tasks: u64,
}

/// An active lossy window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lossy {
    pub id: u64,
    pub drop_pct: u64,
    pub dup_pct: u64,
    pub reorder_pct: u64,
}

/// The whole simulated cluster.
pub struct World {
    pub(crate) seed: u64,
    pub(crate) config: SimConfig,
    pub(crate) base: Instant,
    pub(crate) now: Duration,
    seq: u64,
    queue: BinaryHeap<Scheduled>,
    pub(crate) net_rng: Rng,
    pub(crate) work_rng: Rng,
    pub(crate) masters: Vec<MasterNode>,
    pub(crate) leader: Option<usize>,
    pub(crate) election_pending: bool,
    pub(crate) publish_pending: bool,
    pub(crate) published_generation: Option<u64>,
    pub(crate) registry: Vec<master::RegisteredAgent>,
    pub(crate) agents: Vec<AgentNode>,
    pub(crate) schedulers: Vec<SchedulerNode>,
    pub(crate) executors: BTreeMap<u64, ExecutorNode>,
    pub(crate) next_executor: u64,
    pub(crate) routes: BTreeMap<Upid, NodeKey>,
    /// Watched pid -> the pids watching it.
    pub(crate) links: BTreeMap<Upid, BTreeSet<Upid>>,
    pub(crate) partitions: Vec<(u64, Vec<Host>, Direction)>,
    pub(crate) lossy: Vec<Lossy>,
    pub(crate) next_window: u64,
    pub(crate) clock_offsets: BTreeMap<Host, Duration>,
    /// When the latest message between a pair of processes is delivered.
    fifo: BTreeMap<(NodeKey, NodeKey), Duration>,
    /// Bumped when the connection between two processes breaks.
    pair_generation: BTreeMap<(NodeKey, NodeKey), u64>,
    /// Bumped when a process dies or all its connections break.
    pub(crate) node_generation: BTreeMap<NodeKey, u64>,
    pub(crate) plan: Vec<PlannedFault>,
    pub(crate) phase: Phase,
    pub(crate) stats: Stats,
    pub(crate) observer: Observer,
    pub(crate) trace: Trace,
    pub(crate) violation: Option<Violation>,
    /// `SIM_VERBOSE`: print every delivered message.
    pub(crate) verbose: bool,
}

impl World {
    /// A cluster for `seed` that will suffer `plan`.
    pub fn new(seed: u64, config: SimConfig, plan: Vec<PlannedFault>, agents: usize) -> World {
        let mut world = World {
            seed,
            config,
            base: Instant::now(),
            now: Duration::ZERO,
            seq: 0,
            queue: BinaryHeap::new(),
            net_rng: Rng::new(seed, 1),
            work_rng: Rng::new(seed, 2),
            masters: Vec::new(),
            leader: None,
            election_pending: false,
            publish_pending: false,
            published_generation: None,
            registry: Vec::new(),
            agents: Vec::new(),
            schedulers: Vec::new(),
            executors: BTreeMap::new(),
            next_executor: 1,
            routes: BTreeMap::new(),
            links: BTreeMap::new(),
            partitions: Vec::new(),
            lossy: Vec::new(),
            next_window: 0,
            clock_offsets: BTreeMap::new(),
            fifo: BTreeMap::new(),
            pair_generation: BTreeMap::new(),
            node_generation: BTreeMap::new(),
            plan,
            phase: Phase::Chaos,
            stats: Stats::default(),
            observer: Observer::default(),
            trace: Trace::default(),
            violation: None,
            verbose: std::env::var_os("SIM_VERBOSE").is_some(),
        };
        for i in 0..3 {
            world.masters.push(MasterNode::new(i));
            let pid = world.masters[i].pid.clone();
            world.routes.insert(pid, NodeKey::Master(i));
        }
        for _ in 0..agents {
            world.add_agent();
        }
        for kind in crate::scheduler_node::FrameworkKind::ALL {
            let index = world.schedulers.len();
            world.schedulers.push(SchedulerNode::new(index, kind, seed));
        }
        world.elect();
        for i in 0..world.agents.len() {
            world.start_agent(i);
        }
        for i in 0..world.schedulers.len() {
            let delay = world.work_rng.millis(0, 3000);
            world.schedule(delay, Event::SchedulerRestart(i));
        }
        for i in 0..world.plan.len() {
            let at = Duration::from_millis(world.plan[i].at_ms);
            world.schedule_at(at, Event::Fault(i));
        }
        let chaos = world.config.chaos;
        let quiet = chaos + world.config.quiet;
        let end = quiet + world.config.greedy;
        world.schedule_at(chaos, Event::Quiet);
        world.schedule_at(quiet, Event::Greedy);
        world.schedule_at(end, Event::End);
        world
    }

    /// Runs until the end or the first violation.
    pub fn run(&mut self) -> Option<Violation> {
        while let Some(Scheduled { at, event, .. }) = self.queue.pop() {
            self.now = at;
            self.stats.steps += 1;
            let end = matches!(event, Event::End);
            self.handle(event);
            if self.violation.is_none() {
                self.check_always();
            }
            if self.violation.is_some() || end {
                break;
            }
        }
        self.violation.take()
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// A hash of the trace so far (two runs of one seed must agree).
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    pub(crate) fn schedule(&mut self, after: Duration, event: Event) {
        self.schedule_at(self.now + after, event);
    }

    pub(crate) fn schedule_at(&mut self, at: Duration, event: Event) {
        self.seq += 1;
        self.queue.push(Scheduled {
            at: at.max(self.now),
            seq: self.seq,
            event,
        });
    }

    /// The host's clock.
    pub(crate) fn clock(&self, host: Host) -> Instant {
        self.base + self.now + self.clock_offsets.get(&host).copied().unwrap_or_default()
    }

    /// Simulated time at which `host`'s clock reads `at`.
    pub(crate) fn global_at(&self, host: Host, at: Instant) -> Duration {
        let offset = self.clock_offsets.get(&host).copied().unwrap_or_default();
        at.saturating_duration_since(self.base)
            .saturating_sub(offset)
    }

    pub(crate) fn host_of(&self, node: NodeKey) -> Host {
        match node {
            NodeKey::Master(i) => Host::Master(i),
            NodeKey::Agent(i) => Host::Agent(i),
            NodeKey::Scheduler(i) => Host::Scheduler(i),
            NodeKey::Executor(n) => self
                .executors
                .get(&n)
                .map_or(Host::Agent(usize::MAX), |e| Host::Agent(e.agent)),
        }
    }

    pub(crate) fn violate(&mut self, invariant: &'static str, detail: String) {
        if self.violation.is_none() {
            self.violation = Some(Violation {
                seed: self.seed,
                invariant,
                detail,
                at: self.now,
                trace: self.trace.render(),
            });
        }
    }

    fn tick(&mut self, node: NodeKey, generation: u64) {
        match node {
            NodeKey::Master(i) => self.master_tick(i, generation),
            NodeKey::Agent(i) => self.agent_tick(i, generation),
            NodeKey::Scheduler(_) | NodeKey::Executor(_) => {}
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Deliver {
                from,
                to,
                payload,
                connection,
            } => self.deliver(from, to, payload, connection),
            Event::Exited { to, pid } => self.exited(to, pid),
            Event::Tick { node, generation } => self.tick(node, generation),
            Event::Fault(i) => self.apply_fault(i),
            Event::Heal(id) => {
                self.trace.note(self.now, TraceKind::Heal, None, None, "");
                self.partitions.retain(|(p, _, _)| *p != id)
            }
            Event::LossyEnd(id) => self.lossy.retain(|l| l.id != id),
            Event::AgentRestart(i) => self.restart_agent(i),
            Event::SchedulerRestart(i) => self.start_scheduler(i),
            Event::MasterRestart(i) => self.restart_master(i),
            Event::Elect => {
                self.election_pending = false;
                self.elect();
            }
            Event::Publish => self.publish(),
            Event::Detected(node) => self.detected(node),
            Event::SchedulerTimer {
                scheduler,
                incarnation,
                timer,
            } => self.scheduler_timer(scheduler, incarnation, timer),
            Event::SchedulerThink {
                scheduler,
                incarnation,
            } => self.scheduler_think(scheduler, incarnation),
            Event::ExecutorWake { executor, what } => self.executor_wake(executor, what),
            Event::Reap {
                agent,
                incarnation,
                container_id,
                wait_status,
                description,
            } => self.reap(agent, incarnation, container_id, wait_status, description),
            Event::Quiet => self.begin_quiet(),
            Event::Greedy => self.begin_greedy(),
            Event::Sample => {
                self.sample_shares();
                if self.phase == Phase::Greedy {
                    self.schedule(Duration::from_millis(500), Event::Sample);
                }
            }
            Event::End => self.end(),
        }
    }

    // ---- network ----

    fn blocked(&self, from: Host, to: Host) -> bool {
        self.partitions.iter().any(|(_, hosts, direction)| {
            let (a, b) = (hosts.contains(&from), hosts.contains(&to));
            match direction {
                Direction::Both => a != b,
                Direction::Outbound => a && !b,
                Direction::Inbound => !a && b,
            }
        })
    }

    /// Sends `payload` from `from` to `to` through the simulated network.
    pub(crate) fn send(&mut self, from: &Upid, to: &Upid, payload: Payload) {
        self.stats.messages += 1;
        let (Some(&src), Some(&dst)) = (self.routes.get(from), self.routes.get(to)) else {
            self.stats.dropped += 1;
            return;
        };
        let (a, b) = (self.host_of(src), self.host_of(dst));
        let connection = self.connection(src, dst);
        if a == b {
            let delay = self.net_rng.millis(0, 2);
            self.schedule(
                delay,
                Event::Deliver {
                    from: from.clone(),
                    to: to.clone(),
                    payload,
                    connection,
                },
            );
            return;
        }
        if self.blocked(a, b) {
            self.stats.dropped += 1;
            self.trace.note(
                self.now,
                TraceKind::Blocked,
                Some(src),
                Some(dst),
                payload.name(),
            );
            // A connection that cannot get its data through times out.
            let after = self.net_rng.millis(1000, 3000);
            self.break_connection(from, to, after);
            return;
        }
        let mut copies = 1;
        let mut extra = Duration::ZERO;
        let windows = self.lossy.clone();
        for window in windows {
            if self.net_rng.below(100) < window.drop_pct {
                // TCP loses data only with its connection: the message and everything in
                // flight on that connection are lost, and both ends hear `exited`.
                self.stats.dropped += 1;
                self.trace.note(
                    self.now,
                    TraceKind::Dropped,
                    Some(src),
                    Some(dst),
                    payload.name(),
                );
                let after = self.net_rng.millis(1, 100);
                self.break_connection(from, to, after);
                return;
            }
            if self.net_rng.below(100) < window.dup_pct && retried(&payload) {
                copies = 2;
            }
            if self.net_rng.below(100) < window.reorder_pct {
                extra = self.net_rng.millis(100, 5000);
            }
        }
        // One connection per pair of processes keeps their messages in order (as TCP does):
        // a held-back message holds back the ones behind it; other pairs overtake.
        let delay = self.net_rng.millis(1, 20) + extra;
        let pair = (src, dst);
        let at = (self.now + delay).max(self.fifo.get(&pair).copied().unwrap_or_default());
        self.fifo.insert(pair, at);
        for _ in 0..copies {
            self.schedule_at(
                at,
                Event::Deliver {
                    from: from.clone(),
                    to: to.clone(),
                    payload: payload.clone(),
                    connection,
                },
            );
        }
    }

    /// The current connection between two processes.
    fn connection(&self, a: NodeKey, b: NodeKey) -> Connection {
        let pair = if a <= b { (a, b) } else { (b, a) };
        Connection(
            self.pair_generation.get(&pair).copied().unwrap_or_default(),
            self.node_generation.get(&a).copied().unwrap_or_default(),
            self.node_generation.get(&b).copied().unwrap_or_default(),
        )
    }

    /// The connection between `a` and `b` breaks: what is in flight on it is lost, and each end
    /// that watches the other hears `exited` after `after`.
    pub(crate) fn break_connection(&mut self, a: &Upid, b: &Upid, after: Duration) {
        let (Some(&x), Some(&y)) = (self.routes.get(a), self.routes.get(b)) else {
            return;
        };
        let pair = if x <= y { (x, y) } else { (y, x) };
        *self.pair_generation.entry(pair).or_default() += 1;
        for (watcher, watched) in [(a, b), (b, a)] {
            let linked = self
                .links
                .get_mut(watched)
                .is_some_and(|watchers| watchers.remove(watcher));
            if linked {
                self.schedule(
                    after,
                    Event::Exited {
                        to: watcher.clone(),
                        pid: watched.clone(),
                    },
                );
            }
        }
    }

    fn deliver(&mut self, from: Upid, to: Upid, payload: Payload, connection: Connection) {
        let Some(&dst) = self.routes.get(&to) else {
            return;
        };
        if let Some(&src) = self.routes.get(&from) {
            if self.connection(src, dst) != connection {
                self.stats.dropped += 1;
                return;
            }
        }
        if let Some(&src) = self.routes.get(&from) {
            if self.host_of(src) != self.host_of(dst)
                && self.blocked(self.host_of(src), self.host_of(dst))
            {
                self.stats.dropped += 1;
                return;
            }
            self.trace.note(
                self.now,
                TraceKind::Deliver,
                Some(src),
                Some(dst),
                payload.name(),
            );
            if self.verbose {
                let text = format!("{payload:?}");
                eprintln!(
                    "{:>9.3}s {src:?} -> {dst:?} {}",
                    self.now.as_secs_f64(),
                    &text[..text
                        .len()
                        .min(if std::env::var_os("SIM_VERBOSE_FULL").is_some() {
                            usize::MAX
                        } else {
                            400
                        })]
                );
            }
        }
        match dst {
            NodeKey::Master(i) => self.master_message(i, &from, payload),
            NodeKey::Agent(i) => self.agent_message(i, &from, payload),
            NodeKey::Scheduler(i) => self.scheduler_message(i, &to, &from, payload),
            NodeKey::Executor(n) => self.executor_message(n, &from, payload),
        }
    }

    // ---- links ----

    /// `watcher` links to `watched`: it hears `exited` when `watched` dies or the connection
    /// breaks. Linking to a dead process reports it at once.
    pub(crate) fn link(&mut self, watcher: &Upid, watched: &Upid) {
        if !self.is_alive(watched) {
            let delay = self.net_rng.millis(1, 50);
            self.schedule(
                delay,
                Event::Exited {
                    to: watcher.clone(),
                    pid: watched.clone(),
                },
            );
            return;
        }
        self.links
            .entry(watched.clone())
            .or_default()
            .insert(watcher.clone());
    }

    /// `pid` died: everyone watching it hears so; its own watches are gone.
    pub(crate) fn crashed(&mut self, pid: &Upid) {
        if let Some(&node) = self.routes.get(pid) {
            *self.node_generation.entry(node).or_default() += 1;
        }
        if let Some(watchers) = self.links.remove(pid) {
            for watcher in watchers {
                let delay = self.net_rng.millis(5, 500);
                self.schedule(
                    delay,
                    Event::Exited {
                        to: watcher,
                        pid: pid.clone(),
                    },
                );
            }
        }
        for watchers in self.links.values_mut() {
            watchers.remove(pid);
        }
    }

    /// Every connection of `pid` breaks: both ends hear `exited`.
    pub(crate) fn break_links(&mut self, pid: &Upid) {
        if let Some(&node) = self.routes.get(pid) {
            *self.node_generation.entry(node).or_default() += 1;
        }
        if let Some(watchers) = self.links.remove(pid) {
            for watcher in watchers {
                let delay = self.net_rng.millis(1, 100);
                self.schedule(
                    delay,
                    Event::Exited {
                        to: watcher,
                        pid: pid.clone(),
                    },
                );
            }
        }
        let watched: Vec<Upid> = self
            .links
            .iter()
            .filter(|(_, watchers)| watchers.contains(pid))
            .map(|(w, _)| w.clone())
            .collect();
        for other in watched {
            if let Some(watchers) = self.links.get_mut(&other) {
                watchers.remove(pid);
            }
            let delay = self.net_rng.millis(1, 100);
            self.schedule(
                delay,
                Event::Exited {
                    to: pid.clone(),
                    pid: other,
                },
            );
        }
    }

    pub(crate) fn is_alive(&self, pid: &Upid) -> bool {
        match self.routes.get(pid) {
            Some(NodeKey::Master(i)) => self.masters[*i].alive,
            Some(NodeKey::Agent(i)) => self.agents[*i].core.is_some(),
            Some(NodeKey::Scheduler(i)) => {
                let s = &self.schedulers[*i];
                s.driver.is_some() && &s.pid == pid
            }
            Some(NodeKey::Executor(n)) => self.executors.get(n).is_some_and(|e| e.alive),
            None => false,
        }
    }

    fn exited(&mut self, to: Upid, pid: Upid) {
        let Some(&node) = self.routes.get(&to) else {
            return;
        };
        if !self.is_alive(&to) {
            return;
        }
        self.trace.note(
            self.now,
            TraceKind::Exited,
            self.routes.get(&pid).copied(),
            Some(node),
            "",
        );
        match node {
            NodeKey::Master(i) => self.master_input(i, |core, now| core.exited(now, &pid)),
            NodeKey::Agent(i) => self.agent_input(i, |core, now| core.exited(now, &pid)),
            NodeKey::Scheduler(i) => self.scheduler_exited(i, &pid),
            NodeKey::Executor(n) => self.executor_exited_agent(n, &pid),
        }
    }

    // ---- faults and phases ----

    fn apply_fault(&mut self, index: usize) {
        if self.phase != Phase::Chaos {
            return;
        }
        let fault = self.plan[index].fault.clone();
        self.stats.faults += 1;
        self.trace
            .note(self.now, TraceKind::Fault, None, None, fault_name(&fault));
        self.observer.faults.push(format!("{}", self.plan[index]));
        match fault {
            Fault::Lossy {
                secs,
                drop_pct,
                dup_pct,
                reorder_pct,
            } => {
                self.next_window += 1;
                let id = self.next_window;
                self.lossy.push(Lossy {
                    id,
                    drop_pct,
                    dup_pct,
                    reorder_pct,
                });
                self.schedule(Duration::from_secs(secs), Event::LossyEnd(id));
            }
            Fault::Partition {
                hosts,
                direction,
                secs,
            } => {
                self.next_window += 1;
                let id = self.next_window;
                self.partitions.push((id, hosts, direction));
                self.schedule(Duration::from_secs(secs), Event::Heal(id));
            }
            Fault::BreakLinks { host } => {
                if let Some(pid) = self.host_pid(host) {
                    self.break_links(&pid);
                }
            }
            Fault::AgentCrash { agent, down_secs } => {
                if self.agents.get(agent).is_some_and(|a| a.core.is_some()) {
                    self.crash_agent(agent, false, false);
                    self.schedule(Duration::from_secs(down_secs), Event::AgentRestart(agent));
                }
            }
            Fault::AgentReboot {
                agent,
                down_secs,
                wipe,
            } => {
                if self.agents.get(agent).is_some_and(|a| !a.left) {
                    self.crash_agent(agent, true, wipe);
                    self.schedule(Duration::from_secs(down_secs), Event::AgentRestart(agent));
                }
            }
            Fault::AgentLeave { agent } => {
                if self.agents.get(agent).is_some_and(|a| !a.left) {
                    self.crash_agent(agent, true, true);
                    self.agents[agent].left = true;
                }
            }
            Fault::AgentJoin => {
                let i = self.add_agent();
                self.start_agent(i);
            }
            Fault::SchedulerFailover {
                framework,
                down_secs,
            } => {
                if framework < self.schedulers.len() {
                    self.crash_scheduler(framework);
                    self.schedule(
                        Duration::from_secs(down_secs),
                        Event::SchedulerRestart(framework),
                    );
                }
            }
            Fault::MasterCrash { down_secs } => {
                if let Some(leader) = self.leader {
                    self.crash_master(leader);
                    self.schedule(Duration::from_secs(down_secs), Event::MasterRestart(leader));
                }
            }
            Fault::ClockJump { host, millis } => {
                *self.clock_offsets.entry(host).or_default() += Duration::from_millis(millis);
                self.rearm_host(host);
            }
            Fault::ExecutorCrash { pick } => {
                let alive: Vec<u64> = self
                    .executors
                    .iter()
                    .filter(|(_, e)| e.alive)
                    .map(|(n, _)| *n)
                    .collect();
                if !alive.is_empty() {
                    let n = alive[(pick % alive.len() as u64) as usize];
                    self.kill_executor(n, 9, "terminated by signal SIGKILL");
                }
            }
        }
    }

    fn host_pid(&self, host: Host) -> Option<Upid> {
        match host {
            Host::Master(i) => self.masters.get(i).map(|m| m.pid.clone()),
            Host::Agent(i) => self.agents.get(i).map(|a| a.pid.clone()),
            Host::Scheduler(i) => self.schedulers.get(i).map(|s| s.pid.clone()),
        }
    }

    /// A host's clock jumped: its timers fire by its new time.
    fn rearm_host(&mut self, host: Host) {
        match host {
            Host::Master(i) => self.rearm_master(i),
            Host::Agent(i) => self.rearm_agent(i),
            Host::Scheduler(_) => {}
        }
    }

    fn begin_quiet(&mut self) {
        self.phase = Phase::Quiet;
        self.partitions.clear();
        self.lossy.clear();
        self.trace
            .note(self.now, TraceKind::Phase, None, None, "quiet");
        for i in 0..self.masters.len() {
            if !self.masters[i].alive {
                self.restart_master(i);
            }
        }
        for i in 0..self.agents.len() {
            if self.agents[i].core.is_none() && !self.agents[i].left {
                self.restart_agent(i);
            }
        }
        for i in 0..self.schedulers.len() {
            if self.schedulers[i].driver.is_none() {
                self.start_scheduler(i);
            }
        }
    }

    fn begin_greedy(&mut self) {
        self.check_quiet();
        if self.violation.is_some() {
            return;
        }
        self.phase = Phase::Greedy;
        self.trace
            .note(self.now, TraceKind::Phase, None, None, "greedy");
        for i in 0..self.schedulers.len() {
            self.scheduler_go_greedy(i);
        }
        // Shares are measured once the kills are done and DRF had time to work.
        let settle = self.config.greedy / 3;
        self.schedule(settle, Event::Sample);
    }

    fn end(&mut self) {
        self.check_drf();
        self.phase = Phase::Done;
    }

    /// The address of a host's main process.
    pub(crate) fn addr(net: u8, host: usize, port: u16) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::new(10, 0, net, host as u8 + 1), port))
    }

    /// The trace kept so far, rendered.
    pub fn render_trace(&self) -> Vec<String> {
        self.trace.render()
    }
}

/// Messages a real network can deliver twice, because their senders retry them until they hear
/// back (TCP never duplicates a message; a retry does): status updates and acknowledgements,
/// (re)registrations and their answers, pings, pongs and reconciliation.
fn retried(payload: &Payload) -> bool {
    matches!(
        payload,
        Payload::StatusUpdateMessage(_)
            | Payload::StatusUpdateAcknowledgementMessage(_)
            | Payload::RegisterSlaveMessage(_)
            | Payload::ReregisterSlaveMessage(_)
            | Payload::SlaveRegisteredMessage(_)
            | Payload::SlaveReregisteredMessage(_)
            | Payload::RegisterFrameworkMessage(_)
            | Payload::ReregisterFrameworkMessage(_)
            | Payload::FrameworkRegisteredMessage(_)
            | Payload::FrameworkReregisteredMessage(_)
            | Payload::RegisterExecutorMessage(_)
            | Payload::ReregisterExecutorMessage(_)
            | Payload::PingSlaveMessage(_)
            | Payload::PongSlaveMessage(_)
            | Payload::ReconcileTasksMessage(_)
    )
}

fn fault_name(fault: &Fault) -> &'static str {
    match fault {
        Fault::Lossy { .. } => "lossy",
        Fault::Partition { .. } => "partition",
        Fault::BreakLinks { .. } => "break-links",
        Fault::AgentCrash { .. } => "agent-crash",
        Fault::AgentReboot { .. } => "agent-reboot",
        Fault::AgentLeave { .. } => "agent-leave",
        Fault::AgentJoin => "agent-join",
        Fault::SchedulerFailover { .. } => "scheduler-failover",
        Fault::MasterCrash { .. } => "master-crash",
        Fault::ClockJump { .. } => "clock-jump",
        Fault::ExecutorCrash { .. } => "executor-crash",
    }
}
