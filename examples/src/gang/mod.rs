//! MPI-like gang framework (issue 7): a rigid job of N ranks that must all run at once.
//!
//! The paper's point about rigid frameworks: they cannot start with part of their resources, so
//! they *hold* offers until the whole gang fits, and must let go again if it does not, or two of
//! them can each hold half a cluster forever. This module is that framework, in four parts:
//!
//! - [`core::GangCore`]: the pure state machine (no I/O, no clock; every input carries `now`,
//!   outputs are [`core::GangAction`]s the caller performs, [`core::GangCore::poll_timeout`] says
//!   when to call [`core::GangCore::tick`]). It holds offers, places the gang with
//!   [`placement::place_gang`] and launches every rank at once, releases everything after
//!   `--gang_timeout` (then suppresses and revives after a randomized, growing backoff so two
//!   rigid frameworks do not keep colliding), kills the surviving ranks when one fails, and
//!   retries the job.
//! - [`allreduce`]: what the ranks compute together: each rank's deterministic vector, a
//!   star-shaped allreduce (sum) over TCP with rank 0 as the rendezvous point, and the serial
//!   answer each rank checks the result against.
//! - [`executor::RankExecutor`]: the custom executor (`mpi-executor` binary) that runs one rank.
//! - [`scheduler`]: the thin [`mesos::scheduler::Scheduler`] around the core plus the loop that
//!   ticks it; [`cli`] holds the `mpi-framework` flags.
//!
//! # Why a custom executor, one per rank
//!
//! The rendezvous address (rank 0's `host:port`) travels in the rank's *task data*, which the
//! built-in command executor does not hand to a command; a custom executor reads it directly
//! from the `TaskInfo`. Each rank gets its own executor (the executor id is the task id), so a
//! rank is one process, as in MPI: killing a rank ends exactly that process, and the framework
//! never has to track which executors are still alive on which agent between jobs. The
//! executor's own resources are empty, so a rank's footprint is exactly
//! `--rank_cpus`/`--rank_mem` (plus one port for rank 0), which keeps utilization figures honest.
//!
//! # Running it
//!
//! ```text
//! cargo build -p mesos-examples -p mesos-local
//! target/debug/mesos-local --num_agents 3 &
//! target/debug/mpi-framework --master=127.0.0.1:5050 --ranks=4 --rank_cpus=0.5 --jobs=2
//! job=mpi name=mpi job_index=0 ranks=4 attempts=1 job_s=0.412 result_ok=true releases=0
//! ```

pub mod allreduce;
pub mod cli;
pub mod core;
pub mod executor;
pub mod placement;
pub mod scheduler;
pub mod task_data;

pub use self::core::{GangAction, GangConfig, GangCore, JobReport};
pub use self::task_data::{RankResult, RankTask};
