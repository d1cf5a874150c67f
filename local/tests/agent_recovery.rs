//! Agent recovery end to end (issue 12): a real `mesos-agent` process, `kill -9`ed and restarted
//! with the same `--work_dir` and port, its executors and tasks real processes; an in-process
//! master; a recording scheduler. Each test checks the task's process was never restarted (its
//! shell appends its pid to a file: one line, the same pid, still alive after the restart), its
//! final state, and how many times each update reached the framework.

mod util;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use mesos::scheduler::SchedulerDriver;
use mesos::*;
use mesos_local::LocalCluster;
use process::testing::{wait_until, BoundedChild, ChildGuard};
use util::*;

/// A master that gives a restarting agent 10 s (2 s pings × 5) before declaring it lost.
fn master() -> LocalCluster {
    let mut config = fast_config(0, "cpus:1;mem:512");
    config.master.agent_ping_timeout = Duration::from_secs(2);
    config.master.max_agent_ping_timeouts = 5;
    LocalCluster::start(config).expect("master starts")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `mesos-agent` process that can be killed and started again on the same port and work dir.
struct RestartableAgent {
    master: String,
    port: u16,
    dir: PathBuf,
    launcher_dir: PathBuf,
    child: Option<ChildGuard>,
    starts: usize,
}

impl RestartableAgent {
    fn new(cluster: &LocalCluster, name: &str) -> RestartableAgent {
        ensure_binary("agent", "mesos-agent");
        ensure_command_executor();
        let dir = cluster.work_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        RestartableAgent {
            master: cluster.master_address(),
            port: free_port(),
            dir,
            launcher_dir: profile_dir(),
            child: None,
            starts: 0,
        }
    }

    fn work_dir(&self) -> PathBuf {
        self.dir.join("work")
    }

    fn command(&mut self, extra: &[&str]) -> Command {
        self.starts += 1;
        let log = std::fs::File::create(self.dir.join(format!("agent-{}.log", self.starts)))
            .expect("agent log");
        let mut command = Command::new(profile_dir().join("mesos-agent"));
        if !extra.iter().any(|a| a.starts_with("--resources")) {
            command.args(["--resources", "cpus:2;mem:1024"]);
        }
        command
            .args(["--master", &self.master, "--ip", "127.0.0.1"])
            .args(["--port", &self.port.to_string()])
            .arg("--work_dir")
            .arg(self.work_dir())
            .arg("--launcher_dir")
            .arg(&self.launcher_dir)
            .args(["--registration_backoff_factor", "50ms"])
            .args(["--executor_shutdown_grace_period", "1secs"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log);
        command
    }

    /// Starts the agent (it recovers whatever the previous one left).
    fn start(&mut self, extra: &[&str]) {
        let child = self.command(extra).spawn().expect("mesos-agent starts");
        self.child = Some(ChildGuard::new(child));
        let addr = format!("127.0.0.1:{}", self.port);
        wait_until("the agent answers HTTP", WAIT, || {
            http_json(&addr, "/metrics/snapshot").is_some()
        });
    }

    /// Runs the agent until it exits by itself (a refused or `--recover=cleanup` start).
    fn run_to_exit(&mut self, extra: &[&str]) -> (Output, String) {
        let mut child = self.command(extra).spawn().expect("mesos-agent starts");
        let status = child.wait_within("an agent that exits by itself", WAIT);
        let log = std::fs::read_to_string(self.dir.join(format!("agent-{}.log", self.starts)))
            .unwrap_or_default();
        (
            Output {
                status,
                stdout: Vec::new(),
                stderr: log.clone().into_bytes(),
            },
            log,
        )
    }

    /// `kill -9`: nothing of the agent runs its course.
    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the agent");
            child.wait_within("the SIGKILLed agent", WAIT);
        }
    }

    fn metrics(&self) -> serde_json::Value {
        http_json(&format!("127.0.0.1:{}", self.port), "/metrics/snapshot").unwrap_or_default()
    }

    /// Waits until every one of `tasks` task logs holds at least `records` records (e.g. 4:
    /// STARTING, its ack, RUNNING, its ack): what the framework acknowledged is on disk, so a
    /// `kill -9` now does not make the agent send it again (delivery is at least once).
    fn wait_logged(&self, tasks: usize, records: usize) {
        let meta = self.work_dir().join("meta");
        wait_until("the acknowledgements are on disk", WAIT, || {
            let logs = find_files(&meta, "task.updates");
            logs.len() == tasks
                && logs.iter().all(|log| {
                    std::fs::read(log)
                        .ok()
                        .and_then(|b| ::agent::checkpoint::log::decode(&b).ok())
                        .is_some_and(|d| d.records.len() >= records)
                })
        });
    }

    /// Waits until the agent is registered with the master again (its recovery done).
    fn wait_registered(&self) {
        wait_until("the agent is registered", WAIT, || {
            self.metrics()["slave/registered"] == 1
        });
    }
}

