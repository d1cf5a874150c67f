//! Local links: `exited` fires when a linked process terminates, or at once if it is gone.
mod util;

use process::{Context, Handlers, Process, Upid};
use util::{runtime, Ping, PATIENCE};

/// Does nothing; exists to be linked to.
struct Idle;
impl Process for Idle {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|_this: &mut Self, _ctx, _from, _ping: Ping| {});
    }
}

/// Links to every pid it is told about (by dispatch) and records exits.
#[derive(Default)]
struct Watcher {
    exited: Vec<Upid>,
}

impl Process for Watcher {
    fn exited(&mut self, _ctx: &mut Context<Self>, pid: &Upid) {
        self.exited.push(pid.clone());
    }
}

fn watch(runtime: &process::Runtime, watcher: &process::Pid<Watcher>, target: Upid) {
    runtime
        .dispatch(watcher, move |_, ctx| ctx.link(&target))
        .wait_timeout(PATIENCE)
        .unwrap();
}

#[test]
fn exited_fires_once_when_a_linked_process_terminates() {
    let runtime = runtime();
    let watcher = runtime.spawn("watcher", Watcher::default()).unwrap();
    let a = runtime.spawn("a", Idle).unwrap();
    let b = runtime.spawn("b", Idle).unwrap();
    watch(&runtime, &watcher, a.upid().clone());
    watch(&runtime, &watcher, a.upid().clone()); // linking twice still fires once
    watch(&runtime, &watcher, b.upid().clone());
    runtime.terminate(&a);
    assert!(runtime.wait_timeout(&a, PATIENCE), "a terminates");
    runtime.settle();
    let exited = runtime
        .dispatch(&watcher, |w, _| w.exited.clone())
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(exited, vec![a.upid().clone()]);
}

#[test]
fn linking_to_a_dead_or_unknown_process_fires_at_once() {
    let runtime = runtime();
    let watcher = runtime.spawn("watcher", Watcher::default()).unwrap();
    let a = runtime.spawn("a", Idle).unwrap();
    runtime.terminate(&a);
    assert!(runtime.wait_timeout(&a, PATIENCE), "a terminates");
    let ghost = Upid::new("ghost", runtime.addr()).unwrap();
    watch(&runtime, &watcher, a.upid().clone());
    watch(&runtime, &watcher, ghost.clone());
    runtime.settle();
    let exited = runtime
        .dispatch(&watcher, |w, _| w.exited.clone())
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(exited, vec![a.upid().clone(), ghost]);
}

#[test]
fn a_panicking_process_notifies_its_linkers() {
    struct Fragile;
    impl Process for Fragile {
        fn handlers(handlers: &mut Handlers<Self>) {
            handlers.on(|_this: &mut Self, _ctx, _from, _ping: Ping| panic!("fragile"));
        }
    }
    let runtime = runtime();
    let watcher = runtime.spawn("watcher", Watcher::default()).unwrap();
    let fragile = runtime.spawn("fragile", Fragile).unwrap();
    watch(&runtime, &watcher, fragile.upid().clone());
    runtime.send(&fragile, Ping(0));
    assert!(
        runtime.wait_timeout(&fragile, PATIENCE),
        "fragile terminates"
    );
    runtime.settle();
    let exited = runtime
        .dispatch(&watcher, |w, _| w.exited.clone())
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(exited, vec![fragile.upid().clone()]);
}
