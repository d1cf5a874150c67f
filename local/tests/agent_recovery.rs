//! Agent recovery end to end (issue 12): a real `mesos-agent` process, `kill -9`ed and restarted
//! with the same `--work_dir` and port, its executors and tasks real processes; an in-process
//! master; a recording scheduler. Each test checks the task's process was never restarted (its
//! shell appends its pid to a file: one line, the same pid, still alive after the restart), its
//! final state, and how many times each update reached the framework.

mod util;

mod recovery;

use std::path::PathBuf;
use std::time::Duration;

use mesos::*;
use process::testing::wait_until;
use recovery::*;
use util::*;

#[test]
fn running_tasks_survive_kill_9_of_their_agent_and_finish_once() {
    let (_cluster, mut agent, mut framework) =
        setup("survive", checkpointing("survive"), &[], false);
    framework.launch(&["t1", "t2"]);
    framework.wait("t1", TaskState::Running);
    framework.wait("t2", TaskState::Running);
    let pids: Vec<i32> = ["t1", "t2"]
        .iter()
        .map(|t| framework.first_pid(t))
        .collect();
    agent.wait_logged(2, 4);

    agent.kill9();
    assert_never_restarted(&framework, &["t1", "t2"], &pids);
    agent.start(&[]);
    agent.wait_registered();
    // The master took the agent back as if it had never left: no LOST, no new RUNNING.
    assert!(framework.quiet(Duration::from_millis(500)).is_empty());
    assert_never_restarted(&framework, &["t1", "t2"], &pids);

    framework.go();
    framework.wait("t1", TaskState::Finished);
    framework.wait("t2", TaskState::Finished);
    framework.quiet(Duration::from_millis(300));
    let once = counts(&[
        (TaskState::Starting, 1),
        (TaskState::Running, 1),
        (TaskState::Finished, 1),
    ]);
    assert_eq!(framework.counts("t1"), once);
    assert_eq!(framework.counts("t2"), once);
    assert_eq!(framework.pids("t1"), vec![pids[0]]);
}

#[test]
fn an_agent_killed_twice_in_a_row_during_recovery_still_recovers() {
    let (_cluster, mut agent, mut framework) = setup("twice", checkpointing("twice"), &[], false);
    let pid = run_t1(&mut framework);
    let executor = processes_under(&agent.work_dir())
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .is_ok_and(|c| c.trim() == "mesos-executor")
        })
        .expect("the command executor");
    agent.wait_logged(1, 4);

    agent.kill9();
    // The executor cannot answer (stopped): the next agent stays in recovery, and is killed there.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(executor),
        nix::sys::signal::Signal::SIGSTOP,
    )
    .unwrap();
    agent.start(&["--executor_reregistration_timeout=15secs"]);
    wait_until("the agent is recovering", WAIT, || {
        agent.metrics()["slave/recovering"] == 1
    });
    agent.kill9();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(executor),
        nix::sys::signal::Signal::SIGCONT,
    )
    .unwrap();
    agent.start(&["--executor_reregistration_timeout=15secs"]);
    agent.wait_registered();
    assert!(framework.quiet(Duration::from_millis(500)).is_empty());
    assert_never_restarted(&framework, &["t1"], &[pid]);

    framework.go();
    framework.wait("t1", TaskState::Finished);
    framework.quiet(Duration::from_millis(300));
    assert_eq!(
        framework.counts("t1"),
        counts(&[
            (TaskState::Starting, 1),
            (TaskState::Running, 1),
            (TaskState::Finished, 1),
        ])
    );
}

#[test]
fn an_agent_killed_during_a_launch_delivers_the_task_once_it_is_back() {
    let cluster = master();
    let mut agent = RestartableAgent::new(&cluster, "launch");
    // The command executor starts 2 s late, so the agent dies between forking it and its
    // registration.
    let wrapper_dir = agent.dir.join("slow-launcher");
    std::fs::create_dir_all(&wrapper_dir).unwrap();
    let wrapper = wrapper_dir.join("mesos-executor");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nsleep 2\nexec {} \"$@\"\n",
            profile_dir().join("mesos-executor").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    agent.launcher_dir = wrapper_dir;
    agent.start(&[]);
    let mut framework = Framework::start(&cluster, &agent, checkpointing("launch"), false);
    framework.launch(&["t1"]);
    let meta = agent.work_dir().join("meta");
    wait_until("the executor is forked", WAIT, || {
        find_file(&meta, "forked.pid").is_some()
    });
    agent.kill9();
    // On a starved machine the 2 s may pass before the kill: then the executor registered with
    // the old agent, and its STARTING may arrive twice (at least once, as in Mesos).
    let registered_before_kill = find_file(&meta, "libprocess.pid").is_some();
    agent.start(&["--executor_reregistration_timeout=15secs"]);
    framework.wait("t1", TaskState::Running);
    let pid = framework.first_pid("t1");
    agent.wait_registered();
    framework.go();
    framework.wait("t1", TaskState::Finished);
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.pids("t1"), vec![pid], "started once");
    let mut seen = framework.counts("t1");
    if registered_before_kill && seen.get(&TaskState::Starting) == Some(&2) {
        seen.insert(TaskState::Starting, 1);
    }
    assert_eq!(
        seen,
        counts(&[
            (TaskState::Starting, 1),
            (TaskState::Running, 1),
            (TaskState::Finished, 1),
        ])
    );
}

