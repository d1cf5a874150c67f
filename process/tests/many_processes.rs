//! 100,000 processes: spawned, all reachable, all terminated.
mod util;

use process::{Handlers, Process};
use util::{runtime, Ping, PATIENCE};

struct Cell {
    got: u64,
}

impl Process for Cell {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _ctx, _from, Ping(n)| this.got += n);
    }
}

#[test]
fn a_hundred_thousand_processes() {
    const COUNT: usize = 100_000;
    let runtime = runtime();
    let pids: Vec<_> = (0..COUNT)
        .map(|i| {
            runtime
                .spawn(&format!("cell-{i}"), Cell { got: 0 })
                .unwrap()
        })
        .collect();
    assert_eq!(runtime.process_count(), COUNT);
    for pid in &pids {
        runtime.send(pid, Ping(1));
    }
    runtime.settle();
    let total: u64 = pids
        .iter()
        .step_by(1000)
        .map(|pid| {
            runtime
                .dispatch(pid, |c, _| c.got)
                .wait_timeout(PATIENCE)
                .unwrap()
        })
        .sum();
    assert_eq!(total, (COUNT / 1000) as u64);
    for pid in &pids {
        runtime.terminate(pid);
    }
    for pid in &pids {
        assert!(runtime.wait_timeout(pid, PATIENCE));
    }
    assert_eq!(runtime.process_count(), 0);
}
