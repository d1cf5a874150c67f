//! The custom executor (`wordcount-executor`): one per agent per job, running map and reduce
//! tasks on threads and serving their output from its sandbox (see [`super::shuffle`]).
//!
//! A map reads its block -- throttled to the task's `remote_read_mbps` when the block is not on
//! this node, which is how we model the network on one machine: every "node" shares one disk, so
//! a remote read costs `bytes / (remote_read_mbps * 10^6)` seconds instead of a network transfer
//! -- counts its words (the combiner), and writes one `word count` file per reducer. A reduce
//! fetches its partition from every map's executor, sums it and writes `reduce-<r>.txt`. Both
//! report their files and this executor's server address in `TASK_FINISHED`'s data.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mesos::executor::{Executor, ExecutorDriver, ExecutorEnv};
use mesos::{TaskId, TaskInfo, TaskState, TaskStatus};

use super::dataset::{
    count_text, merge_count_lines, merge_named_lines, partition_of, write_counts, write_named,
    Counts, Reals,
};
use super::shuffle::{fetch, serve_dir, ShuffleError};
use super::task_data::{
    map_output_file, reduce_output_file, MapFunction, MapTask, ReduceFunction, ReduceTask,
    TaskOutput, WordcountTask, SHUTDOWN_MESSAGE,
};
use crate::logreg::{Gradient, Points};

/// Why a task failed.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The task data is not a wordcount task.
    #[error("bad task data: {0}")]
    Data(#[from] serde_json::Error),
    /// Reading the block or writing output failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// What went wrong.
        source: io::Error,
    },
    /// Fetching map output failed.
    #[error(transparent)]
    Shuffle(#[from] ShuffleError),
    /// The block is not what the function reads (e.g. a line that is not a point).
    #[error("block {block}: {message}")]
    Input {
        /// The block.
        block: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> TaskError {
    let what = what.into();
    move |source| TaskError::Io { what, source }
}

/// Reads `path` whole; at most `mbps` MB/s (10^6 bytes) when `mbps > 0`.
///
/// # Errors
/// The file could not be read.
pub fn read_throttled(path: &Path, mbps: f64) -> io::Result<Vec<u8>> {
    if mbps <= 0.0 {
        return fs::read(path);
    }
    let mut file = fs::File::open(path)?;
    let started = Instant::now();
    let mut data = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&chunk[..n]);
        if let Some(ahead) = pacing_delay(data.len(), mbps, started.elapsed()) {
            std::thread::sleep(ahead);
        }
    }
    Ok(data)
}

/// How long a read of `bytes` that took `elapsed` so far must still wait to keep to `mbps` MB/s
/// (`None`: it is not ahead of the modelled transfer).
pub fn pacing_delay(bytes: usize, mbps: f64, elapsed: Duration) -> Option<Duration> {
    if mbps <= 0.0 {
        return None;
    }
    let due = Duration::from_secs_f64(bytes as f64 / (mbps * 1e6));
    due.checked_sub(elapsed).filter(|d| !d.is_zero())
}

/// Writes `dir/name` atomically with `write` (a re-run task replaces, never truncates, a file a
/// reducer may be fetching).
fn write_atomically(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    write(&tmp)?;
    fs::rename(tmp, dir.join(name))
}

/// Splits `items` (keyed by name) into one map per reducer, by [`partition_of`] the name.
fn partitioned<V>(
    items: impl IntoIterator<Item = (String, V)>,
    reducers: usize,
) -> Vec<BTreeMap<String, V>> {
    let mut partitions: Vec<BTreeMap<String, V>> = (0..reducers).map(|_| BTreeMap::new()).collect();
    for (name, value) in items {
        partitions[partition_of(&name, reducers)].insert(name, value);
    }
    partitions
}

