//! [`HierarchicalAllocator`]: Mesos's hierarchical allocator (stage 2, fair share) over any
//! [`Sorter`], with DRF by default.
//!
//! Layout: this file holds the state and the event handlers; `bookkeeping` the helpers that keep
//! sorters and records in step; `cycle` one allocation run; `state` the agent, framework, role
//! and filter records.

mod bookkeeping;
mod cycle;
mod prefetch;
mod rng;
mod state;

use crate::allocator::{
    refuse_duration, Allocator, AllocatorError, FrameworkOptions, OfferGrant, UsedResources,
    DEFAULT_ALLOCATION_INTERVAL,
};
use crate::quantities::{ResourceNames, ScalarQuantities};
use crate::sorter::{ClientId, DrfSorter, Sorter};
use mesos::resources::{is_valid_role, Resources};
use rng::SplitMix64;
use state::{Agent, Framework, OfferFilter, Registry, Role};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Mesos's hierarchical allocator with weighted DRF sorters.
pub type HierarchicalDrfAllocator = HierarchicalAllocator<DrfSorter>;

/// Tunables of [`HierarchicalAllocator`]; `Default` gives Mesos's defaults.
#[derive(Clone, Debug)]
pub struct AllocatorConfig {
    /// Period of the batch allocation (Mesos `--allocation_interval`, 1 s). Also the minimum
    /// lifetime of a refusal filter, so that every filter survives at least one batch.
    pub allocation_interval: Duration,
    /// An offer must contain at least one of these sets of scalar quantities (Mesos
    /// `--min_allocatable_resources`, default `cpus:0.01 | mem:32`). Empty: any non-empty offer.
    pub min_allocatable_resources: Vec<Resources>,
    /// Shuffle candidate agents before each run, as Mesos does, so that no agent is always first.
    /// Turn off for tests that expect an exact agent order (agents are then taken in the order
    /// they were added, reusing the slots of removed agents).
    pub shuffle_agents: bool,
    /// Seed of the agent shuffle; the same seed and the same events give the same offers.
    pub seed: u64,
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        let cpus: Resources =
            std::iter::once(mesos::resources::Resource::scalar("cpus", 0.01)).collect();
        let mem: Resources =
            std::iter::once(mesos::resources::Resource::scalar("mem", 32.0)).collect();
        Self {
            allocation_interval: DEFAULT_ALLOCATION_INTERVAL,
            min_allocatable_resources: vec![cpus, mem],
            shuffle_agents: true,
            seed: 0,
        }
    }
}

/// The hierarchical allocator: weighted fair sharing among roles, then among the frameworks of
/// each role, with whole-agent offers, refusal filters and suppress/revive.
///
/// Quota (Mesos's stage 1) is not implemented: every role competes in the fair-share stage.
#[derive(Debug)]
pub struct HierarchicalAllocator<S: Sorter = DrfSorter> {
    config: AllocatorConfig,
    names: ResourceNames,
    min_allocatable: Vec<ScalarQuantities>,
    role_sorter: S,
    /// Role index by role-sorter client index.
    role_by_client: Vec<u32>,
    roles: Registry<Role<S>>,
    frameworks: Registry<Framework>,
    agents: Registry<Agent>,
    cluster_total: ScalarQuantities,
    pending_all: bool,
    pending_agents: Vec<u32>,
    next_batch: Option<Instant>,
    rng: SplitMix64,
    /// Scratch buffers reused by every run.
    scratch_agents: Vec<u32>,
    scratch_roles: Vec<ClientId>,
    /// Set by a full run to the earliest time a filter it saw expires: until then, and until the
    /// next event (every event method clears it), another full run would offer nothing, so it is
    /// skipped. A run only offers what no eligible framework was given in the last run, and only
    /// an event or an expiring filter can make one eligible.
    unchanged_until: Option<Instant>,
    /// How many grants the last run made (sizes the next run's grant vector).
    last_grant_count: usize,
}

/// Scalar quantities of `resources` (all reservations summed per name).
fn scalar_quantities(names: &mut ResourceNames, resources: &Resources) -> ScalarQuantities {
    let mut q = ScalarQuantities::new();
    for (name, amount) in resources.scalars() {
        q.add_kind(names.intern(name), amount.millis());
    }
    q
}

