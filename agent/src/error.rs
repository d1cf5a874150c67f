//! [`AgentError`]: everything that can stop the agent from starting.

use std::path::PathBuf;

/// Why the agent could not start (or a flag was refused).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// No master to register with.
    #[error("no master given: set --master=host:port")]
    NoMaster,
    /// `--master` is not `host:port` or `master@host:port`.
    #[error("bad --master '{value}': expected host:port or master@host:port ({reason})")]
    BadMaster {
        /// The flag's value.
        value: String,
        /// What was wrong.
        reason: String,
    },
    /// `--resources` is malformed.
    #[error("bad --resources: {0}")]
    BadResources(#[from] mesos::ResourcesError),
    /// The work directory cannot be created.
    #[error("cannot create --work_dir {path}: {source}")]
    WorkDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The command executor binary is not in the launcher directory.
    #[error("cannot find the command executor 'mesos-executor' in --launcher_dir {0}")]
    NoLauncher(PathBuf),
    /// `--isolation` names an unknown isolator, or one this host cannot run.
    #[error("{0}")]
    Isolation(#[from] isolation::IsolatorError),
    /// A checkpoint under `--work_dir`/meta cannot be read (with `--strict`).
    #[error("{0} (--strict: fix or remove it, or restart with --strict=false to recover what can be read)")]
    Recovery(#[from] crate::checkpoint::read::ReadError),
    /// The agent changed in a way `--reconfiguration_policy` forbids.
    #[error("{0}")]
    Reconfigured(#[from] crate::core::RecoveryError),
    /// The runtime refused the agent's processes.
    #[error("cannot start the agent process: {0}")]
    Runtime(#[from] process::Error),
}