/// Runs map `task`, writing its partitions into `dir`; `server` is where `dir` is served.
///
/// # Errors
/// [`TaskError::Io`] if the block cannot be read or the output written.
pub fn run_map(task: &MapTask, dir: &Path, server: &str) -> Result<TaskOutput, TaskError> {
    let mbps = if task.local {
        0.0
    } else {
        task.remote_read_mbps
    };
    let bytes = read_throttled(&task.block, mbps).map_err(io_error(format!(
        "cannot read block {}",
        task.block.display()
    )))?;
    let text = String::from_utf8_lossy(&bytes);
    let reducers = task.reducers.max(1);
    let write_partitions = |write: &dyn Fn(usize, &Path) -> io::Result<()>| {
        let mut files = Vec::with_capacity(reducers);
        for r in 0..reducers {
            let name = map_output_file(task.map, r);
            write_atomically(dir, &name, |path| write(r, path))
                .map_err(io_error(format!("cannot write {name}")))?;
            files.push(name);
        }
        Ok::<_, TaskError>(files)
    };
    let (files, words) = match &task.function {
        MapFunction::WordCount => {
            let mut counts = Counts::new();
            count_text(&text, &mut counts);
            let words = counts.values().sum();
            let partitions = partitioned(counts, reducers);
            let files = write_partitions(&|r, path| write_counts(path, &partitions[r]))?;
            (files, words)
        }
        MapFunction::LogisticGradient { weights } => {
            let points =
                Points::parse(&text, Some(weights.len())).map_err(|e| TaskError::Input {
                    block: task.block.clone(),
                    message: e.to_string(),
                })?;
            let gradient = Gradient::of(&points, weights);
            let partitions = partitioned(gradient.to_named(), reducers);
            let files = write_partitions(&|r, path| write_named(path, &partitions[r]))?;
            (files, points.len() as u64)
        }
    };
    Ok(TaskOutput {
        server: server.to_string(),
        files,
        words,
    })
}

/// Runs reduce `task`, writing its partition's counts into `dir`; `server` is where `dir` is
/// served.
///
/// # Errors
/// [`TaskError::Shuffle`] if a map's output cannot be fetched, [`TaskError::Io`] if it is
/// malformed or the output cannot be written.
pub fn run_reduce(task: &ReduceTask, dir: &Path, server: &str) -> Result<TaskOutput, TaskError> {
    let mut counts = Counts::new();
    let mut reals = Reals::new();
    // In map order: real sums then add up in the same order on every run.
    for source in &task.sources {
        let body = fetch(&source.server, &source.file)?;
        let text = String::from_utf8_lossy(&body);
        match task.function {
            ReduceFunction::SumCounts => merge_count_lines(&text, &mut counts),
            ReduceFunction::SumReals => merge_named_lines(&text, &mut reals),
        }
        .map_err(io_error(format!(
            "bad map output {} from {}",
            source.file, source.server
        )))?;
    }
    let name = reduce_output_file(task.partition);
    let (written, words) = match task.function {
        ReduceFunction::SumCounts => (
            write_atomically(dir, &name, |path| write_counts(path, &counts)),
            counts.values().sum(),
        ),
        ReduceFunction::SumReals => (
            write_atomically(dir, &name, |path| write_named(path, &reals)),
            reals.len() as u64,
        ),
    };
    written.map_err(io_error(format!("cannot write {name}")))?;
    Ok(TaskOutput {
        server: server.to_string(),
        files: vec![name],
        words,
    })
}

/// Runs one task's work (parsed from its data).
///
/// # Errors
/// See [`run_map`] and [`run_reduce`].
pub fn run_task(data: &[u8], dir: &Path, server: &str) -> Result<TaskOutput, TaskError> {
    match serde_json::from_slice::<WordcountTask>(data)? {
        WordcountTask::Map(map) => run_map(&map, dir, server),
        WordcountTask::Reduce(reduce) => run_reduce(&reduce, dir, server),
    }
}

/// The executor: tasks run on their own threads; a killed task's late result is dropped.
pub struct WordcountExecutor {
    sandbox: PathBuf,
    server: String,
    /// Running tasks, `true` once killed.
    tasks: Arc<Mutex<HashMap<TaskId, bool>>>,
}

impl WordcountExecutor {
    /// An executor writing into `sandbox`, which is served at `server` (`ip:port`).
    pub fn new(sandbox: PathBuf, server: String) -> WordcountExecutor {
        WordcountExecutor {
            sandbox,
            server,
            tasks: Arc::default(),
        }
    }
}

fn report(driver: &ExecutorDriver, status: TaskStatus) {
    if let Err(error) = driver.send_status_update(status) {
        tracing::warn!(%error, "cannot send a status update");
    }
}

