//! Health checks for a custom executor's tasks, run by its executor driver (issue 17): the
//! `service-executor` example turns them on with `ExecutorDriver::with_health_checks`. A task
//! checked over HTTP (a Python web server) and one checked by a COMMAND each become healthy, then
//! unhealthy when the test removes what their check looks for, and are killed through the
//! executor's `kill_task` after `consecutive_failures`, ending `TASK_KILLED` with `healthy: false`.

use std::path::Path;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, DriverOptions, Scheduler, SchedulerDriver};
use mesos::{
    CommandInfo, ExecutorInfo, FrameworkId, FrameworkInfo, HealthCheck, HealthCheckType,
    HttpCheckInfo, MasterInfo, Offer, Reason, TaskInfo, TaskState, TaskStatus,
};
use mesos_local::{LocalCluster, LocalConfig};

/// How long any one expected event may take (CI machines are slow and shared).
const WAIT: Duration = Duration::from_secs(30);

enum Event {
    Offers(Vec<Offer>),
    Update(TaskStatus),
}

/// Records offers and updates; the test acts through the driver.
struct Recorder(Sender<Event>);

impl Scheduler for Recorder {
    fn registered(&mut self, _: &DriverHandle, _: &FrameworkId, _: &MasterInfo) {}
    fn resource_offers(&mut self, _: &DriverHandle, offers: Vec<Offer>) {
        let _ = self.0.send(Event::Offers(offers));
    }
    fn status_update(&mut self, _: &DriverHandle, status: &TaskStatus) {
        let _ = self.0.send(Event::Update(status.clone()));
    }
}

/// The scheduler's events; those a wait did not take are kept for later waits.
struct Events(Receiver<Event>, Vec<Event>);

impl Events {
    /// The first event (kept or new) `pick` takes, within [`WAIT`].
    fn wait<T>(&mut self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        if let Some((i, found)) = self
            .1
            .iter()
            .enumerate()
            .find_map(|(i, e)| pick(e).map(|found| (i, found)))
        {
            self.1.remove(i);
            return found;
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self
                .0
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"));
            match pick(&event) {
                Some(found) => return found,
                None => self.1.push(event),
            }
        }
    }
}

fn executor() -> ExecutorInfo {
    ExecutorInfo::new(
        "service-executor",
        CommandInfo::shell(env!("CARGO_BIN_EXE_service-executor")),
    )
}

fn check(kind: HealthCheckType) -> HealthCheck {
    HealthCheck {
        kind,
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.2),
        timeout_seconds: Some(2.0),
        grace_period_seconds: Some(10.0),
        consecutive_failures: Some(3),
        ..HealthCheck::default()
    }
}

fn task(id: &str, offer: &Offer, resources: &str, command: &str, check: HealthCheck) -> TaskInfo {
    TaskInfo::new(
        id,
        id,
        offer.agent_id.clone(),
        resources.parse().expect("resources"),
    )
    .with_data(command)
    .with_executor(executor())
    .with_health_check(check)
}

/// The next health update of `task` (`TASK_RUNNING` with `healthy`), or its end.
fn health(events: &mut Events, task: &str) -> TaskStatus {
    events.wait(&format!("a health update of {task}"), |e| match e {
        Event::Update(s)
            if s.task_id.as_str() == task && (s.healthy.is_some() || s.state.is_terminal()) =>
        {
            Some(s.clone())
        }
        _ => None,
    })
}

fn expect_healthy(events: &mut Events, task: &str, healthy: bool) {
    let status = health(events, task);
    assert_eq!(status.state, TaskState::Running, "{status:?}");
    assert_eq!(status.healthy, Some(healthy), "{status:?}");
    assert_eq!(status.reason, Some(Reason::TaskHealthCheckStatusUpdated));
}

/// After failed checks: more unhealthy updates, then the kill.
fn expect_killed_unhealthy(events: &mut Events, task: &str) {
    loop {
        let status = health(events, task);
        if status.state.is_terminal() {
            assert_eq!(status.state, TaskState::Killed, "{status:?}");
            assert_eq!(status.healthy, Some(false), "{status:?}");
            return;
        }
        assert_eq!(status.healthy, Some(false), "{status:?}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn remove(path: &Path) {
    std::fs::remove_file(path).expect("remove the health file");
}

#[test]
fn the_executor_driver_checks_a_custom_executors_tasks_and_kills_the_unhealthy() {
    let dir = std::env::temp_dir().join(format!("executor-health-{}", std::process::id()));
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("healthy"), "ok").unwrap();
    let command_file = dir.join("command-healthy");
    std::fs::write(&command_file, "ok").unwrap();

    let port = free_port();
    let mut config = LocalConfig::new(1);
    config.agent_resources = Some(format!("cpus:4;mem:2048;ports:[{port}-{port}]"));
    config.master.allocation_interval = Duration::from_millis(50);
    let cluster = LocalCluster::start(config).expect("cluster starts");
    let (tx, rx) = channel();
    let framework = FrameworkInfo::new("", "executor-health");
    let options = DriverOptions::default().with_backoff_factor(Duration::from_millis(100));
    let driver =
        SchedulerDriver::with_options(Recorder(tx), framework, &cluster.master_address(), options)
            .expect("driver");
    driver.start();
    let mut events = Events(rx, Vec::new());
    let offer = events.wait("an offer", |e| match e {
        Event::Offers(offers) => offers.first().cloned(),
        Event::Update(_) => None,
    });

    let mut http = check(HealthCheckType::Http);
    http.http = Some(HttpCheckInfo {
        port: port.into(),
        path: Some("/healthy".into()),
        ..HttpCheckInfo::default()
    });
    let web = task(
        "web",
        &offer,
        &format!("cpus:0.2;mem:64;ports:[{port}-{port}]"),
        &format!(
            "exec python3 -m http.server $PORT0 --bind 127.0.0.1 --directory {}",
            www.display()
        ),
        http,
    );
    let mut command = check(HealthCheckType::Command);
    command.command = Some(CommandInfo::shell(format!(
        "test -f {}",
        command_file.display()
    )));
    let sleeper = task("sleeper", &offer, "cpus:0.2;mem:32", "sleep 600", command);
    driver.launch_tasks(
        vec![offer.id],
        vec![web, sleeper],
        mesos::Filters::refuse(Duration::ZERO),
    );

    expect_healthy(&mut events, "web", true);
    expect_healthy(&mut events, "sleeper", true);
    remove(&www.join("healthy"));
    expect_healthy(&mut events, "web", false);
    expect_killed_unhealthy(&mut events, "web");
    remove(&command_file);
    expect_healthy(&mut events, "sleeper", false);
    expect_killed_unhealthy(&mut events, "sleeper");
    driver.stop(false);
    let _ = std::fs::remove_dir_all(&dir);
}
