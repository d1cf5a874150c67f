//! `failover-bench [--agents 1000] [--frameworks 10] [--session 2secs]`: master failover time,
//! measured as the paper's mean time to recovery, against a real ZooKeeper (Debian's package).
//!
//! The leader is a `mesos-master` child process (so the crash is a real SIGKILL); the standby is an
//! in-process master contending through `mesos_zookeeper::MasterContender`. `--agents` emulated
//! agents (lightweight actors on one runtime, over real TCP to the masters) and `--frameworks`
//! scheduler drivers follow the leader through a `ZooKeeperDetector`. After SIGKILL of the leader
//! it prints `agents=<n> tasks=<n> frameworks=<m> session_timeout_ms=<t> elect_ms=<x>
//! reregister_ms=<y>`: `elect_ms` from the kill until the standby is told it leads (bounded by the
//! session timeout), `reregister_ms` from then until every agent and framework has re-registered.
//! The emulated agents run no tasks (`tasks=0`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use master::{Master, MasterConfig};
use mesos::protocol::*;
use mesos::scheduler::{DriverHandle, MasterDetector, Scheduler, SchedulerDriver};
use mesos::{AgentInfo, FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};
use mesos_zookeeper::testing::ZooKeeperServer;
use mesos_zookeeper::{ContenderEvent, MasterContender, ZooKeeperDetector};
use process::{Config, Context, Handlers, Process, Runtime, Upid};

struct Flags {
    agents: usize,
    frameworks: usize,
    session: Duration,
}

fn parse_flags() -> Result<Flags, String> {
    let mut flags = Flags {
        agents: 1000,
        frameworks: 10,
        session: Duration::from_secs(2),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("missing value for '{name}'"))?;
        let count = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("invalid value for '{name}': expected a count"))
        };
        match name.as_str() {
            "--agents" => flags.agents = count()?,
            "--frameworks" => flags.frameworks = count()?,
            "--session" => {
                flags.session = mesos::duration::parse_duration(&value)
                    .map_err(|e| format!("invalid value for '--session': {e}"))?
            }
            other => {
                return Err(format!(
                    "unknown flag '{other}' (flags: --agents, --frameworks, --session)"
                ))
            }
        }
    }
    Ok(flags)
}

/// Counters shared by the emulated agents and frameworks.
#[derive(Default)]
struct Counts {
    registered: AtomicUsize,
    reregistered: AtomicUsize,
    frameworks_registered: AtomicUsize,
    frameworks_reregistered: AtomicUsize,
}

/// An emulated agent: registers, answers pings, re-registers with a new leader.
struct EmulatedAgent {
    master: Upid,
    info: AgentInfo,
    counts: Arc<Counts>,
}

impl EmulatedAgent {
    fn reregister(&mut self, ctx: &mut Context<'_, Self>, master: Upid) {
        self.master = master;
        ctx.link(&self.master);
        ctx.send(
            &self.master,
            ReregisterSlaveMessage {
                agent: self.info.clone(),
                executors: Vec::new(),
                tasks: Vec::new(),
                frameworks: Vec::new(),
                version: mesos::VERSION.to_string(),
            },
        );
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

/// A framework that only counts its (re)registrations.
struct Counter(Arc<Counts>);

impl Scheduler for Counter {
    fn registered(&mut self, _: &DriverHandle, _: &FrameworkId, _: &MasterInfo) {
        self.0.frameworks_registered.fetch_add(1, Ordering::Relaxed);
    }
    fn reregistered(&mut self, _: &DriverHandle, _: &MasterInfo) {
        self.0
            .frameworks_reregistered
            .fetch_add(1, Ordering::Relaxed);
    }
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        for offer in offers {
            driver.decline_offer(offer.id, mesos::Filters::refuse(Duration::from_secs(3600)));
        }
    }
    fn status_update(&mut self, _: &DriverHandle, _: &TaskStatus) {}
}

fn wait_for(what: &str, limit: Duration, done: impl Fn() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
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
    let elected_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let (handle, stamp) = (standby.clone(), elected_at.clone());
    let _contender = MasterContender::start(
        &url,
        standby.info().clone(),
        flags.session,
        move |event| match event {
            ContenderEvent::LeaderChanged { leader, elected } => {
                if elected {
                    if let Ok(mut at) = stamp.lock() {
                        at.get_or_insert_with(Instant::now);
                    }
                }
                handle.set_leadership(elected, leader);
            }
            ContenderEvent::Fenced { .. } => handle.set_leadership(false, None),
        },
    )
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
                    master: first.clone(),
                    info,
                    counts: counts.clone(),
                },
            )
            .map_err(|e| e.to_string())?;
        agents.push(pid);
    }
    wait_for("agent registration", Duration::from_secs(120), || {
        counts.registered.load(Ordering::Relaxed) == flags.agents
    })?;
    {
        let agents = agents.clone();
        let rt = agents_rt.handle();
        detector.watch(Arc::new(move |leader| {
            let Some(leader) = leader else { return };
            for pid in &agents {
                let leader = leader.clone();
                drop(rt.dispatch(pid, move |agent, ctx| agent.reregister(ctx, leader)));
            }
        }));
    }
    let mut drivers = Vec::new();
    for i in 0..flags.frameworks {
        let framework = FrameworkInfo::new("", format!("bench-{i}"))
            .with_failover_timeout(Duration::from_secs(3600));
        let driver = SchedulerDriver::with_detector(
            Counter(counts.clone()),
            framework,
            detector.clone() as Arc<dyn MasterDetector>,
            mesos::scheduler::DriverOptions::default(),
        )
        .map_err(|e| e.to_string())?;
        driver.start();
        drivers.push(driver);
    }
    wait_for("framework registration", Duration::from_secs(60), || {
        counts.frameworks_registered.load(Ordering::Relaxed) == flags.frameworks
    })?;

    let killed = Instant::now();
    let _ = leader.kill();
    let _ = leader.wait();
    wait_for(
        "the election",
        flags.session * 5 + Duration::from_secs(10),
        || elected_at.lock().map(|at| at.is_some()).unwrap_or(false),
    )?;
    let elected = elected_at
        .lock()
        .map_err(|_| "poisoned")?
        .ok_or("no election")?;
    wait_for("re-registration", Duration::from_secs(300), || {
        counts.reregistered.load(Ordering::Relaxed) >= flags.agents
            && counts.frameworks_reregistered.load(Ordering::Relaxed) >= flags.frameworks
    })?;
    let done = Instant::now();
    for driver in &drivers {
        driver.stop(false);
    }
    Ok(format!(
        "agents={} tasks=0 frameworks={} session_timeout_ms={} elect_ms={} reregister_ms={}",
        flags.agents,
        flags.frameworks,
        flags.session.as_millis(),
        elected.duration_since(killed).as_millis(),
        done.duration_since(elected).as_millis()
    ))
}

fn main() {
    let flags = match parse_flags() {
        Ok(flags) => flags,
        Err(error) => {
            eprintln!("failover-bench: {error}");
            std::process::exit(1);
        }
    };
    match run(&flags) {
        Ok(line) => println!("{line}"),
        Err(error) => {
            eprintln!("failover-bench: {error}");
            std::process::exit(1);
        }
    }
}
