//! Experiment 4, iterative jobs (the paper's Spark experiment: logistic regression, Hadoop ~127 s per
//! iteration; Spark 174 s for the first iteration, then ~6 s for each later one).
//!
//! The same logistic regression over the same block files runs twice, each on a fresh cluster:
//! as `hadoop-lr-framework` (one MapReduce job per iteration on the word count's machinery,
//! re-reading and re-parsing every block each time) and as `spark-framework` (long-lived
//! executors that parse their partitions once and keep them in memory). Both must end with the
//! same weights (within [`IterativePlan::tolerance`]), and both must match the direct fit.
//!
//! The data set is sized so that reading it dominates a Hadoop-like iteration: the full plan's
//! 512 MB of text (16 blocks of 32 MB, 10 features per point, 4 agents) takes about 2 s to read
//! and parse on the two cores, against a few hundred ms of task launches, offers and shuffle per
//! job; in memory it is ~5.6 M points the executors sweep in ~0.2 s.

use std::time::Duration;

use mesos_examples::logreg::{generate_points, weights_agree, JobLine, PointsSpec};
use mesos_examples::wordcount::dataset::scan_blocks;

use super::child::{run_alone, ChildSpec, Toolbox};
use super::cluster::ClusterShape;
use super::report::collect;
use super::{node_names, MacroBenchError, Scale, ScratchDir};

/// The iterative experiment's parameters.
#[derive(Debug, Clone)]
pub struct IterativePlan {
    /// The cluster (the data's blocks are spread over all its agents).
    pub cluster: ClusterShape,
    /// Blocks (partitions).
    pub blocks: usize,
    /// Bytes per block.
    pub block_bytes: usize,
    /// Features per point.
    pub dims: usize,
    /// Gradient-descent iterations.
    pub iterations: usize,
    /// The step size.
    pub step_size: f64,
    /// Each Spark-like executor's memory (MB), its cache.
    pub executor_mem: u64,
    /// Both frameworks' delay-scheduling wait.
    pub locality_wait: Duration,
    /// The largest relative difference allowed between the two frameworks' weights.
    pub tolerance: f64,
    /// Deadline for each framework's run.
    pub timeout: Duration,
}

impl IterativePlan {
    /// The plan for `scale`: `Full` is the run whose figures go next to the paper's.
    pub fn for_scale(scale: Scale) -> IterativePlan {
        let (agents, blocks, block_bytes, iterations, timeout) = match scale {
            Scale::Quick => (3, 6, 1024 * 1024, 5, 60),
            Scale::Full => (4, 16, 32 * 1024 * 1024, 30, 600),
        };
        IterativePlan {
            cluster: ClusterShape::scaled(agents),
            blocks,
            block_bytes,
            dims: 10,
            iterations,
            step_size: 1.0,
            executor_mem: 512,
            locality_wait: Duration::from_secs(1),
            tolerance: 1e-9,
            timeout: Duration::from_secs(timeout),
        }
    }
}

/// One framework's figures: `experiment=iterative framework=.. iterations=.. first_iter_s=..
/// later_iter_s=.. total_s=..`.
#[derive(Debug, Clone, PartialEq)]
pub struct IterativeResult {
    /// `hadoop` or `spark`.
    pub framework: String,
    /// Iterations run.
    pub iterations: usize,
    /// Seconds of the first iteration.
    pub first_iter_s: f64,
    /// Median seconds of the later ones.
    pub later_iter_s: f64,
    /// Seconds of the whole job.
    pub total_s: f64,
}

impl IterativeResult {
    fn from_job(job: &JobLine) -> IterativeResult {
        IterativeResult {
            framework: job.framework.clone(),
            iterations: job.iterations,
            first_iter_s: job.first_iter_s,
            later_iter_s: job.later_iter_s,
            total_s: job.total_s,
        }
    }

    /// The result line.
    pub fn line(&self) -> String {
        format!(
            "experiment=iterative framework={} iterations={} first_iter_s={:.3} later_iter_s={:.3} total_s={:.3}",
            self.framework, self.iterations, self.first_iter_s, self.later_iter_s, self.total_s
        )
    }
}

/// `experiment=iterative-speedup speedup=..`: the Hadoop-like run's total time over the
/// Spark-like one's.
pub fn speedup_line(hadoop: &IterativeResult, spark: &IterativeResult) -> String {
    format!(
        "experiment=iterative-speedup speedup={:.2}",
        hadoop.total_s / spark.total_s.max(1e-9)
    )
}

