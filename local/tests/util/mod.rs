//! Shared helpers for the end-to-end tests: a cluster with short timeouts, a recording scheduler,
//! and waits on its events.
#![allow(dead_code)]

use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, DriverOptions, Scheduler, SchedulerDriver};
use mesos::*;
use mesos_local::{LocalCluster, LocalConfig};

pub mod bins;

/// How long any single expected event may take (generous: CI machines are slow and shared).
pub const WAIT: Duration = Duration::from_secs(20);

/// Everything a scheduler can hear.
#[derive(Debug, Clone)]
pub enum Event {
    Registered(FrameworkId),
    Reregistered,
    Disconnected,
    Offers(Vec<Offer>),
    Rescinded(OfferId),
    Update(TaskStatus),
    FrameworkMessage(Vec<u8>),
    AgentLost(AgentId),
    ExecutorLost(ExecutorId, i32),
    Error(String),
}

/// A scheduler that only records; tests act through the driver handle.
pub struct Recorder {
    events: Sender<Event>,
}

impl Scheduler for Recorder {
    fn registered(&mut self, _d: &DriverHandle, id: &FrameworkId, _m: &MasterInfo) {
        let _ = self.events.send(Event::Registered(id.clone()));
    }
    fn reregistered(&mut self, _d: &DriverHandle, _m: &MasterInfo) {
        let _ = self.events.send(Event::Reregistered);
    }
    fn disconnected(&mut self, _d: &DriverHandle) {
        let _ = self.events.send(Event::Disconnected);
    }
    fn resource_offers(&mut self, _d: &DriverHandle, offers: Vec<Offer>) {
        let _ = self.events.send(Event::Offers(offers));
    }
    fn offer_rescinded(&mut self, _d: &DriverHandle, offer_id: &OfferId) {
        let _ = self.events.send(Event::Rescinded(offer_id.clone()));
    }
    fn status_update(&mut self, _d: &DriverHandle, status: &TaskStatus) {
        let _ = self.events.send(Event::Update(status.clone()));
    }
    fn framework_message(&mut self, _d: &DriverHandle, _e: &ExecutorId, _a: &AgentId, data: &[u8]) {
        let _ = self.events.send(Event::FrameworkMessage(data.to_vec()));
    }
    fn agent_lost(&mut self, _d: &DriverHandle, agent_id: &AgentId) {
        let _ = self.events.send(Event::AgentLost(agent_id.clone()));
    }
    fn executor_lost(&mut self, _d: &DriverHandle, e: &ExecutorId, _a: &AgentId, status: i32) {
        let _ = self.events.send(Event::ExecutorLost(e.clone(), status));
    }
    fn error(&mut self, _d: &DriverHandle, message: &str) {
        let _ = self.events.send(Event::Error(message.to_string()));
    }
}

/// A scheduler's event stream.
pub struct Events {
    rx: Receiver<Event>,
    /// Events skipped while waiting, for failure messages.
    skipped: Vec<Event>,
}

impl Events {
    /// Waits for the first event `pick` accepts (skipping others); panics with what was seen.
    pub fn wait<T>(&mut self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(event) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                    self.skipped.push(event);
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    panic!("no {what} within {WAIT:?}; seen: {:#?}", self.skipped)
                }
            }
        }
    }

    /// The next batch of offers.
    pub fn offers(&mut self) -> Vec<Offer> {
        self.wait("offers", |e| match e {
            Event::Offers(o) if !o.is_empty() => Some(o.clone()),
            _ => None,
        })
    }

    /// Waits for `task` to reach `state`.
    pub fn state(&mut self, task: &str, state: TaskState) -> TaskStatus {
        self.wait(&format!("{state} for task {task}"), |e| match e {
            Event::Update(s) if s.task_id.as_str() == task && s.state == state => Some(s.clone()),
            _ => None,
        })
    }

    /// Waits for the next update of `task`.
    pub fn update(&mut self, task: &str) -> TaskStatus {
        self.wait(&format!("an update for task {task}"), |e| match e {
            Event::Update(s) if s.task_id.as_str() == task => Some(s.clone()),
            _ => None,
        })
    }

    /// Waits for the registration; returns the framework id.
    pub fn registered(&mut self) -> FrameworkId {
        self.wait("registration", |e| match e {
            Event::Registered(id) => Some(id.clone()),
            _ => None,
        })
    }

    /// Events that arrive within `quiet` (used to check nothing unexpected happens).
    pub fn drain_for(&mut self, quiet: Duration) -> Vec<Event> {
        let deadline = Instant::now() + quiet;
        let mut seen = Vec::new();
        while let Ok(e) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            seen.push(e);
        }
        seen
    }
}

/// A cluster config with short timeouts (allocation every 50 ms, pings every 200 ms x 3).
pub fn fast_config(num_agents: usize, agent_resources: &str) -> LocalConfig {
    ensure_command_executor();
    let mut config = LocalConfig::new(num_agents);
    config.agent_resources = Some(agent_resources.to_string());
    config.master.allocation_interval = Duration::from_millis(50);
    config.master.agent_ping_timeout = Duration::from_millis(200);
    config.master.max_agent_ping_timeouts = 3;
    config.agent.status_update_retry_interval_min = Duration::from_millis(200);
    config.agent.registration_backoff_factor = Duration::from_millis(50);
    config.agent.executor_shutdown_grace_period = Duration::from_millis(500);
    config
}

/// A cluster with `num_agents` agents of `agent_resources` each.
pub fn cluster(num_agents: usize, agent_resources: &str) -> LocalCluster {
    LocalCluster::start(fast_config(num_agents, agent_resources)).expect("cluster starts")
}

/// Driver options for tests: fast re-registration.
pub fn options() -> DriverOptions {
    DriverOptions::default().with_backoff_factor(Duration::from_millis(100))
}

/// Starts a recording driver for `framework` against `cluster`.
pub fn driver(
    cluster: &LocalCluster,
    framework: FrameworkInfo,
    options: DriverOptions,
) -> (SchedulerDriver, Events) {
    driver_at(&cluster.master_address(), framework, options)
}

/// Starts a recording driver against the master at `master`.
pub fn driver_at(
    master: &str,
    framework: FrameworkInfo,
    options: DriverOptions,
) -> (SchedulerDriver, Events) {
    let (tx, rx) = channel();
    let driver = SchedulerDriver::with_options(Recorder { events: tx }, framework, master, options)
        .expect("driver");
    driver.start();
    (
        driver,
        Events {
            rx,
            skipped: Vec::new(),
        },
    )
}

/// A framework named `name`.
pub fn framework(name: &str) -> FrameworkInfo {
    FrameworkInfo::new("", name).with_role("e2e")
}

/// A command task on `offer`'s agent.
pub fn command_task(id: &str, offer: &Offer, command: &str, resources: &str) -> TaskInfo {
    TaskInfo::new(
        id,
        id,
        offer.agent_id.clone(),
        resources.parse().expect("resources"),
    )
    .with_command(CommandInfo::shell(command))
}

#[allow(unused_imports)] // not every test binary needs it
pub use process::testing::profile_dir;

/// Command tasks need the agent's `mesos-executor` binary next to ours; `cargo test -p mesos-local`
/// does not build other packages' binaries, so build it once if missing.
pub fn ensure_command_executor() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        ensure_binary("agent", "mesos-executor");
    });
}

#[allow(unused_imports)] // not every test binary needs it
pub use process::testing::ensure_binary;

/// Filters that refuse nothing: unused resources come straight back in the next allocation.
pub fn no_filter() -> mesos::Filters {
    mesos::Filters::refuse(Duration::ZERO)
}
