//! The allocator's bookkeeping: agents, frameworks, roles and refusal filters, all addressed by
//! dense indices so that the allocation loop never hashes a string.

use crate::quantities::ScalarQuantities;
use crate::sorter::ClientId;
use mesos::resources::Resources;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Instant;

/// FxHash (rustc's hasher): a multiply-rotate per word, several times faster than SipHash on
/// short ids. Keys here are framework, agent and role ids assigned by the master, not hostile
/// input, so HashDoS resistance is not needed on this path.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8-byte chunk")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by ids with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A slab of values addressed by dense `u32` indices plus an id → index map.
///
/// Indices of removed values are reused; anything that can outlive a value must check that it
/// still refers to the same value.
#[derive(Debug)]
pub(crate) struct Registry<T> {
    slots: Vec<Option<T>>,
    /// Whether each slot is live, kept beside `slots` so that listing the live indices reads one
    /// byte per slot instead of every record (at 100,000 agents, a pass over ~35 MB of records).
    live: Vec<bool>,
    free: Vec<u32>,
    index: FxHashMap<Arc<str>, u32>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            live: Vec::new(),
            free: Vec::new(),
            index: FxHashMap::default(),
        }
    }
}

impl<T> Registry<T> {
    pub(crate) fn lookup(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    pub(crate) fn insert(&mut self, id: Arc<str>, value: T) -> u32 {
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(value);
                self.live[i as usize] = true;
                i
            }
            None => {
                self.slots.push(Some(value));
                self.live.push(true);
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 entries")
            }
        };
        self.index.insert(id, i);
        i
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<(u32, T)> {
        let i = self.index.remove(id)?;
        let value = self.slots[i as usize].take()?;
        self.live[i as usize] = false;
        self.free.push(i);
        Some((i, value))
    }

    /// Hints the CPU to load slot `i` (see `prefetch`); no effect on an index out of range.
    #[inline(always)]
    pub(crate) fn prefetch(&self, i: u32) {
        if let Some(slot) = self.slots.get(i as usize) {
            super::prefetch::record(slot);
        }
    }

    pub(crate) fn get(&self, i: u32) -> Option<&T> {
        self.slots.get(i as usize).and_then(Option::as_ref)
    }

    pub(crate) fn get_mut(&mut self, i: u32) -> Option<&mut T> {
        self.slots.get_mut(i as usize).and_then(Option::as_mut)
    }

    /// The value at a live index.
    ///
    /// # Panics
    /// Panics if `i` is not live: callers only pass indices they just looked up.
    pub(crate) fn at(&self, i: u32) -> &T {
        self.get(i).expect("live registry index")
    }

    /// Mutable access to the value at a live index; panics like [`Registry::at`].
    pub(crate) fn at_mut(&mut self, i: u32) -> &mut T {
        self.get_mut(i).expect("live registry index")
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Appends the live indices in slot order, without reading the records.
    pub(crate) fn live_indices_into(&self, out: &mut Vec<u32>) {
        if self.free.is_empty() {
            out.extend(0..self.live.len() as u32);
        } else {
            out.extend(
                self.live
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &live)| live.then_some(i as u32)),
            );
        }
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut T)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.as_mut().map(|v| (i as u32, v)))
    }
}

/// A refusal: do not offer `framework` in `role` on this agent a subset of the refused resources
/// before `expires`.
#[derive(Debug)]
pub(crate) struct OfferFilter {
    pub framework: u32,
    pub role: u32,
    pub expires: Instant,
    /// The refused resources and their scalar quantities; `None` when they held the agent's
    /// whole total (the common decline), which covers every possible offer on the agent and needs
    /// no copy. Boxed so that a filter stays 32 bytes: a busy agent carries several.
    pub refused: Option<Box<(Resources, ScalarQuantities)>>,
}

impl OfferFilter {
    /// Whether this filter blocks `offer` (Mesos: the offer is a subset of the refused resources).
    pub(crate) fn blocks(&self, offer: &Resources, offer_q: &ScalarQuantities) -> bool {
        match &self.refused {
            None => true,
            Some(refused) => refused.1.contains(offer_q) && refused.0.contains(offer),
        }
    }
}

/// Resources allocated on an agent to one framework in one role (`framework == None`: used by a
/// framework that was unknown when the agent was added).
#[derive(Debug)]
pub(crate) struct AgentAllocation {
    pub framework: Option<u32>,
    pub role: u32,
    pub quantities: ScalarQuantities,
}

/// An agent known to the allocator.
#[derive(Debug)]
pub(crate) struct Agent {
    pub id: Arc<str>,
    pub total: Resources,
    pub available: Resources,
    pub total_q: ScalarQuantities,
    pub available_q: ScalarQuantities,
    /// Whether the total holds reserved resources (then offers depend on the role).
    pub has_reservations: bool,
    pub active: bool,
    pub allocations: Vec<AgentAllocation>,
    /// Sorted by (framework, role) so that a lookup is a binary search.
    pub filters: Vec<OfferFilter>,
    /// The earliest `expires` among `filters`. Expired filters are dropped lazily when the agent
    /// is next touched, instead of through a global timer queue: the agent's memory is being read
    /// at that moment anyway, and a decline-heavy cluster expires one filter per agent per cycle.
    pub next_expiry: Option<Instant>,
}

