//! The `mpi-framework` flags (the issue-7 contract), Mesos style: `--flag=value`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mesos::{CommandInfo, ExecutorInfo};
use mesos_local::flags;

use super::core::GangConfig;
use super::placement::RankNeeds;

/// Flags of `mpi-framework`.
#[derive(Debug, Clone, Parser)]
#[command(
    rename_all = "snake_case",
    name = "mpi-framework",
    about = "Runs MPI-like gang-scheduled jobs: N ranks at once, a TCP allreduce checked against the serial sum."
)]
pub struct MpiFlags {
    /// The master, as host:port (or zk://...).
    #[arg(long, env = "MESOS_MASTER")]
    pub master: String,
    /// Ranks per job; all run at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub ranks: u32,
    /// CPUs per rank.
    #[arg(long, default_value_t = 1.0, value_parser = positive_f64)]
    pub rank_cpus: f64,
    /// Memory per rank, in MB.
    #[arg(long, default_value_t = 128.0, value_parser = positive_f64)]
    pub rank_mem: f64,
    /// Release the held offers if the gang is not complete after this long (e.g. 500ms, 5secs).
    #[arg(long, default_value = "5secs", value_parser = positive_duration)]
    pub gang_timeout: Duration,
    /// Jobs to run, one after another.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Each rank works (sleeps) this long before the reduction, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub work_ms: u64,
    /// Length of each rank's vector.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub vector_len: u32,
    /// Test hook: rank k fails on the first attempt of each job.
    #[arg(long)]
    pub fail_rank: Option<u32>,
    /// The framework name.
    #[arg(long, default_value = "mpi")]
    pub name: String,
    /// The framework's role.
    #[arg(long, default_value = "*")]
    pub role: String,
    /// Checkpoint the framework's tasks on their agents (they survive an agent restart).
    #[arg(long, env = "MESOS_CHECKPOINT", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub checkpoint: bool,
    /// Attempts per job before it is reported failed.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: u32,
    /// How long ranks wait for each other before failing (e.g. 30secs).
    #[arg(long, default_value = "30secs", value_parser = positive_duration)]
    pub rendezvous_timeout: Duration,
    /// The rank executor binary (default: `mpi-executor` next to this binary).
    #[arg(long)]
    pub executor: Option<PathBuf>,
    /// Seeds port choice and backoff jitter (default: random).
    #[arg(long)]
    pub seed: Option<u64>,
}

fn positive_f64(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("'{text}' is not a positive number")),
    }
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    let d = flags::duration(text)?;
    if d.is_zero() {
        return Err("must be longer than zero".to_string());
    }
    Ok(d)
}

/// A flag combination that is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// `--fail_rank` is not one of the ranks.
    #[error("invalid value '{fail_rank}' for '--fail_rank': must be below --ranks ({ranks})")]
    FailRankOutOfRange {
        /// The value given.
        fail_rank: u32,
        /// The number of ranks.
        ranks: u32,
    },
    /// `--role` is not a valid role.
    #[error("invalid value '{0}' for '--role': not a valid role")]
    Role(String),
    /// No executor binary was found.
    #[error("no mpi-executor next to this binary; pass '--executor=<path>'")]
    NoExecutor,
}

impl MpiFlags {
    /// Checks what clap cannot (flags that depend on each other).
    ///
    /// # Errors
    /// [`FlagError`] naming the flag.
    pub fn validate(&self) -> Result<(), FlagError> {
        if let Some(fail_rank) = self.fail_rank {
            if fail_rank >= self.ranks {
                return Err(FlagError::FailRankOutOfRange {
                    fail_rank,
                    ranks: self.ranks,
                });
            }
        }
        if self.role != "*" && !mesos::resources::is_valid_role(&self.role) {
            return Err(FlagError::Role(self.role.clone()));
        }
        Ok(())
    }

    /// The core's configuration, running ranks with the executor at `executor`.
    pub fn to_config(&self, executor: &std::path::Path) -> GangConfig {
        let executor = ExecutorInfo::new(
            "mpi-rank",
            CommandInfo::argv(executor.display().to_string(), Vec::<String>::new()),
        );
        let executor = ExecutorInfo {
            name: Some(format!("{} rank (mpi-executor)", self.name)),
            ..executor
        };
        GangConfig {
            name: self.name.clone(),
            ranks: self.ranks as usize,
            needs: RankNeeds::new(self.rank_cpus, self.rank_mem),
            gang_timeout: self.gang_timeout,
            jobs: self.jobs,
            work_ms: self.work_ms,
            vector_len: self.vector_len as usize,
            fail_rank: self.fail_rank.map(|r| r as usize),
            max_attempts: self.max_attempts,
            rendezvous_timeout: self.rendezvous_timeout,
            executor,
            seed: self.seed.unwrap_or_else(rand::random),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<MpiFlags, clap::Error> {
        MpiFlags::try_parse_from(
            std::iter::once("mpi-framework")
                .chain(["--master=127.0.0.1:5050"])
                .chain(args.iter().copied()),
        )
    }

    #[test]
    fn defaults_match_the_contract() {
        let flags = parse(&[]).unwrap();
        assert_eq!(flags.ranks, 4);
        assert_eq!(flags.rank_cpus, 1.0);
        assert_eq!(flags.rank_mem, 128.0);
        assert_eq!(flags.gang_timeout, Duration::from_secs(5));
        assert_eq!(flags.jobs, 1);
        assert_eq!(flags.work_ms, 0);
        assert_eq!(flags.vector_len, 1000);
        assert_eq!(flags.fail_rank, None);
        assert_eq!(flags.name, "mpi");
        assert_eq!(flags.role, "*");
        flags.validate().unwrap();
    }

    #[test]
    fn mesos_style_values_parse() {
        let flags = parse(&[
            "--ranks=3",
            "--rank_cpus=0.5",
            "--gang_timeout=500ms",
            "--fail_rank=2",
            "--name=mpi-b",
        ])
        .unwrap();
        assert_eq!(flags.gang_timeout, Duration::from_millis(500));
        flags.validate().unwrap();
        let config = flags.to_config(std::path::Path::new("/bin/mpi-executor"));
        assert_eq!(config.ranks, 3);
        assert_eq!(config.fail_rank, Some(2));
        assert_eq!(config.needs, RankNeeds::new(0.5, 128.0));
    }

    #[test]
    fn bad_values_name_their_flag() {
        for (args, flag) in [
            (&["--ranks=0"][..], "--ranks"),
            (&["--gang_timeout=5"][..], "--gang_timeout"),
            (&["--gang_timeout=0secs"][..], "--gang_timeout"),
            (&["--rank_cpus=-1"][..], "--rank_cpus"),
            (&["--vector_len=0"][..], "--vector_len"),
        ] {
            let error = parse(args).unwrap_err().to_string();
            assert!(error.contains(flag), "{args:?}: {error}");
        }
        let flags = parse(&["--ranks=2", "--fail_rank=2"]).unwrap();
        let error = flags.validate().unwrap_err().to_string();
        assert!(error.contains("--fail_rank"), "{error}");
    }
}
