//! Bookkeeping shared by the event handlers: role membership, sorter charges, filter clearing
//! and totals. Every method keeps the two sorter levels and the agent records in step.

use super::state::{AgentAllocation, FrameworkRole, Role};
use super::HierarchicalAllocator;
use crate::allocator::AllocatorError;
use crate::quantities::ScalarQuantities;
use crate::sorter::{ClientId, Sorter};
use std::sync::Arc;

impl<S: Sorter> HierarchicalAllocator<S> {
    pub(super) fn trigger_all(&mut self) {
        self.pending_all = true;
        self.pending_agents.clear();
    }

    pub(super) fn trigger_agent(&mut self, agent: u32) {
        if !self.pending_all {
            self.pending_agents.push(agent);
        }
    }

    pub(super) fn ensure_role(&mut self, name: &str) -> u32 {
        if let Some(i) = self.roles.lookup(name) {
            return i;
        }
        let client = self.role_sorter.add_client(name);
        self.role_sorter.activate(client);
        let mut sorter = S::new();
        sorter.add_total(&self.cluster_total);
        let name: Arc<str> = Arc::from(name);
        let i = self.roles.insert(
            name.clone(),
            Role {
                name,
                client,
                sorter,
                frameworks: Vec::new(),
                members: 0,
            },
        );
        if self.role_by_client.len() <= client.index() {
            self.role_by_client.resize(client.index() + 1, u32::MAX);
        }
        self.role_by_client[client.index()] = i;
        i
    }

    /// Puts the framework in or out of its role sorter's order to match its state.
    pub(super) fn sync_activity(&mut self, fw: u32, role: u32) {
        let framework = self.frameworks.at(fw);
        let Some(membership) = framework.role(role) else {
            return;
        };
        let offerable = framework.offerable(membership);
        let client = membership.client;
        let sorter = &mut self.roles.at_mut(role).sorter;
        if offerable {
            sorter.activate(client);
        } else {
            sorter.deactivate(client);
        }
    }

    pub(super) fn subscribe(&mut self, fw: u32, role_name: &str, suppressed: bool) {
        let role = self.ensure_role(role_name);
        let framework = self.frameworks.at_mut(fw);
        if let Some(m) = framework.role_mut(role) {
            m.subscribed = true;
            m.suppressed = suppressed;
        } else {
            let id = framework.id.clone();
            let r = self.roles.at_mut(role);
            let client = r.sorter.add_client(&id);
            r.set_framework(client, fw);
            r.members += 1;
            self.frameworks.at_mut(fw).roles.push(FrameworkRole {
                role,
                client,
                subscribed: true,
                suppressed,
            });
        }
        self.sync_activity(fw, role);
    }

    /// Drops the framework's client from a role once it is neither subscribed nor holding
    /// allocations there, and the role once it has no framework left.
    pub(super) fn release_membership(&mut self, fw: u32, role: u32, force: bool) {
        let framework = self.frameworks.at(fw);
        let Some(m) = framework.role(role).cloned() else {
            return;
        };
        let r = self.roles.at_mut(role);
        if !force && (m.subscribed || !r.sorter.allocation(m.client).is_empty()) {
            return;
        }
        r.sorter.remove_client(m.client);
        r.frameworks[m.client.index()] = u32::MAX;
        r.members -= 1;
        let empty = r.members == 0;
        self.frameworks.at_mut(fw).roles.retain(|x| x.role != role);
        if empty {
            let name = self.roles.at(role).name.clone();
            if let Some((_, removed)) = self.roles.remove(&name) {
                self.role_sorter.remove_client(removed.client);
                self.role_by_client[removed.client.index()] = u32::MAX;
            }
        }
    }

    /// Charges `q` on `agent` to (framework, role) in both sorter levels and the agent record.
    pub(super) fn charge(&mut self, fw: u32, role: u32, agent: u32, q: &ScalarQuantities) {
        let client = self
            .frameworks
            .at(fw)
            .role(role)
            .expect("charged framework holds the role")
            .client;
        self.charge_client(fw, role, client, agent, q);
    }

    /// [`Self::charge`] when the framework's client in the role sorter is known (the run has it
    /// from the sorter walk, which saves reading the framework's record).
    pub(super) fn charge_client(
        &mut self,
        fw: u32,
        role: u32,
        client: ClientId,
        agent: u32,
        q: &ScalarQuantities,
    ) {
        let r = self.roles.at_mut(role);
        r.sorter.allocated(client, q);
        self.role_sorter.allocated(r.client, q);
        let a = self.agents.at_mut(agent);
        match a.allocation_mut(Some(fw), role) {
            Some(entry) => entry.quantities.add(q),
            None => a.allocations.push(AgentAllocation {
                framework: Some(fw),
                role,
                quantities: q.clone(),
            }),
        }
    }

    /// Undoes [`Self::charge`] in the sorters only.
    pub(super) fn uncharge_sorters(&mut self, fw: u32, role: u32, q: &ScalarQuantities) {
        let Some(client) = self.frameworks.at(fw).role(role).map(|m| m.client) else {
            return;
        };
        let r = self.roles.at_mut(role);
        r.sorter.unallocated(client, q);
        self.role_sorter.unallocated(r.client, q);
    }

    /// Removes the framework's filters (in `roles`, or all when `None`) from every agent.
    ///
    /// This scans all agents instead of keeping a per-framework index, which would cost a hash
    /// update on every decline; the events that clear filters (revive, deactivation, removal)
    /// are rare next to declines, and a revive triggers a run over all agents anyway.
    pub(super) fn clear_filters(&mut self, fw: u32, roles: Option<&[u32]>) {
        for (_, a) in self.agents.iter_mut() {
            if a.filters.is_empty() {
                continue;
            }
            a.filters
                .retain(|f| f.framework != fw || roles.is_some_and(|rs| !rs.contains(&f.role)));
        }
    }

    /// Role indices for `roles` of the framework (all its roles when empty).
    pub(super) fn framework_roles(
        &self,
        fw: u32,
        roles: &[&str],
    ) -> Result<Vec<u32>, AllocatorError> {
        let framework = self.frameworks.at(fw);
        if roles.is_empty() {
            return Ok(framework.roles.iter().map(|m| m.role).collect());
        }
        roles
            .iter()
            .map(|name| {
                self.roles
                    .lookup(name)
                    .filter(|&r| framework.role(r).is_some_and(|m| m.subscribed))
                    .ok_or_else(|| AllocatorError::NotSubscribed {
                        framework: framework.id.to_string(),
                        role: name.to_string(),
                    })
            })
            .collect()
    }

    pub(super) fn add_total(&mut self, q: &ScalarQuantities) {
        self.cluster_total.add(q);
        self.role_sorter.add_total(q);
        for (_, r) in self.roles.iter_mut() {
            r.sorter.add_total(q);
        }
    }

    pub(super) fn remove_total(&mut self, q: &ScalarQuantities) {
        self.cluster_total.subtract(q);
        self.role_sorter.remove_total(q);
        for (_, r) in self.roles.iter_mut() {
            r.sorter.remove_total(q);
        }
    }
}
