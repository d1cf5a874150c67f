//! The `wordcount-framework` command line (Mesos-style `--flag=value`), and its two modes: the
//! framework against a master, and `--direct` (the same count in this process, no cluster).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use mesos::scheduler::DriverStatus;
use mesos::{CommandInfo, ExecutorInfo, FrameworkInfo, Resources};
use mesos_local::flags;

use super::dataset::{count_directly, generate_dataset, scan_blocks, totals, write_counts, Block};
use super::job::JobSettings;
use super::scheduler::{JobPlan, WordcountConfig, WordcountPlan, WordcountScheduler};
use crate::sibling_binary;

/// Flags of `wordcount-framework`.
#[derive(Debug, Clone, Parser)]
#[command(
    rename_all = "snake_case",
    name = "wordcount-framework",
    about = "Hadoop-like MapReduce word count with delay scheduling."
)]
pub struct WordcountFlags {
    /// The master, as host:port (or zk://...); not needed with --direct.
    #[arg(long, required_unless_present = "direct")]
    pub master: Option<String>,
    /// The input: `<input>/<node>/block-<k>.txt`, block k stored on the agent whose `node`
    /// attribute is `<node>`.
    #[arg(long)]
    pub input: PathBuf,
    /// Where the final counts go ("word count" per line, sorted).
    #[arg(long)]
    pub output: PathBuf,
    /// Delay scheduling: how long a job waits for a node-local slot before taking any
    /// (0secs, 500ms, 1secs, 5secs ...).
    #[arg(long, default_value = "5secs", value_parser = flags::duration)]
    pub locality_wait: Duration,
    /// Reduce tasks per job.
    #[arg(long, default_value_t = 2, value_parser = at_least_one)]
    pub reducers: usize,
    /// CPUs of each map or reduce task.
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    pub task_cpus: f64,
    /// Memory of each task, in MB.
    #[arg(long, default_value_t = 128.0, value_parser = positive)]
    pub task_mem: f64,
    /// Run the same job this many times in sequence on one registration.
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    pub jobs: usize,
    /// The framework's name.
    #[arg(long, default_value = "wordcount")]
    pub name: String,
    /// The framework's role.
    #[arg(long, default_value = "*")]
    pub role: String,
    /// Checkpoint the framework's tasks on their agents (they survive an agent restart).
    #[arg(long, env = "MESOS_CHECKPOINT", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub checkpoint: bool,
    /// Bandwidth (MB/s) at which a map reads a block that is not on its agent -- our model of the
    /// network on one machine; 0 = no throttle.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
    pub remote_read_mbps: f64,
    /// No cluster: count `--input` in this process, write --output, print the direct line.
    #[arg(long)]
    pub direct: bool,
    /// The executor binary (default: `wordcount-executor` next to this binary).
    #[arg(long)]
    pub executor: Option<PathBuf>,
    /// The executor's own resources beyond its tasks', counted once per agent per job (e.g.
    /// 'cpus:0.1;mem:32'). Default none: an idle executor uses next to nothing, and 0.1 cpu
    /// would cost a whole slot on an agent with a whole number of cpus.
    #[arg(long, value_parser = flags::resources)]
    pub executor_resources: Option<Resources>,
    /// First generate a deterministic data set of this many blocks into --input (replacing
    /// nothing: existing blocks with the same names are overwritten).
    #[arg(long, value_parser = at_least_one)]
    pub generate_blocks: Option<usize>,
    /// The nodes the generated blocks are spread over, round-robin (comma-separated).
    #[arg(long, default_value = "agent-0,agent-1,agent-2", value_delimiter = ',')]
    pub generate_nodes: Vec<String>,
    /// The size of each generated block, in kB.
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    pub generate_block_kb: usize,
    /// The generator's seed (same seed, same data).
    #[arg(long, default_value_t = 1)]
    pub generate_seed: u64,
}

/// `--generate_blocks`: writes the data set into `--input` first.
///
/// # Errors
/// [`WordcountError::Flag`] naming `--input` if it cannot be written.
pub fn generate_if_asked(flags: &WordcountFlags) -> Result<(), WordcountError> {
    let Some(blocks) = flags.generate_blocks else {
        return Ok(());
    };
    generate_dataset(
        &flags.input,
        &flags.generate_nodes,
        blocks,
        flags.generate_block_kb * 1024,
        flags.generate_seed,
    )
    .map_err(|e| {
        flag_error(
            "input",
            format!("cannot generate into {}: {e}", flags.input.display()),
        )
    })
}

pub(crate) fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{text}' is not a whole number of at least 1")),
    }
}

