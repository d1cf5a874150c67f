//! Delay scheduling (Zaharia et al., EuroSys 2010), as a pure state machine: no clock, every call
//! carries `now`.
//!
//! The job keeps its pending map tasks grouped by the node holding their block. Given a free slot
//! on `node`:
//! 1. if a pending map's block is on `node`, launch it there (node-local) and restart the wait;
//! 2. else, if the job has gone `locality_wait` without launching a node-local map, launch any
//!    pending map there (remote: it reads its block over the "network");
//! 3. else skip the slot (the caller declines the offer for [`DelayScheduler::remaining_wait`]).
//!
//! The wait is per job, as in the paper's algorithm (a job that keeps launching local tasks keeps
//! its locality; one that has not for `locality_wait` relaxes to any node). A remote launch does
//! not restart the wait: the job stays relaxed until it launches locally again.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Where a map was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On the node that holds its block.
    Local(usize),
    /// On another node (its block is read remotely).
    Remote(usize),
}

impl Placement {
    /// The map's index.
    pub fn map(self) -> usize {
        match self {
            Placement::Local(map) | Placement::Remote(map) => map,
        }
    }

    /// Whether the map runs where its block is.
    pub fn is_local(self) -> bool {
        matches!(self, Placement::Local(_))
    }
}

/// One job's pending maps and its locality wait.
#[derive(Debug, Clone)]
pub struct DelayScheduler {
    locality_wait: Duration,
    /// The wait counts from here: the job's start or its last node-local launch.
    waiting_since: Instant,
    /// Pending maps by the node holding their block, in block order.
    pending: BTreeMap<String, VecDeque<usize>>,
}

impl DelayScheduler {
    /// A job whose maps are `(map index, node holding its block)`, starting at `now`.
    pub fn new<'a>(
        locality_wait: Duration,
        now: Instant,
        maps: impl IntoIterator<Item = (usize, &'a str)>,
    ) -> DelayScheduler {
        let mut scheduler = DelayScheduler {
            locality_wait,
            waiting_since: now,
            pending: BTreeMap::new(),
        };
        for (map, node) in maps {
            scheduler.requeue(map, node);
        }
        scheduler
    }

    /// How many maps wait to be launched.
    pub fn pending(&self) -> usize {
        self.pending.values().map(VecDeque::len).sum()
    }

    /// Whether a pending map's block is on `node`.
    pub fn has_local(&self, node: &str) -> bool {
        self.pending.get(node).is_some_and(|q| !q.is_empty())
    }

    /// Puts a map back (its attempt failed, or its output was lost).
    pub fn requeue(&mut self, map: usize, node: &str) {
        self.pending
            .entry(node.to_string())
            .or_default()
            .push_back(map);
    }

    /// The map to launch in a free slot on `node` at `now`, if any (see the module docs).
    pub fn assign(&mut self, node: &str, now: Instant) -> Option<Placement> {
        if let Some(map) = self.pending.get_mut(node).and_then(VecDeque::pop_front) {
            self.waiting_since = now;
            return Some(Placement::Local(map));
        }
        if self.remaining_wait(now)? > Duration::ZERO {
            return None;
        }
        // Take from the node with the most pending blocks: its own slots are the furthest from
        // draining them, so this steals the least locality from later offers.
        let busiest = self
            .pending
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .max_by(|(a_node, a), (b_node, b)| a.len().cmp(&b.len()).then(b_node.cmp(a_node)))?
            .0
            .clone();
        let map = self.pending.get_mut(&busiest)?.pop_front()?;
        Some(Placement::Remote(map))
    }

    /// How long until a remote launch is allowed: `None` with nothing pending, zero once the job
    /// waited `locality_wait` since its last local launch.
    pub fn remaining_wait(&self, now: Instant) -> Option<Duration> {
        if self.pending() == 0 {
            return None;
        }
        let waited = now.saturating_duration_since(self.waiting_since);
        Some(self.locality_wait.saturating_sub(waited))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn job(wait: Duration, now: Instant, maps: &[(usize, &'static str)]) -> DelayScheduler {
        DelayScheduler::new(wait, now, maps.iter().copied())
    }

    #[test]
    fn a_local_slot_gets_its_local_block_first() {
        let t0 = Instant::now();
        let mut s = job(5 * SEC, t0, &[(0, "a"), (1, "b"), (2, "a")]);
        assert_eq!(s.assign("b", t0), Some(Placement::Local(1)));
        assert_eq!(s.assign("a", t0), Some(Placement::Local(0)));
        assert_eq!(s.assign("a", t0), Some(Placement::Local(2)));
        assert_eq!(s.assign("a", t0 + 60 * SEC), None);
        assert_eq!(s.remaining_wait(t0), None);
    }

    #[test]
    fn a_remote_slot_is_skipped_until_the_wait_expires() {
        let t0 = Instant::now();
        let mut s = job(5 * SEC, t0, &[(0, "a"), (1, "a")]);
        assert_eq!(s.assign("c", t0), None);
        assert_eq!(s.remaining_wait(t0 + SEC), Some(4 * SEC));
        assert_eq!(s.assign("c", t0 + 4 * SEC), None);
        assert_eq!(s.assign("c", t0 + 5 * SEC), Some(Placement::Remote(0)));
        // Still relaxed: a remote launch does not restart the wait.
        assert_eq!(s.assign("c", t0 + 5 * SEC), Some(Placement::Remote(1)));
    }

    #[test]
    fn a_local_launch_restarts_the_wait() {
        let t0 = Instant::now();
        let mut s = job(5 * SEC, t0, &[(0, "a"), (1, "a"), (2, "a")]);
        assert_eq!(s.assign("a", t0 + 4 * SEC), Some(Placement::Local(0)));
        assert_eq!(s.assign("c", t0 + 6 * SEC), None);
        assert_eq!(s.remaining_wait(t0 + 6 * SEC), Some(3 * SEC));
        assert_eq!(s.assign("c", t0 + 9 * SEC), Some(Placement::Remote(1)));
        assert_eq!(s.assign("a", t0 + 9 * SEC), Some(Placement::Local(2)));
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn zero_wait_launches_anywhere_but_still_prefers_local() {
        let t0 = Instant::now();
        let mut s = job(Duration::ZERO, t0, &[(0, "a"), (1, "b")]);
        assert_eq!(s.assign("b", t0), Some(Placement::Local(1)));
        assert_eq!(s.assign("c", t0), Some(Placement::Remote(0)));
        assert_eq!(s.assign("c", t0), None);
    }

    #[test]
    fn remote_slots_take_from_the_node_with_most_pending() {
        let t0 = Instant::now();
        let mut s = job(
            Duration::ZERO,
            t0,
            &[(0, "a"), (1, "b"), (2, "b"), (3, "c")],
        );
        assert_eq!(s.assign("z", t0), Some(Placement::Remote(1)));
        // Ties go to the first node by name.
        assert_eq!(s.assign("z", t0), Some(Placement::Remote(0)));
        assert_eq!(s.assign("z", t0), Some(Placement::Remote(2)));
        assert_eq!(s.assign("z", t0), Some(Placement::Remote(3)));
    }

    #[test]
    fn requeued_maps_are_pending_again() {
        let t0 = Instant::now();
        let mut s = job(SEC, t0, &[(0, "a")]);
        assert_eq!(s.assign("a", t0), Some(Placement::Local(0)));
        assert!(!s.has_local("a"));
        s.requeue(0, "a");
        assert!(s.has_local("a"));
        assert_eq!(s.remaining_wait(t0), Some(SEC));
        assert_eq!(s.assign("a", t0), Some(Placement::Local(0)));
    }
}
