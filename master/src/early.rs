//! [`EarlyRegistrations`]: (re)registrations that reach a standby master just before it learns it
//! was elected.
//!
//! Every agent, scheduler and master watches the same ZooKeeper election, so they all hear of a
//! new leader at about the same moment. A scheduler's re-registration can therefore arrive while
//! the winning master is still applying its own election; a standby drops every message, and the
//! scheduler would only try again after its randomized backoff (up to 2 s by default). Instead the
//! standby keeps the latest (re)registration per sender for a short grace period and replays those
//! when it is elected, so a failover costs one round trip rather than one backoff.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use process::Upid;

use mesos::protocol::{
    RegisterFrameworkMessage, RegisterSlaveMessage, ReregisterFrameworkMessage,
    ReregisterSlaveMessage,
};

use crate::core::MasterCore;

/// How long a standby keeps a registration for a possible election: longer than the moment
/// between ZooKeeper's notice reaching the sender and reaching this master, far shorter than any
/// sender's retry chain.
pub(crate) const EARLY_GRACE: Duration = Duration::from_secs(2);

/// A (re)registration that arrived before this master led.
#[derive(Debug, Clone)]
pub(crate) enum Registration {
    /// `RegisterFrameworkMessage`.
    Framework(RegisterFrameworkMessage),
    /// `ReregisterFrameworkMessage`.
    ReregisterFramework(ReregisterFrameworkMessage),
    /// `RegisterSlaveMessage`.
    Agent(RegisterSlaveMessage),
    /// `ReregisterSlaveMessage`.
    ReregisterAgent(ReregisterSlaveMessage),
}

impl Registration {
    /// Hands the message to the core as if it had just arrived from `from`.
    pub(crate) fn apply(self, core: &mut MasterCore, now: Instant, from: &Upid) {
        match self {
            Registration::Framework(m) => core.register_framework(now, from, m),
            Registration::ReregisterFramework(m) => core.reregister_framework(now, from, m),
            Registration::Agent(m) => core.register_agent(now, from, m),
            Registration::ReregisterAgent(m) => core.reregister_agent(now, from, m),
        }
    }
}

/// The latest registration per sender, with when it arrived.
#[derive(Debug, Default)]
pub(crate) struct EarlyRegistrations {
    by_sender: HashMap<Upid, (Instant, u64, Registration)>,
    /// Every keep in arrival order (sender, arrival number), for expiry in O(1) per entry; an
    /// entry whose sender has kept a newer registration since is skipped.
    order: VecDeque<(Instant, u64, Upid)>,
    /// Arrival counter: replay keeps the arrival order.
    arrivals: u64,
}

impl EarlyRegistrations {
    /// Keeps `registration` from `from` (replacing an earlier one of that sender) and forgets
    /// those older than [`EARLY_GRACE`], so a master that stays a standby holds little.
    pub(crate) fn keep(&mut self, now: Instant, from: &Upid, registration: Registration) {
        self.forget_stale(now);
        self.arrivals += 1;
        self.order.push_back((now, self.arrivals, from.clone()));
        self.by_sender
            .insert(from.clone(), (now, self.arrivals, registration));
    }

    /// Takes the registrations younger than [`EARLY_GRACE`], in arrival order.
    pub(crate) fn take_fresh(&mut self, now: Instant) -> Vec<(Upid, Registration)> {
        self.forget_stale(now);
        self.order.clear();
        let mut fresh: Vec<_> = self.by_sender.drain().collect();
        fresh.sort_by_key(|(_, (_, arrival, _))| *arrival);
        fresh
            .into_iter()
            .map(|(from, (_, _, registration))| (from, registration))
            .collect()
    }

    /// How many are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_sender.len()
    }

    fn forget_stale(&mut self, now: Instant) {
        while let Some((at, arrival, _)) = self.order.front() {
            if now.saturating_duration_since(*at) <= EARLY_GRACE {
                break;
            }
            let arrival = *arrival;
            if let Some((_, _, sender)) = self.order.pop_front() {
                if self
                    .by_sender
                    .get(&sender)
                    .is_some_and(|(_, a, _)| *a == arrival)
                {
                    self.by_sender.remove(&sender);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos::FrameworkInfo;

    fn reregister(name: &str) -> Registration {
        Registration::ReregisterFramework(ReregisterFrameworkMessage {
            framework: FrameworkInfo::new("", name),
            failover: false,
            suppressed_roles: Vec::new(),
        })
    }

    fn name(r: &Registration) -> String {
        match r {
            Registration::ReregisterFramework(m) => m.framework.name.clone(),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Any base instant will do: the tests only move it forward explicitly.
    #[allow(clippy::disallowed_methods)]
    fn base() -> Instant {
        Instant::now()
    }

    #[test]
    fn keeps_the_latest_per_sender_in_arrival_order() {
        let t0 = base();
        let mut early = EarlyRegistrations::default();
        early.keep(t0, &"s1@127.0.0.1:1".parse().unwrap(), reregister("a"));
        early.keep(t0, &"s2@127.0.0.1:1".parse().unwrap(), reregister("b"));
        early.keep(t0, &"s1@127.0.0.1:1".parse().unwrap(), reregister("c"));
        assert_eq!(early.len(), 2);
        let fresh = early.take_fresh(t0 + Duration::from_millis(10));
        let got: Vec<_> = fresh
            .iter()
            .map(|(f, r)| (f.to_string(), name(r)))
            .collect();
        assert_eq!(
            got,
            [
                ("s2@127.0.0.1:1".to_string(), "b".to_string()),
                ("s1@127.0.0.1:1".to_string(), "c".to_string())
            ]
        );
        assert_eq!(early.len(), 0);
    }

    #[test]
    fn forgets_registrations_older_than_the_grace() {
        let t0 = base();
        let mut early = EarlyRegistrations::default();
        early.keep(t0, &"old@127.0.0.1:1".parse().unwrap(), reregister("old"));
        let later = t0 + EARLY_GRACE + Duration::from_millis(1);
        early.keep(
            later,
            &"new@127.0.0.1:1".parse().unwrap(),
            reregister("new"),
        );
        let fresh = early.take_fresh(later);
        assert_eq!(fresh.len(), 1);
        assert_eq!(name(&fresh[0].1), "new");
        // Nothing kept survives a long wait either.
        early.keep(later, &"x@127.0.0.1:1".parse().unwrap(), reregister("x"));
        assert!(early.take_fresh(later + EARLY_GRACE * 2).is_empty());
    }
}
