//! `api-bench [--tasks 1000] [--runs 1] [--agents 10000] [--tasks_per_agent 10] [--skip_state]
//! [--skip_launch] [--state_runs 1] [--state_endpoints state,get_state,...]`:
//! the v1 HTTP APIs against our Rust driver, measured in one run.
//!
//! 1. Launch: an in-process `mesos-local` with one agent (`cpus:16;mem:65536`); the same
//!    `--tasks` `true` command tasks (`cpus:0.1;mem:32`) are launched through our scheduler
//!    driver and through `POST /api/v1/scheduler` (a RecordIO stream, ACCEPT and ACKNOWLEDGE
//!    calls on a kept-alive connection), alternating, `--runs` times each. One line per run:
//!    `api=driver|http tasks= seconds= tasks_per_s= update_events_per_s=` (seconds from start to
//!    the last TASK_FINISHED).
//! 2. State: a master with `--agents` emulated agents (actors over real TCP) re-registering with
//!    `--tasks_per_agent` running tasks each; `/master/state` and the operator's GET_STATE are
//!    fetched while a probe keeps calling the master (`POST /api/v1/scheduler` for an unknown
//!    framework, answered on the master actor under the core's lock). One line per endpoint:
//!    `state agents= tasks= state_ms= state_mb= master_stall_ms= endpoint=`, the stall being the
//!    probe's longest answer while the state was served. With `--state_runs N` every endpoint is
//!    fetched N times (in turn) and the line gives the medians, then every run
//!    (`state_ms_all=`, `stall_ms_all=`). `--state_endpoints` picks from `state` (`/master/state`),
//!    `get_state` (GET_STATE), `tasks` (`/master/tasks?limit=-1`), `state_summary`
//!    (`/master/state-summary`), `get_tasks` (GET_TASKS), `webui_summary` (`/webui/summary`) and
//!    `subscribe` (operator SUBSCRIBE, timed to the SUBSCRIBED event, parsed); the default is
//!    `state,get_state`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use master::{Master, MasterConfig};
use mesos::protocol::*;
use mesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use mesos::v1::client::{subscribe, Client};
use mesos::{
    AgentId, AgentInfo, CommandInfo, Filters, FrameworkId, FrameworkInfo, Offer, Resources, TaskId,
    TaskInfo, TaskState, TaskStatus,
};
use mesos_local::{LocalCluster, LocalConfig};
use process::{Config, Context, Handlers, Process, Runtime};
use serde_json::{json, Value as Json};

/// Flags of `api-bench`.
#[derive(Debug, clap::Parser)]
#[command(
    rename_all = "snake_case",
    name = "api-bench",
    about = "The v1 HTTP APIs against our Rust driver, measured in one run: task launch through \
             the driver and through POST /api/v1/scheduler, then the master's heavy state readers."
)]
struct Flags {
    /// Tasks launched per run and API.
    #[arg(long, default_value_t = 1000, value_parser = mesos_benches::cli::positive)]
    tasks: usize,
    /// Launch runs per API (driver and HTTP alternate).
    #[arg(long, default_value_t = 1, value_parser = mesos_benches::cli::positive)]
    runs: usize,
    /// Emulated agents of the state experiment.
    #[arg(long, default_value_t = 10_000, value_parser = mesos_benches::cli::positive)]
    agents: usize,
    /// Running tasks each emulated agent re-registers with.
    #[arg(long, default_value_t = 10)]
    tasks_per_agent: usize,
    /// Skip the state experiment.
    #[arg(long)]
    skip_state: bool,
    /// Skip the launch experiment.
    #[arg(long)]
    skip_launch: bool,
    /// Fetches of every state endpoint (in turn); the line gives the medians and every run.
    #[arg(long, default_value_t = 1, value_parser = mesos_benches::cli::positive)]
    state_runs: usize,
    /// The state readers to time, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "state,get_state")]
    state_endpoints: Vec<StateEndpoint>,
}

