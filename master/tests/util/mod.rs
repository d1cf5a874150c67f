//! Helpers shared by the master's integration tests: runtimes on loopback, a recording fake
//! scheduler and fake agent that speak the protocol over real TCP, and a tiny HTTP client.
#![allow(dead_code)]

use std::any::Any;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use master::{Master, MasterConfig, MasterHandle};
use mesos::protocol::*;
use mesos::v1::client::Subscription;
use mesos::{AgentId, AgentInfo, Filters, FrameworkId, FrameworkInfo, TaskInfo};
use process::{Config, Context, Handlers, Message, Pid, Process, Runtime, Upid};

/// Real-time bound for waits that should finish in milliseconds (guards against hangs only).
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A runtime with two workers on a free loopback port.
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

/// A master on its own runtime.
pub fn start_master(config: MasterConfig) -> (Runtime, MasterHandle) {
    let rt = runtime();
    let handle = Master::spawn(&rt, config).expect("master starts");
    (rt, handle)
}

/// Records every protocol message it receives; answers pings with pongs.
pub struct Recorder {
    tx: Sender<(String, Box<dyn Any + Send>)>,
}

macro_rules! record {
    ($h:expr, $($ty:ty),+ $(,)?) => {
        $($h.on(|this: &mut Recorder, _ctx, _from, m: $ty| {
            let _ = this.tx.send((<$ty as Message>::NAME.to_string(), Box::new(m)));
        });)+
    };
}

impl Process for Recorder {
    fn handlers(h: &mut Handlers<Self>) {
        record!(
            h,
            FrameworkRegisteredMessage,
            FrameworkReregisteredMessage,
            FrameworkErrorMessage,
            ResourceOffersMessage,
            RescindResourceOfferMessage,
            StatusUpdateMessage,
            StatusUpdateAcknowledgementMessage,
            LostSlaveMessage,
            ExecutorToFrameworkMessage,
            FrameworkToExecutorMessage,
            SlaveRegisteredMessage,
            SlaveReregisteredMessage,
            RunTaskMessage,
            KillTaskMessage,
            ShutdownFrameworkMessage,
            UpdateFrameworkMessage,
            KillTasksOnReregistrationMessage,
            ShutdownExecutorMessage,
            ExitedExecutorMessage,
        );
        h.on(|this: &mut Recorder, ctx, _from, m: PingSlaveMessage| {
            ctx.reply(PongSlaveMessage {});
            let _ = this
                .tx
                .send((PingSlaveMessage::NAME.to_string(), Box::new(m)));
        });
    }
}

/// A fake peer (scheduler or agent) on its own runtime, and what it received.
pub struct Peer {
    pub runtime: Runtime,
    pub pid: Pid<Recorder>,
    rx: Receiver<(String, Box<dyn Any + Send>)>,
    pending: Vec<(String, Box<dyn Any + Send>)>,
}

impl Peer {
    /// A peer process `id` on a new runtime.
    pub fn new(id: &str) -> Peer {
        let runtime = runtime();
        let (tx, rx) = channel();
        let pid = runtime.spawn(id, Recorder { tx }).expect("peer spawns");
        Peer {
            runtime,
            pid,
            rx,
            pending: Vec::new(),
        }
    }

    /// The peer's pid as the master sees it.
    pub fn upid(&self) -> Upid {
        self.pid.upid().clone()
    }

    /// Sends `message` from this peer's process to `to`.
    pub fn send<M: Message>(&self, to: &Upid, message: M) {
        let to = to.clone();
        let reply = self.runtime.dispatch(
            &self.pid,
            move |_: &mut Recorder, ctx: &mut Context<'_, Recorder>| ctx.send(&to, message),
        );
        reply.wait_timeout(PATIENCE).expect("dispatch runs");
    }

    /// The next message of type `M` (others received meanwhile are kept for later).
    pub fn expect<M: Message>(&mut self) -> M {
        self.try_expect::<M>(PATIENCE)
            .unwrap_or_else(|| panic!("no {} within {PATIENCE:?}", M::NAME))
    }

    /// The next message of type `M` within `wait`, if any. (Real time only bounds the wait for
    /// messages crossing the network; no logic under test depends on it.)
    #[allow(clippy::disallowed_methods)]
    pub fn try_expect<M: Message>(&mut self, wait: Duration) -> Option<M> {
        if let Some(i) = self.pending.iter().position(|(n, _)| n == M::NAME) {
            let (_, m) = self.pending.remove(i);
            return m.downcast::<M>().ok().map(|m| *m);
        }
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let (name, m) = self.rx.recv_timeout(left).ok()?;
            if name == M::NAME {
                return m.downcast::<M>().ok().map(|m| *m);
            }
            self.pending.push((name, m));
        }
    }

    /// Names of the messages received and not yet consumed (after `settle` of this runtime).
    pub fn unconsumed(&mut self) -> Vec<String> {
        self.runtime.settle();
        while let Ok(m) = self.rx.try_recv() {
            self.pending.push(m);
        }
        self.pending.iter().map(|(n, _)| n.clone()).collect()
    }
}

/// A fake agent `peer` registering `info` with `master`: the peer and the agent id it was given.
pub fn register_agent(master: &MasterHandle, peer: &str, info: AgentInfo) -> (Peer, AgentId) {
    let mut agent = Peer::new(peer);
    agent.send(
        master.pid(),
        RegisterSlaveMessage {
            agent: info,
            version: "1".into(),
        },
    );
    let agent_id = agent.expect::<SlaveRegisteredMessage>().agent_id;
    (agent, agent_id)
}

/// A fake scheduler `peer` registering `info` with `master`: the peer and its framework id.
pub fn register_framework(
    master: &MasterHandle,
    peer: &str,
    info: FrameworkInfo,
) -> (Peer, FrameworkId) {
    let mut scheduler = Peer::new(peer);
    scheduler.send(
        master.pid(),
        RegisterFrameworkMessage {
            framework: info,
            suppressed_roles: vec![],
        },
    );
    let framework_id = scheduler
        .expect::<FrameworkRegisteredMessage>()
        .framework_id;
    (scheduler, framework_id)
}

/// The scheduler takes its next offer and launches `tasks` on it (default filters).
pub fn launch_on_next_offer(
    scheduler: &mut Peer,
    master: &MasterHandle,
    framework_id: &FrameworkId,
    tasks: Vec<TaskInfo>,
) {
    let offer = scheduler.expect::<ResourceOffersMessage>().offers.remove(0);
    scheduler.send(
        master.pid(),
        LaunchTasksMessage {
            framework_id: framework_id.clone(),
            tasks,
            filters: Filters::default(),
            offer_ids: vec![offer.id],
        },
    );
}

/// The next event of a v1 stream that is not a HEARTBEAT.
pub fn next(stream: &mut Subscription) -> serde_json::Value {
    loop {
        let event = stream
            .next_event()
            .expect("reads an event")
            .expect("stream open");
        if event["type"] != "HEARTBEAT" {
            return event;
        }
    }
}

/// `GET path` on `addr`: the status code and the body parsed as JSON (`Null` if it is not JSON).
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let (status, body) = http_get_raw(addr, path);
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// `GET path` on `addr`: the status code and the raw body.
pub fn http_get_raw(addr: SocketAddr, path: &str) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("timeout set");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .expect("request sent");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("status code");
                return (status, buf[end + 4..end + 4 + length].to_vec());
            }
        }
        let n = stream.read(&mut chunk).expect("reads the response");
        assert!(n > 0, "connection closed before the full response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
