//! The MPI-like gang framework end to end: real `mpi-framework` and `mpi-executor` processes
//! against an in-process LocalCluster; ranks rendezvous over real TCP.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mesos_local::{LocalCluster, LocalConfig};
use process::testing::ChildGuard;

/// A test fails (and kills its framework) rather than hang past this.
const DEADLINE: Duration = Duration::from_secs(25);

/// How often a test polls the master while it waits for something.
const POLL: Duration = Duration::from_millis(10);

fn cluster(agents: usize, resources: &str) -> LocalCluster {
    let mut config = LocalConfig::new(agents);
    config.agent_resources = Some(resources.into());
    config.master.allocation_interval = Duration::from_millis(50);
    LocalCluster::start(config).expect("cluster starts")
}

fn mpi_framework(master: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mpi-framework"));
    command
        .arg(format!("--master={master}"))
        .arg(format!("--executor={}", env!("CARGO_BIN_EXE_mpi-executor")))
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A framework process, killed if the test fails first.
struct Running(ChildGuard);

/// Starts `command`; [`Running::finish`] waits for it.
fn start(mut command: Command) -> Running {
    Running(ChildGuard::collecting(
        command.spawn().expect("mpi-framework starts"),
    ))
}

impl Running {
    /// Waits for the process to end, killing it (and failing, with its output) after [`DEADLINE`].
    fn finish(self) -> Output {
        self.0.output_within("mpi-framework", DEADLINE)
    }
}

/// Runs `command` to completion, killing it after [`DEADLINE`].
fn run(command: Command) -> Output {
    start(command).finish()
}

/// Waits until the master lists an active framework of each of `names`.
fn wait_until_registered(cluster: &LocalCluster, names: &[&str]) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let state = cluster.master().expect("master runs").state();
        let active: Vec<&str> = state["frameworks"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|f| f["active"] == true)
            .filter_map(|f| f["name"].as_str())
            .collect();
        if names.iter().all(|name| active.contains(name)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{names:?} did not register in {DEADLINE:?}; active: {active:?}"
        );
        std::thread::sleep(POLL);
    }
}

/// The `key=value` pairs of every `job=mpi` line.
fn job_lines(output: &Output) -> Vec<Vec<(String, String)>> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.starts_with("job=mpi "))
        .map(|line| {
            line.split(' ')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn field<'a>(line: &'a [(String, String)], key: &str) -> &'a str {
    line.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
}

fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_four_rank_job_allreduces_the_correct_sum_twice() {
    let cluster = cluster(3, "cpus:2;mem:1024;ports:[31000-32000]");
    let output = run(mpi_framework(
        &cluster.master_address(),
        &["--ranks=4", "--jobs=2", "--name=mpi-e2e", "--role=e2e"],
    ));
    assert!(output.status.success(), "{}", describe(&output));
    let lines = job_lines(&output);
    assert_eq!(lines.len(), 2, "{}", describe(&output));
    for (index, line) in lines.iter().enumerate() {
        assert_eq!(field(line, "name"), "mpi-e2e");
        assert_eq!(field(line, "job_index"), index.to_string());
        assert_eq!(field(line, "ranks"), "4");
        assert_eq!(field(line, "attempts"), "1");
        assert_eq!(field(line, "result_ok"), "true");
        let job_s: f64 = field(line, "job_s").parse().expect("job_s is a number");
        assert!(job_s > 0.0);
    }
}

#[test]
fn a_failing_rank_makes_the_framework_kill_the_others_and_retry() {
    let cluster = cluster(3, "cpus:2;mem:1024;ports:[31000-32000]");
    let output = run(mpi_framework(
        &cluster.master_address(),
        &["--ranks=3", "--fail_rank=1", "--work_ms=200"],
    ));
    assert!(output.status.success(), "{}", describe(&output));
    let lines = job_lines(&output);
    assert_eq!(lines.len(), 1, "{}", describe(&output));
    assert_eq!(field(&lines[0], "attempts"), "2");
    assert_eq!(field(&lines[0], "result_ok"), "true");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("job0-try1-rank1 is TASK_FAILED"),
        "{stderr}"
    );
    // The surviving ranks of the failed attempt were killed, not left running.
    assert!(stderr.contains("TASK_KILLED"), "{stderr}");
}

#[test]
fn two_rigid_frameworks_that_each_need_most_of_the_cluster_both_finish() {
    // 8 cpus; each framework needs 5 at once, so they can only run one after the other. Both
    // register before any agent exists; the agents then arrive together and the allocator
    // shares them out fairly (2 and 2): each framework holds 4 cpus and neither gang fits
    // until one gives its offers back at its gang timeout. The timeout must outlast the agents'
    // arrival, or the first framework would time out holding nothing.
    let mut cluster = cluster(0, "cpus:2;mem:1024;ports:[31000-32000]");
    let master = cluster.master_address();
    let start_framework = |name: &str| {
        start(mpi_framework(
            &master,
            &[
                "--ranks=5",
                "--jobs=2",
                "--work_ms=300",
                "--gang_timeout=2secs",
                &format!("--name={name}"),
            ],
        ))
    };
    let a = start_framework("mpi-a");
    let b = start_framework("mpi-b");
    wait_until_registered(&cluster, &["mpi-a", "mpi-b"]);
    for _ in 0..4 {
        cluster.add_agent().expect("agent starts");
    }
    let outputs = [(a.finish(), "mpi-a"), (b.finish(), "mpi-b")];
    let mut releases = Vec::new();
    for (output, name) in &outputs {
        assert!(output.status.success(), "{name}: {}", describe(output));
        let lines = job_lines(output);
        assert_eq!(lines.len(), 2, "{name}: {}", describe(output));
        assert!(lines.iter().all(|l| field(l, "name") == *name));
        assert!(lines.iter().all(|l| field(l, "result_ok") == "true"));
        for line in &lines {
            let n: u32 = field(line, "releases")
                .parse()
                .expect("releases is a number");
            releases.push((*name, field(line, "job_index").to_string(), n));
        }
    }
    eprintln!("(framework, job, releases): {releases:?}");
    // Neither first gang could start before someone let go: the deadlock was broken by a
    // release, not by luck in the offer order.
    let first_jobs: u32 = releases
        .iter()
        .filter(|(_, job, _)| job == "0")
        .map(|(_, _, n)| n)
        .sum();
    assert!(
        first_jobs >= 1,
        "no framework released its held offers: {releases:?}\n{}\n{}",
        describe(&outputs[0].0),
        describe(&outputs[1].0)
    );
}

#[test]
fn bad_flags_exit_non_zero_naming_the_flag() {
    for (args, flag) in [
        (&["--ranks=0"][..], "--ranks"),
        (&["--gang_timeout=5"][..], "--gang_timeout"),
        (&["--ranks=4", "--fail_rank=4"][..], "--fail_rank"),
        (&["--rank_mem=lots"][..], "--rank_mem"),
        (&["--jobs=-1"][..], "--jobs"),
    ] {
        let output = run(mpi_framework("127.0.0.1:1", args));
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            describe(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
    let output = run(mpi_framework("not a master", &[]));
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--master"));
}
