//! `ui-bench [--agents 10000] [--tasks 100000] [--frameworks 10]`: the web UI at scale.
//!
//! An in-process master gets `--agents` emulated agents (lightweight actors on one runtime, over
//! real TCP) that re-register carrying `--tasks` running tasks of `--frameworks` scheduler
//! drivers between them, as agents do after a master failover. Headless Chromium (Selenium, from
//! `scripts/browser-env.sh`; `SELENIUM_PYTHON` or `target/selenium-venv`) then loads the
//! dashboard and the tasks page, and one more agent registers while the page is open. It prints
//! `agents= tasks= dashboard_ms= tasks_page_ms= bytes_transferred= update_latency_ms=`
//! (plus `state_bytes=`, the size of `/master/state`, and `summary_bytes=`/`summary_ms=`, the size
//! and the median time of 5 requests of `/webui/summary` made afresh (the master reuses one for
//! 500 ms), which hold the master's core while they are made):
//! `dashboard_ms` from navigation until the
//! dashboard shows every task, `tasks_page_ms` from the click until the tasks table is drawn,
//! `bytes_transferred` what the browser received (encoded), `update_latency_ms` from the new
//! agent's registration until the page counts it. The targets: each page under 3 s,
//! under 5 MB, an update within 2 s.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use master::{Master, MasterConfig};
use mesos::protocol::*;
use mesos::scheduler::{DriverHandle, DriverOptions, Scheduler, SchedulerDriver};
use mesos::{
    AgentId, AgentInfo, FrameworkId, FrameworkInfo, MasterInfo, Offer, Resources, TaskStatus,
};
use mesos_benches::emulated::{self, decline_for_an_hour, running_task};
use process::{Config, Context, Handlers, Process, Runtime, Upid};

/// Flags of `ui-bench`.
#[derive(Debug, clap::Parser)]
#[command(
    rename_all = "snake_case",
    name = "ui-bench",
    about = "The web UI at scale: emulated agents re-register with their tasks, headless Chromium \
             loads the dashboard and the tasks page, and one more agent registers while it is open."
)]
struct Flags {
    /// Emulated agents.
    #[arg(long, default_value_t = 10_000, value_parser = mesos_benches::cli::positive)]
    agents: usize,
    /// Running tasks, spread over the agents.
    #[arg(long, default_value_t = 100_000)]
    tasks: usize,
    /// Scheduler drivers owning the tasks.
    #[arg(long, default_value_t = 10, value_parser = mesos_benches::cli::positive)]
    frameworks: usize,
}

/// An emulated agent: re-registers with its tasks, answers pings.
struct EmulatedAgent {
    master: Upid,
    info: AgentInfo,
    tasks: Vec<(FrameworkInfo, usize)>,
    admitted: Arc<AtomicUsize>,
}

impl EmulatedAgent {
    fn message(&self) -> ReregisterSlaveMessage {
        let agent_id = self.info.id.clone().unwrap_or_else(|| AgentId::new(""));
        let mut tasks = Vec::new();
        let mut executors = Vec::new();
        for (framework, index) in &self.tasks {
            let Some(framework_id) = framework.id.clone() else {
                continue;
            };
            let name = format!("task-{}-{index}", agent_id.as_str());
            let (task, executor) = running_task(&agent_id, framework_id, name);
            tasks.push(task);
            executors.push(executor);
        }
        let mut frameworks: Vec<FrameworkInfo> =
            self.tasks.iter().map(|(f, _)| f.clone()).collect();
        frameworks.dedup_by(|a, b| a.id == b.id);
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
        h.on(|this: &mut Self, _, _, _: SlaveReregisteredMessage| {
            this.admitted.fetch_add(1, Ordering::Relaxed);
        });
        h.on(|this: &mut Self, _, _, m: SlaveRegisteredMessage| {
            this.info.id = Some(m.agent_id);
            this.admitted.fetch_add(1, Ordering::Relaxed);
        });
        h.on(|_: &mut Self, _, _, _: UpdateFrameworkMessage| {});
        h.on(|_: &mut Self, ctx, _, _: PingSlaveMessage| {
            ctx.reply(PongSlaveMessage {});
        });
    }

    fn initialize(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.link(&self.master);
        if self.info.id.is_some() {
            let message = self.message();
            ctx.send(&self.master, message);
        } else {
            let agent = self.info.clone();
            ctx.send(
                &self.master,
                RegisterSlaveMessage {
                    agent,
                    version: mesos::VERSION.to_string(),
                },
            );
        }
    }
}

/// A framework that records its id and declines every offer for an hour.
struct Idle(Arc<Mutex<Option<FrameworkId>>>);

impl Scheduler for Idle {
    fn registered(&mut self, _: &DriverHandle, id: &FrameworkId, _: &MasterInfo) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(id.clone());
        }
    }
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        decline_for_an_hour(driver, offers);
    }
    fn status_update(&mut self, _: &DriverHandle, _: &TaskStatus) {}
}

fn wait_for(what: &str, limit: Duration, done: impl Fn() -> bool) -> Result<(), String> {
    emulated::wait_for(what, limit, Duration::from_millis(5), done)
}

fn selenium_python() -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("SELENIUM_PYTHON") {
        return Ok(python.into());
    }
    let default =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/selenium-venv/bin/python");
    if default.exists() {
        Ok(default)
    } else {
        Err("selenium is missing: run scripts/browser-env.sh (or set SELENIUM_PYTHON)".into())
    }
}

