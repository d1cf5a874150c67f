//! [`LaunchingFramework`]: a scheduler that keeps a fixed number of tasks running, launching a new
//! one as soon as one ends, and records each launch's latency (from its `launch_tasks` call until
//! TASK_RUNNING reaches the scheduler).
//!
//! It keeps the offers it does not need yet instead of declining them: a framework that declined
//! with a filter would be offered every agent of a 100,000-agent cluster again and again (agents
//! × frameworks declines), and one that declined without a filter would be offered them every
//! allocation run. Held, they cost nothing until used; freed resources come back as new offers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mesos::scheduler::{DriverHandle, Scheduler};
use mesos::{CommandInfo, FrameworkId, MasterInfo, Offer, OfferId, Resources, TaskId, TaskInfo};
use mesos::{TaskState, TaskStatus};

/// What every framework of a run adds to.
#[derive(Debug, Default)]
pub struct LaunchStats {
    /// Frameworks registered.
    pub registered: AtomicUsize,
    /// Tasks launched (every launch call, in or out of the measured window).
    pub launched: AtomicUsize,
    /// Launches that failed (a terminal state other than FINISHED or KILLED).
    pub failed: AtomicUsize,
    /// Whether latencies are being recorded (the measured window).
    pub measuring: AtomicBool,
    /// Launch latencies (ms) recorded while measuring.
    pub latencies_ms: Mutex<Vec<f64>>,
    /// Launches made while measuring.
    pub launched_measured: AtomicUsize,
}

/// A framework that keeps `target` tasks running (see the [module docs](self)).
pub struct LaunchingFramework {
    name: String,
    target: usize,
    task_resources: Resources,
    stats: Arc<LaunchStats>,
    /// Offers held for later launches.
    held: Vec<Offer>,
    /// Tasks launched and not yet ended, with their launch time until they run.
    in_flight: HashMap<TaskId, Option<(Instant, bool)>>,
    next_task: u64,
}

impl LaunchingFramework {
    /// A framework named `name` keeping `target` tasks of `task_resources` running.
    pub fn new(
        name: String,
        target: usize,
        task_resources: Resources,
        stats: Arc<LaunchStats>,
    ) -> LaunchingFramework {
        LaunchingFramework {
            name,
            target,
            task_resources,
            stats,
            held: Vec::new(),
            in_flight: HashMap::new(),
            next_task: 0,
        }
    }

    /// Launches tasks on held offers until `target` are in flight or no held offer fits one.
    fn launch(&mut self, driver: &DriverHandle) {
        while self.in_flight.len() < self.target {
            let Some(at) = self
                .held
                .iter()
                .rposition(|o| o.resources.contains(&self.task_resources))
            else {
                return;
            };
            let offer = self.held.swap_remove(at);
            let task_id = TaskId::new(format!("{}-{}", self.name, self.next_task));
            self.next_task += 1;
            let task = TaskInfo::new(
                task_id.clone(),
                task_id.as_str(),
                offer.agent_id.clone(),
                self.task_resources.clone(),
            )
            .with_command(CommandInfo::shell("sleep 3"));
            let measured = self.stats.measuring.load(Ordering::Relaxed);
            self.in_flight
                .insert(task_id, Some((Instant::now(), measured)));
            self.stats.launched.fetch_add(1, Ordering::Relaxed);
            if measured {
                self.stats.launched_measured.fetch_add(1, Ordering::Relaxed);
            }
            driver.launch_tasks(vec![offer.id], vec![task], mesos::Filters::default());
        }
    }
}

impl Scheduler for LaunchingFramework {
    fn registered(&mut self, _: &DriverHandle, _: &FrameworkId, _: &MasterInfo) {
        self.stats.registered.fetch_add(1, Ordering::Relaxed);
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        self.held.extend(offers);
        self.launch(driver);
    }

    fn offer_rescinded(&mut self, _: &DriverHandle, offer_id: &OfferId) {
        self.held.retain(|o| o.id != *offer_id);
    }

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        if status.state == TaskState::Running {
            if let Some(slot) = self.in_flight.get_mut(&status.task_id) {
                if let Some((launched, measured)) = slot.take() {
                    if measured {
                        let ms = launched.elapsed().as_secs_f64() * 1e3;
                        if let Ok(mut latencies) = self.stats.latencies_ms.lock() {
                            latencies.push(ms);
                        }
                    }
                }
            }
            return;
        }
        if status.state.is_terminal() && self.in_flight.remove(&status.task_id).is_some() {
            if !matches!(status.state, TaskState::Finished | TaskState::Killed) {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
            }
            self.launch(driver);
        }
    }
}
