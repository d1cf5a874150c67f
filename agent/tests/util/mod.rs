//! Shared helpers: a fake master on its own runtime, talking to a real agent over loopback TCP.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::agent::{Agent, AgentConfig, AgentHandle};
use mesos::protocol::*;
use mesos::*;
use process::{Config, Context, Handlers, Pid, Process, Runtime, Upid};

/// Real-time bound for waits (guards against hangs; never a timing assertion).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// What the fake master received.
#[derive(Debug, Clone)]
pub enum Got {
    Register(RegisterSlaveMessage),
    Reregister(ReregisterSlaveMessage),
    Update(StatusUpdateMessage),
    Exited(ExitedExecutorMessage),
    Pong,
    FromExecutor(ExecutorToFrameworkMessage),
}

/// Registers agents as `agent-1`, acknowledges updates when `auto_ack` is set, reports everything.
pub struct FakeMaster {
    pub got: Sender<Got>,
    pub auto_ack: Arc<AtomicBool>,
    pub agent: Option<Upid>,
}

impl FakeMaster {
    fn master_info(ctx: &Context<Self>) -> MasterInfo {
        MasterInfo {
            id: "fake".into(),
            pid: Some(ctx.upid().to_string()),
            port: u32::from(ctx.upid().port()),
            ..MasterInfo::default()
        }
    }

    fn register(&mut self, ctx: &mut Context<Self>, from: &Upid, m: RegisterSlaveMessage) {
        self.agent = Some(from.clone());
        ctx.reply(SlaveRegisteredMessage {
            agent_id: AgentId::new("agent-1"),
            master_info: FakeMaster::master_info(ctx),
            ping_timeout_secs: 15.0,
        });
        let _ = self.got.send(Got::Register(m));
    }

    fn reregister(&mut self, ctx: &mut Context<Self>, from: &Upid, m: ReregisterSlaveMessage) {
        self.agent = Some(from.clone());
        ctx.reply(SlaveReregisteredMessage {
            agent_id: m.agent.id.clone().unwrap_or_default(),
            master_info: FakeMaster::master_info(ctx),
            ping_timeout_secs: 15.0,
        });
        let _ = self.got.send(Got::Reregister(m));
    }

    fn update(&mut self, ctx: &mut Context<Self>, _: &Upid, m: StatusUpdateMessage) {
        if self.auto_ack.load(Ordering::SeqCst) {
            ctx.reply(ack_for(&m.update));
        }
        let _ = self.got.send(Got::Update(m));
    }

    fn exited(&mut self, _: &mut Context<Self>, _: &Upid, m: ExitedExecutorMessage) {
        let _ = self.got.send(Got::Exited(m));
    }

    fn pong(&mut self, _: &mut Context<Self>, _: &Upid, _: PongSlaveMessage) {
        let _ = self.got.send(Got::Pong);
    }

    fn executor_message(&mut self, _: &mut Context<Self>, _: &Upid, m: ExecutorToFrameworkMessage) {
        let _ = self.got.send(Got::FromExecutor(m));
    }
}

impl Process for FakeMaster {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(Self::register)
            .on(Self::reregister)
            .on(Self::update)
            .on(Self::exited)
            .on(Self::pong)
            .on(Self::executor_message);
    }
}

/// The acknowledgement of `update`.
pub fn ack_for(update: &StatusUpdate) -> StatusUpdateAcknowledgementMessage {
    StatusUpdateAcknowledgementMessage {
        agent_id: AgentId::new("agent-1"),
        framework_id: update.framework_id.clone(),
        task_id: update.status.task_id.clone(),
        uuid: update.uuid,
    }
}

/// A fresh, empty work directory for one test.
pub fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("agent-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Where cargo put `mesos-executor`.
pub fn launcher_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_mesos-executor"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub fn runtime() -> Runtime {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    Runtime::new(Config {
        workers: 2,
        ..Config::default()
    })
    .expect("runtime starts")
}

/// A fake master and a real agent, each on its own runtime (own port).
pub struct Cluster {
    pub master_runtime: Runtime,
    pub agent_runtime: Runtime,
    pub master: Pid<FakeMaster>,
    pub agent: AgentHandle,
    pub auto_ack: Arc<AtomicBool>,
    got: Receiver<Got>,
    got_tx: Sender<Got>,
    /// Messages skipped while waiting for others, oldest first.
    pub skipped: Vec<Got>,
    /// The agent's work directory.
    pub work_dir: PathBuf,
}

pub fn framework() -> FrameworkInfo {
    let mut info = FrameworkInfo::new("", "agent-tests");
    info.id = Some(FrameworkId::new("fw-1"));
    info
}

pub fn command_task(id: &str, command: &str) -> TaskInfo {
    TaskInfo::new(
        id,
        id,
        AgentId::new("agent-1"),
        "cpus:0.1;mem:32".parse().unwrap(),
    )
    .with_command(CommandInfo::shell(command))
}