pub(crate) fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(x),
        _ => Err(format!("'{text}' is not a positive number")),
    }
}

pub(crate) fn non_negative(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x >= 0.0 && x.is_finite() => Ok(x),
        _ => Err(format!("'{text}' is not a number of at least 0")),
    }
}

/// Why a run could not start or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WordcountError {
    /// A flag's value is unusable (the message names the flag).
    #[error("invalid value for '--{flag}': {message}")]
    Flag {
        /// The flag, without dashes.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Counting or writing failed in direct mode.
    #[error("{0}")]
    Io(String),
    /// A job failed or the driver ended early.
    #[error("{0}")]
    Failed(String),
}

fn flag_error(flag: &'static str, message: impl Into<String>) -> WordcountError {
    WordcountError::Flag {
        flag,
        message: message.into(),
    }
}

/// Fails early (naming `--output`) when the output's directory does not exist, rather than after
/// the whole job ran.
fn check_output(output: &Path) -> Result<(), WordcountError> {
    match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(flag_error(
            "output",
            format!("directory {} does not exist", dir.display()),
        )),
        _ => Ok(()),
    }
}

fn blocks_of(input: &Path) -> Result<Vec<Block>, WordcountError> {
    let blocks = scan_blocks(input)
        .map_err(|e| flag_error("input", format!("cannot read {}: {e}", input.display())))?;
    if blocks.is_empty() {
        return Err(flag_error(
            "input",
            format!("{} holds no <node>/block-<k>.txt files", input.display()),
        ));
    }
    Ok(blocks)
}

/// `--direct`: counts the input in this process; returns the line it prints.
///
/// # Errors
/// [`WordcountError`] if the input cannot be read or the output written.
pub fn run_direct(flags: &WordcountFlags) -> Result<String, WordcountError> {
    check_output(&flags.output)?;
    blocks_of(&flags.input)?;
    let started = Instant::now();
    let counts = count_directly(&flags.input).map_err(|e| WordcountError::Io(e.to_string()))?;
    write_counts(&flags.output, &counts).map_err(|e| {
        WordcountError::Io(format!(
            "cannot write --output {}: {e}",
            flags.output.display()
        ))
    })?;
    let (words, distinct) = totals(&counts);
    Ok(format!(
        "job=wordcount-direct job_s={:.3} words={words} distinct={distinct}",
        started.elapsed().as_secs_f64()
    ))
}

/// What a run of MapReduce jobs on this framework needs besides its [`JobPlan`] (the word count
/// and the logistic-regression baseline share it).
#[derive(Debug, Clone)]
pub struct MapReduceSetup {
    /// The master, `host:port` or `zk://...`.
    pub master: String,
    /// The framework's name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// The input's blocks.
    pub blocks: Vec<Block>,
    /// `--executor`: the executor binary (default: `wordcount-executor` next to this one).
    pub executor: Option<PathBuf>,
    /// `--executor_resources`.
    pub executor_resources: Option<Resources>,
    /// `--task_cpus`.
    pub task_cpus: f64,
    /// `--task_mem`.
    pub task_mem: f64,
    /// `--reducers`.
    pub reducers: usize,
    /// `--locality_wait`.
    pub locality_wait: Duration,
    /// `--remote_read_mbps`.
    pub remote_read_mbps: f64,
    /// How many jobs the plan runs (fewer is a failure).
    pub jobs: usize,
    /// `--checkpoint`: the framework's tasks survive an agent restart.
    pub checkpoint: bool,
}

