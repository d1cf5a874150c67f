//! Two runtimes on two loopback ports exchanging messages over real TCP.
mod util;

use std::sync::mpsc;

use process::{Context, Handlers, MessageMatch, Process, Upid};
use util::{runtime, runtime_on, Ping, Pong, PATIENCE};

/// Answers pings (from anywhere) with pongs.
#[derive(Default)]
struct Server {
    pings: Vec<u64>,
}

impl Process for Server {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _from, Ping(n)| {
            this.pings.push(n);
            ctx.reply(Pong(n + 1000));
        });
    }
}

/// Sends pings to a (remote) server and reports every pong on a channel.
struct Client {
    server: Upid,
    pongs: mpsc::Sender<(Upid, u64)>,
}

impl Process for Client {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _ctx, from, Pong(n)| {
            let _ = this.pongs.send((from.clone(), n));
        });
        handlers.on(|this: &mut Self, ctx: &mut Context<Self>, _from, Ping(n)| {
            ctx.send(&this.server, Ping(n));
        });
    }
}

#[test]
fn request_response_between_two_runtimes() {
    let node_a = runtime();
    let node_b = runtime();
    assert_ne!(node_a.addr(), node_b.addr());
    let server = node_a.spawn("server", Server::default()).unwrap();
    let (pongs_tx, pongs) = mpsc::channel();
    let client = node_b
        .spawn(
            "client",
            Client {
                server: server.upid().clone(),
                pongs: pongs_tx,
            },
        )
        .unwrap();
    for n in 0..100 {
        node_b.send(&client, Ping(n));
    }
    for n in 0..100 {
        let (from, pong) = pongs.recv_timeout(PATIENCE).expect("pong over TCP");
        assert_eq!(pong, n + 1000, "pongs arrive in order");
        assert_eq!(&from, server.upid());
    }
    let pings = node_a
        .dispatch(&server, |s, _| s.pings.clone())
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(pings, (0..100).collect::<Vec<_>>());
}

#[test]
fn filters_see_remote_messages_on_both_sides() {
    let node_a = runtime();
    let node_b = runtime();
    let server = node_a.spawn("server", Server::default()).unwrap();
    let (pongs_tx, pongs) = mpsc::channel();
    let client = node_b
        .spawn(
            "client",
            Client {
                server: server.upid().clone(),
                pongs: pongs_tx,
            },
        )
        .unwrap();
    // Sender side (typed) and receiver side (by name) both observe the ping.
    let leaving = node_b
        .filters()
        .await_message::<Ping>(MessageMatch::any().from(&client).to(server.upid()));
    let arriving = node_a
        .filters()
        .await_message::<Ping>(MessageMatch::any().to(&server));
    // The receiver drops the first pong that arrives back on node B: a lost pong.
    let lost = node_b
        .filters()
        .drop_message::<Pong>(MessageMatch::any().to(&client));
    node_b.send(&client, Ping(7));
    assert_eq!(leaving.wait_timeout(PATIENCE).unwrap().message, Ping(7));
    let arrived = arriving.wait_timeout(PATIENCE).unwrap();
    assert_eq!((arrived.message, &arrived.from), (Ping(7), client.upid()));
    assert_eq!(lost.wait_timeout(PATIENCE).unwrap().message, Pong(1007));
    node_b.send(&client, Ping(8));
    assert_eq!(pongs.recv_timeout(PATIENCE).unwrap().1, 1008);
    assert!(pongs.try_recv().is_err(), "the dropped pong never arrived");
}

#[test]
fn a_restarted_peer_on_the_same_port_is_reached_again() {
    let node_b = runtime();
    let node_a = runtime();
    let addr = node_a.addr();
    let server = node_a.spawn("server", Server::default()).unwrap();
    let server_upid = server.upid().clone();
    let (pongs_tx, pongs) = mpsc::channel();
    let client = node_b
        .spawn(
            "client",
            Client {
                server: server_upid.clone(),
                pongs: pongs_tx,
            },
        )
        .unwrap();
    node_b.send(&client, Ping(1));
    assert_eq!(pongs.recv_timeout(PATIENCE).unwrap().1, 1001);

    drop(server);
    drop(node_a);
    let node_a = runtime_on(addr);
    assert_eq!(node_a.addr(), addr);
    node_a.spawn("server", Server::default()).unwrap();
    // The first sends may race the old connection's teardown and be lost; keep asking until one lands.
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut n = 2;
    loop {
        node_b.send(&client, Ping(n));
        match pongs.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok((from, pong)) => {
                assert_eq!(from, server_upid);
                assert!(pong >= 1002);
                break;
            }
            Err(_) if std::time::Instant::now() < deadline => n += 1,
            Err(error) => panic!("no pong from the restarted peer: {error}"),
        }
    }
}

