//! The pluggable allocation module: the [`Allocator`] trait and the values it exchanges.

use mesos::resources::Resources;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Mesos's default `allocation_interval`: one batch allocation per second.
pub const DEFAULT_ALLOCATION_INTERVAL: Duration = Duration::from_secs(1);

/// Mesos's default `Filters.refuse_seconds`, also used for negative values.
pub const DEFAULT_REFUSE_SECONDS: f64 = 5.0;

/// The longest refusal Mesos honours (365 days); longer ones are cut to this.
pub const MAX_REFUSE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// One offer to make: everything `framework` may use on `agent` in `role` this cycle.
///
/// The master turns each grant into one `Offer`. Ids are shared strings so that producing tens of
/// thousands of grants per cycle allocates only the resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferGrant {
    /// The framework the resources are offered to.
    pub framework: Arc<str>,
    /// The role the framework receives them in (the resources are charged to it).
    pub role: Arc<str>,
    /// The agent the resources live on.
    pub agent: Arc<str>,
    /// The offered resources (unreserved ones plus reservations usable by `role`).
    pub resources: Resources,
}

/// How a framework subscribes: its roles, which of them are suppressed, and whether it is active.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameworkOptions {
    /// The roles the framework receives offers in (MULTI_ROLE); usually one.
    pub roles: Vec<String>,
    /// Roles in which the framework starts suppressed (the driver sends these on SUBSCRIBE so that
    /// suppression survives re-registration).
    pub suppressed_roles: Vec<String>,
    /// Whether the framework is connected and can be offered resources now.
    pub active: bool,
}

impl FrameworkOptions {
    /// An active framework in one role, not suppressed.
    pub fn role(role: impl Into<String>) -> Self {
        Self {
            roles: vec![role.into()],
            suppressed_roles: Vec::new(),
            active: true,
        }
    }

    /// An active framework in several roles, none suppressed.
    pub fn roles<I, S>(roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            roles: roles.into_iter().map(Into::into).collect(),
            suppressed_roles: Vec::new(),
            active: true,
        }
    }
}

/// Resources already in use on an agent when it is added (an agent re-registering with running
/// tasks after a master failover).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsedResources {
    /// The framework running the tasks.
    pub framework: String,
    /// The role the resources were allocated in.
    pub role: String,
    /// The resources in use.
    pub resources: Resources,
}

/// Errors of the allocator API; each names what the caller got wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AllocatorError {
    /// The framework id is not known (never added, or removed).
    #[error("unknown framework {0}")]
    UnknownFramework(String),
    /// A framework with this id was already added.
    #[error("framework {0} is already added")]
    FrameworkExists(String),
    /// The agent id is not known (never added, or removed).
    #[error("unknown agent {0}")]
    UnknownAgent(String),
    /// An agent with this id was already added.
    #[error("agent {0} is already added")]
    AgentExists(String),
    /// The role name is not a valid Mesos role.
    #[error("invalid role {0:?}")]
    InvalidRole(String),
    /// The framework does not hold this role.
    #[error("framework {framework} is not subscribed to role {role}")]
    NotSubscribed {
        /// The framework id.
        framework: String,
        /// The role it does not hold.
        role: String,
    },
    /// A role weight must be positive and finite.
    #[error("invalid weight {weight} for role {role}: weights must be positive and finite")]
    InvalidWeight {
        /// The role.
        role: String,
        /// The rejected weight.
        weight: f64,
    },
    /// Recovering resources that are not allocated there (recovered twice, or never offered).
    #[error(
        "cannot recover {resources} on agent {agent} for framework {framework}: not allocated"
    )]
    NotAllocated {
        /// The framework id.
        framework: String,
        /// The agent id.
        agent: String,
        /// The resources that were to be recovered, in text form.
        resources: String,
    },
    /// An agent's new total must still hold what is allocated on it.
    #[error(
        "new total {total} of agent {agent} does not contain its allocated resources {allocated}"
    )]
    TotalBelowAllocation {
        /// The agent id.
        agent: String,
        /// The rejected total, in text form.
        total: String,
        /// What is allocated on the agent, in text form.
        allocated: String,
    },
}

