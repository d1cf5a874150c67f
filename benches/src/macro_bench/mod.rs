//! The paper's experiments (issues 7 and 18): delay scheduling and locality, sharing vs static
//! partitioning, the overhead of running a job through the cluster, and an iterative job on the
//! Spark-like framework against its Hadoop-like baseline.
//!
//! Each experiment starts in-process [`mesos_local::LocalCluster`]s with scaled-down agents
//! ([`ClusterShape`]), runs the example frameworks (`wordcount-framework`, `mpi-framework`,
//! `shell-framework`, `spark-framework`, `hadoop-lr-framework`) as child processes against them ([`child`]), samples the masters'
//! `/metrics/snapshot` for utilization ([`sampler`]) and parses the frameworks' `key=value`
//! job lines ([`report`]). The `macro-bench` binary prints one `experiment=...` line per result
//! and draws the utilization picture ([`plot`]).
//!
//! ```no_run
//! use mesos_benches::macro_bench::overhead::{self, OverheadPlan};
//! use mesos_benches::macro_bench::{Scale, Toolbox};
//!
//! let tools = Toolbox::locate(None)?; // the framework binaries next to this executable
//! let result = overhead::run(&tools, &OverheadPlan::for_scale(Scale::Quick))?;
//! println!("{}", result.line());
//! # Ok::<(), mesos_benches::macro_bench::MacroBenchError>(())
//! ```
#![deny(missing_docs)]

pub mod child;
pub mod cluster;
pub mod iterative;
pub mod locality;
pub mod overhead;
pub mod partition;
pub mod plot;
pub mod report;
pub mod sampler;
pub mod services;
pub mod sharing;

use std::path::PathBuf;

pub use child::Toolbox;
pub use cluster::ClusterShape;

/// How big a run is: `Quick` fits every experiment in under a minute on a 2-core machine, `Full`
/// is the run whose figures go next to the paper's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Small inputs, few jobs.
    Quick,
    /// Bigger inputs and more jobs (minutes).
    Full,
}

/// Why an experiment could not produce its figures.
#[derive(Debug, thiserror::Error)]
pub enum MacroBenchError {
    /// A framework binary is not next to `macro-bench`.
    #[error(
        "cannot find '{name}' in {dir}: build the frameworks first \
         (cargo build --release -p mesos-examples -p agent -p mesos-benches)"
    )]
    MissingBinary {
        /// The binary's name.
        name: String,
        /// Where it was looked for.
        dir: PathBuf,
    },
    /// A framework could not be started.
    #[error("cannot start {name}: {source}")]
    Spawn {
        /// The run's name.
        name: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A framework exited unsuccessfully.
    #[error("{name} exited with {status}; last stderr lines:\n{stderr_tail}")]
    FrameworkFailed {
        /// The run's name.
        name: String,
        /// Its exit status.
        status: String,
        /// The end of what it wrote to stderr.
        stderr_tail: String,
    },
    /// A framework ran past its deadline and was killed.
    #[error("{name} did not finish within {seconds} s and was killed; last stderr lines:\n{stderr_tail}")]
    Timeout {
        /// The run's name.
        name: String,
        /// The deadline.
        seconds: u64,
        /// The end of what it wrote to stderr.
        stderr_tail: String,
    },
    /// Another run of the same experiment failed first, so this one was stopped.
    #[error("{name} was stopped because another framework of the experiment failed")]
    Aborted {
        /// The run's name.
        name: String,
    },
    /// A framework finished but did not print the lines the experiment needs.
    #[error("{name} printed no usable '{expected}' line")]
    MissingOutput {
        /// The run's name.
        name: String,
        /// The line it should have printed.
        expected: String,
    },
    /// A framework's result disagrees with the reference.
    #[error("{name} computed a wrong result: {message}")]
    WrongResult {
        /// The run's name.
        name: String,
        /// What disagreed.
        message: String,
    },
    /// A cluster did not start or its agents did not register in time.
    #[error("cluster: {0}")]
    Cluster(String),
    /// A data set or output file could not be written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The picture could not be drawn.
    #[error("cannot draw {path}: {message}")]
    Plot {
        /// The picture's path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// A temporary directory removed on drop (data sets, outputs).
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<tmp>/macro-bench-<pid>-<label>-<n>`.
    ///
    /// # Errors
    /// [`MacroBenchError::Io`] if it cannot be created.
    pub fn new(label: &str) -> Result<ScratchDir, MacroBenchError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("macro-bench-{}-{label}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|source| MacroBenchError::Io {
            what: "cannot create",
            path: path.clone(),
            source,
        })?;
        Ok(ScratchDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(dir = %self.path.display(), %error, "cannot remove scratch dir");
        }
    }
}

/// Writes a word-count data set of `blocks` blocks of `block_bytes` spread round-robin over
/// `nodes` into `dir` (see `mesos_examples::wordcount::generate_dataset`).
///
/// # Errors
/// [`MacroBenchError::Io`] if it cannot be written.
pub fn write_dataset(
    dir: &std::path::Path,
    nodes: &[String],
    blocks: usize,
    block_bytes: usize,
    seed: u64,
) -> Result<(), MacroBenchError> {
    mesos_examples::wordcount::generate_dataset(dir, nodes, blocks, block_bytes, seed).map_err(
        |source| MacroBenchError::Io {
            what: "cannot write the data set",
            path: dir.to_path_buf(),
            source,
        },
    )
}

/// The words in the data set at `dir`, counted in this process: what every word-count job over it
/// must report.
///
/// # Errors
/// [`MacroBenchError::Io`] if the data set cannot be read.
pub fn direct_word_total(dir: &std::path::Path) -> Result<u64, MacroBenchError> {
    let counts =
        mesos_examples::wordcount::count_directly(dir).map_err(|source| MacroBenchError::Io {
            what: "cannot count the data set",
            path: dir.to_path_buf(),
            source,
        })?;
    Ok(counts.values().sum())
}

/// Checks that every job of framework `name` counted `expected` words.
///
/// # Errors
/// [`MacroBenchError::WrongResult`] naming the first job that did not.
pub fn check_word_totals(
    name: &str,
    jobs: &[report::WordcountJob],
    expected: u64,
) -> Result<(), MacroBenchError> {
    match jobs.iter().find(|job| job.words != expected) {
        Some(job) => Err(MacroBenchError::WrongResult {
            name: name.to_string(),
            message: format!(
                "job {} counted {} words, the direct count {expected}",
                job.job_index, job.words
            ),
        }),
        None => Ok(()),
    }
}

/// `agent-<i>` for each of the first `count` agents of a `LocalCluster` (their `node` attribute).
pub fn node_names(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("agent-{i}")).collect()
}
