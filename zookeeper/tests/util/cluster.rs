//! Cluster pieces for the failover tests: `mesos-master` child processes, a recording scheduler,
//! and HTTP reads of a master's state.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, Scheduler};
use mesos::*;
use process::testing::{BoundedChild, Lines};
use serde_json::Value as Json;

/// How long any single expected event may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// The directory cargo put this test's binaries in (`target/<profile>`).
pub use process::testing::profile_dir;

pub use process::testing::ensure_binary;

/// A `mesos-master --zk=...` child process, SIGKILLed on drop.
pub struct MasterChild {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Keeps reading its stdout so it never blocks on a full pipe.
    _stdout: Lines,
}

impl MasterChild {
    /// Starts a master contending under `zk` with a 2 s session.
    pub fn start(zk: &str) -> MasterChild {
        MasterChild::with_session(zk, "2secs")
    }

    /// Starts a master contending under `zk` with `session` (Mesos's duration form), on a port
    /// the kernel picks (a port chosen in advance may be taken by then).
    pub fn with_session(zk: &str, session: &str) -> MasterChild {
        let binary = ensure_binary("master", "mesos-master");
        let mut child = Command::new(binary)
            .args([
                "--ip=127.0.0.1",
                "--port=0",
                &format!("--zk={zk}"),
                "--quorum=1",
                &format!("--zk_session_timeout={session}"),
                "--allocation_interval=100ms",
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("mesos-master starts");
        let (addr, lines) = listening_address(&mut child, "mesos-master");
        MasterChild {
            child,
            addr,
            _stdout: lines,
        }
    }

    /// Its pid, `master@127.0.0.1:port`.
    pub fn pid(&self) -> String {
        format!("master@{}", self.addr)
    }

    /// SIGTERM (a graceful stop); returns its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        self.child.wait_within("mesos-master after SIGTERM", WAIT)
    }

    /// SIGKILL, as a crash.
    pub fn kill(&mut self) {
        kill_and_reap(&mut self.child);
    }
}

impl Drop for MasterChild {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `mesos-agent --master=zk://...` child process, SIGKILLed on drop.
pub struct AgentChild {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Keeps reading its stdout so it never blocks on a full pipe.
    _stdout: Lines,
}

impl AgentChild {
    /// Starts an agent with one cpu following the leader under `zk`, quick to retry.
    pub fn start(zk: &str, work_dir: &std::path::Path) -> AgentChild {
        let binary = ensure_binary("agent", "mesos-agent");
        ensure_binary("agent", "mesos-executor");
        let mut child = Command::new(binary)
            .args([
                &format!("--master={zk}"),
                "--ip=127.0.0.1",
                "--port=0",
                &format!("--work_dir={}", work_dir.display()),
                "--resources=cpus:1;mem:512;disk:100",
                &format!("--launcher_dir={}", profile_dir().display()),
                "--status_update_retry_interval_min=200ms",
                "--registration_backoff_factor=50ms",
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("mesos-agent starts");
        let (addr, lines) = listening_address(&mut child, "mesos-agent");
        AgentChild {
            child,
            addr,
            _stdout: lines,
        }
    }
}

/// The address in a master's or agent's banner ("... state at http://<addr>/..."), and the
/// reader of the rest of its stdout. The child is killed if no banner comes.
fn listening_address(child: &mut Child, what: &str) -> (SocketAddr, Lines) {
    let lines = Lines::new(child.stdout.take().expect("stdout piped"));
    let banner = match lines.next_within(&format!("{what}'s banner"), WAIT) {
        Some(banner) => banner,
        None => {
            kill_and_reap(child);
            panic!("{what} exited before printing where it listens");
        }
    };
    let addr = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("{what}'s banner names no address: {banner}"));
    (addr, lines)
}

impl Drop for AgentChild {
    fn drop(&mut self) {
        kill_and_reap(&mut self.child);
    }
}

/// SIGKILL and reap, bounded and without panicking (it runs in `drop`, maybe while unwinding).
fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    if !process::testing::holds_within(WAIT, || !matches!(child.try_wait(), Ok(None))) {
        eprintln!("pid {} survived SIGKILL for {WAIT:?}", child.id());
    }
}

/// GET `path` from `addr` and parse the JSON body.
pub fn get_json(addr: SocketAddr, path: &str) -> Json {
    try_get_json(addr, path).unwrap_or_else(|| panic!("no JSON from http://{addr}{path}"))
}

/// GET `path` from `addr` and parse the JSON body; `None` while nothing serves it (the process
/// is starting: no listener yet, or a 404 before the route exists).
pub fn try_get_json(addr: SocketAddr, path: &str) -> Option<Json> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    let mut buf = [0u8; 65536];
    let mut body_at = None;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
        let text = String::from_utf8_lossy(&response).to_string();
        if let Some(at) = text.find("\r\n\r\n") {
            body_at = Some(at + 4);
            let length = text[..at]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(usize::MAX);
            if response.len() >= at + 4 + length {
                break;
            }
        }
    }
    let at = body_at?;
    if !response.starts_with(b"HTTP/1.1 200") {
        return None;
    }
    serde_json::from_slice(&response[at..]).ok()
}

