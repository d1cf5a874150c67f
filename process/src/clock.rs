//! The per-runtime [`Clock`]: every time the runtime reads, and every timer it fires.
//!
//! Like libprocess's `Clock`, a test can [`pause`](Clock::pause) time, [`advance`](Clock::advance) it,
//! and [`settle`](Clock::settle) until the consequences have played out, so timeout logic is tested
//! without sleeping. Each runtime owns its clock: two runtimes in one test binary keep separate time.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::timers::{TimerId, TimerQueue};

/// A timer callback; runs on the runtime's timer thread and must only enqueue work.
pub(crate) type Fire = Box<dyn FnOnce() + Send>;

/// Tells whether no process is scheduled or running: every worker parked, nothing queued. The
/// scheduler implements it; a clock without workers (unit tests) uses `()`.
pub(crate) trait Quiescence: Send + Sync {
    fn is_quiet(&self) -> bool;
}

impl Quiescence for () {
    fn is_quiet(&self) -> bool {
        true
    }
}

struct ClockState {
    /// The frozen time while paused.
    paused_at: Option<Instant>,
    /// Total time advanced, added to the real time while running (libprocess keeps advanced time
    /// after `resume`, so deadlines computed while paused stay consistent).
    offset: Duration,
    timers: TimerQueue<Fire>,
    /// Timer callbacks taken from the queue but not yet run; settle waits for them.
    firing: usize,
    /// Bumped by every new timer, so settle can tell that none was set while it looked.
    generation: u64,
    stopped: bool,
}

impl ClockState {
    fn now(&self) -> Instant {
        match self.paused_at {
            Some(at) => at,
            None => Instant::now() + self.offset,
        }
    }
}

pub(crate) struct ClockInner {
    state: Mutex<ClockState>,
    /// Wakes the timer thread: a new earliest timer, an advance, a resume, a stop.
    changed: Condvar,
    workers: Arc<dyn Quiescence>,
}

/// A runtime's time source and timer service. Get it with [`Handle::clock`](crate::Handle::clock).
pub struct Clock {
    inner: Arc<ClockInner>,
}

/// A scheduled delay; [`Timer::cancel`] stops it from firing. Dropping the handle does not cancel.
#[derive(Debug, Clone)]
pub struct Timer {
    id: TimerId,
    clock: Weak<ClockInner>,
}

impl Timer {
    /// Cancels the timer; true if it had not fired yet (so its closure will never run).
    pub fn cancel(&self) -> bool {
        match self.clock.upgrade() {
            Some(clock) => clock.state.lock().timers.cancel(self.id),
            None => false,
        }
    }
}

impl Clock {
    pub(crate) fn new(workers: Arc<dyn Quiescence>) -> Clock {
        Clock {
            inner: Arc::new(ClockInner {
                state: Mutex::new(ClockState {
                    paused_at: None,
                    offset: Duration::ZERO,
                    timers: TimerQueue::new(),
                    firing: 0,
                    generation: 0,
                    stopped: false,
                }),
                changed: Condvar::new(),
                workers,
            }),
        }
    }

    /// The current time of this runtime: real time plus everything advanced, or the frozen time while
    /// paused.
    pub fn now(&self) -> Instant {
        self.inner.state.lock().now()
    }

    /// Freezes time (idempotent). Timers then fire only when [`Clock::advance`] moves time past them.
    pub fn pause(&self) {
        let mut state = self.inner.state.lock();
        if state.paused_at.is_none() {
            state.paused_at = Some(Instant::now() + state.offset);
        }
    }

    /// Whether time is frozen.
    pub fn is_paused(&self) -> bool {
        self.inner.state.lock().paused_at.is_some()
    }

    /// Moves time forward by `by` and fires the timers that become due (on the timer thread; call
    /// [`Clock::settle`] to wait for them and what they cause). Works paused or not.
    pub fn advance(&self, by: Duration) {
        let mut state = self.inner.state.lock();
        state.offset += by;
        if let Some(at) = state.paused_at.as_mut() {
            *at += by;
        }
        drop(state);
        self.inner.changed.notify_all();
    }

    /// Lets time run again; everything advanced while paused stays added to the real time.
    pub fn resume(&self) {
        let mut state = self.inner.state.lock();
        state.paused_at = None;
        drop(state);
        self.inner.changed.notify_all();
    }

