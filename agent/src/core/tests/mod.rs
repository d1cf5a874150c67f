//! Pure tests of [`AgentCore`]: inputs with explicit `now`, outputs compared as data. No sockets,
//! no processes, no clock.

mod checkpoints;
mod executors;
mod master;
mod recovery;

use std::time::{Duration, Instant};

use mesos::protocol::*;
use mesos::*;
use process::Upid;

use super::*;
use crate::checkpoint::{Checkpoint, UpdateRecord};
use crate::launcher::ExitInfo;
use crate::state::LaunchSpec;

pub(super) const SECS: Duration = Duration::from_secs(1);

/// A core registered as `agent-1` with `master@127.0.0.1:5050`, at `now`.
pub(super) struct Harness {
    pub core: AgentCore,
    pub now: Instant,
    pub master: Upid,
}

pub(super) fn upid(text: &str) -> Upid {
    text.parse().unwrap()
}

pub(super) fn executor_pid() -> ExecutorEndpoint {
    ExecutorEndpoint::Pid(upid("executor@127.0.0.1:7001"))
}

pub(super) fn framework_id() -> FrameworkId {
    FrameworkId::new("fw-1")
}

pub(super) fn framework() -> FrameworkInfo {
    let mut info = FrameworkInfo::new("tester", "core-tests");
    info.id = Some(framework_id());
    info
}

/// The test framework, checkpointing.
pub(super) fn checkpointing() -> FrameworkInfo {
    FrameworkInfo {
        checkpoint: true,
        ..framework()
    }
}

