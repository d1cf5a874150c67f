//! The isolators on the real kernel, end to end through the real agent: cgroups memory limits and
//! OOM, cpu shares and CFS quota, pid and mount namespaces, dropped capabilities, and killing a
//! whole process tree. These need root and a writable cgroup filesystem (CI runs as root); without
//! them they FAIL with a message saying so, never pass silently. The error for an isolator the host
//! cannot run is tested without root.

mod util;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ::agent::isolation::cgroups::hierarchy::{locate, parse_mountinfo, parse_proc_cgroup};
use ::agent::{Agent, AgentConfig, AgentError};
use mesos::protocol::*;
use mesos::*;
use process::testing::BoundedCommand;
use util::*;

/// Fails the test (not skips it) unless we are root with a writable memory cgroup.
fn require_privileges() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "the isolation tests need root (cgroups, namespaces, capabilities); run them as root as CI does"
    );
    let dir = agent_cgroup("memory").join("isolation-test-probe");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| {
        panic!(
            "the isolation tests need a writable memory cgroup: cannot create {}: {e}",
            dir.display()
        )
    });
    let _ = std::fs::remove_dir(&dir);
}

/// The agent's (this test process's) cgroup directory for `controller`.
fn agent_cgroup(controller: &str) -> PathBuf {
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
        .unwrap_or_else(|| panic!("the {controller} cgroup controller is not mounted"))
        .agent_dir
}

/// A cgroups root of its own per test: each agent removes whatever it finds under its root.
fn cgroups_root(test: &str) -> String {
    format!("mesos-test-{test}-{}", std::process::id())
}

fn start(test: &str, isolation: &str, cfs: bool) -> Cluster {
    require_privileges();
    let root = cgroups_root(test);
    let isolation = isolation.to_string();
    let mut cluster = Cluster::start(test, true, false, move |config: &mut AgentConfig| {
        config.isolation.isolation = isolation;
        config.isolation.cgroups_root = root;
        config.isolation.cgroups_enable_cfs = cfs;
        config.resources = Some("cpus:8;mem:4096".into());
    });
    cluster.expect_register();
    cluster
}

/// Stops the agent (its isolator then removes what is left) and removes the test's cgroups roots.
fn finish(cluster: Cluster, test: &str) {
    drop(cluster);
    for controller in ["cpu", "cpuacct", "memory"] {
        let root = agent_cgroup(controller).join(cgroups_root(test));
        if root.exists() {
            std::fs::remove_dir(&root)
                .unwrap_or_else(|e| panic!("{} was left non-empty: {e}", root.display()));
        }
    }
}

fn task(id: &str, resources: &str, command: &str) -> TaskInfo {
    TaskInfo::new(id, id, AgentId::new("agent-1"), resources.parse().unwrap())
        .with_command(CommandInfo::shell(command))
}

/// Runs `task` for a framework that names no user (so tasks run as `nobody` when capabilities are
/// dropped).
fn run_as_unnamed_user(cluster: &Cluster, task: TaskInfo) {
    let mut framework = FrameworkInfo::new("", "isolation-tests");
    framework.id = Some(FrameworkId::new("fw-1"));
    cluster.to_agent(RunTaskMessage {
        framework_id: framework.id.clone().unwrap(),
        framework,
        pid: "scheduler@127.0.0.1:1".into(),
        task,
    });
}

fn wait_running(cluster: &mut Cluster, id: &str) {
    loop {
        let update = cluster.next_update(id);
        match update.status.state {
            TaskState::Running => return,
            TaskState::Starting | TaskState::Staging => {}
            other => panic!("{id} ended as {other}: {:?}", update.status.message),
        }
    }
}

fn terminal(cluster: &mut Cluster, id: &str) -> StatusUpdate {
    cluster.states_until_terminal(id).pop().unwrap()
}

fn wait_exited(cluster: &mut Cluster, executor: &str) {
    let executor = ExecutorId::new(executor);
    cluster.wait_for("executor exit", |g| match g {
        Got::Exited(m) if m.executor_id == executor => Some(()),
        _ => None,
    });
}

fn kill(cluster: &Cluster, id: &str) {
    cluster.to_agent(KillTaskMessage {
        framework_id: FrameworkId::new("fw-1"),
        task_id: TaskId::new(id),
    });
}