/// Converts a `Filters.refuse_seconds` value into a filter duration, as Mesos does: 0 means no
/// filter, a negative or NaN value means the 5 s default, anything over 365 days is cut to 365 days.
pub fn refuse_duration(refuse_seconds: f64) -> Option<Duration> {
    if refuse_seconds == 0.0 {
        return None;
    }
    let secs = if refuse_seconds.is_nan() || refuse_seconds < 0.0 {
        DEFAULT_REFUSE_SECONDS
    } else {
        refuse_seconds
    };
    Some(Duration::try_from_secs_f64(secs).map_or(MAX_REFUSE, |d| d.min(MAX_REFUSE)))
}

/// The pluggable allocation module (Mesos's `Allocator` interface), as a pure core.
///
/// Every method is synchronous; none reads a clock, spawns a thread or does I/O. Time comes in as
/// `now`. The caller (the master's allocator actor) drives it like this:
///
/// 1. feed every event (framework and agent lifecycle, declines, suppress/revive) as it happens;
/// 2. after handling a burst of events, call [`Allocator::poll`] with the current time: it runs the
///    periodic batch over all agents when [`Allocator::poll_timeout`] has elapsed, otherwise the
///    coalesced event-triggered run over only the triggered agents (a new agent; all agents for a
///    new or activated framework or a revive), otherwise nothing;
/// 3. arm one timer for [`Allocator::poll_timeout`] and call `poll` again when it fires.
///
/// A burst of triggering events therefore costs one run, exactly like Mesos's coalesced dispatch.
pub trait Allocator {
    /// Adds a framework (Mesos `addFramework`). Triggers an allocation on all agents if active.
    ///
    /// # Errors
    /// [`AllocatorError::FrameworkExists`], or [`AllocatorError::InvalidRole`].
    fn add_framework(&mut self, id: &str, options: FrameworkOptions) -> Result<(), AllocatorError>;

    /// Removes a framework: its filters go, and its allocations stop counting in the sorters.
    ///
    /// As in Mesos, the resources stay allocated on their agents until the caller returns them
    /// with [`Allocator::recover_resources`] (the master recovers every offer and task of a
    /// removed framework), which accepts frameworks that are no longer known.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownFramework`].
    fn remove_framework(&mut self, id: &str) -> Result<(), AllocatorError>;

    /// Changes a framework's roles and suppressed roles (Mesos `updateFramework`). Allocations in
    /// a dropped role stay charged to it until recovered. Does not trigger an allocation.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownFramework`], or [`AllocatorError::InvalidRole`].
    fn update_framework(
        &mut self,
        id: &str,
        options: FrameworkOptions,
    ) -> Result<(), AllocatorError>;

    /// Marks a framework connected again; triggers an allocation on all agents.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownFramework`].
    fn activate_framework(&mut self, id: &str) -> Result<(), AllocatorError>;

    /// Marks a framework disconnected: it is offered nothing and all its filters are cleared.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownFramework`].
    fn deactivate_framework(&mut self, id: &str) -> Result<(), AllocatorError>;

    /// Adds an agent with its total resources and the resources already used on it. Used
    /// resources of known frameworks are charged to them; those of frameworks not (yet) known are
    /// only unavailable. Triggers an allocation on this agent.
    ///
    /// # Errors
    /// [`AllocatorError::AgentExists`], or [`AllocatorError::TotalBelowAllocation`] if `used` does
    /// not fit in `total`.
    fn add_agent_with_used(
        &mut self,
        id: &str,
        total: Resources,
        used: &[UsedResources],
    ) -> Result<(), AllocatorError>;

    /// Adds an idle agent; see [`Allocator::add_agent_with_used`].
    ///
    /// # Errors
    /// [`AllocatorError::AgentExists`].
    fn add_agent(&mut self, id: &str, total: Resources) -> Result<(), AllocatorError> {
        self.add_agent_with_used(id, total, &[])
    }

    /// Removes an agent: its resources disappear from allocation and from the totals.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownAgent`].
    fn remove_agent(&mut self, id: &str) -> Result<(), AllocatorError>;

    /// Replaces an agent's total resources (Mesos `updateSlave`); triggers an allocation on it if
    /// the total changed. Refusal filters on the agent are kept.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownAgent`], or [`AllocatorError::TotalBelowAllocation`].
    fn update_agent(&mut self, id: &str, total: Resources) -> Result<(), AllocatorError>;

    /// Makes a (re)connected agent eligible for allocation again.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownAgent`].
    fn activate_agent(&mut self, id: &str) -> Result<(), AllocatorError>;

    /// Excludes a disconnected agent from allocation; its allocations stay.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownAgent`].
    fn deactivate_agent(&mut self, id: &str) -> Result<(), AllocatorError>;

