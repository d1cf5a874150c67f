//! What the scheduler and the executor tell each other: a task's work in `TaskInfo.data`, a
//! finished task's output in `TaskStatus.data` (JSON both ways), and the framework message that
//! ends a job's executor.

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

/// A map task: count the words of `block`, write one file per reducer.
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
}

/// A reduce task: fetch partition `partition` from every map's server and sum it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceTask {
    /// The partition this reducer owns.
    pub partition: usize,
    /// Where each map's file for this partition is served.
    pub sources: Vec<ShuffleSource>,
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
    /// Words counted (map) or summed (reduce).
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
        });
        let json = serde_json::to_value(&task).expect("json");
        assert_eq!(json["kind"], "map");
        assert_eq!(
            serde_json::from_value::<WordcountTask>(json).expect("back"),
            task
        );
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