impl Cluster {
    /// Starts both; `tweak` adjusts the agent's config. The agent runtime's clock is paused when
    /// `paused` (before the agent starts).
    pub fn start(
        name: &str,
        auto_ack: bool,
        paused: bool,
        tweak: impl FnOnce(&mut AgentConfig),
    ) -> Cluster {
        let master_runtime = runtime();
        let agent_runtime = runtime();
        if paused {
            agent_runtime.clock().pause();
        }
        let (got_tx, got) = mpsc::channel();
        let auto_ack = Arc::new(AtomicBool::new(auto_ack));
        let master = master_runtime
            .spawn(
                "master",
                FakeMaster {
                    got: got_tx.clone(),
                    auto_ack: auto_ack.clone(),
                    agent: None,
                },
            )
            .unwrap();
        let mut config = AgentConfig {
            work_dir: work_dir(name),
            resources: Some("cpus:4;mem:2048;disk:1000;ports:[31000-31010]".into()),
            launcher_dir: Some(launcher_dir()),
            ..AgentConfig::new(master.upid().clone())
        };
        tweak(&mut config);
        let work_dir = config.work_dir.clone();
        let agent = Agent::spawn(&agent_runtime, config).expect("agent starts");
        Cluster {
            master_runtime,
            agent_runtime,
            master,
            agent,
            auto_ack,
            got,
            got_tx,
            skipped: Vec::new(),
            work_dir,
        }
    }

    /// Waits for the first message `pick` accepts; others are kept in `skipped`.
    /// Messages skipped earlier are considered first (they arrived first).
    pub fn wait_for<T>(&mut self, what: &str, mut pick: impl FnMut(&Got) -> Option<T>) -> T {
        for i in 0..self.skipped.len() {
            if let Some(value) = pick(&self.skipped[i]) {
                self.skipped.remove(i);
                return value;
            }
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.got.recv_timeout(left) {
                Ok(got) => match pick(&got) {
                    Some(value) => return value,
                    None => self.skipped.push(got),
                },
                Err(_) => panic!("timed out waiting for {what}; skipped: {:#?}", self.skipped),
            }
        }
    }

    /// The first message `pick` accepts within `window` of real time (skipped ones first), if any.
    pub fn poll_for<T>(
        &mut self,
        window: Duration,
        mut pick: impl FnMut(&Got) -> Option<T>,
    ) -> Option<T> {
        for i in 0..self.skipped.len() {
            if let Some(value) = pick(&self.skipped[i]) {
                self.skipped.remove(i);
                return Some(value);
            }
        }
        let deadline = Instant::now() + window;
        while let Ok(got) = self
            .got
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            match pick(&got) {
                Some(value) => return Some(value),
                None => self.skipped.push(got),
            }
        }
        None
    }

    /// Whether `pick` accepts any message arriving within `window` of real time (for "nothing more
    /// arrives" checks after the clock was advanced and settled).
    pub fn none_within(&mut self, window: Duration, mut pick: impl FnMut(&Got) -> bool) -> bool {
        let deadline = Instant::now() + window;
        while let Ok(got) = self
            .got
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if pick(&got) {
                return false;
            }
            self.skipped.push(got);
        }
        true
    }

    pub fn expect_register(&mut self) -> RegisterSlaveMessage {
        self.wait_for("registration", |g| match g {
            Got::Register(m) => Some(m.clone()),
            _ => None,
        })
    }

    /// The next update for `task` (any state).
    pub fn next_update(&mut self, task: &str) -> StatusUpdate {
        let task = TaskId::new(task);
        self.wait_for(&format!("an update of {task}"), |g| match g {
            Got::Update(m) if m.update.status.task_id == task => Some(m.update.clone()),
            _ => None,
        })
    }

    /// Waits for updates of `task` until a terminal one; returns every state seen, in order.
    pub fn states_until_terminal(&mut self, task: &str) -> Vec<StatusUpdate> {
        let mut seen = Vec::new();
        loop {
            let update = self.next_update(task);
            let terminal = update.status.state.is_terminal();
            seen.push(update);
            if terminal {
                return seen;
            }
        }
    }

    /// Sends `message` to the agent from the fake master.
    pub fn to_agent<M: process::Message>(&self, message: M) {
        let agent = self.agent.pid().clone();
        self.master_runtime
            .dispatch(&self.master, move |_, ctx| ctx.send(&agent, message))
            .wait_timeout(PATIENCE)
            .unwrap();
    }

    pub fn run_task(&self, task: TaskInfo) {
        self.run_task_for(framework(), task);
    }

    /// Runs `task` for the framework `framework` (e.g. a checkpointing one).
    pub fn run_task_for(&self, framework: FrameworkInfo, task: TaskInfo) {
        self.to_agent(RunTaskMessage {
            framework_id: framework.id.clone().unwrap(),
            framework,
            pid: "scheduler@127.0.0.1:1".into(),
            task,
        });
    }

    pub fn ack(&self, update: &StatusUpdate) {
        self.to_agent(ack_for(update));
    }

    /// Replaces the fake master process (same id, same runtime): like a master restarted at the
    /// same address.
    pub fn restart_master(&mut self) {
        self.master_runtime.terminate(&self.master);
        assert!(
            self.master_runtime.wait_timeout(&self.master, PATIENCE),
            "the fake master terminates"
        );
        self.master = self
            .master_runtime
            .spawn(
                "master",
                FakeMaster {
                    got: self.got_tx.clone(),
                    auto_ack: self.auto_ack.clone(),
                    agent: None,
                },
            )
            .unwrap();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.agent.stop();
    }
}

/// Statuses' states, for assertions.
pub fn states(updates: &[StatusUpdate]) -> Vec<TaskState> {
    updates.iter().map(|u| u.status.state).collect()
}
