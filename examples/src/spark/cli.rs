//! The `spark-framework` command line (Mesos-style `--flag=value`): the framework against a
//! master, or `--direct` (the same fit in this process, no cluster).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mesos::scheduler::DriverStatus;
use mesos::{CommandInfo, ExecutorInfo, FrameworkInfo, Resources};
use mesos_local::flags;

use super::core::{CoreSettings, PartitionSpec};
use super::program::ProgramSettings;
use super::scheduler::{SparkConfig, SparkScheduler};
use crate::logreg::{flag_error, DataFlags, DataSet, LogRegError};
use crate::sibling_binary;
use crate::wordcount::cli::{at_least_one, non_negative, positive};

/// Flags of `spark-framework`.
#[derive(Debug, Clone, Parser)]
#[command(
    rename_all = "snake_case",
    name = "spark-framework",
    about = "Spark-like iterative framework: long-lived executors cache the data set in memory; \
             logistic regression by gradient descent."
)]
pub struct SparkFlags {
    /// The master, as host:port (or zk://...); not needed with --direct.
    #[arg(long, required_unless_present = "direct")]
    pub master: Option<String>,
    /// The data set and the job.
    #[command(flatten)]
    pub data: DataFlags,
    /// Jobs to run one after another over the same cached data set.
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    pub jobs: usize,
    /// A pause between jobs (an interactive user thinking): executors keep their cache, their
    /// idle cores go back to the cluster.
    #[arg(long, default_value = "0secs", value_parser = flags::duration)]
    pub pause_between_jobs: Duration,
    /// Delay scheduling: how long a stage waits for a core on the node holding a block before
    /// building that partition elsewhere.
    #[arg(long, default_value = "1secs", value_parser = flags::duration)]
    pub locality_wait: Duration,
    /// How long an executor's core may stay idle before it is given back.
    #[arg(long, default_value = "2secs", value_parser = flags::duration)]
    pub idle_timeout: Duration,
    /// CPUs of one core lease (one task at a time runs on it).
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    pub core_cpus: f64,
    /// Memory of each executor, in MB: its cache of partitions.
    #[arg(long, default_value_t = 512.0, value_parser = positive)]
    pub executor_mem: f64,
    /// How long a stage task may go unanswered before it is sent again (framework messages
    /// are not reliable).
    #[arg(long, default_value = "60secs", value_parser = flags::duration)]
    pub task_timeout: Duration,
    /// The most cores held at once (default: as many as useful).
    #[arg(long, value_parser = at_least_one)]
    pub max_cores: Option<usize>,
    /// Bandwidth (MB/s) at which a partition is built from a block on another node -- our model
    /// of the network on one machine; 0 = no throttle.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
    pub remote_read_mbps: f64,
    /// The framework's name.
    #[arg(long, default_value = "spark")]
    pub name: String,
    /// The framework's role.
    #[arg(long, default_value = "*")]
    pub role: String,
    /// Checkpoint the framework's tasks on their agents (they survive an agent restart).
    #[arg(long, env = "MESOS_CHECKPOINT", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub checkpoint: bool,
    /// The executor binary (default: `spark-executor` next to this binary).
    #[arg(long)]
    pub executor: Option<PathBuf>,
}

/// The framework's configuration from its flags and data set.
///
/// # Errors
/// [`LogRegError::Flag`] for an executor that cannot be found or resources that do not parse.
pub fn config(flags: &SparkFlags, data: &DataSet) -> Result<SparkConfig, LogRegError> {
    let executor_path = flags
        .executor
        .clone()
        .or_else(|| sibling_binary("spark-executor"))
        .ok_or_else(|| flag_error("executor", "no spark-executor next to this binary"))?;
    let lease_resources: Resources = format!("cpus:{}", flags.core_cpus)
        .parse()
        .map_err(|e| flag_error("core_cpus", format!("{e}")))?;
    let executor_resources: Resources = format!("mem:{}", flags.executor_mem)
        .parse()
        .map_err(|e| flag_error("executor_mem", format!("{e}")))?;
    let executor = ExecutorInfo {
        name: Some("Spark-like Executor (Rust)".into()),
        ..ExecutorInfo::new(
            "spark-executor",
            CommandInfo::argv(executor_path.display().to_string(), Vec::<String>::new()),
        )
        .with_resources(executor_resources.clone())
    };
    Ok(SparkConfig {
        core: CoreSettings {
            partitions: data
                .blocks
                .iter()
                .map(|b| PartitionSpec {
                    block: b.path.clone(),
                    node: b.node.clone(),
                })
                .collect(),
            dims: data.dims,
            lease_resources,
            executor_resources,
            locality_wait: flags.locality_wait,
            idle_timeout: flags.idle_timeout,
            max_leases: flags.max_cores.unwrap_or(usize::MAX),
            remote_read_mbps: flags.remote_read_mbps,
            task_timeout: flags.task_timeout,
        },
        program: ProgramSettings {
            name: flags.name.clone(),
            partitions: data.blocks.len(),
            dims: data.dims,
            iterations: flags.data.iterations,
            step_size: flags.data.step_size,
            jobs: flags.jobs,
            pause: flags.pause_between_jobs,
        },
        executor,
    })
}