/// The checkpoints written, in order.
pub(super) fn checkpoints(outputs: &[Output]) -> Vec<crate::checkpoint::Checkpoint> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Checkpoint(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn command_task(id: &str) -> TaskInfo {
    TaskInfo::new(
        id,
        id,
        AgentId::new("agent-1"),
        "cpus:1;mem:64".parse().unwrap(),
    )
    .with_command(CommandInfo::shell("sleep 1000"))
}

pub(super) fn executor_task(id: &str, executor: &str) -> TaskInfo {
    TaskInfo::new(id, id, AgentId::new("agent-1"), "cpus:1".parse().unwrap()).with_executor(
        ExecutorInfo::new(executor, CommandInfo::shell("./exec"))
            .with_resources("cpus:0.5".parse().unwrap()),
    )
}

impl Harness {
    pub fn config() -> CoreConfig {
        CoreConfig {
            launcher: "/opt/mesos/mesos-executor".into(),
            ..CoreConfig::new("/work")
        }
    }

    /// A registered core.
    pub fn new() -> Harness {
        Harness::with_config(Harness::config())
    }

    pub fn with_config(config: CoreConfig) -> Harness {
        let now = Instant::now();
        let master = upid("master@127.0.0.1:5050");
        let info = AgentInfo::new("node-1").with_resources("cpus:8;mem:4096".parse().unwrap());
        let core = AgentCore::new(
            config,
            info,
            upid("slave(1)@127.0.0.1:5051"),
            master.clone(),
            now,
        );
        let mut h = Harness { core, now, master };
        h.core.tick(now);
        h.drain();
        let master = h.master.clone();
        h.core.registered(
            now,
            &master,
            SlaveRegisteredMessage {
                agent_id: AgentId::new("agent-1"),
                master_info: MasterInfo::default(),
                ping_timeout_secs: 15.0,
            },
        );
        h.drain();
        h
    }

    pub fn drain(&mut self) -> Vec<Output> {
        self.core.drain_outputs()
    }

    pub fn advance(&mut self, by: Duration) -> Vec<Output> {
        self.now += by;
        self.core.tick(self.now);
        self.drain()
    }

    /// Runs `task` from the master; returns the outputs.
    pub fn run(&mut self, task: TaskInfo) -> Vec<Output> {
        self.run_for(framework(), task)
    }

    /// Runs `task` of the framework `info` from the master; returns the outputs.
    pub fn run_for(&mut self, info: FrameworkInfo, task: TaskInfo) -> Vec<Output> {
        let master = self.master.clone();
        self.core.run_task(
            self.now,
            &master,
            RunTaskMessage {
                framework_id: framework_id(),
                framework: info,
                pid: "scheduler@127.0.0.1:9000".into(),
                task,
            },
        );
        self.drain()
    }

    /// Runs `task`, which must start a new executor; the launch succeeds with OS pid `os_pid`.
    pub fn launch(&mut self, task: TaskInfo, os_pid: u32) -> LaunchSpec {
        self.launch_for(framework(), task, os_pid)
    }

    /// As [`launch`](Self::launch), for the framework `info`.
    pub fn launch_for(&mut self, info: FrameworkInfo, task: TaskInfo, os_pid: u32) -> LaunchSpec {
        let outputs = self.run_for(info, task);
        let spec = launch_of(&outputs).expect("a launch");
        self.core
            .executor_launched(self.now, &spec.container_id, os_pid);
        assert!(self
            .drain()
            .iter()
            .all(|o| matches!(o, Output::Checkpoint(_))));
        spec
    }

    /// The executor of `spec` registers from [`executor_pid`].
    pub fn register(&mut self, spec: &LaunchSpec) -> Vec<Output> {
        self.core.register_executor(
            self.now,
            executor_pid(),
            RegisterExecutorMessage {
                framework_id: spec.framework_id.clone(),
                executor_id: spec.executor.executor_id.clone(),
            },
        );
        self.drain()
    }

    /// An update the executor of `executor` sends.
    pub fn executor_update(
        &mut self,
        executor: &str,
        task: &str,
        state: TaskState,
        n: u8,
    ) -> (StatusUpdate, Vec<Output>) {
        let update = executor_status(executor, task, state, n);
        self.core
            .status_update(self.now, &executor_pid(), update.clone(), None);
        (update, self.drain())
    }

    /// The master asks to kill `task`.
    pub fn kill(&mut self, task: &str) -> Vec<Output> {
        let master = self.master.clone();
        self.core.kill_task(
            self.now,
            &master,
            KillTaskMessage {
                framework_id: framework_id(),
                task_id: TaskId::new(task),
            },
        );
        self.drain()
    }

    /// The master acknowledges `update`.
    pub fn ack(&mut self, update: &StatusUpdate) -> Vec<Output> {
        let master = self.master.clone();
        self.core.acknowledgement(
            self.now,
            &master,
            StatusUpdateAcknowledgementMessage {
                agent_id: AgentId::new("agent-1"),
                framework_id: update.framework_id.clone(),
                task_id: update.status.task_id.clone(),
                uuid: update.uuid,
            },
        );
        self.drain()
    }
}

pub(super) fn executor_status(executor: &str, task: &str, state: TaskState, n: u8) -> StatusUpdate {
    let uuid = Uuid::v4_from([n; 16]);
    StatusUpdate {
        framework_id: framework_id(),
        executor_id: Some(ExecutorId::new(executor)),
        agent_id: Some(AgentId::new("agent-1")),
        status: TaskStatus::new(TaskId::new(task), state)
            .with_source(Source::Executor)
            .with_uuid(uuid),
        timestamp: f64::from(n),
        uuid,
    }
}

/// A short name for each output, to compare orders.
pub(super) fn kinds(outputs: &[Output]) -> Vec<String> {
    outputs
        .iter()
        .map(|o| match o {
            Output::Checkpoint(c) => match c {
                Checkpoint::Agent(_) => "ckpt:agent".into(),
                Checkpoint::Framework { .. } => "ckpt:framework".into(),
                Checkpoint::FrameworkPid { .. } => "ckpt:framework.pid".into(),
                Checkpoint::Executor { .. } => "ckpt:executor".into(),
                Checkpoint::ForkedPid { .. } => "ckpt:forked.pid".into(),
                Checkpoint::ExecutorPid { .. } => "ckpt:libprocess.pid".into(),
                Checkpoint::Task { .. } => "ckpt:task".into(),
                Checkpoint::Update {
                    record: UpdateRecord::Update(u),
                    ..
                } => format!("ckpt:update:{}", u.status.state),
                Checkpoint::Update {
                    record: UpdateRecord::Ack(_),
                    ..
                } => "ckpt:ack".into(),
                Checkpoint::RunCompleted { .. } => "ckpt:completed".into(),
                Checkpoint::BootId(_) => "ckpt:boot_id".into(),
                Checkpoint::ForgetAgent => "ckpt:forget".into(),
            },
            Output::Master { message, .. } => format!("master:{}", short(message.name())),
            Output::Executor { message, .. } => format!("executor:{}", short(message.name())),
            Output::Launch(_) => "launch".into(),
            Output::UpdateContainer { .. } => "resize".into(),
            Output::DestroyContainer { .. } => "destroy".into(),
            Output::Link(_) => "link".into(),
            Output::CheckLimitations(_) => "limitations".into(),
            Output::RecoverContainers(kept) => format!("recover:{}", kept.len()),
            Output::RemoveDirectory(_) => "gc".into(),
            Output::Terminate => "terminate".into(),
        })
        .collect()
}

fn short(name: &str) -> &str {
    name.trim_start_matches("mesos.internal.")
        .trim_end_matches("Message")
}

pub(super) fn launch_of(outputs: &[Output]) -> Option<LaunchSpec> {
    outputs.iter().find_map(|o| match o {
        Output::Launch(spec) => Some((**spec).clone()),
        _ => None,
    })
}

/// The status updates sent to the master, in order.
pub(super) fn forwarded(outputs: &[Output]) -> Vec<StatusUpdate> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Master {
                message: ToMaster::StatusUpdate(m),
                ..
            } => Some(m.update.clone()),
            _ => None,
        })
        .collect()
}

/// The messages sent to executors, by wire name, in order.
pub(super) fn to_executors(outputs: &[Output]) -> Vec<&'static str> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Executor { message, .. } => Some(message.name()),
            _ => None,
        })
        .collect()
}

pub(super) fn destroyed(outputs: &[Output]) -> Vec<ContainerId> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::DestroyContainer { container_id } => Some(container_id.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn resized(outputs: &[Output]) -> Vec<Resources> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::UpdateContainer { resources, .. } => Some(resources.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn exit(description: &str) -> ExitInfo {
    ExitInfo {
        wait_status: 9,
        description: description.into(),
    }
}
