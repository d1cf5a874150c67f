//! The allocation module: who is offered what, decided by hierarchical weighted DRF.
//!
//! This crate is a pure core in the style of raft-rs: no sockets, no threads, no clock reads and
//! no unseeded randomness. It has no actor of its own: the master's pure core (`MasterCore`) owns
//! it, feeds it events and the current time, and turns the returned [`OfferGrant`]s into offers;
//! the master's actor only runs that core.
//!
//! # Walkthrough
//!
//! ```
//! use allocator::{Allocator, AllocatorConfig, FrameworkOptions, HierarchicalDrfAllocator};
//! use std::time::{Duration, Instant};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut alloc = HierarchicalDrfAllocator::new(AllocatorConfig::default());
//! let now = Instant::now();
//!
//! // Frameworks subscribe in roles; agents bring resources (Mesos's text form).
//! alloc.add_framework("analytics-1", FrameworkOptions::role("analytics"))?;
//! alloc.add_framework("web-1", FrameworkOptions::role("web"))?;
//! alloc.add_agent("agent-1", "cpus:8;mem:16384".parse()?)?;
//! alloc.add_agent("agent-2", "cpus:8;mem:16384".parse()?)?;
//! alloc.update_weights(&[("web", 2.0)])?;
//!
//! // Events only *trigger* allocation; `poll` runs whatever is due (here: the first batch).
//! let grants = alloc.poll(now);
//! assert_eq!(grants.len(), 2, "each agent is offered whole to one framework");
//! assert_ne!(grants[0].framework, grants[1].framework, "DRF: one agent each");
//!
//! // The framework that got agent-1 declines it for 10 seconds...
//! let declined = grants.iter().find(|g| &*g.agent == "agent-1").unwrap();
//! alloc.recover_resources(
//!     &declined.framework, &declined.role, &declined.agent,
//!     &declined.resources, Some(10.0), now,
//! )?;
//!
//! // ...so the next batch (one allocation_interval later) offers it to the other framework.
//! assert_eq!(alloc.poll_timeout(now), Duration::from_secs(1));
//! let later = now + Duration::from_secs(1);
//! let next = alloc.poll(later);
//! assert_eq!(next.len(), 1);
//! assert_eq!(&*next[0].agent, "agent-1");
//! assert_ne!(next[0].framework, declined.framework);
//! # Ok(())
//! # }
//! ```
//!
//! # Driving it
//!
//! Mesos allocates in a batch every `allocation_interval` (1 s) over all agents, and additionally
//! right after events that bring new supply or demand: a new agent (that agent only), a new or
//! reactivated framework, or a revive (all agents). Triggers are coalesced: a burst of events
//! costs one run. Whoever owns the allocator (the master's core; a test; a benchmark) does:
//!
//! 1. call the event methods as they happen (they only record triggers);
//! 2. once the current inputs are handled, call [`Allocator::poll`]`(now)` and turn the grants
//!    into offers;
//! 3. come back at [`Allocator::poll_timeout`]`(now)` (the master's core folds it into its
//!    `next_deadline`, which its actor arms one timer for) and call `poll` again.
//!
//! [`Allocator::allocate`] (full batch) and [`Allocator::allocate_triggered`] (only the pending
//! triggered agents) are there for callers that schedule the two kinds of run themselves.
//!
//! # Policy
//!
//! [`HierarchicalAllocator`] follows Mesos's fair-share stage: for each agent (shuffled with a
//! seeded generator), roles in [`Sorter`] order, then frameworks of the role in order; the first
//! framework that passes the checks (min allocatable resources, refusal filters) receives
//! everything on the agent that is allocatable to its role. The sorter is a seam:
//! [`DrfSorter`] is Mesos's weighted DRF over a role tree, [`PrioritySorter`] a strict-priority
//! alternative. Quota (Mesos's first stage) is not implemented.
//!
//! # Performance
//!
//! Sorters keep children in ordered sets updated in place after each grant, so a cycle costs about
//! O(agents × (roles + frameworks skipped by filters)) plus O(log frameworks) per grant, never
//! agents × frameworks; roles whose every framework refused a whole agent are skipped in O(1).
//! Offers of agents without reservations are moved out, not copied. See `benches/` for figures.
#![deny(missing_docs)]

mod allocator;
mod hierarchical;
pub mod quantities;
pub mod sorter;

pub use allocator::{
    refuse_duration, Allocator, AllocatorError, FrameworkOptions, OfferGrant, UsedResources,
    DEFAULT_ALLOCATION_INTERVAL, DEFAULT_REFUSE_SECONDS, MAX_REFUSE,
};
pub use hierarchical::{AllocatorConfig, HierarchicalAllocator, HierarchicalDrfAllocator};
pub use quantities::{ResourceKind, ResourceNames, ScalarQuantities};
pub use sorter::{ClientId, DrfSorter, PrioritySorter, Sorter};
