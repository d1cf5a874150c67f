//! `TaskState`: the life cycle of a task.

wire_enum! {
    /// A task's state, as Mesos's `TaskState` (`TASK_RUNNING`, ...).
    ///
    /// ```
    /// use mesos::TaskState;
    /// let s: TaskState = "TASK_FINISHED".parse().unwrap();
    /// assert!(s.is_terminal());
    /// assert_eq!(serde_json::to_string(&TaskState::Running).unwrap(), "\"TASK_RUNNING\"");
    /// ```
    pub enum TaskState {
        /// Accepted by the master, not yet running on the agent.
        Staging = "TASK_STAGING",
        /// The executor is starting the task.
        Starting = "TASK_STARTING",
        /// Running.
        Running = "TASK_RUNNING",
        /// Being killed (for frameworks with TASK_KILLING_STATE).
        Killing = "TASK_KILLING",
        /// Exited successfully. Terminal.
        Finished = "TASK_FINISHED",
        /// Exited with an error. Terminal.
        Failed = "TASK_FAILED",
        /// Killed on request. Terminal.
        Killed = "TASK_KILLED",
        /// Invalid, never launched. Terminal.
        Error = "TASK_ERROR",
        /// Lost (non-partition-aware frameworks). Terminal.
        Lost = "TASK_LOST",
        /// Never reached the agent. Terminal.
        Dropped = "TASK_DROPPED",
        /// Its agent is partitioned away; may come back.
        Unreachable = "TASK_UNREACHABLE",
        /// Its agent was removed; the task is gone. Terminal.
        Gone = "TASK_GONE",
        /// An operator said the agent is gone. Terminal.
        GoneByOperator = "TASK_GONE_BY_OPERATOR",
        /// The master knows nothing of the task (reconciliation).
        Unknown = "TASK_UNKNOWN",
    }
}

impl TaskState {
    /// Whether the task can never change state again (Mesos's
    /// `isTerminalState`): FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED,
    /// GONE, GONE_BY_OPERATOR. UNREACHABLE and UNKNOWN are not terminal.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Finished
                | TaskState::Failed
                | TaskState::Killed
                | TaskState::Error
                | TaskState::Lost
                | TaskState::Dropped
                | TaskState::Gone
                | TaskState::GoneByOperator
        )
    }

    /// Whether the task holds resources on its agent (STAGING through KILLING).
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            TaskState::Staging | TaskState::Starting | TaskState::Running | TaskState::Killing
        )
    }
}

impl Default for TaskState {
    /// `TASK_STAGING`, the first state.
    fn default() -> TaskState {
        TaskState::Staging
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(TaskState::ALL.len(), 14);
        for &s in TaskState::ALL {
            assert_eq!(s.as_str().parse::<TaskState>().unwrap(), s);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<TaskState>(&json).unwrap(), s);
            let cfg = bincode::config::standard();
            let bytes = bincode::serde::encode_to_vec(s, cfg).unwrap();
            assert_eq!(
                bincode::serde::decode_from_slice::<TaskState, _>(&bytes, cfg)
                    .unwrap()
                    .0,
                s
            );
            assert!(!(s.is_terminal() && s.is_active()));
        }
        let err = "TASK_RUNNIN".parse::<TaskState>().unwrap_err();
        assert_eq!(err.to_string(), "unknown TaskState 'TASK_RUNNIN'");
    }

    #[test]
    fn terminal_states() {
        let terminal: Vec<_> = TaskState::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            terminal,
            [
                "TASK_FINISHED",
                "TASK_FAILED",
                "TASK_KILLED",
                "TASK_ERROR",
                "TASK_LOST",
                "TASK_DROPPED",
                "TASK_GONE",
                "TASK_GONE_BY_OPERATOR"
            ]
        );
    }
}