/// Runs every job against the master; lines are printed as iterations and jobs finish.
///
/// # Errors
/// [`LogRegError`] for unusable flags or when a job did not succeed.
pub fn run_framework(flags: &SparkFlags, data: &DataSet) -> Result<(), LogRegError> {
    let master = flags
        .master
        .clone()
        .ok_or_else(|| flag_error("master", "required without --direct"))?;
    let (scheduler, handle) = SparkScheduler::new(config(flags, data)?);
    let framework = FrameworkInfo::new("", flags.name.clone())
        .with_role(flags.role.clone())
        .with_checkpoint(flags.checkpoint);
    let driver = crate::scheduler_driver(scheduler, framework, &master)
        .map_err(|e| flag_error("master", e.to_string()))?;
    let status = driver.run();
    drop(driver);
    let outcome = handle.outcome();
    println!("{}", outcome.counters_line(&flags.name));
    if let Some(failure) = outcome.failure {
        return Err(LogRegError::Failed(failure));
    }
    if status != DriverStatus::Stopped || outcome.jobs.len() < flags.jobs {
        return Err(LogRegError::Failed(format!(
            "the driver ended ({status}) after {} of {} jobs",
            outcome.jobs.len(),
            flags.jobs
        )));
    }
    Ok(())
}

/// The `spark-framework` binary: parses flags (bad ones exit 1 naming the flag), runs, and exits
/// 0 iff every job finished.
pub fn main_exit() -> ! {
    flags::init_logging();
    let flags: SparkFlags = flags::parse_or_exit();
    let result = flags.data.prepare().and_then(|data| {
        if flags.data.direct {
            flags.data.run_direct(&data, &flags.name).map(|_| ())
        } else {
            run_framework(&flags, &data)
        }
    });
    crate::exit_with(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<SparkFlags, clap::Error> {
        SparkFlags::try_parse_from(std::iter::once("spark-framework").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_and_mesos_style_values() {
        let f = parse(&["--master=127.0.0.1:5050", "--input=/in"]).expect("parses");
        assert_eq!((f.data.iterations, f.data.step_size, f.jobs), (10, 1.0, 1));
        assert_eq!(f.locality_wait, Duration::from_secs(1));
        assert_eq!(f.idle_timeout, Duration::from_secs(2));
        assert_eq!(
            (f.core_cpus, f.executor_mem, f.max_cores),
            (1.0, 512.0, None)
        );
        let f = parse(&["--direct", "--input=/in", "--pause_between_jobs=500ms"]).expect("parses");
        assert!(f.data.direct && f.master.is_none());
        assert_eq!(f.pause_between_jobs, Duration::from_millis(500));
    }

    #[test]
    fn bad_values_name_their_flag() {
        for (arg, flag) in [
            ("--iterations=0", "--iterations"),
            ("--step_size=-1", "--step_size"),
            ("--idle_timeout=soon", "--idle_timeout"),
            ("--core_cpus=0", "--core_cpus"),
            ("--max_cores=0", "--max_cores"),
            ("--generate_dims=0", "--generate_dims"),
        ] {
            let error = parse(&["--master=m:1", "--input=/in", arg])
                .unwrap_err()
                .to_string();
            assert!(error.contains(flag), "{arg}: {error}");
        }
        let error = parse(&["--input=/in"]).unwrap_err().to_string();
        assert!(error.contains("--master"), "{error}");
    }
}
