//! The MPI-like gang framework end to end: real `mpi-framework` and `mpi-executor` processes
//! against an in-process LocalCluster; ranks rendezvous over real TCP.

use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mesos_local::{LocalCluster, LocalConfig};

/// A test fails (and kills its framework) rather than hang past this.
const DEADLINE: Duration = Duration::from_secs(25);

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

/// Runs `command` to completion, killing it after [`DEADLINE`].
fn run(mut command: Command) -> Output {
    let child = command.spawn().expect("mpi-framework starts");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(output) => output.expect("mpi-framework output"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let output = rx.recv().expect("killed child").expect("output");
            panic!(
                "mpi-framework did not finish in {DEADLINE:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
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
    // 8 cpus; each framework needs 5 at once, so they can only run one after the other, and
    // whenever both hold part of the cluster neither fits until one lets go.
    let cluster = cluster(4, "cpus:2;mem:1024;ports:[31000-32000]");
    let master = cluster.master_address();
    let args = |name: &'static str| {
        [
            "--ranks=5".to_string(),
            "--jobs=2".to_string(),
            "--work_ms=300".to_string(),
            "--gang_timeout=1secs".to_string(),
            format!("--name={name}"),
        ]
    };
    let a_args = args("mpi-a");
    let b_args = args("mpi-b");
    let a = std::thread::spawn({
        let master = master.clone();
        move || {
            run(mpi_framework(
                &master,
                &a_args.each_ref().map(String::as_str),
            ))
        }
    });
    let b = run(mpi_framework(
        &master,
        &b_args.each_ref().map(String::as_str),
    ));
    let a = a.join().expect("framework a ran");
    for (output, name) in [(&a, "mpi-a"), (&b, "mpi-b")] {
        assert!(output.status.success(), "{name}: {}", describe(output));
        let lines = job_lines(output);
        assert_eq!(lines.len(), 2, "{name}: {}", describe(output));
        assert!(lines.iter().all(|l| field(l, "name") == name));
        assert!(lines.iter().all(|l| field(l, "result_ok") == "true"));
    }
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
