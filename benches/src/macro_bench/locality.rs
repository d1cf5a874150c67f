//! Experiment 1, delay scheduling (paper §6.3: 18% locality under static partitioning, >90% with
//! a 1 s wait, 95% with 5 s, jobs 1.7x faster).
//!
//! Several word-count frameworks share one cluster, as the paper's Hadoop instances did. Each
//! one's data set lives on its own subset of the agents (a job's blocks are on a few nodes, not
//! everywhere), and reading a block on another agent is throttled to `--remote_read_mbps` (the
//! network). With `--locality_wait=0secs` a framework takes whatever slot it is offered; with a
//! wait it declines non-local offers until the wait runs out. Each wait value gets a fresh
//! cluster; the figures are over every job of every framework.

use std::time::{Duration, Instant};

use super::child::{run_group, ChildSpec, Toolbox};
use super::cluster::ClusterShape;
use super::report::{collect, mean, percent, WordcountJob};
use super::{
    check_word_totals, direct_word_total, write_dataset, MacroBenchError, Scale, ScratchDir,
};

/// The locality experiment's parameters.
#[derive(Debug, Clone)]
pub struct LocalityPlan {
    /// The cluster.
    pub cluster: ClusterShape,
    /// Concurrent word-count frameworks.
    pub frameworks: usize,
    /// How many agents hold each framework's data set.
    pub data_nodes: usize,
    /// Jobs per framework, back to back.
    pub jobs: usize,
    /// Blocks per data set.
    pub blocks: usize,
    /// Bytes per block.
    pub block_bytes: usize,
    /// The remote-read throttle (`--remote_read_mbps`).
    pub remote_read_mbps: f64,
    /// The waits to compare, in seconds.
    pub waits_s: Vec<u64>,
    /// Per-map CPUs and memory (`--task_cpus`, `--task_mem`).
    pub task_cpus: f64,
    /// Per-map memory in MB.
    pub task_mem: u64,
    /// Deadline for one wait value's run.
    pub timeout: Duration,
}

impl LocalityPlan {
    /// The plan for `scale`.
    pub fn for_scale(scale: Scale) -> LocalityPlan {
        match scale {
            Scale::Quick => LocalityPlan {
                cluster: ClusterShape::scaled(4),
                frameworks: 2,
                data_nodes: 2,
                jobs: 2,
                blocks: 8,
                block_bytes: 256 * 1024,
                remote_read_mbps: 1.0,
                waits_s: vec![0, 1, 5],
                task_cpus: 1.0,
                task_mem: 256,
                timeout: Duration::from_secs(60),
            },
            Scale::Full => LocalityPlan {
                cluster: ClusterShape::scaled(6),
                frameworks: 3,
                data_nodes: 2,
                jobs: 4,
                blocks: 16,
                block_bytes: 1024 * 1024,
                remote_read_mbps: 2.0,
                waits_s: vec![0, 1, 5],
                task_cpus: 1.0,
                task_mem: 256,
                timeout: Duration::from_secs(300),
            },
        }
    }

    /// The agents holding framework `f`'s data: `data_nodes` consecutive agents, each framework
    /// starting where the previous one ended (wrapping), so data sets overlap only when the
    /// agents run out.
    pub fn data_nodes_of(&self, f: usize) -> Vec<String> {
        let agents = self.cluster.agents.max(1);
        (0..self.data_nodes.max(1))
            .map(|k| format!("agent-{}", (f * self.data_nodes + k) % agents))
            .collect()
    }
}

/// The figures for one wait value.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalityResult {
    /// The locality wait, in seconds.
    pub wait_s: u64,
    /// Node-local maps over all maps, in percent.
    pub local_pct: f64,
    /// Mean job time in seconds.
    pub job_s: f64,
    /// Jobs measured.
    pub jobs: usize,
    /// Maps run.
    pub maps: usize,
}

impl LocalityResult {
    /// `experiment=locality wait_s=.. local_pct=.. job_s=.. jobs=.. maps=..`.
    pub fn line(&self) -> String {
        format!(
            "experiment=locality wait_s={} local_pct={:.1} job_s={:.3} jobs={} maps={}",
            self.wait_s, self.local_pct, self.job_s, self.jobs, self.maps
        )
    }
}

