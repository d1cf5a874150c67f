//! What happens while an agent is down (issue 12), end to end: a real `mesos-agent` is `kill -9`ed,
//! something happens to its tasks or its framework, and the restarted agent (same `--work_dir`
//! and port) makes it right. Each test checks the task's process was never restarted, its final
//! state, and how many times each update reached the framework.

mod util;

mod recovery;

use std::time::Duration;

use mesos::*;
use process::testing::wait_until;
use recovery::*;
use util::*;

/// Starting (once), running (once) and `end` (once): what the framework must have seen of `t1`.
fn once_then(end: TaskState) -> std::collections::BTreeMap<TaskState, usize> {
    counts(&[(TaskState::Starting, 1), (TaskState::Running, 1), (end, 1)])
}

#[test]
fn a_task_that_finished_while_its_agent_was_down_is_reported_once_after_the_restart() {
    // The agent stays down longer than a command executor waits for an acknowledgement when its
    // agent is up (10 s); the master gives it 50 s before declaring it lost.
    let cluster = master_with_ping_timeout(Duration::from_secs(10));
    let mut agent = RestartableAgent::new(&cluster, "finished");
    agent.start(&[]);
    let mut framework = Framework::start(&cluster, &agent, checkpointing("finished"), false);
    let pid = run_t1(&mut framework);
    agent.wait_logged(1, 4);
    agent.kill9();
    framework.go();
    wait_until("the task ends while its agent is down", WAIT, || {
        !alive(pid)
    });
    // Nobody can hear it yet: the executor keeps its terminal update for the returning agent.
    assert!(framework.quiet(Duration::from_secs(11)).is_empty());
    assert!(
        !processes_under(&agent.work_dir()).is_empty(),
        "the executor waits for its agent"
    );

    agent.start(&[]);
    let finished = framework.wait("t1", TaskState::Finished);
    assert_eq!(finished.source, Some(Source::Executor));
    agent.wait_registered();
    // Acknowledged, the executor is done and goes.
    wait_until("the executor exits", WAIT, || {
        processes_under(&agent.work_dir()).is_empty()
    });
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.counts("t1"), once_then(TaskState::Finished));
    assert_eq!(framework.pids("t1"), vec![pid], "started once");
}

#[test]
fn a_kill_issued_while_the_agent_was_down_is_carried_out_when_it_returns() {
    let (_cluster, mut agent, mut framework) = setup("kill", checkpointing("kill"), &[], false);
    let pid = run_t1(&mut framework);
    agent.wait_logged(1, 4);
    agent.kill9();
    framework.driver.kill_task(TaskId::new("t1"));
    // The master has nobody to send the kill to; the task keeps running meanwhile.
    assert!(framework.quiet(Duration::from_millis(300)).is_empty());
    assert_never_restarted(&framework, &["t1"], &[pid]);

    agent.start(&[]);
    let killed = framework.wait("t1", TaskState::Killed);
    assert_eq!(killed.source, Some(Source::Executor));
    assert!(!alive(pid), "the task was killed");
    wait_until("the executor exits", WAIT, || {
        processes_under(&agent.work_dir()).is_empty()
    });
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.counts("t1"), once_then(TaskState::Killed));
    assert_eq!(framework.pids("t1"), vec![pid]);
}

#[test]
fn a_framework_torn_down_while_the_agent_was_down_has_its_executor_shut_down_on_return() {
    let (cluster, mut agent, mut framework) =
        setup("teardown", checkpointing("teardown"), &[], false);
    let pid = run_t1(&mut framework);
    agent.wait_logged(1, 4);
    let master = cluster.master_address();
    let state = http_json(&master, "/master/state").expect("master state");
    let framework_id = state["frameworks"][0]["id"]
        .as_str()
        .expect("the framework's id")
        .to_string();
    agent.kill9();
    framework.driver.stop(false);
    wait_until("the master removes the framework", WAIT, || {
        http_json(&master, "/master/state").is_some_and(|s| {
            s["completed_frameworks"]
                .as_array()
                .is_some_and(|c| c.iter().any(|f| f["id"] == framework_id.as_str()))
        })
    });
    assert_never_restarted(&framework, &["t1"], &[pid]);

    agent.start(&[]);
    agent.wait_registered();
    // The master tells the returning agent the framework is gone: its executor and task go too.
    wait_until("the executor and its task are shut down", WAIT, || {
        processes_under(&agent.work_dir()).is_empty()
    });
    assert!(!alive(pid));
    let state = http_json(&master, "/master/state").expect("master state");
    assert_eq!(
        state["frameworks"].as_array().map(Vec::len),
        Some(0),
        "{state}"
    );
    let completed = state["completed_frameworks"]
        .as_array()
        .and_then(|c| c.iter().find(|f| f["id"] == framework_id.as_str()))
        .expect("the framework is completed");
    assert_eq!(
        completed["completed_tasks"][0]["state"], "TASK_KILLED",
        "{completed}"
    );
    // And the agent forgot it: nothing of it is left to recover.
    let agent_state = http_json(&format!("127.0.0.1:{}", agent.port), "/slave(1)/state").unwrap();
    assert_eq!(
        agent_state["frameworks"].as_array().map(Vec::len),
        Some(0),
        "{agent_state}"
    );
    assert_eq!(framework.pids("t1"), vec![pid]);
}

#[test]
fn an_executor_killed_while_the_agent_was_down_loses_its_task_once() {
    let (_cluster, mut agent, mut framework) = setup("died", checkpointing("died"), &[], false);
    let pid = run_t1(&mut framework);
    let agent_id = framework.updates[0].agent_id.clone().expect("an agent id");
    agent.wait_logged(1, 4);
    agent.kill9();
    kill_processes_under(&agent.work_dir());
    wait_until("the executor and the task are gone", WAIT, || {
        processes_under(&agent.work_dir()).is_empty()
    });

    agent.start(&[]);
    let lost = framework.wait("t1", TaskState::Lost);
    assert_eq!(lost.source, Some(Source::Agent));
    assert_eq!(lost.reason, Some(Reason::ExecutorReregistrationTimeout));
    assert_eq!(lost.agent_id, Some(agent_id), "the agent kept its id");
    agent.wait_registered();
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.counts("t1"), once_then(TaskState::Lost));
    assert_eq!(framework.pids("t1"), vec![pid], "never restarted");
}

#[test]
fn executors_give_up_after_the_recovery_timeout_and_the_returning_agent_reports_their_tasks() {
    let (_cluster, mut agent, mut framework) = setup(
        "recovery-timeout",
        checkpointing("recovery-timeout"),
        &["--recovery_timeout=1secs"],
        false,
    );
    let pid = run_t1(&mut framework);
    agent.wait_logged(1, 4);
    agent.kill9();
    // The executor waits --recovery_timeout for its agent, then kills its task and exits.
    wait_until("the executor gives up", WAIT, || {
        processes_under(&agent.work_dir()).is_empty()
    });
    assert!(!alive(pid));

    agent.start(&["--recovery_timeout=1secs"]);
    let ended = framework.wait("t1", TaskState::Lost);
    assert_eq!(ended.source, Some(Source::Agent));
    agent.wait_registered();
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.counts("t1"), once_then(TaskState::Lost));
    assert_eq!(framework.pids("t1"), vec![pid]);
}