#[test]
fn an_unacknowledged_update_is_resent_after_the_restart_and_later_ones_arrive_once() {
    let (_cluster, mut agent, mut framework) =
        setup("unacked", checkpointing("unacked"), &[], true);
    framework.launch(&["t1"]);
    let starting = framework.wait("t1", TaskState::Starting);
    framework.driver.acknowledge_status_update(starting);
    let _running = framework.wait("t1", TaskState::Running);
    let pid = framework.first_pid("t1");
    // RUNNING is not acknowledged when the agent dies.
    agent.kill9();
    agent.start(&[]);
    agent.wait_registered();
    let again = framework.wait("t1", TaskState::Running);
    framework.driver.acknowledge_status_update(again);
    assert_never_restarted(&framework, &["t1"], &[pid]);
    framework.go();
    let finished = framework.wait("t1", TaskState::Finished);
    framework.driver.acknowledge_status_update(finished);
    framework.quiet(Duration::from_millis(500));
    // At least once: RUNNING twice (before and after the restart), the rest once.
    assert_eq!(
        framework.counts("t1"),
        counts(&[
            (TaskState::Starting, 1),
            (TaskState::Running, 2),
            (TaskState::Finished, 1),
        ])
    );
}

#[test]
fn recover_cleanup_kills_old_executors_and_exits_without_registering() {
    let (_cluster, mut agent, mut framework) =
        setup("cleanup", checkpointing("cleanup"), &[], false);
    let pid = run_t1(&mut framework);
    agent.wait_logged(1, 4);
    agent.kill9();
    let (output, log) = agent.run_to_exit(&["--recover=cleanup"]);
    assert!(output.status.success(), "{log}");
    assert!(!alive(pid), "the task was killed");
    assert!(processes_under(&agent.work_dir()).is_empty(), "no orphans");
    assert!(
        framework.quiet(Duration::from_millis(300)).is_empty(),
        "it never registered"
    );
    // The next (normal) start reports how the task ended, once.
    agent.start(&[]);
    let ended = framework.wait("t1", TaskState::Killed);
    assert_eq!(ended.source, Some(Source::Executor));
    framework.quiet(Duration::from_millis(300));
    assert_eq!(
        framework.counts("t1"),
        counts(&[
            (TaskState::Starting, 1),
            (TaskState::Running, 1),
            (TaskState::Killed, 1),
        ])
    );
    assert_eq!(framework.pids("t1"), vec![pid]);
}

#[test]
fn changed_resources_are_refused_by_the_equal_policy_and_the_tasks_wait_for_a_good_restart() {
    let (_cluster, mut agent, mut framework) =
        setup("resources", checkpointing("resources"), &[], false);
    let pid = run_t1(&mut framework);
    agent.wait_logged(1, 4);
    agent.kill9();
    let (output, log) = agent.run_to_exit(&["--resources=cpus:1;mem:1024"]);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains("resources changed from cpus:2;mem:1024")
            && log.contains("to cpus:1;mem:1024"),
        "{log}"
    );
    assert_never_restarted(&framework, &["t1"], &[pid]);
    // More resources are fine under the additive policy: same id, tasks kept, new total offered.
    agent.start(&[
        "--resources=cpus:3;mem:1024",
        "--reconfiguration_policy=additive",
    ]);
    agent.wait_registered();
    assert!(framework.quiet(Duration::from_millis(300)).is_empty());
    let state = http_json(&agent.master, "/master/state").expect("master state");
    let resources = &state["slaves"][0]["resources"];
    assert_eq!(resources["cpus"], 3.0, "{state}");
    assert_never_restarted(&framework, &["t1"], &[pid]);
    framework.go();
    framework.wait("t1", TaskState::Finished);
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.counts("t1")[&TaskState::Finished], 1);
}

