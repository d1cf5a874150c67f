//! `failover-bench [--agents 1000] [--tasks_per_agent 0] [--frameworks 10] [--session 2secs]
//! [--framework_backoff 2secs]`:
//! master failover time, measured as the paper's mean time to recovery, against a real ZooKeeper
//! (Debian's package).
//!
//! The leader is a `mesos-master` child process (so the crash is a real SIGKILL); the standby is an
//! in-process master in the election through `master::ha::join_election` (so it reads the agent
//! registry the leader published and holds offers until those agents are back). `--agents` emulated
//! agents (lightweight actors on one runtime, over real TCP to the masters) and `--frameworks`
//! scheduler drivers follow the leader through a `ZooKeeperDetector`. After SIGKILL of the leader
//! it prints `agents=<n> tasks=<n> frameworks=<m> session_timeout_ms=<t> elect_ms=<x>
//! reregister_ms=<y>`: `elect_ms` from the kill until the standby is told it leads (bounded by the
//! session timeout), `reregister_ms` from then until every agent and framework has re-registered
//! (and the new leader has admitted them all), `reregister_cpu_ms` the CPU time this process (the
//! new leader, the agents, the drivers) used meanwhile. Each emulated agent re-registers with
//! `--tasks_per_agent` running tasks of the frameworks (round robin), as a real agent would; it
//! builds that report before the kill (a real agent has its state at hand, on its own machine).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use master::{Master, MasterConfig};
use mesos::protocol::*;
use mesos::scheduler::{DriverHandle, MasterDetector, Scheduler, SchedulerDriver};
use mesos::{AgentId, AgentInfo, FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};
use mesos_benches::emulated::{self, decline_for_an_hour, running_task};
use mesos_benches::scale::master::cpu_time_of;
use mesos_zookeeper::testing::ZooKeeperServer;
use mesos_zookeeper::ZooKeeperDetector;
use process::{Config, Context, Handlers, Process, Runtime, Upid};

/// Flags of `failover-bench`.
#[derive(Debug, clap::Parser)]
#[command(
    rename_all = "snake_case",
    name = "failover-bench",
    about = "Master failover time against a real ZooKeeper: SIGKILL of the leading master, then \
             the time until a standby leads and every agent and framework has re-registered."
)]
struct Flags {
    /// Emulated agents following the leader.
    #[arg(long, default_value_t = 1000, value_parser = mesos_benches::cli::positive)]
    agents: usize,
    /// Running tasks each emulated agent re-registers with.
    #[arg(long, default_value_t = 0)]
    tasks_per_agent: usize,
    /// Scheduler drivers following the leader.
    #[arg(long, default_value_t = 10, value_parser = mesos_benches::cli::positive)]
    frameworks: usize,
    /// The masters' ZooKeeper session timeout (e.g. `2secs`, `500ms`).
    #[arg(long, default_value = "2secs", value_parser = mesos_benches::cli::duration)]
    session: Duration,
    /// The drivers' registration backoff factor (e.g. `2secs`).
    #[arg(long, default_value = "2secs", value_parser = mesos_benches::cli::duration)]
    framework_backoff: Duration,
}

/// Counters shared by the emulated agents and frameworks.
#[derive(Default)]
struct Counts {
    registered: AtomicUsize,
    reregistered: AtomicUsize,
    frameworks_registered: AtomicUsize,
    frameworks_reregistered: AtomicUsize,
    prepared: AtomicUsize,
}

/// An emulated agent: registers, answers pings, re-registers with a new leader.
struct EmulatedAgent {
    index: usize,
    master: Upid,
    info: AgentInfo,
    tasks_per_agent: usize,
    counts: Arc<Counts>,
    /// Its re-registration, built before the failover: a real agent has its state at hand (and
    /// runs on its own machine), so building it must not compete with the new leader.
    prepared: Option<ReregisterSlaveMessage>,
}

impl EmulatedAgent {
    /// Builds the re-registration (see [`EmulatedAgent::prepared`]).
    fn prepare(&mut self, frameworks: &[FrameworkInfo]) {
        self.prepared = Some(self.report(frameworks));
        self.counts.prepared.fetch_add(1, Ordering::Relaxed);
    }

