//! [`MasterLink`]: the agent's view of its master — registration with backoff, and noticing a master
//! that stopped pinging. Pure: `now` in, what to send out.

use std::time::{Duration, Instant};

use mesos::AgentId;

/// Mesos's `REGISTRATION_BACKOFF_FACTOR`: the first retry wait.
pub const DEFAULT_REGISTRATION_BACKOFF: Duration = Duration::from_secs(1);
/// Mesos's `REGISTER_RETRY_INTERVAL_MAX`: the longest wait between registration attempts.
pub const REGISTRATION_RETRY_MAX: Duration = Duration::from_secs(60);
/// Mesos's default `max_agent_ping_timeouts`: pings the master may miss before either side gives up.
pub const DEFAULT_MAX_PING_TIMEOUTS: u32 = 5;

/// What the agent should send to the master now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    /// Send a `RegisterSlaveMessage` (first registration).
    Register,
    /// Send a `ReregisterSlaveMessage` with everything the agent runs.
    Reregister,
}

/// Where the agent stands with its master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Trying to (re)register; the next attempt is due at `retry_at`.
    Registering {
        /// When to send the next attempt.
        retry_at: Instant,
        /// The wait after that attempt.
        backoff: Duration,
    },
    /// Registered; the master must ping by `deadline` or it is considered gone.
    Registered {
        /// When the master is considered gone without a ping.
        deadline: Instant,
    },
}

/// The registration state machine.
#[derive(Debug, Clone)]
pub struct MasterLink {
    state: LinkState,
    agent_id: Option<AgentId>,
    backoff_factor: Duration,
    max_ping_timeouts: u32,
    /// The master's total ping timeout (ping interval × allowed misses).
    master_timeout: Duration,
}

impl MasterLink {
    /// A link that registers at once (`now`), retrying after `backoff_factor`, doubling up to a
    /// minute; a registered master that misses `max_ping_timeouts` pings is considered gone.
    pub fn new(now: Instant, backoff_factor: Duration, max_ping_timeouts: u32) -> MasterLink {
        MasterLink {
            state: LinkState::Registering {
                retry_at: now,
                backoff: backoff_factor,
            },
            agent_id: None,
            backoff_factor,
            max_ping_timeouts: max_ping_timeouts.max(1),
            master_timeout: Duration::from_secs(15) * max_ping_timeouts.max(1),
        }
    }

    /// The current state.
    pub fn state(&self) -> &LinkState {
        &self.state
    }

    /// The id the master gave this agent, once registered.
    pub fn agent_id(&self) -> Option<&AgentId> {
        self.agent_id.as_ref()
    }

    /// Whether the agent is registered with a live master.
    pub fn is_registered(&self) -> bool {
        matches!(self.state, LinkState::Registered { .. })
    }

    fn attempt(&self) -> LinkAction {
        if self.agent_id.is_some() {
            LinkAction::Reregister
        } else {
            LinkAction::Register
        }
    }

    /// The master (re)registered the agent with id `agent_id`; it pings every `ping_timeout`.
    /// Returns false (and changes nothing) for a different id than the one already held.
    pub fn registered(&mut self, now: Instant, agent_id: AgentId, ping_timeout: Duration) -> bool {
        if let Some(known) = &self.agent_id {
            if known != &agent_id {
                return false;
            }
        }
        self.agent_id = Some(agent_id);
        if !ping_timeout.is_zero() {
            self.master_timeout = ping_timeout * self.max_ping_timeouts;
        }
        self.state = LinkState::Registered {
            deadline: now + self.master_timeout,
        };
        true
    }

    /// A ping arrived: the master is alive.
    pub fn pinged(&mut self, now: Instant) {
        if let LinkState::Registered { deadline } = &mut self.state {
            *deadline = now + self.master_timeout;
        }
    }

    /// The connection to the master broke (or it was replaced): re-register right away.
    pub fn master_lost(&mut self, now: Instant) -> LinkAction {
        self.state = LinkState::Registering {
            retry_at: now + self.backoff_factor,
            backoff: self.backoff_factor,
        };
        self.attempt()
    }