/// Runs `plan`'s jobs against the master, then prints the offer counters line.
///
/// # Errors
/// [`WordcountError`] for unusable flags or when a job did not succeed.
pub fn run_mapreduce(setup: MapReduceSetup, plan: Box<dyn JobPlan>) -> Result<(), WordcountError> {
    let executor_path = setup
        .executor
        .clone()
        .or_else(|| sibling_binary("wordcount-executor"))
        .ok_or_else(|| flag_error("executor", "no wordcount-executor next to this binary"))?;
    let task_resources: Resources = format!("cpus:{};mem:{}", setup.task_cpus, setup.task_mem)
        .parse()
        .map_err(|e| flag_error("task_cpus", format!("{e}")))?;
    let executor = ExecutorInfo {
        name: Some("Wordcount Executor (Rust)".into()),
        ..ExecutorInfo::new(
            "wordcount",
            CommandInfo::argv(executor_path.display().to_string(), Vec::<String>::new()),
        )
        .with_resources(setup.executor_resources.clone().unwrap_or_default())
    };
    let config = WordcountConfig {
        blocks: setup.blocks,
        settings: JobSettings {
            reducers: setup.reducers,
            task_resources,
            executor_resources: executor.resources.clone(),
            locality_wait: setup.locality_wait,
            remote_read_mbps: setup.remote_read_mbps,
            functions: Default::default(),
        },
        executor,
    };
    let (scheduler, outcome) = WordcountScheduler::new(config, plan);
    let framework = FrameworkInfo::new("", setup.name.clone())
        .with_role(setup.role.clone())
        .with_checkpoint(setup.checkpoint);
    let driver = crate::scheduler_driver(scheduler, framework, &setup.master)
        .map_err(|e| flag_error("master", e.to_string()))?;
    let status = driver.run();
    drop(driver);
    println!("{}", outcome.counters().line(&setup.name));
    let outcome = outcome.outcome();
    if let Some(failure) = outcome.failure {
        return Err(WordcountError::Failed(failure));
    }
    if status != DriverStatus::Stopped || outcome.succeeded < setup.jobs {
        return Err(WordcountError::Failed(format!(
            "the driver ended ({status}) after {} of {} jobs",
            outcome.succeeded, setup.jobs
        )));
    }
    Ok(())
}

/// Runs every job against the master; the job lines are printed as jobs finish.
///
/// # Errors
/// [`WordcountError`] for unusable flags or when a job did not succeed.
pub fn run_framework(flags: &WordcountFlags) -> Result<(), WordcountError> {
    let master = flags
        .master
        .clone()
        .ok_or_else(|| flag_error("master", "required without --direct"))?;
    check_output(&flags.output)?;
    let setup = MapReduceSetup {
        master,
        name: flags.name.clone(),
        role: flags.role.clone(),
        blocks: blocks_of(&flags.input)?,
        executor: flags.executor.clone(),
        executor_resources: flags.executor_resources.clone(),
        task_cpus: flags.task_cpus,
        task_mem: flags.task_mem,
        reducers: flags.reducers,
        locality_wait: flags.locality_wait,
        remote_read_mbps: flags.remote_read_mbps,
        jobs: flags.jobs,
        checkpoint: flags.checkpoint,
    };
    let plan = WordcountPlan {
        name: flags.name.clone(),
        jobs: flags.jobs,
        output: flags.output.clone(),
    };
    run_mapreduce(setup, Box::new(plan))
}

/// The `wordcount-framework` binary: parses flags (bad ones exit 1 naming the flag), runs, and
/// exits 0 iff every job succeeded.
pub fn main_exit() -> ! {
    flags::init_logging();
    let flags: WordcountFlags = flags::parse_or_exit();
    let result = generate_if_asked(&flags).and_then(|()| {
        if flags.direct {
            run_direct(&flags).map(|line| println!("{line}"))
        } else {
            run_framework(&flags)
        }
    });
    crate::exit_with(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<WordcountFlags, clap::Error> {
        WordcountFlags::try_parse_from(
            std::iter::once("wordcount-framework").chain(args.iter().copied()),
        )
    }

    #[test]
    fn defaults_and_mesos_style_values() {
        let f =
            parse(&["--master=127.0.0.1:5050", "--input=/in", "--output=/out"]).expect("parses");
        assert_eq!(f.locality_wait, Duration::from_secs(5));
        assert_eq!((f.reducers, f.jobs), (2, 1));
        assert_eq!(
            (f.task_cpus, f.task_mem, f.remote_read_mbps),
            (1.0, 128.0, 0.0)
        );
        assert_eq!((f.name.as_str(), f.role.as_str()), ("wordcount", "*"));
        let f = parse(&[
            "--direct",
            "--input=/in",
            "--output=/out",
            "--locality_wait=500ms",
        ])
        .expect("parses");
        assert!(f.direct && f.master.is_none());
        assert_eq!(f.locality_wait, Duration::from_millis(500));
    }

    #[test]
    fn bad_values_name_their_flag() {
        for (args, flag) in [
            (&["--locality_wait=soon"][..], "--locality_wait"),
            (&["--reducers=0"][..], "--reducers"),
            (&["--task_cpus=-1"][..], "--task_cpus"),
            (&["--remote_read_mbps=fast"][..], "--remote_read_mbps"),
        ] {
            let mut all = vec!["--master=m:1", "--input=/in", "--output=/out"];
            all.extend_from_slice(args);
            let error = parse(&all).unwrap_err().to_string();
            assert!(error.contains(flag), "{error}");
        }
        let error = parse(&["--input=/in", "--output=/out"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("--master"), "{error}");
    }
}