fn run(flags: &Flags) -> Result<String, String> {
    let master_rt = Runtime::new(Config {
        listen: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        ..Config::default()
    })
    .map_err(|e| e.to_string())?;
    let master = Master::spawn(&master_rt, MasterConfig::default()).map_err(|e| e.to_string())?;
    let address = master_rt.addr().to_string();

    let mut drivers = Vec::new();
    let mut frameworks = Vec::new();
    for i in 0..flags.frameworks {
        let slot = Arc::new(Mutex::new(None));
        let info = FrameworkInfo::new("", format!("bench-{i}"));
        let driver = SchedulerDriver::with_options(
            Idle(slot.clone()),
            info.clone(),
            &address,
            DriverOptions::default(),
        )
        .map_err(|e| e.to_string())?;
        driver.start();
        wait_for(
            "a framework's registration",
            Duration::from_secs(30),
            || slot.lock().is_ok_and(|s| s.is_some()),
        )?;
        let mut info = info;
        info.id = slot.lock().map_err(|_| "poisoned")?.clone();
        frameworks.push(info);
        drivers.push(driver);
    }

    let agents_rt = Runtime::new(Config {
        listen: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        ..Config::default()
    })
    .map_err(|e| e.to_string())?;
    let admitted = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let resources: Resources = "cpus:64;mem:262144;disk:100000"
        .parse()
        .map_err(|e| format!("{e}"))?;
    for i in 0..flags.agents {
        let count = flags.tasks / flags.agents + usize::from(i < flags.tasks % flags.agents);
        let tasks = (0..count)
            .map(|t| (frameworks[(i + t) % frameworks.len()].clone(), t))
            .collect();
        let mut info = AgentInfo::new(format!("agent-{i}")).with_resources(resources.clone());
        info.id = Some(AgentId::new(format!("bench-S{i}")));
        agents_rt
            .spawn(
                &format!("slave({})", i + 1),
                EmulatedAgent {
                    master: master.pid().clone(),
                    info,
                    tasks,
                    admitted: admitted.clone(),
                },
            )
            .map_err(|e| e.to_string())?;
    }
    wait_for(
        "the agents' re-registration",
        Duration::from_secs(300),
        || admitted.load(Ordering::Relaxed) == flags.agents,
    )?;
    let state = master.state().to_string();
    let tasks_known: usize = master.state()["frameworks"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| f["tasks"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0);
    eprintln!(
        "ui-bench: {} agents and {tasks_known} tasks admitted in {:.1}s; /master/state is {} bytes",
        flags.agents,
        started.elapsed().as_secs_f64(),
        state.len()
    );

    // What one poll of the big-cluster view costs the master (the core is locked meanwhile).
    let mut client = mesos::v1::client::Client::new(master_rt.addr(), Duration::from_secs(60));
    let mut summary_ms = Vec::new();
    let mut summary_bytes = 0;
    for _ in 0..5 {
        // Past the master's reuse window, so each one is computed.
        std::thread::sleep(master::webui::SUMMARY_REUSE + Duration::from_millis(100));
        let at = Instant::now();
        let reply = client
            .request("GET", "/webui/summary?limit=50", &[], &[])
            .map_err(|e| format!("/webui/summary: {e}"))?;
        summary_ms.push(at.elapsed().as_secs_f64() * 1000.0);
        summary_bytes = reply.body.len();
    }
    summary_ms.sort_by(f64::total_cmp);
    let summary_ms = summary_ms[summary_ms.len() / 2];

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui/ui_bench.py");
    let mut child = Command::new(selenium_python()?)
        .arg(script)
        .args(["--url", &format!("http://{address}/")])
        .args(["--tasks", &tasks_known.to_string()])
        .args(["--agents", &flags.agents.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("python: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let mut result = None;
    for line in lines {
        let line = line.map_err(|e| e.to_string())?;
        if line == "READY" {
            // One more agent registers while the page is open.
            let info =
                AgentInfo::new(format!("agent-{}", flags.agents)).with_resources(resources.clone());
            agents_rt
                .spawn(
                    &format!("slave({})", flags.agents + 1),
                    EmulatedAgent {
                        master: master.pid().clone(),
                        info,
                        tasks: Vec::new(),
                        admitted: admitted.clone(),
                    },
                )
                .map_err(|e| e.to_string())?;
            wait_for("the new agent", Duration::from_secs(30), || {
                admitted.load(Ordering::Relaxed) == flags.agents + 1
            })?;
            writeln!(stdin, "REGISTERED").map_err(|e| e.to_string())?;
            stdin.flush().map_err(|e| e.to_string())?;
        } else if let Some(rest) = line.strip_prefix("RESULT ") {
            result = Some(rest.to_string());
        } else {
            eprintln!("ui-bench: {line}");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("ui_bench.py failed: {status}"));
    }
    for driver in drivers {
        driver.stop(false);
    }
    master.stop();
    let result = result.ok_or("ui_bench.py printed no RESULT")?;
    Ok(format!(
        "agents={} tasks={tasks_known} {result} state_bytes={} summary_bytes={summary_bytes} summary_ms={summary_ms:.1}",
        flags.agents,
        state.len()
    ))
}

fn main() {
    let flags: Flags = mesos_benches::cli::parse();
    match run(&flags) {
        Ok(line) => println!("{line}"),
        Err(error) => {
            eprintln!("ui-bench: {error}");
            std::process::exit(1);
        }
    }
}
