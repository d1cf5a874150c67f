//! The word count framework end to end: a real in-process LocalCluster of 3 agents, the real
//! `wordcount-framework` and `wordcount-executor` processes, counts checked against the direct
//! single-process count.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mesos_examples::wordcount::job::IDLE_REFUSE;
use mesos_examples::wordcount::{count_directly, generate_dataset, Counts};
use mesos_local::{LocalCluster, LocalConfig};
use process::testing::{BoundedCommand, ChildGuard};

/// Three agents (`node:agent-0..2`) with 2 cpus: four 0.5-cpu tasks each (three next to an
/// executor that takes resources of its own).
fn cluster() -> LocalCluster {
    let mut config = LocalConfig::new(3);
    config.agent_resources = Some("cpus:2;mem:1024".into());
    config.master.allocation_interval = Duration::from_millis(50);
    LocalCluster::start(config).expect("cluster starts")
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "wordcount-it-{name}-{}-{}",
            std::process::id(),
            mesos::Uuid::random()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A data set of `blocks` 16 kB blocks spread over `nodes`, in `dir/input`.
fn dataset(dir: &TempDir, nodes: &[&str], blocks: usize, seed: u64) -> PathBuf {
    let input = dir.path().join("input");
    let nodes: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    generate_dataset(&input, &nodes, blocks, 16 * 1024, seed).expect("data set");
    input
}

fn wordcount(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wordcount-framework"))
        .args(args)
        .output_within("wordcount-framework", DEADLINE)
}

fn cluster_args(
    cluster: &LocalCluster,
    input: &Path,
    output: &Path,
    extra: &[&str],
) -> Vec<String> {
    let mut args = vec![
        format!("--master={}", cluster.master_address()),
        format!("--input={}", input.display()),
        format!("--output={}", output.display()),
        format!("--executor={}", env!("CARGO_BIN_EXE_wordcount-executor")),
        "--task_cpus=0.5".into(),
        "--task_mem=64".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// The `key=value` pairs of every stdout line starting with `prefix`.
fn lines_with(stdout: &str, prefix: &str) -> Vec<HashMap<String, String>> {
    stdout
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn succeeded(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn read_output(path: &Path) -> Counts {
    let text = std::fs::read_to_string(path).expect("output written");
    text.lines()
        .map(|line| {
            let (word, n) = line.rsplit_once(' ').expect("word count");
            (word.to_string(), n.parse().expect("count"))
        })
        .collect()
}

fn number(job: &HashMap<String, String>, key: &str) -> f64 {
    job.get(key)
        .unwrap_or_else(|| panic!("no {key} in {job:?}"))
        .parse()
        .expect("a number")
}

#[test]
fn counts_match_the_direct_count_and_a_5s_wait_keeps_maps_local() {
    let cluster = cluster();
    let dir = TempDir::new("spread");
    let input = dataset(&dir, &["agent-0", "agent-1", "agent-2"], 12, 1);
    let output = dir.path().join("counts.txt");
    let out = wordcount(&cluster_args(
        &cluster,
        &input,
        &output,
        &[
            "--locality_wait=5secs",
            "--reducers=3",
            "--jobs=2",
            "--name=wc-it",
        ],
    ));
    let stdout = succeeded(&out);
    let expected = count_directly(&input).expect("direct count");
    assert_eq!(read_output(&output), expected);
    let jobs = lines_with(&stdout, "job=wordcount ");
    assert_eq!(jobs.len(), 2, "{stdout}");
    let words: u64 = expected.values().sum();
    for (i, job) in jobs.iter().enumerate() {
        assert_eq!(job["name"], "wc-it");
        assert_eq!(job["job_index"], i.to_string());
        assert_eq!((job["maps"].as_str(), job["reduces"].as_str()), ("12", "3"));
        assert_eq!(job["words"], words.to_string());
        assert_eq!(job["distinct"], expected.len().to_string());
        // Every node holds 4 blocks and has 3 slots next to its executor: the wait is hardly
        // needed.
        assert!(number(job, "local_pct") >= 90.0, "{job:?}");
        assert!(number(job, "job_s") > 0.0);
    }
}

#[test]
fn skewed_data_runs_remote_maps_without_a_wait_and_stays_local_with_one() {
    let cluster = cluster();
    let dir = TempDir::new("skew");
    // Every block on agent-0: its four slots cannot take all nine maps at once.
    let input = dataset(&dir, &["agent-0"], 9, 2);
    let expected = count_directly(&input).expect("direct count");

    let output = dir.path().join("no-wait.txt");
    let out = wordcount(&cluster_args(
        &cluster,
        &input,
        &output,
        &["--locality_wait=0secs", "--remote_read_mbps=20"],
    ));
    let stdout = succeeded(&out);
    assert_eq!(read_output(&output), expected);
    let job = &lines_with(&stdout, "job=wordcount ")[0];
    assert!(number(job, "local_maps") < 9.0, "{job:?}");
    assert_eq!(
        number(job, "local_pct"),
        (1000.0 * number(job, "local_maps") / 9.0).round() / 10.0
    );

    // A wait far longer than the job: agent-0 keeps launching locally, so the wait never ends.
    let output = dir.path().join("long-wait.txt");
    let out = wordcount(&cluster_args(
        &cluster,
        &input,
        &output,
        &[
            "--locality_wait=30secs",
            "--remote_read_mbps=20",
            "--reducers=1",
        ],
    ));
    let stdout = succeeded(&out);
    assert_eq!(read_output(&output), expected);
    let job = &lines_with(&stdout, "job=wordcount ")[0];
    assert_eq!(job["local_maps"], "9", "{job:?}");
    assert_eq!(job["local_pct"], "100.0");
}

#[test]
fn direct_mode_counts_in_process() {
    let dir = TempDir::new("direct");
    let input = dataset(&dir, &["n1", "n2"], 4, 3);
    let output = dir.path().join("direct.txt");
    let out = wordcount(&[
        "--direct".into(),
        format!("--input={}", input.display()),
        format!("--output={}", output.display()),
    ]);
    let stdout = succeeded(&out);
    let expected = count_directly(&input).expect("direct count");
    assert_eq!(read_output(&output), expected);
    let line = &lines_with(&stdout, "job=wordcount-direct ")[0];
    assert_eq!(line["words"], expected.values().sum::<u64>().to_string());
    assert_eq!(line["distinct"], expected.len().to_string());
    assert!(line.contains_key("job_s"));
}

#[test]
fn bad_flags_exit_non_zero_naming_the_flag() {
    let dir = TempDir::new("flags");
    let input = dataset(&dir, &["n1"], 1, 4);
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let base = |input: &Path| {
        vec![
            "--master=127.0.0.1:1".to_string(),
            format!("--input={}", input.display()),
        ]
    };
    let output = format!("--output={}", dir.path().join("o.txt").display());
    let nowhere = format!("--output={}", dir.path().join("no/such/o.txt").display());
    for (extra, input, flag) in [
        (nowhere.as_str(), input.as_path(), "--output"),
        ("--locality_wait=soon", input.as_path(), "--locality_wait"),
        ("--reducers=0", input.as_path(), "--reducers"),
        ("--task_mem=lots", input.as_path(), "--task_mem"),
        ("--jobs=1", empty.as_path(), "--input"),
        ("--jobs=1", dir.path().join("missing").as_path(), "--input"),
    ] {
        let mut args = base(input);
        if !extra.starts_with("--output") {
            args.push(output.clone());
        }
        args.push(extra.to_string());
        let out = wordcount(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra}: {stderr}");
        assert!(stderr.contains(flag), "{extra}: {stderr}");
    }
}

#[test]
fn a_block_that_cannot_be_read_fails_the_job_after_retries() {
    let cluster = cluster();
    let dir = TempDir::new("unreadable");
    let input = dataset(&dir, &["agent-0", "agent-1"], 2, 5);
    // Block 1's "file" is a directory: every map attempt on it fails.
    let block = input.join("agent-1").join("block-1.txt");
    std::fs::remove_file(&block).expect("remove");
    std::fs::create_dir(&block).expect("dir");
    let output = dir.path().join("never.txt");
    let out = wordcount(&cluster_args(
        &cluster,
        &input,
        &output,
        &["--locality_wait=0secs"],
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("job0-map1-try4"), "{stderr}");
    assert!(lines_with(&stdout, "job=wordcount ").is_empty(), "{stdout}");
    assert!(!output.exists());
}

/// How often a test polls the master while it waits for something.
const POLL: Duration = Duration::from_millis(20);

/// A test fails (and kills its framework) rather than hang past this.
const DEADLINE: Duration = Duration::from_secs(60);

/// The master's `/master/state` entry of the framework called `name`, if it registered.
fn framework_state(cluster: &LocalCluster, name: &str) -> Option<serde_json::Value> {
    let state = cluster.master().expect("master runs").state();
    state["frameworks"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)
        .cloned()
}

/// The states of a framework's tasks, live and completed, as the master lists them.
fn task_states(framework: &serde_json::Value) -> Vec<String> {
    ["tasks", "completed_tasks"]
        .iter()
        .filter_map(|key| framework[key].as_array())
        .flatten()
        .filter_map(|t| t["state"].as_str().map(String::from))
        .collect()
}

fn offers_sent(cluster: &LocalCluster) -> f64 {
    cluster.master().expect("master runs").metrics()["master/offers_sent"]
        .as_f64()
        .expect("master/offers_sent")
}

#[test]
fn an_idle_job_suppresses_offers_and_revives_them_when_it_has_work() {
    let cluster = cluster();
    let dir = TempDir::new("idle");
    // Three blocks on a node that no agent is: every map reads remotely, throttled so that each
    // takes about 8 s. Once the three are launched the job has nothing to run until one ends --
    // longer than the decline filter (IDLE_REFUSE), so only suppression keeps offers away.
    let input = dataset(&dir, &["elsewhere"], 3, 6);
    let output = dir.path().join("counts.txt");
    let name = "wc-idle";
    let child = Command::new(env!("CARGO_BIN_EXE_wordcount-framework"))
        .args(cluster_args(
            &cluster,
            &input,
            &output,
            &[
                "--locality_wait=0secs",
                "--remote_read_mbps=0.002",
                "--reducers=1",
                &format!("--name={name}"),
            ],
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wordcount-framework starts");
    // Killed if the test fails before it finishes.
    let child = ChildGuard::collecting(child);
    let deadline = Instant::now() + DEADLINE;

    // Every map is running: the job is idle from here until a map ends.
    loop {
        let states = framework_state(&cluster, name)
            .map(|f| task_states(&f))
            .unwrap_or_default();
        if states.len() == 3 && states.iter().all(|s| s == "TASK_RUNNING") {
            break;
        }
        if Instant::now() > deadline {
            panic!("the three maps never ran together: {states:?}");
        }
        std::thread::sleep(POLL);
    }
    let idle_since = Instant::now();
    let offers_when_idle = offers_sent(&cluster);

    // While idle the framework gets no offers at all, although most of the cluster is free.
    let idle = loop {
        let framework = framework_state(&cluster, name).expect("still registered");
        let states = task_states(&framework);
        if states.iter().any(|s| s != "TASK_RUNNING") {
            break idle_since.elapsed();
        }
        let outstanding = framework["offers"].as_array().map_or(0, Vec::len);
        let sent = offers_sent(&cluster);
        if sent != offers_when_idle || outstanding != 0 {
            panic!(
                "an idle framework was offered resources {:?} after its maps started: \
                 offers_sent {offers_when_idle} -> {sent}, {outstanding} outstanding",
                idle_since.elapsed()
            );
        }
        if Instant::now() > deadline {
            panic!("no map ended: {states:?}");
        }
        std::thread::sleep(POLL);
    };
    // Shorter than the decline filter, the window would not tell suppression from declining.
    assert!(
        idle > IDLE_REFUSE + Duration::from_secs(1),
        "the job was idle for only {idle:?}; the test needs longer maps"
    );

    let out = child.output_within(
        "wordcount-framework",
        deadline.saturating_duration_since(Instant::now()),
    );
    let stdout = succeeded(&out);
    // Once the maps were done it revived, was offered resources again and ran its reducer.
    assert_eq!(
        read_output(&output),
        count_directly(&input).expect("direct count")
    );
    assert!(
        offers_sent(&cluster) > offers_when_idle,
        "never offered again"
    );
    let counters = &lines_with(&stdout, "framework=wordcount ")[0];
    assert_eq!(counters["name"], name);
    // Suppressed once the maps were launched and once the reducer was; revived in between.
    assert!(number(counters, "suppressed") >= 2.0, "{counters:?}");
    assert!(number(counters, "revived") >= 1.0, "{counters:?}");
    // Every offer was either used or declined, none kept.
    assert_eq!(
        number(counters, "offers"),
        number(counters, "used") + number(counters, "declined"),
        "{counters:?}"
    );
    assert!(number(counters, "used") >= 2.0, "{counters:?}");
}