impl Drop for RestartableAgent {
    /// Leaves nothing behind: the agent, then every process it started.
    fn drop(&mut self) {
        self.kill9();
        kill_processes_under(&self.work_dir());
    }
}

/// A bare HTTP/1.0 GET returning the JSON body.
fn http_json(addr: &str, path: &str) -> Option<serde_json::Value> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let body = response.split_once("\r\n\r\n")?.1;
    serde_json::from_str(body).ok()
}

/// SIGKILLs every process whose `MESOS_DIRECTORY` is under `dir` (what the agent started).
fn kill_processes_under(dir: &Path) {
    for pid in processes_under(dir) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// The live processes whose `MESOS_DIRECTORY` (inherited from their executor) is under `dir`.
fn processes_under(dir: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let needle = format!("MESOS_DIRECTORY={}", dir.display());
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let zombie = std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        });
        let ours = environ
            .split(|b| *b == 0)
            .any(|var| String::from_utf8_lossy(var).starts_with(&needle));
        if ours && !zombie {
            found.push(pid);
        }
    }
    found
}

fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
}

/// The scheduler side: every update the framework received, counted.
struct Framework {
    driver: SchedulerDriver,
    events: Events,
    updates: Vec<TaskStatus>,
    /// Where tasks record their pids and wait for `go`.
    dir: PathBuf,
}

impl Framework {
    fn start(
        cluster: &LocalCluster,
        agent: &RestartableAgent,
        info: FrameworkInfo,
        explicit_acks: bool,
    ) -> Framework {
        let options = if explicit_acks {
            options().explicit_acknowledgements()
        } else {
            options()
        };
        let (driver, mut events) = driver(cluster, info, options);
        events.registered();
        Framework {
            driver,
            events,
            updates: Vec::new(),
            dir: agent.dir.clone(),
        }
    }

    /// Launches command tasks `names` on the first offer. Each appends its shell's pid to
    /// `<dir>/<name>.pid` and runs until `<dir>/go` exists.
    fn launch(&mut self, names: &[&str]) {
        let offer = self.events.offers().remove(0);
        let tasks = names
            .iter()
            .map(|name| {
                let command = format!(
                    "echo $$ >> {dir}/{name}.pid; while [ ! -e {dir}/go ]; do sleep 0.05; done",
                    dir = self.dir.display()
                );
                command_task(name, &offer, &command, "cpus:0.1;mem:32")
            })
            .collect();
        self.driver.launch_tasks(vec![offer.id], tasks, no_filter());
    }

    /// Waits for `task` to reach `state`, recording every update seen meanwhile.
    fn wait(&mut self, task: &str, state: TaskState) -> TaskStatus {
        let updates = &mut self.updates;
        self.events
            .wait(&format!("{state} for {task}"), |e| match e {
                Event::Update(s) => {
                    updates.push(s.clone());
                    (s.task_id.as_str() == task && s.state == state).then(|| s.clone())
                }
                _ => None,
            })
    }

