//! The Spark-like executor (`spark-executor`): one long-lived process per agent that caches
//! partitions in memory across stages and jobs.
//!
//! Its Mesos tasks are *leases* (cores the driver holds on it): each goes RUNNING when launched
//! and KILLED when the driver gives the core back; the process stays, with its cache, until the
//! driver tells it to exit or the framework ends. Stage tasks arrive as framework messages
//! ([`ToExecutor::Run`]); each runs on a thread of its own (the driver never sends more than the
//! executor has leases), building its partition from the lineage first if it is not cached
//! (reading the block, throttled to the lineage's bandwidth when the block is on another node,
//! and parsing it), and answers with [`FromExecutor`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use mesos::executor::{Executor, ExecutorDriver};
use mesos::{TaskId, TaskInfo, TaskState, TaskStatus};

use super::protocol::{decode, encode, FromExecutor, Lineage, Op, OpResult, TaskRef, ToExecutor};
use crate::logreg::{Gradient, Points};
use crate::wordcount::executor::read_throttled;

/// Partitions in memory, by partition number.
type Cache = Arc<Mutex<HashMap<usize, Arc<Points>>>>;

/// Builds a partition from its lineage: reads and parses its block.
///
/// # Errors
/// The block cannot be read, or is not a set of `lineage.dims`-feature points.
pub fn build(lineage: &Lineage) -> Result<Points, String> {
    let bytes = read_throttled(&lineage.block, lineage.remote_read_mbps)
        .map_err(|e| format!("cannot read block {}: {e}", lineage.block.display()))?;
    Points::parse(&String::from_utf8_lossy(&bytes), Some(lineage.dims))
        .map_err(|e| format!("block {}: {e}", lineage.block.display()))
}

/// Runs `op` over `points`.
///
/// # Errors
/// The op does not fit the points (other dimensions).
pub fn compute(op: &Op, points: &Points) -> Result<OpResult, String> {
    match op {
        Op::Gradient { weights } => {
            if weights.len() != points.dims() {
                return Err(format!(
                    "{} weights for points of {} features",
                    weights.len(),
                    points.dims()
                ));
            }
            Ok(OpResult::Gradient(Gradient::of(points, weights)))
        }
    }
}

/// Runs one stage task against `cache`: the answer to send.
pub fn run_task(cache: &Cache, task: TaskRef, lineage: &Lineage, op: &Op) -> FromExecutor {
    let cached = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&task.partition)
        .cloned();
    let (points, loaded) = match cached {
        Some(points) => (points, false),
        None => match build(lineage) {
            Ok(points) => {
                let points = Arc::new(points);
                cache
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(task.partition, points.clone());
                (points, true)
            }
            Err(message) => return FromExecutor::Failed { task, message },
        },
    };
    match compute(op, &points) {
        Ok(result) => FromExecutor::Done {
            task,
            result,
            loaded,
        },
        Err(message) => FromExecutor::Failed { task, message },
    }
}

/// The executor (see the module docs).
#[derive(Default)]
pub struct SparkExecutor {
    cache: Cache,
    leases: HashSet<TaskId>,
}

fn report(driver: &ExecutorDriver, status: TaskStatus) {
    if let Err(error) = driver.send_status_update(status) {
        tracing::warn!(%error, "cannot send a status update");
    }
}

fn answer(driver: &ExecutorDriver, message: &FromExecutor) {
    if let Err(error) = driver.send_framework_message(encode(message)) {
        tracing::warn!(%error, "cannot answer the driver");
    }
}

impl Executor for SparkExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        self.leases.insert(task.task_id.clone());
        report(driver, TaskStatus::new(task.task_id, TaskState::Running));
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: TaskId) {
        if self.leases.remove(&task_id) {
            report(driver, TaskStatus::new(task_id, TaskState::Killed));
        }
    }

    fn framework_message(&mut self, driver: &ExecutorDriver, data: Vec<u8>) {
        let message = match decode::<ToExecutor>(&data) {
            Ok(message) => message,
            Err(why) => {
                tracing::warn!(%why, "a framework message that is not for spark-executor");
                return;
            }
        };
        match message {
            ToExecutor::Run { task, lineage, op } => {
                let (cache, worker) = (self.cache.clone(), driver.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("task-{}", task.partition))
                    .spawn(move || answer(&worker, &run_task(&cache, task, &lineage, &op)));
                if let Err(error) = spawned {
                    let message = format!("cannot start a task thread: {error}");
                    answer(driver, &FromExecutor::Failed { task, message });
                }
            }
            ToExecutor::Evict { partition } => {
                self.cache
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&partition);
            }
            ToExecutor::Exit => {
                driver.stop();
            }
        }
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        driver.stop();
    }
}

/// The `spark-executor` binary: runs the driver until the scheduler (or the agent) ends it, then
/// exits 0 (stopped) or 1.
pub fn main_exit() -> ! {
    crate::run_executor_and_exit(
        "spark-executor",
        ExecutorDriver::new(SparkExecutor::default()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp_block(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "spark-exec-{name}-{}-{}",
            std::process::id(),
            mesos::Uuid::random()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("block-0.txt");
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn a_partition_is_built_once_then_served_from_the_cache() {
        let block = temp_block("cache", "1 0.5 0.25\n-1 -1 0\n");
        let lineage = Lineage {
            block: block.clone(),
            dims: 2,
            remote_read_mbps: 0.0,
        };
        let cache = Cache::default();
        let op = Op::Gradient {
            weights: vec![0.0, 0.0],
        };
        let task = |attempt| TaskRef {
            stage: 0,
            partition: 4,
            attempt,
        };
        let first = run_task(&cache, task(1), &lineage, &op);
        let expected = compute(&op, &build(&lineage).expect("builds")).expect("computes");
        assert_eq!(
            first,
            FromExecutor::Done {
                task: task(1),
                result: expected.clone(),
                loaded: true
            }
        );
        // The block is gone, the cache is not.
        std::fs::remove_file(&block).expect("remove");
        let second = run_task(&cache, task(2), &lineage, &op);
        assert_eq!(
            second,
            FromExecutor::Done {
                task: task(2),
                result: expected,
                loaded: false
            }
        );
        // Evicted, it has to be rebuilt -- and the block is gone.
        cache.lock().expect("lock").remove(&4);
        match run_task(&cache, task(3), &lineage, &op) {
            FromExecutor::Failed { message, .. } => {
                assert!(message.contains("cannot read block"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(block.parent().expect("dir"));
    }

    #[test]
    fn a_bad_block_or_wrong_weights_fail_the_task() {
        let block = temp_block("bad", "1 0.5\n1 x\n");
        let lineage = Lineage {
            block: block.clone(),
            dims: 1,
            remote_read_mbps: 0.0,
        };
        assert!(build(&lineage).unwrap_err().contains("line 2"));
        let points = Points::parse("1 0.5\n", None).expect("points");
        let op = Op::Gradient {
            weights: vec![0.0; 3],
        };
        assert!(compute(&op, &points)
            .unwrap_err()
            .contains("3 weights for points of 1 features"));
        let _ = std::fs::remove_dir_all(block.parent().expect("dir"));
    }
}
