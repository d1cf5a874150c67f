//! Links across runtimes: exited on remote termination and on connection loss.
mod util;

use std::sync::mpsc;

use process::{Context, Handlers, MessageMatch, Process, Upid};
use util::{runtime, Ping, PATIENCE};

struct Idle;
impl Process for Idle {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|_this: &mut Self, _ctx, _from, _ping: Ping| {});
    }
}

/// Reports every `exited` on a channel.
struct Watcher {
    exits: mpsc::Sender<Upid>,
}

impl Process for Watcher {
    fn exited(&mut self, _ctx: &mut Context<Self>, pid: &Upid) {
        let _ = self.exits.send(pid.clone());
    }
}

fn watcher(node: &process::Runtime) -> (process::Pid<Watcher>, mpsc::Receiver<Upid>) {
    let (exits, exited) = mpsc::channel();
    let id = node.unique_id("watcher");
    (node.spawn(&id, Watcher { exits }).unwrap(), exited)
}

fn link(node: &process::Runtime, watcher: &process::Pid<Watcher>, target: &Upid) {
    let target = target.clone();
    node.dispatch(watcher, move |_, ctx| ctx.link(&target))
        .wait_timeout(PATIENCE)
        .unwrap();
}

#[test]
fn exited_fires_when_the_remote_runtime_shuts_down() {
    let node_a = runtime();
    let node_b = runtime();
    let target = node_a.spawn("target", Idle).unwrap().upid().clone();
    let other = node_a.spawn("other", Idle).unwrap().upid().clone();
    let (watch, exited) = watcher(&node_b);
    link(&node_b, &watch, &target);
    link(&node_b, &watch, &other);
    // Prove the link is established (the connection exists) before cutting it.
    node_b.send(&target, Ping(0));
    node_a.settle();
    drop(node_a);
    let mut gone = vec![
        exited
            .recv_timeout(PATIENCE)
            .expect("exited after connection loss"),
        exited
            .recv_timeout(PATIENCE)
            .expect("exited for the second link"),
    ];
    gone.sort();
    let mut expected = vec![target, other];
    expected.sort();
    assert_eq!(gone, expected);
    assert!(exited.try_recv().is_err(), "one exited per link");
}

#[test]
fn exited_fires_when_a_remote_process_terminates() {
    let node_a = runtime();
    let node_b = runtime();
    let target = node_a.spawn("target", Idle).unwrap();
    let (watch, exited) = watcher(&node_b);
    link(&node_b, &watch, target.upid());
    // The link and this ping travel on the same connection, in order: once node A has seen the ping it
    // has recorded the remote linker.
    let ping_seen = node_a
        .filters()
        .await_message::<Ping>(MessageMatch::any().to(&target));
    node_b.send(target.upid(), Ping(1));
    ping_seen.wait_timeout(PATIENCE).unwrap();
    node_a.terminate(&target);
    assert_eq!(&exited.recv_timeout(PATIENCE).unwrap(), target.upid());
    // Node A stays up: the notice came as a message, not from a broken connection.
    assert_eq!(node_a.process_count(), 0);
}

#[test]
fn linking_to_an_unknown_remote_process_fires_at_once() {
    let node_a = runtime();
    let node_b = runtime();
    let ghost = Upid::new("ghost", node_a.addr()).unwrap();
    let (watch, exited) = watcher(&node_b);
    link(&node_b, &watch, &ghost);
    assert_eq!(exited.recv_timeout(PATIENCE).unwrap(), ghost);
}

#[test]
fn linking_to_an_unreachable_runtime_fires() {
    let node_b = runtime();
    // A port nobody listens on: bind and drop a listener to find one.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let nowhere = Upid::new("ghost", addr).unwrap();
    let (watch, exited) = watcher(&node_b);
    link(&node_b, &watch, &nowhere);
    assert_eq!(exited.recv_timeout(PATIENCE).unwrap(), nowhere);
}

#[test]
fn exited_fires_when_the_connection_breaks() {
    use std::io::Read;
    let node_b = runtime();
    // A fake peer runtime: accepts node B's connection, then hangs up without any goodbye message.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = Upid::new("target", listener.local_addr().unwrap()).unwrap();
    let (watch, exited) = watcher(&node_b);
    link(&node_b, &watch, &target);
    let (mut connection, _) =
        process::testing::accept_within(&listener, "node B connecting for the link", PATIENCE);
    connection.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut hello = [0u8; 16];
    assert!(
        connection.read(&mut hello).unwrap() > 0,
        "node B introduced itself"
    );
    assert!(
        exited.try_recv().is_err(),
        "no exited while the connection is up"
    );
    drop(connection);
    drop(listener);
    assert_eq!(
        exited
            .recv_timeout(PATIENCE)
            .expect("exited on connection loss"),
        target
    );
}
