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
    let node_b = runtime();
    // A fake peer runtime: accepts node B's connection, then hangs up without any goodbye message.
    let peer = FakePeer::linked_from(&node_b);
    assert!(
        peer.exited.try_recv().is_err(),
        "no exited while the connection is up"
    );
    drop(peer.first);
    drop(peer.listener);
    assert_eq!(
        peer.exited
            .recv_timeout(PATIENCE)
            .expect("exited on connection loss"),
        peer.target
    );
}

/// A fake peer runtime listening on its own port, a watcher on node B linked to a process there,
/// and node B's first connection to it (its hello frame read).
struct FakePeer {
    listener: std::net::TcpListener,
    target: Upid,
    watch: process::Pid<Watcher>,
    exited: mpsc::Receiver<Upid>,
    first: std::net::TcpStream,
}

impl FakePeer {
    fn linked_from(node_b: &process::Runtime) -> FakePeer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = Upid::new("target", listener.local_addr().unwrap()).unwrap();
        let (watch, exited) = watcher(node_b);
        link(node_b, &watch, &target);
        let first = accept_hello(&listener, "node B connecting for the link");
        FakePeer {
            listener,
            target,
            watch,
            exited,
            first,
        }
    }
}

/// How long a stale `exited` gets to show up (it comes within milliseconds when it does).
const QUIET: std::time::Duration = std::time::Duration::from_millis(500);

fn relink(node: &process::Runtime, watcher: &process::Pid<Watcher>, target: &Upid) {
    let target = target.clone();
    node.dispatch(watcher, move |_, ctx| {
        ctx.link_with(&target, process::RemoteConnection::Reconnect)
    })
    .wait_timeout(PATIENCE)
    .unwrap();
}

/// Accepts node B's next connection to the fake peer and reads its hello frame.
fn accept_hello(listener: &std::net::TcpListener, what: &str) -> std::net::TcpStream {
    use std::io::Read;
    let (mut connection, _) = process::testing::accept_within(listener, what, PATIENCE);
    connection.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut hello = [0u8; 16];
    assert!(connection.read(&mut hello).unwrap() > 0, "{what}: hello");
    connection
}

/// Reads from `connection` until `needle` shows up (bounded by `PATIENCE`).
fn read_until(connection: &mut std::net::TcpStream, needle: &[u8], what: &str) {
    use std::io::Read;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    process::testing::wait_until(what, PATIENCE, || {
        match connection.read(&mut buf) {
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) => panic!("{what}: {e}"),
        }
        seen.windows(needle.len()).any(|w| w == needle)
    });
}

#[test]
fn a_relink_replaces_the_connection_and_the_old_ones_breakage_is_not_reported() {
    use std::io::Write;
    let node_b = runtime();
    // A fake peer runtime: node B's links to it ride node B's connections there.
    let FakePeer {
        listener,
        target,
        watch,
        exited,
        first: old,
    } = FakePeer::linked_from(&node_b);
    // The peer's own connection to node B (introduced by a hello frame from its address): its
    // breakage is reported too, as it would be for a real runtime.
    let mut from_peer = std::net::TcpStream::connect(node_b.addr()).unwrap();
    let mut hello = Vec::new();
    let envelope = process::transport::Envelope {
        from: Upid::new("transport", listener.local_addr().unwrap()).unwrap(),
        to: Upid::new("transport", node_b.addr()).unwrap(),
        name: String::new(),
        body: Vec::new(),
    };
    process::transport::encode_frame(&envelope, 1 << 20, &mut hello).unwrap();
    // Then a ping (bincode of `Ping(7)` is one byte) to a process on node B: once it arrives,
    // node B has taken the connection in, before the relink.
    let idle = node_b.spawn("idle", Idle).unwrap().upid().clone();
    let ping = process::transport::Envelope {
        from: target.clone(),
        to: idle.clone(),
        name: "test.Ping".to_string(),
        body: vec![7],
    };
    process::transport::encode_frame(&ping, 1 << 20, &mut hello).unwrap();
    let ping_seen = node_b
        .filters()
        .await_message::<Ping>(MessageMatch::any().to(&idle));
    from_peer.write_all(&hello).unwrap();
    assert_eq!(ping_seen.wait_timeout(PATIENCE).unwrap().message, Ping(7));
    // The peer reconnected; node B relinks: a fresh connection, and what is sent goes on it.
    relink(&node_b, &watch, &target);
    let mut new = accept_hello(&listener, "node B reconnecting for the relink");
    node_b.send(&target, Ping(7));
    read_until(&mut new, b"Ping", "the ping on the new connection");
    // Both older connections break, late: no news for the relinked watcher.
    drop(old);
    drop(from_peer);
    assert!(
        !process::testing::holds_within(QUIET, || exited.try_recv().is_ok()),
        "the replaced connections' breakage was reported as exited"
    );
    // The new connection breaking is the peer's loss: reported, once.
    drop(new);
    drop(listener);
    assert_eq!(
        process::testing::recv_within(&exited, "exited when the new connection breaks", PATIENCE),
        target
    );
    assert!(
        !process::testing::holds_within(QUIET, || exited.try_recv().is_ok()),
        "one exited per break"
    );
}

#[test]
fn without_a_relink_the_old_connection_s_breakage_is_reported() {
    // The control for the test above: the same late breakage of the first connection, after a
    // plain (reusing) second link, is the watcher's `exited`.
    let node_b = runtime();
    let peer = FakePeer::linked_from(&node_b);
    let (target, exited) = (peer.target, peer.exited);
    link(&node_b, &peer.watch, &target);
    drop(peer.first);
    assert_eq!(
        process::testing::recv_within(&exited, "exited when the only connection breaks", PATIENCE),
        target
    );
}

#[test]
fn a_relink_to_a_real_runtime_still_hears_its_shutdown_once() {
    let node_a = runtime();
    let node_b = runtime();
    let target = node_a.spawn("target", Idle).unwrap();
    let (watch, exited) = watcher(&node_b);
    link(&node_b, &watch, target.upid());
    relink(&node_b, &watch, target.upid());
    relink(&node_b, &watch, target.upid());
    // The relinked connection carries messages.
    let ping_seen = node_a
        .filters()
        .await_message::<Ping>(MessageMatch::any().to(&target));
    node_b.send(target.upid(), Ping(2));
    ping_seen.wait_timeout(PATIENCE).unwrap();
    drop(node_a);
    assert_eq!(
        &process::testing::recv_within(&exited, "exited when node A shuts down", PATIENCE),
        target.upid()
    );
    assert!(
        !process::testing::holds_within(QUIET, || exited.try_recv().is_ok()),
        "one exited for the relinked link"
    );
}