/// A role that can hold a weight: a valid role name other than the default role `*`.
fn check_role(role: &str) -> Result<(), AllocatorError> {
    if role != "*" && is_valid_role(role) {
        Ok(())
    } else {
        Err(AllocatorError::InvalidRole(role.to_string()))
    }
}

/// A role a framework may subscribe to: any valid role, including Mesos's default role `*`, which
/// frameworks get when they name none (they are offered unreserved resources only).
fn check_framework_role(role: &str) -> Result<(), AllocatorError> {
    if is_valid_role(role) {
        Ok(())
    } else {
        Err(AllocatorError::InvalidRole(role.to_string()))
    }
}

impl<S: Sorter> HierarchicalAllocator<S> {
    /// An allocator with no agents and no frameworks.
    pub fn new(config: AllocatorConfig) -> Self {
        let mut names = ResourceNames::new();
        // Intern the common names first so that their kinds are small and stable.
        for name in ["cpus", "mem", "disk", "gpus"] {
            names.intern(name);
        }
        let min_allocatable = config
            .min_allocatable_resources
            .iter()
            .map(|r| scalar_quantities(&mut names, r))
            .collect();
        let rng = SplitMix64::new(config.seed);
        Self {
            config,
            names,
            min_allocatable,
            role_sorter: S::new(),
            role_by_client: Vec::new(),
            roles: Registry::default(),
            frameworks: Registry::default(),
            agents: Registry::default(),
            cluster_total: ScalarQuantities::new(),
            pending_all: false,
            pending_agents: Vec::new(),
            next_batch: None,
            rng,
            scratch_agents: Vec::new(),
            scratch_roles: Vec::new(),
            unchanged_until: None,
            last_grant_count: 0,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &AllocatorConfig {
        &self.config
    }

    /// How many agents are known.
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// How many frameworks are known.
    pub fn framework_count(&self) -> usize {
        self.frameworks.len()
    }

    /// The resources currently unallocated on an agent.
    pub fn available(&self, agent: &str) -> Option<&Resources> {
        let i = self.agents.lookup(agent)?;
        Some(&self.agents.at(i).available)
    }

    /// The role's current share in the role sorter (DRF: weighted dominant share).
    pub fn role_share(&self, role: &str) -> Option<f64> {
        let r = self.roles.at(self.roles.lookup(role)?);
        Some(self.role_sorter.share(r.client))
    }

    /// How many refusal filters are stored on an agent, including expired ones not yet dropped
    /// (expired filters are dropped lazily, the next time a run or a decline touches the agent).
    pub fn filter_count(&self, agent: &str) -> usize {
        self.agents
            .lookup(agent)
            .map_or(0, |i| self.agents.at(i).filters.len())
    }

    /// The last resource requests a framework sent (a hint only; see
    /// [`Allocator::request_resources`]).
    pub fn requests(&self, framework: &str) -> Option<&[Resources]> {
        let i = self.frameworks.lookup(framework)?;
        Some(&self.frameworks.at(i).requests)
    }

    fn framework_index(&self, id: &str) -> Result<u32, AllocatorError> {
        self.frameworks
            .lookup(id)
            .ok_or_else(|| AllocatorError::UnknownFramework(id.to_string()))
    }

    fn agent_index(&self, id: &str) -> Result<u32, AllocatorError> {
        self.agents
            .lookup(id)
            .ok_or_else(|| AllocatorError::UnknownAgent(id.to_string()))
    }
}

impl<S: Sorter> Allocator for HierarchicalAllocator<S> {
    fn add_framework(&mut self, id: &str, options: FrameworkOptions) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        if self.frameworks.lookup(id).is_some() {
            return Err(AllocatorError::FrameworkExists(id.to_string()));
        }
        for role in options.roles.iter().chain(&options.suppressed_roles) {
            check_framework_role(role)?;
        }
        let id: Arc<str> = Arc::from(id);
        let fw = self.frameworks.insert(
            id.clone(),
            Framework {
                id,
                active: options.active,
                roles: Vec::new(),
                requests: Vec::new(),
            },
        );
        for role in &options.roles {
            let suppressed = options.suppressed_roles.contains(role);
            self.subscribe(fw, role, suppressed);
        }
        if options.active {
            self.trigger_all();
        }
        Ok(())
    }

    fn remove_framework(&mut self, id: &str) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let fw = self.framework_index(id)?;
        self.clear_filters(fw, None);
        // Removal is rare, so all agents are scanned rather than indexing allocations per
        // framework on every grant.
        for (_, a) in self.agents.iter_mut() {
            if a.allocations.is_empty() {
                continue;
            }
            // The resources stay allocated until recovered; they no longer count for anyone.
            let mut orphaned = ScalarQuantities::new();
            a.allocations.retain(|e| {
                let mine = e.framework == Some(fw);
                if mine {
                    orphaned.add(&e.quantities);
                }
                !mine
            });
            a.add_orphaned(&orphaned);
        }
        let roles: Vec<u32> = self
            .frameworks
            .at(fw)
            .roles
            .iter()
            .map(|m| m.role)
            .collect();
        for role in roles {
            self.release_membership(fw, role, true);
        }
        self.frameworks.remove(id);
        Ok(())
    }

