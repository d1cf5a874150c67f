//! Experiment 3, overhead (paper §6.4: under 4%): the same word count run directly in one
//! process (`wordcount-framework --direct`) and as a job on a one-agent cluster.
//!
//! The agent gets one CPU, so the cluster runs one map at a time like the single-threaded direct
//! count: the difference is what the cluster adds (registration, offers, task launches, the
//! executor, the shuffle and the reduce), not parallelism. The machine is shared, so the full run
//! interleaves three runs of each side and reports the fastest of each.

use std::time::Duration;

use super::child::{run_alone, ChildSpec, Toolbox};
use super::cluster::ClusterShape;
use super::locality::wordcount_args;
use super::report::{collect, DirectRun, WordcountJob};
use super::{node_names, write_dataset, MacroBenchError, Scale, ScratchDir};

/// The overhead experiment's parameters.
#[derive(Debug, Clone)]
pub struct OverheadPlan {
    /// Blocks in the data set (all on the one agent).
    pub blocks: usize,
    /// Bytes per block.
    pub block_bytes: usize,
    /// The one agent's resources.
    pub agent_resources: String,
    /// `--task_cpus` of the cluster run.
    pub task_cpus: f64,
    /// Runs of each side, interleaved; the fastest of each is reported.
    pub repeats: usize,
    /// Deadline for each run.
    pub timeout: Duration,
}

impl OverheadPlan {
    /// The plan for `scale`: `Full` is a job of well over 10 s.
    pub fn for_scale(scale: Scale) -> OverheadPlan {
        let (blocks, block_bytes, repeats, timeout) = match scale {
            Scale::Quick => (2, 16 * 1024 * 1024, 1, 30),
            Scale::Full => (4, 160 * 1024 * 1024, 3, 300),
        };
        OverheadPlan {
            blocks,
            block_bytes,
            agent_resources: "cpus:1;mem:2048;disk:10000;ports:[31000-32000]".to_string(),
            task_cpus: 1.0,
            repeats,
            timeout: Duration::from_secs(timeout),
        }
    }
}

/// The figures.
#[derive(Debug, Clone, PartialEq)]
pub struct OverheadResult {
    /// The direct count's time in seconds.
    pub direct_s: f64,
    /// The cluster job's time in seconds (from the framework's `job_s`).
    pub cluster_s: f64,
    /// Runs of each side (the figures are the fastest of them).
    pub runs: usize,
}

impl OverheadResult {
    /// How much longer the cluster job took, in percent of the direct count.
    pub fn overhead_pct(&self) -> f64 {
        if self.direct_s > 0.0 {
            100.0 * (self.cluster_s - self.direct_s) / self.direct_s
        } else {
            0.0
        }
    }

    /// `experiment=overhead direct_s=.. cluster_s=.. overhead_pct=.. runs=..`.
    pub fn line(&self) -> String {
        format!(
            "experiment=overhead direct_s={:.3} cluster_s={:.3} overhead_pct={:.1} runs={}",
            self.direct_s,
            self.cluster_s,
            self.overhead_pct(),
            self.runs
        )
    }
}

/// Runs the direct count, then the cluster job, on one data set.
///
/// # Errors
/// A framework that fails or prints no job line, or two runs that counted different totals.
pub fn run(tools: &Toolbox, plan: &OverheadPlan) -> Result<OverheadResult, MacroBenchError> {
    let program = tools.binary("wordcount-framework")?;
    tools.binary("wordcount-executor")?;
    let scratch = ScratchDir::new("overhead")?;
    let input = scratch.path().join("data");
    write_dataset(&input, &node_names(0..1), plan.blocks, plan.block_bytes, 42)?;

    let direct_spec = ChildSpec::new(
        "wordcount-direct",
        program.clone(),
        vec![
            "--direct".to_string(),
            format!("--input={}", input.display()),
            format!("--output={}", scratch.path().join("direct.txt").display()),
        ],
    );
    let shape = ClusterShape {
        agent_resources: plan.agent_resources.clone(),
        ..ClusterShape::scaled(1)
    };
    let cluster = shape.start(tools)?;
    let job_spec = ChildSpec::new(
        "wordcount",
        program,
        wordcount_args(
            &cluster.master_address(),
            &input,
            &scratch.path().join("cluster.txt"),
            "wordcount-overhead",
            0,
            1,
            plan.task_cpus,
            256,
            0.0,
        ),
    );
    // Interleaved, so a burst of load from elsewhere on the machine hits both sides alike; the
    // fastest run of each side is the one least disturbed.
    let (mut direct_s, mut cluster_s) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..plan.repeats.max(1) {
        let output = run_alone(&direct_spec, plan.timeout)?;
        let direct = collect(&output.stdout, DirectRun::parse)
            .pop()
            .ok_or_else(|| MacroBenchError::MissingOutput {
                name: "wordcount-direct".to_string(),
                expected: "job=wordcount-direct".to_string(),
            })?;
        let output = run_alone(&job_spec, plan.timeout)?;
        let job = collect(&output.stdout, WordcountJob::parse)
            .pop()
            .ok_or_else(|| MacroBenchError::MissingOutput {
                name: "wordcount".to_string(),
                expected: "job=wordcount".to_string(),
            })?;
        if job.words != direct.words {
            return Err(MacroBenchError::WrongResult {
                name: "wordcount".to_string(),
                message: format!(
                    "it counted {} words, the direct count {}",
                    job.words, direct.words
                ),
            });
        }
        direct_s = direct_s.min(direct.job_s);
        cluster_s = cluster_s.min(job.job_s);
    }
    drop(cluster);
    Ok(OverheadResult {
        direct_s,
        cluster_s,
        runs: plan.repeats.max(1),
    })
}
