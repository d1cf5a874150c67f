//! `recovery-bench [--tasks 100,1000] [--runs 3] [--updates 400] [--work_dir DIR] [--bin_dir DIR]
//! [--keep_work_dir]`:
//! how long an agent restart takes (issue 12).
//!
//! For each `--tasks` N: an in-process master, one real `mesos-agent` process, and a checkpointing
//! framework that runs N command tasks (`exec sleep`, one `mesos-executor` each). Once every task
//! runs and every acknowledgement is on disk, the agent is `kill -9`ed and started again with the
//! same flags and `--work_dir`, `--runs` times. Each restart is timed from the moment the new agent
//! process is spawned:
//!
//! * `recover_ms`: until its `slave/recovering` metric reads 0 (checkpoints read, every executor
//!   reattached and re-registered);
//! * `reregister_ms`: until `slave/registered` reads 1 (the master took it back with its tasks).
//!
//! `checkpoint_us_per_update` is the agent's own durable write of one status-update log record
//! (`MetaWriter::apply`: append, `fdatasync`, and for a new log the directory's fsync), measured
//! `--updates` times in the same work dir (so on the same disk); `fsync_floor_us` is the disk's own
//! price for the same durability (a record-sized append and `fdatasync` to a file kept open), the
//! floor any durable update pays. Prints medians, one line per N:
//!
//! ```text
//! tasks=<n> recover_ms=<x> reregister_ms=<x> checkpoint_us_per_update=<x> checkpoint_p99_us=<x> fsync_floor_us=<x> runs=<r> recover_ms_all=<a,b,..> reregister_ms_all=<a,b,..> lost=<n> fs=<type>
//! ```
//!
//! `lost` counts updates other than STARTING/RUNNING the framework received (a restart must cause
//! none). Exits 1 with a message if a binary is missing or anything does not happen in time.
//! Build the agent's binaries first: `cargo build --release -p agent -p mesos-benches`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent::checkpoint::{Checkpoint, GroupWriter, MetaWriter, RunRef, UpdateRecord};
use clap::Parser;
use mesos::protocol::StatusUpdate;
use mesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use mesos::{
    AgentId, CommandInfo, ContainerId, ExecutorId, Filters, FrameworkId, FrameworkInfo, Offer,
    Resources, TaskId, TaskInfo, TaskState, TaskStatus, Uuid,
};
use mesos_local::{LocalCluster, LocalConfig};

/// Flags of `recovery-bench`.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "recovery-bench",
    about = "Agent restart: recovery and re-registration time with N running checkpointed tasks, \
             and the cost of one durable status update."
)]
struct Flags {
    /// Running tasks on the agent, one measurement series per value (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "100,1000", value_parser = mesos_benches::cli::positive)]
    tasks: Vec<usize>,
    /// Restarts per task count (the medians are printed).
    #[arg(long, default_value = "3", value_parser = mesos_benches::cli::positive)]
    runs: usize,
    /// Durable update-log writes timed for `checkpoint_us_per_update`.
    #[arg(long, default_value = "400", value_parser = mesos_benches::cli::positive)]
    updates: usize,
    /// Group-commit bursts: for each value C, C tasks' update logs each get STARTING, its ack,
    /// RUNNING and its ack through the agent's checkpoint writer, each round handed over at once
    /// (comma-separated; the amortized cost per update is printed).
    #[arg(long, value_delimiter = ',', default_value = "100,1000", value_parser = mesos_benches::cli::positive)]
    burst: Vec<usize>,
    /// Repetitions of each burst (the median is printed).
    #[arg(long, default_value = "5", value_parser = mesos_benches::cli::positive)]
    burst_runs: usize,
    /// Only the bursts (no agent process, no restarts).
    #[arg(long)]
    burst_only: bool,
    /// Where agents keep their work dirs (a real disk: fsync on tmpfs costs nothing).
    #[arg(long, default_value = "target/recovery-bench")]
    work_dir: PathBuf,
    /// Where `mesos-agent` and `mesos-executor` are (default: next to this binary).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Keep each work dir (with `agent.log`, one agent start after another) for a look.
    #[arg(long)]
    keep_work_dir: bool,
}

/// Something did not happen as it must.
#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error("{0} not found in {1} (build it: cargo build --release -p agent)")]
    MissingBinary(&'static str, PathBuf),
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("the master or the scheduler driver did not start: {0}")]
    Master(String),
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
    #[error("a durable update failed: {0}")]
    Checkpoint(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
    let what = what.into();
    move |source| BenchError::Io { what, source }
}

