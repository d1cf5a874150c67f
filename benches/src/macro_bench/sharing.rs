//! Experiment 2, sharing vs static partitioning (paper §6.1: +10% CPU and +17% memory
//! utilization, large Hadoop jobs about 2x faster when frameworks share one cluster). The mix is
//! the paper's four workloads: Hadoop-like word count, MPI-like gangs, shell batches and the
//! Spark-like iterative framework.
//!
//! A mix of frameworks runs twice: once on ONE shared cluster, once with the same agents split
//! between them ([`split_agents`]), each framework alone on its own cluster. The word-count
//! framework's data set is spread over all the agents in both modes (HDFS does not move when
//! Hadoop gets a partition), so in the static mode only the blocks on its own agents are local.
//! Its partition is the first agents, whose `node` names (`agent-0`..) match the shared cluster's.
//! The Spark-like framework's data set lives on every agent too; in the static mode its blocks are
//! renamed so that those on its own partition's agents carry that cluster's node names (its
//! cluster's agents are `agent-0`.. again) and the others name no agent of it.
//! Utilization is sampled from every master of the mode and averaged over the run (until the last
//! framework finishes).

use std::time::{Duration, Instant};

use mesos_local::LocalCluster;

use super::child::{run_group, ChildOutput, ChildSpec, Toolbox};
use super::cluster::{master_addr, ClusterShape};
use super::locality::wordcount_args;
use super::partition::ranges;
use super::partition::split_agents;
use super::report::{collect, mean, MpiJob, WordcountJob};
use super::sampler::{utilization, Resource, Sample, Sampler};
use super::{
    check_word_totals, direct_word_total, node_names, write_dataset, MacroBenchError, Scale,
    ScratchDir,
};
use mesos_examples::logreg::{generate_points, weights_agree, JobLine, PointsSpec};
use mesos_examples::wordcount::dataset::scan_blocks;

/// One framework of the mix.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    /// Elastic word-count jobs (`wordcount-framework --jobs`).
    Wordcount {
        /// Jobs, back to back.
        jobs: usize,
        /// Blocks in its data set (spread over every agent).
        blocks: usize,
        /// Bytes per block.
        block_bytes: usize,
        /// `--locality_wait` in seconds.
        wait_s: u64,
        /// `--remote_read_mbps`.
        remote_read_mbps: f64,
        /// `--task_cpus`.
        task_cpus: f64,
        /// `--task_mem` (MB).
        task_mem: u64,
    },
    /// Rigid gang jobs (`mpi-framework --jobs`).
    Mpi {
        /// Jobs, back to back.
        jobs: usize,
        /// Ranks per job.
        ranks: usize,
        /// `--rank_cpus`.
        rank_cpus: f64,
        /// `--rank_mem` (MB).
        rank_mem: u64,
        /// `--work_ms`: how long each job computes.
        work_ms: u64,
    },
    /// Batches of shell tasks (`shell-framework`, one process per batch).
    Shell {
        /// Batches, back to back.
        batches: usize,
        /// Tasks per batch.
        tasks: usize,
        /// Seconds each task sleeps.
        sleep_s: f64,
        /// Each task's resources (Mesos text form).
        resources: String,
        /// When the first batch starts, after the mix's start.
        start_after: Duration,
    },
    /// Iterative logistic-regression jobs (`spark-framework --jobs`) over a cached data set.
    Spark {
        /// Jobs, back to back.
        jobs: usize,
        /// Iterations per job.
        iterations: usize,
        /// Blocks in its data set (spread over every agent).
        blocks: usize,
        /// Bytes per block.
        block_bytes: usize,
        /// `--locality_wait` in seconds.
        wait_s: u64,
        /// `--remote_read_mbps`.
        remote_read_mbps: f64,
        /// `--executor_mem` (MB).
        executor_mem: u64,
    },
}

impl Workload {
    /// The framework's name in the printed lines.
    pub fn name(&self) -> &'static str {
        match self {
            Workload::Wordcount { .. } => "wordcount",
            Workload::Mpi { .. } => "mpi",
            Workload::Shell { .. } => "shell",
            Workload::Spark { .. } => "spark",
        }
    }
}

