//! `dispatch`: closures run on a process, answered through a `Reply` (blocking or awaited).
mod util;

use process::{Error, Handlers, Process};
use util::{block_on, runtime, Ping, PATIENCE};

#[derive(Default)]
struct Counter {
    value: u64,
}

impl Process for Counter {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _ctx, _from, Ping(n)| this.value += n);
    }
}

#[test]
fn blocking_wait_sees_effects_in_mailbox_order() {
    let runtime = runtime();
    let counter = runtime.spawn("counter", Counter::default()).unwrap();
    for n in 1..=100 {
        runtime.send(&counter, Ping(n));
    }
    // The dispatch is queued behind the 100 pings.
    let value = runtime
        .dispatch(&counter, |c, _| c.value)
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(value, 5050);
}

#[test]
fn replies_can_be_awaited() {
    let runtime = runtime();
    let counter = runtime.spawn("counter", Counter::default()).unwrap();
    let sum = block_on(async {
        let mut sum = 0;
        for n in 0..50u64 {
            sum += runtime
                .dispatch(&counter, move |c, _| {
                    c.value += n;
                    c.value
                })
                .await
                .unwrap();
        }
        sum
    });
    let expected: u64 = (0..50u64).map(|n| n * (n + 1) / 2).sum();
    assert_eq!(sum, expected);
}

#[test]
fn dispatch_to_a_terminated_process_is_abandoned() {
    let runtime = runtime();
    let counter = runtime.spawn("counter", Counter::default()).unwrap();
    runtime.terminate(&counter);
    assert!(
        runtime.wait_timeout(&counter, PATIENCE),
        "counter terminates"
    );
    assert!(counter.is_terminated());
    assert!(matches!(
        runtime
            .dispatch(&counter, |c, _| c.value)
            .wait_timeout(PATIENCE),
        Err(Error::Abandoned)
    ));
    assert!(matches!(
        block_on(runtime.dispatch(&counter, |c, _| c.value)),
        Err(Error::Abandoned)
    ));
}

#[test]
fn dispatches_from_many_threads_are_serialised() {
    let runtime = runtime();
    let counter = runtime.spawn("counter", Counter::default()).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..1000 {
                    // A read-modify-write that would lose updates if two ran at once.
                    drop(runtime.dispatch(&counter, |c, _| {
                        let v = c.value;
                        std::hint::black_box(&v);
                        c.value = v + 1;
                    }));
                }
            });
        }
    });
    let value = runtime
        .dispatch(&counter, |c, _| c.value)
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(value, 4000);
}
