//! The scheduler driver against a fake master process: registration,
//! offers, launches from a callback, implicit and explicit acknowledgements, master restart,
//! framework errors and stop.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesos::protocol::*;
use mesos::scheduler::{DriverHandle, DriverOptions, DriverStatus, Scheduler, SchedulerDriver};
use mesos::*;
use process::{Config, Context, Handlers, Process, Runtime, Upid};

const WAIT: Duration = Duration::from_secs(10);

/// What the fake master received, in order.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Register,
    Reregister { failover: bool },
    Launch(Vec<String>),
    Ack(TaskId),
    Unregister,
    Deactivate,
}

/// A master that registers anyone as `fw-1`, offers one agent, and runs launched tasks to RUNNING.
struct FakeMaster {
    seen: Sender<Seen>,
    /// When set, the first registration is answered with this error.
    error: Option<String>,
}

fn offer() -> ResourceOffersMessage {
    ResourceOffersMessage {
        offers: vec![Offer {
            id: OfferId::new("o-1"),
            framework_id: FrameworkId::new("fw-1"),
            agent_id: AgentId::new("a-1"),
            hostname: "localhost".into(),
            resources: "cpus:2;mem:1024".parse().unwrap(),
            ..Offer::default()
        }],
        pids: vec!["slave(1)@127.0.0.1:5051".into()],
    }
}

impl FakeMaster {
    fn registered(&mut self, ctx: &mut Context<Self>, re: bool) {
        if let Some(message) = self.error.take() {
            ctx.reply(FrameworkErrorMessage { message });
            return;
        }
        let info = MasterInfo::new(
            "m-1",
            std::net::Ipv4Addr::LOCALHOST,
            ctx.upid().port(),
            None,
        );
        if re {
            ctx.reply(FrameworkReregisteredMessage {
                framework_id: FrameworkId::new("fw-1"),
                master_info: info,
            });
        } else {
            ctx.reply(FrameworkRegisteredMessage {
                framework_id: FrameworkId::new("fw-1"),
                master_info: info,
            });
        }
        ctx.reply(offer());
    }
}

impl Process for FakeMaster {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(
            |this: &mut Self, ctx, _from: &Upid, _m: RegisterFrameworkMessage| {
                let _ = this.seen.send(Seen::Register);
                this.registered(ctx, false);
            },
        );
        h.on(
            |this: &mut Self, ctx, _from: &Upid, m: ReregisterFrameworkMessage| {
                let _ = this.seen.send(Seen::Reregister {
                    failover: m.failover,
                });
                this.registered(ctx, !m.failover);
            },
        );
        h.on(
            |this: &mut Self, ctx, _from: &Upid, m: LaunchTasksMessage| {
                let ids = m.tasks.iter().map(|t| t.task_id.to_string()).collect();
                let _ = this.seen.send(Seen::Launch(ids));
                for task in m.tasks {
                    let uuid = Uuid::random();
                    ctx.reply(StatusUpdateMessage {
                        update: StatusUpdate {
                            framework_id: m.framework_id.clone(),
                            executor_id: None,
                            agent_id: Some(task.agent_id.clone()),
                            status: TaskStatus::new(task.task_id, TaskState::Running)
                                .with_uuid(uuid),
                            timestamp: 0.0,
                            uuid,
                        },
                        pid: None,
                    });
                }
            },
        );
        h.on(
            |this: &mut Self, _ctx, _from: &Upid, m: StatusUpdateAcknowledgementMessage| {
                let _ = this.seen.send(Seen::Ack(m.task_id));
            },
        );
        h.on(
            |this: &mut Self, _ctx, _from: &Upid, _m: UnregisterFrameworkMessage| {
                let _ = this.seen.send(Seen::Unregister);
            },
        );
        h.on(
            |this: &mut Self, _ctx, _from: &Upid, _m: DeactivateFrameworkMessage| {
                let _ = this.seen.send(Seen::Deactivate);
            },
        );
    }
}

/// What the scheduler heard.
#[derive(Debug, Clone, PartialEq)]
enum Heard {
    Registered(FrameworkId),
    Reregistered,
    Disconnected,
    Update(TaskId, TaskState),
    Error(String),
}