    /// Re-registers with `master` (see [`EmulatedAgent::report`]).
    fn reregister(
        &mut self,
        ctx: &mut Context<'_, Self>,
        master: Upid,
        frameworks: &[FrameworkInfo],
    ) {
        self.master = master;
        ctx.link(&self.master);
        let message = match self.prepared.take() {
            Some(message) => message,
            None => self.report(frameworks),
        };
        ctx.send(&self.master, message);
    }

    /// Its re-registration: `tasks_per_agent` running command tasks of `frameworks` (round
    /// robin), each with its executor, as a real agent reports them.
    fn report(&self, frameworks: &[FrameworkInfo]) -> ReregisterSlaveMessage {
        let agent_id = self.info.id.clone().unwrap_or_else(|| AgentId::new(""));
        let mut tasks = Vec::with_capacity(self.tasks_per_agent);
        let mut executors = Vec::with_capacity(self.tasks_per_agent);
        let mut used = BTreeSet::new();
        for t in 0..self.tasks_per_agent {
            let which = (self.index + t) % frameworks.len().max(1);
            let Some(framework) = frameworks.get(which) else {
                break;
            };
            let Some(framework_id) = framework.id.clone() else {
                continue;
            };
            used.insert(which);
            let name = format!("task-{}-{t}", self.index);
            let (task, executor) = running_task(&agent_id, framework_id, name);
            tasks.push(task);
            executors.push(executor);
        }
        let frameworks = used.into_iter().map(|i| frameworks[i].clone()).collect();
        ReregisterSlaveMessage {
            agent: self.info.clone(),
            executors,
            tasks,
            frameworks,
            version: mesos::VERSION.to_string(),
        }
    }
}

impl Process for EmulatedAgent {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(|this: &mut Self, _, _, m: SlaveRegisteredMessage| {
            this.info.id = Some(m.agent_id);
            this.counts.registered.fetch_add(1, Ordering::Relaxed);
        });
        h.on(|this: &mut Self, _, _, _: SlaveReregisteredMessage| {
            this.counts.reregistered.fetch_add(1, Ordering::Relaxed);
        });
        // A re-registered framework's new pid, told to every agent running its tasks; an
        // emulated agent has no executors to pass it on to.
        h.on(|_: &mut Self, _, _, _: UpdateFrameworkMessage| {});
        h.on(|_: &mut Self, ctx, _, _: PingSlaveMessage| {
            ctx.reply(PongSlaveMessage {});
        });
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

/// A framework that only counts its (re)registrations and records its id.
struct Counter(Arc<Counts>, Arc<Mutex<Vec<FrameworkId>>>);

impl Scheduler for Counter {
    fn registered(&mut self, _: &DriverHandle, id: &FrameworkId, _: &MasterInfo) {
        if let Ok(mut ids) = self.1.lock() {
            ids.push(id.clone());
        }
        self.0.frameworks_registered.fetch_add(1, Ordering::Relaxed);
    }
    fn reregistered(&mut self, _: &DriverHandle, _: &MasterInfo) {
        self.0
            .frameworks_reregistered
            .fetch_add(1, Ordering::Relaxed);
    }
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        decline_for_an_hour(driver, offers);
    }
    fn status_update(&mut self, _: &DriverHandle, _: &TaskStatus) {}
}

fn wait_for(what: &str, limit: Duration, done: impl Fn() -> bool) -> Result<(), String> {
    emulated::wait_for(what, limit, Duration::from_millis(2), done)
}

fn mesos_master_binary() -> Result<std::path::PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no binary directory")?;
    let binary = dir.join("mesos-master");
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!(
            "{} is missing: cargo build --release -p master",
            binary.display()
        ))
    }
}

