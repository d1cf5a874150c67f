//! The Hadoop-like baseline of the iterative experiment (`hadoop-lr-framework`): logistic
//! regression where every iteration is one MapReduce job on this framework's machinery.
//!
//! Each job starts its executors afresh (one per agent, like Hadoop's per-job task JVMs), its
//! maps re-read and re-parse their blocks (with delay scheduling for locality) and emit their
//! partial loss and gradient sums as `name value` lines, the reducers add them up in map order,
//! and [`GradientPlan`] fetches the sums, updates the weights and starts the next job with them.
//! Nothing survives between iterations but the weights, which is exactly what the Spark-like
//! framework avoids.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Parser;
use mesos_local::flags;

use super::cli::{at_least_one, non_negative, positive, run_mapreduce, MapReduceSetup};
use super::dataset::{merge_named_lines, Reals};
use super::job::JobStats;
use super::scheduler::JobPlan;
use super::shuffle::fetch;
use super::task_data::{JobFunctions, MapFunction, ReduceFunction, TaskOutput};
use super::WordcountError;
use crate::logreg::{flag_error, step, DataFlags, Gradient, JobProgress, LogRegError};

/// The iterations as a chain of MapReduce jobs (see the module docs).
#[derive(Debug)]
pub struct GradientPlan {
    name: String,
    partitions: usize,
    dims: usize,
    iterations: usize,
    step_size: f64,
    weights: Vec<f64>,
    progress: JobProgress,
    run_started: Instant,
}

impl GradientPlan {
    /// `iterations` steps of `step_size` over `partitions` blocks of `dims`-feature points, from
    /// zero weights.
    pub fn new(
        name: &str,
        partitions: usize,
        dims: usize,
        iterations: usize,
        step_size: f64,
    ) -> GradientPlan {
        GradientPlan {
            name: name.to_string(),
            partitions,
            dims,
            iterations,
            step_size,
            weights: vec![0.0; dims],
            progress: JobProgress::new("hadoop", 0),
            run_started: Instant::now(),
        }
    }

    fn functions(&self) -> JobFunctions {
        JobFunctions {
            map: MapFunction::LogisticGradient {
                weights: self.weights.clone(),
            },
            reduce: ReduceFunction::SumReals,
        }
    }

    /// Takes one iteration's summed gradient (its job took `took` and read `loads` blocks):
    /// prints the iteration line, and the job line after the last; returns the next job's
    /// functions.
    pub fn on_sums(
        &mut self,
        total: &Gradient,
        took: Duration,
        loads: usize,
    ) -> Option<JobFunctions> {
        println!(
            "{}",
            self.progress.iteration(total.mean_loss(), took, loads)
        );
        self.weights = step(&self.weights, total, self.step_size);
        if self.progress.iterations() < self.iterations {
            return Some(self.functions());
        }
        let line = self.progress.finish(
            &self.name,
            self.partitions,
            self.run_started.elapsed(),
            self.weights.clone(),
        );
        println!("{line}");
        None
    }
}

/// Fetches every reducer's `name value` file and merges them (their names are disjoint).
///
/// # Errors
/// A fetch failed or a file is malformed.
pub fn collect_reals(outputs: &[TaskOutput]) -> Result<Reals, String> {
    let mut reals = BTreeMap::new();
    for output in outputs {
        for file in &output.files {
            let body = fetch(&output.server, file).map_err(|e| e.to_string())?;
            merge_named_lines(&String::from_utf8_lossy(&body), &mut reals)
                .map_err(|e| format!("reduce output {file} from {}: {e}", output.server))?;
        }
    }
    Ok(reals)
}

impl JobPlan for GradientPlan {
    fn first(&mut self) -> JobFunctions {
        self.run_started = Instant::now();
        self.functions()
    }

    fn commit(
        &mut self,
        _index: usize,
        started: Instant,
        stats: JobStats,
        outputs: &[TaskOutput],
    ) -> Result<Option<JobFunctions>, String> {
        let total = Gradient::from_named(&collect_reals(outputs)?, self.dims)?;
        Ok(self.on_sums(&total, started.elapsed(), stats.maps))
    }
}

