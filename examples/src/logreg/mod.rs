//! Logistic regression, the paper's iterative job: what the Spark-like framework
//! ([`crate::spark`]) and its Hadoop-like baseline ([`crate::wordcount::hadoop_lr`]) both compute,
//! and the reference they are checked against.
//!
//! - [`points`]: the data set (labelled points in block files laid out like the word count's
//!   input, so the same delay scheduling applies), its generator and parser.
//! - [`gradient`]: one iteration's sums ([`Gradient`]), the weight update, and the whole fit in
//!   one process ([`run_directly`]).
//! - [`report`]: the `iteration=` and `job=logreg` lines every run prints.
//! - [`DataFlags`]: the data-set and job flags both frameworks share, and `--direct`.

pub mod gradient;
pub mod points;
pub mod report;

use std::path::PathBuf;
use std::time::Instant;

pub use self::gradient::{fit, run_directly, step, weights_agree, Fit, Gradient};
pub use self::points::{generate_points, Points, PointsSpec};
pub use self::report::{IterationLine, JobLine, JobProgress};

use crate::wordcount::cli::{at_least_one, positive};
use crate::wordcount::dataset::{scan_blocks, Block};

/// Why a run could not start or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum LogRegError {
    /// A flag's value is unusable (the message names the flag).
    #[error("invalid value for '--{flag}': {message}")]
    Flag {
        /// The flag, without dashes.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The job failed or the driver ended early.
    #[error("{0}")]
    Failed(String),
}

/// A [`LogRegError::Flag`].
pub fn flag_error(flag: &'static str, message: impl Into<String>) -> LogRegError {
    LogRegError::Flag {
        flag,
        message: message.into(),
    }
}

/// The data set and the job: flags shared by `spark-framework` and `hadoop-lr-framework`.
#[derive(Debug, Clone, clap::Args)]
#[command(rename_all = "snake_case")]
pub struct DataFlags {
    /// The input: `<input>/<node>/block-<k>.txt`, block k stored on the agent whose `node`
    /// attribute is `<node>`; one point per line (`<1|-1> <x1> .. <xd>`).
    #[arg(long)]
    pub input: PathBuf,
    /// Gradient-descent iterations per job.
    #[arg(long, default_value_t = 10, value_parser = at_least_one)]
    pub iterations: usize,
    /// The step size (learning rate) of each update.
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    pub step_size: f64,
    /// First write a deterministic data set of this many blocks into --input.
    #[arg(long, value_parser = at_least_one)]
    pub generate_blocks: Option<usize>,
    /// The nodes the generated blocks are spread over, round-robin (comma-separated).
    #[arg(long, default_value = "agent-0,agent-1,agent-2", value_delimiter = ',')]
    pub generate_nodes: Vec<String>,
    /// The size of each generated block, in kB.
    #[arg(long, default_value_t = 1024, value_parser = at_least_one)]
    pub generate_block_kb: usize,
    /// Features per generated point.
    #[arg(long, default_value_t = 10, value_parser = at_least_one)]
    pub generate_dims: usize,
    /// The generator's seed (same seed, same data).
    #[arg(long, default_value_t = 1)]
    pub generate_seed: u64,
    /// No cluster: fit in this process (the reference) and print the same lines.
    #[arg(long)]
    pub direct: bool,
}

/// The data set a run works on.
#[derive(Debug, Clone)]
pub struct DataSet {
    /// Its blocks, in block order (partition `p` is `blocks[p]`).
    pub blocks: Vec<Block>,
    /// Features per point.
    pub dims: usize,
}

impl DataFlags {
    /// Generates the data set if asked, then finds its blocks and dimension.
    ///
    /// # Errors
    /// [`LogRegError::Flag`] naming `--input` when it cannot be written or read, or holds no
    /// blocks.
    pub fn prepare(&self) -> Result<DataSet, LogRegError> {
        if let Some(blocks) = self.generate_blocks {
            let spec = PointsSpec {
                blocks,
                block_bytes: self.generate_block_kb * 1024,
                dims: self.generate_dims,
                seed: self.generate_seed,
            };
            generate_points(&self.input, &self.generate_nodes, spec).map_err(|e| {
                flag_error(
                    "input",
                    format!("cannot generate into {}: {e}", self.input.display()),
                )
            })?;
        }
        // Executors read the blocks from their sandboxes: paths must not be relative.
        let input = self.input.canonicalize().map_err(|e| {
            flag_error(
                "input",
                format!("cannot read {}: {e}", self.input.display()),
            )
        })?;
        let blocks = scan_blocks(&input)
            .map_err(|e| flag_error("input", format!("cannot read {}: {e}", input.display())))?;
        let first = blocks.first().ok_or_else(|| {
            flag_error(
                "input",
                format!("{} holds no <node>/block-<k>.txt files", input.display()),
            )
        })?;
        let dims = points::dims_of(&first.path)
            .map_err(|e| flag_error("input", format!("block {}: {e}", first.path.display())))?;
        Ok(DataSet { blocks, dims })
    }

    /// `--direct`: fits in this process, printing the iteration lines (with the loss; the time of
    /// an iteration here is its share of the whole fit) and the job line.
    ///
    /// # Errors
    /// [`LogRegError::Failed`] when a block cannot be read or parsed.
    pub fn run_direct(&self, data: &DataSet, name: &str) -> Result<JobLine, LogRegError> {
        let started = Instant::now();
        let fit = run_directly(&data.blocks, data.dims, self.iterations, self.step_size)
            .map_err(|e| LogRegError::Failed(e.to_string()))?;
        let took = started.elapsed();
        let mut progress = JobProgress::new("direct", 0);
        let per_iteration = took / self.iterations.max(1) as u32;
        for (i, loss) in fit.losses.iter().enumerate() {
            let loads = if i == 0 { data.blocks.len() } else { 0 };
            println!("{}", progress.iteration(*loss, per_iteration, loads));
        }
        let line = progress.finish(name, data.blocks.len(), took, fit.weights);
        println!("{line}");
        Ok(line)
    }
}
