//! Hadoop-like word count: an elastic MapReduce framework with delay scheduling (issue 7).
//!
//! The paper's point about elastic frameworks: they take resources as they come, give them back
//! when tasks end, and -- with delay scheduling -- wait a little for offers on the nodes holding
//! their data, which gives them near-perfect locality. This module is that framework:
//!
//! - [`dataset`]: the input layout (`<input>/<node>/block-<k>.txt`: block k is stored on the agent
//!   whose `node` attribute is `<node>`, our "NameNode block map"), a deterministic generator
//!   ([`generate_dataset`]), the shared tokenizer and the reference count ([`count_directly`]).
//! - [`locality::DelayScheduler`]: delay scheduling as a pure state machine (injected `now`).
//! - [`job::JobCore`]: one job's bookkeeping, pure: offers in, launches and decline filters out;
//!   status updates in, progress out; retries and re-running maps whose output was lost.
//! - [`scheduler::WordcountScheduler`]: the thin [`mesos::scheduler::Scheduler`]: several tasks
//!   per offer, declines with the remaining locality wait (or 5 s when idle), suppresses offers
//!   when it has nothing to launch and revives them when it has (new job, reduce phase, retry);
//!   [`OfferCounters`] count what it did (the run's last line).
//! - [`executor::WordcountExecutor`] (`wordcount-executor`): one per agent per job, running map and
//!   reduce tasks on threads; [`shuffle`]: its tiny HTTP server for map output.
//! - [`cli`]: the `wordcount-framework` flags and the `--direct` mode.
//! - [`hadoop_lr`]: the same machinery running logistic regression, one MapReduce job per
//!   iteration (`hadoop-lr-framework`, the Spark-like framework's baseline): the maps' and
//!   reduces' functions come with their tasks ([`task_data::MapFunction`]), and a run's
//!   [`scheduler::JobPlan`] says what each finished job leads to.
//!
//! # Data flow
//!
//! A map task reads its block (a block on another node is read at `--remote_read_mbps`: all
//! "nodes" share one disk here, so that throttle is our model of the network), counts its words
//! and writes one file per reducer into its executor's sandbox. `TASK_FINISHED` carries the
//! executor's server address and the files. Once every map is done the scheduler launches the
//! reducers with the list of `(server, file)` to fetch; each writes its partition's counts and
//! reports them the same way. The scheduler fetches the reducers' files, writes `--output`,
//! prints the job line and tells the job's executors to exit (a framework message).
//!
//! Block paths travel as the scheduler sees them, so on several hosts each node keeps its blocks
//! under the same `--input` path (or all share one file system), as HDFS data directories would.
//!
//! # Running it
//!
//! ```text
//! cargo build -p mesos-examples -p mesos-local
//! target/debug/mesos-local --num_agents 3 --port 5050 &
//! target/debug/wordcount-framework --master=127.0.0.1:5050 --input=/tmp/wc-in --output=/tmp/wc.txt \
//!     --locality_wait=1secs --task_cpus=0.5
//! job=wordcount name=wordcount job_index=0 maps=12 reduces=2 local_maps=12 local_pct=100.0 job_s=0.734 words=51234 distinct=4123
//! framework=wordcount name=wordcount offers=7 used=3 declined=4 suppressed=2 revived=1
//! ```

pub mod cli;
pub mod dataset;
pub mod executor;
pub mod hadoop_lr;
pub mod job;
pub mod locality;
pub mod scheduler;
pub mod shuffle;
pub mod task_data;

pub use self::cli::WordcountError;
pub use self::dataset::{count_directly, generate_dataset, Block, Counts};
pub use self::job::{JobCore, JobSettings};
pub use self::locality::DelayScheduler;
pub use self::scheduler::{JobPlan, JobReport, OfferCounters, WordcountScheduler};
