//! Shared pieces of the agent recovery tests: a `mesos-agent` process that can be `kill -9`ed and
//! started again on the same port and work dir, a recording framework that counts every update,
//! and process and file helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::*;
use mesos::scheduler::SchedulerDriver;
use mesos::*;
use mesos_local::LocalCluster;
use process::testing::{wait_until, BoundedChild, ChildGuard};

/// A master that gives a restarting agent 10 s (2 s pings × 5) before declaring it lost.
pub fn master() -> LocalCluster {
    master_with_ping_timeout(Duration::from_secs(2))
}

/// A master that gives a restarting agent 5 × `ping` before declaring it lost.
pub fn master_with_ping_timeout(ping: Duration) -> LocalCluster {
    let mut config = fast_config(0, "cpus:1;mem:512");
    config.master.agent_ping_timeout = ping;
    config.master.max_agent_ping_timeouts = 5;
    LocalCluster::start(config).expect("master starts")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `mesos-agent` process that can be killed and started again on the same port and work dir.
pub struct RestartableAgent {
    pub master: String,
    pub port: u16,
    pub dir: PathBuf,
    pub launcher_dir: PathBuf,
    pub child: Option<ChildGuard>,
    pub starts: usize,
}

impl RestartableAgent {
    pub fn new(cluster: &LocalCluster, name: &str) -> RestartableAgent {
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

    pub fn work_dir(&self) -> PathBuf {
        self.dir.join("work")
    }

    pub fn command(&mut self, extra: &[&str]) -> Command {
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
    pub fn start(&mut self, extra: &[&str]) {
        let child = self.command(extra).spawn().expect("mesos-agent starts");
        self.child = Some(ChildGuard::new(child));
        let addr = format!("127.0.0.1:{}", self.port);
        wait_until("the agent answers HTTP", WAIT, || {
            http_json(&addr, "/metrics/snapshot").is_some()
        });
    }

    /// Runs the agent until it exits by itself (a refused or `--recover=cleanup` start).
    pub fn run_to_exit(&mut self, extra: &[&str]) -> (Output, String) {
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
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the agent");
            child.wait_within("the SIGKILLed agent", WAIT);
        }
    }

    pub fn metrics(&self) -> serde_json::Value {
        http_json(&format!("127.0.0.1:{}", self.port), "/metrics/snapshot").unwrap_or_default()
    }

    /// Waits until every one of `tasks` task logs holds at least `records` records (e.g. 4:
    /// STARTING, its ack, RUNNING, its ack): what the framework acknowledged is on disk, so a
    /// `kill -9` now does not make the agent send it again (delivery is at least once).
    pub fn wait_logged(&self, tasks: usize, records: usize) {
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
    pub fn wait_registered(&self) {
        wait_until("the agent is registered", WAIT, || {
            self.metrics()["slave/registered"] == 1
        });
    }
}

impl Drop for RestartableAgent {
    /// Leaves nothing behind: the agent, then every process it started. A failing test prints
    /// the agents' logs first (its directory goes with the cluster).
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            for start in 1..=self.starts {
                let path = self.dir.join(format!("agent-{start}.log"));
                let log = std::fs::read_to_string(&path).unwrap_or_default();
                eprintln!("===== {} =====\n{log}", path.display());
            }
        }
        kill_processes_under(&self.work_dir());
    }
}

/// A bare HTTP/1.0 GET returning the JSON body.
pub fn http_json(addr: &str, path: &str) -> Option<serde_json::Value> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let body = response.split_once("\r\n\r\n")?.1;
    serde_json::from_str(body).ok()
}