    /// Blocks until every process of the runtime is idle (no message, dispatch or control event
    /// queued or running) and no timer is due, at one consistent instant.
    ///
    /// Messages still in flight on the network are not seen; settle after they have arrived (e.g.
    /// await them with [`Filters`](crate::Filters)). Calling this from inside a process never
    /// returns (that process is busy).
    pub fn settle(&self) {
        let mut spins = 0u32;
        loop {
            let (before, timers_quiet) = {
                let mut state = self.inner.state.lock();
                let now = state.now();
                (
                    state.generation,
                    state.firing == 0 && !state.timers.has_due(now),
                )
            };
            let workers_quiet = timers_quiet && self.inner.workers.is_quiet();
            let after = self.inner.state.lock().generation;
            // Timers quiet, then workers quiet, and no timer set in between: a process that was still
            // running when we looked at the timers could only have set one by bumping the generation.
            if workers_quiet && before == after {
                return;
            }
            spins += 1;
            if spins < 64 {
                std::thread::yield_now();
            } else {
                // Back off: a long batch of work is running.
                std::thread::park_timeout(Duration::from_micros(200));
            }
        }
    }

    /// The number of timers not yet fired or cancelled.
    pub fn pending_timers(&self) -> usize {
        self.inner.state.lock().timers.len()
    }

    /// Schedules `fire` to run on the timer thread once `after` has elapsed on this clock.
    pub(crate) fn schedule(&self, after: Duration, fire: Fire) -> Timer {
        let mut state = self.inner.state.lock();
        if state.stopped {
            // The runtime is gone: the closure (and whatever it holds) is dropped unrun.
            drop(state);
            drop(fire);
            return Timer {
                id: TimerId::NONE,
                clock: Weak::new(),
            };
        }
        let deadline = state.now() + after;
        state.generation += 1;
        let earliest = state.timers.next_deadline();
        let id = state.timers.insert(deadline, fire);
        drop(state);
        if earliest.is_none_or(|earliest| deadline < earliest) {
            self.inner.changed.notify_all();
        }
        Timer {
            id,
            clock: Arc::downgrade(&self.inner),
        }
    }

    /// The timer thread's loop: fire due timers, then sleep until the next deadline (or, while paused,
    /// until time is advanced). Returns after [`Clock::stop`].
    pub(crate) fn run_timers(&self) {
        let mut state = self.inner.state.lock();
        loop {
            if state.stopped {
                return;
            }
            let now = state.now();
            let due = state.timers.pop_due(now);
            if !due.is_empty() {
                state.firing += 1;
                drop(state);
                for fire in due {
                    fire();
                }
                state = self.inner.state.lock();
                state.firing -= 1;
                continue;
            }
            match (state.paused_at, state.timers.next_deadline()) {
                (None, Some(deadline)) => {
                    let wait = deadline.saturating_duration_since(now);
                    self.inner.changed.wait_for(&mut state, wait);
                }
                _ => self.inner.changed.wait(&mut state),
            }
        }
    }

    /// Stops the timer thread and drops every pending timer.
    pub(crate) fn stop(&self) {
        let dropped = {
            let mut state = self.inner.state.lock();
            state.stopped = true;
            std::mem::replace(&mut state.timers, TimerQueue::new())
        };
        self.inner.changed.notify_all();
        // Timer closures may hold process cells; drop them outside the lock.
        drop(dropped);
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("paused", &self.is_paused())
            .field("pending_timers", &self.pending_timers())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn paused_time_moves_only_when_advanced() {
        let clock = Clock::new(Arc::new(()));
        clock.pause();
        let frozen = clock.now();
        assert_eq!(clock.now(), frozen);
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.now(), frozen + Duration::from_secs(10));
        clock.resume();
        assert!(clock.now() >= frozen + Duration::from_secs(10));
    }

    #[test]
    fn timers_fire_on_advance_and_settle_waits_for_them() {
        let clock = Arc::new(Clock::new(Arc::new(())));
        clock.pause();
        let thread = {
            let clock = clock.clone();
            std::thread::spawn(move || clock.run_timers())
        };
        let fired = Arc::new(AtomicUsize::new(0));
        for secs in [1, 2, 3] {
            let fired = fired.clone();
            clock.schedule(
                Duration::from_secs(secs),
                Box::new(move || {
                    fired.fetch_add(1, Ordering::SeqCst);
                }),
            );
        }
        let cancelled = clock.schedule(Duration::from_secs(1), Box::new(|| panic!("cancelled")));
        assert!(cancelled.cancel());
        clock.settle();
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        clock.advance(Duration::from_secs(2));
        clock.settle();
        assert_eq!(fired.load(Ordering::SeqCst), 2);
        assert_eq!(clock.pending_timers(), 1);
        clock.stop();
        thread.join().unwrap();
        assert_eq!(clock.pending_timers(), 0);
    }
}