/// Launches one task per offer; optionally stops from the status callback, or keeps the statuses
/// for explicit acknowledgement.
struct TestScheduler {
    heard: Sender<Heard>,
    stop_on_update: bool,
    keep: Arc<Mutex<Vec<TaskStatus>>>,
    launched: usize,
}

impl Scheduler for TestScheduler {
    fn registered(&mut self, _d: &DriverHandle, id: &FrameworkId, _m: &MasterInfo) {
        let _ = self.heard.send(Heard::Registered(id.clone()));
    }
    fn reregistered(&mut self, _d: &DriverHandle, _m: &MasterInfo) {
        let _ = self.heard.send(Heard::Reregistered);
    }
    fn disconnected(&mut self, _d: &DriverHandle) {
        let _ = self.heard.send(Heard::Disconnected);
    }
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        for offer in offers {
            self.launched += 1;
            let task = TaskInfo::new(
                format!("t{}", self.launched),
                "t",
                offer.agent_id.clone(),
                "cpus:1;mem:32".parse().unwrap(),
            )
            .with_command(CommandInfo::shell("true"));
            driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
        }
    }
    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        // Keep the status before announcing it: a test that hears the update reads `keep` next.
        self.keep.lock().unwrap().push(status.clone());
        let _ = self
            .heard
            .send(Heard::Update(status.task_id.clone(), status.state));
        if self.stop_on_update {
            assert_eq!(driver.stop(false), DriverStatus::Stopped);
        }
    }
    fn error(&mut self, _d: &DriverHandle, message: &str) {
        let _ = self.heard.send(Heard::Error(message.to_string()));
    }
}

struct Setup {
    master_runtime: Runtime,
    seen: Receiver<Seen>,
    seen_tx: Sender<Seen>,
    heard: Receiver<Heard>,
    keep: Arc<Mutex<Vec<TaskStatus>>>,
    driver: SchedulerDriver,
}

fn setup(stop_on_update: bool, error: Option<&str>, options: DriverOptions) -> Setup {
    let master_runtime = Runtime::new(Config {
        workers: 1,
        ..Config::default()
    })
    .unwrap();
    let (seen_tx, seen) = channel();
    master_runtime
        .spawn(
            "master",
            FakeMaster {
                seen: seen_tx.clone(),
                error: error.map(String::from),
            },
        )
        .unwrap();
    let (heard_tx, heard) = channel();
    let keep = Arc::new(Mutex::new(Vec::new()));
    let scheduler = TestScheduler {
        heard: heard_tx,
        stop_on_update,
        keep: keep.clone(),
        launched: 0,
    };
    let driver = SchedulerDriver::with_options(
        scheduler,
        FrameworkInfo::new("tester", "driver-test"),
        &master_runtime.addr().to_string(),
        options
            .with_backoff_factor(Duration::from_millis(50))
            .on_runtime(master_runtime.handle()),
    )
    .unwrap();
    Setup {
        master_runtime,
        seen,
        seen_tx,
        heard,
        keep,
        driver,
    }
}

#[test]
fn registers_launches_from_the_offer_callback_and_acknowledges_implicitly() {
    let s = setup(false, None, DriverOptions::default());
    assert_eq!(s.driver.status(), DriverStatus::NotStarted);
    assert_eq!(s.driver.start(), DriverStatus::Running);
    assert_eq!(s.seen.recv_timeout(WAIT).unwrap(), Seen::Register);
    assert_eq!(
        s.heard.recv_timeout(WAIT).unwrap(),
        Heard::Registered(FrameworkId::new("fw-1"))
    );
    assert_eq!(
        s.seen.recv_timeout(WAIT).unwrap(),
        Seen::Launch(vec!["t1".into()])
    );
    assert_eq!(
        s.heard.recv_timeout(WAIT).unwrap(),
        Heard::Update(TaskId::new("t1"), TaskState::Running)
    );
    assert_eq!(
        s.seen.recv_timeout(WAIT).unwrap(),
        Seen::Ack(TaskId::new("t1"))
    );
    assert_eq!(s.driver.stop(false), DriverStatus::Stopped);
    assert_eq!(s.seen.recv_timeout(WAIT).unwrap(), Seen::Unregister);
    assert_eq!(
        s.driver.join_timeout(WAIT).expect("the driver to stop"),
        DriverStatus::Stopped
    );
}

