//! `launch-bench [--tasks 1000] [--agent_resources R] [--task_resources R] [--role R]
//! [--security off|on|both] [--rounds 3]`: against an in-process
//! LocalCluster with one agent (POSIX isolation), a framework launches short command tasks (`true`)
//! as fast as offers allow. Prints
//! `tasks=<n> seconds=<s> tasks_per_s=<x> launch_p50_ms=<x> launch_p99_ms=<x> master_rss_mb=<x> cpu_s=<x>`;
//! launch latency is from the scheduler's launch call to TASK_RUNNING. The master shares this
//! process with the agent and the scheduler, so `master_rss_mb` is the whole process's RSS (an
//! upper bound). `cpu_s` is the CPU time (user + system) the run cost: this process and the
//! executors (with their tasks) reaped by the time the last task finished. On a shared machine it
//! moves much less than `seconds` with the load. `--security on` runs it with authentication and
//! mutual TLS (and prints `security=on tls=mutual ...` once it has checked the run was secure);
//! `--security both` alternates off and on rounds and prints the ratio of medians
//! (`mesos_benches::launch_security`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, DriverStatus, Scheduler, SchedulerDriver};
use mesos::{
    CommandInfo, Filters, FrameworkInfo, Offer, Resources, TaskInfo, TaskState, TaskStatus,
};
use mesos_benches::launch_security::{self, SecureCluster, Security};
use mesos_local::{LocalCluster, LocalConfig};

/// Flags of `launch-bench`.
#[derive(Debug, clap::Parser)]
#[command(
    rename_all = "snake_case",
    name = "launch-bench",
    about = "Task launch throughput and latency against an in-process cluster with one agent: a \
             framework launches short command tasks (`true`) as fast as offers allow."
)]
struct Flags {
    /// Tasks to launch.
    #[arg(long, default_value_t = 1000, value_parser = mesos_benches::cli::positive)]
    tasks: usize,
    /// The agent's resources.
    #[arg(long, default_value = "cpus:16;mem:65536;disk:10000")]
    agent_resources: String,
    /// Each task's resources.
    #[arg(long, default_value = "cpus:0.1;mem:32")]
    task_resources: String,
    /// The framework's role.
    #[arg(long, default_value = "*")]
    role: String,
    /// Authentication and mutual TLS: `off`, `on`, or `both` (alternating rounds in fresh
    /// processes; prints each, the medians and the ratio on/off). See `launch_security`.
    #[arg(long, value_enum, default_value_t = Security::Off)]
    security: Security,
    /// Rounds of each mode with `--security both`.
    #[arg(long, default_value_t = 3, value_parser = mesos_benches::cli::positive)]
    rounds: usize,
}

#[derive(Default)]
struct Stats {
    launched_at: HashMap<String, Instant>,
    latencies: Vec<Duration>,
    finished: usize,
    failed: usize,
    launched: usize,
}

struct Launcher {
    /// Print every update with its time (`LAUNCH_BENCH_TRACE=1`).
    trace: bool,
    start: Instant,
    total: usize,
    resources: Resources,
    stats: Arc<Mutex<Stats>>,
}

impl Scheduler for Launcher {
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        let mut stats = self.stats.lock().expect("stats");
        for offer in offers {
            let mut remaining = offer.resources.clone();
            let mut tasks = Vec::new();
            while stats.launched < self.total && remaining.contains(&self.resources) {
                remaining -= &self.resources;
                let id = stats.launched.to_string();
                stats.launched += 1;
                tasks.push(
                    TaskInfo::new(
                        id.clone(),
                        id,
                        offer.agent_id.clone(),
                        self.resources.clone(),
                    )
                    .with_command(CommandInfo::shell("true")),
                );
            }
            let now = Instant::now();
            for task in &tasks {
                stats.launched_at.insert(task.task_id.to_string(), now);
            }
            driver.launch_tasks(vec![offer.id], tasks, Filters::refuse(Duration::ZERO));
        }
    }

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        let mut stats = self.stats.lock().expect("stats");
        if self.trace {
            eprintln!(
                "{:?} {} {}",
                self.start.elapsed(),
                status.task_id,
                status.state
            );
        }
        if status.state == TaskState::Running {
            if let Some(at) = stats.launched_at.remove(status.task_id.as_str()) {
                stats.latencies.push(at.elapsed());
            }
        } else if status.state == TaskState::Finished {
            stats.finished += 1;
        } else if status.state.is_terminal() {
            stats.failed += 1;
            eprintln!(
                "task {} {}: {:?}",
                status.task_id, status.state, status.message
            );
        }
        if stats.finished + stats.failed == self.total {
            driver.stop(false);
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User + system CPU seconds of this process and its reaped children (`/proc/self/stat` fields
/// 14-17, in clock ticks).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let Some((_, fields)) = stat.rsplit_once(')') else {
        return f64::NAN;
    };
    // After the comm: state is field 3, utime 14 ... cstime 17.
    let ticks: u64 = fields
        .split_ascii_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf takes a constant and has no preconditions.
    let hz = unsafe { nix::libc::sysconf(nix::libc::_SC_CLK_TCK) };
    if hz <= 0 {
        return f64::NAN;
    }
    ticks as f64 / hz as f64
}

fn main() {
    let flags: Flags = mesos_benches::cli::parse();
    if flags.security == Security::Both {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let result =
            launch_security::alternate(flags.rounds, &launch_security::args_without_mode(&args));
        if let Err(e) = result {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        return;
    }
    let secure = (flags.security == Security::On).then(SecureCluster::prepare);
    let secure = match secure.transpose() {
        Ok(secure) => secure,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let resources: Resources = match flags.task_resources.parse() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: invalid value for '--task_resources': {e}");
            std::process::exit(1);
        }
    };
    let mut config = LocalConfig::new(1);
    config.agent_resources = Some(flags.agent_resources.clone());
    config.master.allocation_interval = Duration::from_millis(50);
    if let Some(Err(e)) = secure.as_ref().map(|s| s.configure(&mut config)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    let cluster = match LocalCluster::start(config) {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let stats = Arc::new(Mutex::new(Stats::default()));
    let launcher = Launcher {
        trace: std::env::var_os("LAUNCH_BENCH_TRACE").is_some(),
        start: Instant::now(),
        total: flags.tasks,
        resources,
        stats: stats.clone(),
    };
    let driver = SchedulerDriver::with_options(
        launcher,
        FrameworkInfo::new("", "launch-bench").with_role(flags.role.clone()),
        &cluster.master_address(),
        secure
            .as_ref()
            .map(SecureCluster::driver_options)
            .unwrap_or_default(),
    )
    .expect("driver");
    let start = Instant::now();
    let status = driver.run();
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds();
    let rss = rss_mb();
    match secure.as_ref().map(|s| s.verify(&cluster)) {
        Some(Ok(line)) => println!("{line}"),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        None => println!("security=off"),
    }
    drop(driver);
    drop(cluster);
    let stats = stats.lock().expect("stats");
    let mut latencies = stats.latencies.clone();
    latencies.sort();
    println!(
        "tasks={} seconds={:.3} tasks_per_s={:.1} launch_p50_ms={:.2} launch_p99_ms={:.2} master_rss_mb={:.1} cpu_s={:.2}",
        stats.finished,
        seconds,
        stats.finished as f64 / seconds,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        rss,
        cpu
    );
    if status != DriverStatus::Stopped || stats.failed > 0 {
        eprintln!("driver {status}, {} tasks failed", stats.failed);
        std::process::exit(1);
    }
}