/// Sums jobs into one wait value's figures.
pub fn summarize(wait_s: u64, jobs: &[WordcountJob]) -> LocalityResult {
    let maps: usize = jobs.iter().map(|j| j.maps).sum();
    let local: usize = jobs.iter().map(|j| j.local_maps).sum();
    LocalityResult {
        wait_s,
        local_pct: percent(local as f64, maps as f64),
        job_s: mean(jobs.iter().map(|j| j.job_s)),
        jobs: jobs.len(),
        maps,
    }
}

/// `wordcount-framework` flags for one framework of an experiment.
#[allow(clippy::too_many_arguments)]
pub fn wordcount_args(
    master: &str,
    input: &std::path::Path,
    output: &std::path::Path,
    name: &str,
    wait_s: u64,
    jobs: usize,
    task_cpus: f64,
    task_mem: u64,
    remote_read_mbps: f64,
) -> Vec<String> {
    vec![
        format!("--master={master}"),
        format!("--input={}", input.display()),
        format!("--output={}", output.display()),
        format!("--name={name}"),
        format!("--locality_wait={wait_s}secs"),
        format!("--jobs={jobs}"),
        format!("--task_cpus={task_cpus}"),
        format!("--task_mem={task_mem}"),
        format!("--remote_read_mbps={remote_read_mbps}"),
    ]
}

/// Runs every wait value of `plan`, printing each line as soon as it is known via `emit`.
///
/// # Errors
/// A cluster that does not start, a framework that fails or prints no job lines.
pub fn run(
    tools: &Toolbox,
    plan: &LocalityPlan,
    mut emit: impl FnMut(&str),
) -> Result<Vec<LocalityResult>, MacroBenchError> {
    let program = tools.binary("wordcount-framework")?;
    tools.binary("wordcount-executor")?;
    let scratch = ScratchDir::new("locality")?;
    // Per framework, the words its jobs must count.
    let mut expected_words = Vec::new();
    for f in 0..plan.frameworks {
        let data = scratch.path().join(format!("data-{f}"));
        write_dataset(
            &data,
            &plan.data_nodes_of(f),
            plan.blocks,
            plan.block_bytes,
            1000 + f as u64,
        )?;
        expected_words.push(direct_word_total(&data)?);
    }
    let mut results = Vec::new();
    for &wait_s in &plan.waits_s {
        let cluster = plan.cluster.start(tools)?;
        let master = cluster.master_address();
        let specs: Vec<ChildSpec> = (0..plan.frameworks)
            .map(|f| {
                let name = format!("wordcount-{f}");
                let args = wordcount_args(
                    &master,
                    &scratch.path().join(format!("data-{f}")),
                    &scratch.path().join(format!("counts-{wait_s}-{f}.txt")),
                    &name,
                    wait_s,
                    plan.jobs,
                    plan.task_cpus,
                    plan.task_mem,
                    plan.remote_read_mbps,
                );
                ChildSpec::new(&name, program.clone(), args)
            })
            .collect();
        let outputs = run_group(&specs, Instant::now(), plan.timeout)?;
        drop(cluster);
        let mut jobs = Vec::new();
        for (output, &words) in outputs.iter().zip(&expected_words) {
            let found = collect(&output.stdout, WordcountJob::parse);
            if found.len() != plan.jobs {
                return Err(MacroBenchError::MissingOutput {
                    name: output.name.clone(),
                    expected: format!("job=wordcount (x{})", plan.jobs),
                });
            }
            check_word_totals(&output.name, &found, words)?;
            jobs.extend(found);
        }
        let result = summarize(wait_s, &jobs);
        emit(&result.line());
        results.push(result);
    }
    if let (Some(first), Some(last)) = (results.first(), results.last()) {
        if results.len() > 1 && last.job_s > 0.0 {
            emit(&format!(
                "experiment=locality-speedup wait_s={}_vs_{} speedup={:.2}",
                last.wait_s,
                first.wait_s,
                first.job_s / last.job_s
            ));
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_sets_sit_on_consecutive_agents_that_wrap() {
        let plan = LocalityPlan::for_scale(Scale::Full);
        assert_eq!(plan.data_nodes_of(0), vec!["agent-0", "agent-1"]);
        assert_eq!(plan.data_nodes_of(2), vec!["agent-4", "agent-5"]);
        assert_eq!(plan.data_nodes_of(3), vec!["agent-0", "agent-1"]);
    }
}