/// The one `job=logreg` line of a run, checked against the plan.
fn job_of(name: &str, stdout: &[String], plan: &IterativePlan) -> Result<JobLine, MacroBenchError> {
    let jobs = collect(stdout, JobLine::parse);
    match jobs.as_slice() {
        [job] if job.iterations == plan.iterations && job.weights.len() == plan.dims => {
            Ok(job.clone())
        }
        _ => Err(MacroBenchError::MissingOutput {
            name: name.to_string(),
            expected: format!("job=logreg with {} iterations", plan.iterations),
        }),
    }
}

/// Checks `job`'s weights against `reference`'s.
fn check_weights(
    name: &str,
    job: &JobLine,
    reference: &[f64],
    tolerance: f64,
) -> Result<(), MacroBenchError> {
    if weights_agree(&job.weights, reference, tolerance) {
        return Ok(());
    }
    Err(MacroBenchError::WrongResult {
        name: name.to_string(),
        message: format!(
            "weights {:?} differ from the reference {reference:?} beyond {tolerance}",
            job.weights
        ),
    })
}

/// The flags both frameworks get.
fn common_args(master: &str, data: &std::path::Path, plan: &IterativePlan) -> Vec<String> {
    vec![
        format!("--master={master}"),
        format!("--input={}", data.display()),
        format!("--iterations={}", plan.iterations),
        format!("--step_size={}", plan.step_size),
        format!("--locality_wait={}ms", plan.locality_wait.as_millis()),
    ]
}

/// Runs both frameworks (Hadoop-like first), printing each line as soon as it is known.
///
/// # Errors
/// A cluster that does not start, a framework that fails or prints no job line, or weights that
/// disagree.
pub fn run(
    tools: &Toolbox,
    plan: &IterativePlan,
    mut emit: impl FnMut(&str),
) -> Result<(IterativeResult, IterativeResult), MacroBenchError> {
    let hadoop_bin = tools.binary("hadoop-lr-framework")?;
    tools.binary("wordcount-executor")?;
    let spark_bin = tools.binary("spark-framework")?;
    tools.binary("spark-executor")?;
    let scratch = ScratchDir::new("iterative")?;
    let data = scratch.path().join("points");
    let spec = PointsSpec {
        blocks: plan.blocks,
        block_bytes: plan.block_bytes,
        dims: plan.dims,
        seed: 18,
    };
    let io = |what, source| MacroBenchError::Io {
        what,
        path: data.clone(),
        source,
    };
    generate_points(&data, &node_names(0..plan.cluster.agents), spec)
        .map_err(|e| io("cannot write the data set", e))?;

    let cluster = plan.cluster.start(tools)?;
    let hadoop = run_alone(
        &ChildSpec::new(
            "hadoop-lr",
            hadoop_bin,
            common_args(&cluster.master_address(), &data, plan),
        ),
        plan.timeout,
    )?;
    drop(cluster);
    let hadoop_job = job_of("hadoop-lr", &hadoop.stdout, plan)?;
    let hadoop_result = IterativeResult::from_job(&hadoop_job);
    emit(&hadoop_result.line());

    let cluster = plan.cluster.start(tools)?;
    let mut args = common_args(&cluster.master_address(), &data, plan);
    args.push(format!("--executor_mem={}", plan.executor_mem));
    let spark = run_alone(&ChildSpec::new("spark", spark_bin, args), plan.timeout)?;
    drop(cluster);
    let spark_job = job_of("spark", &spark.stdout, plan)?;
    check_weights("spark", &spark_job, &hadoop_job.weights, plan.tolerance)?;
    let spark_result = IterativeResult::from_job(&spark_job);
    emit(&spark_result.line());
    emit(&speedup_line(&hadoop_result, &spark_result));

    // Both agree with each other; they must also agree with the fit done here.
    let blocks = scan_blocks(&data).map_err(|e| io("cannot read the data set", e))?;
    let direct =
        mesos_examples::logreg::run_directly(&blocks, plan.dims, plan.iterations, plan.step_size)
            .map_err(|e| io("cannot fit the data set", e))?;
    check_weights("hadoop-lr", &hadoop_job, &direct.weights, plan.tolerance)?;
    Ok((hadoop_result, spark_result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_the_contract_keys() {
        let hadoop = IterativeResult {
            framework: "hadoop".into(),
            iterations: 30,
            first_iter_s: 2.5,
            later_iter_s: 2.25,
            total_s: 70.0,
        };
        let spark = IterativeResult {
            framework: "spark".into(),
            first_iter_s: 3.0,
            later_iter_s: 0.2,
            total_s: 8.75,
            ..hadoop.clone()
        };
        assert_eq!(
            hadoop.line(),
            "experiment=iterative framework=hadoop iterations=30 first_iter_s=2.500 later_iter_s=2.250 total_s=70.000"
        );
        assert_eq!(
            speedup_line(&hadoop, &spark),
            "experiment=iterative-speedup speedup=8.00"
        );
    }
}