/// SIGKILLs every process whose `MESOS_DIRECTORY` is under `dir` (what the agent started).
pub fn kill_processes_under(dir: &Path) {
    for pid in processes_under(dir) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// The live processes whose `MESOS_DIRECTORY` (inherited from their executor) is under `dir`.
pub fn processes_under(dir: &Path) -> Vec<i32> {
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

pub fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
}

/// The scheduler side: every update the framework received, counted.
pub struct Framework {
    pub driver: SchedulerDriver,
    pub events: Events,
    pub updates: Vec<TaskStatus>,
    /// Indices of `updates` that `wait` returned.
    pub returned: std::collections::BTreeSet<usize>,
    /// Where tasks record their pids and wait for `go`.
    pub dir: PathBuf,
}

impl Framework {
    pub fn start(
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
            returned: std::collections::BTreeSet::new(),
            dir: agent.dir.clone(),
        }
    }

    /// Launches command tasks `names` on the first offer. Each appends its shell's pid to
    /// `<dir>/<name>.pid` and runs until `<dir>/go` exists.
    pub fn launch(&mut self, names: &[&str]) {
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

    /// Waits for `task` to reach `state`, recording every update seen meanwhile. An update that
    /// already arrived (while waiting for another one) and was not returned yet counts: tasks
    /// report in any order.
    pub fn wait(&mut self, task: &str, state: TaskState) -> TaskStatus {
        let wanted = |s: &TaskStatus| s.task_id.as_str() == task && s.state == state;
        let earlier = (0..self.updates.len())
            .find(|i| !self.returned.contains(i) && wanted(&self.updates[*i]));
        if let Some(i) = earlier {
            self.returned.insert(i);
            return self.updates[i].clone();
        }
        let updates = &mut self.updates;
        let status = self
            .events
            .wait(&format!("{state} for {task}"), |e| match e {
                Event::Update(s) => {
                    updates.push(s.clone());
                    wanted(s).then(|| s.clone())
                }
                _ => None,
            });
        self.returned.insert(self.updates.len() - 1);
        status
    }

    /// Records what arrives within `quiet`; returns the updates among it.
    pub fn quiet(&mut self, quiet: Duration) -> Vec<TaskStatus> {
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
    pub fn counts(&self, task: &str) -> BTreeMap<TaskState, usize> {
        let mut counts = BTreeMap::new();
        for update in self.updates.iter().filter(|u| u.task_id.as_str() == task) {
            *counts.entry(update.state).or_default() += 1;
        }
        counts
    }

    /// The pid `task`'s shell recorded when it started (it may report RUNNING a moment before).
    pub fn first_pid(&self, task: &str) -> i32 {
        process::testing::wait_for(&format!("{task}'s pid"), WAIT, || {
            self.pids(task).first().copied()
        })
    }

    /// The pids `task`'s shell recorded (one per start).
    pub fn pids(&self, task: &str) -> Vec<i32> {
        std::fs::read_to_string(self.dir.join(format!("{task}.pid")))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Lets every task finish.
    pub fn go(&self) {
        std::fs::write(self.dir.join("go"), b"").unwrap();
    }
}

/// A master, an agent started with `flags` (in a directory named after the test), and a
/// framework (`info`) registered with it.
pub fn setup(
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
pub fn run_t1(framework: &mut Framework) -> i32 {
    framework.launch(&["t1"]);
    framework.wait("t1", TaskState::Running);
    framework.first_pid("t1")
}

pub fn checkpointing(name: &str) -> FrameworkInfo {
    framework(name).with_checkpoint(true)
}

pub fn counts(pairs: &[(TaskState, usize)]) -> BTreeMap<TaskState, usize> {
    pairs.iter().copied().collect()
}

/// Each task ran once, as one process, alive now.
pub fn assert_never_restarted(framework: &Framework, tasks: &[&str], pids: &[i32]) {
    for (task, pid) in tasks.iter().zip(pids) {
        assert_eq!(framework.pids(task), vec![*pid], "{task} was started once");
        assert!(alive(*pid), "{task}'s process {pid} survived");
    }
}

/// The first file called `name` under `dir`.
pub fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    find_files(dir, name).into_iter().next()
}

/// Every file called `name` under `dir`.
pub fn find_files(dir: &Path, name: &str) -> Vec<PathBuf> {
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
pub fn own_cgroup(controller: &str) -> PathBuf {
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
