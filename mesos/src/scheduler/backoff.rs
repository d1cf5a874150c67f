//! The (re)registration backoff of the scheduler driver, as Mesos's `sched.cpp`: the first attempt goes
//! out at once; each retry waits a uniformly random time in `[0, cap]`, where `cap` starts at the
//! backoff factor (2 s), doubles per attempt, and never exceeds 1 minute nor a tenth of the
//! framework's failover timeout. Randomness is seeded so tests and simulations replay exactly.

use std::time::Duration;

/// Mesos's `REGISTRATION_BACKOFF_FACTOR`.
pub const DEFAULT_BACKOFF_FACTOR: Duration = Duration::from_secs(2);
/// Mesos's `REGISTRATION_RETRY_INTERVAL_MAX`.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// The shortest cap we use: with a tiny failover timeout Mesos would retry in a busy loop.
pub const MIN_BACKOFF: Duration = Duration::from_millis(10);

/// A seeded registration backoff.
#[derive(Debug, Clone)]
pub struct RegistrationBackoff {
    factor: Duration,
    limit: Duration,
    next_cap: Duration,
    rng: SplitMix64,
}

impl RegistrationBackoff {
    /// A backoff starting at `factor`, capped by `failover_timeout / 10` when that is positive.
    pub fn new(factor: Duration, failover_timeout: Duration, seed: u64) -> RegistrationBackoff {
        let mut limit = MAX_BACKOFF;
        if !failover_timeout.is_zero() {
            limit = limit.min(failover_timeout / 10);
        }
        let limit = limit.max(MIN_BACKOFF);
        RegistrationBackoff {
            factor,
            limit,
            next_cap: factor.min(limit).max(MIN_BACKOFF),
            rng: SplitMix64(seed),
        }
    }

    /// Starts over from the factor (after a successful registration).
    pub fn reset(&mut self) {
        self.next_cap = self.factor.min(self.limit).max(MIN_BACKOFF);
    }

    /// The cap the next delay is drawn under.
    pub fn cap(&self) -> Duration {
        self.next_cap
    }

    /// The wait before the next attempt: uniform in `[0, cap]`; the cap then doubles (up to the limit).
    pub fn next_delay(&mut self) -> Duration {
        let cap = self.next_cap;
        let fraction = (self.rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        self.next_cap = (cap * 2).min(self.limit);
        cap.mul_f64(fraction)
    }
}

/// A tiny seeded generator (SplitMix64): good enough for jitter, no dependency.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_double_up_to_one_minute() {
        let mut backoff = RegistrationBackoff::new(DEFAULT_BACKOFF_FACTOR, Duration::ZERO, 7);
        let mut caps = Vec::new();
        for _ in 0..8 {
            caps.push(backoff.cap().as_secs());
            let cap = backoff.cap();
            assert!(backoff.next_delay() <= cap);
        }
        assert_eq!(caps, [2, 4, 8, 16, 32, 60, 60, 60]);
        backoff.reset();
        assert_eq!(backoff.cap(), Duration::from_secs(2));
    }

    #[test]
    fn failover_timeout_bounds_the_cap() {
        let mut backoff =
            RegistrationBackoff::new(DEFAULT_BACKOFF_FACTOR, Duration::from_secs(30), 1);
        assert_eq!(backoff.cap(), Duration::from_secs(2));
        backoff.next_delay();
        assert_eq!(backoff.cap(), Duration::from_secs(3));
        let tiny = RegistrationBackoff::new(DEFAULT_BACKOFF_FACTOR, Duration::from_millis(1), 1);
        assert_eq!(tiny.cap(), MIN_BACKOFF);
    }

    #[test]
    fn same_seed_same_delays_and_delays_spread() {
        let delays = |seed| {
            let mut b = RegistrationBackoff::new(Duration::from_secs(60), Duration::ZERO, seed);
            (0..32).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(delays(42), delays(42));
        assert_ne!(delays(42), delays(43));
        let spread = delays(5);
        assert!(spread.iter().any(|d| *d < Duration::from_secs(20)));
        assert!(spread.iter().any(|d| *d > Duration::from_secs(40)));
    }
}
