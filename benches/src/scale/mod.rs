//! The paper's scalability experiment (§6.5) for `scale-bench`: one master (a `mesos-master` child
//! process), N emulated agents over real TCP ([`agent`]), and F frameworks that keep launching
//! tasks as theirs end ([`framework`]). [`run`] measures one cluster size: the launch latency
//! (from the scheduler's launch call until TASK_RUNNING reaches it), the master's allocation runs,
//! CPU and memory.

pub mod agent;
pub mod framework;
pub mod master;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverOptions, SchedulerDriver};
use mesos::{FrameworkInfo, Resources};
use process::{Config, Runtime, Upid};

use crate::emulated::wait_for;
use framework::{LaunchStats, LaunchingFramework};
use master::MasterChild;

/// One cluster size to measure.
#[derive(Debug, Clone)]
pub struct ScalePlan {
    /// Emulated agents.
    pub agents: usize,
    /// Frameworks launching tasks.
    pub frameworks: usize,
    /// Tasks each framework keeps running.
    pub tasks_per_framework: usize,
    /// Mean task duration (uniform in half to one and a half times it).
    pub task_duration: Duration,
    /// Every agent's resources.
    pub agent_resources: Resources,
    /// Every task's resources.
    pub task_resources: Resources,
    /// Launching before the measured window (the first offers of every agent are handed out).
    pub warmup: Duration,
    /// The measured window.
    pub window: Duration,
}

/// What one cluster size measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleResult {
    /// Emulated agents registered.
    pub agents: usize,
    /// Frameworks.
    pub frameworks: usize,
    /// Tasks launched in the window.
    pub tasks_launched: usize,
    /// Launches of the window that reached TASK_RUNNING.
    pub tasks_running: usize,
    /// Median launch latency (ms).
    pub launch_p50_ms: f64,
    /// 99th percentile launch latency (ms).
    pub launch_p99_ms: f64,
    /// Median allocation run of the master's latest runs (ms); `None` if it ran none.
    pub allocation_cycle_ms: Option<f64>,
    /// Allocation runs during the window.
    pub allocation_runs: u64,
    /// The master's CPU use over the window (100 = one core).
    pub master_cpu_pct: f64,
    /// The master's resident memory at the end of the window (MB).
    pub master_rss_mb: f64,
    /// Seconds the agents took to register.
    pub register_s: f64,
    /// Tasks that ended in a state other than FINISHED or KILLED.
    pub failed: usize,
}

/// The `p`-th percentile (0..=100) of `values`; 0 when empty.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
    values[rank.min(values.len() - 1)]
}

fn metric(metrics: &serde_json::Value, name: &str) -> Option<f64> {
    metrics.get(name).and_then(serde_json::Value::as_f64)
}

/// Runs one cluster size against the `mesos-master` at `master_binary`.
///
/// # Errors
/// The master, the agents or the frameworks could not start, or did not register in time.
pub fn run(master_binary: &Path, plan: &ScalePlan) -> Result<ScaleResult, String> {
    let master = MasterChild::start(master_binary, Duration::from_secs(30))?;
    let master_pid: Upid = master.upid().parse().map_err(|e| format!("{e}"))?;
    let agents_rt = Runtime::new(Config {
        listen: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        ..Config::default()
    })
    .map_err(|e| e.to_string())?;
    let registered = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    agent::spawn_agents(
        &agents_rt.handle(),
        &master_pid,
        plan.agents,
        &plan.agent_resources,
        plan.task_duration,
        &registered,
    )?;
    // Registration is bound by the master (tens of thousands a second): generous, finite.
    let limit = Duration::from_secs(60) + Duration::from_millis(plan.agents as u64);
    wait_for(
        "agent registration",
        limit,
        Duration::from_millis(10),
        || registered.load(Ordering::Relaxed) >= plan.agents,
    )?;
    let register_s = started.elapsed().as_secs_f64();

    let frameworks_rt = Runtime::new(Config {
        listen: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        ..Config::default()
    })
    .map_err(|e| e.to_string())?;
    let stats = Arc::new(LaunchStats::default());
    let mut drivers = Vec::with_capacity(plan.frameworks);
    for i in 0..plan.frameworks {
        let scheduler = LaunchingFramework::new(
            format!("f{i}"),
            plan.tasks_per_framework,
            plan.task_resources.clone(),
            stats.clone(),
        );
        let driver = SchedulerDriver::with_options(
            scheduler,
            FrameworkInfo::new("", format!("scale-{i}")),
            &master.upid(),
            DriverOptions::default().on_runtime(frameworks_rt.handle()),
        )
        .map_err(|e| e.to_string())?;
        driver.start();
        drivers.push(driver);
    }
    wait_for(
        "framework registration",
        Duration::from_secs(60),
        Duration::from_millis(10),
        || stats.registered.load(Ordering::Relaxed) >= plan.frameworks,
    )?;
    std::thread::sleep(plan.warmup);

    let runs_before = metric(
        &master.metrics(Duration::from_secs(30))?,
        "allocator/mesos/allocation_runs",
    )
    .unwrap_or(0.0);
    let cpu_before = master.cpu_time()?;
    let window_start = Instant::now();
    stats.measuring.store(true, Ordering::Relaxed);
    std::thread::sleep(plan.window);
    stats.measuring.store(false, Ordering::Relaxed);
    let cpu = master.cpu_time()? - cpu_before;
    let wall = window_start.elapsed();
    let master_rss_mb = master.rss_mb()?;
    let metrics = master.metrics(Duration::from_secs(30))?;
    // Launches of the window still on their way get a moment to report RUNNING.
    let launched = stats.launched_measured.load(Ordering::Relaxed);
    let _ = wait_for(
        "the window's launches to run",
        Duration::from_secs(10),
        Duration::from_millis(10),
        || {
            stats
                .latencies_ms
                .lock()
                .map_or(true, |l| l.len() >= launched)
        },
    );
    let mut latencies = stats
        .latencies_ms
        .lock()
        .map_err(|_| "poisoned latencies")?
        .clone();
    for driver in &drivers {
        driver.stop(false);
    }
    Ok(ScaleResult {
        agents: registered.load(Ordering::Relaxed),
        frameworks: plan.frameworks,
        tasks_launched: launched,
        tasks_running: latencies.len(),
        launch_p50_ms: percentile(&mut latencies, 50.0),
        launch_p99_ms: percentile(&mut latencies, 99.0),
        allocation_cycle_ms: metric(&metrics, "allocator/mesos/allocation_run_ms/p50"),
        allocation_runs: (metric(&metrics, "allocator/mesos/allocation_runs").unwrap_or(0.0)
            - runs_before)
            .max(0.0) as u64,
        master_cpu_pct: cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
        master_rss_mb,
        register_s,
        failed: stats.failed.load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let mut values = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(percentile(&mut values, 50.0), 3.0);
        assert_eq!(percentile(&mut values, 0.0), 1.0);
        assert_eq!(percentile(&mut values, 100.0), 5.0);
        assert_eq!(percentile(&mut [], 50.0), 0.0);
    }
}