/// The heavy readers `--state_endpoints` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
enum StateEndpoint {
    /// `/master/state`
    State,
    /// the operator's GET_STATE
    GetState,
    /// `/master/tasks?limit=-1`
    Tasks,
    /// `/master/state-summary`
    StateSummary,
    /// the operator's GET_TASKS
    GetTasks,
    /// `/webui/summary`
    WebuiSummary,
    /// operator SUBSCRIBE, timed to the SUBSCRIBED event, parsed
    Subscribe,
}

impl StateEndpoint {
    fn name(self) -> &'static str {
        match self {
            StateEndpoint::State => "state",
            StateEndpoint::GetState => "get_state",
            StateEndpoint::Tasks => "tasks",
            StateEndpoint::StateSummary => "state_summary",
            StateEndpoint::GetTasks => "get_tasks",
            StateEndpoint::WebuiSummary => "webui_summary",
            StateEndpoint::Subscribe => "subscribe",
        }
    }
}

const TASK: &str = "cpus:0.1;mem:32";

fn cluster() -> Result<LocalCluster, String> {
    let mut config = LocalConfig::new(1);
    config.agent_resources = Some("cpus:16;mem:65536;disk:10000".into());
    config.master.allocation_interval = Duration::from_millis(50);
    LocalCluster::start(config).map_err(|e| e.to_string())
}

/// Launches as many tasks as the offer holds, up to `total`.
fn fill(offer_resources: &Resources, launched: &mut usize, total: usize) -> Vec<TaskId> {
    let task: Resources = TASK.parse().unwrap_or_default();
    let mut remaining = offer_resources.clone();
    let mut ids = Vec::new();
    while *launched < total && remaining.contains(&task) {
        remaining -= &task;
        ids.push(TaskId::new(launched.to_string()));
        *launched += 1;
    }
    ids
}

#[derive(Default)]
struct Counts {
    launched: AtomicUsize,
    finished: AtomicUsize,
    updates: AtomicUsize,
}

struct DriverLauncher {
    total: usize,
    counts: Arc<Counts>,
    launched: usize,
}

impl Scheduler for DriverLauncher {
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        for offer in offers {
            let tasks = fill(&offer.resources, &mut self.launched, self.total)
                .into_iter()
                .map(|id| {
                    TaskInfo::new(
                        id.clone(),
                        id.to_string(),
                        offer.agent_id.clone(),
                        TASK.parse().unwrap_or_default(),
                    )
                    .with_command(CommandInfo::shell("true"))
                })
                .collect();
            driver.launch_tasks(vec![offer.id], tasks, Filters::refuse(Duration::ZERO));
        }
        self.counts.launched.store(self.launched, Ordering::Relaxed);
    }

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        self.counts.updates.fetch_add(1, Ordering::Relaxed);
        if status.state == TaskState::Finished
            && self.counts.finished.fetch_add(1, Ordering::Relaxed) + 1 == self.total
        {
            driver.stop(false);
        }
    }
}

fn run_driver(tasks: usize) -> Result<(f64, usize), String> {
    let cluster = cluster()?;
    let counts = Arc::new(Counts::default());
    let driver = SchedulerDriver::new(
        DriverLauncher {
            total: tasks,
            counts: counts.clone(),
            launched: 0,
        },
        FrameworkInfo::new("", "api-bench-driver"),
        &cluster.master_address(),
    )
    .map_err(|e| e.to_string())?;
    let start = Instant::now();
    driver.run();
    let seconds = start.elapsed().as_secs_f64();
    let finished = counts.finished.load(Ordering::Relaxed);
    if finished != tasks {
        return Err(format!("driver: {finished} of {tasks} tasks finished"));
    }
    Ok((seconds, counts.updates.load(Ordering::Relaxed)))
}

