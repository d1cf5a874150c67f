//! The timer queue: a pure structure keyed by deadline, fed `now` by the clock that owns it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

/// Identifies one scheduled timer, for cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerId(u64);

impl TimerId {
    /// An id no queue hands out (for timers refused by a stopped clock).
    pub(crate) const NONE: TimerId = TimerId(u64::MAX);
}

/// Timers ordered by deadline, then by insertion (so equal deadlines fire in the order they were set).
pub(crate) struct TimerQueue<F> {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    pending: HashMap<u64, F>,
    next_id: u64,
}

impl<F> TimerQueue<F> {
    /// An empty queue.
    pub(crate) fn new() -> TimerQueue<F> {
        TimerQueue {
            heap: BinaryHeap::new(),
            pending: HashMap::new(),
            next_id: 0,
        }
    }

    /// Schedules `fire` at `deadline`.
    pub(crate) fn insert(&mut self, deadline: Instant, fire: F) -> TimerId {
        let id = self.next_id;
        self.next_id += 1;
        self.heap.push(Reverse((deadline, id)));
        self.pending.insert(id, fire);
        TimerId(id)
    }

    /// Removes a timer that has not fired; false if it already fired or was cancelled.
    pub(crate) fn cancel(&mut self, id: TimerId) -> bool {
        // The heap entry stays behind and is skipped when it surfaces.
        self.pending.remove(&id.0).is_some()
    }

    /// Takes every timer due at `now`, in deadline order.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Vec<F> {
        let mut due = Vec::new();
        while let Some(Reverse((deadline, id))) = self.heap.peek().copied() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            if let Some(fire) = self.pending.remove(&id) {
                due.push(fire);
            }
        }
        due
    }

    /// The earliest deadline of a live timer.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, id))) = self.heap.peek().copied() {
            if self.pending.contains_key(&id) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Whether some live timer is due at `now`.
    pub(crate) fn has_due(&mut self, now: Instant) -> bool {
        self.next_deadline().is_some_and(|deadline| deadline <= now)
    }

    /// The number of live timers.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fires_in_deadline_then_insertion_order() {
        let start = Instant::now();
        let mut queue = TimerQueue::new();
        queue.insert(start + Duration::from_secs(2), "b");
        queue.insert(start + Duration::from_secs(1), "a");
        queue.insert(start + Duration::from_secs(2), "c");
        assert_eq!(queue.next_deadline(), Some(start + Duration::from_secs(1)));
        assert!(queue.pop_due(start).is_empty());
        assert!(!queue.has_due(start));
        assert_eq!(queue.pop_due(start + Duration::from_secs(1)), vec!["a"]);
        assert!(queue.has_due(start + Duration::from_secs(5)));
        assert_eq!(
            queue.pop_due(start + Duration::from_secs(5)),
            vec!["b", "c"]
        );
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn cancelled_timers_never_fire() {
        let start = Instant::now();
        let mut queue = TimerQueue::new();
        let first = queue.insert(start, 1);
        queue.insert(start + Duration::from_secs(1), 2);
        assert!(queue.cancel(first));
        assert!(!queue.cancel(first));
        assert_eq!(queue.next_deadline(), Some(start + Duration::from_secs(1)));
        assert_eq!(queue.pop_due(start + Duration::from_secs(1)), vec![2]);
    }
}