/// The state of `task` in a `/master/state` JSON, if the master knows it.
pub fn task_state(state: &Json, task: &str) -> Option<String> {
    state["frameworks"]
        .as_array()?
        .iter()
        .flat_map(|f| f["tasks"].as_array().cloned().unwrap_or_default())
        .find(|t| t["id"] == task)
        .and_then(|t| t["state"].as_str().map(str::to_string))
}

/// Polls `read` until `done` accepts its value (or panics after [`WAIT`] naming `what`).
pub fn eventually<T: std::fmt::Debug>(
    what: &str,
    mut read: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = read();
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} within {WAIT:?}: last {value:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Everything the tests' scheduler hears.
#[derive(Debug, Clone)]
pub enum Event {
    Registered(FrameworkId),
    Reregistered(String),
    Disconnected,
    Offers(Vec<Offer>),
    Update(TaskStatus),
    Other(String),
}

/// A scheduler that only records.
pub struct Recorder {
    /// Where events go.
    pub events: Sender<Event>,
}

impl Scheduler for Recorder {
    fn registered(&mut self, _d: &DriverHandle, id: &FrameworkId, _m: &MasterInfo) {
        let _ = self.events.send(Event::Registered(id.clone()));
    }
    fn reregistered(&mut self, _d: &DriverHandle, m: &MasterInfo) {
        let _ = self
            .events
            .send(Event::Reregistered(m.pid.clone().unwrap_or_default()));
    }
    fn disconnected(&mut self, _d: &DriverHandle) {
        let _ = self.events.send(Event::Disconnected);
    }
    fn resource_offers(&mut self, _d: &DriverHandle, offers: Vec<Offer>) {
        let _ = self.events.send(Event::Offers(offers));
    }
    fn offer_rescinded(&mut self, _d: &DriverHandle, offer_id: &OfferId) {
        let _ = self
            .events
            .send(Event::Other(format!("rescinded {offer_id}")));
    }
    fn status_update(&mut self, _d: &DriverHandle, status: &TaskStatus) {
        let _ = self.events.send(Event::Update(status.clone()));
    }
    fn framework_message(&mut self, _d: &DriverHandle, _e: &ExecutorId, _a: &AgentId, _: &[u8]) {}
    fn agent_lost(&mut self, _d: &DriverHandle, agent_id: &AgentId) {
        let _ = self
            .events
            .send(Event::Other(format!("agent lost {agent_id}")));
    }
    fn executor_lost(&mut self, _d: &DriverHandle, e: &ExecutorId, _a: &AgentId, status: i32) {
        let _ = self
            .events
            .send(Event::Other(format!("executor lost {e} {status}")));
    }
    fn error(&mut self, _d: &DriverHandle, message: &str) {
        let _ = self.events.send(Event::Other(format!("error {message}")));
    }
}

/// Launches task `name` on the next offer; it runs until the file `done` exists. Returns once
/// the task is RUNNING.
pub fn launch_until_file(
    driver: &mesos::scheduler::SchedulerDriver,
    events: &Receiver<Event>,
    name: &str,
    done: &std::path::Path,
) {
    let offer = wait_event(events, "an offer", |e| match e {
        Event::Offers(offers) if !offers.is_empty() => Some(offers[0].clone()),
        _ => None,
    });
    let _ = std::fs::remove_file(done);
    let task = TaskInfo::new(
        name,
        name,
        offer.agent_id.clone(),
        "cpus:0.5;mem:64".parse().expect("resources"),
    )
    .with_command(CommandInfo::shell(format!(
        "while [ ! -f {} ]; do sleep 0.05; done",
        done.display()
    )));
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    wait_event(events, "TASK_RUNNING", |e| match e {
        Event::Update(s) if s.task_id.as_str() == name && s.state == TaskState::Running => Some(()),
        _ => None,
    });
}

/// Waits for the first event `pick` accepts; panics with what was seen.
pub fn wait_event<T>(
    rx: &Receiver<Event>,
    what: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(event) => {
                if let Some(found) = pick(&event) {
                    return found;
                }
                seen.push(event);
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                panic!("no {what} within {WAIT:?}; seen: {seen:#?}")
            }
        }
    }
}