impl Agent {
    /// The index range of filters for (framework, role).
    pub(crate) fn filter_range(&self, framework: u32, role: u32) -> std::ops::Range<usize> {
        let start = self
            .filters
            .partition_point(|f| (f.framework, f.role) < (framework, role));
        let mut end = start;
        while end < self.filters.len()
            && self.filters[end].framework == framework
            && self.filters[end].role == role
        {
            end += 1;
        }
        start..end
    }

    /// Whether an active filter blocks `offer` for (framework, role) at `now`.
    pub(crate) fn is_filtered(
        &self,
        framework: u32,
        role: u32,
        offer: &Resources,
        offer_q: &ScalarQuantities,
        now: Instant,
    ) -> bool {
        if self.filters.is_empty() {
            return false;
        }
        self.filters[self.filter_range(framework, role)]
            .iter()
            .any(|f| f.expires > now && f.blocks(offer, offer_q))
    }

    /// Drops filters with `expires <= now`, if any.
    pub(crate) fn purge_expired(&mut self, now: Instant) {
        if self.next_expiry.is_none_or(|t| t > now) {
            return;
        }
        self.filters.retain(|f| f.expires > now);
        self.next_expiry = self.filters.iter().map(|f| f.expires).min();
    }

    /// Inserts a filter keeping the (framework, role) order.
    pub(crate) fn insert_filter(&mut self, filter: OfferFilter, now: Instant) {
        self.purge_expired(now);
        self.next_expiry = Some(
            self.next_expiry
                .map_or(filter.expires, |t| t.min(filter.expires)),
        );
        let (framework, role) = (filter.framework, filter.role);
        let at = self
            .filters
            .partition_point(|f| (f.framework, f.role) <= (framework, role));
        self.filters.insert(at, filter);
    }

    /// Whether every one of the role's `members` frameworks has refused this whole agent.
    ///
    /// Counted from the filters when asked (they are sorted by framework, so each framework is
    /// counted once): the run asks only when the agent carries at least `members` filters or
    /// after several refusals in a row, and the filters are in cache then. Keeping per-role counts
    /// up to date instead cost every decline and every expiry an update, and every agent visit a
    /// heap block.
    pub(crate) fn role_saturated(&self, role: u32, members: u32) -> bool {
        if members == 0 || self.filters.len() < members as usize {
            return false;
        }
        let mut refused_by = 0u32;
        let mut last = None;
        for f in &self.filters {
            if f.role == role && f.refused.is_none() && last != Some(f.framework) {
                last = Some(f.framework);
                refused_by += 1;
            }
        }
        refused_by >= members
    }

    /// Adds to the single entry of resources allocated to no known framework (a removed one, or
    /// one not yet re-registered). One pooled entry keeps recovery unambiguous.
    pub(crate) fn add_orphaned(&mut self, q: &ScalarQuantities) {
        if q.is_empty() {
            return;
        }
        match self.allocation_mut(None, u32::MAX) {
            Some(entry) => entry.quantities.add(q),
            None => self.allocations.push(AgentAllocation {
                framework: None,
                role: u32::MAX,
                quantities: q.clone(),
            }),
        }
    }

    /// The allocation entry of (framework, role), if any.
    pub(crate) fn allocation_mut(
        &mut self,
        framework: Option<u32>,
        role: u32,
    ) -> Option<&mut AgentAllocation> {
        self.allocations
            .iter_mut()
            .find(|a| a.framework == framework && a.role == role)
    }
}

/// A framework's membership in one role.
#[derive(Debug, Clone)]
pub(crate) struct FrameworkRole {
    pub role: u32,
    /// The framework's client in the role's framework sorter.
    pub client: ClientId,
    /// False once the framework dropped the role while still holding allocations in it.
    pub subscribed: bool,
    pub suppressed: bool,
}

/// A framework known to the allocator.
#[derive(Debug)]
pub(crate) struct Framework {
    pub id: Arc<str>,
    pub active: bool,
    pub roles: Vec<FrameworkRole>,
    pub requests: Vec<Resources>,
}

impl Framework {
    pub(crate) fn role(&self, role: u32) -> Option<&FrameworkRole> {
        self.roles.iter().find(|r| r.role == role)
    }

    pub(crate) fn role_mut(&mut self, role: u32) -> Option<&mut FrameworkRole> {
        self.roles.iter_mut().find(|r| r.role == role)
    }

    /// Whether the framework should be in the order of `membership`'s role sorter.
    pub(crate) fn offerable(&self, membership: &FrameworkRole) -> bool {
        self.active && membership.subscribed && !membership.suppressed
    }
}

/// A role with at least one framework (subscribed or still holding allocations).
#[derive(Debug)]
pub(crate) struct Role<S> {
    pub name: Arc<str>,
    /// The role's client in the role sorter.
    pub client: ClientId,
    /// DRF (or other policy) among the role's frameworks.
    pub sorter: S,
    /// Framework index by framework-sorter client index (`u32::MAX`: free slot).
    pub frameworks: Vec<u32>,
    /// How many frameworks are clients of `sorter`.
    pub members: u32,
}

impl<S> Role<S> {
    pub(crate) fn set_framework(&mut self, client: ClientId, framework: u32) {
        if self.frameworks.len() <= client.index() {
            self.frameworks.resize(client.index() + 1, u32::MAX);
        }
        self.frameworks[client.index()] = framework;
    }
}