    /// Records what arrives within `quiet`; returns the updates among it.
    fn quiet(&mut self, quiet: Duration) -> Vec<TaskStatus> {
        let got: Vec<TaskStatus> = self
            .events
            .drain_for(quiet)
            .into_iter()
            .filter_map(|e| match e {
                Event::Update(s) => Some(s),
                _ => None,
            })
            .collect();
        self.updates.extend(got.clone());
        got
    }

    /// How many times each state of `task` reached the framework.
    fn counts(&self, task: &str) -> BTreeMap<TaskState, usize> {
        let mut counts = BTreeMap::new();
        for update in self.updates.iter().filter(|u| u.task_id.as_str() == task) {
            *counts.entry(update.state).or_default() += 1;
        }
        counts
    }

    /// The pid `task`'s shell recorded when it started (it may report RUNNING a moment before).
    fn first_pid(&self, task: &str) -> i32 {
        process::testing::wait_for(&format!("{task}'s pid"), WAIT, || {
            self.pids(task).first().copied()
        })
    }

    /// The pids `task`'s shell recorded (one per start).
    fn pids(&self, task: &str) -> Vec<i32> {
        std::fs::read_to_string(self.dir.join(format!("{task}.pid")))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Lets every task finish.
    fn go(&self) {
        std::fs::write(self.dir.join("go"), b"").unwrap();
    }
}

/// A master, an agent started with `flags` (in a directory named after the test), and a
/// framework (`info`) registered with it.
fn setup(
    name: &str,
    info: FrameworkInfo,
    flags: &[&str],
    explicit_acks: bool,
) -> (LocalCluster, RestartableAgent, Framework) {
    let cluster = master();
    let mut agent = RestartableAgent::new(&cluster, name);
    agent.start(flags);
    let framework = Framework::start(&cluster, &agent, info, explicit_acks);
    (cluster, agent, framework)
}

/// Launches `t1` and waits for it to run; returns its shell's pid.
fn run_t1(framework: &mut Framework) -> i32 {
    framework.launch(&["t1"]);
    framework.wait("t1", TaskState::Running);
    framework.first_pid("t1")
}

fn checkpointing(name: &str) -> FrameworkInfo {
    framework(name).with_checkpoint(true)
}

fn counts(pairs: &[(TaskState, usize)]) -> BTreeMap<TaskState, usize> {
    pairs.iter().copied().collect()
}

/// Each task ran once, as one process, alive now.
fn assert_never_restarted(framework: &Framework, tasks: &[&str], pids: &[i32]) {
    for (task, pid) in tasks.iter().zip(pids) {
        assert_eq!(framework.pids(task), vec![*pid], "{task} was started once");
        assert!(alive(*pid), "{task}'s process {pid} survived");
    }
}

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
    agent.start(&["--executor_reregistration_timeout=15secs"]);
    framework.wait("t1", TaskState::Running);
    let pid = framework.first_pid("t1");
    agent.wait_registered();
    framework.go();
    framework.wait("t1", TaskState::Finished);
    framework.quiet(Duration::from_millis(300));
    assert_eq!(framework.pids("t1"), vec![pid], "started once");
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

/// The first file called `name` under `dir`.
fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    find_files(dir, name).into_iter().next()
}

/// Every file called `name` under `dir`.
fn find_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_symlink() {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                found.push(p);
            }
        }
    }
    found
}

/// This process's (and so its children's) cgroup directory for `controller`.
fn own_cgroup(controller: &str) -> PathBuf {
    use ::agent::isolation::cgroups::hierarchy::{locate, parse_mountinfo, parse_proc_cgroup};
    let mounts = parse_mountinfo(&std::fs::read_to_string("/proc/self/mountinfo").unwrap());
    let members = parse_proc_cgroup(&std::fs::read_to_string("/proc/self/cgroup").unwrap());
    let v2 = |dir: &Path| -> Vec<String> {
        std::fs::read_to_string(dir.join("cgroup.controllers"))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    locate(controller, &mounts, &members, v2)
        .unwrap_or_else(|| {
            panic!("the {controller} cgroup controller is not mounted (run as root, as CI does)")
        })
        .agent_dir
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
