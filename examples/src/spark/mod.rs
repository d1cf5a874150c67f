//! Spark-like iterative framework (issue 18): the paper's case for specialized frameworks.
//!
//! Spark ran logistic regression about 10x faster than Hadoop on Mesos because its executors
//! live across iterations and keep the data set in memory: the first iteration reads and parses
//! the input, later ones only compute. This module is that framework, on our public driver API:
//!
//! - [`core::SparkCore`]: the driver's scheduling, pure (offers, lease updates, executor answers
//!   and losses in, with `now`; actions out). Executors are elastic: they hold cores as *lease*
//!   tasks taken when offered and useful, and give them back after `--idle_timeout` idle, while
//!   the executor process and its cache stay. Partitions are placed by delay scheduling on the
//!   nodes holding their blocks, then stick to the executor that caches them.
//! - [`program::DriverProgram`]: the driver program, pure: jobs of gradient-descent stages, the
//!   partitions' sums reduced at the driver in partition order, the weights updated, one line
//!   per iteration.
//! - [`scheduler::SparkScheduler`]: the thin [`mesos::scheduler::Scheduler`] around both, plus a
//!   ticker thread for the time.
//! - [`executor::SparkExecutor`] (`spark-executor`): one per agent, runs stage tasks sent as
//!   framework messages ([`protocol`]) on threads over its cached partitions, building a missing
//!   one from its lineage (its block file).
//! - [`cli`]: the `spark-framework` flags and the `--direct` mode.
//!
//! # Losing an executor
//!
//! A lost agent or executor costs only its partitions: they lose their home, its running tasks
//! go back to pending, and other executors rebuild them from their blocks (after the locality
//! wait, as remote reads), so the job completes with the same weights.
//!
//! # Running it
//!
//! ```text
//! cargo build --release -p mesos-examples -p mesos-local
//! target/release/mesos-local --num_agents 3 --resources 'cpus:2;mem:2048' --port 5050 &
//! target/release/spark-framework --master=127.0.0.1:5050 --input=/tmp/lr-in \
//!     --generate_blocks=6 --generate_block_kb=4096 --iterations=10
//! iteration=0 framework=spark job_index=0 loss=0.693147 iter_s=0.912 loads=6
//! iteration=1 framework=spark job_index=0 loss=0.512088 iter_s=0.043 loads=0
//! ...
//! job=logreg framework=spark name=spark job_index=0 partitions=6 iterations=10 first_iter_s=0.912 later_iter_s=0.041 total_s=1.290 loads=6 final_loss=0.301122 weights=...
//! framework=spark name=spark offers=5 leases_launched=6 leases_released=0 executors_started=3 executors_lost=0 migrations=0 resends=0
//! ```

pub mod cli;
pub mod core;
pub mod executor;
pub mod program;
pub mod protocol;
pub mod scheduler;

pub use self::core::{SparkCore, StageOutcome};
pub use self::program::DriverProgram;
pub use self::scheduler::{Outcome, SparkScheduler};