/// Polls `probe` every `every` until it yields, or fails after `limit`.
fn wait_for<T>(
    what: &str,
    limit: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<T, BenchError> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(BenchError::Timeout(limit, what.to_string()));
        }
        std::thread::sleep(every);
    }
}

/// What the framework saw.
#[derive(Default)]
struct Seen {
    launched: usize,
    running: usize,
    /// Updates other than STARTING and RUNNING (a restart must cause none).
    other: Vec<TaskStatus>,
}

/// Launches `total` long-running command tasks and counts what comes back.
struct Launcher {
    total: usize,
    resources: Resources,
    seen: Arc<Mutex<Seen>>,
}

impl Scheduler for Launcher {
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for offer in offers {
            let mut remaining = offer.resources.clone();
            let mut tasks = Vec::new();
            while seen.launched < self.total && remaining.contains(&self.resources) {
                remaining -= &self.resources;
                let id = format!("t{}", seen.launched);
                seen.launched += 1;
                tasks.push(
                    TaskInfo::new(
                        id.clone(),
                        id,
                        offer.agent_id.clone(),
                        self.resources.clone(),
                    )
                    .with_command(CommandInfo::shell("exec sleep 1000000")),
                );
            }
            driver.launch_tasks(vec![offer.id], tasks, Filters::refuse(Duration::ZERO));
        }
    }

    fn status_update(&mut self, _driver: &DriverHandle, status: &TaskStatus) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match status.state {
            TaskState::Running => seen.running += 1,
            TaskState::Starting => {}
            _ => {
                eprintln!(
                    "recovery-bench: task {} {}: {:?}",
                    status.task_id, status.state, status.message
                );
                seen.other.push(status.clone());
            }
        }
    }
}

/// The `mesos-agent` child, restartable with the same flags.
struct AgentProcess {
    command: Vec<String>,
    binary: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    addr: String,
}

impl AgentProcess {
    fn spawn(&mut self) -> Result<(), BenchError> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(io(format!("open {}", self.log.display())))?;
        let out = log
            .try_clone()
            .map_err(io(format!("open {}", self.log.display())))?;
        let child = Command::new(&self.binary)
            .args(&self.command)
            .stdout(out)
            .stderr(log)
            .spawn()
            .map_err(io("start mesos-agent"))?;
        self.child = Some(child);
        Ok(())
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn metrics(&self) -> Option<serde_json::Value> {
        http_json(&self.addr, "/metrics/snapshot")
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A bare HTTP/1.0 GET returning the JSON body.
fn http_json(addr: &str, path: &str) -> Option<serde_json::Value> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    serde_json::from_str(response.split_once("\r\n\r\n")?.1).ok()
}

/// SIGKILLs every process whose `MESOS_DIRECTORY` is under `dir` (what the agents started).
fn kill_processes_under(dir: &Path) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let needle = format!("MESOS_DIRECTORY={}", dir.display());
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| String::from_utf8_lossy(var).starts_with(&needle))
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Every `task.updates` under `dir` holds at least `records` records.
fn logs_with(dir: &Path, records: usize) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_symlink() {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "task.updates")
                && std::fs::read(&p)
                    .ok()
                    .and_then(|b| agent::checkpoint::log::decode(&b).ok())
                    .is_some_and(|d| d.records.len() >= records)
            {
                count += 1;
            }
        }
    }
    count
}

/// The type of the filesystem `path` is on (the longest mount point above it).
fn filesystem(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
            path.starts_with(point)
                .then(|| (point.len(), kind.to_string()))
        })
        .max()
        .map_or_else(|| "unknown".to_string(), |(_, kind)| kind)
}

fn free_port() -> Result<u16, BenchError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(io("find a free port"))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(rank).copied().unwrap_or(0.0)
}

