//! A request/response conversation between two local processes.
mod util;

use process::{Context, Handlers, Pid, Process, Upid};
use util::{runtime, Ping, Pong, PATIENCE};

/// Answers each ping with a pong carrying the same number, doubled.
struct Doubler {
    served: u64,
}

impl Process for Doubler {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _from, Ping(n)| {
            this.served += 1;
            ctx.reply(Pong(n * 2));
        });
    }
}

/// Sends `count` pings (one at a time) and records the answers.
struct Client {
    server: Pid<Doubler>,
    count: u64,
    answers: Vec<u64>,
    senders: Vec<Upid>,
}

impl Client {
    fn pong(&mut self, ctx: &mut Context<Self>, from: &Upid, Pong(n): Pong) {
        self.answers.push(n);
        self.senders.push(from.clone());
        let sent = self.answers.len() as u64;
        if sent < self.count {
            ctx.send(&self.server, Ping(sent));
        }
    }
}

impl Process for Client {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(Self::pong);
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.send(&self.server, Ping(0));
    }
}

#[test]
fn pings_are_answered_in_order() {
    let runtime = runtime();
    let server = runtime.spawn("server", Doubler { served: 0 }).unwrap();
    let client = runtime
        .spawn(
            "client",
            Client {
                server: server.clone(),
                count: 1000,
                answers: Vec::new(),
                senders: Vec::new(),
            },
        )
        .unwrap();
    runtime.settle();
    let (answers, senders) = runtime
        .dispatch(&client, |c, _| (c.answers.clone(), c.senders.clone()))
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(answers, (0..1000).map(|n| n * 2).collect::<Vec<_>>());
    assert!(senders.iter().all(|s| s == server.upid()));
    let served = runtime
        .dispatch(&server, |s, _| s.served)
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(served, 1000);
}

#[test]
fn sends_by_upid_reach_the_process_and_unknown_ids_are_dropped() {
    let runtime = runtime();
    let server = runtime.spawn("server", Doubler { served: 0 }).unwrap();
    let by_address: Upid = server.upid().to_string().parse().unwrap();
    runtime.send(&by_address, Ping(1));
    let unknown = Upid::new("nobody", runtime.addr()).unwrap();
    runtime.send(&unknown, Ping(2));
    runtime.settle();
    assert_eq!(
        runtime
            .dispatch(&server, |s, _| s.served)
            .wait_timeout(PATIENCE)
            .unwrap(),
        1
    );
}

#[test]
fn messages_without_a_handler_are_dropped_and_the_process_keeps_running() {
    let runtime = runtime();
    let server = runtime.spawn("server", Doubler { served: 0 }).unwrap();
    runtime.send(&server, Pong(5));
    runtime.send(&server, Ping(5));
    runtime.settle();
    assert_eq!(
        runtime
            .dispatch(&server, |s, _| s.served)
            .wait_timeout(PATIENCE)
            .unwrap(),
        1
    );
}

#[test]
fn spawn_rejects_duplicate_and_invalid_ids() {
    let runtime = runtime();
    runtime.spawn("server", Doubler { served: 0 }).unwrap();
    assert!(matches!(
        runtime.spawn("server", Doubler { served: 0 }),
        Err(process::Error::DuplicateId(id)) if id == "server"
    ));
    assert!(matches!(
        runtime.spawn("a/b", Doubler { served: 0 }),
        Err(process::Error::InvalidId(_))
    ));
    let first = runtime.unique_id("worker");
    assert_ne!(first, runtime.unique_id("worker"));
    assert!(first.starts_with("worker("));
}
