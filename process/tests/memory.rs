//! What an idle process costs: under 2 KiB each, measured with a counting allocator.
mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use process::{Handlers, Process};
use util::{runtime, Ping};

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A typical small process: a counter.
struct Idle {
    pings: u64,
}

impl Process for Idle {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _ctx, _from, Ping(n)| this.pings += n);
    }
}

#[test]
fn an_idle_process_costs_under_2_kib() {
    const COUNT: usize = 10_000;
    let runtime = runtime();
    // Warm up: handler table, registry shards, worker caches.
    let warm = runtime.spawn("warm", Idle { pings: 0 }).unwrap();
    runtime.send(&warm, Ping(1));
    runtime.settle();
    let before = LIVE.load(Ordering::SeqCst);
    let pids: Vec<_> = (0..COUNT)
        .map(|i| {
            runtime
                .spawn(&format!("idle-{i}"), Idle { pings: 0 })
                .unwrap()
        })
        .collect();
    // Each has handled a message, so its mailbox has been used.
    for pid in &pids {
        runtime.send(pid, Ping(1));
    }
    runtime.settle();
    let after = LIVE.load(Ordering::SeqCst);
    // The `Pid` handles the test keeps are not part of a process's cost.
    let handles = (COUNT * std::mem::size_of::<process::Pid<Idle>>()) as isize;
    let per_process = (after - before - handles) / COUNT as isize;
    println!("idle process: {per_process} bytes");
    assert!(
        per_process < 2048,
        "an idle process costs {per_process} bytes"
    );
    drop(pids);
}
