//! The policy seam: a [`Sorter`] decides in which order clients (roles, or frameworks within a
//! role) are offered resources.
//!
//! [`DrfSorter`] is Mesos's weighted Dominant Resource Fairness sorter over a role tree;
//! [`PrioritySorter`] is a strict-priority alternative that shows the seam is real.

mod drf;
mod priority;

pub use drf::DrfSorter;
pub use priority::PrioritySorter;

use crate::quantities::ScalarQuantities;
use std::ops::ControlFlow;

/// A handle to one client of one sorter, stable until the client is removed.
///
/// Handles of removed clients may be reused by later clients of the same sorter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub(crate) u32);

impl ClientId {
    /// The dense index of this handle (useful for side tables kept by the caller).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Orders clients for allocation.
///
/// Clients are `/`-separated paths (`eng/ci`), added inactive. Allocations are plain scalar
/// quantities; the total is the sum over all agents. Every method is synchronous and
/// deterministic, so tests can assert exact orders.
///
/// # Panics
/// Methods taking a [`ClientId`] panic if it is not a current client of this sorter (a handle
/// kept after `remove_client`): that is a bug in the caller, not a runtime condition.
pub trait Sorter {
    /// A new, empty sorter.
    fn new() -> Self
    where
        Self: Sized;

    /// Adds a client (inactive, like Mesos) and returns its handle; returns the existing handle
    /// if `path` is already a client.
    fn add_client(&mut self, path: &str) -> ClientId;

    /// Removes a client and its allocation.
    ///
    /// # Panics
    /// Panics if `client` is not a current client of this sorter.
    fn remove_client(&mut self, client: ClientId);

    /// The handle of the client at `path`, if any.
    fn client(&self, path: &str) -> Option<ClientId>;

    /// The path a client was added with.
    fn path(&self, client: ClientId) -> &str;

    /// Makes a client eligible to appear in the order.
    fn activate(&mut self, client: ClientId);

    /// Removes a client from the order while keeping its allocation (deactivated or suppressed).
    fn deactivate(&mut self, client: ClientId);

    /// Whether the client currently appears in the order.
    fn is_active(&self, client: ClientId) -> bool;

    /// Sets the weight of the node at `path` (a client or an internal node); must be positive.
    fn update_weight(&mut self, path: &str, weight: f64);

    /// Adds an agent's scalar resources to the total (the share denominator).
    fn add_total(&mut self, quantities: &ScalarQuantities);

    /// Removes an agent's scalar resources from the total.
    fn remove_total(&mut self, quantities: &ScalarQuantities);

    /// Records an allocation to `client` (and counts it for the tie-break).
    fn allocated(&mut self, client: ClientId, quantities: &ScalarQuantities);

    /// Records that `quantities` allocated to `client` were returned.
    fn unallocated(&mut self, client: ClientId, quantities: &ScalarQuantities);

    /// The quantities currently allocated to `client`.
    fn allocation(&self, client: ClientId) -> &ScalarQuantities;

    /// The client's current share as used for ordering (policy-specific meaning).
    fn share(&self, client: ClientId) -> f64;

    /// Writes the active clients in allocation order into `out` (cleared first).
    fn sort_into(&mut self, out: &mut Vec<ClientId>);

    /// The active clients in allocation order.
    fn sort(&mut self) -> Vec<ClientId> {
        let mut out = Vec::new();
        self.sort_into(&mut out);
        out
    }

    /// Visits active clients in allocation order until `visit` breaks; cheaper than
    /// [`Sorter::sort`] when only the first few clients are needed.
    fn visit_in_order<F>(&mut self, visit: F)
    where
        F: FnMut(ClientId) -> ControlFlow<()>;

    /// How many clients (active or not) the sorter holds.
    fn len(&self) -> usize;

    /// Whether the sorter holds no client.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