impl Executor for WordcountExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let task_id = task.task_id.clone();
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(task_id.clone(), false);
        report(driver, TaskStatus::new(task_id.clone(), TaskState::Running));
        let (worker_driver, tasks) = (driver.clone(), self.tasks.clone());
        let (dir, server) = (self.sandbox.clone(), self.server.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("task-{task_id}"))
            .spawn(move || {
                let result = run_task(&task.data, &dir, &server);
                let killed = tasks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&task_id)
                    .unwrap_or(true);
                if killed {
                    return;
                }
                let status = match result {
                    Ok(output) => TaskStatus {
                        data: serde_json::to_vec(&output).unwrap_or_default(),
                        ..TaskStatus::new(task_id, TaskState::Finished)
                    },
                    Err(error) => {
                        TaskStatus::new(task_id, TaskState::Failed).with_message(error.to_string())
                    }
                };
                report(&worker_driver, status);
            });
        if let Err(error) = spawned {
            report(
                driver,
                TaskStatus::new(task.task_id, TaskState::Failed)
                    .with_message(format!("cannot start a task thread: {error}")),
            );
        }
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: TaskId) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(killed) = tasks.get_mut(&task_id) {
            *killed = true;
            drop(tasks);
            report(driver, TaskStatus::new(task_id, TaskState::Killed));
        }
    }

    fn framework_message(&mut self, driver: &ExecutorDriver, data: Vec<u8>) {
        if data == SHUTDOWN_MESSAGE {
            driver.stop();
        }
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        driver.stop();
    }
}