/// Flags of `hadoop-lr-framework`.
#[derive(Debug, Clone, Parser)]
#[command(
    rename_all = "snake_case",
    name = "hadoop-lr-framework",
    about = "Hadoop-like logistic regression: one MapReduce job per iteration, re-reading the input."
)]
pub struct HadoopLrFlags {
    /// The master, as host:port (or zk://...); not needed with --direct.
    #[arg(long, required_unless_present = "direct")]
    pub master: Option<String>,
    /// The data set and the job.
    #[command(flatten)]
    pub data: DataFlags,
    /// Delay scheduling: how long a job waits for a node-local slot before taking any.
    #[arg(long, default_value = "1secs", value_parser = flags::duration)]
    pub locality_wait: Duration,
    /// Reduce tasks per job.
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    pub reducers: usize,
    /// CPUs of each map or reduce task.
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    pub task_cpus: f64,
    /// Memory of each task, in MB.
    #[arg(long, default_value_t = 128.0, value_parser = positive)]
    pub task_mem: f64,
    /// Bandwidth (MB/s) at which a map reads a block on another node; 0 = no throttle.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
    pub remote_read_mbps: f64,
    /// The framework's name.
    #[arg(long, default_value = "hadoop-lr")]
    pub name: String,
    /// The framework's role.
    #[arg(long, default_value = "*")]
    pub role: String,
    /// Checkpoint the framework's tasks on their agents (they survive an agent restart).
    #[arg(long, env = "MESOS_CHECKPOINT", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub checkpoint: bool,
    /// The executor binary (default: `wordcount-executor` next to this binary).
    #[arg(long)]
    pub executor: Option<std::path::PathBuf>,
}

fn from_wordcount(error: WordcountError) -> LogRegError {
    match error {
        WordcountError::Flag { flag, message } => LogRegError::Flag { flag, message },
        WordcountError::Io(why) | WordcountError::Failed(why) => LogRegError::Failed(why),
    }
}

/// Runs the iterations against the master.
///
/// # Errors
/// [`LogRegError`] for unusable flags or when an iteration's job did not succeed.
pub fn run_framework(flags: &HadoopLrFlags) -> Result<(), LogRegError> {
    let data = flags.data.prepare()?;
    if flags.data.direct {
        return flags.data.run_direct(&data, &flags.name).map(|_| ());
    }
    let master = flags
        .master
        .clone()
        .ok_or_else(|| flag_error("master", "required without --direct"))?;
    let plan = GradientPlan::new(
        &flags.name,
        data.blocks.len(),
        data.dims,
        flags.data.iterations,
        flags.data.step_size,
    );
    let setup = MapReduceSetup {
        master,
        name: flags.name.clone(),
        role: flags.role.clone(),
        blocks: data.blocks,
        executor: flags.executor.clone(),
        executor_resources: None,
        task_cpus: flags.task_cpus,
        task_mem: flags.task_mem,
        reducers: flags.reducers,
        locality_wait: flags.locality_wait,
        remote_read_mbps: flags.remote_read_mbps,
        jobs: flags.data.iterations,
        checkpoint: flags.checkpoint,
    };
    run_mapreduce(setup, Box::new(plan)).map_err(from_wordcount)
}

/// The `hadoop-lr-framework` binary: exits 0 iff every iteration's job succeeded.
pub fn main_exit() -> ! {
    flags::init_logging();
    let flags: HadoopLrFlags = flags::parse_or_exit();
    crate::exit_with(run_framework(&flags))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logreg::{fit, Points};

    #[test]
    fn the_plan_chains_jobs_with_updated_weights_like_the_fit() {
        let partitions = [
            Points::parse("1 0.5 0.1\n-1 -0.3 0.2\n", None).expect("points"),
            Points::parse("1 0.9 -0.4\n-1 -0.8 0.0\n", None).expect("points"),
        ];
        let expected = fit(&partitions, 2, 3, 0.5);
        let mut plan = GradientPlan::new("h", 2, 2, 3, 0.5);
        let mut functions = Some(plan.first());
        let mut jobs = 0;
        while let Some(JobFunctions { map, reduce }) = functions {
            assert_eq!(reduce, ReduceFunction::SumReals);
            let MapFunction::LogisticGradient { weights } = map else {
                panic!("not a gradient map: {map:?}");
            };
            let mut total = Gradient::zero(2);
            for points in &partitions {
                total.add(&Gradient::of(points, &weights));
            }
            assert_eq!(total.mean_loss(), expected.losses[jobs]);
            functions = plan.on_sums(&total, Duration::from_millis(10), 2);
            jobs += 1;
        }
        assert_eq!(jobs, 3);
        assert_eq!(plan.weights, expected.weights);
    }

    #[test]
    fn flags_default_to_one_reducer_and_name_bad_values() {
        let parse = |args: &[&str]| {
            HadoopLrFlags::try_parse_from(
                std::iter::once("hadoop-lr-framework").chain(args.iter().copied()),
            )
        };
        let f = parse(&["--master=m:1", "--input=/in", "--iterations=30"]).expect("parses");
        assert_eq!((f.reducers, f.data.iterations), (1, 30));
        assert_eq!(f.locality_wait, Duration::from_secs(1));
        let error = parse(&["--master=m:1", "--input=/in", "--reducers=0"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("--reducers"), "{error}");
    }
}
