//! A short trace of the latest events, kept cheaply (no formatting until a violation asks).

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use crate::world::NodeKey;

/// How many events a failure report shows.
pub const TRACE_LEN: usize = 40;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceKind {
    /// A message was delivered.
    Deliver,
    /// A message was dropped by a lossy window.
    Dropped,
    /// A message was cut by a partition.
    Blocked,
    /// A link reported `exited`.
    Exited,
    /// A fault struck.
    Fault,
    /// A partition healed.
    Heal,
    /// A node crashed.
    Crash,
    /// A node started or restarted.
    Start,
    /// A master was elected.
    Elected,
    /// A scheduler heard a status update.
    Update,
    /// The run changed phase.
    Phase,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    at: Duration,
    kind: TraceKind,
    from: Option<NodeKey>,
    to: Option<NodeKey>,
    what: &'static str,
}

/// The latest [`TRACE_LEN`] entries and a running hash of all of them.
#[derive(Debug, Default)]
pub struct Trace {
    entries: VecDeque<Entry>,
    hasher: Fnv,
}

#[derive(Debug)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl Trace {
    /// Records one entry.
    pub fn note(
        &mut self,
        at: Duration,
        kind: TraceKind,
        from: Option<NodeKey>,
        to: Option<NodeKey>,
        what: &'static str,
    ) {
        (at, kind, from, to, what).hash(&mut self.hasher);
        if self.entries.len() == TRACE_LEN {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry {
            at,
            kind,
            from,
            to,
            what,
        });
    }

    /// The hash of every entry recorded.
    pub fn hash(&self) -> u64 {
        self.hasher.finish()
    }

    /// The latest entries, one line each.
    pub fn render(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| {
                let node = |n: Option<NodeKey>| match n {
                    Some(NodeKey::Master(i)) => format!("master{i}"),
                    Some(NodeKey::Agent(i)) => format!("agent{i}"),
                    Some(NodeKey::Scheduler(i)) => format!("scheduler{i}"),
                    Some(NodeKey::Executor(n)) => format!("executor{n}"),
                    None => "-".into(),
                };
                format!(
                    "{:>9.3}s {:?} {} -> {} {}",
                    e.at.as_secs_f64(),
                    e.kind,
                    node(e.from),
                    node(e.to),
                    e.what
                )
            })
            .collect()
    }
}