/// The sharing experiment's parameters.
#[derive(Debug, Clone)]
pub struct SharingPlan {
    /// The whole cluster (split in the static mode).
    pub cluster: ClusterShape,
    /// The frameworks and their static shares (weights); a word-count framework, if any, must
    /// come first (its partition must be agents `0..`).
    pub mix: Vec<(Workload, u32)>,
    /// Deadline for one mode's run.
    pub timeout: Duration,
    /// The sampling period.
    pub sample_every: Duration,
}

impl SharingPlan {
    /// The mix for `scale`: word count, MPI, shell tasks and Spark with equal static shares.
    pub fn for_scale(scale: Scale) -> SharingPlan {
        fn scaled<T>(scale: Scale, quick: T, full: T) -> T {
            match scale {
                Scale::Quick => quick,
                Scale::Full => full,
            }
        }
        SharingPlan {
            cluster: ClusterShape::scaled(scaled(scale, 6, 8)),
            mix: vec![
                (
                    // Data on every agent: in the static mode most maps read remotely.
                    Workload::Wordcount {
                        jobs: scaled(scale, 2, 4),
                        blocks: scaled(scale, 24, 48),
                        block_bytes: scaled(scale, 512 * 1024, 1024 * 1024),
                        wait_s: 1,
                        remote_read_mbps: 1.0,
                        task_cpus: 1.0,
                        task_mem: 512,
                    },
                    1,
                ),
                (
                    Workload::Mpi {
                        jobs: scaled(scale, 2, 4),
                        ranks: 4,
                        rank_cpus: 1.0,
                        rank_mem: 768,
                        work_ms: scaled(scale, 1500, 4000),
                    },
                    1,
                ),
                (
                    Workload::Shell {
                        batches: scaled(scale, 2, 3),
                        tasks: scaled(scale, 6, 12),
                        sleep_s: scaled(scale, 1.0, 2.0),
                        resources: "cpus:0.5;mem:256".to_string(),
                        start_after: Duration::from_secs(1),
                    },
                    1,
                ),
                (
                    Workload::Spark {
                        jobs: scaled(scale, 1, 2),
                        iterations: scaled(scale, 5, 10),
                        blocks: scaled(scale, 6, 16),
                        block_bytes: scaled(scale, 512 * 1024, 1024 * 1024),
                        wait_s: 1,
                        remote_read_mbps: 1.0,
                        executor_mem: 256,
                    },
                    1,
                ),
            ],
            timeout: match scale {
                Scale::Quick => Duration::from_secs(60),
                Scale::Full => Duration::from_secs(300),
            },
            sample_every: Duration::from_millis(200),
        }
    }
}

/// Shared or statically partitioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every framework on one cluster.
    Shared,
    /// Each framework alone on its share of the agents.
    Static,
}

impl Mode {
    /// `shared` / `static`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Shared => "shared",
            Mode::Static => "static",
        }
    }
}

/// One framework's figures in one mode.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameworkFigures {
    /// Its name.
    pub name: String,
    /// Jobs it finished.
    pub jobs: usize,
    /// Their mean duration in seconds.
    pub mean_job_s: f64,
}

/// One mode's run.
#[derive(Debug, Clone)]
pub struct ModeResult {
    /// Which mode.
    pub mode: Mode,
    /// Per framework, in the mix's order.
    pub frameworks: Vec<FrameworkFigures>,
    /// Time-averaged CPU utilization in percent.
    pub cpu_util_pct: f64,
    /// Time-averaged memory utilization in percent.
    pub mem_util_pct: f64,
    /// Seconds until the last framework finished.
    pub makespan_s: f64,
    /// The utilization series (summed over the mode's masters).
    pub samples: Vec<Sample>,
}