/// The agent's durable write of one update-log record, `updates` times: per task a STARTING
/// update, its ack, a RUNNING update, its ack (the first write creates the log). Microseconds each.
fn time_checkpoints(dir: &Path, updates: usize) -> Result<Vec<f64>, BenchError> {
    let writer = MetaWriter::new(dir);
    let framework_id = FrameworkId::new("bench-framework");
    let mut timings = Vec::with_capacity(updates);
    let mut task = 0;
    while timings.len() < updates {
        let task_id = TaskId::new(format!("t{task}"));
        let run = RunRef {
            agent_id: AgentId::new("bench-agent"),
            framework_id: framework_id.clone(),
            executor_id: ExecutorId::new(format!("t{task}")),
            container_id: ContainerId::new(format!("c{task}")),
        };
        for state in [TaskState::Starting, TaskState::Running] {
            let uuid = Uuid::random();
            let update = StatusUpdate {
                framework_id: framework_id.clone(),
                executor_id: Some(run.executor_id.clone()),
                agent_id: Some(run.agent_id.clone()),
                status: TaskStatus::new(task_id.clone(), state),
                timestamp: 0.0,
                uuid,
            };
            for record in [UpdateRecord::Update(update), UpdateRecord::Ack(uuid)] {
                let checkpoint = Checkpoint::Update {
                    run: run.clone(),
                    task_id: task_id.clone(),
                    record,
                };
                let started = Instant::now();
                writer
                    .apply(&checkpoint)
                    .map_err(|e| BenchError::Checkpoint(e.to_string()))?;
                timings.push(started.elapsed().as_secs_f64() * 1e6);
            }
        }
        task += 1;
    }
    timings.truncate(updates);
    Ok(timings)
}

/// The disk's own price of durability, as a floor for `checkpoint_us_per_update`: one
/// record-sized append plus `fdatasync` to a file kept open, `updates` times. Microseconds each.
fn time_raw_syncs(dir: &Path, updates: usize) -> Result<Vec<f64>, BenchError> {
    std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
    let path = dir.join("raw.log");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io(format!("open {}", path.display())))?;
    let record = [b'x'; 400];
    let mut timings = Vec::with_capacity(updates);
    for _ in 0..updates {
        let started = Instant::now();
        file.write_all(&record)
            .and_then(|()| file.sync_data())
            .map_err(io(format!("append to {}", path.display())))?;
        timings.push(started.elapsed().as_secs_f64() * 1e6);
    }
    Ok(timings)
}

/// One burst through the agent's checkpoint writer ([`GroupWriter`]): `tasks` update logs, four
/// rounds (STARTING, ack, RUNNING, ack), each round's records handed over together and the next
/// round started once the writer reports the last one durable (as the acknowledgements follow
/// the forwarded updates). Returns the wall time and the number of batches the writer made.
fn time_burst(dir: &Path, tasks: usize) -> Result<(Duration, usize), BenchError> {
    let (reports, synced) = std::sync::mpsc::channel();
    let writer = GroupWriter::spawn(MetaWriter::new(dir), 16, move |report| {
        let _ = reports.send(report);
    })
    .map_err(io("start the checkpoint writer"))?;
    let framework_id = FrameworkId::new("bench-framework");
    let runs: Vec<(RunRef, TaskId)> = (0..tasks)
        .map(|n| {
            let run = RunRef {
                agent_id: AgentId::new("bench-agent"),
                framework_id: framework_id.clone(),
                executor_id: ExecutorId::new(format!("t{n}")),
                container_id: ContainerId::new(format!("c{n}")),
            };
            (run, TaskId::new(format!("t{n}")))
        })
        .collect();
    let uuids: Vec<[Uuid; 2]> = (0..tasks)
        .map(|_| [Uuid::random(), Uuid::random()])
        .collect();
    let mut seq = 0u64;
    let mut batches = 0;
    let started = Instant::now();
    for round in 0..4 {
        for ((run, task_id), uuids) in runs.iter().zip(&uuids) {
            let uuid = uuids[round / 2];
            let record = if round % 2 == 0 {
                let state = [TaskState::Starting, TaskState::Running][round / 2];
                UpdateRecord::Update(StatusUpdate {
                    framework_id: framework_id.clone(),
                    executor_id: Some(run.executor_id.clone()),
                    agent_id: Some(run.agent_id.clone()),
                    status: TaskStatus::new(task_id.clone(), state),
                    timestamp: 0.0,
                    uuid,
                })
            } else {
                UpdateRecord::Ack(uuid)
            };
            seq += 1;
            writer.submit(
                seq,
                Checkpoint::Update {
                    run: run.clone(),
                    task_id: task_id.clone(),
                    record,
                },
            );
        }
        loop {
            let report = synced
                .recv_timeout(Duration::from_secs(120))
                .map_err(|_| BenchError::Timeout(Duration::from_secs(120), "a burst".into()))?;
            report
                .result
                .map_err(|e| BenchError::Checkpoint(e.to_string()))?;
            batches += 1;
            if report.through == seq {
                break;
            }
        }
    }
    Ok((started.elapsed(), batches))
}