fn run_http(tasks: usize) -> Result<(f64, usize), String> {
    let cluster = cluster()?;
    let addr: SocketAddr = cluster
        .master_address()
        .parse()
        .map_err(|e| format!("{e}"))?;
    let start = Instant::now();
    let call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "", "name": "api-bench-http"}}});
    let mut stream = subscribe(
        addr,
        "/api/v1/scheduler",
        &[],
        &call,
        Duration::from_secs(60),
    )
    .map_err(|e| e.to_string())?
    .map_err(|r| format!("subscribe refused: {} {}", r.status, r.text()))?;
    let stream_id = stream.stream_id().unwrap_or_default().to_string();
    let mut client = Client::new(addr, Duration::from_secs(60));
    let (mut framework_id, mut launched, mut finished, mut updates) = (Json::Null, 0, 0, 0);
    let post = |client: &mut Client, mut body: Json, framework_id: &Json| {
        body["framework_id"] = framework_id.clone();
        match client.post(
            "/api/v1/scheduler",
            &[("Mesos-Stream-Id", &stream_id)],
            &body,
        ) {
            Ok(reply) if reply.status == 202 => Ok(()),
            Ok(reply) => Err(format!(
                "{}: {} {}",
                body["type"],
                reply.status,
                reply.text()
            )),
            Err(e) => Err(e.to_string()),
        }
    };
    while finished < tasks {
        let event = stream
            .next_event()
            .map_err(|e| e.to_string())?
            .ok_or("the stream ended")?;
        match event["type"].as_str() {
            Some("SUBSCRIBED") => framework_id = event["subscribed"]["framework_id"].clone(),
            Some("OFFERS") => {
                for offer in event["offers"]["offers"].as_array().into_iter().flatten() {
                    let resources: Resources =
                        serde_json::from_value(offer["resources"].clone()).unwrap_or_default();
                    let task_infos: Vec<Json> = fill(&resources, &mut launched, tasks)
                        .into_iter()
                        .map(|id| json!({"name": id.as_str(), "task_id": {"value": id.as_str()},
                            "agent_id": offer["agent_id"], "command": {"value": "true"},
                            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}]}))
                        .collect();
                    post(
                        &mut client,
                        json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
                        "operations": [{"type": "LAUNCH", "launch": {"task_infos": task_infos}}],
                        "filters": {"refuse_seconds": 0}}}),
                        &framework_id,
                    )?;
                }
            }
            Some("UPDATE") => {
                updates += 1;
                let status = &event["update"]["status"];
                if status.get("uuid").is_some() {
                    post(
                        &mut client,
                        json!({"type": "ACKNOWLEDGE", "acknowledge": {
                        "agent_id": status["agent_id"], "task_id": status["task_id"],
                        "uuid": status["uuid"]}}),
                        &framework_id,
                    )?;
                }
                if status["state"] == "TASK_FINISHED" {
                    finished += 1;
                }
            }
            _ => {}
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    post(&mut client, json!({"type": "TEARDOWN"}), &framework_id)?;
    Ok((seconds, updates))
}

/// An agent that re-registers with running tasks and answers pings.
struct EmulatedAgent {
    master: process::Upid,
    message: Option<ReregisterSlaveMessage>,
    admitted: Arc<AtomicUsize>,
}

impl Process for EmulatedAgent {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(|this: &mut Self, _, _, _: SlaveReregisteredMessage| {
            this.admitted.fetch_add(1, Ordering::Relaxed);
        });
        h.on(|_: &mut Self, ctx, _, _: PingSlaveMessage| ctx.reply(PongSlaveMessage {}));
        h.on(|_: &mut Self, _, _, _: UpdateFrameworkMessage| {});
    }

    fn initialize(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.link(&self.master);
        if let Some(message) = self.message.take() {
            ctx.send(&self.master, message);
        }
    }
}