    /// Returns resources to the pool: a declined offer, the unused part of an accepted one, a
    /// rescinded offer, or a finished task's resources (Mesos `recoverResources`).
    ///
    /// `refuse_seconds` is the caller's `Filters.refuse_seconds`: `None` creates no filter (rescinds,
    /// finished tasks), `Some(s)` is normalised by [`refuse_duration`]. A filter lasts
    /// `max(refuse, allocation_interval)` from `now` and blocks offers to this framework, in this
    /// role, on this agent, that are a subset of `resources`. Recovering on a removed agent is a
    /// no-op. Does not trigger an allocation: the resources wait for the next batch.
    ///
    /// # Errors
    /// [`AllocatorError::NotAllocated`] if `resources` are not allocated to the framework there, or
    /// [`AllocatorError::NotSubscribed`] for a role the framework never held.
    #[allow(clippy::too_many_arguments)]
    fn recover_resources(
        &mut self,
        framework: &str,
        role: &str,
        agent: &str,
        resources: &Resources,
        refuse_seconds: Option<f64>,
        now: Instant,
    ) -> Result<(), AllocatorError>;

    /// Asks for an event-triggered run on this agent (served by the next [`Allocator::poll`]).
    /// The master calls it a moment after a finished task's resources came back, so a framework
    /// waiting for them need not wait for the next batch. Does nothing for a removed agent.
    fn trigger_allocation(&mut self, agent: &str);

    /// Stops offers to the framework in `roles` (all its roles when empty). It keeps its
    /// allocations and filters. Does not trigger an allocation.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownFramework`], or [`AllocatorError::NotSubscribed`].
    fn suppress_offers(&mut self, framework: &str, roles: &[&str]) -> Result<(), AllocatorError>;

    /// Resumes offers in `roles` (all when empty), clearing the framework's filters in them, and
    /// triggers an allocation on all agents. Redundant revives are harmless.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownFramework`], or [`AllocatorError::NotSubscribed`].
    fn revive_offers(&mut self, framework: &str, roles: &[&str]) -> Result<(), AllocatorError>;

    /// Records a framework's resource request. Like Mesos's hierarchical allocator this is only
    /// kept as a hint (see [`HierarchicalAllocator::requests`](crate::HierarchicalAllocator::requests));
    /// it does not change offers.
    ///
    /// # Errors
    /// [`AllocatorError::UnknownFramework`].
    fn request_resources(
        &mut self,
        framework: &str,
        requests: Vec<Resources>,
    ) -> Result<(), AllocatorError>;

    /// Sets role weights (default 1.0). Does not trigger an allocation; the master rescinds
    /// outstanding offers so that the new weights take effect.
    ///
    /// # Errors
    /// [`AllocatorError::InvalidWeight`] or [`AllocatorError::InvalidRole`]; no weight is applied
    /// then.
    fn update_weights(&mut self, weights: &[(&str, f64)]) -> Result<(), AllocatorError>;

    /// Runs one batch allocation over all active agents now and returns the offers to make.
    fn allocate(&mut self, now: Instant) -> Vec<OfferGrant>;

    /// Runs the coalesced event-triggered allocation over only the agents triggered since the
    /// last run (empty when nothing was triggered).
    fn allocate_triggered(&mut self, now: Instant) -> Vec<OfferGrant>;

    /// Whether events have triggered an allocation that has not run yet.
    fn has_pending_trigger(&self) -> bool;

    /// How long until [`Allocator::poll`] has work: zero when a trigger is pending or the batch is
    /// due (also before the first batch), otherwise the time left until the next batch.
    fn poll_timeout(&self, now: Instant) -> Duration;

    /// Runs whatever is due at `now`: the periodic batch if its time has come (this also serves
    /// pending triggers), else the triggered run, else nothing.
    fn poll(&mut self, now: Instant) -> Vec<OfferGrant>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuse_seconds_normalisation() {
        assert_eq!(refuse_duration(0.0), None);
        assert_eq!(refuse_duration(-1.0), Some(Duration::from_secs(5)));
        assert_eq!(refuse_duration(f64::NAN), Some(Duration::from_secs(5)));
        assert_eq!(refuse_duration(0.5), Some(Duration::from_millis(500)));
        assert_eq!(refuse_duration(1e12), Some(MAX_REFUSE));
        assert_eq!(refuse_duration(f64::INFINITY), Some(MAX_REFUSE));
    }
}
