//! Timers under a paused clock: advance and settle, no sleeping.
mod util;

use std::time::Duration;

use process::{Context, Handlers, Process, Timer};
use util::{runtime, Ping, PATIENCE};

/// Expects a ping every `timeout`; counts the timeouts it notices (like a health checker).
struct Monitor {
    timeout: Duration,
    timeouts: u32,
    pings: u32,
    timer: Option<Timer>,
}

impl Monitor {
    fn arm(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.timer.take() {
            timer.cancel();
        }
        self.timer = Some(ctx.delay(self.timeout, |this, ctx| {
            this.timeouts += 1;
            this.arm(ctx);
        }));
    }
}

impl Process for Monitor {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _from, _ping: Ping| {
            this.pings += 1;
            this.arm(ctx);
        });
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.arm(ctx);
    }
}

fn monitor() -> Monitor {
    Monitor {
        timeout: Duration::from_secs(15),
        timeouts: 0,
        pings: 0,
        timer: None,
    }
}

#[test]
fn timeouts_fire_only_when_time_is_advanced_past_them() {
    let runtime = runtime();
    runtime.clock().pause();
    let pid = runtime.spawn("monitor", monitor()).unwrap();
    runtime.settle();
    let count = |rt: &process::Runtime| {
        rt.dispatch(&pid, |m, _| m.timeouts)
            .wait_timeout(PATIENCE)
            .unwrap()
    };

    runtime.clock().advance(Duration::from_secs(14));
    runtime.settle();
    assert_eq!(count(&runtime), 0);

    runtime.clock().advance(Duration::from_secs(1));
    runtime.settle();
    assert_eq!(count(&runtime), 1);

    // A ping re-arms the timer: 14 s later nothing, 15 s later one more.
    runtime.send(&pid, Ping(0));
    runtime.settle();
    runtime.clock().advance(Duration::from_secs(14));
    runtime.settle();
    assert_eq!(count(&runtime), 1);
    runtime.clock().advance(Duration::from_secs(1));
    runtime.settle();
    assert_eq!(count(&runtime), 2);

    // Five periods in one advance fire once: the re-armed timer is set from the advanced time.
    for _ in 0..5 {
        runtime.clock().advance(Duration::from_secs(15));
        runtime.settle();
    }
    assert_eq!(count(&runtime), 7);
}

#[test]
fn two_runtimes_have_independent_clocks() {
    let first = runtime();
    let second = runtime();
    first.clock().pause();
    second.clock().pause();
    let a = first.spawn("monitor", monitor()).unwrap();
    let b = second.spawn("monitor", monitor()).unwrap();
    first.settle();
    second.settle();
    let before = second.clock().now();
    first.clock().advance(Duration::from_secs(60));
    first.settle();
    second.settle();
    assert_eq!(second.clock().now(), before);
    // One jump past four periods fires once: the re-armed timer counts from the advanced time.
    assert_eq!(
        first
            .dispatch(&a, |m, _| m.timeouts)
            .wait_timeout(PATIENCE)
            .unwrap(),
        1
    );
    assert_eq!(
        second
            .dispatch(&b, |m, _| m.timeouts)
            .wait_timeout(PATIENCE)
            .unwrap(),
        0
    );
}

#[test]
fn runtime_delay_and_cancel() {
    let runtime = runtime();
    runtime.clock().pause();
    let pid = runtime.spawn("monitor", monitor()).unwrap();
    let kept = runtime.delay(Duration::from_secs(1), &pid, |m, _| m.pings += 10);
    let cancelled = runtime.delay(Duration::from_secs(1), &pid, |m, _| m.pings += 100);
    assert!(cancelled.cancel());
    runtime.clock().advance(Duration::from_secs(1));
    runtime.settle();
    assert!(!kept.cancel(), "already fired");
    assert_eq!(
        runtime
            .dispatch(&pid, |m, _| m.pings)
            .wait_timeout(PATIENCE)
            .unwrap(),
        10
    );
}

#[test]
fn context_time_follows_the_paused_clock() {
    let runtime = runtime();
    runtime.clock().pause();
    let start = runtime.clock().now();
    let pid = runtime.spawn("monitor", monitor()).unwrap();
    runtime.clock().advance(Duration::from_millis(1500));
    let seen = runtime
        .dispatch(&pid, |_, ctx| ctx.now())
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(seen, start + Duration::from_millis(1500));
}