#[test]
fn a_torn_update_log_is_recovered_and_a_corrupt_one_is_refused_or_counted() {
    let (_cluster, mut agent, mut framework) = setup("torn", checkpointing("torn"), &[], false);
    let pid = run_t1(&mut framework);
    let meta = agent.work_dir().join("meta");
    let log = find_file(&meta, "task.updates").expect("the task's update log");
    // Wait for RUNNING's acknowledgement to be on disk: STARTING, ack, RUNNING, ack.
    let records = || {
        ::agent::checkpoint::log::decode(&std::fs::read(&log).unwrap())
            .map(|d| d.records.len())
            .unwrap_or(0)
    };
    wait_until("RUNNING acknowledged on disk", WAIT, || records() == 4);
    agent.kill9();
    // A torn tail: the last record (RUNNING's ack) half written.
    let len = std::fs::metadata(&log).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    agent.start(&[]);
    agent.wait_registered();
    // RUNNING was not known to be acknowledged: sent again.
    framework.wait("t1", TaskState::Running);
    assert_eq!(agent.metrics()["slave/recovery_errors"], 0);
    assert_never_restarted(&framework, &["t1"], &[pid]);

    // Corruption in the middle of the log: --strict refuses, naming the file ...
    wait_until("RUNNING acknowledged on disk again", WAIT, || {
        records() == 4
    });
    agent.kill9();
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[::agent::checkpoint::log::HEADER_LEN + 5] ^= 0xff;
    std::fs::write(&log, &bytes).unwrap();
    let (output, text) = agent.run_to_exit(&[]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(&log.display().to_string()), "{text}");
    // ... --strict=false recovers the rest and counts it.
    agent.start(&["--strict=false"]);
    agent.wait_registered();
    assert_eq!(agent.metrics()["slave/recovery_errors"], 1);
    assert_never_restarted(&framework, &["t1"], &[pid]);
    framework.go();
    framework.wait("t1", TaskState::Finished);
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.counts("t1")[&TaskState::Finished], 1);
    assert_eq!(framework.pids("t1"), vec![pid]);
}

#[test]
fn a_non_checkpointing_framework_s_task_is_lost_at_once_and_its_executor_exits() {
    let (_cluster, mut agent, mut framework) =
        setup("non-checkpointing", framework("plain"), &[], false);
    let pid = run_t1(&mut framework);
    agent.kill9();
    let lost = framework.wait("t1", TaskState::Lost);
    assert_eq!(lost.reason, Some(Reason::AgentDisconnected), "{lost:?}");
    assert_eq!(lost.source, Some(Source::Master));
    // Without checkpointing its executor gives up at once and takes its task down.
    wait_until("the executor and its task exit", WAIT, || {
        processes_under(&agent.work_dir()).is_empty()
    });
    assert!(!alive(pid));
    // Nothing of it is recovered.
    agent.start(&[]);
    agent.wait_registered();
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.counts("t1")[&TaskState::Lost], 1);
    assert_eq!(framework.counts("t1").get(&TaskState::Finished), None);
}

#[test]
fn a_cgroups_isolated_task_keeps_its_container_across_kill_9_and_orphans_are_destroyed() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "this test needs root and writable cgroups (as CI runs)"
    );
    let cluster = master();
    let mut agent = RestartableAgent::new(&cluster, "cgroups");
    let root = format!("mesos-recovery-test-{}", std::process::id());
    let isolation = [
        "--isolation=cgroups/cpu,cgroups/mem".to_string(),
        format!("--cgroups_root={root}"),
    ];
    let isolation: Vec<&str> = isolation.iter().map(String::as_str).collect();
    agent.start(&isolation);
    let mut framework = Framework::start(&cluster, &agent, checkpointing("cgroups"), false);
    framework.launch(&["t1"]);
    framework.wait("t1", TaskState::Running);
    let pid = framework.first_pid("t1");
    agent.wait_logged(1, 4);
    let memory_root = own_cgroup("memory").join(&root);
    let containers = || -> Vec<PathBuf> {
        std::fs::read_dir(&memory_root)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default()
    };
    let container = containers().pop().expect("the task's container cgroup");
    // An orphan: a container nobody checkpointed (as a non-checkpointing executor would leave).
    let orphan = memory_root.join("orphan");
    std::fs::create_dir_all(&orphan).unwrap();

    agent.kill9();
    agent.start(&isolation);
    agent.wait_registered();
    assert!(framework.quiet(Duration::from_millis(300)).is_empty());
    assert_never_restarted(&framework, &["t1"], &[pid]);
    // Its container was kept, with the task still in it; the orphan is gone.
    let procs = std::fs::read_to_string(container.join("cgroup.procs")).unwrap_or_default();
    assert!(
        procs.lines().any(|l| l.trim() == pid.to_string()),
        "{procs}"
    );
    assert!(!orphan.exists(), "the orphan container was destroyed");

    framework.go();
    framework.wait("t1", TaskState::Finished);
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.counts("t1")[&TaskState::Finished], 1);
    // The container goes with its executor.
    wait_until("the container cgroup is removed", WAIT, || {
        !container.exists()
    });
    agent.kill9();
    for controller in ["cpu", "cpuacct", "memory"] {
        let dir = own_cgroup(controller).join(&root);
        if dir.exists() {
            std::fs::remove_dir(&dir)
                .unwrap_or_else(|e| panic!("{} left non-empty: {e}", dir.display()));
        }
    }
}