impl ModeResult {
    /// One `experiment=sharing mode=.. framework=.. jobs=.. mean_job_s=.. cpu_util_pct=..
    /// mem_util_pct=..` line per framework.
    pub fn lines(&self) -> Vec<String> {
        self.frameworks
            .iter()
            .map(|f| {
                format!(
                    "experiment=sharing mode={} framework={} jobs={} mean_job_s={:.3} \
                     cpu_util_pct={:.1} mem_util_pct={:.1}",
                    self.mode.as_str(),
                    f.name,
                    f.jobs,
                    f.mean_job_s,
                    self.cpu_util_pct,
                    self.mem_util_pct
                )
            })
            .collect()
    }

    /// `experiment=sharing-summary mode=.. makespan_s=.. cpu_util_pct=.. mem_util_pct=..`.
    pub fn summary_line(&self) -> String {
        format!(
            "experiment=sharing-summary mode={} makespan_s={:.3} cpu_util_pct={:.1} mem_util_pct={:.1}",
            self.mode.as_str(),
            self.makespan_s,
            self.cpu_util_pct,
            self.mem_util_pct
        )
    }
}

/// The binaries a mix needs, checked before anything starts.
fn check_binaries(tools: &Toolbox, mix: &[(Workload, u32)]) -> Result<(), MacroBenchError> {
    for (workload, _) in mix {
        let names: &[&str] = match workload {
            Workload::Wordcount { .. } => &["wordcount-framework", "wordcount-executor"],
            Workload::Mpi { .. } => &["mpi-framework", "mpi-executor"],
            Workload::Shell { .. } => &["shell-framework", "mesos-executor"],
            Workload::Spark { .. } => &["spark-framework", "spark-executor"],
        };
        for name in names {
            tools.binary(name)?;
        }
    }
    Ok(())
}

/// The child process(es) of `workload` against `master`.
pub(super) fn spec_for(
    tools: &Toolbox,
    workload: &Workload,
    master: &str,
    scratch: &std::path::Path,
    mode: Mode,
) -> Result<ChildSpec, MacroBenchError> {
    let name = workload.name();
    Ok(match workload {
        Workload::Wordcount {
            jobs,
            wait_s,
            remote_read_mbps,
            task_cpus,
            task_mem,
            ..
        } => ChildSpec::new(
            name,
            tools.binary("wordcount-framework")?,
            wordcount_args(
                master,
                &scratch.join("wordcount-data"),
                &scratch.join(format!("wordcount-{}.txt", mode.as_str())),
                name,
                *wait_s,
                *jobs,
                *task_cpus,
                *task_mem,
                *remote_read_mbps,
            ),
        ),
        Workload::Mpi {
            jobs,
            ranks,
            rank_cpus,
            rank_mem,
            work_ms,
        } => ChildSpec::new(
            name,
            tools.binary("mpi-framework")?,
            vec![
                format!("--master={master}"),
                format!("--name={name}"),
                format!("--jobs={jobs}"),
                format!("--ranks={ranks}"),
                format!("--rank_cpus={rank_cpus}"),
                format!("--rank_mem={rank_mem}"),
                format!("--work_ms={work_ms}"),
            ],
        ),
        Workload::Shell {
            batches,
            tasks,
            sleep_s,
            resources,
            start_after,
        } => ChildSpec {
            start_after: *start_after,
            repeat: *batches,
            ..ChildSpec::new(
                name,
                tools.binary("shell-framework")?,
                vec![
                    format!("--master={master}"),
                    format!("--num_tasks={tasks}"),
                    format!("--command=sleep {sleep_s}"),
                    format!("--resources={resources}"),
                ],
            )
        },
        Workload::Spark {
            jobs,
            iterations,
            wait_s,
            remote_read_mbps,
            executor_mem,
            ..
        } => ChildSpec::new(
            name,
            tools.binary("spark-framework")?,
            vec![
                format!("--master={master}"),
                format!("--name={name}"),
                format!("--input={}", scratch.join(spark_data(mode)).display()),
                format!("--jobs={jobs}"),
                format!("--iterations={iterations}"),
                format!("--locality_wait={wait_s}secs"),
                format!("--remote_read_mbps={remote_read_mbps}"),
                format!("--executor_mem={executor_mem}"),
            ],
        ),
    })
}

