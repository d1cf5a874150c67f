//! The executor driver against a fake agent process on the same runtime.

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use mesos::executor::{DriverError, DriverStatus, Executor, ExecutorDriver, ExecutorEnv};
use mesos::protocol::*;
use mesos::*;
use process::{Config, Context, Handlers, MessageMatch, Process, Runtime, Upid};

const PATIENCE: Duration = Duration::from_secs(10);

/// What the test executor saw.
#[derive(Debug, PartialEq)]
enum Seen {
    Registered(ExecutorId),
    Launch(TaskId),
    Kill(TaskId),
    Message(Vec<u8>),
    Shutdown,
    Disconnected,
}

struct Recorder {
    seen: Sender<Seen>,
}

impl Executor for Recorder {
    fn registered(
        &mut self,
        _: &ExecutorDriver,
        info: &ExecutorInfo,
        _: &FrameworkInfo,
        _: &AgentInfo,
    ) {
        let _ = self.seen.send(Seen::Registered(info.executor_id.clone()));
    }
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        driver
            .send_status_update(TaskStatus::new(task.task_id.clone(), TaskState::Running))
            .unwrap();
        let _ = self.seen.send(Seen::Launch(task.task_id));
    }
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: TaskId) {
        driver
            .send_status_update(TaskStatus::new(task_id.clone(), TaskState::Killed))
            .unwrap();
        let _ = self.seen.send(Seen::Kill(task_id));
    }
    fn framework_message(&mut self, driver: &ExecutorDriver, data: Vec<u8>) {
        driver.send_framework_message(b"pong".to_vec()).unwrap();
        let _ = self.seen.send(Seen::Message(data));
    }
    fn shutdown(&mut self, _: &ExecutorDriver) {
        let _ = self.seen.send(Seen::Shutdown);
    }
    fn disconnected(&mut self, _: &ExecutorDriver) {
        let _ = self.seen.send(Seen::Disconnected);
    }
}

/// Registers every executor and acknowledges updates when told to (`ack` flag).
struct FakeAgent {
    ack: bool,
    updates: Sender<StatusUpdate>,
}

impl FakeAgent {
    fn register(&mut self, ctx: &mut Context<Self>, _: &Upid, m: RegisterExecutorMessage) {
        ctx.reply(ExecutorRegisteredMessage {
            executor_info: ExecutorInfo::new(m.executor_id.clone(), CommandInfo::shell("x")),
            framework_id: m.framework_id,
            framework_info: FrameworkInfo::new("u", "fw"),
            agent_id: AgentId::new("a1"),
            agent_info: AgentInfo::new("host"),
        });
    }
    fn update(&mut self, ctx: &mut Context<Self>, _: &Upid, m: StatusUpdateMessage) {
        if self.ack {
            ctx.reply(StatusUpdateAcknowledgementMessage {
                agent_id: AgentId::new("a1"),
                framework_id: m.update.framework_id.clone(),
                task_id: m.update.status.task_id.clone(),
                uuid: m.update.uuid,
            });
        }
        let _ = self.updates.send(m.update);
    }
}

impl Process for FakeAgent {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(Self::register).on(Self::update);
    }
}

struct Setup {
    runtime: Runtime,
    agent: process::Pid<FakeAgent>,
    driver: ExecutorDriver,
    seen: Receiver<Seen>,
    updates: Receiver<StatusUpdate>,
}

fn setup(ack: bool) -> Setup {
    let runtime = Runtime::new(Config {
        workers: 2,
        ..Config::default()
    })
    .unwrap();
    let (updates_tx, updates) = mpsc::channel();
    let agent = runtime
        .spawn(
            "slave(1)",
            FakeAgent {
                ack,
                updates: updates_tx,
            },
        )
        .unwrap();
    let (seen_tx, seen) = mpsc::channel();
    let env = ExecutorEnv::new(
        agent.upid().clone(),
        FrameworkId::new("f1"),
        ExecutorId::new("e1"),
    );
    let driver = ExecutorDriver::on_runtime(&runtime, Recorder { seen: seen_tx }, env);
    Setup {
        runtime,
        agent,
        driver,
        seen,
        updates,
    }
}

fn run_task(s: &Setup, task: &str) {
    s.runtime.send(
        &executor_pid(s),
        RunTaskMessage {
            framework_id: FrameworkId::new("f1"),
            framework: FrameworkInfo::new("u", "fw"),
            pid: String::new(),
            task: TaskInfo::new(task, task, AgentId::new("a1"), Resources::new()),
        },
    );
}

fn executor_pid(s: &Setup) -> Upid {
    Upid::new("executor", s.runtime.addr()).unwrap()
}

/// Sends `message` to the executor as if from the agent.
fn from_agent<M: process::Message>(s: &Setup, message: M) {
    let to = executor_pid(s);
    s.runtime
        .dispatch(&s.agent, move |_, ctx| ctx.send(&to, message))
        .wait_timeout(PATIENCE)
        .unwrap();
}