/// `--burst`: one line per burst size.
fn bursts(flags: &Flags) -> Result<Vec<String>, BenchError> {
    let root = flags
        .work_dir
        .join(format!("bursts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).map_err(io(format!("create {}", root.display())))?;
    let mut lines = Vec::new();
    for &tasks in &flags.burst {
        let mut per_update = Vec::new();
        let mut rates = Vec::new();
        let mut batches = Vec::new();
        for run in 0..flags.burst_runs {
            let dir = root.join(format!("burst-{tasks}-{run}"));
            let (took, made) = time_burst(&dir, tasks)?;
            let updates = (tasks * 4) as f64;
            per_update.push(took.as_secs_f64() * 1e6 / updates);
            rates.push(updates / took.as_secs_f64());
            batches.push(made as f64);
            let _ = std::fs::remove_dir_all(&dir);
        }
        let floor = time_raw_syncs(&root.join("fsync-floor"), 200)?;
        let list = |values: &[f64]| {
            values
                .iter()
                .map(|v| format!("{v:.0}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        lines.push(format!(
            "burst_tasks={tasks} burst_updates={} burst_us_per_update={:.0} burst_updates_per_s={:.0} batches={:.0} fsync_floor_us={:.0} runs={} burst_us_per_update_all={} fs={}",
            tasks * 4,
            median(&per_update),
            median(&rates),
            median(&batches),
            median(&floor),
            flags.burst_runs,
            list(&per_update),
            filesystem(&root),
        ));
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(lines)
}

/// One task count: launch, then `runs` kill -9 / restart cycles. Returns the printed line.
fn run(flags: &Flags, bin_dir: &Path, tasks: usize) -> Result<String, BenchError> {
    let root = flags
        .work_dir
        .join(format!("tasks-{tasks}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).map_err(io(format!("create {}", root.display())))?;
    let root = std::fs::canonicalize(&root).map_err(io("resolve the work dir"))?;
    let result = measure(flags, bin_dir, tasks, &root);
    // Whatever happened, nothing the agents started may outlive the bench.
    kill_processes_under(&root);
    if flags.keep_work_dir {
        eprintln!("recovery-bench: kept {}", root.display());
    } else {
        let _ = std::fs::remove_dir_all(&root);
    }
    result
}

fn measure(flags: &Flags, bin_dir: &Path, tasks: usize, root: &Path) -> Result<String, BenchError> {
    let mut config = LocalConfig::new(0);
    config.work_dir = Some(root.join("master"));
    config.master.allocation_interval = Duration::from_millis(50);
    // Launching N checkpointed tasks costs the agent about a dozen fsyncs each, done in order on
    // its actor; on a busy disk its pongs can wait behind them for longer than Mesos's 75 s.
    // The bench measures restarts, so the master is patient.
    config.master.agent_ping_timeout = Duration::from_secs(60);
    let cluster = LocalCluster::start(config).map_err(|e| BenchError::Master(e.to_string()))?;
    let work_dir = root.join("agent");
    let port = free_port()?;
    let cpus = 1.0 + tasks as f64 * 0.01;
    let mem = 1024 + tasks * 4;
    let mut agent = AgentProcess {
        command: vec![
            format!("--master={}", cluster.master_address()),
            "--ip=127.0.0.1".into(),
            format!("--port={port}"),
            format!("--work_dir={}", work_dir.display()),
            format!("--launcher_dir={}", bin_dir.display()),
            format!("--resources=cpus:{cpus};mem:{mem}"),
            // Generous on a loaded machine; recovery ends as soon as every executor is back.
            "--executor_reregistration_timeout=10secs".into(),
        ],
        binary: bin_dir.join("mesos-agent"),
        log: root.join("agent.log"),
        child: None,
        addr: format!("127.0.0.1:{port}"),
    };
    agent.spawn()?;
    wait_for(
        "the agent to register",
        Duration::from_secs(60),
        Duration::from_millis(20),
        || (agent.metrics()?["slave/registered"] == 1).then_some(()),
    )?;

    let seen = Arc::new(Mutex::new(Seen::default()));
    let launcher = Launcher {
        total: tasks,
        resources: "cpus:0.01;mem:4".parse().unwrap_or_default(),
        seen: seen.clone(),
    };
    let info = FrameworkInfo::new("", "recovery-bench").with_checkpoint(true);
    let master = cluster.master_address();
    let driver = SchedulerDriver::new(launcher, info, &master)
        .map_err(|e| BenchError::Master(e.to_string()))?;
    driver.start();
    let patience = Duration::from_secs(60) + Duration::from_millis(100) * tasks as u32;
    let launch_started = Instant::now();
    wait_for(
        &format!("{tasks} tasks to run"),
        patience,
        Duration::from_millis(50),
        || {
            let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            (seen.running >= tasks).then_some(())
        },
    )?;
    let meta = work_dir.join("meta");
    // STARTING, its ack, RUNNING, its ack: nothing is in flight when the agent dies.
    wait_for(
        "every acknowledgement on disk",
        patience,
        Duration::from_millis(100),
        || (logs_with(&meta, 4) >= tasks).then_some(()),
    )?;
    let launch_s = launch_started.elapsed().as_secs_f64();
    eprintln!("recovery-bench: {tasks} tasks running after {launch_s:.1} s");

    let mut recover_ms = Vec::new();
    let mut reregister_ms = Vec::new();
    for _ in 0..flags.runs {
        agent.kill9();
        let started = Instant::now();
        agent.spawn()?;
        let mut recovered: Option<Duration> = None;
        let registered = wait_for(
            "the restarted agent to recover and re-register",
            patience,
            Duration::from_millis(2),
            || {
                let metrics = agent.metrics()?;
                if recovered.is_none() && metrics["slave/recovering"] == 0 {
                    recovered = Some(started.elapsed());
                }
                (recovered.is_some() && metrics["slave/registered"] == 1).then(|| started.elapsed())
            },
        )?;
        let recovered = recovered.unwrap_or(registered);
        recover_ms.push(recovered.as_secs_f64() * 1e3);
        reregister_ms.push(registered.as_secs_f64() * 1e3);
        let metrics = agent.metrics().unwrap_or_default();
        if metrics["slave/tasks_running"] != tasks {
            eprintln!(
                "recovery-bench: the restarted agent reports {} running tasks, not {tasks}",
                metrics["slave/tasks_running"]
            );
        }
        // Let the master and the executors settle before the next kill.
        std::thread::sleep(Duration::from_millis(300));
    }
    let lost = seen.lock().unwrap_or_else(|e| e.into_inner()).other.len();
    agent.kill9();
    driver.stop(false);

    let timings = time_checkpoints(&root.join("checkpoint-timing"), flags.updates)?;
    let floor = time_raw_syncs(&root.join("fsync-floor"), flags.updates)?;
    let list = |values: &[f64]| {
        values
            .iter()
            .map(|v| format!("{v:.1}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    Ok(format!(
        "tasks={tasks} launch_s={launch_s:.1} recover_ms={:.1} reregister_ms={:.1} checkpoint_us_per_update={:.0} checkpoint_p99_us={:.0} fsync_floor_us={:.0} runs={} recover_ms_all={} reregister_ms_all={} lost={lost} fs={}",
        median(&recover_ms),
        median(&reregister_ms),
        median(&timings),
        percentile(&timings, 0.99),
        median(&floor),
        flags.runs,
        list(&recover_ms),
        list(&reregister_ms),
        filesystem(root),
    ))
}

fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let flags: Flags = mesos_benches::cli::parse();
    let bin_dir = flags.bin_dir.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default()
    });
    for binary in ["mesos-agent", "mesos-executor"] {
        if !flags.burst_only && !bin_dir.join(binary).is_file() {
            eprintln!(
                "recovery-bench: {}",
                BenchError::MissingBinary(binary, bin_dir.clone())
            );
            std::process::exit(1);
        }
    }
    if !flags.burst_only {
        for &tasks in &flags.tasks {
            match run(&flags, &bin_dir, tasks) {
                Ok(line) => println!("{line}"),
                Err(error) => {
                    eprintln!("recovery-bench: {error}");
                    std::process::exit(1);
                }
            }
        }
    }
    match bursts(&flags) {
        Ok(lines) => lines.iter().for_each(|line| println!("{line}")),
        Err(error) => {
            eprintln!("recovery-bench: {error}");
            std::process::exit(1);
        }
    }
}