    fn update_framework(
        &mut self,
        id: &str,
        options: FrameworkOptions,
    ) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let fw = self.framework_index(id)?;
        for role in options.roles.iter().chain(&options.suppressed_roles) {
            check_framework_role(role)?;
        }
        let old: Vec<u32> = self
            .frameworks
            .at(fw)
            .roles
            .iter()
            .map(|m| m.role)
            .collect();
        for role in old {
            let name = self.roles.at(role).name.clone();
            if !options.roles.iter().any(|r| **r == *name) {
                if let Some(m) = self.frameworks.at_mut(fw).role_mut(role) {
                    m.subscribed = false;
                }
                self.clear_filters(fw, Some(&[role]));
                self.sync_activity(fw, role);
                self.release_membership(fw, role, false);
            }
        }
        for role in &options.roles {
            let suppressed = options.suppressed_roles.contains(role);
            self.subscribe(fw, role, suppressed);
        }
        Ok(())
    }

    fn activate_framework(&mut self, id: &str) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let fw = self.framework_index(id)?;
        self.frameworks.at_mut(fw).active = true;
        let roles: Vec<u32> = self
            .frameworks
            .at(fw)
            .roles
            .iter()
            .map(|m| m.role)
            .collect();
        for role in roles {
            self.sync_activity(fw, role);
        }
        self.trigger_all();
        Ok(())
    }

    fn deactivate_framework(&mut self, id: &str) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let fw = self.framework_index(id)?;
        self.frameworks.at_mut(fw).active = false;
        let roles: Vec<u32> = self
            .frameworks
            .at(fw)
            .roles
            .iter()
            .map(|m| m.role)
            .collect();
        for role in roles {
            self.sync_activity(fw, role);
        }
        self.clear_filters(fw, None);
        Ok(())
    }

    fn add_agent_with_used(
        &mut self,
        id: &str,
        total: Resources,
        used: &[UsedResources],
    ) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        if self.agents.lookup(id).is_some() {
            return Err(AllocatorError::AgentExists(id.to_string()));
        }
        let mut all_used = Resources::new();
        for u in used {
            all_used += &u.resources;
        }
        if !total.contains(&all_used) {
            return Err(AllocatorError::TotalBelowAllocation {
                agent: id.to_string(),
                total: total.to_string(),
                allocated: all_used.to_string(),
            });
        }
        let total_q = scalar_quantities(&mut self.names, &total);
        let available = &total - &all_used;
        let available_q = scalar_quantities(&mut self.names, &available);
        let has_reservations = total.iter().any(|r| r.reservation.is_some());
        let id: Arc<str> = Arc::from(id);
        let agent = self.agents.insert(
            id.clone(),
            Agent {
                id,
                total,
                available,
                total_q: total_q.clone(),
                available_q,
                has_reservations,
                active: true,
                allocations: Vec::new(),
                filters: Vec::new(),
                next_expiry: None,
            },
        );
        self.add_total(&total_q);
        for u in used {
            let q = scalar_quantities(&mut self.names, &u.resources);
            let fw = self.frameworks.lookup(&u.framework);
            let role = self.roles.lookup(&u.role);
            match (fw, role) {
                (Some(fw), Some(role)) if self.frameworks.at(fw).role(role).is_some() => {
                    self.charge(fw, role, agent, &q);
                }
                _ => self.agents.at_mut(agent).add_orphaned(&q),
            }
        }
        self.trigger_agent(agent);
        Ok(())
    }

    fn remove_agent(&mut self, id: &str) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        self.agent_index(id)?;
        let (_, agent) = self.agents.remove(id).expect("agent looked up");
        for entry in &agent.allocations {
            if let Some(fw) = entry.framework {
                self.uncharge_sorters(fw, entry.role, &entry.quantities);
                self.release_membership(fw, entry.role, false);
            }
        }
        self.remove_total(&agent.total_q);
        Ok(())
    }

    fn update_agent(&mut self, id: &str, total: Resources) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let agent = self.agent_index(id)?;
        let a = self.agents.at(agent);
        if a.total == total {
            return Ok(());
        }
        let allocated = &a.total - &a.available;
        if !total.contains(&allocated) {
            return Err(AllocatorError::TotalBelowAllocation {
                agent: id.to_string(),
                total: total.to_string(),
                allocated: allocated.to_string(),
            });
        }
        let old_q = a.total_q.clone();
        let new_q = scalar_quantities(&mut self.names, &total);
        let available = &total - &allocated;
        let available_q = scalar_quantities(&mut self.names, &available);
        let a = self.agents.at_mut(agent);
        // Filters that stood for "the whole old total" now need the old total spelled out.
        for f in a.filters.iter_mut().filter(|f| f.refused.is_none()) {
            f.refused = Some(Box::new((a.total.clone(), a.total_q.clone())));
        }
        a.has_reservations = total.iter().any(|r| r.reservation.is_some());
        a.total = total;
        a.total_q = new_q.clone();
        a.available = available;
        a.available_q = available_q;
        self.remove_total(&old_q);
        self.add_total(&new_q);
        self.trigger_agent(agent);
        Ok(())
    }

    fn activate_agent(&mut self, id: &str) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let agent = self.agent_index(id)?;
        self.agents.at_mut(agent).active = true;
        Ok(())
    }

    fn trigger_allocation(&mut self, agent: &str) {
        if let Ok(agent) = self.agent_index(agent) {
            self.unchanged_until = None;
            self.trigger_agent(agent);
        }
    }

    fn deactivate_agent(&mut self, id: &str) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let agent = self.agent_index(id)?;
        self.agents.at_mut(agent).active = false;
        Ok(())
    }

    fn recover_resources(
        &mut self,
        framework: &str,
        role: &str,
        agent: &str,
        resources: &Resources,
        refuse_seconds: Option<f64>,
        now: Instant,
    ) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let Some(agent_index) = self.agents.lookup(agent) else {
            // The agent is gone and its resources with it.
            return Ok(());
        };
        if resources.is_empty() {
            return Ok(());
        }
        let q = scalar_quantities(&mut self.names, resources);
        let fw = self.frameworks.lookup(framework);
        let role_index = self.roles.lookup(role);
        let not_allocated = || AllocatorError::NotAllocated {
            framework: framework.to_string(),
            agent: agent.to_string(),
            resources: resources.to_string(),
        };

        let a = self.agents.at_mut(agent_index);
        let mut new_available = a.available.clone();
        new_available += resources;
        if !a.total.contains(&new_available) {
            return Err(not_allocated());
        }
        // Which allocation entry returns the resources: the framework's own, else one orphaned by
        // a removed (or not yet known) framework.
        let own = match (fw, role_index) {
            (Some(fw), Some(role)) => a
                .allocations
                .iter()
                .position(|e| e.framework == Some(fw) && e.role == role),
            _ => None,
        };
        let entry = own
            .filter(|&i| a.allocations[i].quantities.contains(&q))
            .or_else(|| {
                a.allocations
                    .iter()
                    .position(|e| e.framework.is_none() && e.quantities.contains(&q))
            });
        let charged_to = match entry {
            Some(i) => {
                let e = &mut a.allocations[i];
                e.quantities.subtract(&q);
                let owner = e.framework.map(|f| (f, e.role));
                if e.quantities.is_empty() {
                    a.allocations.swap_remove(i);
                }
                owner
            }
            // Ranges or sets only: nothing scalar to account for.
            None if q.is_empty() => None,
            None => return Err(not_allocated()),
        };
        let a = self.agents.at_mut(agent_index);
        a.available = new_available;
        a.available_q.add(&q);
        if let Some((f, r)) = charged_to {
            self.uncharge_sorters(f, r, &q);
            self.release_membership(f, r, false);
        }

        let (Some(fw), Some(role)) = (fw, role_index) else {
            return Ok(());
        };
        let Some(refuse) = refuse_seconds.and_then(refuse_duration) else {
            return Ok(());
        };
        if self.frameworks.at(fw).role(role).is_none() {
            return Ok(());
        }
        let expires = now + refuse.max(self.config.allocation_interval);
        let a = self.agents.at_mut(agent_index);
        let refused = (!resources.contains(&a.total)).then(|| Box::new((resources.clone(), q)));
        a.insert_filter(
            OfferFilter {
                framework: fw,
                role,
                expires,
                refused,
            },
            now,
        );
        Ok(())
    }

    fn suppress_offers(&mut self, framework: &str, roles: &[&str]) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let fw = self.framework_index(framework)?;
        for role in self.framework_roles(fw, roles)? {
            if let Some(m) = self.frameworks.at_mut(fw).role_mut(role) {
                m.suppressed = true;
            }
            self.sync_activity(fw, role);
        }
        Ok(())
    }

    fn revive_offers(&mut self, framework: &str, roles: &[&str]) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let fw = self.framework_index(framework)?;
        let role_indices = self.framework_roles(fw, roles)?;
        for &role in &role_indices {
            if let Some(m) = self.frameworks.at_mut(fw).role_mut(role) {
                m.suppressed = false;
            }
            self.sync_activity(fw, role);
        }
        self.clear_filters(fw, Some(&role_indices));
        self.trigger_all();
        Ok(())
    }

    fn request_resources(
        &mut self,
        framework: &str,
        requests: Vec<Resources>,
    ) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        let fw = self.framework_index(framework)?;
        self.frameworks.at_mut(fw).requests = requests;
        Ok(())
    }

    fn update_weights(&mut self, weights: &[(&str, f64)]) -> Result<(), AllocatorError> {
        self.unchanged_until = None;
        for &(role, weight) in weights {
            check_role(role)?;
            if !(weight.is_finite() && weight > 0.0) {
                return Err(AllocatorError::InvalidWeight {
                    role: role.to_string(),
                    weight,
                });
            }
        }
        for &(role, weight) in weights {
            self.role_sorter.update_weight(role, weight);
        }
        Ok(())
    }

    fn allocate(&mut self, now: Instant) -> Vec<OfferGrant> {
        self.pending_all = false;
        self.pending_agents.clear();
        self.next_batch = Some(now + self.config.allocation_interval);
        if self.unchanged_until.is_some_and(|until| now < until) {
            return Vec::new();
        }
        let mut candidates = std::mem::take(&mut self.scratch_agents);
        candidates.clear();
        self.agents.live_indices_into(&mut candidates);
        let (grants, next_expiry) = self.run(now, &mut candidates);
        self.scratch_agents = candidates;
        // No filter at all: nothing changes until an event (~136 years stands for never).
        self.unchanged_until =
            next_expiry.or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))));
        grants
    }

    fn allocate_triggered(&mut self, now: Instant) -> Vec<OfferGrant> {
        if self.pending_all {
            self.pending_all = false;
            let mut candidates = std::mem::take(&mut self.scratch_agents);
            candidates.clear();
            self.agents.live_indices_into(&mut candidates);
            let (grants, _) = self.run(now, &mut candidates);
            self.scratch_agents = candidates;
            return grants;
        }
        if self.pending_agents.is_empty() {
            return Vec::new();
        }
        let mut candidates = std::mem::take(&mut self.pending_agents);
        candidates.sort_unstable();
        candidates.dedup();
        let (grants, _) = self.run(now, &mut candidates);
        candidates.clear();
        self.pending_agents = candidates;
        grants
    }

    fn has_pending_trigger(&self) -> bool {
        self.pending_all || !self.pending_agents.is_empty()
    }

    fn poll_timeout(&self, now: Instant) -> Duration {
        if self.has_pending_trigger() {
            return Duration::ZERO;
        }
        self.next_batch
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(now))
    }

    fn poll(&mut self, now: Instant) -> Vec<OfferGrant> {
        if self.next_batch.is_none_or(|t| now >= t) {
            self.allocate(now)
        } else {
            self.allocate_triggered(now)
        }
    }
}