fn state_runs(flags: &Flags) -> Result<Vec<String>, String> {
    let listen = |_| Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        ..Config::default()
    };
    let master_rt = Runtime::new(listen(())).map_err(|e| e.to_string())?;
    let master = Master::spawn(&master_rt, MasterConfig::default()).map_err(|e| e.to_string())?;
    let agents_rt = Runtime::new(listen(())).map_err(|e| e.to_string())?;
    let admitted = Arc::new(AtomicUsize::new(0));
    let mut framework =
        FrameworkInfo::new("", "state-bench").with_failover_timeout(Duration::from_secs(3600));
    framework.id = Some(FrameworkId::new("state-bench"));
    let resources: Resources = TASK.parse().unwrap_or_default();
    for i in 0..flags.agents {
        let agent_id = AgentId::new(format!("agent-{i}"));
        let mut info = AgentInfo::new(format!("host-{i}"))
            .with_resources("cpus:8;mem:16384".parse().unwrap_or_default());
        info.id = Some(agent_id.clone());
        let tasks = (0..flags.tasks_per_agent)
            .map(|t| Task {
                name: format!("t-{i}-{t}"),
                task_id: TaskId::new(format!("t-{i}-{t}")),
                framework_id: FrameworkId::new("state-bench"),
                executor_id: None,
                agent_id: agent_id.clone(),
                state: TaskState::Running,
                resources: resources.clone(),
                statuses: Vec::new(),
                status_update_state: None,
                status_update_uuid: None,
            })
            .collect();
        let message = ReregisterSlaveMessage {
            agent: info,
            executors: Vec::new(),
            tasks,
            frameworks: vec![framework.clone()],
            version: mesos::VERSION.to_string(),
        };
        agents_rt
            .spawn(
                &format!("slave({})", i + 1),
                EmulatedAgent {
                    master: master.pid().clone(),
                    message: Some(message),
                    admitted: admitted.clone(),
                },
            )
            .map_err(|e| e.to_string())?;
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while admitted.load(Ordering::Relaxed) < flags.agents {
        if Instant::now() > deadline {
            return Err("agents did not re-register in time".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let addr = master_rt.addr();
    // The probe: a call the master answers on its actor, under the core's lock.
    let stop = Arc::new(AtomicBool::new(false));
    let worst_us = Arc::new(AtomicU64::new(0));
    let probe = {
        let (stop, worst_us) = (stop.clone(), worst_us.clone());
        std::thread::spawn(move || {
            let mut client = Client::new(addr, Duration::from_secs(60));
            let call = json!({"type": "REVIVE", "framework_id": {"value": "probe"}});
            while !stop.load(Ordering::Relaxed) {
                let at = Instant::now();
                let _ = client.post("/api/v1/scheduler", &[("Mesos-Stream-Id", "probe")], &call);
                worst_us.fetch_max(at.elapsed().as_micros() as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let mut client = Client::new(addr, Duration::from_secs(120));
    // Per endpoint: (ms, MB, stall ms) of every run.
    let mut measured: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); flags.state_endpoints.len()];
    for _ in 0..flags.state_runs {
        for (i, endpoint) in flags.state_endpoints.iter().enumerate() {
            std::thread::sleep(Duration::from_millis(200));
            worst_us.store(0, Ordering::Relaxed);
            let at = Instant::now();
            let bytes = fetch(&mut client, addr, *endpoint)?;
            let ms = at.elapsed().as_secs_f64() * 1000.0;
            std::thread::sleep(Duration::from_millis(50));
            measured[i].push((
                ms,
                bytes as f64 / 1e6,
                worst_us.load(Ordering::Relaxed) as f64 / 1000.0,
            ));
        }
    }
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let list = |values: &[f64]| {
        values
            .iter()
            .map(|v| format!("{v:.1}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut lines = Vec::new();
    for (endpoint, runs) in flags.state_endpoints.iter().zip(measured) {
        let ms: Vec<f64> = runs.iter().map(|r| r.0).collect();
        let stall: Vec<f64> = runs.iter().map(|r| r.2).collect();
        let mut line = format!(
            "state agents={} tasks={} state_ms={:.1} state_mb={:.1} master_stall_ms={:.1} endpoint={}",
            flags.agents,
            flags.agents * flags.tasks_per_agent,
            median(ms.clone()),
            runs[0].1,
            median(stall.clone()),
            endpoint_name(*endpoint),
        );
        if runs.len() > 1 {
            line.push_str(&format!(
                " runs={} state_ms_all={} stall_ms_all={}",
                runs.len(),
                list(&ms),
                list(&stall)
            ));
        }
        lines.push(line);
    }
    stop.store(true, Ordering::Relaxed);
    let _ = probe.join();
    master.stop();
    Ok(lines)
}

/// How an endpoint is named on its output line.
fn endpoint_name(endpoint: StateEndpoint) -> &'static str {
    match endpoint {
        StateEndpoint::State => "/master/state",
        StateEndpoint::GetState => "/api/v1:GET_STATE",
        StateEndpoint::Tasks => "/master/tasks?limit=-1",
        StateEndpoint::StateSummary => "/master/state-summary",
        StateEndpoint::GetTasks => "/api/v1:GET_TASKS",
        StateEndpoint::WebuiSummary => "/webui/summary",
        StateEndpoint::Subscribe => "/api/v1:SUBSCRIBE",
    }
}

/// Fetches one heavy reader; returns the size of its answer (for `subscribe`: of the SUBSCRIBED
/// event, re-encoded).
fn fetch(client: &mut Client, addr: SocketAddr, endpoint: StateEndpoint) -> Result<usize, String> {
    let reply = match endpoint {
        StateEndpoint::State => client.request("GET", "/master/state", &[], b""),
        StateEndpoint::Tasks => client.request("GET", "/master/tasks?limit=-1", &[], b""),
        StateEndpoint::StateSummary => client.request("GET", "/master/state-summary", &[], b""),
        StateEndpoint::WebuiSummary => client.request("GET", "/webui/summary", &[], b""),
        StateEndpoint::GetState => client.post("/api/v1", &[], &json!({"type": "GET_STATE"})),
        StateEndpoint::GetTasks => client.post("/api/v1", &[], &json!({"type": "GET_TASKS"})),
        StateEndpoint::Subscribe => {
            let call = json!({"type": "SUBSCRIBE"});
            let mut stream = subscribe(addr, "/api/v1", &[], &call, Duration::from_secs(120))
                .map_err(|e| e.to_string())?
                .map_err(|r| format!("{}: {}", endpoint.name(), r.status))?;
            let event = stream
                .next_event()
                .map_err(|e| e.to_string())?
                .ok_or("the operator stream ended")?;
            stream.close();
            if event["type"] != "SUBSCRIBED" {
                return Err(format!(
                    "{}: first event {}",
                    endpoint.name(),
                    event["type"]
                ));
            }
            return Ok(serde_json::to_vec(&event).map_or(0, |b| b.len()));
        }
    }
    .map_err(|e| e.to_string())?;
    if reply.status != 200 {
        return Err(format!("{}: {}", endpoint.name(), reply.status));
    }
    Ok(reply.body.len())
}

fn main() {
    let flags: Flags = mesos_benches::cli::parse();
    for _ in 0..if flags.skip_launch { 0 } else { flags.runs } {
        for (api, run) in [("driver", run_driver as fn(usize) -> _), ("http", run_http)] {
            match run(flags.tasks) {
                Ok((seconds, updates)) => println!(
                    "api={api} tasks={} seconds={seconds:.3} tasks_per_s={:.1} update_events_per_s={:.1}",
                    flags.tasks,
                    flags.tasks as f64 / seconds,
                    updates as f64 / seconds
                ),
                Err(error) => {
                    eprintln!("api-bench: {api}: {error}");
                    std::process::exit(1);
                }
            }
        }
    }
    if !flags.skip_state {
        match state_runs(&flags) {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(error) => {
                eprintln!("api-bench: state: {error}");
                std::process::exit(1);
            }
        }
    }
}