fn run(flags: &Flags) -> Result<String, String> {
    let zk = ZooKeeperServer::start().map_err(|e| format!("zookeeper: {e}"))?;
    let zk_url = ZooKeeperServer::url(&[&zk], "/mesos");
    let url = zk_url.parse().map_err(|e| format!("{e}"))?;
    let session_arg = format!("{}ms", flags.session.as_millis());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    drop(listener);
    let mut leader = std::process::Command::new(mesos_master_binary()?)
        .args([
            "--ip=127.0.0.1".to_string(),
            format!("--port={port}"),
            format!("--zk={zk_url}"),
            "--quorum=1".to_string(),
            format!("--zk_session_timeout={session_arg}"),
        ])
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("mesos-master: {e}"))?;
    let detector =
        Arc::new(ZooKeeperDetector::start(&url, flags.session).map_err(|e| e.to_string())?);
    let first = detector
        .wait_for_leader(Duration::from_secs(30))
        .ok_or("no leader elected")?;

    // The standby, in-process: its election time is observed exactly.
    let standby_rt = Runtime::new(Config {
        listen: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        ..Config::default()
    })
    .map_err(|e| e.to_string())?;
    let standby = Master::spawn(
        &standby_rt,
        MasterConfig {
            standby: true,
            ..MasterConfig::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let _election = master::ha::join_election(&url, &standby, flags.session, |_| {})
        .map_err(|e| e.to_string())?;
    // Ensure the standby is in line before the kill.
    wait_for(
        "the standby's view of the leader",
        Duration::from_secs(30),
        || standby.state()["leader"] == first.to_string(),
    )?;

    // Emulated agents on one runtime.
    let counts = Arc::new(Counts::default());
    let agents_rt = Runtime::new(Config {
        listen: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        ..Config::default()
    })
    .map_err(|e| e.to_string())?;
    let mut agents = Vec::with_capacity(flags.agents);
    for i in 0..flags.agents {
        let info = AgentInfo::new(format!("agent-{i}"))
            .with_resources("cpus:8;mem:16384".parse().map_err(|e| format!("{e}"))?);
        let pid = agents_rt
            .spawn(
                &format!("slave({})", i + 1),
                EmulatedAgent {
                    index: i,
                    master: first.clone(),
                    info,
                    tasks_per_agent: flags.tasks_per_agent,
                    counts: counts.clone(),
                    prepared: None,
                },
            )
            .map_err(|e| e.to_string())?;
        agents.push(pid);
    }
    wait_for("agent registration", Duration::from_secs(120), || {
        counts.registered.load(Ordering::Relaxed) == flags.agents
    })?;
    let mut drivers = Vec::new();
    let framework_ids: Arc<Mutex<Vec<FrameworkId>>> = Arc::default();
    for i in 0..flags.frameworks {
        let framework = FrameworkInfo::new("", format!("bench-{i}"))
            .with_failover_timeout(Duration::from_secs(3600));
        let driver = SchedulerDriver::with_detector(
            Counter(counts.clone(), framework_ids.clone()),
            framework,
            detector.clone() as Arc<dyn MasterDetector>,
            mesos::scheduler::DriverOptions::default().with_backoff_factor(flags.framework_backoff),
        )
        .map_err(|e| e.to_string())?;
        driver.start();
        drivers.push(driver);
    }
    wait_for("framework registration", Duration::from_secs(60), || {
        counts.frameworks_registered.load(Ordering::Relaxed) == flags.frameworks
    })?;
    // The agents' tasks belong to these frameworks; they follow the leader like real agents.
    let frameworks: Arc<Vec<FrameworkInfo>> = Arc::new(
        framework_ids
            .lock()
            .map_err(|_| "poisoned")?
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let mut info = FrameworkInfo::new("", format!("bench-{i}"))
                    .with_failover_timeout(Duration::from_secs(3600));
                info.id = Some(id.clone());
                info
            })
            .collect(),
    );
    for pid in &agents {
        let frameworks = frameworks.clone();
        drop(
            agents_rt
                .handle()
                .dispatch(pid, move |agent, _| agent.prepare(&frameworks)),
        );
    }
    wait_for(
        "the agents' re-registrations",
        Duration::from_secs(300),
        || counts.prepared.load(Ordering::Relaxed) == flags.agents,
    )?;
    {
        let agents = agents.clone();
        let rt = agents_rt.handle();
        detector.watch(Arc::new(move |leader| {
            let Some(leader) = leader else { return };
            for pid in &agents {
                let (leader, frameworks) = (leader.clone(), frameworks.clone());
                drop(rt.dispatch(pid, move |agent, ctx| {
                    agent.reregister(ctx, leader, &frameworks)
                }));
            }
        }));
    }

    // The leader publishes its agent registry within a moment of a change; a real cluster's
    // registry is current, so wait for it before the crash.
    wait_for(
        "the leader's agent registry",
        Duration::from_secs(60),
        || {
            mesos_zookeeper::read_agent_registry(&url, flags.session)
                .is_ok_and(|agents| agents.len() == flags.agents)
        },
    )?;
    eprintln!(
        "failover-bench: {} agents registered, registry published; killing the leader",
        flags.agents
    );
    let killed = Instant::now();
    let bench_pid = std::process::id();
    let _ = leader.kill();
    let _ = leader.wait();
    // Polled every 2 ms: the election is timed to within that.
    wait_for(
        "the election",
        flags.session * 5 + Duration::from_secs(10),
        || standby.is_elected(),
    )?;
    let elected = Instant::now();
    let cpu_at_election = cpu_time_of(bench_pid)?;
    eprintln!(
        "failover-bench: standby elected after {} ms",
        elected.duration_since(killed).as_millis()
    );
    let mut progress_at = elected + Duration::from_secs(5);
    // Polled every 2 ms: when the agents are back, when the frameworks are, when offers resume.
    let (mut agents_at, mut frameworks_at, mut offers_at) = (None, None, None);
    let limit = elected + Duration::from_secs(600);
    while agents_at.is_none() || frameworks_at.is_none() {
        let now = Instant::now();
        if now > limit {
            return Err(format!(
                "timed out waiting for re-registration: {} of {} agents and {} of {} frameworks back",
                counts.reregistered.load(Ordering::Relaxed),
                flags.agents,
                counts.frameworks_reregistered.load(Ordering::Relaxed),
                flags.frameworks
            ));
        }
        if now > progress_at {
            progress_at = now + Duration::from_secs(5);
            eprintln!(
                "failover-bench: {} of {} agents and {} of {} frameworks back after {} ms",
                counts.reregistered.load(Ordering::Relaxed),
                flags.agents,
                counts.frameworks_reregistered.load(Ordering::Relaxed),
                flags.frameworks,
                now.duration_since(elected).as_millis()
            );
        }
        if agents_at.is_none() && counts.reregistered.load(Ordering::Relaxed) >= flags.agents {
            agents_at = Some(now);
        }
        if frameworks_at.is_none()
            && counts.frameworks_reregistered.load(Ordering::Relaxed) >= flags.frameworks
        {
            frameworks_at = Some(now);
        }
        if offers_at.is_none() && !standby.holding_offers() {
            offers_at = Some(now);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let done = agents_at.max(frameworks_at).unwrap_or_else(Instant::now);
    // What the new leader, the agents and the drivers used (all in this process; the old leader
    // is dead): the CPU cost of the re-registration, which a loaded machine disturbs far less
    // than the wall time.
    let reregister_cpu = cpu_time_of(bench_pid)?.saturating_sub(cpu_at_election);
    let since = |at: Option<Instant>| at.map_or(0, |at| at.duration_since(elected).as_millis());
    for driver in &drivers {
        driver.stop(false);
    }
    Ok(format!(
        "agents={} tasks={} frameworks={} session_timeout_ms={} elect_ms={} reregister_ms={} reregister_cpu_ms={} agents_back_ms={} frameworks_back_ms={} offers_resumed_ms={} framework_backoff_ms={}",
        flags.agents,
        flags.agents * flags.tasks_per_agent,
        flags.frameworks,
        flags.session.as_millis(),
        elected.duration_since(killed).as_millis(),
        done.duration_since(elected).as_millis(),
        reregister_cpu.as_millis(),
        since(agents_at),
        since(frameworks_at),
        since(offers_at),
        flags.framework_backoff.as_millis(),
    ))
}

fn main() {
    // Warnings (a closed connection, a dropped message) explain a stall; RUST_LOG=info for more.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let flags: Flags = mesos_benches::cli::parse();
    match run(&flags) {
        Ok(line) => println!("{line}"),
        Err(error) => {
            eprintln!("failover-bench: {error}");
            std::process::exit(1);
        }
    }
}