    /// Recovery found this agent's id on disk: the first attempt will be a re-registration.
    pub fn recovered(&mut self, agent_id: AgentId) {
        self.agent_id = Some(agent_id);
    }

    /// Registers (or re-registers) from `now` on: after recovery, which holds registration back.
    pub fn start(&mut self, now: Instant) {
        self.state = LinkState::Registering {
            retry_at: now,
            backoff: self.backoff_factor,
        };
    }

    /// The master told this agent to go away (`ShutdownMessage`): forget the id and register anew.
    pub fn forget(&mut self, now: Instant) {
        self.agent_id = None;
        self.state = LinkState::Registering {
            retry_at: now,
            backoff: self.backoff_factor,
        };
    }

    /// Time-driven work: a (re)registration attempt that is due, or a master that stopped pinging
    /// (which starts re-registration). Returns what to send, if anything.
    pub fn tick(&mut self, now: Instant) -> Option<LinkAction> {
        match self.state {
            LinkState::Registering { retry_at, backoff } if retry_at <= now => {
                let next = (backoff * 2).min(REGISTRATION_RETRY_MAX);
                self.state = LinkState::Registering {
                    retry_at: now + backoff,
                    backoff: next,
                };
                Some(self.attempt())
            }
            LinkState::Registered { deadline } if deadline <= now => Some(self.master_lost(now)),
            _ => None,
        }
    }

    /// When [`tick`](Self::tick) next has something to do.
    pub fn poll_timeout(&self) -> Instant {
        match self.state {
            LinkState::Registering { retry_at, .. } => retry_at,
            LinkState::Registered { deadline } => deadline,
        }
    }

    /// The total time without pings after which the master is considered gone.
    pub fn master_timeout(&self) -> Duration {
        self.master_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn registration_retries_with_doubling_backoff_capped_at_a_minute() {
        let t0 = Instant::now();
        let mut link = MasterLink::new(t0, S, 5);
        assert_eq!(link.tick(t0), Some(LinkAction::Register));
        assert_eq!(link.tick(t0), None);
        let mut at = t0;
        let mut waits = Vec::new();
        for _ in 0..9 {
            let next = link.poll_timeout();
            waits.push((next - at).as_secs());
            at = next;
            assert_eq!(link.tick(at), Some(LinkAction::Register));
        }
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn a_silent_master_is_given_up_after_the_ping_timeouts_then_reregistration() {
        let t0 = Instant::now();
        let mut link = MasterLink::new(t0, S, 5);
        link.tick(t0);
        assert!(link.registered(t0, AgentId::new("a"), Duration::from_secs(15)));
        assert_eq!(link.master_timeout(), Duration::from_secs(75));
        link.pinged(t0 + Duration::from_secs(60));
        assert_eq!(link.tick(t0 + Duration::from_secs(100)), None);
        assert_eq!(
            link.tick(t0 + Duration::from_secs(135)),
            Some(LinkAction::Reregister)
        );
        assert!(!link.is_registered());
        // Retries continue with backoff until the master answers.
        let next = link.poll_timeout();
        assert_eq!(link.tick(next), Some(LinkAction::Reregister));
        assert!(link.registered(next, AgentId::new("a"), Duration::from_secs(15)));
        assert!(link.is_registered());
    }

    #[test]
    fn a_broken_connection_reregisters_and_shutdown_forgets_the_id() {
        let t0 = Instant::now();
        let mut link = MasterLink::new(t0, S, 5);
        link.tick(t0);
        link.registered(t0, AgentId::new("a"), Duration::from_secs(15));
        assert_eq!(link.master_lost(t0), LinkAction::Reregister);
        assert!(!link.registered(t0, AgentId::new("other"), Duration::from_secs(15)));
        link.forget(t0);
        assert_eq!(link.agent_id(), None);
        assert_eq!(link.tick(t0), Some(LinkAction::Register));
    }
}