#[test]
fn changed_attributes_are_refused_by_the_equal_policy_and_added_ones_kept_by_additive() {
    let (_cluster, mut agent, mut framework) = setup(
        "attributes",
        checkpointing("attributes"),
        &["--attributes=rack:r1"],
        false,
    );
    let pid = run_t1(&mut framework);
    agent.wait_logged(1, 4);
    agent.kill9();
    let (output, log) = agent.run_to_exit(&["--attributes=rack:r2"]);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains("attributes changed from rack:r1 to rack:r2"),
        "{log}"
    );
    assert!(
        log.contains("meta/slaves/latest"),
        "says how to start anew: {log}"
    );
    // Additive: a changed attribute is still refused, an added one is taken.
    let (output, log) = agent.run_to_exit(&[
        "--attributes=rack:r2;zone:z1",
        "--reconfiguration_policy=additive",
    ]);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains("attribute 'rack' changed or was removed"),
        "{log}"
    );
    assert_never_restarted(&framework, &["t1"], &[pid]);
    agent.start(&[
        "--attributes=rack:r1;zone:z1",
        "--reconfiguration_policy=additive",
    ]);
    agent.wait_registered();
    assert!(framework.quiet(Duration::from_millis(300)).is_empty());
    let state = http_json(&agent.master, "/master/state").expect("master state");
    assert_eq!(state["slaves"].as_array().map(Vec::len), Some(1), "{state}");
    assert_eq!(state["slaves"][0]["attributes"]["zone"], "z1", "{state}");
    assert_never_restarted(&framework, &["t1"], &[pid]);
    framework.go();
    framework.wait("t1", TaskState::Finished);
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.counts("t1")[&TaskState::Finished], 1);
}

#[test]
fn the_boot_id_is_recorded_and_after_a_reboot_the_agent_keeps_its_id_and_loses_its_tasks() {
    let (cluster, mut agent, mut framework) = setup("reboot", checkpointing("reboot"), &[], false);
    let pid = run_t1(&mut framework);
    let agent_id = framework.updates[0].agent_id.clone().expect("an agent id");
    agent.wait_logged(1, 4);
    let recorded = agent.work_dir().join("meta").join("boot_id");
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert_eq!(
        std::fs::read_to_string(&recorded).unwrap().trim(),
        boot_id.trim()
    );
    agent.kill9();
    // As if the host had rebooted: the recorded boot is not this one. Nothing the old agent
    // started may run on unaccounted (after a real reboot nothing does).
    std::fs::write(&recorded, "00000000-0000-0000-0000-000000000000\n").unwrap();
    agent.start(&[]);
    let lost = framework.wait("t1", TaskState::Lost);
    assert_eq!(lost.reason, Some(Reason::AgentRestarted), "{lost:?}");
    assert_eq!(
        lost.agent_id,
        Some(agent_id.clone()),
        "the agent kept its id"
    );
    agent.wait_registered();
    wait_until("the old processes are gone", WAIT, || {
        processes_under(&agent.work_dir()).is_empty()
    });
    assert!(!alive(pid));
    assert_eq!(
        std::fs::read_to_string(&recorded).unwrap().trim(),
        boot_id.trim(),
        "the new boot is recorded"
    );
    let state = http_json(&cluster.master_address(), "/master/state").expect("master state");
    assert_eq!(state["slaves"].as_array().map(Vec::len), Some(1), "{state}");
    assert_eq!(state["slaves"][0]["id"], agent_id.as_str(), "{state}");
    framework.quiet(Duration::from_millis(300));
    assert_eq!(
        framework.counts("t1"),
        counts(&[
            (TaskState::Starting, 1),
            (TaskState::Running, 1),
            (TaskState::Lost, 1),
        ])
    );
    assert_eq!(framework.pids("t1"), vec![pid], "never restarted");
}
