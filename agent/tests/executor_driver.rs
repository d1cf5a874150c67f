//! A Rust executor on `mesos::executor::ExecutorDriver`, on its own runtime, talking to the real agent
//! over TCP: registration, tasks, status updates, acknowledgements and framework messages both ways.
//!
//! The agent launches the executor's process (`sleep`, which never registers); the driver below
//! registers in its place, as the executor the agent is waiting for.

mod util;

use std::sync::mpsc::{self, Sender};

use mesos::executor::{DriverStatus, Executor, ExecutorDriver, ExecutorEnv};
use mesos::protocol::*;
use mesos::*;
use util::*;

#[derive(Debug, PartialEq)]
enum Seen {
    Registered(AgentId),
    Launched(TaskId),
    Message(Vec<u8>),
    Killed(TaskId),
    Shutdown,
}

struct Echo(Sender<Seen>);

impl Executor for Echo {
    fn registered(
        &mut self,
        _: &ExecutorDriver,
        _: &ExecutorInfo,
        _: &FrameworkInfo,
        agent: &AgentInfo,
    ) {
        let _ = self
            .0
            .send(Seen::Registered(agent.id.clone().unwrap_or_default()));
    }
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        driver
            .send_status_update(TaskStatus::new(task.task_id.clone(), TaskState::Running))
            .unwrap();
        let _ = self.0.send(Seen::Launched(task.task_id));
    }
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: TaskId) {
        driver
            .send_status_update(TaskStatus::new(task_id.clone(), TaskState::Killed))
            .unwrap();
        let _ = self.0.send(Seen::Killed(task_id));
    }
    fn framework_message(&mut self, driver: &ExecutorDriver, data: Vec<u8>) {
        let mut reply = b"echo:".to_vec();
        reply.extend_from_slice(&data);
        driver.send_framework_message(reply).unwrap();
        let _ = self.0.send(Seen::Message(data));
    }
    fn shutdown(&mut self, _: &ExecutorDriver) {
        let _ = self.0.send(Seen::Shutdown);
    }
}

#[test]
fn a_rust_executor_runs_tasks_and_exchanges_framework_messages_through_the_agent() {
    let mut cluster = Cluster::start("driver", true, false, |_| {});
    cluster.expect_register();
    let mut task = command_task("rust-1", "unused");
    task.command = None;
    task.executor = Some(ExecutorInfo::new("rusty", CommandInfo::shell("sleep 1000")));
    cluster.run_task(task);
    // As a real executor would, start only once the agent has launched "its" process.
    process::testing::wait_until("the agent to launch the executor", PATIENCE, || {
        cluster.agent.state().unwrap()["frameworks"][0]["executors"][0]["id"] == "rusty"
    });

    let executor_runtime = runtime();
    let (seen_tx, seen) = mpsc::channel();
    let env = ExecutorEnv::new(
        cluster.agent.pid().clone(),
        FrameworkId::new("fw-1"),
        ExecutorId::new("rusty"),
    );
    let driver = ExecutorDriver::on_runtime(&executor_runtime, Echo(seen_tx), env);
    assert_eq!(driver.start(), DriverStatus::Running);
    assert_eq!(
        seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Registered(AgentId::new("agent-1"))
    );
    assert_eq!(
        seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Launched(TaskId::new("rust-1"))
    );
    let running = cluster.next_update("rust-1");
    assert_eq!(running.status.state, TaskState::Running);
    assert_eq!(running.status.source, Some(Source::Executor));
    // The agent acknowledged the executor as soon as it held the update.
    assert!(driver.wait_for_acknowledgements(PATIENCE));

    cluster.to_agent(FrameworkToExecutorMessage {
        agent_id: AgentId::new("agent-1"),
        framework_id: FrameworkId::new("fw-1"),
        executor_id: ExecutorId::new("rusty"),
        data: b"hello".to_vec(),
    });
    assert_eq!(
        seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Message(b"hello".to_vec())
    );
    let reply = cluster.wait_for("executor's framework message", |g| match g {
        Got::FromExecutor(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(reply.data, b"echo:hello");
    assert_eq!(reply.executor_id, ExecutorId::new("rusty"));

    cluster.to_agent(KillTaskMessage {
        framework_id: FrameworkId::new("fw-1"),
        task_id: TaskId::new("rust-1"),
    });
    assert_eq!(
        seen.recv_timeout(PATIENCE).unwrap(),
        Seen::Killed(TaskId::new("rust-1"))
    );
    assert_eq!(
        cluster.next_update("rust-1").status.state,
        TaskState::Killed
    );

    cluster.to_agent(ShutdownExecutorMessage {
        framework_id: FrameworkId::new("fw-1"),
        executor_id: ExecutorId::new("rusty"),
    });
    assert_eq!(seen.recv_timeout(PATIENCE).unwrap(), Seen::Shutdown);
    assert_eq!(
        driver.join_timeout(PATIENCE).expect("the driver to stop"),
        DriverStatus::Stopped
    );
}