#[test]
fn explicit_acknowledgements_are_sent_only_when_asked() {
    let s = setup(
        false,
        None,
        DriverOptions::default().explicit_acknowledgements(),
    );
    s.driver.start();
    assert_eq!(s.seen.recv_timeout(WAIT).unwrap(), Seen::Register);
    assert_eq!(
        s.seen.recv_timeout(WAIT).unwrap(),
        Seen::Launch(vec!["t1".into()])
    );
    assert!(matches!(
        s.heard.recv_timeout(WAIT).unwrap(),
        Heard::Registered(_)
    ));
    assert!(matches!(
        s.heard.recv_timeout(WAIT).unwrap(),
        Heard::Update(..)
    ));
    // Nothing acknowledged yet: a stop's Deactivate is the next thing the master sees.
    let status = s.keep.lock().unwrap()[0].clone();
    assert_eq!(
        s.driver.acknowledge_status_update(status),
        DriverStatus::Running
    );
    assert_eq!(
        s.seen.recv_timeout(WAIT).unwrap(),
        Seen::Ack(TaskId::new("t1"))
    );
    assert_eq!(s.driver.stop(true), DriverStatus::Stopped);
    assert_eq!(s.seen.recv_timeout(WAIT).unwrap(), Seen::Deactivate);
}

#[test]
fn stop_from_a_callback_ends_run() {
    let s = setup(true, None, DriverOptions::default());
    assert_eq!(s.driver.run(), DriverStatus::Stopped);
    // run() returns once the Unregister is sent; the fake master may still be reading it.
    let mut seen = Vec::new();
    while let Ok(next) = s.seen.recv_timeout(WAIT) {
        seen.push(next);
        if seen.contains(&Seen::Unregister) {
            break;
        }
    }
    assert!(seen.contains(&Seen::Unregister), "{seen:?}");
    // Calls after stop are refused with the status.
    assert_eq!(s.driver.kill_task(TaskId::new("t1")), DriverStatus::Stopped);
}

#[test]
fn a_framework_error_aborts_the_driver() {
    let s = setup(
        false,
        Some("Framework failed over"),
        DriverOptions::default(),
    );
    assert_eq!(s.driver.run(), DriverStatus::Aborted);
    assert_eq!(
        s.heard.recv_timeout(WAIT).unwrap(),
        Heard::Error("Framework failed over".into())
    );
    assert_eq!(
        s.driver.launch_tasks(vec![], vec![], Filters::default()),
        DriverStatus::Aborted
    );
}

