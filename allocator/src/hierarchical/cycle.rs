//! One allocation run (Mesos's stage 2, fair share), kept separate from the event handlers.
//!
//! Cost model: for each candidate agent the role order is reused from the previous agent unless a
//! grant changed it (O(roles) to rebuild), and within a role the framework sorter is walked in
//! order only until the first framework that is not filtered, so an agent costs
//! O(roles + frameworks skipped because they filtered it) plus O(log frameworks) per grant. Agents
//! without reservations are offered their `available` resources by moving them out: no copy.

use super::{prefetch, scalar_quantities, HierarchicalAllocator};
use crate::allocator::OfferGrant;
use crate::quantities::ScalarQuantities;
use crate::sorter::Sorter;
use mesos::resources::Resources;
use std::ops::ControlFlow;
use std::time::Instant;

/// After this many filtered frameworks in a row, check whether the whole role refused the agent.
const SATURATION_CHECK_AFTER: u32 = 4;

/// Whether an offer holding `q` meets `min_allocatable_resources` (any one of the sets).
fn allocatable(min_allocatable: &[ScalarQuantities], q: &ScalarQuantities) -> bool {
    !q.is_empty() && (min_allocatable.is_empty() || min_allocatable.iter().any(|m| q.contains(m)))
}

impl<S: Sorter> HierarchicalAllocator<S> {
    /// Allocates on `candidates` (shuffled in place) and returns the grants, and the earliest time
    /// a filter on one of the candidates expires.
    pub(super) fn run(
        &mut self,
        now: Instant,
        candidates: &mut [u32],
    ) -> (Vec<OfferGrant>, Option<Instant>) {
        if self.config.shuffle_agents {
            self.rng.shuffle(candidates);
        }
        // Sized like the last run's: a full run at 100,000 agents grants ~100,000 offers, and
        // growing the vector by doubling copies and faults in twice its final size.
        let mut grants = Vec::with_capacity(self.last_grant_count.min(candidates.len()));
        let mut role_order = std::mem::take(&mut self.scratch_roles);
        let mut order_stale = true;
        let mut next_expiry = None;
        for (i, &agent) in candidates.iter().enumerate() {
            // Memory for the agents coming up (see `prefetch`): the run is bound by cache misses.
            if let Some(ahead) = candidates.get(i + prefetch::RECORD_DISTANCE) {
                self.agents.prefetch(*ahead);
            }
            if let Some(a) = candidates
                .get(i + prefetch::HEAP_DISTANCE)
                .and_then(|&ahead| self.agents.get(ahead))
            {
                prefetch::agent_heap(a);
            }
            let Some(a) = self.agents.get_mut(agent) else {
                continue;
            };
            a.purge_expired(now);
            if let Some(t) = a.next_expiry {
                next_expiry = Some(next_expiry.map_or(t, |n: Instant| n.min(t)));
            }
            if !a.active || !allocatable(&self.min_allocatable, &a.available_q) {
                continue;
            }
            if order_stale {
                self.role_sorter.sort_into(&mut role_order);
                order_stale = false;
            }
            // The role order is fixed for the whole agent, as in Mesos (one sort per agent).
            for &role_client in &role_order {
                let role = self.role_by_client[role_client.index()];
                if let Some(grant) = self.offer_to_role(agent, role, now) {
                    grants.push(grant);
                    order_stale = true;
                    if self.agents.at(agent).available.is_empty() {
                        break;
                    }
                }
            }
        }
        self.scratch_roles = role_order;
        self.last_grant_count = grants.len();
        (grants, next_expiry)
    }

    /// Offers everything on `agent` allocatable to `role` to the role's first framework (in
    /// sorter order) that has not filtered it.
    fn offer_to_role(&mut self, agent: u32, role: u32, now: Instant) -> Option<OfferGrant> {
        let a = self.agents.at(agent);
        // With no reservations on the agent every role may use all of it; only then can the
        // offer be moved out of `available` without building a copy.
        let partial: Option<(Resources, ScalarQuantities)> = if a.has_reservations {
            let offer = a.available.allocatable_to(&self.roles.at(role).name);
            let q = scalar_quantities(&mut self.names, &offer);
            Some((offer, q))
        } else {
            None
        };
        let (offer, offer_q) = match &partial {
            Some((o, q)) => (o, q),
            None => (&a.available, &a.available_q),
        };
        if !allocatable(&self.min_allocatable, offer_q) {
            return None;
        }

        let r = self.roles.at_mut(role);
        let (frameworks, members) = (&r.frameworks, r.members);
        // An agent refused by at least as many frameworks as the role has may be refused by all
        // of them: then skip the role without walking (and binary-searching) its frameworks.
        if a.filters.len() >= members as usize && a.role_saturated(role, members) {
            return None;
        }
        let mut chosen = None;
        let mut skipped = 0u32;
        r.sorter.visit_in_order(|client| {
            let fw = frameworks[client.index()];
            if !a.is_filtered(fw, role, offer, offer_q, now) {
                chosen = Some((fw, client));
                return ControlFlow::Break(());
            }
            skipped += 1;
            // Many refusals in a row: if every framework of the role refused the whole agent,
            // stop here instead of walking them all (checked lazily; usually never reached).
            if skipped == SATURATION_CHECK_AFTER && a.role_saturated(role, members) {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        let (fw, client) = chosen?;

        let a = self.agents.at_mut(agent);
        let (resources, q) = match partial {
            Some((offer, q)) => {
                a.available -= &offer;
                a.available_q.subtract(&q);
                (offer, q)
            }
            None => (
                std::mem::take(&mut a.available),
                std::mem::take(&mut a.available_q),
            ),
        };
        let agent_id = a.id.clone();
        self.charge_client(fw, role, client, agent, &q);
        Some(OfferGrant {
            framework: self.frameworks.at(fw).id.clone(),
            role: self.roles.at(role).name.clone(),
            agent: agent_id,
            resources,
        })
    }
}
