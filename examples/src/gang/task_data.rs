//! What travels between the framework and a rank: [`RankTask`] in the task's data (JSON), and
//! [`RankResult`] back in the data of the rank's `TASK_FINISHED` update.

use serde::{Deserialize, Serialize};

/// One rank's assignment, carried in `TaskInfo::data` as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankTask {
    /// Names this attempt of this job; ranks refuse peers with another token (a stray rank of an
    /// earlier attempt, or of another framework, must not join the reduction).
    pub token: String,
    /// This rank, `0..ranks`.
    pub rank: usize,
    /// How many ranks the job has.
    pub ranks: usize,
    /// The job's seed: with the rank it determines the rank's vector.
    pub seed: u64,
    /// Length of every rank's vector.
    pub vector_len: usize,
    /// How long the rank works (sleeps) before the reduction, in milliseconds.
    pub work_ms: u64,
    /// Rank 0's `host:port`: rank 0 listens on the port, the others connect to it.
    pub coordinator: String,
    /// How long a rank waits for the rendezvous before it fails, in milliseconds.
    pub rendezvous_timeout_ms: u64,
    /// Test hook (`--fail_rank`): the rank fails at once.
    pub fail: bool,
}

impl RankTask {
    /// The JSON bytes for `TaskInfo::data`.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses task data.
    ///
    /// # Errors
    /// The JSON error when the data is not a `RankTask`.
    pub fn from_bytes(data: &[u8]) -> Result<RankTask, serde_json::Error> {
        serde_json::from_slice(data)
    }

    /// The port rank 0 listens on: the part of `coordinator` after the last `:`.
    pub fn coordinator_port(&self) -> Option<u16> {
        self.coordinator.rsplit_once(':')?.1.parse().ok()
    }
}

/// A rank's outcome, carried in the data of its `TASK_FINISHED` update as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankResult {
    /// The rank that reports.
    pub rank: usize,
    /// Whether the reduced vector equals the serially computed sum.
    pub result_ok: bool,
    /// A checksum of the reduced vector (the same on every rank of a correct run).
    pub checksum: u64,
}

impl RankResult {
    /// The JSON bytes for `TaskStatus::data`.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses status data.
    ///
    /// # Errors
    /// The JSON error when the data is not a `RankResult`.
    pub fn from_bytes(data: &[u8]) -> Result<RankResult, serde_json::Error> {
        serde_json::from_slice(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_task_round_trips_and_names_its_port() {
        let task = RankTask {
            token: "t".into(),
            rank: 2,
            ranks: 4,
            seed: 7,
            vector_len: 10,
            work_ms: 0,
            coordinator: "vm:31007".into(),
            rendezvous_timeout_ms: 1000,
            fail: false,
        };
        let back = RankTask::from_bytes(&task.to_bytes()).unwrap();
        assert_eq!(back, task);
        assert_eq!(back.coordinator_port(), Some(31007));
        assert!(RankTask::from_bytes(b"{}").is_err());
    }

    #[test]
    fn rank_result_round_trips() {
        let result = RankResult {
            rank: 0,
            result_ok: true,
            checksum: 42,
        };
        assert_eq!(RankResult::from_bytes(&result.to_bytes()).unwrap(), result);
    }
}
