//! The agent's checkpoint writer: a thread that takes the checkpoints the actor hands it, writes
//! those that arrived together as one batch ([`MetaWriter::apply_batch`], one round of syncs for
//! all of them), and reports each finished batch, so the actor never waits for the disk and a
//! burst of N checkpoints costs a few disk round trips instead of N.
//!
//! The actor numbers its checkpoints 1, 2, 3, ... and holds back every output that must follow a
//! checkpoint (an acknowledgement to the executor, a forwarded update, a launch) until a
//! [`Synced`] report covers that checkpoint's number: nothing is acted upon before it is durable.
//!
//! ```
//! use agent::checkpoint::{Checkpoint, GroupWriter, MetaWriter};
//!
//! let dir = std::env::temp_dir().join(format!("group-writer-doc-{}", std::process::id()));
//! let (reports, synced) = std::sync::mpsc::channel();
//! let writer = GroupWriter::spawn(MetaWriter::new(&dir), 4, move |report| {
//!     let _ = reports.send(report);
//! })
//! .unwrap();
//! writer.submit(1, Checkpoint::BootId("boot-1".into()));
//! writer.submit(2, Checkpoint::BootId("boot-2".into()));
//! // One report or two, depending on how the writer found them; the last covers both.
//! let mut through = 0;
//! while through < 2 {
//!     let report = synced.recv().unwrap();
//!     report.result.unwrap();
//!     through = report.through;
//! }
//! assert_eq!(std::fs::read_to_string(dir.join("meta/boot_id")).unwrap(), "boot-2");
//! # drop(writer);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::{Checkpoint, FileError, MetaWriter, SyncPool};

/// The most checkpoints one batch takes (bounds the time before the first report in a burst).
pub const MAX_BATCH: usize = 4096;

/// One finished batch.
#[derive(Debug)]
pub struct Synced {
    /// Every checkpoint numbered up to this one is durable (when `result` is Ok).
    pub through: u64,
    /// How many checkpoints the batch held.
    pub batch: usize,
    /// The batch failed: the checkpoint writer stopped, and nothing from `through`'s batch on may
    /// be acted upon.
    pub result: Result<(), FileError>,
}

/// A thread writing checkpoints in batches (see the module docs). Dropping it lets the thread
/// finish what it was given, then waits for it.
#[derive(Debug)]
pub struct GroupWriter {
    jobs: Option<Sender<(u64, Checkpoint)>>,
    thread: Option<JoinHandle<()>>,
}

impl GroupWriter {
    /// Starts the writer thread (and `sync_threads` threads to run a batch's syncs side by
    /// side). `on_synced` is called on the writer thread after each batch.
    ///
    /// # Errors
    /// When a thread cannot be started.
    pub fn spawn(
        writer: MetaWriter,
        sync_threads: usize,
        on_synced: impl FnMut(Synced) + Send + 'static,
    ) -> std::io::Result<GroupWriter> {
        let writer = writer.with_sync_pool(SyncPool::new(sync_threads)?);
        let (jobs, receiver) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("checkpoint-writer".into())
            .spawn(move || write_batches(&writer, &receiver, on_synced))?;
        Ok(GroupWriter {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Hands checkpoint number `seq` (one more than the last) to the writer. Returns false if the
    /// writer stopped (a batch failed).
    pub fn submit(&self, seq: u64, checkpoint: Checkpoint) -> bool {
        self.jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send((seq, checkpoint)).is_ok())
    }
}

impl Drop for GroupWriter {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread: batch after batch until the actor hangs up or a batch fails.
fn write_batches(
    writer: &MetaWriter,
    jobs: &Receiver<(u64, Checkpoint)>,
    mut on_synced: impl FnMut(Synced),
) {
    let mut waiting: VecDeque<(u64, Checkpoint)> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match jobs.recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => return,
            }
        }
        waiting.extend(jobs.try_iter());
        let take = batch_len(writer, &waiting);
        let (seqs, batch): (Vec<u64>, Vec<Checkpoint>) = waiting.drain(..take).unzip();
        let result = writer.apply_batch(&batch);
        let failed = result.is_err();
        on_synced(Synced {
            through: seqs.last().copied().unwrap_or_default(),
            batch: batch.len(),
            result,
        });
        if failed {
            // Nothing after a checkpoint that failed may happen; the actor stops.
            return;
        }
    }
}

/// How many of the waiting checkpoints the next batch takes: all of them, up to [`MAX_BATCH`],
/// except that a batch appends at most one record to each update log (so a power cut can tear
/// only a log's last record; see [`super::batch`]). The next record for the same log waits for
/// the next batch.
pub(super) fn batch_len(writer: &MetaWriter, waiting: &VecDeque<(u64, Checkpoint)>) -> usize {
    let mut logs: HashSet<PathBuf> = HashSet::new();
    let mut take = 0;
    for (_, checkpoint) in waiting.iter().take(MAX_BATCH) {
        if let Checkpoint::Update { .. } = checkpoint {
            if !logs.insert(checkpoint.path(writer.layout())) {
                break;
            }
        }
        take += 1;
    }
    take.max(1)
}