#[test]
fn registers_launches_and_sends_updates_that_get_acknowledged() {
    let s = setup(true);
    assert_eq!(s.driver.status(), DriverStatus::NotStarted);
    assert_eq!(s.driver.start(), DriverStatus::Running);
    assert_eq!(s.driver.start(), DriverStatus::Running);
    assert_eq!(
        s.seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Registered(ExecutorId::new("e1"))
    );
    // RunTask only counts from the agent: the runtime's anonymous sender is ignored.
    run_task(&s, "ignored");
    from_agent(
        &s,
        RunTaskMessage {
            framework_id: FrameworkId::new("f1"),
            framework: FrameworkInfo::new("u", "fw"),
            pid: String::new(),
            task: TaskInfo::new("t1", "t1", AgentId::new("a1"), Resources::new()),
        },
    );
    assert_eq!(
        s.seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Launch(TaskId::new("t1"))
    );
    let update = s.updates.recv_timeout(PATIENCE).unwrap();
    assert_eq!(update.status.state, TaskState::Running);
    assert_eq!(update.executor_id, Some(ExecutorId::new("e1")));
    assert_eq!(update.agent_id, Some(AgentId::new("a1")));
    assert_eq!(update.status.source, Some(Source::Executor));
    assert!(s.driver.wait_for_acknowledgements(PATIENCE));

    from_agent(
        &s,
        KillTaskMessage {
            framework_id: FrameworkId::new("f1"),
            task_id: TaskId::new("t1"),
        },
    );
    assert_eq!(
        s.seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Kill(TaskId::new("t1"))
    );
    assert_eq!(
        s.updates.recv_timeout(PATIENCE).unwrap().status.state,
        TaskState::Killed
    );

    let framework_message = s
        .runtime
        .filters()
        .await_message::<ExecutorToFrameworkMessage>(MessageMatch::any());
    from_agent(
        &s,
        FrameworkToExecutorMessage {
            agent_id: AgentId::new("a1"),
            framework_id: FrameworkId::new("f1"),
            executor_id: ExecutorId::new("e1"),
            data: b"ping".to_vec(),
        },
    );
    assert_eq!(
        s.seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Message(b"ping".to_vec())
    );
    let reply = framework_message.wait_timeout(PATIENCE).unwrap();
    assert_eq!(reply.message.data, b"pong");
    assert_eq!(reply.to, *s.agent.upid());

    assert_eq!(s.driver.stop(), DriverStatus::Stopped);
    assert_eq!(
        s.driver.join_timeout(PATIENCE).expect("the driver to stop"),
        DriverStatus::Stopped
    );
    assert!(matches!(
        s.driver
            .send_status_update(TaskStatus::new(TaskId::new("t1"), TaskState::Running)),
        Err(DriverError::NotRunning(DriverStatus::Stopped))
    ));
}

#[test]
fn unacknowledged_updates_are_kept_and_staging_is_refused() {
    let s = setup(false);
    s.driver.start();
    assert!(matches!(
        s.seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Registered(_)
    ));
    assert!(matches!(
        s.driver
            .send_status_update(TaskStatus::new(TaskId::new("t"), TaskState::Staging)),
        Err(DriverError::Staging(_))
    ));
    s.driver
        .send_status_update(TaskStatus::new(TaskId::new("t"), TaskState::Running))
        .unwrap();
    let update = s.updates.recv_timeout(PATIENCE).unwrap();
    assert!(!s
        .driver
        .wait_for_acknowledgements(Duration::from_millis(50)));
    from_agent(
        &s,
        StatusUpdateAcknowledgementMessage {
            agent_id: AgentId::new("a1"),
            framework_id: FrameworkId::new("f1"),
            task_id: TaskId::new("t"),
            uuid: update.uuid,
        },
    );
    assert!(s.driver.wait_for_acknowledgements(PATIENCE));
    s.driver.abort();
    assert_eq!(
        s.driver.join_timeout(PATIENCE).expect("the driver to stop"),
        DriverStatus::Aborted
    );
}

#[test]
fn shutdown_from_the_agent_calls_shutdown_and_stops_the_driver() {
    let s = setup(true);
    let driver = s.driver.clone();
    let runner = std::thread::spawn(move || driver.run());
    assert!(matches!(
        s.seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Registered(_)
    ));
    from_agent(
        &s,
        ShutdownExecutorMessage {
            framework_id: FrameworkId::new("f1"),
            executor_id: ExecutorId::new("e1"),
        },
    );
    assert_eq!(s.seen.recv_timeout(PATIENCE).unwrap(), Seen::Shutdown);
    assert_eq!(
        process::testing::join_within(runner, "the driver's run()", PATIENCE),
        DriverStatus::Stopped
    );
}

#[test]
fn losing_the_agent_disconnects_and_shuts_down_without_checkpointing() {
    let s = setup(true);
    s.driver.start();
    assert!(matches!(
        s.seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Registered(_)
    ));
    s.runtime.terminate(&s.agent);
    assert_eq!(s.seen.recv_timeout(PATIENCE).unwrap(), Seen::Disconnected);
    assert_eq!(s.seen.recv_timeout(PATIENCE).unwrap(), Seen::Shutdown);
    assert_eq!(
        s.driver.join_timeout(PATIENCE).expect("the driver to stop"),
        DriverStatus::Stopped
    );
}

#[test]
fn the_environment_must_name_the_agent() {
    // The test process was not started by an agent.
    if std::env::var("MESOS_AGENT_PID").is_err() && std::env::var("MESOS_SLAVE_PID").is_err() {
        let err = ExecutorDriver::new(Recorder {
            seen: mpsc::channel().0,
        })
        .unwrap_err();
        assert!(err.to_string().contains("MESOS_AGENT_PID"), "{err}");
    }
}