/// On `Ping(count)`, sends `count` pings to each of two remote servers (on two runtimes) in one
/// handler, alternating, each carrying its index: the worker buffers remote sends per peer, so this
/// switches buffers every message and, past the flush threshold, streams.
struct Burster {
    servers: [Upid; 2],
}

impl Process for Burster {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _from, Ping(count)| {
            for n in 0..count {
                ctx.send(&this.servers[0], Ping(n));
                ctx.send(&this.servers[1], Ping(n));
            }
            // Then a long run to one peer (several flushes of the buffer).
            for n in count..count * 20 {
                ctx.send(&this.servers[0], Ping(n));
            }
        });
        handlers.on(|_: &mut Self, _ctx, _from, _: Pong| {});
    }
}

#[test]
fn a_handlers_remote_bursts_reach_every_peer_in_order() {
    let node_a = runtime();
    let node_b = runtime();
    let node_c = runtime();
    let first = node_a.spawn("server", Server::default()).unwrap();
    let second = node_b.spawn("server", Server::default()).unwrap();
    let burster = node_c
        .spawn(
            "burster",
            Burster {
                servers: [first.upid().clone(), second.upid().clone()],
            },
        )
        .unwrap();
    let count = 5_000u64;
    node_c.send(&burster, Ping(count));
    let pings_of = |node: &process::Runtime, server: &process::Pid<Server>, expected: usize| {
        process::testing::wait_until("every ping handled", PATIENCE, || {
            node.dispatch(server, |s, _| s.pings.len())
                .wait_timeout(PATIENCE)
                .is_ok_and(|n| n >= expected)
        });
        node.dispatch(server, |s, _| s.pings.clone())
            .wait_timeout(PATIENCE)
            .unwrap()
    };
    assert_eq!(
        pings_of(&node_a, &first, 20 * count as usize),
        (0..20 * count).collect::<Vec<_>>()
    );
    assert_eq!(
        pings_of(&node_b, &second, count as usize),
        (0..count).collect::<Vec<_>>()
    );
}

/// Records every remote message it gets: who sent it, which type, which number.
#[derive(Default)]
struct Recorder {
    seen: Vec<(String, char, u64)>,
}

impl Process for Recorder {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _ctx, from, Ping(n)| {
            this.seen.push((from.id().to_string(), 'i', n))
        });
        handlers.on(|this: &mut Self, _ctx, from, Pong(n)| {
            this.seen.push((from.id().to_string(), 'o', n))
        });
    }
}

/// On `Ping(count)` from anyone but the recorder, sends `count` messages of two types to it, every
/// third one a `Pong`.
struct Mixer {
    recorder: Upid,
}

impl Process for Mixer {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _from, Ping(count)| {
            for n in 0..count {
                if n % 3 == 0 {
                    ctx.send(&this.recorder, Pong(n));
                } else {
                    ctx.send(&this.recorder, Ping(n));
                }
            }
        });
    }
}

#[test]
fn remote_messages_of_mixed_types_from_two_senders_arrive_in_each_senders_order() {
    // Remote messages travel in batches still encoded and are decoded by the receiver's worker:
    // the types, the senders and the batch boundaries (every 64 messages) must not reorder them.
    let node_a = runtime();
    let node_b = runtime();
    let recorder = node_a.spawn("recorder", Recorder::default()).unwrap();
    let mixers: Vec<_> = ["mixer-1", "mixer-2"]
        .into_iter()
        .map(|id| {
            node_b
                .spawn(
                    id,
                    Mixer {
                        recorder: recorder.upid().clone(),
                    },
                )
                .unwrap()
        })
        .collect();
    let count = 3_000u64;
    for mixer in &mixers {
        node_b.send(mixer, Ping(count));
    }
    let total = 2 * count as usize;
    process::testing::wait_until("every message recorded", PATIENCE, || {
        node_a
            .dispatch(&recorder, |r, _| r.seen.len())
            .wait_timeout(PATIENCE)
            .is_ok_and(|n| n >= total)
    });
    let seen = node_a
        .dispatch(&recorder, |r, _| r.seen.clone())
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(seen.len(), total);
    let expected: Vec<(char, u64)> = (0..count)
        .map(|n| (if n % 3 == 0 { 'o' } else { 'i' }, n))
        .collect();
    for mixer in ["mixer-1", "mixer-2"] {
        let of_mixer: Vec<(char, u64)> = seen
            .iter()
            .filter(|(from, _, _)| from == mixer)
            .map(|(_, kind, n)| (*kind, *n))
            .collect();
        assert_eq!(of_mixer, expected, "{mixer}'s messages out of order");
    }
}