/// The Spark-like framework's data set for `mode` (same blocks, named per mode).
fn spark_data(mode: Mode) -> String {
    format!("spark-data-{}", mode.as_str())
}

/// What the frameworks of the mix must compute.
#[derive(Debug, Clone, Default)]
pub(super) struct Expected {
    /// Words every word-count job counts.
    words: u64,
    /// The weights every Spark-like job ends with.
    spark_weights: Vec<f64>,
}

/// The figures of one framework from what its process printed, checked against `expected`.
pub(super) fn figures(
    workload: &Workload,
    output: &ChildOutput,
    expected: &Expected,
) -> Result<FrameworkFigures, MacroBenchError> {
    let name = workload.name().to_string();
    let missing = |expected: &str| MacroBenchError::MissingOutput {
        name: name.clone(),
        expected: expected.to_string(),
    };
    let times: Vec<f64> = match workload {
        Workload::Wordcount { jobs, .. } => {
            let found = collect(&output.stdout, WordcountJob::parse);
            if found.len() != *jobs {
                return Err(missing("job=wordcount"));
            }
            check_word_totals(&name, &found, expected.words)?;
            found.iter().map(|j| j.job_s).collect()
        }
        Workload::Spark { jobs, .. } => {
            let found = collect(&output.stdout, JobLine::parse);
            if found.len() != *jobs {
                return Err(missing("job=logreg"));
            }
            if let Some(job) = found
                .iter()
                .find(|j| !weights_agree(&j.weights, &expected.spark_weights, 1e-9))
            {
                return Err(MacroBenchError::WrongResult {
                    name: name.clone(),
                    message: format!(
                        "job {} ended with weights {:?}, the direct fit with {:?}",
                        job.job_index, job.weights, expected.spark_weights
                    ),
                });
            }
            found.iter().map(|j| j.total_s).collect()
        }
        Workload::Mpi { jobs, .. } => {
            let found = collect(&output.stdout, MpiJob::parse);
            if found.len() != *jobs || found.iter().any(|j| !j.result_ok) {
                return Err(missing("job=mpi ... result_ok=true"));
            }
            found.iter().map(|j| j.job_s).collect()
        }
        // A batch's time is its process's wall time (registration included).
        Workload::Shell { .. } => output.run_s.clone(),
    };
    Ok(FrameworkFigures {
        jobs: times.len(),
        mean_job_s: mean(times),
        name,
    })
}