/// cpu seconds (user + system) per executor, from `/monitor/statistics`.
fn cpu_seconds(cluster: &Cluster, executor: &str) -> (f64, serde_json::Value) {
    let stats = cluster.agent.statistics();
    let entry = stats
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["executor_id"] == executor)
        .unwrap_or_else(|| panic!("no statistics for {executor}: {stats:#}"))
        .clone();
    let s = &entry["statistics"];
    let total =
        s["cpus_user_time_secs"].as_f64().unwrap() + s["cpus_system_time_secs"].as_f64().unwrap();
    (total, s.clone())
}

fn container_cgroups(test: &str, controller: &str) -> Vec<PathBuf> {
    let root = agent_cgroup(controller).join(cgroups_root(test));
    std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_task_over_its_memory_limit_fails_with_the_memory_reason_and_its_cgroup_goes() {
    let mut cluster = start("oom", "cgroups/cpu,cgroups/mem", false);
    run_as_unnamed_user(&cluster, task("bystander", "cpus:0.1;mem:32", "sleep 60"));
    wait_running(&mut cluster, "bystander");
    run_as_unnamed_user(
        &cluster,
        task(
            "hog",
            "cpus:0.1;mem:32",
            "dd if=/dev/zero of=/dev/null bs=256M count=1",
        ),
    );
    let last = terminal(&mut cluster, "hog");
    assert_eq!(last.status.state, TaskState::Failed, "{:?}", last.status);
    assert_eq!(last.status.reason, Some(Reason::ContainerLimitationMemory));
    let message = last.status.message.clone().unwrap_or_default();
    assert!(
        message.contains("Memory limit exceeded: Requested: "),
        "{message}"
    );
    assert!(message.contains("Maximum Used: "), "{message}");
    wait_exited(&mut cluster, "hog");
    // Only the bystander's cgroup is left, and it still runs.
    assert_eq!(container_cgroups("oom", "memory").len(), 1);
    let (_, stats) = cpu_seconds(&cluster, "bystander");
    assert!(
        stats["mem_limit_bytes"].as_u64().unwrap() >= 32 << 20,
        "{stats}"
    );
    // The bystander's peak: something (a shell and `sleep`), and never beyond its limit.
    let peak = stats["mem_max_usage_bytes"].as_u64().unwrap_or(0);
    let limit = stats["mem_limit_bytes"].as_u64().unwrap_or(0);
    assert!(
        peak > 0 && peak <= limit,
        "peak {peak} of limit {limit}: {stats}"
    );
    kill(&cluster, "bystander");
    assert_eq!(
        terminal(&mut cluster, "bystander").status.state,
        TaskState::Killed
    );
    wait_exited(&mut cluster, "bystander");
    assert!(container_cgroups("oom", "memory").is_empty());
    assert!(container_cgroups("oom", "cpu").is_empty());
    finish(cluster, "oom");
}

#[test]
fn cpu_shares_split_one_core_about_one_to_three() {
    let mut cluster = start("shares", "cgroups/cpu,cgroups/mem", false);
    let busy = "exec taskset -c 0 sh -c 'while :; do :; done'";
    run_as_unnamed_user(&cluster, task("one", "cpus:1;mem:32", busy));
    run_as_unnamed_user(&cluster, task("three", "cpus:3;mem:32", busy));
    wait_running(&mut cluster, "one");
    wait_running(&mut cluster, "three");
    std::thread::sleep(Duration::from_millis(300));
    let (one_before, _) = cpu_seconds(&cluster, "one");
    let (three_before, _) = cpu_seconds(&cluster, "three");
    std::thread::sleep(Duration::from_secs(2));
    let (one_after, stats) = cpu_seconds(&cluster, "one");
    let (three_after, _) = cpu_seconds(&cluster, "three");
    let (one, three) = (one_after - one_before, three_after - three_before);
    assert!(one > 0.05, "the cpus:1 task barely ran ({one}s)");
    let ratio = three / one;
    assert!(
        (2.0..=4.5).contains(&ratio),
        "cpu ratio {ratio} ({three}s / {one}s)"
    );
    // Shares without a CFS quota: the kernel never throttles, and counts no bandwidth periods.
    assert_eq!(stats["cpus_nr_throttled"].as_u64(), Some(0), "{stats}");
    assert_eq!(stats["cpus_nr_periods"].as_u64(), Some(0), "{stats}");
    kill(&cluster, "one");
    kill(&cluster, "three");
    terminal(&mut cluster, "one");
    terminal(&mut cluster, "three");
    finish(cluster, "shares");
}

#[test]
fn cfs_quota_caps_a_half_cpu_task() {
    let mut cluster = start("cfs", "cgroups/cpu,cgroups/mem", true);
    run_as_unnamed_user(
        &cluster,
        task("half", "cpus:0.5;mem:32", "while :; do :; done"),
    );
    wait_running(&mut cluster, "half");
    std::thread::sleep(Duration::from_millis(200));
    let (before, _) = cpu_seconds(&cluster, "half");
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let (after, stats) = cpu_seconds(&cluster, "half");
    let cores = (after - before) / start.elapsed().as_secs_f64();
    assert!(cores <= 0.6, "a cpus:0.5 task used {cores} cores: {stats}");
    // Whether it was throttled depends on how loaded the machine is; that the quota's periods
    // were counted while it spun (about 20 in 2 s) does not.
    let periods = stats["cpus_nr_periods"].as_u64().unwrap_or(0);
    let throttled = stats["cpus_nr_throttled"].as_u64().unwrap_or(u64::MAX);
    assert!(periods >= 5, "{stats}");
    assert!(throttled <= periods, "{stats}");
    let cgroups = container_cgroups("cfs", "cpu");
    assert_eq!(cgroups.len(), 1);
    let quota = std::fs::read_to_string(cgroups[0].join("cpu.cfs_quota_us")).unwrap();
    let period = std::fs::read_to_string(cgroups[0].join("cpu.cfs_period_us")).unwrap();
    assert_eq!((quota.trim(), period.trim()), ("50000", "100000"));
    kill(&cluster, "half");
    terminal(&mut cluster, "half");
    finish(cluster, "cfs");
}

#[test]
fn a_pid_namespace_shows_only_the_container_and_capabilities_are_gone() {
    let mut cluster = start("pidns", "namespaces/pid,linux/capabilities", false);
    let checks = r#"
        grep -q mesos-executor /proc/1/cmdline || exit 11
        test "$(id -u)" = 65534 || exit 12
        grep -q '^CapEff:[[:space:]]*0000000000000000' /proc/self/status || exit 13
        grep -q '^CapBnd:[[:space:]]*0000000000000000' /proc/self/status || exit 14
        date -s @0 >/dev/null 2>&1 && exit 15
        mount -t tmpfs none /mnt >/dev/null 2>&1 && exit 16
        n=$(ls -d /proc/[0-9]* | wc -l)
        test "$n" -le 6 || exit 17
        echo ok > checked
    "#;
    run_as_unnamed_user(&cluster, task("inside", "cpus:0.1;mem:32", checks));
    let last = terminal(&mut cluster, "inside");
    assert_eq!(
        last.status.state,
        TaskState::Finished,
        "a check failed (exit 11: not pid 1's child, 12: not nobody, 13/14: capabilities left, 15: could set the time, 16: could mount, 17: sees other processes): {:?}",
        last.status.message
    );
    finish(cluster, "pidns");
}

#[test]
fn killing_a_task_kills_its_whole_tree_even_processes_that_left_its_session() {
    let mut cluster = start("tree", "cgroups/cpu,cgroups/mem", false);
    let command = "setsid sleep 1000 & echo $! > pids; sleep 1000 & echo $! >> pids; wait";
    run_as_unnamed_user(&cluster, task("tree", "cpus:0.1;mem:32", command));
    wait_running(&mut cluster, "tree");
    let runs = cluster
        .work_dir
        .join("slaves/agent-1/frameworks/fw-1/executors/tree/runs");
    let deadline = Instant::now() + PATIENCE;
    let pids: Vec<i32> = loop {
        let file = std::fs::read_dir(&runs)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
            .map(|e| e.path().join("pids"));
        let text = file
            .and_then(|f| std::fs::read_to_string(f).ok())
            .unwrap_or_default();
        let pids: Vec<i32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        if pids.len() == 2 {
            break pids;
        }
        assert!(
            Instant::now() < deadline,
            "the task never wrote its children's pids"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    kill(&cluster, "tree");
    assert_eq!(
        terminal(&mut cluster, "tree").status.state,
        TaskState::Killed
    );
    wait_exited(&mut cluster, "tree");
    for pid in pids {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| !stat.contains(") Z"))
            .unwrap_or(false);
        assert!(!alive, "child {pid} survived its task");
    }
    assert!(container_cgroups("tree", "memory").is_empty());
    finish(cluster, "tree");
}

#[test]
fn an_unknown_or_impossible_isolator_stops_the_agent_at_start_naming_it() {
    let runtime = runtime();
    let mut config = AgentConfig::new("master@127.0.0.1:1".parse().unwrap());
    config.work_dir = work_dir("bad-isolation");
    config.isolation.isolation = "posix/cpu,gpu/nvidia".into();
    let err = Agent::spawn(&runtime, config).unwrap_err();
    assert!(matches!(err, AgentError::Isolation(_)), "{err}");
    assert!(err.to_string().contains("gpu/nvidia"), "{err}");
}

/// The `mesos-agent` binary run as `nobody`, with `args`: its exit code and stderr. An agent that
/// wrongly starts would retry the unreachable master forever: the bounded wait kills it and fails.
fn agent_as_nobody(args: &[&str]) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    let work_dir =
        std::env::temp_dir().join(format!("isolation-unprivileged-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir).unwrap();
    let nobody = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("user nobody exists");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
    command
        .args(["--master=127.0.0.1:1", "--ip=127.0.0.1", "--port=0"])
        .arg(format!("--work_dir={}", work_dir.display()))
        .args(args)
        .uid(nobody.uid.as_raw())
        .gid(nobody.gid.as_raw());
    std::fs::set_permissions(
        &work_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let what = format!("mesos-agent {args:?} run as nobody");
    let output = command.output_within(&what, PATIENCE);
    let _ = std::fs::remove_dir_all(&work_dir);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Creates `root` in the cpu and memory hierarchies as root (mode 755), as an earlier agent would.
fn make_cgroups_root(root: &str) -> Vec<PathBuf> {
    let made: Vec<PathBuf> = ["cpu", "memory"]
        .iter()
        .map(|controller| agent_cgroup(controller).join(root))
        .collect();
    for dir in &made {
        std::fs::create_dir_all(dir).unwrap();
    }
    made
}

#[test]
fn an_unprivileged_agent_refuses_isolators_it_cannot_run_naming_them() {
    require_privileges();
    // A root of its own that does not exist yet, and one that does, owned by root with mode 755,
    // as an earlier root agent leaves it: creating it then "succeeds" for nobody, yet nobody
    // cannot make a container's cgroup in it.
    let fresh = cgroups_root("unprivileged-fresh");
    let existing = cgroups_root("unprivileged-existing");
    let made = make_cgroups_root(&existing);
    for root in [&fresh, &existing] {
        let (code, stderr) = agent_as_nobody(&[
            "--isolation=cgroups/cpu,cgroups/mem",
            &format!("--cgroups_root={root}"),
        ]);
        assert_eq!(code, Some(1), "{root}: {stderr}");
        assert!(
            stderr.contains("isolator cgroups/cpu cannot work on this host"),
            "{root}: {stderr}"
        );
    }
    let (code, stderr) = agent_as_nobody(&[
        "--isolation=cgroups/mem",
        &format!("--cgroups_root={existing}"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("isolator cgroups/mem cannot work on this host")
            && stderr.contains(&existing),
        "{stderr}"
    );
    for dir in &made {
        let _ = std::fs::remove_dir(dir);
    }
    let (code, stderr) = agent_as_nobody(&["--isolation=namespaces/pid"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("namespaces/pid") && stderr.contains("CAP_SYS_ADMIN"),
        "{stderr}"
    );
    let (code, stderr) = agent_as_nobody(&["--isolation=linux/capabilities"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("linux/capabilities"), "{stderr}");
}

#[test]
fn a_root_agent_starts_when_its_cgroups_root_already_exists() {
    require_privileges();
    let root = cgroups_root("preexisting");
    let made = make_cgroups_root(&root);
    let isolator = ::agent::isolation::build(&::agent::isolation::IsolationFlags {
        isolation: "cgroups/cpu,cgroups/mem,namespaces/pid,linux/capabilities".into(),
        cgroups_root: root.clone(),
        cgroups_enable_cfs: true,
    })
    .unwrap_or_else(|e| panic!("root with an existing cgroups root: {e}"));
    // The probes cleaned up after themselves: nothing but what was there is under the root.
    for dir in &made {
        let children: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .collect();
        assert!(children.is_empty(), "{}: {children:?}", dir.display());
    }
    drop(isolator);
    for dir in &made {
        let _ = std::fs::remove_dir(dir);
    }
}

/// A custom executor on `ExecutorDriver` (registering in place of the `sleep` the agent launched
/// into the container): reports every task RUNNING and says which it got.
struct Reporter(std::sync::mpsc::Sender<TaskId>);

impl mesos::executor::Executor for Reporter {
    fn registered(
        &mut self,
        _: &mesos::executor::ExecutorDriver,
        _: &ExecutorInfo,
        _: &FrameworkInfo,
        _: &AgentInfo,
    ) {
    }
    fn launch_task(&mut self, driver: &mesos::executor::ExecutorDriver, task: TaskInfo) {
        driver
            .send_status_update(TaskStatus::new(task.task_id.clone(), TaskState::Running))
            .unwrap();
        let _ = self.0.send(task.task_id);
    }
    fn kill_task(&mut self, driver: &mesos::executor::ExecutorDriver, task_id: TaskId) {
        driver
            .send_status_update(TaskStatus::new(task_id, TaskState::Killed))
            .unwrap();
    }
}

/// The container's (only) cgroup in `controller`'s hierarchy, once the agent created it.
fn only_container_cgroup(test: &str, controller: &str) -> PathBuf {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut dirs = container_cgroups(test, controller);
        if dirs.len() == 1 {
            return dirs.pop().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no single container cgroup: {dirs:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read_number(dir: &Path, file: &str) -> u64 {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}: {text}", file))
}

/// Waits until the container's memory limit and cpu shares are those of `cpus` and `mem_mb`
/// (limits are applied by the agent's actor, asynchronously to our messages).
fn expect_limits(memory: &Path, cpu: &Path, cpus: f64, mem_mb: u64, when: &str) {
    let want_shares = ::agent::isolation::cgroups::cpu_shares(cpus);
    let want_mem = mem_mb << 20;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mem = read_number(memory, "memory.limit_in_bytes");
        let shares = read_number(cpu, "cpu.shares");
        // cpus are summed in floating point: allow one share of rounding.
        if mem == want_mem && shares.abs_diff(want_shares) <= 1 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{when}: memory.limit_in_bytes {mem} (want {want_mem}), cpu.shares {shares} (want {want_shares})"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn an_executors_limits_grow_with_tasks_queued_while_it_registers_and_shrink_when_one_ends() {
    use mesos::executor::{DriverStatus, ExecutorDriver, ExecutorEnv};
    let test = "resize";
    let mut cluster = start(test, "cgroups/cpu,cgroups/mem", false);
    let executor = ExecutorInfo::new("grower", CommandInfo::shell("sleep 1000"))
        .with_resources("cpus:0.1;mem:32".parse().unwrap());
    let custom = |id: &str, resources: &str| {
        let mut task = task(id, resources, "unused");
        task.command = None;
        task.executor = Some(executor.clone());
        task
    };
    // The first task launches the executor; nobody registers for it until the driver below starts.
    run_as_unnamed_user(&cluster, custom("t1", "cpus:1;mem:64"));
    let memory = only_container_cgroup(test, "memory");
    let cpu = only_container_cgroup(test, "cpu");
    expect_limits(&memory, &cpu, 1.1, 96, "executor and t1");
    // The second arrives while the executor is still registering: queued, and the container grows.
    run_as_unnamed_user(&cluster, custom("t2", "cpus:2;mem:128"));
    // Both wait for the executor (the agent gets the task over its own connection: wait for it).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let state = cluster.agent.state().unwrap();
        let queued = state["frameworks"][0]["executors"][0]["queued_tasks"]
            .as_array()
            .map_or(0, Vec::len);
        if queued == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "t2 was never queued: {state:#}");
        std::thread::sleep(Duration::from_millis(10));
    }
    expect_limits(&memory, &cpu, 3.1, 224, "t2 queued while registering");

    let executor_runtime = runtime();
    let (launched_tx, launched) = std::sync::mpsc::channel();
    let env = ExecutorEnv::new(
        cluster.agent.pid().clone(),
        FrameworkId::new("fw-1"),
        ExecutorId::new("grower"),
    );
    let driver = ExecutorDriver::on_runtime(&executor_runtime, Reporter(launched_tx), env);
    assert_eq!(driver.start(), DriverStatus::Running);
    let mut got = vec![
        launched.recv_timeout(PATIENCE).unwrap(),
        launched.recv_timeout(PATIENCE).unwrap(),
    ];
    got.sort();
    assert_eq!(got, vec![TaskId::new("t1"), TaskId::new("t2")]);
    wait_running(&mut cluster, "t1");
    wait_running(&mut cluster, "t2");
    // Forwarding the queued tasks keeps the limits of everything the executor runs.
    expect_limits(&memory, &cpu, 3.1, 224, "queued tasks forwarded");
    // A task sent to the registered executor.
    run_as_unnamed_user(&cluster, custom("t3", "cpus:1;mem:64"));
    assert_eq!(launched.recv_timeout(PATIENCE).unwrap(), TaskId::new("t3"));
    wait_running(&mut cluster, "t3");
    expect_limits(&memory, &cpu, 4.1, 288, "t3 sent to the running executor");
    // t2 ends: its 2 cpus and 128 MB leave the container.
    driver
        .send_status_update(TaskStatus::new(TaskId::new("t2"), TaskState::Finished))
        .unwrap();
    assert_eq!(
        terminal(&mut cluster, "t2").status.state,
        TaskState::Finished
    );
    expect_limits(&memory, &cpu, 2.1, 160, "t2 finished");
    let stats = cpu_seconds(&cluster, "grower").1;
    assert_eq!(stats["mem_limit_bytes"], 160u64 << 20, "{stats}");
    driver.stop();
    finish(cluster, test);
}

#[test]
fn a_task_whose_child_is_oom_killed_fails_at_once_though_its_shell_lives_on() {
    let test = "oomwatch";
    let mut cluster = start(test, "cgroups/cpu,cgroups/mem", false);
    // The kernel kills dd (the biggest process); the shell would sleep on for 1000 s.
    let command = "echo $$ > pid; dd if=/dev/zero of=/dev/null bs=256M count=1; sleep 1000";
    run_as_unnamed_user(&cluster, task("child-oom", "cpus:0.1;mem:32", command));
    wait_running(&mut cluster, "child-oom");
    let started = Instant::now();
    let last = terminal(&mut cluster, "child-oom");
    let waited = started.elapsed();
    assert_eq!(last.status.state, TaskState::Failed, "{:?}", last.status);
    assert_eq!(last.status.reason, Some(Reason::ContainerLimitationMemory));
    assert_eq!(last.status.source, Some(Source::Agent));
    let message = last.status.message.clone().unwrap_or_default();
    assert!(
        message.starts_with("Memory limit exceeded: Requested: 32MB Maximum Used: "),
        "{message}"
    );
    assert!(
        waited < Duration::from_secs(5),
        "the OOM kill was noticed only after {waited:?}"
    );
    wait_exited(&mut cluster, "child-oom");
    assert!(container_cgroups(test, "memory").is_empty());
    assert!(container_cgroups(test, "cpu").is_empty());
    let sandbox = std::fs::read_dir(
        cluster
            .work_dir
            .join("slaves/agent-1/frameworks/fw-1/executors/child-oom/runs"),
    )
    .unwrap()
    .next()
    .unwrap()
    .unwrap()
    .path();
    let shell: i32 = std::fs::read_to_string(sandbox.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let alive = std::fs::read_to_string(format!("/proc/{shell}/stat"))
        .map(|stat| !stat.contains(") Z"))
        .unwrap_or(false);
    assert!(!alive, "the task's shell {shell} survived its container");

    // A task whose main process exits 0 after its child was OOM-killed failed all the same.
    let command = "dd if=/dev/zero of=/dev/null bs=256M count=1; exit 0";
    run_as_unnamed_user(&cluster, task("then-exit", "cpus:0.1;mem:32", command));
    let last = terminal(&mut cluster, "then-exit");
    assert_eq!(last.status.state, TaskState::Failed, "{:?}", last.status);
    assert_eq!(last.status.reason, Some(Reason::ContainerLimitationMemory));
    wait_exited(&mut cluster, "then-exit");
    assert!(container_cgroups(test, "memory").is_empty());
    finish(cluster, test);
}