/// The `wordcount-executor` binary: serves its sandbox, runs the driver until the scheduler (or
/// the agent) ends it, then exits 0 (stopped) or 1.
pub fn main_exit() -> ! {
    let env = match ExecutorEnv::from_env() {
        Ok(env) => env,
        Err(error) => {
            eprintln!("wordcount-executor: {error}");
            std::process::exit(1);
        }
    };
    let sandbox = match env.directory.clone() {
        Some(dir) => dir,
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    let server = match serve_dir(env.agent_pid.ip(), sandbox.clone()) {
        Ok(addr) => addr.to_string(),
        Err(error) => {
            eprintln!("wordcount-executor: cannot start the shuffle server: {error}");
            std::process::exit(1);
        }
    };
    crate::run_executor_and_exit(
        "wordcount-executor",
        ExecutorDriver::with_env(WordcountExecutor::new(sandbox, server), env),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wordcount::shuffle::serve_dir;
    use crate::wordcount::task_data::ShuffleSource;
    use std::net::{IpAddr, Ipv4Addr};

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wordcount-exec-{name}-{}-{}",
            std::process::id(),
            mesos::Uuid::random()
        ));
        fs::create_dir_all(&dir).expect("dir");
        dir
    }

    #[test]
    fn maps_then_a_reduce_produce_the_partitions_counts() {
        let input = temp_dir("in");
        fs::write(input.join("b0.txt"), "the cat. The dog").expect("write");
        fs::write(input.join("b1.txt"), "a cat, a DOG; the end").expect("write");
        let (d0, d1) = (temp_dir("m0"), temp_dir("m1"));
        let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let s0 = serve_dir(localhost, d0.clone()).expect("serve").to_string();
        let s1 = serve_dir(localhost, d1.clone()).expect("serve").to_string();
        let map = |m: usize, local: bool| MapTask {
            map: m,
            block: input.join(format!("b{m}.txt")),
            local,
            remote_read_mbps: 100.0,
            reducers: 2,
            function: MapFunction::WordCount,
        };
        let o0 = run_map(&map(0, true), &d0, &s0).expect("map 0");
        let o1 = run_map(&map(1, false), &d1, &s1).expect("map 1");
        assert_eq!((o0.words, o1.words), (4, 6));
        let mut total = Counts::new();
        for partition in 0..2 {
            let reduce = ReduceTask {
                partition,
                sources: vec![
                    o0.source(partition).expect("source"),
                    o1.source(partition).expect("source"),
                ],
                function: ReduceFunction::SumCounts,
            };
            let out = run_reduce(&reduce, &d0, &s0).expect("reduce");
            let body = fetch(&out.server, &out.files[0]).expect("fetch");
            let mut counts = Counts::new();
            merge_count_lines(&String::from_utf8_lossy(&body), &mut counts).expect("parse");
            assert!(counts.keys().all(|w| partition_of(w, 2) == partition));
            assert_eq!(out.words, counts.values().sum::<u64>());
            total.extend(counts);
        }
        let expected: Counts = [("a", 2), ("cat", 2), ("dog", 2), ("end", 1), ("the", 3)]
            .map(|(w, n)| (w.to_string(), n))
            .into();
        assert_eq!(total, expected);
        for dir in [input, d0, d1] {
            let _ = fs::remove_dir_all(dir);
        }
    }

    #[test]
    fn a_missing_block_or_map_output_fails_the_task() {
        let dir = temp_dir("fail");
        let map = WordcountTask::Map(MapTask {
            map: 0,
            block: dir.join("nope.txt"),
            local: true,
            remote_read_mbps: 0.0,
            reducers: 1,
            function: MapFunction::WordCount,
        });
        let data = serde_json::to_vec(&map).expect("json");
        let error = run_task(&data, &dir, "x").unwrap_err();
        assert!(error.to_string().contains("cannot read block"), "{error}");
        let reduce = ReduceTask {
            partition: 0,
            sources: vec![ShuffleSource {
                server: "127.0.0.1:1".into(),
                file: "map-0-part-0.txt".into(),
            }],
            function: ReduceFunction::SumCounts,
        };
        assert!(matches!(
            run_reduce(&reduce, &dir, "x"),
            Err(TaskError::Shuffle(_))
        ));
        assert!(matches!(
            run_task(b"{}", &dir, "x"),
            Err(TaskError::Data(_))
        ));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn gradient_maps_then_a_reduce_give_the_partition_sums_in_map_order() {
        let input = temp_dir("points");
        let blocks = ["1 0.5 0.25\n-1 -1 0\n", "1 0.125 -0.5\n1 1 1\n-1 0 0.75\n"];
        let parsed: Vec<Points> = blocks
            .iter()
            .map(|b| Points::parse(b, Some(2)).expect("points"))
            .collect();
        let dir = temp_dir("gradient-out");
        let server = serve_dir(IpAddr::V4(Ipv4Addr::LOCALHOST), dir.clone())
            .expect("serve")
            .to_string();
        let weights = vec![0.3, -0.7];
        let mut sources: Vec<Vec<ShuffleSource>> = vec![Vec::new(), Vec::new()];
        for (m, text) in blocks.iter().enumerate() {
            let block = input.join(format!("block-{m}.txt"));
            fs::write(&block, text).expect("write");
            let map = MapTask {
                map: m,
                block,
                local: true,
                remote_read_mbps: 0.0,
                reducers: 2,
                function: MapFunction::LogisticGradient {
                    weights: weights.clone(),
                },
            };
            let out = run_map(&map, &dir, &server).expect("map");
            assert_eq!(out.words, parsed[m].len() as u64);
            for (r, list) in sources.iter_mut().enumerate() {
                list.push(out.source(r).expect("source"));
            }
        }
        let mut total = Reals::new();
        for (partition, sources) in sources.into_iter().enumerate() {
            let reduce = ReduceTask {
                partition,
                sources,
                function: ReduceFunction::SumReals,
            };
            let out = run_reduce(&reduce, &dir, &server).expect("reduce");
            let body = fetch(&out.server, &out.files[0]).expect("fetch");
            merge_named_lines(&String::from_utf8_lossy(&body), &mut total).expect("parse");
        }
        // What the driver of the Spark-like framework computes: partition sums added in order.
        let mut expected = Gradient::zero(2);
        for points in &parsed {
            expected.add(&Gradient::of(points, &weights));
        }
        assert_eq!(Gradient::from_named(&total, 2), Ok(expected));

        fs::write(input.join("bad.txt"), "1 0.5\n").expect("write");
        let bad = MapTask {
            map: 9,
            block: input.join("bad.txt"),
            local: true,
            remote_read_mbps: 0.0,
            reducers: 1,
            function: MapFunction::LogisticGradient { weights },
        };
        let error = run_map(&bad, &dir, &server).unwrap_err();
        assert!(
            error.to_string().contains("line 1: 1 features, expected 2"),
            "{error}"
        );
        for d in [input, dir] {
            let _ = fs::remove_dir_all(d);
        }
    }

    #[test]
    fn remote_reads_are_paced_to_the_modelled_bandwidth() {
        let ms = Duration::from_millis;
        // 250 kB at 1 MB/s is due at 250 ms.
        assert_eq!(pacing_delay(250_000, 1.0, ms(50)), Some(ms(200)));
        assert_eq!(pacing_delay(250_000, 1.0, ms(250)), None);
        assert_eq!(pacing_delay(250_000, 1.0, ms(300)), None);
        assert_eq!(pacing_delay(200_000, 0.0, ms(0)), None);
    }

    #[test]
    fn a_throttled_read_returns_the_whole_file() {
        let dir = temp_dir("throttle");
        let path = dir.join("block.txt");
        fs::write(&path, vec![b'a'; 150_000]).expect("write");
        assert_eq!(read_throttled(&path, 1000.0).expect("read").len(), 150_000);
        let _ = fs::remove_dir_all(dir);
    }
}
