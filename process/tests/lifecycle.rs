//! Process hooks: initialize first, finalize last, panics contained, terminate overtakes data.
mod util;

use std::sync::{Arc, Mutex};

use process::{Context, Handlers, Process};
use util::{runtime, Ping, PATIENCE};

type Journal = Arc<Mutex<Vec<String>>>;

struct Recorder {
    journal: Journal,
}

impl Recorder {
    fn note(&self, entry: String) {
        self.journal.lock().unwrap().push(entry);
    }
}

impl Process for Recorder {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _from, Ping(n)| {
            this.note(format!("ping {n}"));
            if n == 99 {
                panic!("ping 99 is fatal");
            }
            if n == 7 {
                ctx.terminate();
            }
        });
    }

    fn initialize(&mut self, _ctx: &mut Context<Self>) {
        self.note("initialize".into());
    }

    fn finalize(&mut self, _ctx: &mut Context<Self>) {
        self.note("finalize".into());
    }
}

fn journal() -> Journal {
    Arc::new(Mutex::new(Vec::new()))
}

#[test]
fn initialize_runs_before_messages_and_finalize_after() {
    let runtime = runtime();
    let journal = journal();
    let pid = runtime
        .spawn(
            "recorder",
            Recorder {
                journal: journal.clone(),
            },
        )
        .unwrap();
    runtime.send(&pid, Ping(1));
    runtime.send(&pid, Ping(7)); // terminates itself
    runtime.send(&pid, Ping(8)); // never handled
    assert!(runtime.wait_timeout(&pid, PATIENCE));
    assert_eq!(
        *journal.lock().unwrap(),
        ["initialize", "ping 1", "ping 7", "finalize"]
    );
    assert_eq!(runtime.process_count(), 0);
}

#[test]
fn a_panicking_handler_terminates_only_its_process() {
    let runtime = runtime();
    let doomed_journal = journal();
    let doomed = runtime
        .spawn(
            "doomed",
            Recorder {
                journal: doomed_journal.clone(),
            },
        )
        .unwrap();
    let healthy_journal = journal();
    let healthy = runtime
        .spawn(
            "healthy",
            Recorder {
                journal: healthy_journal.clone(),
            },
        )
        .unwrap();
    runtime.send(&doomed, Ping(99));
    assert!(runtime.wait_timeout(&doomed, PATIENCE));
    runtime.send(&healthy, Ping(1));
    runtime.settle();
    assert_eq!(
        *doomed_journal.lock().unwrap(),
        ["initialize", "ping 99", "finalize"]
    );
    assert_eq!(*healthy_journal.lock().unwrap(), ["initialize", "ping 1"]);
    assert!(!healthy.is_terminated());
}

#[test]
fn terminate_overtakes_queued_messages() {
    let runtime = runtime();
    let journal = journal();
    let pid = runtime
        .spawn(
            "recorder",
            Recorder {
                journal: journal.clone(),
            },
        )
        .unwrap();
    runtime.settle();
    // Hold the process busy so the pings queue up behind the dispatch.
    let (started_tx, started) = std::sync::mpsc::channel();
    let (release, held) = std::sync::mpsc::channel::<()>();
    drop(runtime.dispatch(&pid, move |_, _| {
        started_tx.send(()).unwrap();
        held.recv_timeout(PATIENCE)
            .expect("the test releases the process");
    }));
    started.recv_timeout(PATIENCE).unwrap();
    for n in 0..10 {
        runtime.send(&pid, Ping(n));
    }
    runtime.terminate(&pid);
    release.send(()).unwrap();
    assert!(runtime.wait_timeout(&pid, PATIENCE));
    assert_eq!(*journal.lock().unwrap(), ["initialize", "finalize"]);
}

#[test]
fn shutdown_finalizes_every_process() {
    let runtime = runtime();
    let journal = journal();
    for n in 0..3 {
        runtime
            .spawn(
                &format!("r{n}"),
                Recorder {
                    journal: journal.clone(),
                },
            )
            .unwrap();
    }
    runtime.settle();
    runtime.shutdown();
    let entries = journal.lock().unwrap().clone();
    assert_eq!(entries.iter().filter(|e| *e == "finalize").count(), 3);
    assert!(matches!(
        runtime.spawn(
            "late",
            Recorder {
                journal: journal.clone()
            }
        ),
        Err(process::Error::Shutdown)
    ));
}