#[test]
fn reregisters_with_a_restarted_master() {
    let s = setup(false, None, DriverOptions::default());
    s.driver.start();
    assert_eq!(s.seen.recv_timeout(WAIT).unwrap(), Seen::Register);
    assert!(matches!(
        s.heard.recv_timeout(WAIT).unwrap(),
        Heard::Registered(_)
    ));
    // The master process goes away and a new one takes its address.
    let old: Upid = format!("master@{}", s.master_runtime.addr())
        .parse()
        .unwrap();
    s.master_runtime.terminate(&old);
    assert!(
        s.master_runtime.wait_timeout(&old, WAIT),
        "the old master terminates"
    );
    loop {
        match s.heard.recv_timeout(WAIT).unwrap() {
            Heard::Disconnected => break,
            Heard::Update(..) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    s.master_runtime
        .spawn(
            "master",
            FakeMaster {
                seen: s.seen_tx.clone(),
                error: None,
            },
        )
        .unwrap();
    loop {
        match s.heard.recv_timeout(WAIT).unwrap() {
            Heard::Reregistered => break,
            Heard::Update(..) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    let seen: Vec<Seen> = s.seen.try_iter().collect();
    assert!(
        seen.contains(&Seen::Reregister { failover: false }),
        "{seen:?}"
    );
}

#[test]
fn a_new_instance_with_the_framework_id_fails_over() {
    let master_runtime = Runtime::new(Config {
        workers: 1,
        ..Config::default()
    })
    .unwrap();
    let (seen_tx, seen) = channel();
    master_runtime
        .spawn(
            "master",
            FakeMaster {
                seen: seen_tx,
                error: None,
            },
        )
        .unwrap();
    let (heard_tx, heard) = channel();
    let framework = FrameworkInfo {
        id: Some(FrameworkId::new("fw-1")),
        ..FrameworkInfo::new("tester", "driver-test")
    };
    let driver = SchedulerDriver::with_options(
        TestScheduler {
            heard: heard_tx,
            stop_on_update: false,
            keep: Arc::default(),
            launched: 0,
        },
        framework,
        &format!("master@{}", master_runtime.addr()),
        DriverOptions::default().on_runtime(master_runtime.handle()),
    )
    .unwrap();
    driver.start();
    assert_eq!(
        seen.recv_timeout(WAIT).unwrap(),
        Seen::Reregister { failover: true }
    );
    assert_eq!(
        heard.recv_timeout(WAIT).unwrap(),
        Heard::Registered(FrameworkId::new("fw-1"))
    );
    assert_eq!(driver.abort(), DriverStatus::Aborted);
    assert_eq!(
        driver.join_timeout(WAIT).expect("the driver to stop"),
        DriverStatus::Aborted
    );
    // Registered means connected: the abort deactivates the framework (after a launch, maybe).
    loop {
        match seen.recv_timeout(WAIT).unwrap() {
            Seen::Deactivate => break,
            Seen::Launch(_) | Seen::Ack(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Blocks in `registered` until released; tells when it entered and whether offers came.
struct Blocking {
    entered: Sender<()>,
    release: Receiver<()>,
    offered: Sender<()>,
}

impl Scheduler for Blocking {
    fn registered(&mut self, _d: &DriverHandle, _id: &FrameworkId, _m: &MasterInfo) {
        let _ = self.entered.send(());
        let _ = self.release.recv_timeout(WAIT);
    }
    fn resource_offers(&mut self, _d: &DriverHandle, _offers: Vec<Offer>) {
        let _ = self.offered.send(());
    }
    fn status_update(&mut self, _d: &DriverHandle, _status: &TaskStatus) {}
}

#[test]
fn a_blocked_callback_does_not_block_the_driver_and_join_waits_for_it() {
    let master_runtime = Runtime::new(Config {
        workers: 1,
        ..Config::default()
    })
    .unwrap();
    let (seen_tx, seen) = channel();
    master_runtime
        .spawn(
            "master",
            FakeMaster {
                seen: seen_tx,
                error: None,
            },
        )
        .unwrap();
    let (entered_tx, entered) = channel();
    let (release_tx, release) = channel();
    let (offered_tx, offered) = channel();
    let scheduler = Blocking {
        entered: entered_tx,
        release,
        offered: offered_tx,
    };
    let driver = SchedulerDriver::with_options(
        scheduler,
        FrameworkInfo::new("tester", "blocking"),
        &master_runtime.addr().to_string(),
        DriverOptions::default()
            .with_backoff_factor(Duration::from_millis(50))
            .on_runtime(master_runtime.handle()),
    )
    .unwrap();
    driver.start();
    entered.recv_timeout(WAIT).expect("the registered callback");
    // The callback blocks; the driver's process does not: stop is performed (the master hears
    // the Deactivate) and returns.
    assert_eq!(driver.stop(true), DriverStatus::Stopped);
    process::testing::wait_for("the master to hear Deactivate", WAIT, || {
        seen.try_iter().find(|s| *s == Seen::Deactivate)
    });
    // Stopped, but a callback still runs: join waits for it.
    assert_eq!(driver.join_timeout(Duration::from_millis(100)), None);
    release_tx.send(()).unwrap();
    assert_eq!(driver.join_timeout(WAIT), Some(DriverStatus::Stopped));
    // The master's offer, queued behind the blocked callback, is dropped after the stop.
    assert!(offered.recv_timeout(Duration::from_millis(300)).is_err());
}
