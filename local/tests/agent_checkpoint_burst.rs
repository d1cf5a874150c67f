//! Group commit under a crash (issue 12): the agent writes checkpoints in batches off its actor
//! and acts on one (forwards an update, acknowledges it to the executor) only once the batch that
//! covers it is synced. Killed with `kill -9` in the middle of a burst, it must have on disk
//! every update the framework received, and a restart must recover the rest.

mod util;

mod recovery;

use std::collections::BTreeSet;

use mesos::*;
use process::testing::wait_until;
use recovery::*;
use util::*;

/// Every (task, state) in the task logs under `meta`, and the logs' count (each must decode: a
/// crash leaves at most a torn tail, never a corrupt record).
fn logged_updates(meta: &std::path::Path) -> (BTreeSet<(String, TaskState)>, usize) {
    let logs = find_files(meta, "task.updates");
    let mut logged = BTreeSet::new();
    for log in &logs {
        let bytes = std::fs::read(log).expect("read a task log");
        let decoded = ::agent::checkpoint::log::decode(&bytes)
            .unwrap_or_else(|err| panic!("{} is corrupt after kill -9: {err}", log.display()));
        for record in decoded.records {
            if let ::agent::checkpoint::UpdateRecord::Update(update) = record {
                logged.insert((
                    update.status.task_id.as_str().to_string(),
                    update.status.state,
                ));
            }
        }
    }
    (logged, logs.len())
}

#[test]
fn an_agent_killed_mid_burst_has_every_update_it_forwarded_on_disk_and_recovers_the_rest() {
    const TASKS: usize = 16;
    let (_cluster, mut agent, mut framework) = setup(
        "burst",
        checkpointing("burst"),
        &["--resources", "cpus:8;mem:4096"],
        false,
    );
    // The tasks end as soon as they start: STARTING, RUNNING, FINISHED from each, all at once.
    framework.go();
    let names: Vec<String> = (0..TASKS).map(|i| format!("b{i}")).collect();
    let offer = framework.events.offers().remove(0);
    let tasks = names
        .iter()
        .map(|name| command_task(name, &offer, "exit 0", "cpus:0.05;mem:16"))
        .collect();
    framework
        .driver
        .launch_tasks(vec![offer.id], tasks, no_filter());
    // Kill the agent while the burst is in flight: a few updates through, most not.
    let mut received = Vec::new();
    while received.len() < 4 {
        received.push(framework.events.wait("the first updates", |e| match e {
            Event::Update(s) => Some(s.clone()),
            _ => None,
        }));
    }
    agent.kill9();
    framework.updates.extend(received.iter().cloned());
    received.extend(framework.quiet(std::time::Duration::from_millis(100)));

    // Every update the framework received was on disk before the agent forwarded it.
    let meta = agent.work_dir().join("meta");
    let (logged, _) = logged_updates(&meta);
    for status in &received {
        let key = (status.task_id.as_str().to_string(), status.state);
        assert!(
            logged.contains(&key),
            "{key:?} reached the framework but is not in its task log; logged: {logged:?}"
        );
    }

    // The restarted agent recovers the rest: every task ends, each in one terminal state.
    agent.start(&["--resources", "cpus:8;mem:4096"]);
    agent.wait_registered();
    assert_eq!(agent.metrics()["slave/recovery_errors"], 0);
    wait_until("every task ended at the framework", WAIT, || {
        framework.quiet(std::time::Duration::from_millis(50));
        names.iter().all(|name| {
            framework
                .updates
                .iter()
                .any(|s| s.task_id.as_str() == name && s.state.is_terminal())
        })
    });
    for name in &names {
        let terminal: BTreeSet<TaskState> = framework
            .updates
            .iter()
            .filter(|s| s.task_id.as_str() == name && s.state.is_terminal())
            .map(|s| s.state)
            .collect();
        assert_eq!(terminal.len(), 1, "{name} ended once: {terminal:?}");
    }
}
