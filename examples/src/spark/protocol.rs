//! What the driver and its executors tell each other in framework messages (bincode, so weights
//! and sums cross bit-exact), and the identity of a stage task.
//!
//! Framework messages are not reliable in Mesos; the driver does not need them to be: a message
//! lost with its executor is recovered when the executor's loss is reported (its tasks run
//! again elsewhere), and a stale answer (an earlier attempt, an earlier stage) is recognised by
//! its [`TaskRef`] and dropped.

use std::path::PathBuf;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::logreg::Gradient;

/// One attempt of one stage task: unique over the driver's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaskRef {
    /// The stage (numbered over the whole run).
    pub stage: u64,
    /// The partition the task works on.
    pub partition: usize,
    /// Which launch of this partition's task in the stage (1-based).
    pub attempt: u32,
}

impl std::fmt::Display for TaskRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stage {} partition {} attempt {}",
            self.stage, self.partition, self.attempt
        )
    }
}

/// How to build a partition an executor does not hold: its lineage, which here is "parse this
/// block file". Any executor can follow it, which is what makes a lost partition recoverable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// The block file.
    pub block: PathBuf,
    /// Features per point.
    pub dims: usize,
    /// The modelled network bandwidth when the block is on another node, in MB/s (0: the block
    /// is local, or no throttle).
    pub remote_read_mbps: f64,
}

/// What a task computes over its (cached) partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Logistic-regression loss and gradient sums at these weights.
    Gradient {
        /// The current weights.
        weights: Vec<f64>,
    },
}

/// What a task computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OpResult {
    /// The partition's sums.
    Gradient(Gradient),
}

/// Driver to executor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToExecutor {
    /// Run a task over `task.partition` (built from `lineage` first if not cached).
    Run {
        /// Which task.
        task: TaskRef,
        /// How to build the partition.
        lineage: Lineage,
        /// What to compute.
        op: Op,
    },
    /// The partition now lives elsewhere: free its memory.
    Evict {
        /// The partition.
        partition: usize,
    },
    /// The driver is done with this executor: exit.
    Exit,
}

/// Executor to driver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromExecutor {
    /// A task finished.
    Done {
        /// Which task.
        task: TaskRef,
        /// What it computed.
        result: OpResult,
        /// Whether the partition had to be built from its lineage (not in the cache).
        loaded: bool,
    },
    /// A task failed (the partition could not be built, or the op does not fit it).
    Failed {
        /// Which task.
        task: TaskRef,
        /// Why.
        message: String,
    },
}

/// Encodes a message.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    // Plain data (numbers, strings, vectors): encoding cannot fail.
    bincode::serde::encode_to_vec(message, bincode::config::standard()).unwrap_or_default()
}

/// Decodes a message.
///
/// # Errors
/// The bytes are not a `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map(|(message, _)| message)
        .map_err(|e| format!("undecodable message: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_bit_exact() {
        let task = TaskRef {
            stage: 3,
            partition: 7,
            attempt: 2,
        };
        let run = ToExecutor::Run {
            task,
            lineage: Lineage {
                block: "/data/agent-1/block-7.txt".into(),
                dims: 2,
                remote_read_mbps: 2.5,
            },
            op: Op::Gradient {
                weights: vec![0.1 + 0.2, -1e-300],
            },
        };
        assert_eq!(decode::<ToExecutor>(&encode(&run)), Ok(run));
        let done = FromExecutor::Done {
            task,
            result: OpResult::Gradient(Gradient {
                sum: vec![1.0 / 3.0],
                loss: 0.5,
                count: 9,
            }),
            loaded: true,
        };
        assert_eq!(decode::<FromExecutor>(&encode(&done)), Ok(done));
        assert!(decode::<FromExecutor>(b"\xff\xff\xff").is_err());
        assert_eq!(task.to_string(), "stage 3 partition 7 attempt 2");
    }
}
