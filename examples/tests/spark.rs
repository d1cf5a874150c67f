//! The Spark-like framework end to end: a real in-process LocalCluster, the real
//! `spark-framework` and `spark-executor` processes (and `hadoop-lr-framework` with
//! `wordcount-executor` for the baseline), weights checked against the fit computed here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mesos::scheduler::{DriverHandle, Scheduler, SchedulerDriver};
use mesos::{Filters, FrameworkInfo, Offer, TaskStatus};
use mesos_examples::logreg::{
    generate_points, run_directly, Fit, IterationLine, JobLine, PointsSpec,
};
use mesos_examples::wordcount::dataset::scan_blocks;
use mesos_local::{LocalCluster, LocalConfig};
use process::testing::{
    join_within, wait_for, wait_until, BoundedChild, BoundedCommand, ChildGuard, Lines,
};

/// A framework run fails (and is killed) rather than hang past this.
const DEADLINE: Duration = Duration::from_secs(60);

/// `agents` agents (`node:agent-<i>`) of `cpus:2;mem:1024`, allocating every 50 ms, declaring a
/// silent agent lost after 3 missed pings of 200 ms.
fn cluster(agents: usize) -> LocalCluster {
    let mut config = LocalConfig::new(agents);
    config.agent_resources = Some("cpus:2;mem:1024".into());
    config.master.allocation_interval = Duration::from_millis(50);
    config.master.agent_ping_timeout = Duration::from_millis(200);
    config.master.max_agent_ping_timeouts = 3;
    LocalCluster::start(config).expect("cluster starts")
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "spark-it-{name}-{}-{}",
            std::process::id(),
            mesos::Uuid::random()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `blocks` blocks of `kb` kB of 4-feature points spread over `nodes`, in `dir/points`.
fn points(dir: &TempDir, nodes: &[&str], blocks: usize, kb: usize) -> PathBuf {
    let input = dir.0.join("points");
    let nodes: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    let spec = PointsSpec {
        blocks,
        block_bytes: kb * 1024,
        dims: 4,
        seed: 5,
    };
    generate_points(&input, &nodes, spec).expect("data set");
    input
}

fn direct_fit(input: &Path, iterations: usize) -> Fit {
    let blocks = scan_blocks(input).expect("blocks");
    run_directly(&blocks, 4, iterations, 1.0).expect("fit")
}

fn spark(cluster: &LocalCluster, input: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spark-framework"));
    command
        .arg(format!("--master={}", cluster.master_address()))
        .arg(format!("--input={}", input.display()))
        .arg(format!(
            "--executor={}",
            env!("CARGO_BIN_EXE_spark-executor")
        ))
        .args(["--executor_mem=64", "--locality_wait=200ms"])
        .args(extra)
        .env_remove("RUST_LOG");
    command
}

/// A framework process whose stdout is read line by line as it runs.
struct Running {
    child: ChildGuard,
    stdout: Lines,
    stderr: JoinHandle<Vec<u8>>,
    lines: Vec<String>,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child: Child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the framework starts");
        let stdout = Lines::new(child.stdout.take().expect("stdout"));
        let mut pipe = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = std::io::Read::read_to_end(&mut pipe, &mut bytes);
            bytes
        });
        Running {
            child: ChildGuard::new(child),
            stdout,
            stderr,
            lines: Vec::new(),
        }
    }

    /// Reads lines until one starts with `prefix` (within [`DEADLINE`] in all); returns it.
    fn wait_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.stdout.expect_within(prefix, left);
            self.lines.push(line.clone());
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// Waits for the exit and every line; returns the status, the lines and stderr.
    fn finish(mut self) -> (ExitStatus, Vec<String>, String) {
        let status = self.child.wait_within("the framework", DEADLINE);
        while let Some(line) = self.stdout.next_within("the framework's stdout", DEADLINE) {
            self.lines.push(line);
        }
        let stderr = join_within(self.stderr, "the framework's stderr", DEADLINE);
        (
            status,
            self.lines,
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    /// As [`Running::finish`], failing unless the exit is 0.
    fn succeed(self) -> Vec<String> {
        let (status, lines, stderr) = self.finish();
        assert!(
            status.success(),
            "{status}\nstdout:\n{}\nstderr:\n{stderr}",
            lines.join("\n")
        );
        lines
    }
}

fn jobs(lines: &[String]) -> Vec<JobLine> {
    lines.iter().filter_map(|l| JobLine::parse(l)).collect()
}

fn iterations(lines: &[String]) -> Vec<IterationLine> {
    lines
        .iter()
        .filter_map(|l| IterationLine::parse(l))
        .collect()
}

/// The pairs of the `framework=spark` counters line.
fn counters(lines: &[String]) -> BTreeMap<String, u64> {
    let line = lines
        .iter()
        .find(|l| l.starts_with("framework=spark "))
        .unwrap_or_else(|| panic!("no counters line in {lines:?}"));
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

#[test]
fn the_fit_equals_the_direct_one_and_the_hadoop_baseline_computes_the_same() {
    let cluster = cluster(3);
    let dir = TempDir::new("fit");
    let input = points(&dir, &["agent-0", "agent-1", "agent-2"], 6, 48);
    let expected = direct_fit(&input, 8);

    let lines = Running::start(spark(&cluster, &input, &["--iterations=8", "--name=sp"])).succeed();
    let job = &jobs(&lines)[0];
    assert_eq!(job.weights, expected.weights, "{lines:?}");
    assert_eq!((job.framework.as_str(), job.name.as_str()), ("spark", "sp"));
    assert_eq!((job.partitions, job.iterations), (6, 8));
    // Each partition is read once, then served from memory.
    assert_eq!(job.loads, 6, "{lines:?}");
    let its = iterations(&lines);
    assert_eq!(its.len(), 8);
    for (i, it) in its.iter().enumerate() {
        assert_eq!(it.iteration, i);
        assert_eq!(it.loads, if i == 0 { 6 } else { 0 }, "{it:?}");
        assert!((it.loss - expected.losses[i]).abs() < 1e-6, "{it:?}");
    }
    // One executor per agent, a core per local partition (two blocks per node).
    let c = counters(&lines);
    assert_eq!(
        (c["executors_started"], c["executors_lost"]),
        (3, 0),
        "{c:?}"
    );
    assert_eq!(c["leases_launched"], 6, "{c:?}");

    // The baseline: one MapReduce job per iteration, every block read every time.
    let out = Command::new(env!("CARGO_BIN_EXE_hadoop-lr-framework"))
        .arg(format!("--master={}", cluster.master_address()))
        .arg(format!("--input={}", input.display()))
        .arg(format!(
            "--executor={}",
            env!("CARGO_BIN_EXE_wordcount-executor")
        ))
        .args(["--iterations=8", "--task_cpus=0.5", "--task_mem=64"])
        .env_remove("RUST_LOG")
        .output_within("hadoop-lr-framework", DEADLINE);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = stdout.lines().map(String::from).collect();
    let job = &jobs(&lines)[0];
    assert_eq!(job.framework, "hadoop");
    assert_eq!(job.weights, expected.weights);
    assert_eq!(job.loads, 6 * 8);
    assert!(iterations(&lines).iter().all(|it| it.loads == 6));
}

#[test]
fn an_agent_killed_mid_job_costs_only_its_partitions() {
    let mut cluster = cluster(3);
    let dir = TempDir::new("kill");
    let input = points(&dir, &["agent-0", "agent-1", "agent-2"], 6, 16);
    // Enough iterations that the job is far from done when the agent goes.
    let rounds = 300;
    let expected = direct_fit(&input, rounds);
    let mut run = Running::start(spark(
        &cluster,
        &input,
        &[&format!("--iterations={rounds}")],
    ));
    run.wait_line("iteration=2 ");
    cluster.stop_agent(1).expect("agent 1 runs");
    let lines = run.succeed();

    let job = &jobs(&lines)[0];
    assert_eq!(
        job.weights, expected.weights,
        "the same fit despite the loss"
    );
    // The two partitions of agent-1 were read again, on the other agents, after iteration 2 (in
    // one iteration, or two if one of them had already answered the stage the kill hit).
    assert_eq!(job.loads, 8, "{job:?}");
    let its = iterations(&lines);
    let reloaded: Vec<&IterationLine> = its
        .iter()
        .filter(|it| it.iteration > 0 && it.loads > 0)
        .collect();
    assert_eq!(reloaded.iter().map(|it| it.loads).sum::<usize>(), 2);
    assert!(reloaded.iter().all(|it| it.iteration > 2), "{reloaded:?}");
    assert_eq!(counters(&lines)["executors_lost"], 1);
}

/// A second framework that only watches its offers (agent, cpus) and declines them shortly.
struct Watcher(Sender<(String, f64)>);

impl Scheduler for Watcher {
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        for offer in offers {
            let cpus = offer.resources.cpus().unwrap_or(0.0);
            let _ = self.0.send((offer.agent_id.to_string(), cpus));
            driver.decline_offer(offer.id, Filters::refuse(Duration::from_millis(200)));
        }
    }

    fn status_update(&mut self, _driver: &DriverHandle, _status: &TaskStatus) {}
}

fn watch_offers(cluster: &LocalCluster) -> (SchedulerDriver, Receiver<(String, f64)>) {
    let (tx, rx) = channel();
    let driver = SchedulerDriver::new(
        Watcher(tx),
        FrameworkInfo::new("", "watcher"),
        &cluster.master_address(),
    )
    .expect("driver");
    driver.start();
    (driver, rx)
}

#[test]
fn idle_cores_go_back_to_another_framework_while_the_cache_stays() {
    let cluster = cluster(2);
    let dir = TempDir::new("elastic");
    // Two blocks per node: the Spark-like framework wants both cores of each agent.
    let input = points(&dir, &["agent-0", "agent-1"], 4, 32);
    let expected = direct_fit(&input, 3);
    let mut run = Running::start(spark(
        &cluster,
        &input,
        &[
            "--iterations=3",
            "--jobs=2",
            "--pause_between_jobs=5secs",
            "--idle_timeout=300ms",
            "--name=elastic",
        ],
    ));
    let first = JobLine::parse(&run.wait_line("job=logreg ")).expect("job line");
    assert_eq!((first.job_index, first.loads), (0, 4));
    assert_eq!(first.weights, expected.weights);

    // During the pause, another framework is offered every core of both agents.
    let (watcher, offers) = watch_offers(&cluster);
    let mut freed: BTreeMap<String, f64> = BTreeMap::new();
    wait_until(
        "offers of every core of both agents",
        Duration::from_secs(4),
        || {
            freed.extend(offers.try_iter());
            freed.len() == 2 && freed.values().all(|&cpus| cpus >= 2.0)
        },
    );
    // ... while the executors (and their memory) stay.
    let master = cluster.master().expect("master runs");
    let executors = wait_for("the executors listed", DEADLINE, || {
        let state = master.state();
        let framework = state["frameworks"]
            .as_array()?
            .iter()
            .find(|f| f["name"] == "elastic")?
            .clone();
        Some(framework["executors"].as_array()?.len())
    });
    assert_eq!(executors, 2);

    // The second job takes its cores back and finds every partition in memory.
    let lines = run.succeed();
    watcher.stop(false);
    let second = &jobs(&lines)[1];
    assert_eq!((second.job_index, second.loads), (1, 0), "{lines:?}");
    assert_eq!(second.weights, expected.weights);
    let c = counters(&lines);
    assert_eq!(c["executors_started"], 2, "{c:?}");
    assert!(c["leases_released"] >= 4, "{c:?}");
}

#[test]
fn bad_input_exits_non_zero_naming_the_flag() {
    let dir = TempDir::new("flags");
    let empty = dir.0.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let bad = dir.0.join("bad");
    std::fs::create_dir_all(bad.join("n0")).expect("dir");
    std::fs::write(bad.join("n0/block-0.txt"), "yes 1 2\n").expect("write");
    for (input, extra, needle) in [
        (&empty, "--iterations=1", "--input"),
        (&bad, "--iterations=1", "--input"),
        (&empty, "--iterations=0", "--iterations"),
        (&empty, "--idle_timeout=later", "--idle_timeout"),
    ] {
        for binary in [
            env!("CARGO_BIN_EXE_spark-framework"),
            env!("CARGO_BIN_EXE_hadoop-lr-framework"),
        ] {
            if binary.ends_with("hadoop-lr-framework") && extra.starts_with("--idle") {
                continue;
            }
            let out = Command::new(binary)
                .args(["--master=127.0.0.1:1", extra])
                .arg(format!("--input={}", input.display()))
                .output_within(binary, DEADLINE);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{binary} {extra}: {stderr}");
            assert!(stderr.contains(needle), "{binary} {extra}: {stderr}");
        }
    }
}

#[test]
fn direct_mode_prints_the_same_lines() {
    let dir = TempDir::new("direct");
    let input = points(&dir, &["n0", "n1"], 3, 8);
    let out = Command::new(env!("CARGO_BIN_EXE_spark-framework"))
        .args(["--direct", "--iterations=4"])
        .arg(format!("--input={}", input.display()))
        .output_within("spark-framework --direct", DEADLINE);
    assert!(out.status.success());
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    let job = &jobs(&lines)[0];
    assert_eq!(job.framework, "direct");
    assert_eq!(job.weights, direct_fit(&input, 4).weights);
    assert_eq!(iterations(&lines).len(), 4);
}