/// Runs the mix in one mode; the frameworks' results must be `expected`.
fn run_mode(
    tools: &Toolbox,
    plan: &SharingPlan,
    mode: Mode,
    scratch: &std::path::Path,
    expected: &Expected,
) -> Result<ModeResult, MacroBenchError> {
    // Per framework, the cluster it runs on (an index into `clusters`).
    let mut clusters: Vec<LocalCluster> = Vec::new();
    let mut cluster_of = Vec::new();
    match mode {
        Mode::Shared => {
            clusters.push(plan.cluster.start(tools)?);
            cluster_of = vec![0; plan.mix.len()];
        }
        Mode::Static => {
            let weights: Vec<u32> = plan.mix.iter().map(|(_, w)| *w).collect();
            let counts = split_agents(plan.cluster.agents, &weights);
            for (i, count) in counts.into_iter().enumerate() {
                if count == 0 {
                    return Err(MacroBenchError::Cluster(format!(
                        "{} agents cannot be split between {} frameworks",
                        plan.cluster.agents,
                        plan.mix.len()
                    )));
                }
                clusters.push(plan.cluster.with_agents(count).start(tools)?);
                cluster_of.push(i);
            }
        }
    }
    let masters = clusters
        .iter()
        .map(master_addr)
        .collect::<Result<Vec<_>, _>>()?;
    let specs = plan
        .mix
        .iter()
        .zip(&cluster_of)
        .map(|((workload, _), &c)| {
            spec_for(
                tools,
                workload,
                &clusters[c].master_address(),
                scratch,
                mode,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let start = Instant::now();
    let sampler = Sampler::start(masters, plan.sample_every, start);
    let outputs = run_group(&specs, start, plan.timeout);
    let samples = sampler.finish();
    drop(clusters);
    let outputs = outputs?;
    let makespan_s = outputs.iter().map(|o| o.ended_s).fold(0.0, f64::max);
    let frameworks = plan
        .mix
        .iter()
        .zip(&outputs)
        .map(|((workload, _), output)| figures(workload, output, expected))
        .collect::<Result<Vec<_>, _>>()?;
    let util = |resource| 100.0 * utilization(&samples, resource, 0.0, makespan_s).unwrap_or(0.0);
    Ok(ModeResult {
        mode,
        frameworks,
        cpu_util_pct: util(Resource::Cpus),
        mem_util_pct: util(Resource::Mem),
        makespan_s,
        samples,
    })
}

/// Writes the mix's data sets into `scratch` and computes what the frameworks must find.
fn write_data_sets(
    plan: &SharingPlan,
    scratch: &std::path::Path,
) -> Result<Expected, MacroBenchError> {
    let agents = plan.cluster.agents;
    let weights: Vec<u32> = plan.mix.iter().map(|(_, w)| *w).collect();
    let shares = ranges(&split_agents(agents, &weights));
    let mut expected = Expected::default();
    for (i, (workload, _)) in plan.mix.iter().enumerate() {
        match workload {
            Workload::Wordcount {
                blocks,
                block_bytes,
                ..
            } => {
                let dir = scratch.join("wordcount-data");
                write_dataset(&dir, &node_names(0..agents), *blocks, *block_bytes, 7)?;
                expected.words = direct_word_total(&dir)?;
            }
            Workload::Spark {
                blocks,
                block_bytes,
                iterations,
                ..
            } => {
                let spec = PointsSpec {
                    blocks: *blocks,
                    block_bytes: *block_bytes,
                    dims: 10,
                    seed: 8,
                };
                let share = shares.get(i).cloned().unwrap_or_default();
                // The same blocks in both layouts (the generator does not depend on the names).
                let static_names: Vec<String> = (0..agents)
                    .map(|k| {
                        if share.contains(&k) {
                            format!("agent-{}", k - share.start)
                        } else {
                            format!("elsewhere-{k}")
                        }
                    })
                    .collect();
                for (mode, names) in [
                    (Mode::Shared, node_names(0..agents)),
                    (Mode::Static, static_names),
                ] {
                    let dir = scratch.join(spark_data(mode));
                    generate_points(&dir, &names, spec).map_err(|source| MacroBenchError::Io {
                        what: "cannot write the data set",
                        path: dir.clone(),
                        source,
                    })?;
                }
                let dir = scratch.join(spark_data(Mode::Shared));
                let fit = scan_blocks(&dir)
                    .and_then(|b| mesos_examples::logreg::run_directly(&b, 10, *iterations, 1.0))
                    .map_err(|source| MacroBenchError::Io {
                        what: "cannot fit the data set",
                        path: dir.clone(),
                        source,
                    })?;
                expected.spark_weights = fit.weights;
            }
            Workload::Mpi { .. } | Workload::Shell { .. } => {}
        }
    }
    Ok(expected)
}

/// Runs the mix shared, then statically partitioned, printing each mode's lines via `emit` as
/// soon as they are known.
///
/// # Errors
/// A cluster that does not start, a framework that fails or prints no job lines.
pub fn run(
    tools: &Toolbox,
    plan: &SharingPlan,
    mut emit: impl FnMut(&str),
) -> Result<Vec<ModeResult>, MacroBenchError> {
    check_binaries(tools, &plan.mix)?;
    let scratch = ScratchDir::new("sharing")?;
    let expected = write_data_sets(plan, scratch.path())?;
    let mut results = Vec::new();
    for mode in [Mode::Shared, Mode::Static] {
        let result = run_mode(tools, plan, mode, scratch.path(), &expected)?;
        for line in result.lines() {
            emit(&line);
        }
        emit(&result.summary_line());
        results.push(result);
    }
    Ok(results)
}
