//! What the scheduler and the executor tell each other: a task's work in `TaskInfo.data`, a
//! finished task's output in `TaskStatus.data` (JSON both ways), and the framework message that
//! ends a job's executor.
//!
//! A task also says which function it runs: counting words (the default, so the word count's
//! tasks read as before) or, for the Hadoop-like logistic-regression baseline, summing a block's
//! loss and gradient at given weights ([`MapFunction::LogisticGradient`]) and adding named real
//! numbers ([`ReduceFunction::SumReals`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The framework message that tells a job's executor to exit (its map output is no longer needed).
pub const SHUTDOWN_MESSAGE: &[u8] = b"shutdown";

/// One task's work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WordcountTask {
    /// Count one block, partitioned by reducer.
    Map(MapTask),
    /// Merge one partition from every map's output.
    Reduce(ReduceTask),
}

/// What a map computes over its block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapFunction {
    /// Count its words (`word count` lines).
    #[default]
    WordCount,
    /// Parse its points and sum their logistic loss and gradient at `weights` (`name value`
    /// lines: `g<i>`, `loss`, `count`).
    LogisticGradient {
        /// The current weights (as their bits in JSON, so they cross exactly).
        #[serde(with = "exact_reals")]
        weights: Vec<f64>,
    },
}

/// What a reduce computes over its partition of every map's output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReduceFunction {
    /// Add up word counts.
    #[default]
    SumCounts,
    /// Add up named real numbers, in map order.
    SumReals,
}

/// A job's map and reduce functions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFunctions {
    /// The maps'.
    pub map: MapFunction,
    /// The reduces'.
    pub reduce: ReduceFunction,
}

/// `Vec<f64>` as the `u64` bits of each value: JSON's decimal form does not promise to parse
/// back to the same `f64`.
mod exact_reals {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        let bits: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        bits.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<u64>::deserialize(deserializer)?
            .into_iter()
            .map(f64::from_bits)
            .collect())
    }
}

/// A map task: run `function` over `block`, write one file per reducer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapTask {
    /// The map's number in its job (output files are named after it).
    pub map: usize,
    /// The block file to read.
    pub block: PathBuf,
    /// Whether the block is on this task's node; a remote block is read at `remote_read_mbps`.
    pub local: bool,
    /// The modelled network bandwidth for a remote block, in MB/s (0: unthrottled).
    pub remote_read_mbps: f64,
    /// How many partitions to write.
    pub reducers: usize,
    /// What to compute.
    #[serde(default)]
    pub function: MapFunction,
}

/// A reduce task: fetch partition `partition` from every map's server and sum it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceTask {
    /// The partition this reducer owns.
    pub partition: usize,
    /// Where each map's file for this partition is served.
    pub sources: Vec<ShuffleSource>,
    /// What to compute.
    #[serde(default)]
    pub function: ReduceFunction,
}

/// One file on one executor's shuffle server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShuffleSource {
    /// The server, `ip:port`.
    pub server: String,
    /// The file's name in the executor's sandbox.
    pub file: String,
}

/// What a finished task reports (in its `TASK_FINISHED` status data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskOutput {
    /// The executor's shuffle server, `ip:port`.
    pub server: String,
    /// The files written: one per partition (indexed by partition) for a map, one for a reduce.
    pub files: Vec<String>,
    /// Records processed: words counted (map) or summed (reduce); points (gradient map).
    pub words: u64,
}

impl TaskOutput {
    /// Where the file for `partition` is served (for a reduce output, partition 0).
    pub fn source(&self, partition: usize) -> Option<ShuffleSource> {
        Some(ShuffleSource {
            server: self.server.clone(),
            file: self.files.get(partition)?.clone(),
        })
    }
}

/// The name of map `map`'s output file for partition `partition`.
pub fn map_output_file(map: usize, partition: usize) -> String {
    format!("map-{map}-part-{partition}.txt")
}

/// The name of reducer `partition`'s output file.
pub fn reduce_output_file(partition: usize) -> String {
    format!("reduce-{partition}.txt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_round_trip_as_tagged_json() {
        let task = WordcountTask::Map(MapTask {
            map: 3,
            block: "/data/agent-1/block-3.txt".into(),
            local: false,
            remote_read_mbps: 12.5,
            reducers: 2,
            function: MapFunction::default(),
        });
        let json = serde_json::to_value(&task).expect("json");
        assert_eq!(json["kind"], "map");
        assert_eq!(
            serde_json::from_value::<WordcountTask>(json).expect("back"),
            task
        );
        // A task without a function counts words.
        let old = r#"{"kind":"reduce","partition":1,"sources":[]}"#;
        assert_eq!(
            serde_json::from_str::<WordcountTask>(old).expect("parses"),
            WordcountTask::Reduce(ReduceTask {
                partition: 1,
                sources: vec![],
                function: ReduceFunction::SumCounts
            })
        );
        // Weights cross bit-exact.
        let weights = vec![0.1 + 0.2, -1.0 / 3.0, 5e-324];
        let gradient = MapFunction::LogisticGradient {
            weights: weights.clone(),
        };
        let back: MapFunction =
            serde_json::from_str(&serde_json::to_string(&gradient).expect("json")).expect("back");
        assert_eq!(back, MapFunction::LogisticGradient { weights });
        let output = TaskOutput {
            server: "127.0.0.1:4000".into(),
            files: vec![map_output_file(3, 0), map_output_file(3, 1)],
            words: 10,
        };
        assert_eq!(
            output.source(1),
            Some(ShuffleSource {
                server: "127.0.0.1:4000".into(),
                file: "map-3-part-1.txt".into()
            })
        );
        assert_eq!(output.source(2), None);
    }
}
